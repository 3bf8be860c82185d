//! Binary document formats: the bank's production-order answer (`.xlsx`), the PDF statement and
//! letter (lopdf), zip bundles with fixed timestamps.

use std::io::{Cursor, Write};

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use gs_types::Locator;
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use crate::model::{Booking, Kind, World};
use crate::render::{Rendered, StmtInfo, TxLoc};
use crate::util::{cp1252, ddmmyyyy, de_grouped, month_end, month_start, plus_days};

/// Sheet name of the production-order answer.
pub(crate) const XLSX_SHEET: &str = "Umsätze";

fn excel_date(d: NaiveDate) -> anyhow::Result<ExcelDateTime> {
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
        .map_err(|e| anyhow::anyhow!("excel date: {e}"))
}

/// Workbook properties with a fixed creation time, so that the file bytes depend only on the seed.
fn properties(title: &str, author: &str, created: NaiveDate) -> anyhow::Result<DocProperties> {
    let dt = excel_date(created)?
        .and_hms(9, 30, 0)
        .map_err(|e| anyhow::anyhow!("excel time: {e}"))?;
    Ok(DocProperties::new()
        .set_title(title)
        .set_author(author)
        .set_company(author)
        .set_creation_datetime(&dt))
}

/// One ledger row of the production-order answer.
pub(crate) struct LedgerRow {
    pub date: NaiveDate,
    pub valuta: NaiveDate,
    pub sender: String,
    pub sender_iban: String,
    pub receiver: String,
    pub receiver_iban: String,
    pub amount: i64,
    pub purpose: String,
}

/// Writes the ledger workbook (sheet "Umsätze": title rows 1-3, header in row 5, data from 6;
/// sheet "Hinweise": free text). Returns the bytes.
pub(crate) fn ledger_xlsx(
    title: &[String],
    rows: &[LedgerRow],
    notes: &[&str],
    author: &str,
    created: NaiveDate,
) -> anyhow::Result<Vec<u8>> {
    let mut wb = Workbook::new();
    wb.set_properties(&properties("Auskunft Kontoumsätze", author, created)?);
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("dd.mm.yyyy");
    let money_fmt = Format::new().set_num_format("#,##0.00");
    let ws = wb.add_worksheet();
    ws.set_name(XLSX_SHEET)?;
    for (i, t) in title.iter().take(3).enumerate() {
        if i == 0 {
            ws.write_string_with_format(i as u32, 0, t, &bold)?;
        } else {
            ws.write_string(i as u32, 0, t)?;
        }
    }
    let header = [
        "Buchungsdatum",
        "Wertstellung",
        "Auftraggeber",
        "IBAN Auftraggeber",
        "Empfänger",
        "IBAN Empfänger",
        "Betrag",
        "Währung",
        "Verwendungszweck",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(4, c as u16, *h, &bold)?;
    }
    for (c, width) in [12.0, 12.0, 32.0, 26.0, 32.0, 26.0, 12.0, 8.0, 60.0]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *width)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = 5 + i as u32;
        ws.write_datetime_with_format(row, 0, &excel_date(r.date)?, &date_fmt)?;
        ws.write_datetime_with_format(row, 1, &excel_date(r.valuta)?, &date_fmt)?;
        ws.write_string(row, 2, &r.sender)?;
        ws.write_string(row, 3, &r.sender_iban)?;
        ws.write_string(row, 4, &r.receiver)?;
        ws.write_string(row, 5, &r.receiver_iban)?;
        ws.write_number_with_format(row, 6, r.amount as f64 / 100.0, &money_fmt)?;
        ws.write_string(row, 7, "EUR")?;
        ws.write_string(row, 8, &r.purpose)?;
    }
    let notes_ws = wb.add_worksheet();
    notes_ws.set_name("Hinweise")?;
    for (i, n) in notes.iter().enumerate() {
        notes_ws.write_string(i as u32, 0, *n)?;
    }
    Ok(wb.save_to_buffer()?)
}

