//! Table mappings: which column of a table layout plays which role. (Owned by the table
//! reader; see `formats::table`.)
//!
//! A mapping fixes the column roles of one table layout so that a file is read the same way
//! every time, and so that an investigator can review (and correct) what the automatic
//! detection decided. Every mapping that was used for an import is written out
//! (`ImportOutput::mappings_used`, [`TableMapping::to_toml_string`]) and can be passed back
//! with `--mapping FILE`.
//!
//! Columns are referred to by header text (compared case-, whitespace- and umlaut-insensitively:
//! `"Waehrung"` matches `Währung`), by spreadsheet letter (`"C"`) or by 1-based number (`"3"`).
//!
//! ```toml
//! # Name shown in the evidence manifest.
//! name = "Kontoauszug Musterbank (Excel)"
//! # Header cells that identify this layout: all of them must occur in the header row.
//! match_headers = ["Buchungstag", "Betrag", "Verwendungszweck"]
//! # Spreadsheets: the sheet to read (default: every sheet that has a matching header).
//! sheet = "Umsätze"
//! # 1-based row (or text line) of the header; searched in the first 30 rows when left out.
//! header_row = 5
//! # Text tables: field delimiter (";", ",", "tab", "|") and encoding ("windows-1252", "utf-8").
//! delimiter = ";"
//! encoding = "windows-1252"
//! # "comma" (1.234,56) or "dot" (1,234.56); detected from the amounts when left out.
//! decimal = "comma"
//! # chrono format of the date cells, when they are not dd.mm.yy(yy) / yyyy-mm-dd.
//! date_format = "%d.%m.%Y"
//! # Trailing lines starting with one of these texts are not transactions.
//! skip_footer_matching = ["Summe", "Kontostand"]
//! # The statement's own account, when the table has no column for it.
//! account_iban = "DE89370400440532013000"
//! account_name = "Max Mustermann"
//! # Currency when the table has no currency column.
//! currency = "EUR"
//! # Values of the debit_credit_flag column (compared case-insensitively; defaults cover
//! # S/H, D/C, D/K, Soll/Haben, -/+, DR/CR).
//! debit_values = ["S", "Soll"]
//! credit_values = ["H", "Haben"]
//!
//! [columns]
//! booking_date = "Buchungstag"
//! value_date = "Valuta"
//! amount = "Betrag"             # signed; or use debit + credit (both positive numbers)
//! debit_credit_flag = "S/H"     # applies its sign to `amount`
//! counterparty_name = "Empfänger/Auftraggeber"
//! counterparty_iban = "IBAN"
//! counterparty_bic = "BIC"
//! purpose = ["Verwendungszweck 1", "Verwendungszweck 2"]   # several columns are joined
//! booking_text = "Buchungstext"
//! balance_after = "Saldo"
//! ```
//!
//! Roles: `booking_date`, `value_date`, `timestamp`, `time`, `amount`, `debit`, `credit`,
//! `debit_credit_flag`, `currency`, `account_iban`, `account_number`, `account_name`,
//! `account_bic`, `account_bank_code`, `counterparty_name`, `counterparty_iban`,
//! `counterparty_account`, `counterparty_bic`, `counterparty_bank_code`, `purpose`,
//! `booking_text`, `tx_code`, `end_to_end_ref`, `mandate_ref`, `creditor_id`, `balance_after`,
//! `status`, `sender_name`, `sender_account`, `receiver_name`, `receiver_account`, `step`.
//!
//! A table with sender *and* receiver columns is a ledger: each row is read as a payment
//! from the sender (the row's `account`, negative amount) to the receiver. `step` is a
//! simulation day number (AMLSim); it needs `step_base_date = "YYYY-MM-DD"` (day 0) and is
//! never assumed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IngestError, Result};

