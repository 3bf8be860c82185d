//! The canonical transaction record and its Polars frame.
//!
//! Every importer produces [`Transaction`]s; [`to_frame`] turns them into the canonical frame
//! whose columns are listed in [`COLUMNS`] and documented in `docs/SCHEMA.md`.

use std::borrow::Cow;

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::provenance::{EvidenceId, Locator, TxId};

mod builder;
pub use builder::{FrameBuilder, same_opt_str, same_str};

/// Whether a row comes from an account statement (one account, signed amounts) or a ledger
/// (a row names both sender and receiver: production-order answers, DATEV, AML test sets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Account statement: `account` is the statement's account, `amount` signed from its view.
    #[default]
    Statement,
    /// Ledger row: `account` is the sender (payer), `counterparty` the receiver; amount < 0.
    Ledger,
}

impl SourceKind {
    /// Column text.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Statement => "statement",
            SourceKind::Ledger => "ledger",
        }
    }
}

/// How money moved, derived from GVC / BkTxCd / booking text.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Credit transfer (SEPA, domestic, foreign).
    Transfer,
    /// Cash paid in.
    CashDeposit,
    /// Cash taken out (ATM or counter).
    CashWithdrawal,
    /// Card payment (girocard, credit card).
    Card,
    /// Direct debit (Lastschrift).
    DirectDebit,
    /// Standing order (Dauerauftrag).
    StandingOrder,
    /// Bank fees, interest, charges.
    Fee,
    /// Could not be told.
    #[default]
    Unknown,
}

impl Channel {
    /// Column text.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Transfer => "transfer",
            Channel::CashDeposit => "cash_deposit",
            Channel::CashWithdrawal => "cash_withdrawal",
            Channel::Card => "card",
            Channel::DirectDebit => "direct_debit",
            Channel::StandingOrder => "standing_order",
            Channel::Fee => "fee",
            Channel::Unknown => "unknown",
        }
    }

    /// All channels, in display order.
    pub const ALL: [Channel; 8] = [
        Channel::Transfer,
        Channel::CashDeposit,
        Channel::CashWithdrawal,
        Channel::Card,
        Channel::DirectDebit,
        Channel::StandingOrder,
        Channel::Fee,
        Channel::Unknown,
    ];
}

/// One side of a transaction as written in the evidence (not yet resolved to a party).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartyRef {
    /// Holder / counterparty name as written.
    pub name: Option<String>,
    /// IBAN, normalised (no spaces, upper case), when the evidence has one.
    pub iban: Option<String>,
    /// Bank-specific account number when there is no IBAN (e.g. old German Kontonummer).
    pub account_number: Option<String>,
    /// National bank code (German BLZ) when given.
    pub bank_code: Option<String>,
    /// BIC when given.
    pub bic: Option<String>,
}

impl PartyRef {
    /// The best account key: IBAN, else `bank_code/account_number`, else account number.
    pub fn account_key(&self) -> Option<String> {
        account_key_of(
            self.iban.as_deref(),
            self.bank_code.as_deref(),
            self.account_number.as_deref(),
        )
        .map(Cow::into_owned)
    }

    /// True when nothing identifies this side.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.iban.is_none()
            && self.account_number.is_none()
            && self.bic.is_none()
    }
}

