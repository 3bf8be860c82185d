//! German online-banking CSV exports, recognised by their header fingerprint: Sparkasse
//! (CSV-CAMT V2/V8, CSV-MT940), Volksbank/Raiffeisen (new and legacy), DKB (new and legacy),
//! ING, Commerzbank, Deutsche Bank, comdirect, Postbank and N26 (English and German).
//!
//! Each profile is a built-in [`TableMapping`] plus the header cells that must be present
//! (compared case- and umlaut-insensitively, in any order, extra columns allowed). The
//! statement account comes from an account column (Sparkasse "Auftragskonto") or from the
//! preamble lines above the header ("IBAN;DE…", "Kontonummer:;DE… / Girokonto"). Balance lines
//! before or after the table ("Alter Kontostand", "Neuer Kontostand", "Anfangssaldo",
//! "Endsaldo", "Kontostand") become a [`StatementSummary`](crate::importer::StatementSummary) and are not reported as broken rows.
//!
//! Big files are parsed in parallel: the text is decoded once, cut into record-aligned chunks
//! (quote parity, verified afterwards) and the chunks are read on the rayon pool.

use gs_types::{DecimalSeparator, Iban, Money, PartyRef};
use polars_buffer::Buffer;

use super::table::engine::{self, Plan, summary_label, summary_value};
use super::table::{finish, head_rows};
use crate::error::{IngestError, Result};
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};
use crate::mapping::{Role, TableMapping, normalize_header, resolve_column};

/// Importer for German online-banking CSV exports.
#[derive(Debug, Default)]
pub struct BankCsvImporter;

/// A bank layout: required header cells and the role of each known column.
struct Profile {
    name: &'static str,
    /// Header cells that must all be present (normalised).
    required: &'static [&'static str],
    /// Role → header cell; columns that are absent in a file are left out.
    cols: &'static [(Role, &'static str)],
    /// Purpose columns (joined).
    purpose: &'static [&'static str],
    decimal: &'static str,
    /// (payer name column, payee name column): counterparty depends on the sign.
    payer_payee: Option<(&'static str, &'static str)>,
    comdirect: bool,
    /// The S/H flag sits in an unnamed last column (Volksbank legacy).
    flag_unnamed_last: bool,
}

const fn p(
    name: &'static str,
    required: &'static [&'static str],
    cols: &'static [(Role, &'static str)],
    purpose: &'static [&'static str],
) -> Profile {
    Profile {
        name,
        required,
        cols,
        purpose,
        decimal: "comma",
        payer_payee: None,
        comdirect: false,
        flag_unnamed_last: false,
    }
}

const SPK_COLS: &[(Role, &str)] = &[
    (Role::AccountIban, "Auftragskonto"),
    (Role::BookingDate, "Buchungstag"),
    (Role::ValueDate, "Valutadatum"),
    (Role::BookingText, "Buchungstext"),
    (Role::CreditorId, "Glaeubiger ID"),
    (Role::MandateRef, "Mandatsreferenz"),
    (Role::EndToEndRef, "Kundenreferenz (End-to-End)"),
    (Role::CounterpartyName, "Beguenstigter/Zahlungspflichtiger"),
    (Role::CounterpartyAccount, "Kontonummer/IBAN"),
    (Role::CounterpartyBic, "BIC (SWIFT-Code)"),
    (Role::CounterpartyAccount, "Kontonummer"),
    (Role::CounterpartyBankCode, "BLZ"),
    (Role::Amount, "Betrag"),
    (Role::Currency, "Waehrung"),
    (Role::Status, "Info"),
];

