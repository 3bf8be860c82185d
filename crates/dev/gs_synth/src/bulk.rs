//! Large inputs for benchmarks: a streamed Sparkasse CSV, a big ledger workbook, a folder of
//! many small files of mixed formats.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::NaiveDate;
use gs_types::Iban;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::Config;
use crate::docs::{self, LedgerRow};
use crate::model;
use crate::names;
use crate::render;
use crate::util::{de_plain, plus_days};

/// What a bulk writer wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BulkSummary {
    /// Data rows (bookings) written.
    pub rows: usize,
    /// Sum of the amounts in cents (signed for the bank CSV, absolute for the ledger workbook).
    pub sum_cents: i64,
    /// File size in bytes.
    pub bytes: u64,
}

/// What [`write_mixed_folder`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MixedSummary {
    /// Files written.
    pub files: usize,
    /// Transactions in the readable files (batch details counted singly).
    pub transactions: usize,
    /// Files per format name.
    pub by_format: BTreeMap<String, usize>,
}

const BULK_HEADER: &str = "\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Glaeubiger ID\";\"Mandatsreferenz\";\"Kundenreferenz (End-to-End)\";\"Sammlerreferenz\";\"Lastschrift Ursprungsbetrag\";\"Auslagenersatz Ruecklastschrift\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\n";

/// Writes a Sparkasse CSV-CAMT V2 file (Windows-1252, newest first) with `rows` bookings,
/// streaming: memory use does not grow with `rows`.
pub fn write_bulk_bank_csv(path: &Path, rows: usize, seed: u64) -> anyhow::Result<BulkSummary> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let file = std::fs::File::create(path)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    out.write_all(BULK_HEADER.as_bytes())?;
    let own = Iban::from_german_account(
        "37050198",
        &rng.random_range(1_000_000_000u64..9_999_999_999)
            .to_string(),
    )
    .map(|i| i.as_str().to_owned())
    .unwrap_or_default();
    // counterparties with IBANs, encoded once
    let mut parties: Vec<(String, String, &'static str)> = Vec::new();
    for _ in 0..200 {
        let f = names::FIRST.choose(&mut rng).copied().unwrap_or("Max");
        let l = names::LAST.choose(&mut rng).copied().unwrap_or("Muster");
        let (_, blz, bic) = model::BANKS[rng.random_range(0..model::BANKS.len())];
        let acct = rng
            .random_range(1_000_000_000u64..9_999_999_999)
            .to_string();
        let iban = Iban::from_german_account(blz, &acct)
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default();
        parties.push((format!("{f} {l}"), iban, bic));
    }
    let end = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap_or_default();
    let per_day = 400usize;
    let mut date_cache: (usize, String) = (usize::MAX, String::new());
    let mut line = String::with_capacity(512);
    let mut sum = 0i64;
    let mut written = BULK_HEADER.len() as u64;
    for i in 0..rows {
        let day_back = i / per_day;
        if date_cache.0 != day_back {
            let d = end
                .checked_sub_days(chrono::Days::new(day_back as u64))
                .unwrap_or(end);
            date_cache = (day_back, d.format("%d.%m.%y").to_string());
        }
        let date = date_cache.1.as_str();
        line.clear();
        let pick: u32 = rng.random_range(0..100);
        let (text, purpose_kind, amount) = match pick {
            0..50 => ("KARTENZAHLUNG", 0, -rng.random_range(150..15_000i64)),
            50..65 => ("FOLGELASTSCHRIFT", 1, -rng.random_range(1_500..12_000i64)),
            65..80 => (
                "ONLINE-UEBERWEISUNG",
                2,
                -rng.random_range(2_000..150_000i64),
            ),
            80..90 => (
                "GUTSCHR. UEBERWEISUNG",
                2,
                rng.random_range(2_000..350_000i64),
            ),
            _ => ("BARGELDAUSZAHLUNG", 3, -rng.random_range(1..30i64) * 1_000),
        };
        sum += amount;
        let _ = write!(line, "\"{own}\";\"{date}\";\"{date}\";\"{text}\";\"");
        let (cp_name, cp_iban, cp_bic, cred, mandate, e2e): (
            &str,
            &str,
            &str,
            &str,
            String,
            String,
        );
        match purpose_kind {
            0 => {
                let &(m, _, _) =
                    names::MERCHANTS
                        .choose(&mut rng)
                        .unwrap_or(&("REWE Markt GmbH", 0, 0));
                let _ = write!(line, "{date} Debitk.1 2027-12");
                (cp_name, cp_iban, cp_bic, cred, mandate, e2e) =
                    (m, "", "", "", String::new(), String::new());
            }
            1 => {
                let &(c, _, _, _, stem) = names::CREDITORS
                    .choose(&mut rng)
                    .unwrap_or(&names::CREDITORS[0]);
                let _ = write!(
                    line,
                    "{stem} Kd-Nr. {}",
                    rng.random_range(1_000_000..9_999_999)
                );
                (cp_name, cp_iban, cp_bic, cred, mandate, e2e) = (
                    c,
                    "DE02120300000000202051",
                    "BYLADEM1001",
                    "DE98ZZZ09999999999",
                    format!("M{i:08}"),
                    format!("E{i:010}"),
                );
            }
            2 => {
                let p = parties.choose(&mut rng).unwrap_or(&parties[0]);
                let _ = write!(line, "Rechnung {}", rng.random_range(1000..99_999));
                (cp_name, cp_iban, cp_bic, cred, mandate, e2e) = (
                    p.0.as_str(),
                    p.1.as_str(),
                    p.2,
                    "",
                    String::new(),
                    "NOTPROVIDED".to_owned(),
                );
            }
            _ => {
                let _ = write!(
                    line,
                    "GA NR{:08} BLZ37050198 0",
                    rng.random_range(1000..9999)
                );
                (cp_name, cp_iban, cp_bic, cred, mandate, e2e) =
                    ("", "", "", "", String::new(), String::new());
            }
        }
        let _ = writeln!(
            line,
            "\";\"{cred}\";\"{mandate}\";\"{e2e}\";\"\";\"\";\"\";\"{cp_name}\";\"{cp_iban}\";\"{cp_bic}\";\"{}\";\"EUR\";\"Umsatz gebucht\"",
            de_plain(amount)
        );
        if line.is_ascii() {
            out.write_all(line.as_bytes())?;
            written += line.len() as u64;
        } else {
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&line);
            out.write_all(&bytes)?;
            written += bytes.len() as u64;
        }
    }
    out.flush()?;
    Ok(BulkSummary {
        rows,
        sum_cents: sum,
        bytes: written,
    })
}

