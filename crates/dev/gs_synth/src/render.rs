//! Renders an account's bookings in the formats real German banks export, recording for each
//! booking the locator a reader must report (`gs_types::Locator` Display text).

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use gs_types::Locator;

use crate::model::{Booking, Kind, World};
use crate::util::{
    chunks, cp1252, ddmmyy, ddmmyyyy, de_grouped, de_plain, latin1, month_end, month_start,
    plus_days, xml_amount, xml_escape,
};

/// Where one booking (or one batch detail) ended up in a rendered file.
#[derive(Clone, Debug)]
pub(crate) struct TxLoc {
    pub booking: usize,
    pub locator: String,
    /// Amount as the file states it (signed from the account's view; ledger: positive).
    pub amount: i64,
    pub date: NaiveDate,
    pub e2e: Option<String>,
}

/// One statement inside a rendered file (balances as written).
#[derive(Clone, Debug)]
pub(crate) struct StmtInfo {
    pub label: String,
    pub opening: Option<i64>,
    pub closing: Option<i64>,
    pub entries: usize,
    pub sum: i64,
}

/// A rendered file.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rendered {
    pub bytes: Vec<u8>,
    pub txs: Vec<TxLoc>,
    pub statements: Vec<StmtInfo>,
    /// Closing balance stated outside statements (CSV preambles).
    pub closing_balance: Option<i64>,
}

fn row_loc(row: usize) -> String {
    Locator::Row {
        sheet: None,
        row: row as u32,
    }
    .to_string()
}

fn entry_loc(statement: usize, entry: usize, detail: Option<usize>, line: usize) -> String {
    Locator::Entry {
        statement: statement as u32,
        entry: entry as u32,
        detail: detail.map(|d| d as u32),
        line: Some(line as u32),
    }
    .to_string()
}

/// The end-to-end reference as a reader reports it: `NOTPROVIDED` means none.
pub(crate) fn stated_e2e(e2e: Option<&str>) -> Option<String> {
    e2e.filter(|e| *e != "NOTPROVIDED").map(str::to_owned)
}

fn loc(b: &Booking, locator: String, amount: i64) -> TxLoc {
    TxLoc {
        booking: b.id,
        locator,
        amount,
        date: b.date,
        e2e: stated_e2e(b.e2e.as_deref()),
    }
}