/// One money movement in canonical form. Importers fill the fields they can read; the ingest
/// stage fills `tx_id`, `evidence_id`, `evidence_path`, `channel` (when `Unknown`) and `mirror_of`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// Stable id (see [`TxId::derive`]).
    pub tx_id: TxId,
    /// Evidence file id.
    pub evidence_id: EvidenceId,
    /// Evidence path relative to the evidence root.
    pub evidence_path: String,
    /// Place in the evidence file.
    pub locator: Option<Locator>,
    /// Statement row or ledger row.
    pub source_kind: SourceKind,
    /// Booking date (Buchungstag).
    pub booking_date: NaiveDate,
    /// Value date (Wertstellung), when given.
    pub value_date: Option<NaiveDate>,
    /// Time of day, when the evidence has one.
    pub timestamp: Option<NaiveDateTime>,
    /// Signed amount from `account`'s view: negative = money left the account.
    pub amount: Money,
    /// Exact decimal text when the source had digits beyond cents (amount is then rounded).
    pub amount_exact: Option<String>,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The statement's account (for ledger rows: the sender).
    pub account: PartyRef,
    /// The other side (for ledger rows: the receiver).
    pub counterparty: PartyRef,
    /// Verwendungszweck / remittance information.
    pub purpose: Option<String>,
    /// Buchungstext (booking text, e.g. "SEPA-Überweisung").
    pub booking_text: Option<String>,
    /// Transaction code: GVC (MT940 `:86:` / CSV) or ISO BkTxCd `Domain/Family/SubFamily`.
    pub tx_code: Option<String>,
    /// End-to-end reference.
    pub end_to_end_ref: Option<String>,
    /// SEPA mandate reference.
    pub mandate_ref: Option<String>,
    /// SEPA creditor id (Gläubiger-ID).
    pub creditor_id: Option<String>,
    /// Account balance after this booking, when the evidence states it.
    pub balance_after: Option<Money>,
    /// Derived channel.
    pub channel: Channel,
    /// Reversal / return (Storno, Rücklastschrift, CAMT `RvslInd`).
    pub reversal: bool,
    /// When this row is the mirror of a row in another statement (the same transfer seen from
    /// the other side), the id of the row that is kept as the primary one.
    pub mirror_of: Option<TxId>,
    /// The source text: raw line(s), cells joined by ` | `, or PDF text lines.
    pub source_text: String,
}

impl Transaction {
    /// (payer, payee) sides derived from the amount's sign.
    pub fn payer_payee(&self) -> (&PartyRef, &PartyRef) {
        if self.amount.is_negative() {
            (&self.account, &self.counterparty)
        } else {
            (&self.counterparty, &self.account)
        }
    }
}

/// Canonical column names, in frame order. See `docs/SCHEMA.md`.
pub const COLUMNS: &[&str] = &[
    "tx_id",
    "evidence_id",
    "evidence_path",
    "locator",
    "source_kind",
    "booking_date",
    "value_date",
    "timestamp",
    "amount_cents",
    "amount_exact",
    "currency",
    "account_iban",
    "account_number",
    "account_bank_code",
    "account_bic",
    "account_name",
    "counterparty_iban",
    "counterparty_account",
    "counterparty_bank_code",
    "counterparty_bic",
    "counterparty_name",
    "payer_account",
    "payer_name",
    "payee_account",
    "payee_name",
    "purpose",
    "booking_text",
    "tx_code",
    "end_to_end_ref",
    "mandate_ref",
    "creditor_id",
    "balance_after_cents",
    "channel",
    "reversal",
    "mirror_of",
    "source_text",
];

fn days_since_epoch(d: NaiveDate) -> i32 {
    // chrono's epoch for CE days: 1970-01-01 is day 719_163.
    d.to_epoch_days()
}

/// The rule of [`PartyRef::account_key`] on its three fields (also usable on a frame's
/// columns): IBAN, else `bank_code/account_number`, else account number. Borrows where it can.
pub fn account_key_of<'a>(
    iban: Option<&'a str>,
    bank_code: Option<&'a str>,
    account_number: Option<&'a str>,
) -> Option<Cow<'a, str>> {
    match (iban, bank_code, account_number) {
        (Some(i), _, _) => Some(Cow::Borrowed(i)),
        (None, Some(b), Some(a)) => Some(Cow::Owned(format!("{b}/{a}"))),
        (None, None, Some(a)) => Some(Cow::Borrowed(a)),
        _ => None,
    }
}

/// Rows per piece when [`to_frame`] builds a big frame in parallel.
const FRAME_PIECE_ROWS: usize = 32 * 1024;