/// A column role a mapping can assign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Booking date (Buchungstag).
    BookingDate,
    /// Value date (Valuta / Wertstellung).
    ValueDate,
    /// Date and time in one cell.
    Timestamp,
    /// Time of day (combined with the booking date).
    Time,
    /// Signed amount.
    Amount,
    /// Debit (Soll, money out) as a positive number.
    Debit,
    /// Credit (Haben, money in).
    Credit,
    /// S/H, D/C, Soll/Haben, -/+ flag that applies to `Amount`.
    DebitCreditFlag,
    /// ISO currency.
    Currency,
    /// Statement account IBAN (or account number when the cell is not an IBAN).
    AccountIban,
    /// Statement account number.
    AccountNumber,
    /// Statement account holder name.
    AccountName,
    /// Statement account BIC.
    AccountBic,
    /// Statement account bank code (BLZ).
    AccountBankCode,
    /// Counterparty name.
    CounterpartyName,
    /// Counterparty IBAN.
    CounterpartyIban,
    /// Counterparty account number (an IBAN in the cell is recognised).
    CounterpartyAccount,
    /// Counterparty BIC.
    CounterpartyBic,
    /// Counterparty bank code (a BIC in the cell is recognised).
    CounterpartyBankCode,
    /// Purpose / remittance text (several columns are joined with a space).
    Purpose,
    /// Booking text.
    BookingText,
    /// Transaction code (GVC, posting key).
    TxCode,
    /// End-to-end reference.
    EndToEndRef,
    /// Mandate reference.
    MandateRef,
    /// Creditor id.
    CreditorId,
    /// Balance after the booking.
    BalanceAfter,
    /// Booking status (booked / pending).
    Status,
    /// Ledger: sender name.
    SenderName,
    /// Ledger: sender account (IBAN or number).
    SenderAccount,
    /// Ledger: receiver name.
    ReceiverName,
    /// Ledger: receiver account (IBAN or number).
    ReceiverAccount,
    /// Simulation step (day number from `step_base_date`).
    Step,
}

impl Role {
    /// Every role, in documentation order.
    pub const ALL: [Role; 32] = [
        Role::BookingDate,
        Role::ValueDate,
        Role::Timestamp,
        Role::Time,
        Role::Amount,
        Role::Debit,
        Role::Credit,
        Role::DebitCreditFlag,
        Role::Currency,
        Role::AccountIban,
        Role::AccountNumber,
        Role::AccountName,
        Role::AccountBic,
        Role::AccountBankCode,
        Role::CounterpartyName,
        Role::CounterpartyIban,
        Role::CounterpartyAccount,
        Role::CounterpartyBic,
        Role::CounterpartyBankCode,
        Role::Purpose,
        Role::BookingText,
        Role::TxCode,
        Role::EndToEndRef,
        Role::MandateRef,
        Role::CreditorId,
        Role::BalanceAfter,
        Role::Status,
        Role::SenderName,
        Role::SenderAccount,
        Role::ReceiverName,
        Role::ReceiverAccount,
        Role::Step,
    ];

    /// Key in the `[columns]` table.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::BookingDate => "booking_date",
            Role::ValueDate => "value_date",
            Role::Timestamp => "timestamp",
            Role::Time => "time",
            Role::Amount => "amount",
            Role::Debit => "debit",
            Role::Credit => "credit",
            Role::DebitCreditFlag => "debit_credit_flag",
            Role::Currency => "currency",
            Role::AccountIban => "account_iban",
            Role::AccountNumber => "account_number",
            Role::AccountName => "account_name",
            Role::AccountBic => "account_bic",
            Role::AccountBankCode => "account_bank_code",
            Role::CounterpartyName => "counterparty_name",
            Role::CounterpartyIban => "counterparty_iban",
            Role::CounterpartyAccount => "counterparty_account",
            Role::CounterpartyBic => "counterparty_bic",
            Role::CounterpartyBankCode => "counterparty_bank_code",
            Role::Purpose => "purpose",
            Role::BookingText => "booking_text",
            Role::TxCode => "tx_code",
            Role::EndToEndRef => "end_to_end_ref",
            Role::MandateRef => "mandate_ref",
            Role::CreditorId => "creditor_id",
            Role::BalanceAfter => "balance_after",
            Role::Status => "status",
            Role::SenderName => "sender_name",
            Role::SenderAccount => "sender_account",
            Role::ReceiverName => "receiver_name",
            Role::ReceiverAccount => "receiver_account",
            Role::Step => "step",
        }
    }

    /// Role for a `[columns]` key.
    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == key)
    }

    /// Position in [`Role::ALL`] (for per-role arrays).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One column reference or several (only `purpose` joins several).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnSpec {
    /// One column.
    One(String),
    /// Several columns, joined in this order.
    Many(Vec<String>),
}