/// Writes a production-order workbook (ledger style, sheet "Umsätze", header in row 5) with
/// `rows` bookings.
pub fn write_bulk_xlsx(path: &Path, rows: usize, seed: u64) -> anyhow::Result<BulkSummary> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let own = Iban::from_german_account(
        "10011001",
        &rng.random_range(1_000_000_000u64..9_999_999_999)
            .to_string(),
    )
    .map(|i| i.as_str().to_owned())
    .unwrap_or_default();
    let holder = "Konto Inhaber".to_owned();
    let mut parties: Vec<(String, String)> = Vec::new();
    for _ in 0..200 {
        let f = names::FIRST.choose(&mut rng).copied().unwrap_or("Max");
        let l = names::LAST.choose(&mut rng).copied().unwrap_or("Muster");
        let (_, blz, _) = model::BANKS[rng.random_range(0..model::BANKS.len())];
        let acct = rng
            .random_range(1_000_000_000u64..9_999_999_999)
            .to_string();
        let iban = Iban::from_german_account(blz, &acct)
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default();
        parties.push((format!("{f} {l}"), iban));
    }
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let mut data = Vec::with_capacity(rows);
    let mut sum = 0;
    for i in 0..rows {
        let d = plus_days(start, (i / 200) as u64);
        let p = parties.choose(&mut rng).unwrap_or(&parties[0]);
        let amount = rng.random_range(100..250_000i64);
        sum += amount;
        let outgoing = rng.random_bool(0.6);
        let (sender, sender_iban, receiver, receiver_iban) = if outgoing {
            (holder.clone(), own.clone(), p.0.clone(), p.1.clone())
        } else {
            (p.0.clone(), p.1.clone(), holder.clone(), own.clone())
        };
        data.push(LedgerRow {
            date: d,
            valuta: d,
            sender,
            sender_iban,
            receiver,
            receiver_iban,
            amount,
            purpose: format!("Rechnung {}", 10_000 + i),
        });
    }
    let title = vec![
        "Auskunft zu Kontoumsätzen".to_owned(),
        format!("Konto: {own}   Inhaber: {holder}"),
        "Zeitraum: gesamt".to_owned(),
    ];
    let bytes = docs::ledger_xlsx(
        &title,
        &data,
        &["Hinweise zur Auskunft", "Beträge stets positiv."],
        "Bank",
        start,
    )?;
    std::fs::write(path, &bytes)?;
    Ok(BulkSummary {
        rows,
        sum_cents: sum,
        bytes: bytes.len() as u64,
    })
}