/// Builds the canonical frame from transactions (in the given order) with [`FrameBuilder`].
/// Big inputs are built in pieces of 32 Ki rows in parallel (rayon) and stacked with
/// [`concat`]: a column then has one chunk per piece.
pub fn to_frame(txs: &[Transaction]) -> PolarsResult<DataFrame> {
    use rayon::prelude::*;
    let build = |part: &[Transaction]| {
        let mut b = FrameBuilder::with_capacity(part.len());
        for t in part {
            b.push(t);
        }
        b.finish()
    };
    if txs.len() <= FRAME_PIECE_ROWS {
        return build(txs);
    }
    let pieces = txs
        .par_chunks(FRAME_PIECE_ROWS)
        .map(build)
        .collect::<PolarsResult<Vec<DataFrame>>>()?;
    concat(pieces)
}

/// A string column whose values are byte ranges of one shared text (`text[start..start+len]`,
/// each on character boundaries): the values are not copied, the column's chunk holds (a
/// slice of) the text itself. Used for `source_text` when a big export is read into frames.
pub fn text_span_column(
    name: &str,
    text: &polars_buffer::Buffer<u8>,
    spans: &[(usize, usize)],
) -> PolarsResult<Column> {
    use polars_arrow::array::{Utf8ViewArray, View};
    use polars_arrow::datatypes::ArrowDataType;
    let lo = spans.iter().map(|s| s.0).min().unwrap_or(0);
    let hi = spans.iter().map(|s| s.0 + s.1).max().unwrap_or(0);
    polars_ensure!(
        lo <= hi && hi <= text.len() && u32::try_from(hi - lo).is_ok(),
        ComputeError: "text spans {lo}..{hi} outside the text ({} bytes)", text.len()
    );
    let region = text.clone().sliced(lo..hi);
    let views: Vec<View> = spans
        .iter()
        .map(|&(start, len)| {
            let off = start - lo;
            View::new_from_bytes(&region[off..off + len], 0, off as u32)
        })
        .collect();
    // validates every value as UTF-8 (a span cut inside a character is an error, not UB)
    let arr = Utf8ViewArray::try_new(
        ArrowDataType::Utf8View,
        views.into(),
        vec![region].into(),
        None,
    )?;
    Ok(StringChunked::with_chunk(name.into(), arr).into_column())
}

/// The one value of a string column when every row holds it (`Some(None)`: all null), else
/// `None`. A scalar column (how the frame stores a file's own account, row kind, evidence) is
/// answered from its scalar: reading it per row would write it out once per row first.
pub fn one_str_value(c: &Column) -> PolarsResult<Option<Option<&str>>> {
    if let Some(s) = c.as_scalar_column() {
        return Ok(Some(s.scalar().value().extract_str()));
    }
    let ca = c.str()?;
    let first = ca.get(0);
    Ok(ca.iter().all(|v| v == first).then_some(first))
}

/// Stacks canonical frames (e.g. one per parsed batch) in order. Nothing is copied: a column
/// keeps one chunk per input frame, and a column that is the same constant (or all null) in
/// every input stays a constant column.
pub fn concat(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    if frames.len() <= 1 {
        return match frames.into_iter().next() {
            Some(f) => Ok(f),
            None => to_frame(&[]),
        };
    }
    let n: usize = frames.iter().map(DataFrame::height).sum();
    let first = &frames[0];
    let mut cols = Vec::with_capacity(first.width());
    for (j, c0) in first.columns().iter().enumerate() {
        let parts = || frames.iter().map(move |f| &f.columns()[j]);
        let constant = c0
            .as_scalar_column()
            .map(polars::frame::column::ScalarColumn::scalar)
            .filter(|s0| parts().all(|c| c.as_scalar_column().is_some_and(|s| s.scalar() == *s0)));
        let col = if let Some(s) = constant {
            Column::new_scalar(c0.name().clone(), s.clone(), n)
        } else {
            let mut c = c0.clone();
            for part in parts().skip(1) {
                c.append(part)?;
            }
            c
        };
        cols.push(col);
    }
    DataFrame::new(n, cols)
}

/// Reads transactions back from a canonical frame (e.g. an ingest's `transactions.parquet`).
/// Extra columns are ignored; a missing canonical column is an error.
pub fn from_frame(df: &DataFrame) -> PolarsResult<Vec<Transaction>> {
    from_frame_fields(df, &|_| true)
}