const PROFILES: &[Profile] = &[
    p(
        "Sparkasse CSV-CAMT V8",
        &[
            "auftragskonto",
            "buchungstag",
            "valutadatum",
            "buchungstext",
            "verwendungszweck",
            "glaeubiger id",
            "mandatsreferenz",
            "kundenreferenz (end-to-end)",
            "beguenstigter/zahlungspflichtiger",
            "kontonummer/iban",
            "betrag",
            "waehrung",
        ],
        SPK_COLS,
        &["Verwendungszweck"],
    ),
    p(
        "Sparkasse CSV-CAMT V2",
        &[
            "auftragskonto",
            "buchungstag",
            "valutadatum",
            "buchungstext",
            "verwendungszweck",
            "beguenstigter/zahlungspflichtiger",
            "kontonummer/iban",
            "betrag",
            "waehrung",
        ],
        SPK_COLS,
        &["Verwendungszweck"],
    ),
    p(
        "Sparkasse CSV-MT940",
        &[
            "auftragskonto",
            "buchungstag",
            "valutadatum",
            "buchungstext",
            "verwendungszweck",
            "beguenstigter/zahlungspflichtiger",
            "kontonummer",
            "blz",
            "betrag",
            "waehrung",
        ],
        SPK_COLS,
        &["Verwendungszweck"],
    ),
    p(
        "Volksbank/Raiffeisenbank CSV",
        &[
            "iban auftragskonto",
            "buchungstag",
            "valutadatum",
            "name zahlungsbeteiligter",
            "iban zahlungsbeteiligter",
            "verwendungszweck",
            "betrag",
        ],
        &[
            (Role::AccountIban, "IBAN Auftragskonto"),
            (Role::AccountBic, "BIC Auftragskonto"),
            (Role::BookingDate, "Buchungstag"),
            (Role::ValueDate, "Valutadatum"),
            (Role::CounterpartyName, "Name Zahlungsbeteiligter"),
            (Role::CounterpartyIban, "IBAN Zahlungsbeteiligter"),
            (
                Role::CounterpartyBic,
                "BIC (SWIFT-Code) Zahlungsbeteiligter",
            ),
            (Role::BookingText, "Buchungstext"),
            (Role::Amount, "Betrag"),
            (Role::Currency, "Waehrung"),
            (Role::BalanceAfter, "Saldo nach Buchung"),
            (Role::CreditorId, "Glaeubiger ID"),
            (Role::MandateRef, "Mandatsreferenz"),
        ],
        &["Verwendungszweck"],
    ),
    Profile {
        flag_unnamed_last: true,
        ..p(
            "Volksbank/Raiffeisenbank CSV (legacy)",
            &[
                "buchungstag",
                "valuta",
                "auftraggeber/zahlungsempfaenger",
                "empfaenger/zahlungspflichtiger",
                "umsatz",
            ],
            &[
                (Role::BookingDate, "Buchungstag"),
                (Role::ValueDate, "Valuta"),
                (Role::AccountName, "Auftraggeber/Zahlungsempfänger"),
                (Role::CounterpartyName, "Empfänger/Zahlungspflichtiger"),
                (Role::CounterpartyAccount, "Konto-Nr."),
                (Role::CounterpartyIban, "IBAN"),
                (Role::CounterpartyBankCode, "BLZ"),
                (Role::CounterpartyBic, "BIC"),
                (Role::EndToEndRef, "Kundenreferenz"),
                (Role::Currency, "Währung"),
                (Role::Amount, "Umsatz"),
                (Role::DebitCreditFlag, "Soll/Haben"),
            ],
            &["Vorgang/Verwendungszweck"],
        )
    },
    Profile {
        payer_payee: Some(("Zahlungspflichtige*r", "Zahlungsempfänger*in")),
        ..p(
            "DKB CSV",
            &[
                "buchungsdatum",
                "wertstellung",
                "status",
                "zahlungspflichtige*r",
                "zahlungsempfaenger*in",
                "verwendungszweck",
                "betrag (€)",
            ],
            &[
                (Role::BookingDate, "Buchungsdatum"),
                (Role::ValueDate, "Wertstellung"),
                (Role::Status, "Status"),
                (Role::BookingText, "Umsatztyp"),
                (Role::CounterpartyIban, "IBAN"),
                (Role::Amount, "Betrag (€)"),
                (Role::CreditorId, "Gläubiger-ID"),
                (Role::MandateRef, "Mandatsreferenz"),
                (Role::EndToEndRef, "Kundenreferenz"),
            ],
            &["Verwendungszweck"],
        )
    },
    p(
        "DKB CSV (legacy)",
        &[
            "buchungstag",
            "wertstellung",
            "buchungstext",
            "auftraggeber / beguenstigter",
            "verwendungszweck",
            "betrag (eur)",
        ],
        &[
            (Role::BookingDate, "Buchungstag"),
            (Role::ValueDate, "Wertstellung"),
            (Role::BookingText, "Buchungstext"),
            (Role::CounterpartyName, "Auftraggeber / Begünstigter"),
            (Role::CounterpartyAccount, "Kontonummer"),
            (Role::CounterpartyBankCode, "BLZ"),
            (Role::Amount, "Betrag (EUR)"),
            (Role::CreditorId, "Gläubiger-ID"),
            (Role::MandateRef, "Mandatsreferenz"),
            (Role::EndToEndRef, "Kundenreferenz"),
        ],
        &["Verwendungszweck"],
    ),
    p(
        "ING CSV",
        &[
            "buchung",
            "auftraggeber/empfaenger",
            "buchungstext",
            "verwendungszweck",
            "betrag",
        ],
        &[
            (Role::BookingDate, "Buchung"),
            (Role::ValueDate, "Valuta"),
            (Role::ValueDate, "Wertstellungsdatum"),
            (Role::CounterpartyName, "Auftraggeber/Empfänger"),
            (Role::BookingText, "Buchungstext"),
            (Role::BalanceAfter, "Saldo"),
            (Role::Amount, "Betrag"),
            (Role::Currency, "Währung"),
        ],
        &["Verwendungszweck"],
    ),
    p(
        "Commerzbank CSV",
        &[
            "buchungstag",
            "wertstellung",
            "umsatzart",
            "buchungstext",
            "betrag",
            "waehrung",
        ],
        &[
            (Role::BookingDate, "Buchungstag"),
            (Role::ValueDate, "Wertstellung"),
            (Role::BookingText, "Umsatzart"),
            (Role::Amount, "Betrag"),
            (Role::Currency, "Währung"),
            (Role::AccountIban, "IBAN Kontoinhaber"),
            (Role::AccountNumber, "Auftraggeberkonto"),
            (Role::AccountBankCode, "Bankleitzahl Auftraggeberkonto"),
            (Role::AccountIban, "IBAN Auftraggeberkonto"),
        ],
        &["Buchungstext"],
    ),
    p(
        "Deutsche Bank CSV",
        &[
            "buchungstag",
            "wert",
            "umsatzart",
            "beguenstigter / auftraggeber",
            "verwendungszweck",
            "soll",
            "haben",
            "waehrung",
        ],
        &[
            (Role::BookingDate, "Buchungstag"),
            (Role::ValueDate, "Wert"),
            (Role::BookingText, "Umsatzart"),
            (Role::CounterpartyName, "Begünstigter / Auftraggeber"),
            (Role::CounterpartyIban, "IBAN"),
            (Role::CounterpartyBic, "BIC"),
            (Role::EndToEndRef, "Kundenreferenz"),
            (Role::MandateRef, "Mandatsreferenz"),
            (Role::CreditorId, "Gläubiger ID"),
            (Role::Debit, "Soll"),
            (Role::Credit, "Haben"),
            (Role::Currency, "Währung"),
        ],
        &["Verwendungszweck"],
    ),
    Profile {
        comdirect: true,
        ..p(
            "comdirect CSV",
            &[
                "buchungstag",
                "wertstellung (valuta)",
                "vorgang",
                "buchungstext",
                "umsatz in eur",
            ],
            &[
                (Role::BookingDate, "Buchungstag"),
                (Role::ValueDate, "Wertstellung (Valuta)"),
                (Role::BookingText, "Vorgang"),
                (Role::Amount, "Umsatz in EUR"),
            ],
            &["Buchungstext"],
        )
    },
    Profile {
        payer_payee: Some(("Auftraggeber", "Empfänger")),
        ..p(
            "Postbank CSV",
            &[
                "buchungstag",
                "wert",
                "umsatzart",
                "buchungsdetails",
                "auftraggeber",
                "empfaenger",
                "betrag (€)",
            ],
            &[
                (Role::BookingDate, "Buchungstag"),
                (Role::ValueDate, "Wert"),
                (Role::BookingText, "Umsatzart"),
                (Role::Amount, "Betrag (€)"),
                (Role::BalanceAfter, "Saldo (€)"),
            ],
            &["Buchungsdetails"],
        )
    },
    Profile {
        decimal: "dot",
        ..p(
            "N26 CSV",
            &[
                "date",
                "payee",
                "account number",
                "transaction type",
                "amount (eur)",
            ],
            &[
                (Role::BookingDate, "Date"),
                (Role::CounterpartyName, "Payee"),
                (Role::CounterpartyAccount, "Account number"),
                (Role::BookingText, "Transaction type"),
                (Role::Amount, "Amount (EUR)"),
            ],
            &["Payment reference"],
        )
    },
    Profile {
        decimal: "dot",
        ..p(
            "N26 CSV",
            &["booking date", "partner name", "amount (eur)"],
            &[
                (Role::BookingDate, "Booking Date"),
                (Role::ValueDate, "Value Date"),
                (Role::CounterpartyName, "Partner Name"),
                (Role::CounterpartyIban, "Partner Iban"),
                (Role::BookingText, "Type"),
                (Role::Amount, "Amount (EUR)"),
            ],
            &["Payment Reference"],
        )
    },
    Profile {
        decimal: "dot",
        ..p(
            "N26 CSV (de)",
            &[
                "buchungsdatum",
                "wertstellung",
                "name",
                "iban",
                "art",
                "verwendungszweck",
                "betrag (eur)",
            ],
            &[
                (Role::BookingDate, "Buchungsdatum"),
                (Role::ValueDate, "Wertstellung"),
                (Role::CounterpartyName, "Name"),
                (Role::CounterpartyIban, "IBAN"),
                (Role::BookingText, "Art"),
                (Role::Amount, "Betrag (EUR)"),
            ],
            &["Verwendungszweck"],
        )
    },
    Profile {
        decimal: "dot",
        ..p(
            "N26 CSV (de)",
            &[
                "datum",
                "empfaenger",
                "kontonummer",
                "transaktionstyp",
                "verwendungszweck",
                "betrag (eur)",
            ],
            &[
                (Role::BookingDate, "Datum"),
                (Role::CounterpartyName, "Empfänger"),
                (Role::CounterpartyAccount, "Kontonummer"),
                (Role::BookingText, "Transaktionstyp"),
                (Role::Amount, "Betrag (EUR)"),
            ],
            &["Verwendungszweck"],
        )
    },
];

