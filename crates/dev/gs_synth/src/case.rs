//! The evidence folder of the case: which account goes into which file and format, plus noise
//! and the deliberately broken file.

use std::collections::BTreeSet;

use chrono::Datelike;

use crate::docs;
use crate::model::{A_SPK, B_CLUB, C_DKB, D_ING, E_MT940, F_COMPANY, G_N26, H_PDF, World};
use crate::render::{self, Rendered};
use crate::util::{month_end, month_start, plus_days};

/// One file of the evidence folder (or one member of an archive in it).
pub(crate) struct CaseFile {
    /// Relative path; archive members as `a.zip!/b.xml`.
    pub path: String,
    /// Format name (as the readers name it).
    pub format: &'static str,
    /// Format version when the format has one.
    pub version: Option<&'static str>,
    /// Bytes to write (`None` for archive members, which live inside their archive).
    pub bytes: Option<Vec<u8>>,
    /// The transactions and statements the file holds (`None` for noise and broken files).
    pub rendered: Option<Rendered>,
    /// Evidence account index the file is about.
    pub account: Option<usize>,
    /// Ledger style (both parties per row, positive amounts).
    pub ledger: bool,
    /// Expected error kind and explanation for files that must not load.
    pub expected_error: Option<(&'static str, String)>,
    /// Free note for the truth.
    pub note: Option<String>,
}

impl CaseFile {
    fn data(
        path: String,
        format: &'static str,
        version: Option<&'static str>,
        account: usize,
        r: Rendered,
    ) -> Self {
        Self {
            path,
            format,
            version,
            bytes: Some(r.bytes.clone()),
            rendered: Some(r),
            account: Some(account),
            ledger: false,
            expected_error: None,
            note: None,
        }
    }