impl ColumnSpec {
    /// The column references.
    pub fn refs(&self) -> Vec<&str> {
        match self {
            ColumnSpec::One(s) => vec![s.as_str()],
            ColumnSpec::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A mapping of table columns to canonical roles, loadable from TOML (`--mapping FILE`).
/// See the module docs for the file format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TableMapping {
    /// Name of the layout (e.g. "Sparkasse CSV-CAMT V2" or "ledger from production order").
    pub name: String,
    /// Header cells that identify this layout (all must occur in the header row).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_headers: Vec<String>,
    /// Spreadsheet sheet to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// 1-based header row (spreadsheet row or text line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u32>,
    /// Field delimiter of text tables: one character, or "tab".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// Text encoding (encoding_rs label) of text tables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// "comma" or "dot".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimal: Option<String>,
    /// chrono format of date cells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    /// Trailing lines that start with one of these texts are ignored (noted as info).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skip_footer_matching: Vec<String>,
    /// Constant statement account IBAN for the whole file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_iban: Option<String>,
    /// Constant statement account number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    /// Constant statement account holder name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Constant statement account BIC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_bic: Option<String>,
    /// Constant statement account bank code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_bank_code: Option<String>,
    /// Currency when the table has no currency column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Flag values meaning debit (money out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub debit_values: Vec<String>,
    /// Flag values meaning credit (money in).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credit_values: Vec<String>,
    /// Day 0 of the `step` column (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_base_date: Option<String>,
    /// Role → column reference(s).
    pub columns: BTreeMap<String, ColumnSpec>,
}

impl TableMapping {
    /// Parses and checks a mapping (unknown roles and keys are errors, so that a typo does not
    /// silently drop a column).
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let m: TableMapping =
            toml::from_str(text).map_err(|e| IngestError::malformed("mapping", e.to_string()))?;
        m.validate()?;
        Ok(m)
    }

    /// Loads a mapping file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Self::from_toml_str(&text).map_err(|e| match e {
            IngestError::Malformed { format, reason } => IngestError::Malformed {
                format,
                reason: format!("{reason} in {}", path.display()),
            },
            other => other,
        })
    }

    /// TOML text of this mapping (for writing out the mappings that were used).
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string_pretty(self)
            .map_err(|e| IngestError::Output(format!("mapping '{}': {e}", self.name)))
    }

    /// Checks role names, flag/decimal values and the step base date.
    pub fn validate(&self) -> Result<()> {
        for (key, spec) in &self.columns {
            let Some(role) = Role::from_key(key) else {
                return Err(IngestError::malformed(
                    "mapping",
                    format!("unknown column role '{key}' in [columns]"),
                ));
            };
            if let ColumnSpec::Many(v) = spec {
                if v.is_empty() {
                    return Err(IngestError::malformed(
                        "mapping",
                        format!("role '{key}' names no column"),
                    ));
                }
                if role != Role::Purpose && v.len() > 1 {
                    return Err(IngestError::malformed(
                        "mapping",
                        format!("role '{key}' takes one column; only 'purpose' joins several"),
                    ));
                }
            }
        }
        if let Some(d) = &self.decimal
            && !matches!(d.to_ascii_lowercase().as_str(), "comma" | "dot" | "," | ".")
        {
            return Err(IngestError::malformed(
                "mapping",
                format!("decimal must be \"comma\" or \"dot\", not '{d}'"),
            ));
        }
        if let Some(d) = &self.delimiter
            && self.delimiter_byte().is_none()
        {
            return Err(IngestError::malformed(
                "mapping",
                format!("delimiter must be one ASCII character or \"tab\", not '{d}'"),
            ));
        }
        if let Some(b) = &self.step_base_date
            && chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").is_err()
        {
            return Err(IngestError::malformed(
                "mapping",
                format!("step_base_date '{b}' is not YYYY-MM-DD"),
            ));
        }
        if self.columns.contains_key("step") && self.step_base_date.is_none() {
            return Err(IngestError::malformed(
                "mapping",
                "role 'step' needs step_base_date (day 0 of the simulation)",
            ));
        }
        Ok(())
    }

    /// The delimiter as a byte, when set and valid.
    pub fn delimiter_byte(&self) -> Option<u8> {
        let d = self.delimiter.as_deref()?;
        if d.eq_ignore_ascii_case("tab") || d == "\\t" {
            return Some(b'\t');
        }
        let b = d.as_bytes();
        (b.len() == 1 && b[0].is_ascii() && !matches!(b[0], b'"' | b'\n' | b'\r')).then(|| b[0])
    }

    /// Sets a role to one column (builder for built-in profiles).
    #[must_use]
    pub fn with(mut self, role: Role, column: &str) -> Self {
        self.columns
            .insert(role.as_str().to_owned(), ColumnSpec::One(column.to_owned()));
        self
    }

    /// Sets a role to several columns.
    #[must_use]
    pub fn with_many(mut self, role: Role, columns: &[&str]) -> Self {
        self.columns.insert(
            role.as_str().to_owned(),
            ColumnSpec::Many(columns.iter().map(|s| (*s).to_owned()).collect()),
        );
        self
    }

    /// The column references of a role.
    pub fn refs(&self, role: Role) -> Vec<&str> {
        self.columns
            .get(role.as_str())
            .map(ColumnSpec::refs)
            .unwrap_or_default()
    }

    /// True when every `match_headers` entry occurs in `headers`.
    pub fn matches_headers(&self, headers: &[String]) -> bool {
        !self.match_headers.is_empty()
            && self.match_headers.iter().all(|m| {
                let n = normalize_header(m);
                headers.iter().any(|h| normalize_header(h) == n)
            })
    }
}

