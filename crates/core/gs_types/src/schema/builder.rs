//! The canonical frame built row by row.
//!
//! [`FrameBuilder`] appends one [`Transaction`] at a time to all 36 columns. Working row by
//! row keeps each transaction (and the tails of the column buffers) in the CPU caches while it
//! is written; building column by column over a slice of transactions walks the whole slice
//! once per column (36 passes over ~20 MB per 32 Ki rows). It is the one implementation of
//! the row → column mapping: [`to_frame`](super::to_frame) uses it, and the streaming
//! importers of `gs_ingest` feed it one row at a time.

use polars::prelude::*;

use super::{COLUMNS, Transaction, account_key_of, days_since_epoch};
use crate::money::Money;

/// A string column filled row by row. While every row has the same value (a file's own
/// account, a column the file never fills, a constant row kind), nothing is written per row:
/// the column becomes a scalar (or all-null) column, as [`to_frame`](super::to_frame) has
/// always made such columns.
struct StrCol {
    name: &'static str,
    capacity: usize,
    rows: usize,
    /// Not written per row: the caller puts the column in after `finish`
    /// ([`FrameBuilder::filled_later`]); until then it is all-null.
    later: bool,
    /// The value of every row so far (only while `builder` is `None`).
    first: Option<String>,
    builder: Option<StringChunkedBuilder>,
}

impl StrCol {
    fn new(name: &'static str, capacity: usize) -> Self {
        Self {
            name,
            capacity,
            rows: 0,
            later: false,
            first: None,
            builder: None,
        }
    }

    #[inline]
    fn push(&mut self, v: Option<&str>) {
        if self.later {
            // nothing to write
        } else if let Some(b) = &mut self.builder {
            b.append_option(v);
        } else if self.rows == 0 {
            self.first = v.map(str::to_owned);
        } else if !same_opt_str(v, self.first.as_deref()) {
            // the first different value: write the rows so far, then go on row by row
            let mut b =
                StringChunkedBuilder::new(self.name.into(), self.capacity.max(self.rows + 1));
            for _ in 0..self.rows {
                b.append_option(self.first.as_deref());
            }
            b.append_option(v);
            self.builder = Some(b);
        }
        self.rows += 1;
    }

    fn finish(self) -> Column {
        let name = PlSmallStr::from_static(self.name);
        match (self.builder, self.first) {
            (Some(b), _) => b.finish().into_column(),
            (None, _) if self.rows == 0 => Column::new_empty(name, &DataType::String),
            (None, None) => Column::full_null(name, self.rows, &DataType::String),
            (None, Some(v)) => Column::new_scalar(
                name,
                Scalar::new(DataType::String, AnyValue::StringOwned(v.into())),
                self.rows,
            ),
        }
    }
}