/// Rows searched for the header (preambles are short).
const SEARCH_ROWS: usize = 40;

/// Finds (profile, header row index) in the first rows; the profile with most required cells
/// wins (V8 before V2).
fn find_profile(rows: &[Vec<String>]) -> Option<(&'static Profile, usize)> {
    let mut best: Option<(&'static Profile, usize)> = None;
    for (i, r) in rows.iter().enumerate().take(SEARCH_ROWS) {
        if r.len() < 3 {
            continue;
        }
        let norm: Vec<String> = r.iter().take(300).map(|c| normalize_header(c)).collect();
        for prof in PROFILES {
            if prof.required.iter().all(|q| norm.iter().any(|n| n == q))
                && best.is_none_or(|(b, _)| prof.required.len() > b.required.len())
            {
                best = Some((prof, i));
            }
        }
        if best.is_some() {
            return best;
        }
    }
    None
}

/// Builds the mapping of a profile for this header (absent optional columns left out).
fn profile_mapping(prof: &Profile, header: &[String]) -> TableMapping {
    let mut m = TableMapping {
        name: prof.name.to_owned(),
        decimal: Some(prof.decimal.to_owned()),
        currency: Some("EUR".to_owned()),
        ..TableMapping::default()
    };
    m.match_headers = prof
        .required
        .iter()
        .filter_map(|q| header.iter().find(|h| normalize_header(h) == *q).cloned())
        .collect();
    let amount_idx = prof
        .cols
        .iter()
        .find(|(r, _)| *r == Role::Amount)
        .and_then(|(_, h)| resolve_column(h, header));
    for &(role, h) in prof.cols {
        let n = normalize_header(h);
        let hits: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, x)| normalize_header(x) == n)
            .map(|(i, _)| i)
            .collect();
        let Some(&first) = hits.first() else { continue };
        let idx = if hits.len() > 1 && role == Role::Currency {
            // ING has "Währung" after "Saldo" and after "Betrag": take the amount's
            amount_idx
                .and_then(|a| hits.iter().copied().find(|&i| i > a))
                .unwrap_or(first)
        } else {
            first
        };
        let reference = if hits.len() > 1 {
            (idx + 1).to_string()
        } else {
            header[idx].clone()
        };
        if m.columns.contains_key(role.as_str()) {
            continue; // first listed alternative wins
        }
        m = m.with(role, &reference);
    }
    let purposes: Vec<&str> = prof
        .purpose
        .iter()
        .copied()
        .filter(|h| resolve_column(h, header).is_some())
        .collect();
    if !purposes.is_empty() {
        m = m.with_many(Role::Purpose, &purposes);
    }
    if prof.flag_unnamed_last
        && !m.columns.contains_key(Role::DebitCreditFlag.as_str())
        && let Some(last) = header.len().checked_sub(1)
        && header[last].trim().is_empty()
    {
        m = m.with(Role::DebitCreditFlag, &(last + 1).to_string());
    }
    m
}

/// Statement account and balances from the lines above the header.
fn preamble(rows: &[Vec<String>]) -> (PartyRef, Option<Money>, Option<Money>) {
    let mut party = PartyRef::default();
    let mut ibans: Vec<String> = Vec::new();
    let (mut opening, mut closing) = (None, None);
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            let label = c.trim().trim_end_matches(':').trim();
            if ["kunde", "kontoinhaber", "name", "namen", "inhaber"]
                .iter()
                .any(|k| label.eq_ignore_ascii_case(k))
                && let Some(v) = r.get(i + 1).map(|s| s.trim()).filter(|s| !s.is_empty())
            {
                party.name = Some(v.to_owned());
            }
            // IBAN anywhere in a cell: "DE12 3456 …", "DE12… / Girokonto", "IBAN: DE12…"
            for part in c
                .split(['/', ';', ','])
                .filter_map(|s| s.rsplit(':').next())
            {
                let t = part.trim();
                if t.len() >= 15
                    && let Ok(iban) = Iban::parse(t)
                    && !ibans.iter().any(|x| x == iban.as_str())
                {
                    ibans.push(iban.as_str().to_owned());
                }
            }
            if let Some(kind) = summary_label(c) {
                let v = summary_value(r.as_slice(), i, DecimalSeparator::Comma);
                match kind {
                    engine::SummaryKind::Opening => opening = opening.or(v),
                    engine::SummaryKind::Closing => closing = v.or(closing),
                    engine::SummaryKind::Other => {}
                }
            }
        }
    }
    if ibans.len() == 1 {
        party.iban = ibans.pop();
    }
    (party, opening, closing)
}