/// The production-order answer for one evidence account: ledger rows, both sides named.
pub(crate) fn production_order(
    w: &World,
    acct: usize,
    bookings: &[&Booking],
) -> anyhow::Result<Rendered> {
    let holder = w.holder(acct);
    let own_iban = w.iban(acct);
    let mut rows = Vec::with_capacity(bookings.len());
    let mut txs = Vec::with_capacity(bookings.len());
    for b in bookings {
        let (cp, cp_iban) = match (w.cp(b), b.kind) {
            (Some(p), _) => (
                p.name.clone(),
                p.iban
                    .as_ref()
                    .map(|i| i.as_str().to_owned())
                    .unwrap_or_default(),
            ),
            (None, Kind::CashOut) => ("Bargeldauszahlung Geldautomat".to_owned(), String::new()),
            (None, Kind::CashIn) => ("Bareinzahlung".to_owned(), String::new()),
            (None, _) => ("N26 Bank SE".to_owned(), String::new()),
        };
        let (sender, sender_iban, receiver, receiver_iban) = if b.amount < 0 {
            (holder.name.clone(), own_iban.clone(), cp, cp_iban)
        } else {
            (cp, cp_iban, holder.name.clone(), own_iban.clone())
        };
        rows.push(LedgerRow {
            date: b.date,
            valuta: b.valuta,
            sender,
            sender_iban,
            receiver,
            receiver_iban,
            amount: b.amount.abs(),
            purpose: b.purpose.clone(),
        });
        let locator = Locator::Row {
            sheet: Some(XLSX_SHEET.to_owned()),
            row: 5 + rows.len() as u32,
        }
        .to_string();
        txs.push(TxLoc {
            booking: b.id,
            locator,
            amount: b.amount.abs(),
            date: b.date,
            e2e: None,
        });
    }
    let title = vec![
        "N26 Bank SE – Auskunft zu Kontoumsätzen (Beschluss AG Musterstadt, Az. 412 Js 1187/25)"
            .to_owned(),
        format!("Konto: {own_iban}   Inhaber: {}", holder.name),
        format!(
            "Zeitraum: {} – {}",
            ddmmyyyy(w.period_start),
            ddmmyyyy(w.period_end)
        ),
    ];
    let notes = [
        "Hinweise zur Auskunft",
        "Die Umsätze werden je Buchung mit Auftraggeber und Empfänger aufgeführt; Beträge sind stets positiv.",
        "Die Richtung ergibt sich aus den Spalten Auftraggeber und Empfänger.",
        "Vorgemerkte Umsätze sind nicht enthalten.",
        "Rückfragen bitte unter Angabe des Aktenzeichens an die Rechtsabteilung.",
    ];
    let created = plus_days(w.period_end, 14);
    let bytes = ledger_xlsx(&title, &rows, &notes, "N26 Bank SE", created)?;
    Ok(Rendered {
        bytes,
        txs,
        statements: Vec::new(),
        closing_balance: None,
    })
}

// ---------------------------------------------------------------------------------------------
// PDF

/// Helvetica glyph widths (per 1000 em) for right alignment of amounts.
fn helvetica_width(text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| match c {
            '.' | ',' | ' ' => 278,
            '-' => 333,
            '+' => 584,
            'H' => 722,
            'S' => 667,
            _ => 556, // digits and anything else
        })
        .sum();
    units as f32 * size / 1000.0
}

#[derive(Clone)]
struct Cell {
    x: f32,
    text: String,
    bold: bool,
    right: bool,
}

fn cell(x: f32, text: impl Into<String>) -> Cell {
    Cell {
        x,
        text: text.into(),
        bold: false,
        right: false,
    }
}

fn right(text: impl Into<String>) -> Cell {
    Cell {
        x: 545.0,
        text: text.into(),
        bold: false,
        right: true,
    }
}

const SIZE: f32 = 9.0;
const TOP_CONTENT: f32 = 684.0;
const LEADING: f32 = 12.0;
const CAPACITY: usize = 53;

fn hs(cents: i64) -> String {
    format!(
        "{} {}",
        de_grouped(cents.abs()),
        if cents < 0 { "S" } else { "H" }
    )
}

fn signed_pdf(cents: i64) -> String {
    format!(
        "{}{}",
        de_grouped(cents.abs()),
        if cents < 0 { "-" } else { "+" }
    )
}

fn content_ops(header: &[Vec<Cell>], rows: &[Vec<Cell>]) -> Vec<Operation> {
    let mut ops = Vec::new();
    let mut emit = |y: f32, c: &Cell, size: f32| {
        let x = if c.right {
            c.x - helvetica_width(&c.text, size)
        } else {
            c.x
        };
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new(
            "Tf",
            vec![if c.bold { "F2" } else { "F1" }.into(), size.into()],
        ));
        ops.push(Operation::new(
            "Td",
            vec![((x * 100.0).round() / 100.0).into(), y.into()],
        ));
        ops.push(Operation::new(
            "Tj",
            vec![Object::string_literal(cp1252(&c.text))],
        ));
        ops.push(Operation::new("ET", vec![]));
    };
    let header_y = [800.0, 782.0, 768.0, 754.0, 740.0, 726.0, 700.0];
    for (i, line) in header.iter().enumerate() {
        let y = header_y.get(i).copied().unwrap_or(700.0);
        let size = match i {
            0 => 14.0,
            1 => 11.0,
            _ => SIZE,
        };
        for c in line {
            emit(y, c, size);
        }
    }
    for (i, line) in rows.iter().enumerate() {
        let y = TOP_CONTENT - LEADING * i as f32;
        for c in line {
            emit(y, c, SIZE);
        }
    }
    ops
}

