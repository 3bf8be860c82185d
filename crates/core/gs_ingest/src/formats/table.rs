//! Generic tables: CSV/TSV (any delimiter) and spreadsheets (.xlsx/.xlsm/.xls/.ods via
//! calamine, every sheet).
//!
//! The header row is searched in the first 30 rows (scored by how many cells name a known
//! role in German or English, plus a few other European languages), columns are mapped by
//! synonyms, and the mapping that was used goes into `ImportOutput::mappings_used` so that it
//! can be reviewed and reused (`--mapping`). User mappings whose `match_headers` fit are tried
//! first. A table whose date or amount column cannot be told is refused with
//! [`IngestError::UnknownLayout`] naming the header and the reason; nothing is guessed.

pub(crate) mod csvtok;
pub(crate) mod engine;

use std::borrow::Cow;

use gs_types::Transaction;

use self::csvtok::{Tokenizer, sniff_delimiter};
use self::engine::{ChunkOut, Plan, SheetCell, parse_date_text, process_row};
use crate::error::{IngestError, Result};
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile, StatementSummary};
use crate::mapping::{Role, TableMapping, normalize_header};

/// Importer for generic tables (CSV/TSV and spreadsheets).
#[derive(Debug, Default)]
pub struct TableImporter;

/// Rows searched for the header.
const HEADER_SEARCH_ROWS: usize = 30;
/// Largest sheet read (cells).
const MAX_SHEET_CELLS: usize = 5_000_000;

/// Spreadsheet container kind by magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SheetKind {
    Zip,
    Ole,
}

fn spreadsheet_kind(bytes: &[u8]) -> Option<SheetKind> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Some(SheetKind::Ole);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // xlsx members start with "xl/", ODS has "mimetype" + "content.xml"; the names sit in
        // local headers early in the file
        let head = &bytes[..bytes.len().min(1 << 16)];
        let has = |n: &[u8]| head.windows(n.len()).any(|w| w == n);
        // (Word/ODT documents are ZIPs too: they have neither)
        if has(b"xl/") || has(b"opendocument.spreadsheet") {
            return Some(SheetKind::Zip);
        }
    }
    None
}

impl Importer for TableImporter {
    fn id(&self) -> &'static str {
        "table"
    }

    fn detect(&self, file: &SourceFile) -> Option<u8> {
        if spreadsheet_kind(&file.bytes).is_some() {
            return Some(20);
        }
        if file.is_binary() {
            return None;
        }
        let head = file.head(64 * 1024);
        let delim = sniff_delimiter(&head)?;
        let rows = head_rows(&head, delim, HEADER_SEARCH_ROWS);
        if rows.iter().filter(|r| r.len() >= 2).count() < 2 {
            return None;
        }
        if find_header(&rows).is_some() {
            Some(20)
        } else if head.trim_start().starts_with('<') || !looks_like_table(&rows) {
            // Prose with a few commas, markdown pipe tables, XML/HTML: not tables of
            // transactions; they are listed as "not transaction evidence" instead of failing.
            None
        } else {
            // A real table whose columns we cannot name: claim it, so that the import reports
            // its header and the reason instead of skipping it silently.
            Some(5)
        }
    }

    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        if let Some(kind) = spreadsheet_kind(&file.bytes) {
            return import_workbook(file, kind, ctx);
        }
        import_text(file, ctx)
    }
}

/// True when most non-empty rows share one column count of at least 3 and the text is not a
/// markdown document (a pipe table has a `|---|---|` separator row; bank exports never do).
fn looks_like_table(rows: &[Vec<String>]) -> bool {
    let filled: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r.iter().any(|c| !c.is_empty()))
        .collect();
    if filled.len() < 3 {
        return false;
    }
    let mut counts: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    for r in &filled {
        *counts.entry(r.len()).or_default() += 1;
    }
    let Some((&width, &n)) = counts.iter().max_by_key(|(w, n)| (**n, **w)) else {
        return false;
    };
    let markdown = filled.iter().any(|r| {
        let cells: Vec<&String> = r.iter().filter(|c| !c.is_empty()).collect();
        !cells.is_empty()
            && cells
                .iter()
                .all(|c| c.len() >= 3 && c.chars().all(|ch| matches!(ch, '-' | ':')))
    });
    width >= 3 && n * 2 >= filled.len() && n >= 3 && !markdown
}

/// The first `max` records of a text as trimmed strings.
pub(crate) fn head_rows(text: &str, delim: u8, max: usize) -> Vec<Vec<String>> {
    let mut tok = Tokenizer::new(text, delim, 0, 1);
    let mut f = Vec::new();
    let mut out = Vec::new();
    while out.len() < max {
        let Some(_r) = tok.next_record(&mut f) else {
            break;
        };
        out.push(f.iter().map(|c| c.trim().to_owned()).collect());
    }
    out
}