/// `a == b` for optional short strings, compared inline ([`same_str`]): the values of a column
/// that has been one value so far (a file's own IBAN, "EUR", a row kind), memo keys.
#[inline]
pub fn same_opt_str(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_str(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// `a == b` for short strings without a call into `memcmp`: on the machines measured here
/// glibc's AVX-512 `memcmp` cost far more per call than its instructions (a few compares per
/// row of a million-row file were ~9 % of the samples). Long strings use `==`.
#[inline]
pub fn same_str(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 64 {
        return a == b;
    }
    let word = |w: &[u8]| {
        let mut x = [0u8; 8];
        x.copy_from_slice(w);
        u64::from_ne_bytes(x)
    };
    let (mut wa, mut wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut diff = 0u64;
    for (x, y) in (&mut wa).zip(&mut wb) {
        diff |= word(x) ^ word(y);
    }
    for (x, y) in wa.remainder().iter().zip(wb.remainder()) {
        diff |= u64::from(x ^ y);
    }
    diff == 0
}

/// An optional number column; all-null when no row has a value.
struct OptCol<T: PolarsNumericType>(PrimitiveChunkedBuilder<T>);

impl<T: PolarsNumericType> OptCol<T> {
    fn new(name: &'static str, capacity: usize) -> Self {
        Self(PrimitiveChunkedBuilder::new(name.into(), capacity))
    }

    #[inline]
    fn push(&mut self, v: Option<T::Native>) {
        self.0.append_option(v);
    }

    /// The column as `dtype` (a cast of the physical numbers, e.g. to Date).
    fn finish(self, dtype: &DataType) -> PolarsResult<Column> {
        let ca = self.0.finish();
        if ca.null_count() == ca.len() && !ca.is_empty() {
            return Ok(Column::full_null(ca.name().clone(), ca.len(), dtype));
        }
        ca.into_column().cast(dtype)
    }
}

/// Builds the canonical frame (columns and order as [`COLUMNS`]) one transaction at a time.
/// The frame equals [`to_frame`](super::to_frame) of the same transactions.
pub struct FrameBuilder {
    rows: usize,
    tx_id: StrCol,
    evidence_id: StrCol,
    evidence_path: StrCol,
    locator: StrCol,
    source_kind: StrCol,
    booking_date: PrimitiveChunkedBuilder<Int32Type>,
    value_date: OptCol<Int32Type>,
    timestamp: OptCol<Int64Type>,
    amount_cents: PrimitiveChunkedBuilder<Int64Type>,
    amount_exact: StrCol,
    currency: StrCol,
    account: [StrCol; 5],
    counterparty: [StrCol; 5],
    purpose: StrCol,
    booking_text: StrCol,
    tx_code: StrCol,
    end_to_end_ref: StrCol,
    mandate_ref: StrCol,
    creditor_id: StrCol,
    balance_after: OptCol<Int64Type>,
    channel: StrCol,
    reversal: BooleanChunkedBuilder,
    mirror_of: StrCol,
    source_text: StrCol,
}

impl FrameBuilder {
    /// An empty builder with room for `capacity` rows.
    pub fn with_capacity(capacity: usize) -> Self {
        let s = |name| StrCol::new(name, capacity);
        Self {
            rows: 0,
            tx_id: s("tx_id"),
            evidence_id: s("evidence_id"),
            evidence_path: s("evidence_path"),
            locator: s("locator"),
            source_kind: s("source_kind"),
            booking_date: PrimitiveChunkedBuilder::new("booking_date".into(), capacity),
            value_date: OptCol::new("value_date", capacity),
            timestamp: OptCol::new("timestamp", capacity),
            amount_cents: PrimitiveChunkedBuilder::new("amount_cents".into(), capacity),
            amount_exact: s("amount_exact"),
            currency: s("currency"),
            account: [
                s("account_iban"),
                s("account_number"),
                s("account_bank_code"),
                s("account_bic"),
                s("account_name"),
            ],
            counterparty: [
                s("counterparty_iban"),
                s("counterparty_account"),
                s("counterparty_bank_code"),
                s("counterparty_bic"),
                s("counterparty_name"),
            ],
            purpose: s("purpose"),
            booking_text: s("booking_text"),
            tx_code: s("tx_code"),
            end_to_end_ref: s("end_to_end_ref"),
            mandate_ref: s("mandate_ref"),
            creditor_id: s("creditor_id"),
            balance_after: OptCol::new("balance_after_cents", capacity),
            channel: s("channel"),
            reversal: BooleanChunkedBuilder::new("reversal".into(), capacity),
            mirror_of: s("mirror_of"),
            source_text: s("source_text"),
        }
    }

    /// Columns the caller puts into the frame itself after [`finish`](Self::finish) (e.g. the
    /// evidence columns as constants, `source_text` as views into the file's text): their
    /// values are not written per row, and `finish` gives them as all-null. Every name must be
    /// one of the builder's string columns. (The payer/payee columns are derived from the
    /// party columns in `finish`: a party column filled later leaves them without it.)
    #[must_use]
    pub fn filled_later(mut self, columns: &[&str]) -> Self {
        let [a0, a1, a2, a3, a4] = &mut self.account;
        let [c0, c1, c2, c3, c4] = &mut self.counterparty;
        let all = [
            &mut self.tx_id,
            &mut self.evidence_id,
            &mut self.evidence_path,
            &mut self.locator,
            &mut self.source_kind,
            &mut self.amount_exact,
            &mut self.currency,
            a0,
            a1,
            a2,
            a3,
            a4,
            c0,
            c1,
            c2,
            c3,
            c4,
            &mut self.purpose,
            &mut self.booking_text,
            &mut self.tx_code,
            &mut self.end_to_end_ref,
            &mut self.mandate_ref,
            &mut self.creditor_id,
            &mut self.channel,
            &mut self.mirror_of,
            &mut self.source_text,
        ];
        let mut found = 0;
        for col in all {
            if columns.contains(&col.name) {
                col.later = true;
                found += 1;
            }
        }
        debug_assert_eq!(found, columns.len(), "unknown column in {columns:?}");
        self
    }

    /// Rows appended so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True before the first row.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one row.
    pub fn push(&mut self, t: &Transaction) {
        match &t.locator {
            Some(l) => l.with_text(|text| self.push_with_id(t, &t.tx_id.0, Some(text))),
            None => self.push_with_id(t, &t.tx_id.0, None),
        }
    }

    /// [`push`](Self::push) with the row's id and locator text given instead of read from `t`
    /// (`t.tx_id` and `t.locator` are not used): a streaming reader formats the locator once,
    /// for the id ([`TxIdDeriver::derive_from_text`](crate::TxIdDeriver::derive_from_text))
    /// and for this column.
    pub fn push_with_id(&mut self, t: &Transaction, tx_id: &str, locator: Option<&str>) {
        self.rows += 1;
        self.tx_id.push(Some(tx_id));
        self.evidence_id.push(Some(&t.evidence_id.0));
        self.evidence_path.push(Some(&t.evidence_path));
        self.locator.push(locator);
        self.source_kind.push(Some(t.source_kind.as_str()));
        self.booking_date
            .append_value(days_since_epoch(t.booking_date));
        self.value_date.push(t.value_date.map(days_since_epoch));
        self.timestamp
            .push(t.timestamp.map(|ts| ts.and_utc().timestamp_millis()));
        self.amount_cents.append_value(t.amount.cents());
        self.amount_exact.push(t.amount_exact.as_deref());
        self.currency.push(Some(&t.currency));
        for (col, p) in [
            (&mut self.account, &t.account),
            (&mut self.counterparty, &t.counterparty),
        ] {
            let [iban, number, bank_code, bic, name] = col;
            iban.push(p.iban.as_deref());
            number.push(p.account_number.as_deref());
            bank_code.push(p.bank_code.as_deref());
            bic.push(p.bic.as_deref());
            name.push(p.name.as_deref());
        }
        self.purpose.push(t.purpose.as_deref());
        self.booking_text.push(t.booking_text.as_deref());
        self.tx_code.push(t.tx_code.as_deref());
        self.end_to_end_ref.push(t.end_to_end_ref.as_deref());
        self.mandate_ref.push(t.mandate_ref.as_deref());
        self.creditor_id.push(t.creditor_id.as_deref());
        self.balance_after.push(t.balance_after.map(Money::cents));
        self.channel.push(Some(t.channel.as_str()));
        self.reversal.append_value(t.reversal);
        self.mirror_of
            .push(t.mirror_of.as_ref().map(|m| m.0.as_str()));
        self.source_text.push(Some(&t.source_text));
    }

    /// The frame of the rows appended (columns as [`COLUMNS`]).
    pub fn finish(self) -> PolarsResult<DataFrame> {
        let n = self.rows;
        let amount = self.amount_cents.finish();
        let account: Vec<Column> = self.account.into_iter().map(StrCol::finish).collect();
        let counterparty: Vec<Column> = self.counterparty.into_iter().map(StrCol::finish).collect();
        // payer and payee follow from the amount's sign (`Transaction::payer_payee`): picked
        // per row from the two parties' columns, not written per row
        let debit = amount.lt(0);
        let (account_key, counterparty_key) = (party_key(&account)?, party_key(&counterparty)?);
        let credit = !&debit;
        let pick = |name: &str, if_debit: &Column, otherwise: &Column| -> PolarsResult<Column> {
            let picked = if let Some(c) = only_one_side(if_debit, otherwise, &debit, &credit)? {
                c
            } else {
                one_or_all(if_debit)?.zip_with(&debit, &one_or_all(otherwise)?)?
            };
            Ok(picked.with_name(name.into()).into_column())
        };
        let payer_account = pick("payer_account", &account_key, &counterparty_key)?;
        let payer_name = pick("payer_name", &account[4], &counterparty[4])?;
        let payee_account = pick("payee_account", &counterparty_key, &account_key)?;
        let payee_name = pick("payee_name", &counterparty[4], &account[4])?;
        let mut cols = vec![
            self.tx_id.finish(),
            self.evidence_id.finish(),
            self.evidence_path.finish(),
            self.locator.finish(),
            self.source_kind.finish(),
            self.booking_date
                .finish()
                .into_column()
                .cast(&DataType::Date)?,
            self.value_date.finish(&DataType::Date)?,
            self.timestamp
                .finish(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
            amount.into_column(),
            self.amount_exact.finish(),
            self.currency.finish(),
        ];
        cols.extend(account);
        cols.extend(counterparty);
        cols.extend([
            payer_account,
            payer_name,
            payee_account,
            payee_name,
            self.purpose.finish(),
            self.booking_text.finish(),
            self.tx_code.finish(),
            self.end_to_end_ref.finish(),
            self.mandate_ref.finish(),
            self.creditor_id.finish(),
            self.balance_after.finish(&DataType::Int64)?,
            self.channel.finish(),
            self.reversal.finish().into_column(),
            self.mirror_of.finish(),
            self.source_text.finish(),
        ]);
        debug_assert!(
            cols.iter()
                .map(|c| c.name().as_str())
                .eq(COLUMNS.iter().copied())
        );
        DataFrame::new(n, cols)
    }
}

/// A party's account key per row ([`account_key_of`]) from its columns (IBAN, number, bank
/// code, BIC, name). Most exports give IBANs only: the key column is then the IBAN column.
fn party_key(party: &[Column]) -> PolarsResult<Column> {
    let (iban, number, bank_code) = (&party[0], &party[1], &party[2]);
    let n = iban.len();
    if number.null_count() == n && bank_code.null_count() == n {
        return Ok(iban.clone());
    }
    let (iban, number, bank_code) = (iban.str()?, number.str()?, bank_code.str()?);
    let mut b = StringChunkedBuilder::new(PlSmallStr::EMPTY, n);
    for ((i, a), c) in iban.iter().zip(number.iter()).zip(bank_code.iter()) {
        b.append_option(account_key_of(i, c, a));
    }
    Ok(b.finish().into_column())
}

/// `if debit { if_debit } else { otherwise }` per row without new views when one side is
/// all null (a statement's own name is often not in the export): the other side's values with
/// the rows of the null side masked out (`Some`); `None` when both sides have values or the
/// side with values is one scalar (then `zip_with` writes the rows).
fn only_one_side(
    if_debit: &Column,
    otherwise: &Column,
    debit: &BooleanChunked,
    credit: &BooleanChunked,
) -> PolarsResult<Option<StringChunked>> {
    let all_null = |c: &Column| c.null_count() == c.len();
    let (values, keep) = if all_null(if_debit) {
        (otherwise, credit)
    } else if all_null(otherwise) {
        (if_debit, debit)
    } else {
        return Ok(None);
    };
    if values.as_scalar_column().is_some() || values.is_empty() {
        return Ok(None);
    }
    let values = values.str()?;
    // the mask comes from a comparison of non-null amounts: its values are the rows to keep
    let keep = keep.rechunk();
    let keep_bits = keep.downcast_as_array().values();
    let validity = match values.rechunk_validity() {
        Some(v) => &v & keep_bits,
        None => keep_bits.clone(),
    };
    Ok(Some(values.clone().with_validity(Some(validity))))
}

/// A string column as a chunked array; a scalar (or all-null) column as its one value, which
/// `zip_with` broadcasts instead of writing it out per row first.
fn one_or_all(c: &Column) -> PolarsResult<StringChunked> {
    match c.as_scalar_column() {
        Some(s) if !c.is_empty() => Ok(s.as_single_value_series().str()?.clone()),
        _ => Ok(c.str()?.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::{same_opt_str, same_str};

    /// The inline compare equals `==` for every length around the 8-byte words and the 64-byte
    /// cut-over to `==`, a difference at every position, and different lengths.
    #[test]
    fn same_str_is_eq() {
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 22, 63, 64, 65, 100] {
            let a: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            assert!(same_str(&a, &a.clone()), "len {len}");
            for at in 0..len {
                let mut b = a.clone().into_bytes();
                b[at] ^= 0x01;
                let b = String::from_utf8(b).unwrap();
                assert!(!same_str(&a, &b), "len {len}, differs at {at}");
            }
            assert!(!same_str(&a, &format!("{a}x")), "len {len} vs {}", len + 1);
        }
        assert!(same_str("Straße", "Straße"));
        assert!(!same_str("Straße", "Strasse"));
        assert!(same_opt_str(None, None));
        assert!(!same_opt_str(Some(""), None));
        assert!(same_opt_str(Some("EUR"), Some("EUR")));
        assert!(!same_opt_str(Some("EUR"), Some("USD")));
    }
}
