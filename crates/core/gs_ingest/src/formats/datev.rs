//! DATEV Buchungsstapel reader (`EXTF` / `DTVF` export, format category 21).
//!
//! A Buchungsstapel is a ledger: every row names two accounts of the client's chart of
//! accounts (`Konto` and `Gegenkonto`) and a positive `Umsatz` with a Soll/Haben mark that
//! refers to `Konto`. Rows become [`SourceKind::Ledger`] transactions: `account` is the side
//! that gives the value (sender), `counterparty` the side that receives it, amount negative.
//! DATEV account numbers are only unique within one client, so both sides carry
//! `bank_code = "DATEV <Berater>/<Mandant>"`.

use gs_types::chrono::NaiveDate;
use gs_types::{DecimalSeparator, Locator, Money, PartyRef, SourceKind, Transaction};

use crate::error::{IngestError, Result};
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};

/// Importer for DATEV Buchungsstapel CSV files.
#[derive(Debug, Default)]
pub struct DatevImporter;

const FORMAT: &str = "DATEV";
const PROGRESS_EVERY: usize = 5000;

const COL_AMOUNT: &str = "Umsatz (ohne Soll/Haben-Kz)";
const COL_SH: &str = "Soll/Haben-Kennzeichen";
const COL_CURRENCY: &str = "WKZ Umsatz";
const COL_ACCOUNT: &str = "Konto";
const COL_CONTRA: &str = "Gegenkonto (ohne BU-Schlüssel)";
const COL_DATE: &str = "Belegdatum";
const COL_DOC: &str = "Belegfeld 1";
const COL_TEXT: &str = "Buchungstext";

impl Importer for DatevImporter {
    fn id(&self) -> &'static str {
        "datev"
    }

    fn detect(&self, file: &SourceFile) -> Option<u8> {
        let head = file.head(8192);
        let mut lines = head.lines();
        let first = lines.next()?.trim_start_matches('\u{feff}');
        let kind = first.split(';').next()?.trim().trim_matches('"');
        if kind != "EXTF" && kind != "DTVF" {
            return None;
        }
        let second = lines.next().unwrap_or("");
        if second.contains("Umsatz") && second.contains("Konto") && second.contains("Belegdatum") {
            Some(95)
        } else {
            Some(60)
        }
    }

    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        let decoded = file.text();
        let mut out = ImportOutput::new("DATEV Buchungsstapel");
        if decoded.had_errors {
            out.warn(
                None,
                format!(
                    "some bytes are not valid {} and were replaced by U+FFFD",
                    decoded.encoding
                ),
            );
        }
        read(&decoded.text, ctx, &mut out)?;
        Ok(out)
    }
}

/// Header line 1 (the "Vorlaufsatz").
struct Header {
    category: String,
    berater: String,
    mandant: String,
    fy_start: Option<NaiveDate>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    currency: Option<String>,
}

fn field(rec: &csv::StringRecord, i: usize) -> &str {
    rec.get(i).map_or("", str::trim)
}

fn yyyymmdd(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(
        s.get(..4)?.parse().ok()?,
        s.get(4..6)?.parse().ok()?,
        s.get(6..8)?.parse().ok()?,
    )
}

fn parse_header(rec: &csv::StringRecord) -> Header {
    Header {
        category: field(rec, 2).to_owned(),
        berater: field(rec, 10).to_owned(),
        mandant: field(rec, 11).to_owned(),
        fy_start: yyyymmdd(field(rec, 12)),
        from: yyyymmdd(field(rec, 14)),
        to: yyyymmdd(field(rec, 15)),
        currency: Some(field(rec, 21).to_ascii_uppercase()).filter(|c| c.len() == 3),
    }
}