/// Normalises a header cell for comparison: trimmed, lower case, whitespace collapsed, German
/// umlauts folded (`ä` → `ae`, `ß` → `ss`), other common diacritics dropped, quotes removed.
pub fn normalize_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.trim().trim_start_matches('\u{feff}').chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if c == '"' {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            'ä' | 'Ä' => out.push_str("ae"),
            'ö' | 'Ö' => out.push_str("oe"),
            'ü' | 'Ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'á' | 'à' | 'â' | 'Á' | 'À' | 'Â' | 'ą' | 'ă' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' | 'ě' | 'É' | 'È' | 'Ě' | 'ę' => out.push('e'),
            'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Î' => out.push('i'),
            'ó' | 'ò' | 'ô' | 'Ó' | 'Ô' => out.push('o'),
            'ú' | 'ù' | 'û' | 'ů' | 'Ú' | 'Ů' => out.push('u'),
            'ý' | 'Ý' => out.push('y'),
            'č' | 'Č' | 'ç' => out.push('c'),
            'ř' | 'Ř' => out.push('r'),
            'š' | 'Š' | 'ș' | 'ş' | 'Ș' => out.push('s'),
            'ž' | 'Ž' => out.push('z'),
            'ň' | 'Ň' | 'ñ' => out.push('n'),
            'ť' | 'Ť' | 'ț' | 'ţ' => out.push('t'),
            'ď' | 'Ď' => out.push('d'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Resolves a column reference against a header row: header text first, then spreadsheet
/// letters (`A`, `AB`), then a 1-based number.
pub fn resolve_column(reference: &str, headers: &[String]) -> Option<usize> {
    let n = normalize_header(reference);
    if n.is_empty() {
        return None;
    }
    if let Some(i) = headers.iter().position(|h| normalize_header(h) == n) {
        return Some(i);
    }
    let r = reference.trim();
    if (1..=3).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_uppercase()) {
        let mut idx = 0usize;
        for b in r.bytes() {
            idx = idx * 26 + usize::from(b - b'A') + 1;
        }
        return Some(idx - 1);
    }
    if !r.is_empty() && r.len() <= 6 && r.bytes().all(|b| b.is_ascii_digit()) {
        let v: usize = r.parse().ok()?;
        return v.checked_sub(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
name = "Kontoauszug Musterbank"
match_headers = ["Buchungstag", "Betrag"]
header_row = 5
delimiter = ";"
decimal = "comma"
account_iban = "DE89370400440532013000"
currency = "EUR"
debit_values = ["S"]
credit_values = ["H"]

[columns]
booking_date = "Buchungstag"
amount = "Betrag"
debit_credit_flag = "S/H"
purpose = ["Verwendungszweck 1", "Verwendungszweck 2"]
counterparty_name = "C"
"#;

    #[test]
    fn round_trip() {
        let m = TableMapping::from_toml_str(EXAMPLE).unwrap();
        assert_eq!(m.name, "Kontoauszug Musterbank");
        assert_eq!(m.header_row, Some(5));
        assert_eq!(
            m.refs(Role::Purpose),
            vec!["Verwendungszweck 1", "Verwendungszweck 2"]
        );
        assert_eq!(m.refs(Role::Amount), vec!["Betrag"]);
        assert_eq!(m.delimiter_byte(), Some(b';'));
        let text = m.to_toml_string().unwrap();
        let back = TableMapping::from_toml_str(&text).unwrap();
        assert_eq!(back, m);
        // a file written to disk loads the same
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.toml");
        std::fs::write(&p, &text).unwrap();
        assert_eq!(TableMapping::load(&p).unwrap(), m);
    }

    #[test]
    fn rejects_typos_and_bad_values() {
        assert!(TableMapping::from_toml_str("name='x'\n[columns]\nbookingdate='A'\n").is_err());
        assert!(TableMapping::from_toml_str("name='x'\ndecimal='x'\n").is_err());
        assert!(TableMapping::from_toml_str("name='x'\nheadr_row=3\n").is_err());
        assert!(TableMapping::from_toml_str("name='x'\n[columns]\namount=['A','B']\n").is_err());
        assert!(TableMapping::from_toml_str("name='x'\n[columns]\nstep='start'\n").is_err());
        assert!(
            TableMapping::from_toml_str(
                "name='x'\nstep_base_date='2017-01-01'\n[columns]\nstep='start'\n"
            )
            .is_ok()
        );
    }

    #[test]
    fn resolves_columns() {
        let h: Vec<String> = ["Buchungstag", " Währung ", "Betrag (EUR)"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(resolve_column("buchungstag", &h), Some(0));
        assert_eq!(resolve_column("Waehrung", &h), Some(1));
        assert_eq!(resolve_column("C", &h), Some(2));
        assert_eq!(resolve_column("AA", &h), Some(26));
        assert_eq!(resolve_column("2", &h), Some(1));
        assert_eq!(resolve_column("0", &h), None);
        assert_eq!(resolve_column("Saldo", &h), None);
        assert_eq!(
            normalize_header("Zahlungsempfänger*in"),
            "zahlungsempfaenger*in"
        );
    }
}