    fn noise(
        path: String,
        format: &'static str,
        bytes: Vec<u8>,
        kind: &'static str,
        why: &str,
    ) -> Self {
        Self {
            path,
            format,
            version: None,
            bytes: Some(bytes),
            rendered: None,
            account: None,
            ledger: false,
            expected_error: Some((kind, why.to_owned())),
            note: None,
        }
    }
}

/// A valid 1x1 PNG (signature, IHDR, IDAT, IEND with correct CRCs).
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// Builds every file of the case, sorted by path.
#[allow(clippy::many_single_char_names)] // w/a/r/e/f: world, account, rendered, file
pub(crate) fn case_files(w: &World) -> anyhow::Result<Vec<CaseFile>> {
    let months: Vec<u32> = (0..w.config.months).collect();
    let from = w.period_start;
    let to = w.period_end;
    let export_day = plus_days(to, 1);
    let mut files = Vec::new();

    // A: Sparkasse CSV-CAMT V2
    let a = &w.accounts[A_SPK];
    let r = render::sparkasse_csv(w, A_SPK, &w.account_bookings(A_SPK));
    files.push(CaseFile::data(
        format!(
            "Bank/Sparkasse/{}-{}-umsatz.CSV",
            export_day.format("%Y%m%d"),
            a.account_number
        ),
        "Sparkasse CSV-CAMT V2",
        None,
        A_SPK,
        r,
    ));

    // B: camt.053 with one statement per month
    let iban_b = w.iban(B_CLUB);
    let r = render::camt053(
        w,
        B_CLUB,
        &w.account_bookings(B_CLUB),
        &months,
        &format!("C53{}00001", export_day.format("%Y%m%d")),
    );
    files.push(CaseFile::data(
        format!(
            "Bank/Volksbank/camt053_{iban_b}_{}_{}.xml",
            from.format("%Y-%m-%d"),
            to.format("%Y-%m-%d")
        ),
        "camt.053",
        Some("camt.053.001.02"),
        B_CLUB,
        r,
    ));

    // C: DKB
    let r = render::dkb_csv(w, C_DKB, &w.account_bookings(C_DKB), from, to);
    files.push(CaseFile::data(
        format!(
            "USB-Stick/Downloads/{}_Umsatzliste_Girokonto_{}.csv",
            export_day.format("%d-%m-%Y"),
            w.iban(C_DKB)
        ),
        "DKB CSV",
        None,
        C_DKB,
        r,
    ));

    // D: ING
    let r = render::ing_csv(w, D_ING, &w.account_bookings(D_ING), from, to);
    files.push(CaseFile::data(
        format!(
            "USB-Stick/Downloads/Umsatzanzeige_{}_{}.csv",
            w.iban(D_ING),
            export_day.format("%Y%m%d")
        ),
        "ING CSV",
        None,
        D_ING,
        r,
    ));

    // E: MT940 with one entry missing in one statement
    let e = &w.accounts[E_MT940];
    let r = render::mt940(w, E_MT940, &w.account_bookings(E_MT940), &w.omitted);
    let mut f = CaseFile::data(
        format!(
            "Bank/Commerzbank/MT940_{}_{}-{}.sta",
            e.account_number,
            from.format("%Y%m"),
            to.format("%Y%m")
        ),
        "MT940",
        None,
        E_MT940,
        r,
    );
    f.note = Some(format!(
        "statement {} lacks one booking on purpose: its opening balance plus its entries does not give its closing balance",
        w.mismatch_month + 1
    ));
    files.push(f);

    // F: zip bundle of 3 camt files (months split into consecutive groups)
    let iban_f = w.iban(F_COMPANY);
    let zip_path = format!("Bank/Deutsche_Bank/camt053_Export_{iban_f}.zip");
    let per = months.len().div_ceil(3).max(1);
    let mut members = Vec::new();
    for (n, group) in months.chunks(per).enumerate() {
        let last = group.last().copied().unwrap_or(0);
        let name = format!(
            "{}_C53_{iban_f}_EUR_{:03}.xml",
            month_end(from, last).format("%Y-%m-%d"),
            n + 1
        );
        let r = render::camt053(
            w,
            F_COMPANY,
            &w.account_bookings(F_COMPANY),
            group,
            &format!("DB{}{:04}", export_day.format("%Y%m%d"), n + 1),
        );
        members.push((name.clone(), r.bytes.clone()));
        let mut cf = CaseFile::data(
            format!("{zip_path}!/{name}"),
            "camt.053",
            Some("camt.053.001.02"),
            F_COMPANY,
            r,
        );
        cf.bytes = None;
        files.push(cf);
    }
    let zip_bytes = docs::zip_bundle(&members, export_day)?;
    files.push(CaseFile {
        path: zip_path,
        format: "zip",
        version: None,
        bytes: Some(zip_bytes),
        rendered: None,
        account: Some(F_COMPANY),
        ledger: false,
        expected_error: None,
        note: Some(format!(
            "archive with {} camt.053 members, listed separately",
            members.len()
        )),
    });

    // G: production-order answer (ledger xlsx)
    let r = docs::production_order(w, G_N26, &w.account_bookings(G_N26))?;
    let mut f = CaseFile::data(
        format!("Beschluss_Auskunft/N26_Auskunft_{}.xlsx", w.iban(G_N26)),
        "xlsx ledger",
        None,
        G_N26,
        r,
    );
    f.ledger = true;
    files.push(f);

    // H: PDF statement of one month
    let pm = w.pdf_month;
    let ms = month_start(from, pm);
    let r = docs::pdf_statement(w, H_PDF, &w.account_bookings(H_PDF), pm)?;
    files.push(CaseFile::data(
        format!("Ausdrucke/Kontoauszug_{}_{:02}.pdf", ms.year(), ms.month()),
        "PDF statement",
        None,
        H_PDF,
        r,
    ));

    // DATEV stack of the association (first calendar year of the period)
    let r = render::datev(w, B_CLUB, &w.account_bookings(B_CLUB), from.year());
    let mut f = CaseFile::data(
        format!(
            "Steuerberater/EXTF_Buchungsstapel_{}_Verein.csv",
            from.year()
        ),
        "DATEV EXTF",
        Some("700"),
        B_CLUB,
        r,
    );
    f.note = Some(
        "every row books the bank account 1200 (Konto) against a contra account; amounts are signed from the bank \
         account's view: 'S' (debit on 1200) = money in = positive, 'H' = money out = negative"
            .to_owned(),
    );
    files.push(f);

    // Noise: a letter PDF, a text note, an image
    let letter = docs::pdf_letter(
        "Berliner Volksbank eG",
        "Landeskriminalamt, Dezernat Finanzermittlungen",
        plus_days(to, 10),
        &[
            "Sehr geehrte Damen und Herren,",
            "bezugnehmend auf Ihr Auskunftsersuchen übersenden wir die Kontoauszüge im Format camt.053.",
            "Für den angefragten Zeitraum liegen keine weiteren Konten des Vereins bei unserem Haus vor.",
            "Bitte beachten Sie, dass Auszüge vor dem Jahr 2020 nur noch in Papierform vorliegen.",
            "Mit freundlichen Grüßen",
            "Ihre Berliner Volksbank",
        ],
    )?;
    files.push(CaseFile::noise(
        "Bank/Schreiben_Bank.pdf".to_owned(),
        "PDF",
        letter,
        "no_transactions",
        "a bank letter without any bookings",
    ));
    let note = "Notiz zur Durchsuchung\n\nAsservat 3: USB-Stick (schwarz), Fundort Schreibtisch Büro.\nAsservat 4: Ordner Steuerberater, Kopien gefertigt.\nAsservat 5: Ausdrucke Kontoauszüge.\n\nDie Dateien wurden unverändert gesichert; Hashwerte siehe Sicherungsprotokoll.\n";
    files.push(CaseFile::noise(
        "Korrespondenz/Notiz_Durchsuchung.txt".to_owned(),
        "text",
        note.as_bytes().to_vec(),
        "no_transactions",
        "a plain text note, not a statement",
    ));
    files.push(CaseFile::noise(
        "USB-Stick/Bilder/IMG_0001.png".to_owned(),
        "PNG",
        PNG_1X1.to_vec(),
        "not_transaction_evidence",
        "an image (1x1 PNG)",
    ));

    // The broken file: the association's last month as camt.053, cut inside an entry.
    let last = w.config.months - 1;
    let r = render::camt053(
        w,
        B_CLUB,
        &w.account_bookings(B_CLUB),
        &[last],
        &format!("C53{}00002", export_day.format("%Y%m%d")),
    );
    let text = r.bytes;
    let cut = find_cut(&text);
    let lm = month_start(from, last);
    files.push(CaseFile::noise(
        format!("USB-Stick/Downloads/camt053_{iban_b}_{}-{:02}.xml", lm.year(), lm.month()),
        "camt.053",
        text.get(..cut).map(<[u8]>::to_vec).unwrap_or_default(),
        "malformed",
        "camt.053 XML truncated in the middle of an entry (download aborted): the document is not well formed",
    ));

    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut seen = BTreeSet::new();
    files.retain(|f| seen.insert(f.path.clone()));
    Ok(files)
}

/// Byte offset inside the third `<Ntry>` (or the middle of the text), at a line's middle.
fn find_cut(text: &[u8]) -> usize {
    let needle = b"<Ntry>";
    let mut found = 0;
    let mut i = 0;
    while i + needle.len() <= text.len() {
        if &text[i..i + needle.len()] == needle {
            found += 1;
            if found == 3 {
                return (i + 180).min(text.len());
            }
        }
        i += 1;
    }
    text.len() / 2
}