/// Belegdatum: `DDMM` (year from the period) or `DDMMYYYY`.
fn beleg_date(text: &str, h: &Header) -> std::result::Result<NaiveDate, String> {
    let t = text.trim();
    if !t.bytes().all(|b| b.is_ascii_digit()) || t.is_empty() {
        return Err(format!("Belegdatum '{t}' is not a date"));
    }
    // Spreadsheet round trips drop the leading zero ("101" = 1 January).
    let padded = if t.len() == 3 || t.len() == 7 {
        format!("0{t}")
    } else {
        t.to_owned()
    };
    let day: u32 = padded.get(..2).and_then(|x| x.parse().ok()).unwrap_or(0);
    let month: u32 = padded.get(2..4).and_then(|x| x.parse().ok()).unwrap_or(0);
    if padded.len() == 8 {
        let year: i32 = padded.get(4..).and_then(|x| x.parse().ok()).unwrap_or(0);
        return NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| format!("Belegdatum '{t}' is not a date"));
    }
    if padded.len() != 4 {
        return Err(format!("Belegdatum '{t}' is not DDMM or DDMMYYYY"));
    }
    let mut years: Vec<i32> = Vec::new();
    for d in [h.from, h.to, h.fy_start].into_iter().flatten() {
        let y = gs_types::chrono::Datelike::year(&d);
        if !years.contains(&y) {
            years.push(y);
        }
    }
    let candidates: Vec<NaiveDate> = years
        .iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(*y, month, day))
        .collect();
    if let (Some(from), Some(to)) = (h.from, h.to)
        && let Some(d) = candidates.iter().find(|d| (from..=to).contains(*d))
    {
        return Ok(*d);
    }
    candidates.first().copied().ok_or_else(|| {
        format!("Belegdatum '{t}' has no year: header has no period (Datum vom/bis)")
    })
}

/// Line breaks in `chunk`; `next` is the byte after it (a `\r` before `\n` is not a break).
fn count_breaks(chunk: &[u8], next: Option<u8>) -> u32 {
    let mut n = 0u32;
    for (i, b) in chunk.iter().enumerate() {
        let after = chunk.get(i + 1).copied().or(next);
        if *b == b'\n' || (*b == b'\r' && after != Some(b'\n')) {
            n = n.saturating_add(1);
        }
    }
    n
}