/// Header text without parentheses, `*in` endings and punctuation, for synonym lookup.
fn clean_header(h: &str) -> String {
    let n = normalize_header(h);
    let mut out = String::with_capacity(n.len());
    let mut depth = 0u32;
    for c in n.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '_' | '-' | '/' | '.' | ':' | '*' | '#' => out.push(' '),
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Synonyms (cleaned) → role. Order inside a role does not matter; each column gets one role.
const SYNONYMS: &[(&str, Role)] = &[
    // dates
    ("buchungstag", Role::BookingDate),
    ("buchungsdatum", Role::BookingDate),
    ("buchung", Role::BookingDate),
    ("datum", Role::BookingDate),
    ("date", Role::BookingDate),
    ("booking date", Role::BookingDate),
    ("transaction date", Role::BookingDate),
    ("posting date", Role::BookingDate),
    ("date processed", Role::BookingDate),
    ("completed date", Role::BookingDate),
    ("data", Role::BookingDate),
    ("data operazione", Role::BookingDate),
    ("data contabile", Role::BookingDate),
    ("datum zauctovani", Role::BookingDate),
    ("data tranzactiei", Role::BookingDate),
    ("data inregistrare", Role::BookingDate),
    ("tran timestamp", Role::Timestamp),
    ("timestamp", Role::Timestamp),
    ("zeitstempel", Role::Timestamp),
    ("datetime", Role::Timestamp),
    ("time", Role::Time),
    ("uhrzeit", Role::Time),
    ("zeit", Role::Time),
    ("valuta", Role::ValueDate),
    ("valutadatum", Role::ValueDate),
    ("wertstellung", Role::ValueDate),
    ("wert", Role::ValueDate),
    ("value date", Role::ValueDate),
    ("rentedatum", Role::ValueDate),
    ("data valuta", Role::ValueDate),
    ("datum provedeni", Role::ValueDate),
    ("data valutei", Role::ValueDate),
    // amounts
    ("betrag", Role::Amount),
    ("umsatz", Role::Amount),
    ("umsatz in eur", Role::Amount),
    ("buchungsbetrag", Role::Amount),
    ("amount", Role::Amount),
    ("sum", Role::Amount),
    ("transaction amount", Role::Amount),
    ("base amt", Role::Amount),
    ("txn amount orig", Role::Amount),
    ("bedrag", Role::Amount),
    ("importo", Role::Amount),
    ("castka", Role::Amount),
    ("suma", Role::Amount),
    ("soll", Role::Debit),
    ("lastschrift", Role::Debit),
    ("ausgang", Role::Debit),
    ("ausgaben", Role::Debit),
    ("debit", Role::Debit),
    ("debit amount", Role::Debit),
    ("withdrawal", Role::Debit),
    ("withdrawals", Role::Debit),
    ("paid out", Role::Debit),
    ("money out", Role::Debit),
    ("uscite", Role::Debit),
    ("addebiti", Role::Debit),
    ("suma debit", Role::Debit),
    ("debet", Role::Debit),
    ("haben", Role::Credit),
    ("gutschrift", Role::Credit),
    ("eingang", Role::Credit),
    ("einnahmen", Role::Credit),
    ("credit", Role::Credit),
    ("credit amount", Role::Credit),
    ("deposit", Role::Credit),
    ("deposits", Role::Credit),
    ("paid in", Role::Credit),
    ("money in", Role::Credit),
    ("entrate", Role::Credit),
    ("accrediti", Role::Credit),
    ("suma credit", Role::Credit),
    ("soll haben", Role::DebitCreditFlag),
    ("s h", Role::DebitCreditFlag),
    ("d k", Role::DebitCreditFlag),
    ("d c", Role::DebitCreditFlag),
    ("cr dr", Role::DebitCreditFlag),
    ("dr cr", Role::DebitCreditFlag),
    ("debit credit", Role::DebitCreditFlag),
    ("credit debit", Role::DebitCreditFlag),
    ("af bij", Role::DebitCreditFlag),
    ("currency", Role::Currency),
    ("waehrung", Role::Currency),
    ("buchungswaehrung", Role::Currency),
    ("ccy", Role::Currency),
    ("munt", Role::Currency),
    ("valuta conto", Role::Currency),
    ("mena", Role::Currency),
    ("moneda", Role::Currency),
    // parties
    ("auftragskonto", Role::AccountIban),
    ("iban auftragskonto", Role::AccountIban),
    ("iban kontoinhaber", Role::AccountIban),
    ("eigene iban", Role::AccountIban),
    ("account", Role::AccountIban),
    ("account no", Role::AccountIban),
    ("account iban", Role::AccountIban),
    ("own account", Role::AccountIban),
    ("iban bban", Role::AccountIban),
    ("rekeningnummer", Role::AccountIban),
    ("account id", Role::AccountNumber),
    ("kontoinhaber", Role::AccountName),
    ("account name", Role::AccountName),
    ("naam", Role::AccountName),
    ("empfaenger", Role::CounterpartyName),
    ("beguenstigter", Role::CounterpartyName),
    ("auftraggeber", Role::CounterpartyName),
    ("zahlungsempfaenger", Role::CounterpartyName),
    ("auftraggeber empfaenger", Role::CounterpartyName),
    ("beguenstigter auftraggeber", Role::CounterpartyName),
    ("beguenstigter zahlungspflichtiger", Role::CounterpartyName),
    ("name zahlungsbeteiligter", Role::CounterpartyName),
    ("zahlungsbeteiligter", Role::CounterpartyName),
    ("gegenpartei", Role::CounterpartyName),
    ("payee", Role::CounterpartyName),
    ("payer", Role::CounterpartyName),
    ("beneficiary", Role::CounterpartyName),
    ("counterparty", Role::CounterpartyName),
    ("counterparty name", Role::CounterpartyName),
    ("name", Role::CounterpartyName),
    ("naam tegenpartij", Role::CounterpartyName),
    ("nazev protiuctu", Role::CounterpartyName),
    ("beneficiar", Role::CounterpartyName),
    ("iban", Role::CounterpartyIban),
    ("iban zahlungsbeteiligter", Role::CounterpartyIban),
    ("counterparty iban", Role::CounterpartyIban),
    ("gegenkonto iban", Role::CounterpartyIban),
    ("tegenrekening iban bban", Role::CounterpartyIban),
    ("kontonummer iban", Role::CounterpartyIban),
    ("kontonummer", Role::CounterpartyAccount),
    ("konto", Role::CounterpartyAccount),
    ("gegenkonto", Role::CounterpartyAccount),
    ("account number", Role::CounterpartyAccount),
    ("counterparty account", Role::CounterpartyAccount),
    ("counter party account num", Role::CounterpartyAccount),
    ("number", Role::CounterpartyAccount),
    ("tegenrekening", Role::CounterpartyAccount),
    ("rekeningnummer tegenpartij", Role::CounterpartyAccount),
    ("bankovni spojeni", Role::CounterpartyAccount),
    ("bic", Role::CounterpartyBic),
    ("swift", Role::CounterpartyBic),
    ("bic zahlungsbeteiligter", Role::CounterpartyBic),
    ("bic tegenpartij", Role::CounterpartyBic),
    ("counterparty bic", Role::CounterpartyBic),
    ("bank", Role::CounterpartyBankCode),
    ("blz", Role::CounterpartyBankCode),
    ("bankleitzahl", Role::CounterpartyBankCode),
    ("bank code", Role::CounterpartyBankCode),
    ("sort code", Role::CounterpartyBankCode),
    // texts
    ("verwendungszweck", Role::Purpose),
    ("zweck", Role::Purpose),
    ("purpose", Role::Purpose),
    ("reference", Role::Purpose),
    ("payment reference", Role::Purpose),
    ("description", Role::Purpose),
    ("memo", Role::Purpose),
    ("details", Role::Purpose),
    ("reason", Role::Purpose),
    ("omschrijving", Role::Purpose),
    ("omschrijving 1", Role::Purpose),
    ("omschrijving 2", Role::Purpose),
    ("omschrijving 3", Role::Purpose),
    ("vrije mededeling", Role::Purpose),
    ("descrizione", Role::Purpose),
    ("descrizione completa", Role::Purpose),
    ("zprava pro prijemce", Role::Purpose),
    ("transaktionsbeschreibung", Role::Purpose),
    ("transaktionsbeschreibung zusatz", Role::Purpose),
    ("detalii", Role::Purpose),
    ("detalii tranzactie", Role::Purpose),
    ("descriere", Role::Purpose),
    ("descrierea tranzactiei", Role::Purpose),
    ("nume denumire ordonator beneficiar", Role::CounterpartyName),
    (
        "nr cont in din care se efectueaza tranzactiile",
        Role::CounterpartyAccount,
    ),
    ("buchungstext", Role::BookingText),
    ("buchungsdetails", Role::Purpose),
    ("type", Role::BookingText),
    ("transaction type", Role::BookingText),
    ("transaktionstyp", Role::BookingText),
    ("umsatzart", Role::BookingText),
    ("umsatztyp", Role::BookingText),
    ("vorgang", Role::BookingText),
    ("art", Role::BookingText),
    ("tx type", Role::BookingText),
    ("txn source type code", Role::BookingText),
    ("posting text", Role::BookingText),
    ("rubrieknaam", Role::BookingText),
    ("gvc", Role::TxCode),
    ("code", Role::TxCode),
    ("posting key", Role::TxCode),
    ("transaction code", Role::TxCode),
    ("geschaeftsvorfall", Role::TxCode),
    ("kundenreferenz", Role::EndToEndRef),
    ("kundenreferenz end to end", Role::EndToEndRef),
    ("end to end reference", Role::EndToEndRef),
    ("end to end referenz", Role::EndToEndRef),
    ("end to end", Role::EndToEndRef),
    ("sepa reference", Role::EndToEndRef),
    ("transactiereferentie", Role::EndToEndRef),
    ("mandatsreferenz", Role::MandateRef),
    ("mandate reference", Role::MandateRef),
    ("mandate identification", Role::MandateRef),
    ("machtigingskenmerk", Role::MandateRef),
    ("glaeubiger id", Role::CreditorId),
    ("glaeubigerid", Role::CreditorId),
    ("creditor id", Role::CreditorId),
    ("originator identifier", Role::CreditorId),
    ("incassant id", Role::CreditorId),
    ("saldo", Role::BalanceAfter),
    ("balance", Role::BalanceAfter),
    ("saldo nach buchung", Role::BalanceAfter),
    ("saldo na trn", Role::BalanceAfter),
    ("running balance", Role::BalanceAfter),
    ("status", Role::Status),
    ("stato", Role::Status),
    ("info", Role::Status),
    // ledgers
    ("sender", Role::SenderName),
    ("absender", Role::SenderName),
    ("from", Role::SenderName),
    ("originator", Role::SenderName),
    ("sender name", Role::SenderName),
    ("from name", Role::SenderName),
    ("auftraggeber name", Role::SenderName),
    ("sender account", Role::SenderAccount),
    ("sender iban", Role::SenderAccount),
    ("from account", Role::SenderAccount),
    ("from iban", Role::SenderAccount),
    ("orig acct", Role::SenderAccount),
    ("originator account", Role::SenderAccount),
    ("auftraggeber iban", Role::SenderAccount),
    ("iban auftraggeber", Role::SenderAccount),
    ("konto auftraggeber", Role::SenderAccount),
    ("kontonummer auftraggeber", Role::SenderAccount),
    ("name auftraggeber", Role::SenderName),
    ("auftraggeber konto", Role::SenderAccount),
    ("auftraggeberkonto", Role::AccountNumber),
    ("iban auftraggeberkonto", Role::AccountIban),
    ("bankleitzahl auftraggeberkonto", Role::AccountBankCode),
    ("receiver", Role::ReceiverName),
    ("recipient", Role::ReceiverName),
    ("to", Role::ReceiverName),
    ("receiver name", Role::ReceiverName),
    ("recipient name", Role::ReceiverName),
    ("to name", Role::ReceiverName),
    ("empfaenger name", Role::ReceiverName),
    ("receiver account", Role::ReceiverAccount),
    ("receiver iban", Role::ReceiverAccount),
    ("recipient account", Role::ReceiverAccount),
    ("recipient iban", Role::ReceiverAccount),
    ("to account", Role::ReceiverAccount),
    ("to iban", Role::ReceiverAccount),
    ("bene acct", Role::ReceiverAccount),
    ("beneficiary account", Role::ReceiverAccount),
    ("empfaenger iban", Role::ReceiverAccount),
    ("iban empfaenger", Role::ReceiverAccount),
    ("konto empfaenger", Role::ReceiverAccount),
    ("kontonummer empfaenger", Role::ReceiverAccount),
    ("iban beguenstigter", Role::ReceiverAccount),
    ("name empfaenger", Role::ReceiverName),
    ("empfaenger konto", Role::ReceiverAccount),
];

const CURRENCY_CODES: &[&str] = &[
    "EUR", "USD", "GBP", "CHF", "CZK", "PLN", "SGD", "AUD", "RON", "SEK", "NOK", "DKK", "HUF",
    "LTL", "JPY", "CAD", "TRY", "RUB",
];

/// Role of one header cell.
fn classify(h: &str) -> Option<Role> {
    let k = clean_header(h);
    if k.is_empty() {
        return None;
    }
    if let Some((_, r)) = SYNONYMS.iter().find(|(s, _)| *s == k) {
        return Some(*r);
    }
    // "Betrag EUR", "Castka CZK", "Umsatz in EUR": drop a trailing currency code
    let mut words: Vec<&str> = k.split(' ').collect();
    if words.len() >= 2
        && words
            .last()
            .is_some_and(|w| CURRENCY_CODES.iter().any(|c| c.eq_ignore_ascii_case(w)))
    {
        words.pop();
        if words.last() == Some(&"in") {
            words.pop();
        }
        let k2 = words.join(" ");
        return SYNONYMS.iter().find(|(s, _)| *s == k2).map(|(_, r)| *r);
    }
    None
}

/// Currency named in a header cell ("Betrag (EUR)", "Umsatz in EUR", "Betrag (€)").
fn header_currency(h: &str) -> Option<String> {
    if h.contains('€') {
        return Some("EUR".to_owned());
    }
    if h.contains('£') {
        return Some("GBP".to_owned());
    }
    h.split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| w.len() == 3 && CURRENCY_CODES.contains(w))
        .map(str::to_owned)
}