/// Text without the separator and line breaks (bank CSVs never quote-escape in practice).
fn clean(s: &str, bad: char) -> String {
    s.chars()
        .map(|c| {
            if c == bad || c == '\n' || c == '\r' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Counterparty name as banks show it for bookings without a party.
fn cp_name(w: &World, b: &Booking) -> String {
    w.cp(b).map(|p| p.name.clone()).unwrap_or_default()
}

fn cp_iban(w: &World, b: &Booking) -> String {
    w.cp(b)
        .and_then(|p| p.iban.as_ref())
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default()
}

fn cp_bic(w: &World, b: &Booking) -> String {
    w.cp(b)
        .filter(|p| p.iban.is_some())
        .map(|p| p.bic.clone())
        .unwrap_or_default()
}

/// Purpose of a batch booking: the details' names and purposes in one line.
fn batch_purpose(w: &World, b: &Booking) -> String {
    if b.details.is_empty() {
        return b.purpose.clone();
    }
    let mut s = b.purpose.clone();
    for d in &b.details {
        let _ = write!(
            s,
            " / {} {}",
            w.parties.get(d.cp).map_or("", |p| p.name.as_str()),
            d.purpose
        );
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Sparkasse CSV-CAMT V2

/// Sparkasse "CSV-CAMT V2": `;`, every field quoted, Windows-1252, newest first.
pub(crate) fn sparkasse_csv(w: &World, acct: usize, bookings: &[&Booking]) -> Rendered {
    let iban = w.iban(acct);
    let mut out = String::new();
    out.push_str("\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Glaeubiger ID\";\"Mandatsreferenz\";\"Kundenreferenz (End-to-End)\";\"Sammlerreferenz\";\"Lastschrift Ursprungsbetrag\";\"Auslagenersatz Ruecklastschrift\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\n");
    let mut txs = Vec::with_capacity(bookings.len());
    for (i, b) in bookings.iter().rev().enumerate() {
        let fields = [
            iban.clone(),
            ddmmyy(b.date),
            ddmmyy(b.valuta),
            b.kind.spk_text().to_owned(),
            batch_purpose(w, b),
            b.creditor_id.clone().unwrap_or_default(),
            b.mandate.clone().unwrap_or_default(),
            b.e2e.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            cp_name(w, b),
            cp_iban(w, b),
            cp_bic(w, b),
            de_plain(b.amount),
            "EUR".to_owned(),
            "Umsatz gebucht".to_owned(),
        ];
        let line: Vec<String> = fields.iter().map(|f| q(&clean(f, '\u{0}'))).collect();
        out.push_str(&line.join(";"));
        out.push('\n');
        txs.push(loc(b, row_loc(i + 2), b.amount));
    }
    Rendered {
        bytes: cp1252(&out),
        txs,
        statements: Vec::new(),
        closing_balance: None,
    }
}

// ---------------------------------------------------------------------------------------------
// DKB (new web banking export, 2023+)

/// DKB CSV: UTF-8 with BOM, a preamble, then quoted `;` rows, newest first.
pub(crate) fn dkb_csv(
    w: &World,
    acct: usize,
    bookings: &[&Booking],
    from: NaiveDate,
    to: NaiveDate,
) -> Rendered {
    let holder = w.holder(acct);
    let grouped = holder
        .iban
        .as_ref()
        .map(gs_types::Iban::grouped)
        .unwrap_or_default();
    let closing = w.balance_before(acct, plus_days(to, 1));
    let mut out = String::from("\u{feff}");
    let _ = writeln!(out, "\"Girokonto\";\"{grouped}\"");
    out.push_str("\"\"\n");
    let _ = writeln!(
        out,
        "\"Zeitraum:\";\"{} - {}\"",
        ddmmyyyy(from),
        ddmmyyyy(to)
    );
    let _ = writeln!(
        out,
        "\"Kontostand vom {}:\";\"{} €\"",
        ddmmyyyy(to),
        de_grouped(closing)
    );
    out.push_str("\"\"\n");
    out.push_str("\"Buchungsdatum\";\"Wertstellung\";\"Status\";\"Zahlungspflichtige*r\";\"Zahlungsempfänger*in\";\"Verwendungszweck\";\"Umsatztyp\";\"IBAN\";\"Betrag (€)\";\"Gläubiger-ID\";\"Mandatsreferenz\";\"Kundenreferenz\"\n");
    let header_lines = 6;
    let mut txs = Vec::with_capacity(bookings.len());
    for (i, b) in bookings.iter().rev().enumerate() {
        let cp = match b.kind {
            Kind::CashOut => "Bargeldauszahlung".to_owned(),
            Kind::CashIn => "Bargeldeinzahlung".to_owned(),
            Kind::Fee => "DKB AG".to_owned(),
            _ => cp_name(w, b),
        };
        let (payer, payee, typ) = if b.amount < 0 {
            (holder.name.clone(), cp, "Ausgang")
        } else {
            (cp, holder.name.clone(), "Eingang")
        };
        let fields = [
            ddmmyy(b.date),
            ddmmyy(b.valuta),
            "Gebucht".to_owned(),
            payer,
            payee,
            batch_purpose(w, b),
            typ.to_owned(),
            cp_iban(w, b),
            de_grouped(b.amount),
            b.creditor_id.clone().unwrap_or_default(),
            b.mandate.clone().unwrap_or_default(),
            b.e2e.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| q(&clean(f, '\u{0}'))).collect();
        out.push_str(&line.join(";"));
        out.push('\n');
        txs.push(loc(b, row_loc(header_lines + i + 1), b.amount));
    }
    Rendered {
        bytes: out.into_bytes(),
        txs,
        statements: Vec::new(),
        closing_balance: Some(closing),
    }
}

// ---------------------------------------------------------------------------------------------
// ING

/// ING "Umsatzanzeige" CSV: ISO-8859-1, preamble, unquoted `;` rows with running balance.
pub(crate) fn ing_csv(
    w: &World,
    acct: usize,
    bookings: &[&Booking],
    from: NaiveDate,
    to: NaiveDate,
) -> Rendered {
    let holder = w.holder(acct);
    let grouped = holder
        .iban
        .as_ref()
        .map(gs_types::Iban::grouped)
        .unwrap_or_default();
    let opening = w.balance_before(acct, from);
    let closing = w.balance_before(acct, plus_days(to, 1));
    let created = plus_days(to, 1);
    let mut lines: Vec<String> = vec![
        format!("Umsatzanzeige;Datei erstellt am: {} 08:14", ddmmyyyy(created)),
        ";Letztes Update: aktuell".to_owned(),
        String::new(),
        format!("IBAN;{grouped}"),
        "Kontoname;Girokonto".to_owned(),
        "Bank;ING".to_owned(),
        format!("Kunde;{}", clean(&holder.name, ';')),
        format!("Zeitraum;{} - {}", ddmmyyyy(from), ddmmyyyy(to)),
        format!("Saldo;{};EUR", de_grouped(closing)),
        String::new(),
        "Sortierung;Datum absteigend".to_owned(),
        String::new(),
        "In der CSV-Datei finden Sie alle bereits gebuchten Umsätze. Die vorgemerkten Umsätze werden nicht aufgenommen, auch wenn sie in Ihrem Internetbanking angezeigt werden.".to_owned(),
        String::new(),
        "Buchung;Wertstellungsdatum;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;Betrag;Währung".to_owned(),
    ];
    // running balance after each booking, in booking order
    let mut bal = opening;
    let mut after = Vec::with_capacity(bookings.len());
    for b in bookings {
        bal += b.amount;
        after.push(bal);
    }
    let mut txs = Vec::with_capacity(bookings.len());
    for (i, b) in bookings.iter().enumerate().rev() {
        let cp = match b.kind {
            Kind::CashOut => "Bargeldauszahlung".to_owned(),
            Kind::CashIn => "Bargeldeinzahlung".to_owned(),
            Kind::Fee => "ING".to_owned(),
            _ => cp_name(w, b),
        };
        let mut purpose = batch_purpose(w, b);
        if let (Some(m), Some(c)) = (&b.mandate, &b.creditor_id) {
            let _ = write!(purpose, " Mandat: {m} Glaeubiger-ID: {c}");
        }
        if let Some(e) = b.e2e.as_deref().filter(|e| *e != "NOTPROVIDED") {
            let _ = write!(purpose, " Referenz: {e}");
        }
        lines.push(format!(
            "{};{};{};{};{};{};EUR;{};EUR",
            ddmmyyyy(b.date),
            ddmmyyyy(b.valuta),
            clean(&cp, ';'),
            b.kind.ing_text(),
            clean(&purpose, ';'),
            de_grouped(after[i]),
            de_grouped(b.amount)
        ));
        // ING has no reference column (the reference is only part of the purpose text).
        txs.push(TxLoc {
            e2e: None,
            ..loc(b, row_loc(lines.len()), b.amount)
        });
    }
    let mut text = lines.join("\n");
    text.push('\n');
    let sum: i64 = bookings.iter().map(|b| b.amount).sum();
    let st = StmtInfo {
        label: "Umsatzanzeige".to_owned(),
        opening: Some(opening),
        closing: Some(closing),
        entries: bookings.len(),
        sum,
    };
    Rendered {
        bytes: latin1(&text),
        txs,
        statements: vec![st],
        closing_balance: Some(closing),
    }
}

// ---------------------------------------------------------------------------------------------
// MT940

fn mt940_balance(tag: &str, date: NaiveDate, cents: i64) -> String {
    let cd = if cents < 0 { 'D' } else { 'C' };
    format!(
        ":{tag}:{cd}{}EUR{}",
        date.format("%y%m%d"),
        de_plain(cents.abs())
    )
}

/// `:86:` content in German structured form, split into lines of at most 65 characters.
fn mt940_86(w: &World, b: &Booking, prima: u32) -> Vec<String> {
    let fix = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c == '?' || c == '\r' || c == '\n' {
                    '.'
                } else {
                    c
                }
            })
            .collect()
    };
    let mut tags: Vec<String> = Vec::new();
    if let Some(e) = &b.e2e {
        tags.push(format!("EREF+{}", fix(e)));
    }
    if let Some(m) = &b.mandate {
        tags.push(format!("MREF+{}", fix(m)));
    }
    if let Some(c) = &b.creditor_id {
        tags.push(format!("CRED+{}", fix(c)));
    }
    tags.push(format!("SVWZ+{}", fix(&batch_purpose(w, b))));
    let mut subs: Vec<String> = Vec::new();
    for t in tags {
        subs.extend(chunks(&t, 27));
    }
    let mut content = format!("{}?00{}?10{prima}", b.kind.gvc(), b.kind.mt940_text());
    let codes = (20..=29).chain(60..=63);
    for (code, s) in codes.zip(subs.iter()) {
        let _ = write!(content, "?{code}{s}");
    }
    if let Some(p) = w.cp(b).filter(|p| p.iban.is_some()) {
        let _ = write!(content, "?30{}", p.bic);
        let _ = write!(
            content,
            "?31{}",
            p.iban
                .as_ref()
                .map(gs_types::Iban::as_str)
                .unwrap_or_default()
        );
    }
    let name = fix(&cp_name(w, b));
    let parts = chunks(&name, 27);
    if let Some(n) = parts.first() {
        let _ = write!(content, "?32{n}");
    }
    if let Some(n) = parts.get(1) {
        let _ = write!(content, "?33{n}");
    }
    content.push_str("?34997");
    // Lines of 65 characters; a continuation line must not start with ':' or '-' (that would
    // read as a new field or the end of the statement), and no line may start or end with a
    // space (readers trim lines), so such a break moves left.
    let chars: Vec<char> = content.chars().collect();
    let mut lines = Vec::new();
    let mut pos = 0;
    let mut first = true;
    while pos < chars.len() {
        let max = if first { 61 } else { 65 };
        let mut end = (pos + max).min(chars.len());
        while end < chars.len()
            && end > pos + 1
            && (matches!(chars[end], ':' | '-' | ' ') || chars[end - 1] == ' ')
        {
            end -= 1;
        }
        let piece: String = chars[pos..end].iter().collect();
        lines.push(if first { format!(":86:{piece}") } else { piece });
        first = false;
        pos = end;
    }
    lines
}

/// MT940 (`.sta`): one statement per month, ISO-8859-1, CRLF. Bookings in `omit` are left out
/// of the file while the balances still include them (a deliberate reconciliation gap).
pub(crate) fn mt940(
    w: &World,
    acct: usize,
    bookings: &[&Booking],
    omit: &std::collections::BTreeSet<usize>,
) -> Rendered {
    let a = &w.accounts[acct];
    let mut lines: Vec<String> = Vec::new();
    let mut txs = Vec::new();
    let mut statements = Vec::new();
    for m in 0..w.config.months {
        let lo = month_start(w.period_start, m);
        let hi = month_end(w.period_start, m);
        let opening = w.balance_before(acct, lo);
        let closing = w.balance_before(acct, plus_days(hi, 1));
        let s = m as usize + 1;
        lines.push(":20:STARTUMS".to_owned());
        lines.push(format!(":25:{}/{}", a.blz, a.account_number));
        lines.push(format!(":28C:{s:05}/001"));
        lines.push(mt940_balance("60F", lo.pred_opt().unwrap_or(lo), opening));
        let mut entry = 0;
        let mut sum = 0;
        for b in bookings.iter().filter(|b| b.date >= lo && b.date <= hi) {
            if omit.contains(&b.id) {
                continue;
            }
            entry += 1;
            sum += b.amount;
            let cd = if b.amount < 0 { "D" } else { "C" };
            lines.push(format!(
                ":61:{}{}{cd}{}{}NONREF",
                b.valuta.format("%y%m%d"),
                b.date.format("%m%d"),
                de_plain(b.amount.abs()),
                b.kind.swift()
            ));
            txs.push(loc(b, entry_loc(s, entry, None, lines.len()), b.amount));
            let prima = 9000 + (b.id % 999) as u32;
            lines.extend(mt940_86(w, b, prima));
        }
        lines.push(mt940_balance("62F", hi, closing));
        lines.push("-".to_owned());
        statements.push(StmtInfo {
            label: format!("statement {s}"),
            opening: Some(opening),
            closing: Some(closing),
            entries: entry,
            sum,
        });
    }
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    Rendered {
        bytes: latin1(&text),
        txs,
        statements,
        closing_balance: None,
    }
}

// ---------------------------------------------------------------------------------------------
// CAMT.053.001.02

struct Xml {
    lines: Vec<String>,
}

impl Xml {
    fn push(&mut self, depth: usize, s: &str) -> usize {
        self.lines.push(format!("{}{s}", "  ".repeat(depth)));
        self.lines.len()
    }
    fn el(&mut self, depth: usize, tag: &str, text: &str) {
        self.push(depth, &format!("<{tag}>{}</{tag}>", xml_escape(text)));
    }
}

fn camt_party(
    x: &mut Xml,
    d: usize,
    role: &str,
    name: &str,
    iban: &str,
    creditor_id: Option<&str>,
) {
    if name.is_empty() && iban.is_empty() {
        return;
    }
    x.push(d, &format!("<{role}>"));
    if !name.is_empty() {
        x.el(d + 1, "Nm", name);
    }
    if let Some(c) = creditor_id {
        x.push(d + 1, "<Id>");
        x.push(d + 2, "<PrvtId>");
        x.push(d + 3, "<Othr>");
        x.el(d + 4, "Id", c);
        x.push(d + 4, "<SchmeNm>");
        x.el(d + 5, "Prtry", "SEPA");
        x.push(d + 4, "</SchmeNm>");
        x.push(d + 3, "</Othr>");
        x.push(d + 2, "</PrvtId>");
        x.push(d + 1, "</Id>");
    }
    x.push(d, &format!("</{role}>"));
    if !iban.is_empty() {
        x.push(d, &format!("<{role}Acct>"));
        x.push(d + 1, "<Id>");
        x.el(d + 2, "IBAN", iban);
        x.push(d + 1, "</Id>");
        x.push(d, &format!("</{role}Acct>"));
    }
}

#[allow(clippy::too_many_arguments)]
fn camt_txdtls(
    x: &mut Xml,
    d: usize,
    e2e: Option<&str>,
    mandate: Option<&str>,
    amount: Option<i64>,
    (dbtr, dbtr_iban, dbtr_bic): (&str, &str, &str),
    (cdtr, cdtr_iban, cdtr_bic): (&str, &str, &str),
    creditor_id: Option<&str>,
    purpose: &str,
) {
    x.push(d, "<TxDtls>");
    x.push(d + 1, "<Refs>");
    if let Some(e) = e2e {
        x.el(d + 2, "EndToEndId", e);
    }
    if let Some(m) = mandate {
        x.el(d + 2, "MndtId", m);
    }
    x.push(d + 1, "</Refs>");
    if let Some(a) = amount {
        x.push(d + 1, "<AmtDtls>");
        x.push(d + 2, "<TxAmt>");
        x.push(d + 3, &format!("<Amt Ccy=\"EUR\">{}</Amt>", xml_amount(a)));
        x.push(d + 2, "</TxAmt>");
        x.push(d + 1, "</AmtDtls>");
    }
    if !(dbtr.is_empty() && cdtr.is_empty() && dbtr_iban.is_empty() && cdtr_iban.is_empty()) {
        x.push(d + 1, "<RltdPties>");
        camt_party(x, d + 2, "Dbtr", dbtr, dbtr_iban, None);
        camt_party(x, d + 2, "Cdtr", cdtr, cdtr_iban, creditor_id);
        x.push(d + 1, "</RltdPties>");
    }
    if !dbtr_bic.is_empty() || !cdtr_bic.is_empty() {
        x.push(d + 1, "<RltdAgts>");
        for (tag, bic) in [("DbtrAgt", dbtr_bic), ("CdtrAgt", cdtr_bic)] {
            if !bic.is_empty() {
                x.push(d + 2, &format!("<{tag}>"));
                x.push(d + 3, "<FinInstnId>");
                x.el(d + 4, "BIC", bic);
                x.push(d + 3, "</FinInstnId>");
                x.push(d + 2, &format!("</{tag}>"));
            }
        }
        x.push(d + 1, "</RltdAgts>");
    }
    if !purpose.is_empty() {
        x.push(d + 1, "<RmtInf>");
        for part in chunks(purpose, 140) {
            x.el(d + 2, "Ustrd", &part);
        }
        x.push(d + 1, "</RmtInf>");
    }
    x.push(d, "</TxDtls>");
}

fn camt_balance(x: &mut Xml, code: &str, cents: i64, date: NaiveDate) {
    x.push(3, "<Bal>");
    x.push(4, "<Tp>");
    x.push(5, "<CdOrPrtry>");
    x.el(6, "Cd", code);
    x.push(5, "</CdOrPrtry>");
    x.push(4, "</Tp>");
    x.push(4, &format!("<Amt Ccy=\"EUR\">{}</Amt>", xml_amount(cents)));
    x.el(4, "CdtDbtInd", if cents < 0 { "DBIT" } else { "CRDT" });
    x.push(4, "<Dt>");
    x.el(5, "Dt", &date.format("%Y-%m-%d").to_string());
    x.push(4, "</Dt>");
    x.push(3, "</Bal>");
}

/// A camt.053.001.02 document with one `Stmt` per month in `month_indices`.
#[allow(clippy::many_single_char_names)] // w/a/x/s/b: world, account, xml, statement, booking
pub(crate) fn camt053(
    w: &World,
    acct: usize,
    bookings: &[&Booking],
    month_indices: &[u32],
    msg_id: &str,
) -> Rendered {
    let a = &w.accounts[acct];
    let holder = w.holder(acct);
    let own_iban = w.iban(acct);
    let created = plus_days(
        month_end(w.period_start, month_indices.last().copied().unwrap_or(0)),
        1,
    );
    let cre = format!("{}T06:12:31.0+02:00", created.format("%Y-%m-%d"));
    let mut x = Xml {
        lines: vec!["<?xml version=\"1.0\" encoding=\"UTF-8\"?>".to_owned()],
    };
    x.push(0, "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02 camt.053.001.02.xsd\">");
    x.push(1, "<BkToCstmrStmt>");
    x.push(2, "<GrpHdr>");
    x.el(3, "MsgId", msg_id);
    x.el(3, "CreDtTm", &cre);
    x.push(3, "<MsgPgntn>");
    x.el(4, "PgNb", "1");
    x.el(4, "LastPgInd", "true");
    x.push(3, "</MsgPgntn>");
    x.push(2, "</GrpHdr>");
    let mut txs = Vec::new();
    let mut statements = Vec::new();
    for (si, &m) in month_indices.iter().enumerate() {
        let s = si + 1;
        let lo = month_start(w.period_start, m);
        let hi = month_end(w.period_start, m);
        let opening = w.balance_before(acct, lo);
        let closing = w.balance_before(acct, plus_days(hi, 1));
        x.push(2, "<Stmt>");
        x.el(
            3,
            "Id",
            &format!(
                "{}{:02}{}",
                lo.year(),
                lo.month(),
                own_iban.get(12..).unwrap_or("")
            ),
        );
        x.el(3, "ElctrncSeqNb", &(m + 1).to_string());
        x.el(3, "LglSeqNb", &(m + 1).to_string());
        x.el(
            3,
            "CreDtTm",
            &format!("{}T06:12:31.0+02:00", plus_days(hi, 1).format("%Y-%m-%d")),
        );
        x.push(3, "<FrToDt>");
        x.el(
            4,
            "FrDtTm",
            &format!("{}T00:00:00.0+01:00", lo.format("%Y-%m-%d")),
        );
        x.el(
            4,
            "ToDtTm",
            &format!("{}T23:59:59.0+01:00", hi.format("%Y-%m-%d")),
        );
        x.push(3, "</FrToDt>");
        x.push(3, "<Acct>");
        x.push(4, "<Id>");
        x.el(5, "IBAN", &own_iban);
        x.push(4, "</Id>");
        x.el(4, "Ccy", "EUR");
        x.push(4, "<Ownr>");
        x.el(5, "Nm", &holder.name);
        x.push(4, "</Ownr>");
        x.push(4, "<Svcr>");
        x.push(5, "<FinInstnId>");
        x.el(6, "BIC", a.bic);
        x.el(6, "Nm", a.bank);
        x.push(5, "</FinInstnId>");
        x.push(4, "</Svcr>");
        x.push(3, "</Acct>");
        camt_balance(&mut x, "OPBD", opening, lo.pred_opt().unwrap_or(lo));
        camt_balance(&mut x, "CLBD", closing, hi);
        let mut entry = 0;
        let mut sum = 0;
        let mut count = 0;
        for b in bookings.iter().filter(|b| b.date >= lo && b.date <= hi) {
            entry += 1;
            sum += b.amount;
            let line = x.push(3, "<Ntry>");
            x.push(
                4,
                &format!("<Amt Ccy=\"EUR\">{}</Amt>", xml_amount(b.amount)),
            );
            x.el(4, "CdtDbtInd", if b.amount < 0 { "DBIT" } else { "CRDT" });
            x.el(4, "Sts", "BOOK");
            x.push(4, "<BookgDt>");
            x.el(5, "Dt", &b.date.format("%Y-%m-%d").to_string());
            x.push(4, "</BookgDt>");
            x.push(4, "<ValDt>");
            x.el(5, "Dt", &b.valuta.format("%Y-%m-%d").to_string());
            x.push(4, "</ValDt>");
            x.el(
                4,
                "AcctSvcrRef",
                &format!("{}{:06}", b.date.format("%Y%m%d"), b.id),
            );
            let (domn, fmly, sub) = b.kind.bank_tx_code();
            x.push(4, "<BkTxCd>");
            x.push(5, "<Domn>");
            x.el(6, "Cd", domn);
            x.push(6, "<Fmly>");
            x.el(7, "Cd", fmly);
            x.el(7, "SubFmlyCd", sub);
            x.push(6, "</Fmly>");
            x.push(5, "</Domn>");
            x.push(5, "<Prtry>");
            x.el(
                6,
                "Cd",
                &format!("{}+{}+{}", b.kind.swift(), b.kind.gvc(), 9000 + b.id % 999),
            );
            x.el(6, "Issr", "ZKA");
            x.push(5, "</Prtry>");
            x.push(4, "</BkTxCd>");
            x.push(4, "<NtryDtls>");
            let own = (holder.name.as_str(), own_iban.as_str(), a.bic);
            if b.details.is_empty() {
                count += 1;
                let name = cp_name(w, b);
                let iban = cp_iban(w, b);
                let bic = cp_bic(w, b);
                let other = (name.as_str(), iban.as_str(), bic.as_str());
                let (dbtr, cdtr) = match b.kind {
                    Kind::CashIn | Kind::CashOut | Kind::Fee => (("", "", ""), ("", "", "")),
                    _ if b.amount < 0 => (own, other),
                    _ => (other, own),
                };
                camt_txdtls(
                    &mut x,
                    5,
                    b.e2e.as_deref(),
                    b.mandate.as_deref(),
                    None,
                    dbtr,
                    cdtr,
                    b.creditor_id.as_deref(),
                    &b.purpose,
                );
                txs.push(loc(b, entry_loc(s, entry, None, line), b.amount));
            } else {
                x.push(5, "<Btch>");
                x.el(6, "NbOfTxs", &b.details.len().to_string());
                x.push(5, "</Btch>");
                for (di, d) in b.details.iter().enumerate() {
                    count += 1;
                    let p = w.parties.get(d.cp);
                    let name = p.map(|p| p.name.clone()).unwrap_or_default();
                    let iban = p
                        .and_then(|p| p.iban.as_ref())
                        .map(|i| i.as_str().to_owned())
                        .unwrap_or_default();
                    let bic = p.map(|p| p.bic.clone()).unwrap_or_default();
                    camt_txdtls(
                        &mut x,
                        5,
                        Some(&d.e2e),
                        None,
                        Some(d.amount),
                        own,
                        (name.as_str(), iban.as_str(), bic.as_str()),
                        None,
                        &d.purpose,
                    );
                    txs.push(TxLoc {
                        booking: b.id,
                        locator: entry_loc(s, entry, Some(di + 1), line),
                        amount: d.amount,
                        date: b.date,
                        e2e: Some(d.e2e.clone()),
                    });
                }
            }
            x.push(4, "</NtryDtls>");
            x.el(4, "AddtlNtryInf", b.kind.mt940_text());
            x.push(3, "</Ntry>");
        }
        x.push(2, "</Stmt>");
        statements.push(StmtInfo {
            label: format!("statement {s}"),
            opening: Some(opening),
            closing: Some(closing),
            entries: count,
            sum,
        });
    }
    x.push(1, "</BkToCstmrStmt>");
    x.push(0, "</Document>");
    let mut text = x.lines.join("\n");
    text.push('\n');
    Rendered {
        bytes: text.into_bytes(),
        txs,
        statements,
        closing_balance: None,
    }
}

// ---------------------------------------------------------------------------------------------
// DATEV EXTF Buchungsstapel

const DATEV_COLUMNS: &[&str] = &[
    "Umsatz (ohne Soll/Haben-Kz)",
    "Soll/Haben-Kennzeichen",
    "WKZ Umsatz",
    "Kurs",
    "Basis-Umsatz",
    "WKZ Basis-Umsatz",
    "Konto",
    "Gegenkonto (ohne BU-Schlüssel)",
    "BU-Schlüssel",
    "Belegdatum",
    "Belegfeld 1",
    "Belegfeld 2",
    "Skonto",
    "Buchungstext",
    "Postensperre",
    "Diverse Adressnummer",
    "Geschäftspartnerbank",
    "Sachverhalt",
    "Zinssperre",
    "Beleglink",
    "Beleginfo - Art 1",
    "Beleginfo - Inhalt 1",
    "Beleginfo - Art 2",
    "Beleginfo - Inhalt 2",
    "Beleginfo - Art 3",
    "Beleginfo - Inhalt 3",
    "Beleginfo - Art 4",
    "Beleginfo - Inhalt 4",
    "Beleginfo - Art 5",
    "Beleginfo - Inhalt 5",
    "Beleginfo - Art 6",
    "Beleginfo - Inhalt 6",
    "Beleginfo - Art 7",
    "Beleginfo - Inhalt 7",
    "Beleginfo - Art 8",
    "Beleginfo - Inhalt 8",
    "KOST1 - Kostenstelle",
    "KOST2 - Kostenstelle",
    "Kost-Menge",
    "EU-Land u. UStID (Bestimmung)",
    "EU-Steuersatz (Bestimmung)",
    "Abw. Versteuerungsart",
    "Sachverhalt L+L",
    "Funktionsergänzung L+L",
    "BU 49 Hauptfunktionstyp",
    "BU 49 Hauptfunktionsnummer",
    "BU 49 Funktionsergänzung",
    "Zusatzinformation - Art 1",
    "Zusatzinformation- Inhalt 1",
    "Zusatzinformation - Art 2",
    "Zusatzinformation- Inhalt 2",
    "Zusatzinformation - Art 3",
    "Zusatzinformation- Inhalt 3",
    "Zusatzinformation - Art 4",
    "Zusatzinformation- Inhalt 4",
    "Zusatzinformation - Art 5",
    "Zusatzinformation- Inhalt 5",
    "Zusatzinformation - Art 6",
    "Zusatzinformation- Inhalt 6",
    "Zusatzinformation - Art 7",
    "Zusatzinformation- Inhalt 7",
    "Zusatzinformation - Art 8",
    "Zusatzinformation- Inhalt 8",
    "Zusatzinformation - Art 9",
    "Zusatzinformation- Inhalt 9",
    "Zusatzinformation - Art 10",
    "Zusatzinformation- Inhalt 10",
    "Zusatzinformation - Art 11",
    "Zusatzinformation- Inhalt 11",
    "Zusatzinformation - Art 12",
    "Zusatzinformation- Inhalt 12",
    "Zusatzinformation - Art 13",
    "Zusatzinformation- Inhalt 13",
    "Zusatzinformation - Art 14",
    "Zusatzinformation- Inhalt 14",
    "Zusatzinformation - Art 15",
    "Zusatzinformation- Inhalt 15",
    "Zusatzinformation - Art 16",
    "Zusatzinformation- Inhalt 16",
    "Zusatzinformation - Art 17",
    "Zusatzinformation- Inhalt 17",
    "Zusatzinformation - Art 18",
    "Zusatzinformation- Inhalt 18",
    "Zusatzinformation - Art 19",
    "Zusatzinformation- Inhalt 19",
    "Zusatzinformation - Art 20",
    "Zusatzinformation- Inhalt 20",
    "Stück",
    "Gewicht",
    "Zahlweise",
    "Forderungsart",
    "Veranlagungsjahr",
    "Zugeordnete Fälligkeit",
    "Skontotyp",
    "Auftragsnummer",
    "Buchungstyp",
    "USt-Schlüssel (Anzahlungen)",
    "EU-Land (Anzahlungen)",
    "Sachverhalt L+L (Anzahlungen)",
    "EU-Steuersatz (Anzahlungen)",
    "Erlöskonto (Anzahlungen)",
    "Herkunft-Kz",
    "Buchungs GUID",
    "KOST-Datum",
    "SEPA-Mandatsreferenz",
    "Skontosperre",
    "Gesellschaftername",
    "Beteiligtennummer",
    "Identifikationsnummer",
    "Zeichnernummer",
    "Postensperre bis",
    "Bezeichnung SoBil-Sachverhalt",
    "Kennzeichen SoBil-Buchung",
    "Festschreibung",
    "Leistungsdatum",
    "Datum Zuord. Steuerperiode",
    "Fälligkeit",
    "Generalumkehr (GU)",
    "Steuersatz",
    "Land",
    "Abrechnungsreferenz",
    "BVV-Position",
    "EU-Land u. UStID (Ursprung)",
    "EU-Steuersatz (Ursprung)",
    "Abw. Skontokonto",
];

fn datev_contra(b: &Booking, purpose: &str) -> &'static str {
    let p = purpose.to_lowercase();
    match b.kind {
        Kind::CashOut | Kind::CashIn => "1000",
        Kind::Fee => "4970",
        Kind::StandingOrder => "4210",
        Kind::DirectDebit => "4240",
        Kind::BatchOut => "4980",
        _ if p.contains("mitgliedsbeitrag") => "8110",
        _ if b.amount > 0 => "8200",
        _ if p.contains("rechnung") => "4600",
        _ => "4900",
    }
}

/// DATEV EXTF Buchungsstapel (format 700, category 21) of the bookings of one year.
pub(crate) fn datev(w: &World, _acct: usize, bookings: &[&Booking], year: i32) -> Rendered {
    let end = w
        .period_end
        .min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(w.period_end));
    let created = plus_days(end, 5);
    let from = NaiveDate::from_ymd_opt(year, 1, 1)
        .unwrap_or(w.period_start)
        .max(w.period_start);
    let mut lines = vec![
        format!(
            "\"EXTF\";700;21;\"Buchungsstapel\";13;{}120000000;;\"RE\";\"\";\"\";29098;55003;{year}0101;4;{};{};\"Buchungsstapel {}\";\"WD\";1;0;0;\"EUR\";;\"\";;;\"03\";;;\"\";\"\"",
            created.format("%Y%m%d"),
            from.format("%Y%m%d"),
            end.format("%Y%m%d"),
            year
        ),
        DATEV_COLUMNS.join(";"),
    ];
    let empty_tail = ";".repeat(DATEV_COLUMNS.len() - 14);
    let mut txs = Vec::new();
    let mut beleg = 0;
    let mut push_row =
        |lines: &mut Vec<String>, amount: i64, b: &Booking, text: &str, contra: &str| -> usize {
            beleg += 1;
            let sh = if amount >= 0 { "S" } else { "H" };
            let text: String = clean(text, '"').chars().take(60).collect();
            lines.push(format!(
            "{};\"{sh}\";\"EUR\";;;;1200;{contra};;{};\"B{beleg:05}\";\"\";;\"{text}\"{empty_tail}",
            de_plain(amount.abs()),
            b.date.format("%d%m"),
        ));
            lines.len()
        };
    for b in bookings.iter().filter(|b| b.date.year() == year) {
        if b.details.is_empty() {
            let name = cp_name(w, b);
            let text = if name.is_empty() {
                b.purpose.clone()
            } else {
                format!("{name} {}", b.purpose)
            };
            let contra = datev_contra(b, &b.purpose);
            let row = push_row(&mut lines, b.amount, b, &text, contra);
            // DATEV has no end-to-end reference field.
            txs.push(TxLoc {
                e2e: None,
                ..loc(b, row_loc(row), b.amount)
            });
        } else {
            for d in &b.details {
                let name = w
                    .parties
                    .get(d.cp)
                    .map(|p| p.name.clone())
                    .unwrap_or_default();
                let row = push_row(
                    &mut lines,
                    d.amount,
                    b,
                    &format!("{name} {}", d.purpose),
                    "4980",
                );
                txs.push(TxLoc {
                    booking: b.id,
                    locator: row_loc(row),
                    amount: d.amount,
                    date: b.date,
                    e2e: None,
                });
            }
        }
    }
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    Rendered {
        bytes: cp1252(&text),
        txs,
        statements: Vec::new(),
        closing_balance: None,
    }
}