impl Importer for BankCsvImporter {
    fn id(&self) -> &'static str {
        "bank_csv"
    }

    fn reads_text_only(&self) -> bool {
        true
    }

    fn detect(&self, file: &SourceFile) -> Option<u8> {
        if file.is_binary() {
            return None;
        }
        let head = file.head(32 * 1024);
        let delim = super::table::csvtok::sniff_delimiter(&head)?;
        let rows = head_rows(&head, delim, SEARCH_ROWS);
        find_profile(&rows).map(|_| 90)
    }

    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput> {
        let Decoded {
            text,
            own_bytes,
            encoding,
            had_errors,
        } = decode(file)?;
        // Frame mode: the text becomes an Arrow buffer that the frame's `source_text` column
        // points into: the file's own buffer when the text is its bytes (UTF-8, or transcoded
        // in place), else a copy (and `text` then has to be the copy for the views to match)
        let shared = ctx.frames.map(|_| {
            if own_bytes {
                file.bytes.clone()
            } else {
                Buffer::from(text.as_bytes().to_vec())
            }
        });
        let text = match &shared {
            Some(b) if !own_bytes => simdutf8::basic::from_utf8(b.as_slice())
                .map_err(|e| IngestError::Frame(format!("text copy is not UTF-8: {e}")))?,
            _ => text,
        };
        let head_end = floor_char(text, 64 * 1024);
        let Some(delim) = super::table::csvtok::sniff_delimiter(&text[..head_end]) else {
            return Err(IngestError::malformed(
                "bank CSV",
                "no field delimiter (; , tab |) in the first lines",
            ));
        };
        let rows = head_rows(text, delim, SEARCH_ROWS);
        // a mapping the user gave for this layout wins over the built-in profile
        if ctx
            .mappings
            .iter()
            .any(|m| rows.iter().any(|r| m.matches_headers(r)))
        {
            return super::table::TableImporter.import(file, ctx);
        }
        let Some((prof, hidx)) = find_profile(&rows) else {
            return Err(IngestError::malformed(
                "bank CSV",
                "no known bank header (Sparkasse, Volksbank, DKB, ING, Commerzbank, Deutsche Bank, comdirect, Postbank, N26) in the first 40 lines",
            ));
        };
        let header = &rows[hidx];
        let mut mapping = profile_mapping(prof, header);
        mapping.delimiter = Some(if delim == b'\t' {
            "tab".to_owned()
        } else {
            char::from(delim).to_string()
        });
        // position after the header record
        let mut tok = super::table::csvtok::Tokenizer::new(text, delim, 0, 1);
        let mut fields = Vec::new();
        let mut header_line = 1;
        for _ in 0..=hidx {
            if let Some(r) = tok.next_record(&mut fields) {
                header_line = r.line;
            }
        }
        mapping.header_row = Some(header_line);
        let (pre_party, pre_open, pre_close) = preamble(&rows[..hidx]);
        if !mapping.columns.contains_key(Role::AccountIban.as_str())
            && !mapping.columns.contains_key(Role::AccountNumber.as_str())
        {
            mapping.account_iban.clone_from(&pre_party.iban);
        }
        if !mapping.columns.contains_key(Role::AccountName.as_str()) && prof.payer_payee.is_none() {
            mapping.account_name.clone_from(&pre_party.name);
        }
        let mut plan = Plan::from_mapping(&mapping, header).map_err(|e| {
            IngestError::malformed(prof.name, format!("{e} (header line {header_line})"))
        })?;
        plan.comdirect = prof.comdirect;
        if let Some((payer, payee)) = prof.payer_payee
            && let (Some(a), Some(b)) =
                (resolve_column(payer, header), resolve_column(payee, header))
        {
            plan.payer_payee_cols = Some((a, b));
        }
        let start_line = tok.line();
        let mut chunk = engine::parse_text(
            &plan,
            text,
            delim,
            tok.pos(),
            start_line,
            engine::FrameOut {
                sink: ctx.frames,
                shared: shared.as_ref(),
            },
            ctx.progress,
        )?;
        if chunk.opening.is_none() {
            chunk.opening = pre_open;
        }
        if chunk.closing.is_none() {
            chunk.closing = pre_close;
        }
        let mut out = ImportOutput::new(prof.name);
        if had_errors {
            out.warn(
                None,
                format!("text decoding ({encoding}) replaced undecodable bytes"),
            );
        }
        if let Some(a) = &mapping.account_iban {
            out.info(
                None,
                format!("statement account {a} taken from the lines above the header"),
            );
        }
        finish(&mut out, chunk, prof.name, &plan);
        out.mappings_used.push(mapping);
        Ok(out)
    }
}

/// A bank CSV's text.
struct Decoded<'f> {
    text: &'f str,
    /// `text` is the file's own bytes (UTF-8 already, or transcoded in place by the ingest:
    /// [`SourceFile::transcode_in_place`]), not `SourceFile::text`'s decoded copy.
    own_bytes: bool,
    /// The encoding the file was in.
    encoding: &'static str,
    /// Some bytes became U+FFFD.
    had_errors: bool,
}

/// The file's text as `SourceFile::text` decodes it, without that copy when the file's bytes
/// are UTF-8 (checked once, with SIMD: ~10× std's check on 180 MB).
fn decode(file: &SourceFile) -> Result<Decoded<'_>> {
    let transcoded = file.transcoded();
    if transcoded.is_some() || encoding_rs::Encoding::for_bom(&file.bytes).is_none() {
        match simdutf8::basic::from_utf8(&file.bytes) {
            Ok(text) => {
                return Ok(Decoded {
                    text,
                    own_bytes: true,
                    encoding: transcoded.map_or("UTF-8", |t| t.from),
                    had_errors: transcoded.is_some_and(|t| t.had_errors),
                });
            }
            Err(e) if transcoded.is_some() => {
                return Err(IngestError::Frame(format!(
                    "transcoded text is not UTF-8: {e}"
                )));
            }
            Err(_) => {}
        }
    }
    let d = file.text();
    Ok(Decoded {
        text: &d.text,
        own_bytes: false,
        encoding: d.encoding,
        had_errors: d.had_errors,
    })
}