/// Columns and roles of a header row.
fn classify_row(row: &[String]) -> Vec<(usize, Role)> {
    let mut out: Vec<(usize, Role)> = Vec::new();
    // specific (multi-word) headers first: "BIC tegenpartij" before a plain "BIC"
    // (a hostile "header" of a million cells is not worth classifying)
    let mut order: Vec<(usize, &String)> = row.iter().enumerate().take(1000).collect();
    order.sort_by_key(|(i, h)| (usize::from(!clean_header(h).contains(' ')), *i));
    for (i, h) in order {
        let Some(mut r) = classify(h) else { continue };
        if r != Role::Purpose && out.iter().any(|(_, x)| *x == r) {
            // Rabobank: "BIC" (own) and "BIC tegenpartij"; the more specific one is the
            // counterparty's
            match r {
                Role::CounterpartyBic => r = Role::AccountBic,
                _ => continue,
            }
            if out.iter().any(|(_, x)| *x == r) {
                continue;
            }
        }
        out.push((i, r));
    }
    // A production-order answer names both sides ("IBAN Auftraggeber", "IBAN Empfänger"): then a
    // plain "Auftraggeber" column is the sender's name and "Empfänger" the receiver's, not "the
    // counterparty" as in a one-account statement export.
    let ledger = out.iter().any(|(_, r)| *r == Role::SenderAccount)
        && out.iter().any(|(_, r)| *r == Role::ReceiverAccount);
    if ledger {
        for (i, r) in &mut out {
            if *r != Role::CounterpartyName {
                continue;
            }
            let k = row.get(*i).map(|h| clean_header(h)).unwrap_or_default();
            if matches!(k.as_str(), "auftraggeber" | "absender" | "zahler") {
                *r = Role::SenderName;
            } else if matches!(
                k.as_str(),
                "empfaenger" | "beguenstigter" | "zahlungsempfaenger"
            ) {
                *r = Role::ReceiverName;
            }
        }
    }
    out.sort_unstable_by_key(|(i, _)| *i);
    out
}

fn has_date(roles: &[(usize, Role)]) -> bool {
    roles
        .iter()
        .any(|(_, r)| matches!(r, Role::BookingDate | Role::Timestamp))
}

fn has_amount(roles: &[(usize, Role)]) -> bool {
    roles
        .iter()
        .any(|(_, r)| matches!(r, Role::Amount | Role::Debit | Role::Credit))
}

/// Index of the header row in `rows`: most recognised cells, needs a date and an amount.
fn find_header(rows: &[Vec<String>]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, r) in rows.iter().enumerate().take(HEADER_SEARCH_ROWS) {
        let roles = classify_row(r);
        if roles.len() < 2 || !has_date(&roles) || !has_amount(&roles) {
            continue;
        }
        if best.is_none_or(|(_, s)| roles.len() > s) {
            best = Some((i, roles.len()));
        }
    }
    best.map(|(i, _)| i)
}

/// Why no header was found (for the UnknownLayout error).
fn header_failure(rows: &[Vec<String>]) -> String {
    let mut best: Option<(usize, Vec<(usize, Role)>)> = None;
    for (i, r) in rows.iter().enumerate() {
        let roles = classify_row(r);
        if best.as_ref().is_none_or(|(_, b)| roles.len() > b.len()) {
            best = Some((i, roles));
        }
    }
    match best {
        Some((i, roles)) if !roles.is_empty() => {
            let cells: Vec<&str> = rows[i].iter().map(String::as_str).take(20).collect();
            let reason = if has_date(&roles) {
                "no amount column (Betrag/Soll/Haben/Amount)"
            } else if has_amount(&roles) {
                "no date column (Buchungstag/Datum/Date)"
            } else {
                "no date and no amount column"
            };
            format!("header row {}: [{}]; {reason}", i + 1, cells.join(", "))
        }
        _ => {
            let cells: Vec<&str> = rows
                .first()
                .map(|r| r.iter().map(String::as_str).take(20).collect())
                .unwrap_or_default();
            format!(
                "no header row with date and amount columns in the first {HEADER_SEARCH_ROWS} rows (row 1: [{}])",
                cells.join(", ")
            )
        }
    }
}