/// Builds a PDF from pages of header lines and body lines (one `BT … Tj ET` per cell).
/// Header lines and body lines of one page.
type PageLines = (Vec<Vec<Cell>>, Vec<Vec<Cell>>);

fn build_pdf(pages: &[PageLines], title: &str) -> anyhow::Result<Vec<u8>> {
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let f1 = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let f2 = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica-Bold", "Encoding" => "WinAnsiEncoding",
    });
    let resources =
        doc.add_object(dictionary! { "Font" => dictionary! { "F1" => f1, "F2" => f2 } });
    let mut kids = Vec::new();
    for (header, rows) in pages {
        let content = Content {
            operations: content_ops(header, rows),
        };
        let stream = Stream::new(
            dictionary! {},
            content.encode().context("encode PDF content")?,
        );
        let content_id = doc.add_object(stream);
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        });
        kids.push(Object::from(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    let info = doc.add_object(dictionary! {
        "Title" => Object::string_literal(cp1252(title)),
        "Producer" => Object::string_literal("Kontoauszugsdrucker 4.2"),
        "CreationDate" => Object::string_literal("D:20250401080000+02'00'"),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).context("write PDF")?;
    Ok(out)
}

/// The PDF "Kontoauszug" of one month of an account, paginated with carry-over lines.
pub(crate) fn pdf_statement(
    w: &World,
    acct: usize,
    bookings: &[&Booking],
    month: u32,
) -> anyhow::Result<Rendered> {
    let a = &w.accounts[acct];
    let holder = w.holder(acct);
    let lo = month_start(w.period_start, month);
    let hi = month_end(w.period_start, month);
    let opening = w.balance_before(acct, lo);
    let closing = w.balance_before(acct, plus_days(hi, 1));
    let month_bookings: Vec<&&Booking> = bookings
        .iter()
        .filter(|b| b.date >= lo && b.date <= hi)
        .collect();

    // Body lines per page, plus (booking, page, line) of each booking's first line.
    let mut pages: Vec<Vec<Vec<Cell>>> = vec![vec![vec![
        cell(
            170.0,
            format!("Kontostand am {}", ddmmyyyy(lo.pred_opt().unwrap_or(lo))),
        ),
        right(hs(opening)),
    ]]];
    let mut placed: Vec<(usize, usize, usize)> = Vec::new();
    let mut balance = opening;
    for b in &month_bookings {
        let mut block = vec![vec![
            cell(50.0, ddmmyyyy(b.date)),
            cell(110.0, ddmmyyyy(b.valuta)),
            cell(170.0, b.kind.pdf_text()),
            right(signed_pdf(b.amount)),
        ]];
        if let Some(p) = w.cp(b) {
            block.push(vec![cell(170.0, p.name.clone())]);
            if let Some(iban) = &p.iban {
                block.push(vec![cell(170.0, format!("IBAN: {}", iban.grouped()))]);
            }
        }
        let mut purpose = b.purpose.clone();
        if let Some(e) = b.e2e.as_deref().filter(|e| *e != "NOTPROVIDED") {
            purpose.push_str(" EREF: ");
            purpose.push_str(e);
        }
        let purpose: String = purpose.chars().take(80).collect();
        if block.len() < 4 {
            block.push(vec![cell(170.0, purpose)]);
        }
        let page_len = pages.last().map_or(0, Vec::len);
        if page_len + block.len() + 1 > CAPACITY {
            if let Some(p) = pages.last_mut() {
                p.push(vec![cell(170.0, "Übertrag"), right(hs(balance))]);
            }
            pages.push(vec![vec![cell(170.0, "Übertrag"), right(hs(balance))]]);
        }
        let page_no = pages.len();
        let line_no = pages.last().map_or(0, Vec::len) + 8; // 7 header lines above the body
        placed.push((b.id, page_no, line_no));
        if let Some(p) = pages.last_mut() {
            p.extend(block);
        }
        balance += b.amount;
    }
    if pages.last().map_or(0, Vec::len) + 1 > CAPACITY {
        if let Some(p) = pages.last_mut() {
            p.push(vec![cell(170.0, "Übertrag"), right(hs(balance))]);
        }
        pages.push(vec![vec![cell(170.0, "Übertrag"), right(hs(balance))]]);
    }
    if let Some(p) = pages.last_mut() {
        p.push(vec![
            cell(170.0, format!("Kontostand am {}", ddmmyyyy(hi))),
            right(hs(closing)),
        ]);
    }
    let n_pages = pages.len();
    let iban = holder
        .iban
        .as_ref()
        .map(gs_types::Iban::grouped)
        .unwrap_or_default();
    let full: Vec<PageLines> = pages
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let header = vec![
                vec![Cell {
                    bold: true,
                    ..cell(50.0, a.bank)
                }],
                vec![Cell {
                    bold: true,
                    ..cell(
                        50.0,
                        format!("Kontoauszug Nr. {}/{}", lo.month(), lo.year()),
                    )
                }],
                vec![cell(50.0, format!("Blatt {} von {n_pages}", i + 1))],
                vec![cell(50.0, format!("Kontoinhaber: {}", holder.name))],
                vec![cell(50.0, format!("IBAN: {iban}   BIC: {}", a.bic))],
                vec![cell(
                    50.0,
                    format!("Erstellt am {}", ddmmyyyy(plus_days(hi, 1))),
                )],
                vec![
                    Cell {
                        bold: true,
                        ..cell(50.0, "Buchungstag")
                    },
                    Cell {
                        bold: true,
                        ..cell(110.0, "Wert")
                    },
                    Cell {
                        bold: true,
                        ..cell(170.0, "Erläuterung / Verwendungszweck")
                    },
                    Cell {
                        bold: true,
                        ..right("Betrag EUR")
                    },
                ],
            ];
            (header, body)
        })
        .collect();
    let bytes = build_pdf(&full, &format!("Kontoauszug {}/{}", lo.month(), lo.year()))?;
    let mut txs = Vec::new();
    for (id, page, line) in placed {
        if let Some(b) = month_bookings.iter().find(|b| b.id == id) {
            let locator = Locator::Page {
                page: page as u32,
                line: line as u32,
            }
            .to_string();
            txs.push(TxLoc {
                booking: id,
                locator,
                amount: b.amount,
                date: b.date,
                e2e: crate::render::stated_e2e(b.e2e.as_deref()),
            });
        }
    }
    let sum = month_bookings.iter().map(|b| b.amount).sum();
    let st = StmtInfo {
        label: format!("Kontoauszug {}/{}", lo.month(), lo.year()),
        opening: Some(opening),
        closing: Some(closing),
        entries: month_bookings.len(),
        sum,
    };
    Ok(Rendered {
        bytes,
        txs,
        statements: vec![st],
        closing_balance: Some(closing),
    })
}