fn floor_char(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use gs_types::{Locator, Severity};

    fn w1252(s: &str) -> Vec<u8> {
        let (b, _, unmappable) = encoding_rs::WINDOWS_1252.encode(s);
        assert!(!unmappable);
        b.into_owned()
    }

    fn import(bytes: Vec<u8>) -> ImportOutput {
        let f = SourceFile::from_bytes("export.csv", bytes);
        assert_eq!(BankCsvImporter.detect(&f), Some(90));
        let progress = gs_jobs::Progress::new();
        BankCsvImporter
            .import(
                &f,
                &ImportContext {
                    mappings: &[],
                    progress: &progress,
                    frames: None,
                },
            )
            .unwrap()
    }

    fn sum(o: &ImportOutput) -> i64 {
        o.transactions.iter().map(|t| t.amount.cents()).sum()
    }

    fn count(o: &ImportOutput, s: Severity) -> usize {
        o.issues.iter().filter(|i| i.severity == s).count()
    }

    fn check(o: &ImportOutput, format: &str, n: usize, cents: i64) {
        assert_eq!(o.format, format);
        assert_eq!(o.transactions.len(), n, "{:?}", o.issues);
        assert_eq!(sum(o), cents);
        assert_eq!(count(o, Severity::Error), 0, "{:?}", o.issues);
        assert_eq!(o.mappings_used.len(), 1);
        assert!(
            o.transactions
                .iter()
                .all(|t| t.currency == "EUR" && !t.source_text.is_empty())
        );
    }

    #[test]
    fn sparkasse_camt_v2_windows_1252_multiline_pending() {
        let text = "\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\r\n\
\"DE89370400440532013000\";\"30.12.23\";\"30.12.23\";\"KARTENZAHLUNG\";\"2023-12-29T18:01 Debitk.1 2025-12\";\"REWE Markt GmbH\";\"DE02120300000000202051\";\"BYLADEM1001\";\"-45,67\";\"EUR\";\"Umsatz gebucht\"\r\n\
\"DE89370400440532013000\";\"29.12.23\";\"29.12.23\";\"GUTSCHR. UEBERWEISUNG\";\"Lohn Dezember\r\nPersonalnr. 4711\";\"Müller & Söhne GmbH\";\"DE02500105170137075030\";\"INGDDEFFXXX\";\"2.345,00\";\"EUR\";\"Umsatz gebucht\"\r\n\
\"DE89370400440532013000\";\"02.01.24\";\"02.01.24\";\"FOLGELASTSCHRIFT\";\"Strom \"\"Januar\"\"\";\"Stadtwerke\";\"DE02100500000054540402\";\"BELADEBEXXX\";\"-80,00\";\"EUR\";\"Umsatz vorgemerkt\"\r\n";
        let o = import(w1252(text));
        check(&o, "Sparkasse CSV-CAMT V2", 3, -4567 + 234_500 - 8000);
        let t = &o.transactions[1];
        assert_eq!(t.counterparty.name.as_deref(), Some("Müller & Söhne GmbH"));
        assert_eq!(
            t.purpose.as_deref(),
            Some("Lohn Dezember\r\nPersonalnr. 4711")
        );
        assert_eq!(
            t.locator,
            Some(Locator::Row {
                sheet: None,
                row: 3
            })
        );
        assert!(t.source_text.starts_with("\"DE89") && t.source_text.contains("Personalnr"));
        assert_eq!(
            o.transactions[2].locator,
            Some(Locator::Row {
                sheet: None,
                row: 5
            })
        );
        assert_eq!(
            o.transactions[2].purpose.as_deref(),
            Some("Strom \"Januar\"")
        );
        assert_eq!(t.account.iban.as_deref(), Some("DE89370400440532013000"));
        assert_eq!(
            t.counterparty.iban.as_deref(),
            Some("DE02500105170137075030")
        );
        assert_eq!(t.counterparty.bic.as_deref(), Some("INGDDEFFXXX"));
        assert_eq!(
            t.booking_date,
            chrono::NaiveDate::from_ymd_opt(2023, 12, 29).unwrap()
        );
        // one pending booking: loaded, with a warning naming its row
        assert!(o.issues.iter().any(|i| i.severity == Severity::Warning
            && i.message.contains("pending")
            && i.message.contains("row=5")));
        assert_eq!(count(&o, Severity::Warning), 1, "{:?}", o.issues);
    }

    #[test]
    fn sparkasse_camt_v8_sepa_fields_and_reversal() {
        let text = "\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Glaeubiger ID\";\"Mandatsreferenz\";\"Kundenreferenz (End-to-End)\";\"Sammlerreferenz\";\"Lastschrift Ursprungsbetrag\";\"Auslagenersatz Ruecklastschrift\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\n\
\"DE89370400440532013000\";\"15.01.24\";\"15.01.24\";\"FOLGELASTSCHRIFT\";\"Beitrag 01/2024\";\"DE98ZZZ09999999999\";\"M-12345\";\"E2E-REF-1\";\"\";\"\";\"\";\"Fitness GmbH\";\"DE02120300000000202051\";\"BYLADEM1001\";\"-29,90\";\"EUR\";\"Umsatz gebucht\"\n\
\"DE89370400440532013000\";\"16.01.24\";\"16.01.24\";\"RUECKLASTSCHRIFT\";\"Beitrag 01/2024\";\"DE98ZZZ09999999999\";\"M-12345\";\"E2E-REF-1\";\"\";\"29,90\";\"3,00\";\"Fitness GmbH\";\"DE02120300000000202051\";\"BYLADEM1001\";\"29,90\";\"EUR\";\"Umsatz gebucht\"\n";
        let o = import(w1252(text));
        check(&o, "Sparkasse CSV-CAMT V8", 2, 0);
        let t = &o.transactions[0];
        assert_eq!(t.creditor_id.as_deref(), Some("DE98ZZZ09999999999"));
        assert_eq!(t.mandate_ref.as_deref(), Some("M-12345"));
        assert_eq!(t.end_to_end_ref.as_deref(), Some("E2E-REF-1"));
        assert!(!t.reversal);
        assert!(o.transactions[1].reversal);
    }

    #[test]
    fn sparkasse_mt940_any_column_order_and_extra_columns() {
        let text = "\"Betrag\";\"Buchungstag\";\"Auftragskonto\";\"Valutadatum\";\"Buchungstext\";\"Extra\";\"Verwendungszweck\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer\";\"BLZ\";\"Waehrung\";\"Info\"\n\
\"-12,50\";\"01.02.24\";\"1234567890\";\"01.02.24\";\"LASTSCHRIFT\";\"x\";\"EREF+ABC MREF+M1 CRED+DE98ZZZ09999999999 SVWZ+Abo\";\"Zeitung\";\"0123456789\";\"10050000\";\"EUR\";\"Umsatz gebucht\"\n";
        let o = import(text.as_bytes().to_vec());
        check(&o, "Sparkasse CSV-MT940", 1, -1250);
        let t = &o.transactions[0];
        assert_eq!(t.account.account_number.as_deref(), Some("1234567890"));
        assert_eq!(
            (
                t.counterparty.account_number.as_deref(),
                t.counterparty.bank_code.as_deref()
            ),
            (Some("0123456789"), Some("10050000"))
        );
        assert_eq!(
            (
                t.end_to_end_ref.as_deref(),
                t.mandate_ref.as_deref(),
                t.creditor_id.as_deref()
            ),
            (Some("ABC"), Some("M1"), Some("DE98ZZZ09999999999"))
        );
    }

    #[test]
    fn volksbank_new() {
        let text = "Bezeichnung Auftragskonto;IBAN Auftragskonto;BIC Auftragskonto;Bankname Auftragskonto;Buchungstag;Valutadatum;Name Zahlungsbeteiligter;IBAN Zahlungsbeteiligter;BIC (SWIFT-Code) Zahlungsbeteiligter;Buchungstext;Verwendungszweck;Betrag;Waehrung;Saldo nach Buchung;Bemerkung;Kategorie;Steuerrelevant;Glaeubiger ID;Mandatsreferenz\n\
Girokonto;DE89370400440532013000;GENODEF1XXX;Volksbank Musterstadt;02.01.2024;02.01.2024;Vermieter GmbH;DE02120300000000202051;BYLADEM1001;Dauerauftrag;Miete Januar;-950,00;EUR;1.050,00;;Wohnen;;;\n\
Girokonto;DE89370400440532013000;GENODEF1XXX;Volksbank Musterstadt;03.01.2024;03.01.2024;Arbeitgeber AG;DE02500105170137075030;INGDDEFFXXX;Gehalt/Rente;Gehalt;3.000,00;EUR;4.050,00;;;;;\n";
        let o = import(text.as_bytes().to_vec());
        check(&o, "Volksbank/Raiffeisenbank CSV", 2, 205_000);
        let t = &o.transactions[1];
        assert_eq!(t.balance_after, Some(Money(405_000)));
        assert_eq!(t.account.bic.as_deref(), Some("GENODEF1XXX"));
        assert_eq!(t.counterparty.name.as_deref(), Some("Arbeitgeber AG"));
    }

    #[test]
    fn volksbank_legacy_with_preamble_flag_and_balances() {
        let text = "\"Volksbank Musterstadt eG\"\r\n\r\n\"Umsatzanzeige\"\r\n\r\n\"BLZ:\";\"12345678\";;\"Datum:\";\"05.01.2024\"\r\n\"Konto:\";\"1234567\";;\"Uhrzeit:\";\"10:00:00\"\r\n\"Abfrage von:\";\"Max Mustermann\";;\"Kontoinhaber:\";\"Max Mustermann\"\r\n\r\n\"Zeitraum:\";;\"von:\";\"01.01.2024\";\"bis:\";\"05.01.2024\"\r\n\r\n\
\"Buchungstag\";\"Valuta\";\"Auftraggeber/Zahlungsempfänger\";\"Empfänger/Zahlungspflichtiger\";\"Konto-Nr.\";\"IBAN\";\"BLZ\";\"BIC\";\"Vorgang/Verwendungszweck\";\"Kundenreferenz\";\"Währung\";\"Umsatz\";\" \"\r\n\
\"02.01.2024\";\"02.01.2024\";\"Max Mustermann\";\"Vermieter GmbH\";\"\";\"DE02120300000000202051\";\"\";\"BYLADEM1001\";\"Dauerauftrag\r\nMiete Januar\";\"\";\"EUR\";\"950,00\";\"S\"\r\n\
\"03.01.2024\";\"03.01.2024\";\"Max Mustermann\";\"Arbeitgeber AG\";\"\";\"DE02500105170137075030\";\"\";\"INGDDEFFXXX\";\"Gutschrift\r\nGehalt\";\"\";\"EUR\";\"3.000,00\";\"H\"\r\n\
\r\n;;;;;;;;;\"Anfangssaldo\";\"EUR\";\"1.000,00\";\"H\"\r\n;;;;;;;;;\"Endsaldo\";\"EUR\";\"3.050,00\";\"H\"\r\n";
        let o = import(w1252(text));
        check(&o, "Volksbank/Raiffeisenbank CSV (legacy)", 2, 205_000);
        assert_eq!(o.transactions[0].amount, Money(-95_000));
        assert_eq!(
            o.transactions[0].account.name.as_deref(),
            Some("Max Mustermann")
        );
        assert_eq!(
            o.transactions[0].counterparty.name.as_deref(),
            Some("Vermieter GmbH")
        );
        assert_eq!(
            o.transactions[0].locator,
            Some(Locator::Row {
                sheet: None,
                row: 12
            })
        );
        assert_eq!(o.statements.len(), 1);
        assert_eq!(
            (o.statements[0].opening, o.statements[0].closing),
            (Some(Money(100_000)), Some(Money(305_000)))
        );
        assert_eq!(o.statements[0].tx_range, 0..2);
    }

    #[test]
    fn dkb_new_with_preamble_account_and_pending() {
        let text = "\u{feff}\"Girokonto\";\"DE89370400440532013000\"\n\"\"\n\"Kontostand vom 31.01.2024:\";\"1.234,56 €\"\n\"\"\n\
\"Buchungsdatum\";\"Wertstellung\";\"Status\";\"Zahlungspflichtige*r\";\"Zahlungsempfänger*in\";\"Verwendungszweck\";\"Umsatztyp\";\"IBAN\";\"Betrag (€)\";\"Gläubiger-ID\";\"Mandatsreferenz\";\"Kundenreferenz\"\n\
\"30.01.24\";\"30.01.24\";\"Gebucht\";\"Max Mustermann\";\"Online Shop GmbH\";\"Bestellung 123\";\"Ausgang\";\"DE02120300000000202051\";\"-49,99\";\"\";\"\";\"\"\n\
\"29.01.24\";\"29.01.24\";\"Gebucht\";\"Arbeitgeber AG\";\"Max Mustermann\";\"Gehalt Januar\";\"Eingang\";\"DE02500105170137075030\";\"2.500,00\";\"\";\"\";\"\"\n\
\"31.01.24\";\"31.01.24\";\"Vorgemerkt\";\"Max Mustermann\";\"Tankstelle\";\"Karte\";\"Ausgang\";\"\";\"-60,00\";\"\";\"\";\"\"\n";
        let o = import(text.as_bytes().to_vec());
        check(&o, "DKB CSV", 3, -4999 + 250_000 - 6000);
        let t = &o.transactions[0];
        assert_eq!(t.account.iban.as_deref(), Some("DE89370400440532013000"));
        assert_eq!(t.counterparty.name.as_deref(), Some("Online Shop GmbH"));
        assert_eq!(t.account.name.as_deref(), Some("Max Mustermann"));
        assert_eq!(
            o.transactions[1].counterparty.name.as_deref(),
            Some("Arbeitgeber AG")
        );
        assert_eq!(o.statements[0].closing, Some(Money(123_456)));
        assert!(
            o.issues
                .iter()
                .any(|i| i.severity == Severity::Warning && i.message.contains("1 pending"))
        );
    }

    #[test]
    fn dkb_legacy() {
        let text = "\"Kontonummer:\";\"DE89370400440532013000 / Girokonto\";\n\n\"Von:\";\"01.01.2019\";\n\"Bis:\";\"31.01.2019\";\n\"Kontostand vom 31.01.2019:\";\"1.500,00 EUR\";\n\n\
\"Buchungstag\";\"Wertstellung\";\"Buchungstext\";\"Auftraggeber / Begünstigter\";\"Verwendungszweck\";\"Kontonummer\";\"BLZ\";\"Betrag (EUR)\";\"Gläubiger-ID\";\"Mandatsreferenz\";\"Kundenreferenz\";\n\
\"15.01.2019\";\"15.01.2019\";\"Lastschrift\";\"Versicherung AG\";\"Beitrag\";\"DE02100500000054540402\";\"BELADEBEXXX\";\"-120,00\";\"DE98ZZZ09999999999\";\"V-1\";\"\";\n\
\"10.01.2019\";\"10.01.2019\";\"Gutschrift\";\"Max Mustermann\";\"Umbuchung\";\"DE02500105170137075030\";\"INGDDEFFXXX\";\"1.000,00\";\"\";\"\";\"\";\n";
        let o = import(w1252(text));
        check(&o, "DKB CSV (legacy)", 2, 88_000);
        let t = &o.transactions[0];
        assert_eq!(t.account.iban.as_deref(), Some("DE89370400440532013000"));
        assert_eq!(
            t.counterparty.iban.as_deref(),
            Some("DE02100500000054540402")
        );
        assert_eq!(t.counterparty.bic.as_deref(), Some("BELADEBEXXX"));
        assert_eq!(t.mandate_ref.as_deref(), Some("V-1"));
        assert_eq!(o.statements[0].closing, Some(Money(150_000)));
    }

    #[test]
    fn ing_with_preamble_and_two_currency_columns() {
        let text = "Umsatzanzeige;Datei erstellt am: 05.02.2024 10:00\n;Letztes Update: aktuell\n\nIBAN;DE89 3704 0044 0532 0130 00\nKontoname;Girokonto\nBank;ING\nKunde;Max Mustermann\nZeitraum;01.01.2024 - 31.01.2024\nSaldo;1.234,56;EUR\n\nSortierung;Datum absteigend\n\n\
In der CSV-Datei finden Sie alle bereits gebuchten Umsätze. Die vorgemerkten Umsätze werden nicht aufgenommen.\n\n\
Buchung;Valuta;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;Betrag;Währung\n\
31.01.2024;31.01.2024;REWE;Lastschrift;Einkauf;1.234,56;EUR;-45,44;EUR\n\
15.01.2024;15.01.2024;Arbeitgeber AG;Gehalt/Rente;Gehalt;1.280,00;EUR;2.000,00;EUR\n";
        let o = import(w1252(text));
        check(&o, "ING CSV", 2, 195_456);
        let t = &o.transactions[0];
        assert_eq!(t.account.iban.as_deref(), Some("DE89370400440532013000"));
        assert_eq!(t.account.name.as_deref(), Some("Max Mustermann"));
        assert_eq!(t.balance_after, Some(Money(123_456)));
        assert_eq!(t.counterparty.name.as_deref(), Some("REWE"));
        assert_eq!(
            o.mappings_used[0].columns.get("currency"),
            Some(&crate::mapping::ColumnSpec::One("9".into()))
        );
    }

    #[test]
    fn commerzbank() {
        let text = "Buchungstag;Wertstellung;Umsatzart;Buchungstext;Betrag;Währung;IBAN Kontoinhaber;Kategorie\n\
31.01.2024;31.01.2024;Lastschrift;Stadtwerke Strom;-80,00;EUR;DE89370400440532013000;Wohnen\n\
30.01.2024;30.01.2024;Gutschrift;Gehalt;2.000,00;EUR;DE89370400440532013000;Einkommen\n";
        let o = import(text.as_bytes().to_vec());
        check(&o, "Commerzbank CSV", 2, 192_000);
        assert_eq!(
            o.transactions[0].account.iban.as_deref(),
            Some("DE89370400440532013000")
        );
        assert_eq!(
            o.transactions[0].booking_text.as_deref(),
            Some("Lastschrift")
        );
        assert_eq!(
            o.transactions[0].purpose.as_deref(),
            Some("Stadtwerke Strom")
        );
    }

    #[test]
    fn deutsche_bank_soll_haben_and_trailing_balance() {
        let text = "Umsätze Girokonto;Zeitraum: 01.01.2024 - 31.01.2024;;;\n\
Buchungstag;Wert;Umsatzart;Begünstigter / Auftraggeber;Verwendungszweck;IBAN;BIC;Kundenreferenz;Mandatsreferenz ;Gläubiger ID;Fremde Gebühren;Betrag;Abweichender Empfänger;Anzahl der Aufträge;Anzahl der Schecks;Soll;Haben;Währung\n\
31.01.2024;31.01.2024;SEPA-Lastschrift;Stadtwerke;Strom;DE02100500000054540402;BELADEBEXXX;;M-1;DE98ZZZ09999999999;;;;;;-80,00;;EUR\n\
30.01.2024;30.01.2024;SEPA-Überweisung an;Max Vermieter;Miete;DE02120300000000202051;BYLADEM1001;;;;;;;;;-1.000,00;;EUR\n\
15.01.2024;15.01.2024;SEPA-Gutschrift von;Arbeitgeber AG;Gehalt;DE02500105170137075030;INGDDEFFXXX;;;;;;;;;;3.000,00;EUR\n\
Kontostand;31.01.2024;;;1.920,00;EUR\n";
        let o = import(w1252(text));
        check(&o, "Deutsche Bank CSV", 3, 192_000);
        assert_eq!(o.transactions[0].mandate_ref.as_deref(), Some("M-1"));
        assert_eq!(
            o.transactions[0].creditor_id.as_deref(),
            Some("DE98ZZZ09999999999")
        );
        assert_eq!(o.statements[0].closing, Some(Money(192_000)));
        assert!(
            o.issues
                .iter()
                .any(|i| i.locator.as_deref() == Some("row=6") && i.severity == Severity::Info)
        );
    }

    #[test]
    fn comdirect_packed_buchungstext() {
        let text = ";\n\"Umsätze Girokonto\";\"Zeitraum: 30 Tage\";\n\"Neuer Kontostand\";\"2.000,00 EUR\";\n\n\"Girokonto\";\"Zeitraum: 30 Tage\";\n\
\"Buchungstag\";\"Wertstellung (Valuta)\";\"Vorgang\";\"Buchungstext\";\"Umsatz in EUR\";\n\
\"31.01.2024\";\"31.01.2024\";\"Lastschrift / Belastung\";\"Auftraggeber: Stadtwerke Musterstadt Buchungstext: Strom Januar Ref. 8J2C3D4E5F6G7H8I/12345\";\"-80,00\";\n\
\"30.01.2024\";\"30.01.2024\";\"Übertrag / Überweisung\";\"Empfänger: Max Vermieter Kto/IBAN: DE02120300000000202051 BLZ/BIC: BYLADEM1001 Buchungstext: Miete Januar Ref. ABC123\";\"-1.000,00\";\n\
\"offen\";\"01.02.2024\";\"Kartenverfügung\";\"Buchungstext: Tankstelle\";\"-50,00\";\n\n\"Alter Kontostand\";\"3.130,00 EUR\";\n";
        let o = import(w1252(text));
        check(&o, "comdirect CSV", 3, -113_000);
        let t = &o.transactions[1];
        assert_eq!(t.counterparty.name.as_deref(), Some("Max Vermieter"));
        assert_eq!(
            t.counterparty.iban.as_deref(),
            Some("DE02120300000000202051")
        );
        assert_eq!(t.counterparty.bic.as_deref(), Some("BYLADEM1001"));
        assert_eq!(t.purpose.as_deref(), Some("Miete Januar"));
        assert_eq!(t.end_to_end_ref.as_deref(), Some("ABC123"));
        assert_eq!(
            o.transactions[0].counterparty.name.as_deref(),
            Some("Stadtwerke Musterstadt")
        );
        // "offen": not yet booked; the value date stands in and the row is flagged
        assert_eq!(
            o.transactions[2].booking_date,
            chrono::NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()
        );
        assert!(o.issues.iter().any(|i| i.message.contains("1 pending")));
        let s = &o.statements[0];
        assert_eq!(
            (s.opening, s.closing),
            (Some(Money(313_000)), Some(Money(200_000)))
        );
        assert_eq!(s.opening.unwrap().cents() + sum(&o), 200_000);
    }

    #[test]
    fn postbank() {
        let text = "Umsätze;;;;;;;\nGirokonto;;;;;;;\nNamen: Max Mustermann;;;;;;;\nIBAN: DE89370400440532013000;;;;;;;\nAktueller Kontostand;;;;;;1.920,00 €;\n;;;;;;;\n\
Buchungstag;Wert;Umsatzart;Buchungsdetails;Auftraggeber;Empfänger;Betrag (€);Saldo (€)\n\
31.01.2024;31.01.2024;Überweisung;Miete Januar;Max Mustermann;Max Vermieter;-80,00 €;1.920,00 €\n\
15.01.2024;15.01.2024;Gutschrift;Gehalt;Arbeitgeber AG;Max Mustermann;2.000,00 €;2.000,00 €\n";
        let o = import(w1252(text));
        check(&o, "Postbank CSV", 2, 192_000);
        assert_eq!(
            o.transactions[0].counterparty.name.as_deref(),
            Some("Max Vermieter")
        );
        assert_eq!(
            o.transactions[1].counterparty.name.as_deref(),
            Some("Arbeitgeber AG")
        );
        assert_eq!(
            o.transactions[0].account.iban.as_deref(),
            Some("DE89370400440532013000")
        );
        assert_eq!(o.transactions[0].balance_after, Some(Money(192_000)));
    }

    #[test]
    fn n26_english_and_german() {
        let en = "\"Date\",\"Payee\",\"Account number\",\"Transaction type\",\"Payment reference\",\"Amount (EUR)\",\"Amount (Foreign Currency)\",\"Type Foreign Currency\",\"Exchange Rate\"\n\
\"2024-01-02\",\"Spotify\",\"\",\"MasterCard Payment\",\"\",\"-9.99\",\"-9.99\",\"EUR\",\"1.0\"\n\
\"2024-01-03\",\"Max Mustermann\",\"DE89370400440532013000\",\"Income\",\"Rent share\",\"250.00\",\"\",\"\",\"\"\n";
        let o = import(en.as_bytes().to_vec());
        check(&o, "N26 CSV", 2, 24_001);
        assert_eq!(
            o.transactions[1].counterparty.iban.as_deref(),
            Some("DE89370400440532013000")
        );
        let de = "\"Buchungsdatum\",\"Wertstellung\",\"Name\",\"IBAN\",\"Art\",\"Verwendungszweck\",\"Kategorie\",\"Betrag (EUR)\",\"Betrag (Fremdwährung)\",\"Fremdwährung\",\"Wechselkurs\"\n\
\"2024-01-02\",\"2024-01-02\",\"Spotify\",\"\",\"Belastung\",\"\",\"Medien\",\"-9.99\",\"\",\"\",\"\"\n\
\"2024-01-05\",\"2024-01-05\",\"Max Mustermann\",\"DE89370400440532013000\",\"Gutschrift\",\"Miete\",\"Einkommen\",\"500.00\",\"\",\"\",\"\"\n";
        let o = import(de.as_bytes().to_vec());
        check(&o, "N26 CSV (de)", 2, 49_001);
    }

    #[test]
    fn user_mapping_overrides_profile() {
        let text = "Buchungstag;Wertstellung;Umsatzart;Buchungstext;Betrag;Währung;IBAN Kontoinhaber;Kategorie\n\
31.01.2024;31.01.2024;Lastschrift;Stadtwerke Strom;-80,00;EUR;DE89370400440532013000;Wohnen\n";
        let m = TableMapping::from_toml_str(
            "name = \"Commerzbank (Ermittlung 12)\"\nmatch_headers = [\"Buchungstag\", \"Kategorie\"]\ndecimal = \"comma\"\n[columns]\nbooking_date = \"Buchungstag\"\namount = \"Betrag\"\npurpose = [\"Buchungstext\", \"Kategorie\"]\n",
        )
        .unwrap();
        let f = SourceFile::from_bytes("c.csv", text.as_bytes().to_vec());
        let progress = gs_jobs::Progress::new();
        let o = BankCsvImporter
            .import(
                &f,
                &ImportContext {
                    mappings: std::slice::from_ref(&m),
                    progress: &progress,
                    frames: None,
                },
            )
            .unwrap();
        assert_eq!(o.format, "Commerzbank (Ermittlung 12)");
        assert_eq!(
            o.transactions[0].purpose.as_deref(),
            Some("Stadtwerke Strom Wohnen")
        );
        assert_eq!(o.mappings_used, vec![m]);
    }

    #[test]
    fn not_a_bank_csv() {
        let f = SourceFile::from_bytes("x.csv", b"a;b;c\n1;2;3\n".to_vec());
        assert_eq!(BankCsvImporter.detect(&f), None);
        let progress = gs_jobs::Progress::new();
        assert!(
            BankCsvImporter
                .import(
                    &f,
                    &ImportContext {
                        mappings: &[],
                        progress: &progress,
                        frames: None,
                    }
                )
                .is_err()
        );
    }

    fn big_sparkasse(rows: usize, stray_quote_at: Option<usize>) -> (String, i64) {
        let mut s = String::from(
            "\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\r\n",
        );
        let mut total = 0i64;
        for i in 0..rows {
            let cents = (i as i64 % 100_000) - 50_000;
            total += cents;
            let purpose = if i % 7 == 0 {
                format!("Zeile {i}\r\nzweite; Zeile \"\"x\"\"")
            } else {
                format!("Rechnung {i}")
            };
            let name = if Some(i) == stray_quote_at {
                "Kaputt\"GmbH".to_owned()
            } else {
                format!("Müller {i}")
            };
            let _ = write!(
                s,
                "\"DE89370400440532013000\";\"{:02}.01.24\";\"{:02}.01.24\";\"UEBERWEISUNG\";\"{purpose}\";{name};\"DE02120300000000202051\";\"BYLADEM1001\";\"{}\";\"EUR\";\"Umsatz gebucht\"\r\n",
                i % 28 + 1,
                i % 28 + 1,
                Money(cents).format_de().replace('.', "")
            );
        }
        (s, total)
    }

    /// Throughput check (run with `--ignored --nocapture`, ideally in release).
    #[test]
    #[ignore = "timing only"]
    fn throughput() {
        for rows in [100_000, 400_000] {
            let (text, total) = big_sparkasse(rows, None);
            let bytes = w1252(&text);
            let f = SourceFile::from_bytes("big.csv", bytes);
            let t0 = std::time::Instant::now();
            let progress = gs_jobs::Progress::new();
            let o = BankCsvImporter
                .import(
                    &f,
                    &ImportContext {
                        mappings: &[],
                        progress: &progress,
                        frames: None,
                    },
                )
                .unwrap();
            println!(
                "{rows} rows, {} MB: {:?}",
                f.bytes.len() >> 20,
                t0.elapsed()
            );
            assert_eq!(sum(&o), total);
        }
    }

    #[test]
    fn big_file_frame_mode_matches_transaction_mode() {
        // parallel chunks, several batches per chunk; with a stray quote the parallel parse is
        // abandoned for a sequential one (the chunks' frames are thrown away)
        for stray in [None, Some(17_000)] {
            let (text, _) = big_sparkasse(40_000, stray);
            let chunks =
                crate::rows::tests::check_modes(&BankCsvImporter, "big.csv", &w1252(&text), 3_000);
            assert!(chunks >= 14, "{chunks} frame chunks");
        }
    }

    #[test]
    fn big_file_parallel_matches_sequential() {
        for stray in [None, Some(17_000)] {
            let (text, total) = big_sparkasse(40_000, stray);
            assert!(text.len() > 4 << 20);
            let o = import(w1252(&text));
            assert_eq!((o.transactions.len(), sum(&o)), (40_000, total));
            // decoded in parallel exactly as SourceFile::text decodes it
            assert_eq!(
                o.transactions[1].counterparty.name.as_deref(),
                Some("Müller 1")
            );
            // the same rows from the file transcoded in place (what the ingest does with a big
            // bank CSV), and the same encoding reported
            let mut f = SourceFile::from_bytes("x.csv", w1252(&text));
            let t = f.transcode_in_place().unwrap();
            assert_eq!((t.from, t.had_errors), ("windows-1252", false));
            assert!(*f.bytes == *text.as_bytes());
            let progress = gs_jobs::Progress::new();
            let ctx = ImportContext {
                mappings: &[],
                progress: &progress,
                frames: None,
            };
            let o2 = BankCsvImporter.import(&f, &ctx).unwrap();
            assert_eq!(o2.transactions, o.transactions);
            assert_eq!(o2.issues, o.issues);
            // line numbers: multi-line records (every 7th) take two lines
            let mut line = 2u32;
            for (i, t) in o.transactions.iter().enumerate() {
                assert_eq!(
                    t.locator,
                    Some(Locator::Row {
                        sheet: None,
                        row: line
                    }),
                    "record {i}"
                );
                line += if i % 7 == 0 { 2 } else { 1 };
            }
            assert_eq!(count(&o, Severity::Error), 0);
        }
    }
}