/// [`from_frame`] that reads only the string columns `keep` names: the others are left empty
/// (cheap when a stage needs a few fields of a million rows, e.g. mirror linking).
pub fn from_frame_fields(
    df: &DataFrame,
    keep: &dyn Fn(&str) -> bool,
) -> PolarsResult<Vec<Transaction>> {
    fn get(c: Option<&StringChunked>, i: usize) -> Option<&str> {
        c.and_then(|c| c.get(i))
    }
    let s = |name: &str| -> PolarsResult<Option<StringChunked>> {
        let col = df.column(name)?;
        keep(name).then(|| col.str().cloned()).transpose()
    };
    let i64c = |name: &str| -> PolarsResult<Int64Chunked> {
        Ok(df.column(name)?.cast(&DataType::Int64)?.i64()?.clone())
    };
    let i32c = |name: &str| -> PolarsResult<Int32Chunked> {
        Ok(df.column(name)?.cast(&DataType::Int32)?.i32()?.clone())
    };
    let (tx_id, evidence_id, evidence_path, locator, source_kind) = (
        s("tx_id")?,
        s("evidence_id")?,
        s("evidence_path")?,
        s("locator")?,
        s("source_kind")?,
    );
    let (booking, value, ts, amount) = (
        i32c("booking_date")?,
        i32c("value_date")?,
        i64c("timestamp")?,
        i64c("amount_cents")?,
    );
    let names = [
        "amount_exact",
        "currency",
        "account_iban",
        "account_number",
        "account_bank_code",
        "account_bic",
        "account_name",
        "counterparty_iban",
        "counterparty_account",
        "counterparty_bank_code",
        "counterparty_bic",
        "counterparty_name",
        "purpose",
        "booking_text",
        "tx_code",
        "end_to_end_ref",
        "mandate_ref",
        "creditor_id",
        "channel",
        "mirror_of",
        "source_text",
    ];
    let cols: Vec<Option<StringChunked>> =
        names.iter().map(|n| s(n)).collect::<PolarsResult<_>>()?;
    let balance = i64c("balance_after_cents")?;
    let reversal = df.column("reversal")?.bool()?.clone();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let date = |d: i32| {
        epoch
            .checked_add_signed(chrono::Duration::days(i64::from(d)))
            .unwrap_or(epoch)
    };
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let c = |k: usize| get(cols[k].as_ref(), i).map(str::to_owned);
        let channel = get(cols[18].as_ref(), i)
            .and_then(|t| Channel::ALL.iter().copied().find(|ch| ch.as_str() == t))
            .unwrap_or_default();
        out.push(Transaction {
            tx_id: TxId(get(tx_id.as_ref(), i).unwrap_or_default().to_owned()),
            evidence_id: EvidenceId(get(evidence_id.as_ref(), i).unwrap_or_default().to_owned()),
            evidence_path: get(evidence_path.as_ref(), i)
                .unwrap_or_default()
                .to_owned(),
            locator: get(locator.as_ref(), i).and_then(Locator::parse),
            source_kind: if get(source_kind.as_ref(), i) == Some("ledger") {
                SourceKind::Ledger
            } else {
                SourceKind::Statement
            },
            booking_date: booking.get(i).map_or(epoch, date),
            value_date: value.get(i).map(date),
            timestamp: ts
                .get(i)
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|d| d.naive_utc()),
            amount: Money(amount.get(i).unwrap_or_default()),
            amount_exact: c(0),
            currency: c(1).unwrap_or_default(),
            account: PartyRef {
                iban: c(2),
                account_number: c(3),
                bank_code: c(4),
                bic: c(5),
                name: c(6),
            },
            counterparty: PartyRef {
                iban: c(7),
                account_number: c(8),
                bank_code: c(9),
                bic: c(10),
                name: c(11),
            },
            purpose: c(12),
            booking_text: c(13),
            tx_code: c(14),
            end_to_end_ref: c(15),
            mandate_ref: c(16),
            creditor_id: c(17),
            balance_after: balance.get(i).map(Money),
            channel,
            reversal: reversal.get(i).unwrap_or(false),
            mirror_of: c(19).map(TxId),
            source_text: c(20).unwrap_or_default(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_key_rule() {
        let p = |iban: Option<&str>, bank: Option<&str>, num: Option<&str>| PartyRef {
            iban: iban.map(Into::into),
            bank_code: bank.map(Into::into),
            account_number: num.map(Into::into),
            ..Default::default()
        };
        assert_eq!(
            p(Some("DE89370400440532013000"), Some("37040044"), Some("1")).account_key(),
            Some("DE89370400440532013000".into())
        );
        assert_eq!(
            p(None, Some("37040044"), Some("532013000")).account_key(),
            Some("37040044/532013000".into())
        );
        assert_eq!(
            p(None, None, Some("532013000")).account_key(),
            Some("532013000".into())
        );
        assert_eq!(p(None, Some("37040044"), None).account_key(), None);
    }

    #[test]
    fn frame_has_canonical_columns_and_exact_amounts() {
        let t = Transaction {
            tx_id: TxId("a".into()),
            booking_date: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            amount: Money(-123_456),
            currency: "EUR".into(),
            account: PartyRef {
                iban: Some("DE89370400440532013000".into()),
                ..Default::default()
            },
            counterparty: PartyRef {
                name: Some("Muster GmbH".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let df = to_frame(&[t]).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, COLUMNS);
        assert_eq!(
            df.column("amount_cents").unwrap().i64().unwrap().get(0),
            Some(-123_456)
        );
        assert_eq!(df.column("booking_date").unwrap().dtype(), &DataType::Date);
        // payer is the account (negative amount), payee the counterparty
        assert_eq!(
            df.column("payer_account").unwrap().str().unwrap().get(0),
            Some("DE89370400440532013000")
        );
        assert_eq!(
            df.column("payee_name").unwrap().str().unwrap().get(0),
            Some("Muster GmbH")
        );
    }

    #[test]
    fn one_str_value_of_scalar_and_plain_columns() {
        let scalar = Column::new_scalar(
            "k".into(),
            Scalar::new(DataType::String, AnyValue::StringOwned("statement".into())),
            5,
        );
        assert_eq!(one_str_value(&scalar).unwrap(), Some(Some("statement")));
        let same = Column::new("k".into(), ["a", "a", "a"]);
        assert_eq!(one_str_value(&same).unwrap(), Some(Some("a")));
        let differ = Column::new("k".into(), ["a", "a", "b"]);
        assert_eq!(one_str_value(&differ).unwrap(), None);
        let nulls = Column::full_null("k".into(), 3, &DataType::String);
        assert_eq!(one_str_value(&nulls).unwrap(), Some(None));
        let mixed = Column::new("k".into(), [Some("a"), None]);
        assert_eq!(one_str_value(&mixed).unwrap(), None);
    }

    #[test]
    fn frame_round_trips() {
        let t = Transaction {
            tx_id: TxId("0123456789abcdef".into()),
            evidence_id: EvidenceId("fedcba9876543210".into()),
            evidence_path: "Bank/a.sta".into(),
            locator: Some(Locator::Entry {
                statement: 2,
                entry: 5,
                detail: None,
                line: Some(34),
            }),
            source_kind: SourceKind::Ledger,
            booking_date: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            value_date: NaiveDate::from_ymd_opt(2026, 1, 2),
            timestamp: NaiveDate::from_ymd_opt(2025, 12, 31)
                .unwrap()
                .and_hms_opt(13, 15, 0),
            amount: Money(-123_456),
            amount_exact: Some("-1234.5649".into()),
            currency: "EUR".into(),
            account: PartyRef {
                iban: Some("DE89370400440532013000".into()),
                name: Some("A".into()),
                ..Default::default()
            },
            counterparty: PartyRef {
                account_number: Some("532013000".into()),
                bank_code: Some("37040044".into()),
                ..Default::default()
            },
            purpose: Some("Miete".into()),
            channel: Channel::StandingOrder,
            reversal: true,
            balance_after: Some(Money(5)),
            mirror_of: Some(TxId("aaaaaaaaaaaaaaaa".into())),
            source_text: ":61:...".into(),
            ..Default::default()
        };
        let back = from_frame(&to_frame(std::slice::from_ref(&t)).unwrap()).unwrap();
        assert_eq!(back, vec![t]);
    }

    /// Rows whose columns are constant, all-null, or start to differ at some row (inside the
    /// first piece, at a piece border, in a later piece): the built frame reads back the
    /// same rows, a constant column stays a scalar column, and the pieces are stacked in order.
    #[test]
    fn frame_builder_in_pieces_round_trips() {
        let base = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let n = 2 * FRAME_PIECE_ROWS + 777;
        let txs: Vec<Transaction> = (0..n)
            .map(|i| Transaction {
                tx_id: TxId(format!("{i:016x}")),
                evidence_id: EvidenceId("e1".into()),
                locator: Some(Locator::Row {
                    sheet: None,
                    row: u32::try_from(i + 2).unwrap(),
                }),
                booking_date: base + chrono::Duration::days(i64::try_from(i % 400).unwrap()),
                // starts to differ at the very end
                value_date: (i == n - 1).then_some(base),
                amount: Money(i64::try_from(i).unwrap() - 50_000),
                currency: if i < FRAME_PIECE_ROWS { "EUR" } else { "USD" }.into(),
                account: PartyRef {
                    iban: Some("DE89370400440532013000".into()),
                    ..Default::default()
                },
                counterparty: PartyRef {
                    name: (i >= 3).then(|| format!("Name {}", i % 7)),
                    // IBAN, bank code + number, number only, nothing
                    iban: (i % 4 == 0).then(|| "DE02120300000000202051".into()),
                    bank_code: (i % 4 == 1).then(|| "12030000".into()),
                    account_number: (i % 4 == 1 || i % 4 == 2).then(|| format!("{}", 1000 + i % 5)),
                    ..Default::default()
                },
                balance_after: (i % 3 == 0).then(|| Money(i64::try_from(i).unwrap())),
                reversal: i % 11 == 0,
                source_text: format!("line {i}"),
                ..Default::default()
            })
            .collect();
        let df = to_frame(&txs).unwrap();
        assert_eq!(df.height(), n);
        assert!(
            df.columns()
                .iter()
                .map(|c| c.name().as_str())
                .eq(COLUMNS.iter().copied()),
            "canonical column order"
        );
        assert!(
            df.column("evidence_id")
                .unwrap()
                .as_scalar_column()
                .is_some()
        );
        assert!(
            df.column("account_iban")
                .unwrap()
                .as_scalar_column()
                .is_some()
        );
        assert_eq!(df.column("account_name").unwrap().null_count(), n);
        assert_eq!(df.column("value_date").unwrap().null_count(), n - 1);
        assert_eq!(from_frame(&df).unwrap(), txs);
        // payer and payee by the amount's sign, with the account-key rule
        let col = |name: &str| df.column(name).unwrap().str().unwrap().clone();
        let (pa, pn, ya, yn) = (
            col("payer_account"),
            col("payer_name"),
            col("payee_account"),
            col("payee_name"),
        );
        for (i, t) in txs.iter().enumerate() {
            let (payer, payee) = t.payer_payee();
            assert_eq!(pa.get(i), payer.account_key().as_deref(), "row {i}");
            assert_eq!(pn.get(i), payer.name.as_deref(), "row {i}");
            assert_eq!(ya.get(i), payee.account_key().as_deref(), "row {i}");
            assert_eq!(yn.get(i), payee.name.as_deref(), "row {i}");
        }
        // one row, and no rows
        assert_eq!(
            from_frame(&to_frame(&txs[5..6]).unwrap()).unwrap(),
            txs[5..6]
        );
        let empty = to_frame(&[]).unwrap();
        assert_eq!((empty.height(), empty.width()), (0, COLUMNS.len()));
    }
}
