//! The canonical transaction record and its Polars frame.
//!
//! Every importer produces [`Transaction`]s; [`to_frame`] turns them into the canonical frame
//! whose columns are listed in [`COLUMNS`] and documented in `docs/SCHEMA.md`.

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::provenance::{EvidenceId, Locator, TxId};

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
        if let Some(i) = &self.iban {
            return Some(i.clone());
        }
        match (&self.bank_code, &self.account_number) {
            (Some(b), Some(a)) => Some(format!("{b}/{a}")),
            (None, Some(a)) => Some(a.clone()),
            _ => None,
        }
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

fn opt_str<'a, F>(txs: &'a [Transaction], f: F) -> Vec<Option<&'a str>>
where
    F: Fn(&'a Transaction) -> Option<&'a String>,
{
    txs.iter().map(|t| f(t).map(String::as_str)).collect()
}

/// Builds the canonical frame from transactions (in the given order).
pub fn to_frame(txs: &[Transaction]) -> PolarsResult<DataFrame> {
    let n = txs.len();
    let s = |name: &str, v: Vec<Option<&str>>| Column::new(name.into(), v);
    let payer_payee: Vec<(&PartyRef, &PartyRef)> =
        txs.iter().map(Transaction::payer_payee).collect();
    let payer_account: Vec<Option<String>> =
        payer_payee.iter().map(|(p, _)| p.account_key()).collect();
    let payee_account: Vec<Option<String>> =
        payer_payee.iter().map(|(_, p)| p.account_key()).collect();
    let cols = vec![
        Column::new(
            "tx_id".into(),
            txs.iter().map(|t| t.tx_id.0.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "evidence_id".into(),
            txs.iter()
                .map(|t| t.evidence_id.0.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "evidence_path".into(),
            txs.iter()
                .map(|t| t.evidence_path.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "locator".into(),
            txs.iter()
                .map(|t| t.locator.as_ref().map(ToString::to_string))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "source_kind".into(),
            txs.iter()
                .map(|t| t.source_kind.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "booking_date".into(),
            txs.iter()
                .map(|t| days_since_epoch(t.booking_date))
                .collect::<Vec<i32>>(),
        )
        .cast(&DataType::Date)?,
        Column::new(
            "value_date".into(),
            txs.iter()
                .map(|t| t.value_date.map(days_since_epoch))
                .collect::<Vec<Option<i32>>>(),
        )
        .cast(&DataType::Date)?,
        Column::new(
            "timestamp".into(),
            txs.iter()
                .map(|t| t.timestamp.map(|ts| ts.and_utc().timestamp_millis()))
                .collect::<Vec<Option<i64>>>(),
        )
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
        Column::new(
            "amount_cents".into(),
            txs.iter().map(|t| t.amount.cents()).collect::<Vec<i64>>(),
        ),
        s("amount_exact", opt_str(txs, |t| t.amount_exact.as_ref())),
        Column::new(
            "currency".into(),
            txs.iter().map(|t| t.currency.as_str()).collect::<Vec<_>>(),
        ),
        s("account_iban", opt_str(txs, |t| t.account.iban.as_ref())),
        s(
            "account_number",
            opt_str(txs, |t| t.account.account_number.as_ref()),
        ),
        s(
            "account_bank_code",
            opt_str(txs, |t| t.account.bank_code.as_ref()),
        ),
        s("account_bic", opt_str(txs, |t| t.account.bic.as_ref())),
        s("account_name", opt_str(txs, |t| t.account.name.as_ref())),
        s(
            "counterparty_iban",
            opt_str(txs, |t| t.counterparty.iban.as_ref()),
        ),
        s(
            "counterparty_account",
            opt_str(txs, |t| t.counterparty.account_number.as_ref()),
        ),
        s(
            "counterparty_bank_code",
            opt_str(txs, |t| t.counterparty.bank_code.as_ref()),
        ),
        s(
            "counterparty_bic",
            opt_str(txs, |t| t.counterparty.bic.as_ref()),
        ),
        s(
            "counterparty_name",
            opt_str(txs, |t| t.counterparty.name.as_ref()),
        ),
        Column::new("payer_account".into(), payer_account),
        s(
            "payer_name",
            payer_payee.iter().map(|(p, _)| p.name.as_deref()).collect(),
        ),
        Column::new("payee_account".into(), payee_account),
        s(
            "payee_name",
            payer_payee.iter().map(|(_, p)| p.name.as_deref()).collect(),
        ),
        s("purpose", opt_str(txs, |t| t.purpose.as_ref())),
        s("booking_text", opt_str(txs, |t| t.booking_text.as_ref())),
        s("tx_code", opt_str(txs, |t| t.tx_code.as_ref())),
        s(
            "end_to_end_ref",
            opt_str(txs, |t| t.end_to_end_ref.as_ref()),
        ),
        s("mandate_ref", opt_str(txs, |t| t.mandate_ref.as_ref())),
        s("creditor_id", opt_str(txs, |t| t.creditor_id.as_ref())),
        Column::new(
            "balance_after_cents".into(),
            txs.iter()
                .map(|t| t.balance_after.map(Money::cents))
                .collect::<Vec<Option<i64>>>(),
        ),
        Column::new(
            "channel".into(),
            txs.iter().map(|t| t.channel.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "reversal".into(),
            txs.iter().map(|t| t.reversal).collect::<Vec<bool>>(),
        ),
        s(
            "mirror_of",
            txs.iter()
                .map(|t| t.mirror_of.as_ref().map(|m| m.0.as_str()))
                .collect(),
        ),
        Column::new(
            "source_text".into(),
            txs.iter()
                .map(|t| t.source_text.as_str())
                .collect::<Vec<_>>(),
        ),
    ];
    debug_assert_eq!(cols.len(), COLUMNS.len());
    DataFrame::new(n, cols)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