/// Builds a mapping from a recognised header and sample data rows.
fn auto_mapping(
    name: &str,
    header: &[String],
    header_row: u32,
    sample: &[Vec<String>],
) -> TableMapping {
    let roles = classify_row(header);
    let mut m = TableMapping {
        name: name.to_owned(),
        header_row: Some(header_row),
        ..TableMapping::default()
    };
    let col_name = |i: usize| -> String {
        let h = header.get(i).map_or("", |s| s.trim());
        // duplicate or empty header texts are referred to by number
        let dup = header
            .iter()
            .filter(|x| normalize_header(x) == normalize_header(h))
            .count()
            > 1;
        if h.is_empty() || dup {
            (i + 1).to_string()
        } else {
            h.to_owned()
        }
    };
    let mut purpose: Vec<String> = Vec::new();
    for &(i, r) in &roles {
        if r == Role::Purpose {
            purpose.push(col_name(i));
        } else {
            m = m.with(r, &col_name(i));
        }
    }
    if !purpose.is_empty() {
        let refs: Vec<&str> = purpose.iter().map(String::as_str).collect();
        m = m.with_many(Role::Purpose, &refs);
    }
    m.match_headers = roles
        .iter()
        .take(6)
        .map(|&(i, _)| header[i].trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    let col_of = |r: Role| roles.iter().find(|(_, x)| *x == r).map(|(i, _)| *i);
    // an unnamed column holding only CR/DR marks credits (card statements)
    if col_of(Role::DebitCreditFlag).is_none() {
        for (i, h) in header.iter().enumerate() {
            if !h.trim().is_empty() || roles.iter().any(|(c, _)| *c == i) {
                continue;
            }
            let vals: Vec<&str> = sample
                .iter()
                .filter_map(|r| r.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect();
            if !vals.is_empty() && vals.iter().all(|v| v.eq_ignore_ascii_case("CR")) {
                m = m.with(Role::DebitCreditFlag, &(i + 1).to_string());
                m.credit_values = vec!["CR".to_owned()];
                m.debit_values = vec![String::new(), "DR".to_owned()];
                break;
            }
        }
    }
    // decimal separator from the amount cells
    let amount_cols: Vec<usize> = [Role::Amount, Role::Debit, Role::Credit, Role::BalanceAfter]
        .iter()
        .filter_map(|&r| col_of(r))
        .collect();
    let (mut comma, mut dot) = (0usize, 0usize);
    for r in sample {
        for &c in &amount_cols {
            let Some(v) = r.get(c).map(|s| s.trim()) else {
                continue;
            };
            let digits_after = |sep: char| {
                v.rfind(sep)
                    .map(|p| v[p + 1..].chars().take_while(char::is_ascii_digit).count())
            };
            match (v.rfind(','), v.rfind('.')) {
                (Some(a), Some(b)) if a > b => comma += 1,
                (Some(_), Some(_)) => dot += 1,
                (Some(_), None) if digits_after(',').is_some_and(|d| d != 3) => comma += 1,
                (None, Some(_)) if digits_after('.').is_some_and(|d| d != 3) => dot += 1,
                _ => {}
            }
        }
    }
    if comma > 0 && dot == 0 {
        m.decimal = Some("comma".to_owned());
    } else if dot > 0 && comma == 0 {
        m.decimal = Some("dot".to_owned());
    }
    // date format when the plain forms do not read every date
    if let Some(dc) = col_of(Role::BookingDate) {
        let dates: Vec<&str> = sample
            .iter()
            .filter_map(|r| r.get(dc))
            .map(|s| s.trim())
            .filter(|s| s.chars().any(|c| c.is_ascii_digit()))
            .collect();
        let plain_fail = dates.iter().any(|d| parse_date_text(d, None).is_none());
        let slashes = dates.iter().any(|d| d.contains('/'));
        if plain_fail || slashes {
            // two-digit years first: chrono's %Y would read "19" as the year 19
            const CANDIDATES: &[&str] = &[
                "%d/%m/%y",
                "%d/%m/%Y",
                "%m/%d/%y",
                "%m/%d/%Y",
                "%d-%b-%y",
                "%d-%b-%Y",
                "%d %b %Y",
                "%Y/%m/%d",
                "%d.%m.%Y %H:%M",
                "%Y-%m-%d %H:%M:%S",
            ];
            let fits = |f: &str| {
                !dates.is_empty()
                    && dates.iter().all(|d| {
                        parse_date_text(d, Some(f))
                            .is_some_and(|x| chrono::Datelike::year(&x) >= 1900)
                    })
            };
            if (plain_fail || !fits("%d/%m/%Y") && !fits("%d/%m/%y"))
                && let Some(f) = CANDIDATES.iter().find(|f| fits(f))
            {
                m.date_format = Some((*f).to_owned());
            }
        }
    }
    // currency from the amount header, else from a symbol in every amount cell
    if col_of(Role::Currency).is_none() {
        if let Some(c) = amount_cols
            .iter()
            .find_map(|&i| header.get(i).and_then(|h| header_currency(h)))
        {
            m.currency = Some(c);
        } else {
            let vals: Vec<&str> = sample
                .iter()
                .flat_map(|r| amount_cols.iter().filter_map(|&c| r.get(c)))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect();
            for (sym, code) in [('€', "EUR"), ('£', "GBP")] {
                if !vals.is_empty() && vals.iter().all(|v| v.contains(sym)) {
                    m.currency = Some(code.to_owned());
                }
            }
        }
    }
    m
}

/// A user mapping that fits one of `rows` (index of the header row).
fn user_mapping<'m>(
    ctx: &ImportContext<'m>,
    rows: &[Vec<String>],
    sheet: Option<&str>,
) -> Option<(&'m TableMapping, usize)> {
    for m in ctx.mappings {
        if let (Some(want), Some(have)) = (m.sheet.as_deref(), sheet)
            && normalize_header(want) != normalize_header(have)
        {
            continue;
        }
        if let Some(h) = m.header_row {
            let i = (h as usize).checked_sub(1)?;
            if let Some(r) = rows.get(i)
                && (m.match_headers.is_empty() || m.matches_headers(r))
            {
                return Some((m, i));
            }
            continue;
        }
        if let Some(i) = rows.iter().position(|r| m.matches_headers(r)) {
            return Some((m, i));
        }
    }
    None
}

/// Output bookkeeping shared by text and spreadsheet tables.
pub(crate) fn finish(out: &mut ImportOutput, chunk: ChunkOut, label: &str, plan: &Plan) {
    let tx_start = out.transactions.len();
    let start = out.rows();
    if chunk.continued > 0 {
        out.info(None, format!("{label}: {} continuation rows (no date, no amount) appended to the previous row's purpose", chunk.continued));
    }
    if !chunk.pending.is_empty() {
        let first: Vec<&str> = chunk.pending.iter().take(5).map(String::as_str).collect();
        out.warn(
            None,
            format!("{label}: {} pending (vorgemerkt) bookings loaded; they may still change or vanish ({})", chunk.pending.len(), first.join(", ")),
        );
    }
    let no_currency =
        chunk.flushed_without_currency > 0 || chunk.txs.iter().any(|t| t.currency.is_empty());
    out.issues.extend(chunk.issues);
    // frame mode: the statement's first row, read back from its frame chunk
    let first_of_frames = chunk
        .frames
        .first()
        .filter(|f| f.height() > 0)
        .map(|f| gs_types::schema::from_frame(&f.slice(0, 1)));
    out.frames_without_currency += chunk.flushed_without_currency;
    out.frames.extend(chunk.frames);
    if out.transactions.is_empty() {
        out.transactions = chunk.txs; // no copy of a million-row vector
    } else {
        out.transactions.extend(chunk.txs);
    }
    if no_currency {
        out.warn(
            None,
            format!("{label}: no currency column or currency in the header; currency left empty"),
        );
    }
    if chunk.opening.is_some() || chunk.closing.is_some() {
        let end = out.rows();
        let first: Option<Transaction> = match first_of_frames {
            Some(Ok(mut v)) => v.pop(),
            Some(Err(_)) => None,
            None => out.transactions.get(tx_start).cloned(),
        };
        out.statements.push(StatementSummary {
            label: label.to_owned(),
            account: first
                .as_ref()
                .map_or_else(|| plan.const_account.clone(), |t| t.account.clone()),
            currency: first
                .map(|t| t.currency)
                .or_else(|| plan.currency.clone())
                .unwrap_or_default(),
            opening: chunk.opening,
            closing: chunk.closing,
            tx_range: start..end,
        });
    }
}

fn decode_with<'f>(file: &'f SourceFile, label: Option<&str>) -> Cow<'f, str> {
    if let Some(enc) = label.and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes())) {
        let (t, _, _) = enc.decode(&file.bytes);
        return t;
    }
    Cow::Borrowed(file.text().text.as_ref())
}