fn read(text: &str, ctx: &ImportContext<'_>, out: &mut ImportOutput) -> Result<()> {
    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    let header_ok = rdr.read_record(&mut rec).map_err(|e| {
        IngestError::malformed(FORMAT, format!("header line unreadable ({e}), line 1"))
    })?;
    let kind = field(&rec, 0).trim_matches('"').to_owned();
    if !header_ok || (kind != "EXTF" && kind != "DTVF") {
        return Err(IngestError::malformed(
            FORMAT,
            "first line is not an EXTF/DTVF header, line 1",
        ));
    }
    let h = parse_header(&rec);
    if h.category != "21" {
        return Err(IngestError::malformed(
            FORMAT,
            format!(
                "format category {} is not a Buchungsstapel (21); only Buchungsstapel is read, line 1",
                h.category
            ),
        ));
    }
    out.format_version = Some(format!(
        "{kind} {} / category 21 version {}",
        field(&rec, 1),
        field(&rec, 4)
    ));
    let has_names = rdr.read_record(&mut rec).map_err(|e| {
        IngestError::malformed(FORMAT, format!("column names unreadable ({e}), line 2"))
    })?;
    if !has_names {
        return Err(IngestError::malformed(
            FORMAT,
            "column name line missing, line 2",
        ));
    }
    let col = |name: &str| rec.iter().position(|c| c.trim().eq_ignore_ascii_case(name));
    let (Some(c_amount), Some(c_sh), Some(c_acct), Some(c_contra), Some(c_date)) = (
        col(COL_AMOUNT),
        col(COL_SH),
        col(COL_ACCOUNT),
        col(COL_CONTRA),
        col(COL_DATE),
    ) else {
        return Err(IngestError::malformed(
            FORMAT,
            format!(
                "required columns missing ({COL_AMOUNT}, {COL_SH}, {COL_ACCOUNT}, {COL_CONTRA}, {COL_DATE}), line 2"
            ),
        ));
    };
    let c_cur = col(COL_CURRENCY);
    let c_doc = col(COL_DOC);
    let c_text = col(COL_TEXT);
    let client = if h.berater.is_empty() && h.mandant.is_empty() {
        out.warn(None, "header has no Berater/Mandant number; accounts of different clients may collide, line 1");
        "DATEV".to_owned()
    } else {
        format!("DATEV {}/{}", h.berater, h.mandant)
    };
    let default_currency = h.currency.clone().unwrap_or_else(|| "EUR".to_owned());
    let mut since_report = 0usize;
    let bytes = text.as_bytes();
    let mut line_at: (usize, u32) = (0, 1);
    loop {
        let start = rdr.position().clone();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = u32::try_from(start.line()).unwrap_or(u32::MAX);
                out.row_error(
                    Some(
                        Locator::Row {
                            sheet: None,
                            row: line,
                        }
                        .to_string(),
                    ),
                    format!("row unreadable ({e})"),
                );
                continue;
            }
        }
        since_report += 1;
        if since_report >= PROGRESS_EVERY {
            ctx.progress.add_rows(since_report as u64);
            since_report = 0;
            if ctx.progress.is_cancelled() {
                return Err(IngestError::Cancelled);
            }
        }
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut byte = usize::try_from(rec.position().map_or(start.byte(), csv::Position::byte))
            .unwrap_or(usize::MAX);
        // After a CRLF the csv crate reports the record as starting at the LF.
        if bytes.get(byte) == Some(&b'\n') {
            byte += 1;
        }
        // Physical line number counted here: line breaks are `\n`, `\r\n` or a lone `\r`.
        if let Some(chunk) = bytes.get(line_at.0..byte) {
            line_at.1 += count_breaks(chunk, bytes.get(byte).copied());
            line_at.0 = byte;
        }
        let line = line_at.1;
        let locator = Locator::Row {
            sheet: None,
            row: line,
        };
        let loc = locator.to_string();
        let source_text = text
            .get(byte..)
            .map_or("", |r| r.split(['\n', '\r']).next().unwrap_or(""))
            .to_owned();
        let amount_text = field(&rec, c_amount);
        let parsed = match Money::parse(amount_text, DecimalSeparator::Comma) {
            Ok(p) => p,
            Err(e) => {
                out.row_error(Some(loc), format!("booking not read: Umsatz {e}"));
                continue;
            }
        };
        let mut debit_konto = match field(&rec, c_sh).to_ascii_uppercase().as_str() {
            "S" => true,
            "H" => false,
            other => {
                out.row_error(
                    Some(loc),
                    format!(
                        "booking not read: Soll/Haben-Kennzeichen '{other}' is neither S nor H"
                    ),
                );
                continue;
            }
        };
        let mut value = parsed.money;
        if value.is_negative() {
            // A negative Umsatz is not valid DATEV; reading it as the opposite direction keeps
            // the ledger convention (sender pays a positive value).
            out.warn(
                Some(loc.clone()),
                format!("negative Umsatz {amount_text}: read as the opposite Soll/Haben direction"),
            );
            value = value.neg();
            debit_konto = !debit_konto;
        }
        if let Some(exact) = &parsed.exact {
            out.warn(
                Some(loc.clone()),
                format!("Umsatz {exact} has more than two decimals; rounded to cents"),
            );
        }
        let date = match beleg_date(field(&rec, c_date), &h) {
            Ok(d) => d,
            Err(e) => {
                out.row_error(Some(loc), format!("booking not read: {e}"));
                continue;
            }
        };
        if let (Some(from), Some(to)) = (h.from, h.to)
            && !(from..=to).contains(&date)
        {
            out.warn(
                Some(loc.clone()),
                format!("Belegdatum {date} lies outside the batch period {from} to {to}"),
            );
        }
        let konto = field(&rec, c_acct);
        let gegen = field(&rec, c_contra);
        if konto.is_empty() || gegen.is_empty() {
            out.warn(
                Some(loc.clone()),
                "booking has an empty Konto or Gegenkonto",
            );
        }
        // "S": Konto is debited (receives the value), so the Gegenkonto gives it.
        let (sender, receiver) = if debit_konto {
            (gegen, konto)
        } else {
            (konto, gegen)
        };
        let party = |n: &str| PartyRef {
            account_number: (!n.is_empty()).then(|| n.to_owned()),
            bank_code: Some(client.clone()),
            ..PartyRef::default()
        };
        let currency = c_cur
            .map(|c| field(&rec, c).to_ascii_uppercase())
            .filter(|c| c.len() == 3)
            .unwrap_or_else(|| default_currency.clone());
        let opt = |c: Option<usize>| {
            c.map(|i| field(&rec, i))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        out.transactions.push(Transaction {
            locator: Some(locator),
            source_kind: SourceKind::Ledger,
            booking_date: date,
            amount: value.neg(),
            amount_exact: parsed
                .exact
                .map(|x| format!("-{}", x.trim_start_matches('-'))),
            currency,
            account: party(sender),
            counterparty: party(receiver),
            purpose: opt(c_text),
            booking_text: Some("DATEV Buchung".to_owned()),
            end_to_end_ref: opt(c_doc),
            source_text,
            ..Transaction::default()
        });
    }
    ctx.progress.add_rows(since_report as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gs_jobs::Progress;
    use gs_types::Severity;

    const HEADER: &str = "\"EXTF\";700;21;\"Buchungsstapel\";13;20240130140440439;;\"RE\";\"\";\"\";29098;55003;20240101;4;20240101;20240831;\"Buchungsstapel\";\"WD\";1;0;0;\"EUR\";;\"\";;;\"03\";;;\"\";\"\"";
    const COLUMNS: &str = "Umsatz (ohne Soll/Haben-Kz);Soll/Haben-Kennzeichen;WKZ Umsatz;Kurs;Basis-Umsatz;WKZ Basis-Umsatz;Konto;Gegenkonto (ohne BU-Schlüssel);BU-Schlüssel;Belegdatum;Belegfeld 1;Belegfeld 2;Skonto;Buchungstext;Postensperre;Diverse Adressnummer;Geschäftspartnerbank;Sachverhalt;Zinssperre;Beleglink";

    fn import_bytes(bytes: Vec<u8>) -> Result<ImportOutput> {
        let progress = Progress::new();
        let ctx = ImportContext {
            mappings: &[],
            progress: &progress,
            frames: None,
        };
        DatevImporter.import(
            &SourceFile::from_bytes("EXTF_Buchungsstapel.csv", bytes),
            &ctx,
        )
    }

    fn import(text: &str) -> Result<ImportOutput> {
        import_bytes(text.as_bytes().to_vec())
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn soll_and_haben_rows_become_ledger_rows() {
        let text = format!(
            "{HEADER}\r\n{COLUMNS}\r\n\
1190,00;\"S\";\"EUR\";;;;1200;8400;\"\";0501;\"RE-2024-001\";\"\";;\"Erlös Kunde A\";;;;;;\r\n\
250,00;\"H\";\"EUR\";;;;1200;4930;\"\";1502;\"B-17\";\"\";;\"Bürobedarf\";;;;;;\r\n\
99,99;\"H\";\"\";;;;1000;1200;\"\";31082024;\"\";\"\";;\"Kasse an Bank\";;;;;;\r\n"
        );
        let file = SourceFile::from_bytes("x.csv", text.as_bytes().to_vec());
        assert_eq!(DatevImporter.detect(&file), Some(95));
        let out = import(&text).unwrap();
        assert_eq!(out.transactions.len(), 3);
        let t = &out.transactions[0];
        assert_eq!(t.source_kind, SourceKind::Ledger);
        assert_eq!(t.amount.cents(), -119_000);
        // S: Konto 1200 is debited, i.e. receives the value from the revenue account 8400.
        assert_eq!(t.account.account_number.as_deref(), Some("8400"));
        assert_eq!(t.counterparty.account_number.as_deref(), Some("1200"));
        assert_eq!(t.account.bank_code.as_deref(), Some("DATEV 29098/55003"));
        assert_eq!(t.booking_date, d(2024, 1, 5));
        assert_eq!(t.purpose.as_deref(), Some("Erlös Kunde A"));
        assert_eq!(t.end_to_end_ref.as_deref(), Some("RE-2024-001"));
        assert_eq!(t.booking_text.as_deref(), Some("DATEV Buchung"));
        assert_eq!(t.locator.as_ref().unwrap().to_string(), "row=3");
        assert!(t.source_text.starts_with("1190,00;\"S\""));
        let t = &out.transactions[1];
        assert_eq!(t.account.account_number.as_deref(), Some("1200"));
        assert_eq!(t.counterparty.account_number.as_deref(), Some("4930"));
        assert_eq!(t.amount.cents(), -25_000);
        assert_eq!(t.booking_date, d(2024, 2, 15));
        assert_eq!(out.transactions[2].booking_date, d(2024, 8, 31));
        assert_eq!(out.transactions[2].currency, "EUR");
        assert!(out.issues.is_empty(), "{:?}", out.issues);
    }

    #[test]
    fn period_across_year_end_picks_the_year_inside_it() {
        let header = HEADER.replace(
            ";20240101;4;20240101;20240831;",
            ";20230101;4;20231201;20240131;",
        );
        let text = format!(
            "{header}\n{COLUMNS}\n10,00;S;EUR;;;;1200;8400;;1512;;;;x\n10,00;S;USD;;;;1200;8400;;0501;;;;y\n"
        );
        let out = import(&text).unwrap();
        assert_eq!(out.transactions[0].booking_date, d(2023, 12, 15));
        assert_eq!(out.transactions[1].booking_date, d(2024, 1, 5));
        assert_eq!(out.transactions[1].currency, "USD");
    }

    #[test]
    fn bad_rows_are_row_errors_and_the_rest_loads() {
        let text = format!(
            "{HEADER}\n{COLUMNS}\nabc;S;EUR;;;;1200;8400;;0101;;;;x\n10,00;X;EUR;;;;1200;8400;;0101;;;;x\n\
10,00;S;EUR;;;;1200;8400;;3102;;;;x\n-5,00;S;EUR;;;;1200;8400;;0101;;;;neg\n1,005;H;EUR;;;;1200;8400;;0101;;;;exact\n"
        );
        let out = import(&text).unwrap();
        assert_eq!(out.transactions.len(), 2);
        let errors: Vec<_> = out
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(errors[0].locator.as_deref(), Some("row=3"));
        assert!(errors[2].message.contains("Belegdatum '3102'"));
        let neg = &out.transactions[0];
        assert_eq!(neg.amount.cents(), -500);
        assert_eq!(neg.account.account_number.as_deref(), Some("1200"));
        assert_eq!(out.transactions[1].amount_exact.as_deref(), Some("-1.005"));
        assert_eq!(out.transactions[1].amount.cents(), -101);
        let outside = format!("{HEADER}\n{COLUMNS}\n1,00;S;EUR;;;;1200;8400;;3112;;;;late\n");
        let late = import(&outside).unwrap();
        assert_eq!(late.transactions[0].booking_date, d(2024, 12, 31));
        assert!(
            late.issues
                .iter()
                .any(|i| i.message.contains("outside the batch period"))
        );
    }

    #[test]
    fn windows_1252_and_other_categories() {
        let text = format!("{HEADER}\r\n{COLUMNS}\r\n5,00;H;EUR;;;;1200;4930;;0101;;;;Gebühr\r\n");
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
        let out = import_bytes(bytes.into_owned()).unwrap();
        assert_eq!(out.transactions[0].purpose.as_deref(), Some("Gebühr"));
        let other = HEADER.replace("\"EXTF\";700;21;", "\"EXTF\";700;16;");
        let err = import(&format!("{other}\n{COLUMNS}\n")).unwrap_err();
        assert!(err.to_string().contains("not a Buchungsstapel"), "{err}");
        assert!(import("Datum;Betrag\n").is_err());
        let f = SourceFile::from_bytes("a.csv", b"Datum;Betrag\n".to_vec());
        assert_eq!(DatevImporter.detect(&f), None);
        let err = import(&format!("{HEADER}\nfoo;bar\n")).unwrap_err();
        assert!(err.to_string().contains("required columns missing"));
    }

    #[test]
    fn fixtures_of_other_formats_are_not_detected() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../../shared/fixtures/");
        let mut checked = 0;
        for dir in std::fs::read_dir(root).unwrap() {
            for f in std::fs::read_dir(dir.unwrap().path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if f.path().is_file() {
                    let file = SourceFile::from_bytes("x", std::fs::read(f.path()).unwrap());
                    assert_eq!(DatevImporter.detect(&file), None, "{}", f.path().display());
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "fixtures not found: {checked}");
    }

    proptest::proptest! {
        #[test]
        fn random_rows_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut bytes = format!("{HEADER}\n{COLUMNS}\n").into_bytes();
            bytes.extend_from_slice(&body);
            let _ = import_bytes(bytes);
            let _ = import_bytes(body);
        }
    }
}