/// Number of pages of a rendered statement PDF (for tests).
#[cfg(test)]
pub(crate) fn pdf_pages(bytes: &[u8]) -> usize {
    Document::load_mem(bytes).map_or(0, |d| d.get_pages().len())
}

/// A one-page letter from a bank without any transactions.
pub(crate) fn pdf_letter(
    bank: &str,
    to: &str,
    date: NaiveDate,
    body: &[&str],
) -> anyhow::Result<Vec<u8>> {
    let header = vec![
        vec![Cell {
            bold: true,
            ..cell(50.0, bank)
        }],
        vec![cell(50.0, "Rechtsabteilung – Auskunftsersuchen")],
        vec![cell(50.0, format!("An: {to}"))],
        vec![cell(50.0, format!("Datum: {}", ddmmyyyy(date)))],
    ];
    let rows: Vec<Vec<Cell>> = body.iter().map(|l| vec![cell(50.0, *l)]).collect();
    build_pdf(&[(header, rows)], "Schreiben")
}

// ---------------------------------------------------------------------------------------------
// zip

/// A deflated zip with a fixed entry timestamp (reproducible bytes).
pub(crate) fn zip_bundle(
    members: &[(String, Vec<u8>)],
    stamp: NaiveDate,
) -> anyhow::Result<Vec<u8>> {
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let dt = zip::DateTime::from_date_and_time(
        stamp.year() as u16,
        stamp.month() as u8,
        stamp.day() as u8,
        7,
        0,
        0,
    )
    .map_err(|e| anyhow::anyhow!("zip time: {e}"))?;
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(dt)
        .unix_permissions(0o644);
    for (name, bytes) in members {
        zw.start_file(name.as_str(), opts)?;
        zw.write_all(bytes)?;
    }
    Ok(zw.finish()?.into_inner())
}