fn import_text(file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
    let fmt = "table";
    let decoded = file.text();
    let mut text: Cow<'_, str> = Cow::Borrowed(decoded.text.as_ref());
    let head_delim = sniff_delimiter(&text[..floor_char(&text, 64 * 1024)]);
    // a user mapping may fix delimiter and encoding
    let mut chosen: Option<(TableMapping, usize, u8)> = None;
    for m in ctx.mappings {
        let t = decode_with(file, m.encoding.as_deref());
        let Some(d) = m.delimiter_byte().or(head_delim) else {
            continue;
        };
        let rows = head_rows(&t, d, HEADER_SEARCH_ROWS);
        if let Some((mm, i)) = user_mapping(
            &ImportContext {
                mappings: std::slice::from_ref(m),
                progress: ctx.progress,
                frames: ctx.frames,
            },
            &rows,
            None,
        ) {
            chosen = Some((mm.clone(), i, d));
            text = t;
            break;
        }
    }
    let (mapping, header_idx, delim, user) = if let Some((m, i, d)) = chosen {
        (m, i, d, true)
    } else {
        let Some(delim) = head_delim else {
            return Err(IngestError::UnknownLayout(
                "no field delimiter (; , tab |) found in the first lines".to_owned(),
            ));
        };
        let mut rows = head_rows(&text, delim, HEADER_SEARCH_ROWS + 200);
        let mut found = find_header(&rows[..rows.len().min(HEADER_SEARCH_ROWS)]);
        if found.is_none() && decoded.encoding == "windows-1252" {
            // Central European exports (Czech, Polish) are windows-1250; the detector cannot
            // always tell them from windows-1252 on short files
            let (t, _, _) = encoding_rs::WINDOWS_1250.decode(&file.bytes);
            let r2 = head_rows(&t, delim, HEADER_SEARCH_ROWS + 200);
            if let Some(h) = find_header(&r2[..r2.len().min(HEADER_SEARCH_ROWS)]) {
                rows = r2;
                found = Some(h);
                text = t;
            }
        }
        let search = &rows[..rows.len().min(HEADER_SEARCH_ROWS)];
        let Some(h) = found else {
            return Err(IngestError::UnknownLayout(header_failure(search)));
        };
        let sample = rows.get(h + 1..).unwrap_or(&[]);
        let mut m = auto_mapping("table (detected)", &rows[h], 0, sample);
        m.delimiter = Some(if delim == b'\t' {
            "tab".to_owned()
        } else {
            char::from(delim).to_string()
        });
        (m, h, delim, false)
    };
    // header record: position after it and its physical line
    let mut tok = Tokenizer::new(&text, delim, 0, 1);
    let mut fields = Vec::new();
    let mut header: Vec<String> = Vec::new();
    let mut header_line = 1;
    for _ in 0..=header_idx {
        match tok.next_record(&mut fields) {
            Some(r) => {
                header = fields.iter().map(|c| c.trim().to_owned()).collect();
                header_line = r.line;
            }
            None => {
                return Err(IngestError::UnknownLayout(
                    "header row not found".to_owned(),
                ));
            }
        }
    }
    let mut mapping = mapping;
    if !user {
        mapping.header_row = Some(header_line);
    }
    let mut plan = Plan::from_mapping(&mapping, &header).map_err(|e| {
        IngestError::UnknownLayout(format!(
            "header row {header_line}: [{}]; {e}",
            header.join(", ")
        ))
    })?;
    plan.continuation = true;
    let start_line = tok.line();
    let chunk = engine::parse_text(
        &plan,
        &text,
        delim,
        tok.pos(),
        start_line,
        engine::FrameOut {
            sink: ctx.frames,
            shared: None,
        },
        ctx.progress,
    )?;
    let mut out = ImportOutput::new(if user {
        mapping.name.clone()
    } else {
        "table (CSV)".to_owned()
    });
    if decoded.had_errors {
        out.warn(
            None,
            format!(
                "text decoding ({}) replaced undecodable bytes",
                decoded.encoding
            ),
        );
    }
    finish(&mut out, chunk, fmt, &plan);
    if out.rows() == 0 {
        out.info(None, "table has a header but no transaction rows");
    }
    out.mappings_used.push(mapping);
    Ok(out)
}