/// Writes `files` small files of mixed formats (bank CSVs, MT940, camt.053, DATEV, xlsx, PDF,
/// text notes) into `dir`. No two files are byte-identical.
pub fn write_mixed_folder(dir: &Path, files: usize, seed: u64) -> anyhow::Result<MixedSummary> {
    std::fs::create_dir_all(dir)?;
    let mut summary = MixedSummary::default();
    let per_world = 50usize;
    let mut world = None;
    let no_omit = std::collections::BTreeSet::new();
    for i in 0..files {
        if i % per_world == 0 {
            let mut c = Config::with_scale(seed.wrapping_add((i / per_world) as u64), 20, 4);
            c.donors = 30;
            world = Some(model::build(&c));
        }
        let Some(w) = world.as_ref() else { continue };
        let j = i % per_world;
        let acct = j % w.accounts.len();
        let bookings = w.account_bookings(acct);
        // (account, kind) pairs are distinct within a world, so no two files are identical.
        let kind = if j >= 48 {
            8
        } else {
            (j / w.accounts.len() + j) % 8
        };
        let (name, format, r) = match kind {
            0 => (
                "umsatz.CSV",
                "Sparkasse CSV-CAMT V2",
                render::sparkasse_csv(w, acct, &bookings),
            ),
            1 => (
                "Umsatzliste.csv",
                "DKB CSV",
                render::dkb_csv(w, acct, &bookings, w.period_start, w.period_end),
            ),
            2 => (
                "Umsatzanzeige.csv",
                "ING CSV",
                render::ing_csv(w, acct, &bookings, w.period_start, w.period_end),
            ),
            3 => (
                "auszug.sta",
                "MT940",
                render::mt940(w, acct, &bookings, &no_omit),
            ),
            4 => (
                "camt053.xml",
                "camt.053",
                render::camt053(w, acct, &bookings, &[0, 1, 2, 3], "MIXED"),
            ),
            5 => (
                "EXTF_Buchungsstapel.csv",
                "DATEV EXTF",
                render::datev(
                    w,
                    acct,
                    &bookings,
                    w.period_start
                        .format("%Y")
                        .to_string()
                        .parse()
                        .unwrap_or(2025),
                ),
            ),
            6 => (
                "Auskunft.xlsx",
                "xlsx ledger",
                docs::production_order(w, acct, &bookings)?,
            ),
            7 => (
                "Kontoauszug.pdf",
                "PDF statement",
                docs::pdf_statement(w, acct, &bookings, 1)?,
            ),
            _ => {
                let text = format!("Notiz {i}\nKeine Umsätze in dieser Datei.\n");
                let path = dir.join(format!("{i:04}_notiz.txt"));
                std::fs::write(&path, text)?;
                summary.files += 1;
                *summary.by_format.entry("text".to_owned()).or_default() += 1;
                continue;
            }
        };
        std::fs::write(dir.join(format!("{i:04}_{name}")), &r.bytes)?;
        summary.files += 1;
        summary.transactions += r.txs.len();
        *summary.by_format.entry(format.to_owned()).or_default() += 1;
    }
    Ok(summary)
}