fn floor_char(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One sheet as typed cells (column A at index 0).
fn sheet_grid(range: &calamine::Range<calamine::Data>) -> Vec<Vec<SheetCell>> {
    use calamine::Data;
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut grid: Vec<Vec<SheetCell>> = Vec::with_capacity(r0 as usize + range.height());
    for _ in 0..r0 {
        grid.push(Vec::new());
    }
    for row in range.rows() {
        let mut cells: Vec<SheetCell> = (0..c0).map(|_| SheetCell::default()).collect();
        for d in row {
            let cell = match d {
                Data::Empty | Data::Error(_) => SheetCell::default(),
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => SheetCell {
                    text: s.clone(),
                    ..SheetCell::default()
                },
                Data::Int(i) => SheetCell {
                    text: i.to_string(),
                    num: Some(*i as f64),
                    dt: None,
                },
                Data::Float(f) => {
                    let text = if f.fract() == 0.0 && f.abs() < 1e15 {
                        format!("{f:.0}")
                    } else {
                        format!("{f}")
                    };
                    SheetCell {
                        text,
                        num: Some(*f),
                        dt: None,
                    }
                }
                Data::Bool(b) => SheetCell {
                    text: b.to_string(),
                    ..SheetCell::default()
                },
                Data::DateTime(x) => {
                    let dt = x.as_datetime();
                    SheetCell {
                        text: dt.map(|d| d.to_string()).unwrap_or_default(),
                        num: None,
                        dt,
                    }
                }
            };
            cells.push(cell);
        }
        grid.push(cells);
    }
    grid
}

fn import_workbook(
    file: &SourceFile,
    kind: SheetKind,
    ctx: &ImportContext<'_>,
) -> Result<ImportOutput> {
    use calamine::Reader;
    let fmt = match (kind, file.extension().as_str()) {
        (SheetKind::Ole, _) => "table (xls)",
        (SheetKind::Zip, "ods") => "table (ods)",
        (SheetKind::Zip, _) => "table (xlsx)",
    };
    // the file's shared buffer (a reference count, not a copy of the workbook); calamine only
    // reads it, so a panic inside cannot leave it half-changed
    let bytes = file.bytes.clone();
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
    }));
    let mut wb = match opened {
        Ok(Ok(wb)) => wb,
        Ok(Err(e)) => {
            return Err(IngestError::malformed(
                fmt,
                format!("workbook cannot be opened: {e}"),
            ));
        }
        Err(p) => {
            return Err(IngestError::Panicked {
                format: fmt.to_owned(),
                message: crate::importer::panic_message(p.as_ref()),
            });
        }
    };
    let names = wb.sheet_names();
    let mut out = ImportOutput::new(fmt);
    let mut loaded_any = false;
    let mut failures: Vec<String> = Vec::new();
    for name in &names {
        if ctx.progress.is_cancelled() {
            return Err(IngestError::Cancelled);
        }
        let range = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wb.worksheet_range(name)
        })) {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                out.warn(None, format!("sheet '{name}' cannot be read: {e}"));
                failures.push(format!("sheet '{name}': unreadable ({e})"));
                continue;
            }
            Err(p) => {
                return Err(IngestError::Panicked {
                    format: fmt.to_owned(),
                    message: crate::importer::panic_message(p.as_ref()),
                });
            }
        };
        let (h, w) = range.get_size();
        if h.saturating_mul(w) > MAX_SHEET_CELLS {
            out.row_error(None, format!("sheet '{name}' has {h} x {w} cells, over the limit of {MAX_SHEET_CELLS}; not read"));
            failures.push(format!("sheet '{name}': too large ({h} x {w} cells)"));
            continue;
        }
        if h == 0 {
            out.info(None, format!("sheet '{name}' is empty"));
            failures.push(format!("sheet '{name}': empty"));
            continue;
        }
        let grid = sheet_grid(&range);
        let text_rows: Vec<Vec<String>> = grid
            .iter()
            .take(HEADER_SEARCH_ROWS + 200)
            .map(|r| r.iter().map(|c| c.text.trim().to_owned()).collect())
            .collect();
        let search = &text_rows[..text_rows.len().min(HEADER_SEARCH_ROWS)];
        let (mapping, hidx, user) = if let Some((m, i)) = user_mapping(ctx, search, Some(name)) {
            (m.clone(), i, true)
        } else if let Some(i) = find_header(search) {
            let sample = text_rows.get(i + 1..).unwrap_or(&[]);
            let mut m = auto_mapping(
                &format!("{fmt} sheet '{name}' (detected)"),
                &text_rows[i],
                (i + 1) as u32,
                sample,
            );
            m.sheet = Some(name.clone());
            (m, i, false)
        } else {
            let why = header_failure(search);
            out.info(
                None,
                format!("sheet '{name}' has no transaction table: {why}"),
            );
            failures.push(format!("sheet '{name}': {why}"));
            continue;
        };
        let header = &text_rows[hidx];
        let mut plan = match Plan::from_mapping(&mapping, header) {
            Ok(p) => p,
            Err(e) => {
                let why = format!("header row {}: [{}]; {e}", hidx + 1, header.join(", "));
                out.info(
                    None,
                    format!("sheet '{name}' has no transaction table: {why}"),
                );
                failures.push(format!("sheet '{name}': {why}"));
                continue;
            }
        };
        plan.continuation = true;
        let mut chunk = ChunkOut::default();
        for (ri, row) in grid.iter().enumerate().skip(hidx + 1) {
            let raw: Vec<&str> = row.iter().map(|c| c.text.as_str()).collect();
            let raw = raw.join(" | ");
            let raw = raw.trim_end_matches(" | ").trim_end();
            process_row(
                &plan,
                row.as_slice(),
                &gs_types::Locator::Row {
                    sheet: Some(name.clone()),
                    row: (ri + 1) as u32,
                },
                raw,
                &mut chunk,
            );
            if ri % 4096 == 0 {
                ctx.progress.add_rows(4096);
                if ctx.progress.is_cancelled() {
                    return Err(IngestError::Cancelled);
                }
            }
        }
        finish(&mut out, chunk, &format!("sheet '{name}'"), &plan);
        if user {
            out.format.clone_from(&mapping.name);
        }
        out.mappings_used.push(mapping);
        loaded_any = true;
    }
    if !loaded_any {
        return Err(IngestError::UnknownLayout(if failures.is_empty() {
            "workbook has no sheets".to_owned()
        } else {
            failures.join("; ")
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::bank_csv::BankCsvImporter;
    use gs_types::{Locator, Money, Severity, SourceKind};

    const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../../shared/fixtures/");

    fn load(rel: &str) -> SourceFile {
        let bytes = std::fs::read(format!("{FIX}{rel}")).unwrap();
        SourceFile::from_bytes(rel, bytes)
    }

    fn run_with(f: &SourceFile, maps: &[TableMapping]) -> Result<ImportOutput> {
        let progress = gs_jobs::Progress::new();
        let ctx = ImportContext {
            mappings: maps,
            progress: &progress,
            frames: None,
        };
        TableImporter.import(f, &ctx)
    }

    fn run(rel: &str) -> Result<ImportOutput> {
        run_with(&load(rel), &[])
    }

    fn sum(o: &ImportOutput) -> i64 {
        o.transactions.iter().map(|t| t.amount.cents()).sum()
    }

    fn errors(o: &ImportOutput) -> usize {
        o.issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count()
    }

    fn sparkasse_or_table(rel: &str) -> (&'static str, Result<ImportOutput>) {
        let f = load(rel);
        let progress = gs_jobs::Progress::new();
        let ctx = ImportContext {
            mappings: &[],
            progress: &progress,
            frames: None,
        };
        if BankCsvImporter.detect(&f).is_some() {
            ("bank_csv", BankCsvImporter.import(&f, &ctx))
        } else {
            ("table", TableImporter.import(&f, &ctx))
        }
    }

    #[test]
    fn german_bank2ynab_files_go_to_bank_csv() {
        for (rel, format, n, cents) in [
            ("bank2ynab/20171001-20171106.csv", "N26 CSV (de)", 1, -5999),
            (
                "bank2ynab/20180226-1000594757-umsatz.CSV",
                "Sparkasse CSV-MT940",
                1,
                -3699,
            ),
            (
                "bank2ynab/Umsaetze_KtoNr538917600_EUR_02-03-2018_1503.CSV",
                "Commerzbank CSV",
                1,
                -1722,
            ),
        ] {
            let (who, r) = sparkasse_or_table(rel);
            let o = r.unwrap();
            assert_eq!(who, "bank_csv", "{rel}");
            assert_eq!(o.format, format, "{rel}");
            assert_eq!((o.transactions.len(), sum(&o)), (n, cents), "{rel}");
            assert_eq!(errors(&o), 0, "{rel}");
        }
    }

    #[test]
    fn rabobank_nl() {
        let o = run("bank2ynab/CSV_A_20180414_112204.csv").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (3, -103_749));
        let t = &o.transactions[1];
        // the record with the stray quote before its first field still loads
        assert_eq!(t.account.iban.as_deref(), Some("NL77RABO0311467415"));
        assert_eq!(t.account.bic.as_deref(), Some("RABONL2U"));
        assert_eq!(t.counterparty.bic.as_deref(), Some("INGBNL2A"));
        assert_eq!(t.counterparty.iban.as_deref(), Some("NL62INGB0663707048"));
        assert_eq!(t.balance_after, Some(Money(1_308_453)));
        // mixed CR/CRLF: "\r\r\n" counts as two line breaks, as text::numbered_lines does
        assert_eq!(
            t.locator,
            Some(Locator::Row {
                sheet: None,
                row: 5
            })
        );
        assert_eq!(o.mappings_used.len(), 1);
    }

    #[test]
    fn uk_card_statement_with_pending_rows() {
        let o = run("bank2ynab/MS_JANE_SMITH_01-12-2019_14-12-2019.csv").unwrap();
        // 13 rows: 3 "Pending" without a date are row errors; CR marks the one credit
        assert_eq!((o.transactions.len(), sum(&o)), (10, -28_580));
        assert_eq!(errors(&o), 3);
        assert!(
            o.issues
                .iter()
                .any(|i| i.locator.as_deref() == Some("row=2") && i.message.contains("'Pending'"))
        );
        assert_eq!(o.transactions[0].currency, "GBP");
        assert_eq!(o.transactions.last().unwrap().amount, Money(110_000));
        assert_eq!(o.mappings_used[0].date_format.as_deref(), Some("%d-%b-%Y"));
    }

    #[test]
    fn czech_windows_1250() {
        let o = run("bank2ynab/TH_20180101-20180523_strana_1.csv").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (9, -259_999));
        assert_eq!(o.transactions[0].currency, "CZK");
    }

    #[test]
    fn nab_with_preamble_and_continuation_rows() {
        let o = run("bank2ynab/TransactionHistory_20180418043121.csv").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (8, -17_328));
        assert_eq!(o.transactions[0].currency, "SGD");
        assert_eq!(
            o.transactions[0].purpose.as_deref(),
            Some("DEBIT PURCHASE 15/04/18  66-6666 UBER EATS AN2GO HELP.UBERh")
        );
        assert_eq!(
            o.transactions[0].locator,
            Some(Locator::Row {
                sheet: None,
                row: 7
            })
        );
        assert_eq!(o.mappings_used[0].header_row, Some(6));
        assert_eq!(errors(&o), 0);
    }

    #[test]
    fn kbc_be_and_swedbank_lt() {
        let o = run("bank2ynab/export_BE11123456789012_20180304_1422.csv").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (1, -340));
        assert!(
            o.issues
                .iter()
                .any(|i| i.severity == Severity::Warning && i.message.contains("BE11123456789012"))
        );
        // Swedbank export named .xls is CSV: detected by content
        let f = load("bank2ynab/test_swedebank_statement.xls");
        assert_eq!(TableImporter.detect(&f), Some(20));
        let o = run_with(&f, &[]).unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (13, 257_893));
        assert_eq!(o.statements.len(), 1);
        assert_eq!(
            (o.statements[0].opening, o.statements[0].closing),
            (Some(Money(1_037_404)), Some(Money(1_295_297)))
        );
        assert_eq!(
            o.statements[0].opening.unwrap().cents() + sum(&o),
            1_295_297
        );
        assert_eq!(errors(&o), 0);
    }

    #[test]
    fn sparkasse_credit_card_and_outbank() {
        let o = run("bank2ynab/umsatz-1234________1234-20180227.CSV").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (1, -500));
        let o = run("csv2ofx/outbank.csv").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (4, -3589));
        // US dates m/d/yy
        assert_eq!(
            o.transactions[0].booking_date,
            chrono::NaiveDate::from_ymd_opt(2019, 2, 20).unwrap()
        );
        assert_eq!(
            o.transactions[3].booking_date,
            chrono::NaiveDate::from_ymd_opt(2019, 1, 5).unwrap()
        );
        assert_eq!(
            o.transactions[1].mandate_ref.as_deref(),
            Some("0001-200000000000")
        );
        assert_eq!(
            o.transactions[0].account.iban.as_deref(),
            Some("DE81254326973657190105")
        );
    }

    #[test]
    fn raiffeisen_at_without_header_is_refused() {
        match run("bank2ynab/kta_ei.dat") {
            Err(IngestError::UnknownLayout(m)) => assert!(m.contains("no header row"), "{m}"),
            other => panic!("expected UnknownLayout, got {other:?}"),
        }
    }

    #[test]
    fn spreadsheets() {
        let o = run("ofxstatement-fineco/movements.xlsx").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (2, 14_063));
        assert_eq!(
            o.transactions[0].locator,
            Some(Locator::Row {
                sheet: Some("Movimenti".into()),
                row: 8
            })
        );
        let o = run("ofxstatement-fineco/my-cards.xls").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (2, -10_000));
        assert!(
            o.issues
                .iter()
                .any(|i| i.severity == Severity::Info && i.message.contains("Totale movimenti"))
        );
        assert_eq!(errors(&o), 0);
        let o = run("bankreader/Extras_de_cont_12345678_20012018_31012018.xls").unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (5, -10_000));
        assert_eq!(errors(&o), 0);
        let credit = o
            .transactions
            .iter()
            .find(|t| t.amount == Money(10_000))
            .unwrap();
        assert_eq!(credit.counterparty.name.as_deref(), Some("FIRMA SRL"));
        assert_eq!(
            credit.counterparty.iban.as_deref(),
            Some("RO77CITI1234567123456789")
        );
    }

    #[test]
    fn amlsim_needs_a_mapping_for_its_step_dates() {
        match run("amlsim/sample_outputs_tx.csv") {
            Err(IngestError::UnknownLayout(m)) => assert!(
                m.contains("no date column") && m.contains("TXN_AMOUNT_ORIG"),
                "{m}"
            ),
            other => panic!("expected UnknownLayout, got {other:?}"),
        }
        let m = TableMapping::from_toml_str(
            r#"
name = "AMLSim tx.csv"
match_headers = ["TXN_ID", "ACCOUNT_ID", "COUNTER_PARTY_ACCOUNT_NUM", "TXN_AMOUNT_ORIG"]
step_base_date = "2017-01-01"
currency = "USD"
[columns]
sender_account = "ACCOUNT_ID"
receiver_account = "COUNTER_PARTY_ACCOUNT_NUM"
booking_text = "TXN_SOURCE_TYPE_CODE"
amount = "TXN_AMOUNT_ORIG"
step = "start"
"#,
        )
        .unwrap();
        let o = run_with(
            &load("amlsim/sample_outputs_tx.csv"),
            std::slice::from_ref(&m),
        )
        .unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (45, -674_569));
        assert!(
            o.transactions
                .iter()
                .all(|t| t.source_kind == SourceKind::Ledger && t.amount.is_negative())
        );
        let t = &o.transactions[0];
        assert_eq!(
            (
                t.account.account_number.as_deref(),
                t.counterparty.account_number.as_deref()
            ),
            (Some("15"), Some("25"))
        );
        assert_eq!(
            t.booking_date,
            chrono::NaiveDate::from_ymd_opt(2017, 1, 2).unwrap()
        );
        assert_eq!(o.mappings_used, vec![m]);

        let cash = TableMapping::from_toml_str(
            r#"
name = "AMLSim cash_tx.csv"
match_headers = ["ACCOUNT_ID", "BRANCH_ID", "TXN_AMOUNT_ORIG"]
step_base_date = "2017-01-01"
currency = "USD"
debit_values = ["CASH-OUT"]
credit_values = ["CASH-IN"]
[columns]
account_number = "ACCOUNT_ID"
amount = "TXN_AMOUNT_ORIG"
debit_credit_flag = "TXN_SOURCE_TYPE_CODE"
booking_text = "TXN_SOURCE_TYPE_CODE"
step = "RUN_DATE"
"#,
        )
        .unwrap();
        match run("amlsim/sample_outputs_cash_tx.csv") {
            Err(IngestError::UnknownLayout(m)) => assert!(m.contains("no date column"), "{m}"),
            other => panic!("expected UnknownLayout, got {other:?}"),
        }
        let o = run_with(&load("amlsim/sample_outputs_cash_tx.csv"), &[cash]).unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (88, -378_253));
        assert_eq!(errors(&o), 0);
    }

    #[test]
    fn amlsim_full_ledger_layout_is_detected() {
        let text = "tran_id,orig_acct,bene_acct,tx_type,base_amt,tran_timestamp,is_sar,alert_id\n\
                    1,A1,B2,TRANSFER,100.50,2017-01-01 10:15:00,False,-1\n\
                    2,B2,C3,TRANSFER,99.25,2017-01-02T00:00:00,True,7\n";
        let o = run_with(
            &SourceFile::from_bytes("x.csv", text.as_bytes().to_vec()),
            &[],
        )
        .unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (2, -19_975));
        let t = &o.transactions[0];
        assert_eq!(t.source_kind, SourceKind::Ledger);
        assert_eq!(t.account.account_number.as_deref(), Some("A1"));
        assert_eq!(t.counterparty.account_number.as_deref(), Some("B2"));
        assert_eq!(t.timestamp.unwrap().to_string(), "2017-01-01 10:15:00");
    }

    #[test]
    fn german_ledger_and_errors() {
        let text = "Auftraggeber Name;Auftraggeber IBAN;Empfänger Name;Empfänger IBAN;Datum;Betrag;Verwendungszweck\n\
                    Max;DE89370400440532013000;Moritz;DE89370400440532013001;01.02.2024;1.234,56;Miete\n\
                    Max;DE89370400440532013000;Moritz;;32.02.2024;5,00;kaputt\n\
                    Max;DE89370400440532013000;Moritz;;03.02.2024;abc;kaputt\n\
                    Summe;;;;;1.239,56;\n";
        let o = run_with(
            &SourceFile::from_bytes("l.csv", text.as_bytes().to_vec()),
            &[],
        )
        .unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (1, -123_456));
        let t = &o.transactions[0];
        assert_eq!(t.source_kind, SourceKind::Ledger);
        assert_eq!(t.account.iban.as_deref(), Some("DE89370400440532013000"));
        // wrong check digits: kept, with a warning
        assert_eq!(
            t.counterparty.iban.as_deref(),
            Some("DE89370400440532013001")
        );
        assert!(o.issues.iter().any(
            |i| i.severity == Severity::Warning && i.message.contains("DE89370400440532013001")
        ));
        assert!(
            o.issues.iter().any(
                |i| i.locator.as_deref() == Some("row=3") && i.message.contains("'32.02.2024'")
            )
        );
        assert!(
            o.issues
                .iter()
                .any(|i| i.locator.as_deref() == Some("row=4") && i.message.contains("'abc'"))
        );
        assert!(
            o.issues
                .iter()
                .any(|i| i.locator.as_deref() == Some("row=5") && i.severity == Severity::Info)
        );
        assert_eq!(errors(&o), 2);
    }

    #[test]
    fn total_as_a_name_is_a_transaction_and_documents_are_not_spreadsheets() {
        let text = "Datum;Empfänger;Verwendungszweck;Betrag;Währung\n\
                    01.01.2024;TOTAL;Tankstelle 123;-50,00;EUR\n\
                    02.01.2024;;Total;-1,00;EUR\n\
                    ;;Summe;-51,00;EUR\n";
        let o = run_with(
            &SourceFile::from_bytes("t.csv", text.as_bytes().to_vec()),
            &[],
        )
        .unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (1, -5000));
        assert_eq!(
            o.issues
                .iter()
                .filter(|i| i.severity == Severity::Info)
                .count(),
            2
        );
        let docx = SourceFile::from_bytes(
            "a.docx",
            b"PK\x03\x04\x14\x00word/document.xml[Content_Types].xml".to_vec(),
        );
        assert_eq!(TableImporter.detect(&docx), None);
    }

    #[test]
    fn unknown_layout_names_header_and_reason() {
        let text = "Datum;Text;Notiz\n01.01.2024;a;b\n";
        match run_with(
            &SourceFile::from_bytes("n.csv", text.as_bytes().to_vec()),
            &[],
        ) {
            Err(IngestError::UnknownLayout(m)) => {
                assert!(
                    m.contains("header row 1: [Datum, Text, Notiz]")
                        && m.contains("no amount column"),
                    "{m}"
                );
            }
            other => panic!("expected UnknownLayout, got {other:?}"),
        }
    }

    #[test]
    fn sub_cent_amounts_and_debit_credit_columns() {
        let text = "Buchungstag;Soll;Haben;Währung;Verwendungszweck\n\
                    01.01.2024;12,345;;EUR;a\n\
                    02.01.2024;;100,00;EUR;b\n\
                    03.01.2024;5,00;6,00;EUR;both\n";
        let o = run_with(
            &SourceFile::from_bytes("s.csv", text.as_bytes().to_vec()),
            &[],
        )
        .unwrap();
        assert_eq!((o.transactions.len(), sum(&o)), (2, -1235 + 10_000));
        assert_eq!(o.transactions[0].amount_exact.as_deref(), Some("12.345"));
        assert!(
            o.issues
                .iter()
                .any(|i| i.severity == Severity::Warning && i.message.contains("12.345"))
        );
        assert!(
            o.issues
                .iter()
                .any(|i| i.locator.as_deref() == Some("row=4") && i.message.contains("both debit"))
        );
    }

    #[test]
    fn user_mapping_by_letters_with_constant_account() {
        let text = "Export\n\nA;B;C;D\n01.03.2024;Lohn;2.500,00;H\n02.03.2024;Miete;800,00;S\n";
        let m = TableMapping::from_toml_str(
            r#"
name = "Hausbank Excel"
match_headers = ["A", "B", "C", "D"]
delimiter = ";"
decimal = "comma"
account_iban = "DE89370400440532013000"
currency = "EUR"
[columns]
booking_date = "A"
purpose = "B"
amount = "C"
debit_credit_flag = "D"
"#,
        )
        .unwrap();
        let o = run_with(
            &SourceFile::from_bytes("m.csv", text.as_bytes().to_vec()),
            std::slice::from_ref(&m),
        )
        .unwrap();
        assert_eq!(o.format, "Hausbank Excel");
        assert_eq!((o.transactions.len(), sum(&o)), (2, 170_000));
        assert_eq!(o.transactions[1].amount, Money(-80_000));
        assert_eq!(
            o.transactions[0].account.iban.as_deref(),
            Some("DE89370400440532013000")
        );
        assert_eq!(
            o.transactions[0].locator,
            Some(Locator::Row {
                sheet: None,
                row: 4
            })
        );
        assert_eq!(o.mappings_used, vec![m]);
    }

    /// A minimal xlsx: sheet "Info" (no table), sheet "Umsätze" with a preamble row, a date
    /// serial, a date-formatted cell, float amounts and a sub-cent float.
    fn tiny_xlsx() -> Vec<u8> {
        use std::io::Write as _;
        let files: [(&str, String); 7] = [
            ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#.to_owned()),
            ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned()),
            ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Info" sheetId="1" r:id="rId1"/><sheet name="Umsätze" sheetId="2" r:id="rId2"/></sheets></workbook>"#.to_owned()),
            ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#.to_owned()),
            ("xl/styles.xml", r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#.to_owned()),
            ("xl/worksheets/sheet1.xml", r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Export vom 31.01.2024</t></is></c></row></sheetData></worksheet>"#.to_owned()),
            ("xl/worksheets/sheet2.xml", r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>Konto DE89370400440532013000</t></is></c></row>
<row r="3"><c r="B3" t="inlineStr"><is><t>Buchungstag</t></is></c><c r="C3" t="inlineStr"><is><t>Empfänger</t></is></c><c r="D3" t="inlineStr"><is><t>Betrag</t></is></c><c r="E3" t="inlineStr"><is><t>Währung</t></is></c></row>
<row r="4"><c r="B4" s="1"><v>45292</v></c><c r="C4" t="inlineStr"><is><t>Miete</t></is></c><c r="D4"><v>-950.5</v></c><c r="E4" t="inlineStr"><is><t>EUR</t></is></c></row>
<row r="5"><c r="B5"><v>45293</v></c><c r="C5" t="inlineStr"><is><t>Zins</t></is></c><c r="D5"><v>0.125</v></c><c r="E5" t="inlineStr"><is><t>EUR</t></is></c></row>
<row r="6"><c r="B6" t="inlineStr"><is><t>03.01.2024</t></is></c><c r="C6" t="inlineStr"><is><t>Lohn</t></is></c><c r="D6" t="inlineStr"><is><t>2.000,00</t></is></c><c r="E6" t="inlineStr"><is><t>EUR</t></is></c></row>
<row r="7"><c r="B7" t="inlineStr"><is><t>kein Datum</t></is></c><c r="C7" t="inlineStr"><is><t>x</t></is></c><c r="D7"><v>1</v></c></row>
</sheetData></worksheet>"#.to_owned()),
        ];
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in files {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn xlsx_sheets_dates_and_float_amounts() {
        let f = SourceFile::from_bytes("k.xlsx", tiny_xlsx());
        assert_eq!(TableImporter.detect(&f), Some(20));
        let o = run_with(&f, &[]).unwrap();
        // the "Info" sheet has no table: a note, and the other sheet loads
        assert!(
            o.issues
                .iter()
                .any(|i| i.severity == Severity::Info && i.message.contains("sheet 'Info'"))
        );
        assert_eq!(o.transactions.len(), 3, "{:?}", o.issues);
        let d = |m, day| chrono::NaiveDate::from_ymd_opt(2024, m, day).unwrap();
        assert_eq!(o.transactions[0].booking_date, d(1, 1));
        assert_eq!(o.transactions[0].amount, Money(-95_050));
        assert_eq!(
            o.transactions[0].locator,
            Some(Locator::Row {
                sheet: Some("Umsätze".into()),
                row: 4
            })
        );
        assert_eq!(o.transactions[1].booking_date, d(1, 2));
        // 0.125 rounds half away from zero and keeps the exact text
        assert_eq!(o.transactions[1].amount, Money(13));
        assert_eq!(o.transactions[1].amount_exact.as_deref(), Some("0.125"));
        assert_eq!(o.transactions[2].amount, Money(200_000));
        assert!(o.issues.iter().any(|i| i.severity == Severity::Error
            && i.locator.as_deref() == Some("sheet=Umsätze row=7")));
        assert_eq!(o.mappings_used.len(), 1);
        assert_eq!(o.mappings_used[0].header_row, Some(3));
    }

    #[test]
    fn hostile_spreadsheets_fail_cleanly() {
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(b"xl/worksheets/sheet1.xml garbage garbage");
        let r = run_with(&SourceFile::from_bytes("x.xlsx", zip), &[]);
        assert!(r.is_err());
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        ole.extend(std::iter::repeat_n(0xFFu8, 600));
        assert!(run_with(&SourceFile::from_bytes("x.xls", ole), &[]).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, ..Default::default() })]
        #[test]
        fn random_text_never_panics(s in "[\\PC\\n\\r;,\"|\\t]{0,400}") {
            let f = SourceFile::from_bytes("p.csv", s.into_bytes());
            let _ = TableImporter.detect(&f);
            let _ = run_with(&f, &[]);
            let _ = BankCsvImporter.detect(&f);
            let progress = gs_jobs::Progress::new();
            let _ = BankCsvImporter.import(&f, &ImportContext { mappings: &[], progress: &progress, frames: None, });
        }

        #[test]
        fn mutated_fixture_never_panics(pos in 0usize..2000, byte in proptest::prelude::any::<u8>(), cut in 0usize..2000) {
            for rel in [
                "bank2ynab/CSV_A_20180414_112204.csv",
                "bank2ynab/test_swedebank_statement.xls",
                "bank2ynab/TransactionHistory_20180418043121.csv",
                "bank2ynab/20180226-1000594757-umsatz.CSV",
            ] {
                let mut b = std::fs::read(format!("{FIX}{rel}")).unwrap();
                if !b.is_empty() {
                    let p = pos % b.len();
                    b[p] = byte;
                    b.truncate(cut.max(1).min(b.len()));
                }
                let f = SourceFile::from_bytes(rel, b);
                let _ = run_with(&f, &[]);
                let progress = gs_jobs::Progress::new();
                let _ = BankCsvImporter.import(&f, &ImportContext { mappings: &[], progress: &progress, frames: None, });
            }
        }
    }
}
