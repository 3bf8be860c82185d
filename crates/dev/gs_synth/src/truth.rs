//! The ground truth: what every evidence file holds, who is who, which transactions form which
//! typology, which bookings mirror each other.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::Config;
use crate::case::CaseFile;
use crate::model::{Role, World};
use crate::render::TxLoc;
use crate::util::csv_field;

/// The whole truth document (`truth.json`).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Truth {
    pub generator: &'static str,
    pub seed: u64,
    pub config: Config,
    pub period: (String, String),
    pub files: Vec<FileTruth>,
    pub accounts: Vec<AccountTruth>,
    pub typologies: Vec<TypologyTruth>,
    pub mirror_pairs: Vec<MirrorPair>,
    pub balance_mismatches: Vec<Mismatch>,
}

/// One statement inside a file.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct StatementTruth {
    pub index: usize,
    pub label: String,
    pub opening_cents: Option<i64>,
    pub closing_cents: Option<i64>,
    pub entries: usize,
    pub entries_sum_cents: i64,
    pub reconciles: bool,
}

/// One evidence file.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FileTruth {
    pub path: String,
    pub format: String,
    pub format_version: Option<String>,
    pub account_iban: Option<String>,
    pub ledger: bool,
    pub transactions: usize,
    /// Signed from the statement account's view; for the ledger file the sum of the positive
    /// amounts as written.
    pub amount_sum_cents: i64,
    pub abs_amount_sum_cents: i64,
    pub closing_balance_cents: Option<i64>,
    pub statements: Vec<StatementTruth>,
    pub expected_error: Option<String>,
    pub expected_error_detail: Option<String>,
    pub note: Option<String>,
    pub size_bytes: Option<u64>,
}

/// An account (party with an IBAN).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AccountTruth {
    pub iban: String,
    pub holder: String,
    pub bank: String,
    pub bic: String,
    pub role: Role,
    /// Statement format for the accounts whose statements are in the evidence.
    pub statement_format: Option<String>,
    pub evidence_files: Vec<String>,
}

/// A reference to one transaction in one file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub(crate) struct TxRef {
    pub file: String,
    pub locator: String,
    pub date: String,
    pub amount_cents: i64,
    pub end_to_end_ref: Option<String>,
}

/// One typology instance.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct TypologyTruth {
    pub id: String,
    pub kind: String,
    pub description: String,
    pub accounts: Vec<String>,
    pub properties: BTreeMap<String, serde_json::Value>,
    pub transactions: Vec<TxRef>,
}

/// The two sides of a transfer between two evidence accounts.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct MirrorPair {
    pub end_to_end_ref: Option<String>,
    pub amount_cents: i64,
    pub debit: TxRef,
    pub credit: TxRef,
}

/// A statement whose balances do not reconcile on purpose.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Mismatch {
    pub file: String,
    pub statement: usize,
    pub opening_cents: i64,
    pub closing_cents: i64,
    pub entries_sum_cents: i64,
    pub difference_cents: i64,
    pub missing_booking_date: String,
    pub missing_booking_amount_cents: i64,
}

fn tx_ref(file: &str, t: &TxLoc) -> TxRef {
    TxRef {
        file: file.to_owned(),
        locator: t.locator.clone(),
        date: t.date.format("%Y-%m-%d").to_string(),
        amount_cents: t.amount,
        end_to_end_ref: t.e2e.clone(),
    }
}

/// Builds the truth from the world and the rendered files.
pub(crate) fn build(w: &World, files: &[CaseFile]) -> Truth {
    // booking id -> refs in readable files
    let mut refs: BTreeMap<usize, Vec<TxRef>> = BTreeMap::new();
    let mut files_of_account: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut out_files = Vec::new();
    for f in files {
        let mut ft = FileTruth {
            path: f.path.clone(),
            format: f.format.to_owned(),
            format_version: f.version.map(str::to_owned),
            account_iban: f.account.map(|a| w.iban(a)),
            ledger: f.ledger,
            transactions: 0,
            amount_sum_cents: 0,
            abs_amount_sum_cents: 0,
            closing_balance_cents: None,
            statements: Vec::new(),
            expected_error: f.expected_error.as_ref().map(|e| e.0.to_owned()),
            expected_error_detail: f.expected_error.as_ref().map(|e| e.1.clone()),
            note: f.note.clone(),
            size_bytes: f.bytes.as_ref().map(|b| b.len() as u64),
        };
        if let Some(r) = &f.rendered {
            ft.transactions = r.txs.len();
            ft.amount_sum_cents = r.txs.iter().map(|t| t.amount).sum();
            ft.abs_amount_sum_cents = r.txs.iter().map(|t| t.amount.abs()).sum();
            ft.closing_balance_cents = r.closing_balance;
            for (i, s) in r.statements.iter().enumerate() {
                let reconciles = match (s.opening, s.closing) {
                    (Some(o), Some(c)) => o + s.sum == c,
                    _ => true,
                };
                ft.statements.push(StatementTruth {
                    index: i + 1,
                    label: s.label.clone(),
                    opening_cents: s.opening,
                    closing_cents: s.closing,
                    entries: s.entries,
                    entries_sum_cents: s.sum,
                    reconciles,
                });
            }
            for t in &r.txs {
                refs.entry(t.booking).or_default().push(tx_ref(&f.path, t));
            }
            if let Some(a) = f.account {
                files_of_account.entry(a).or_default().push(f.path.clone());
            }
        }
        out_files.push(ft);
    }

    let mut accounts = Vec::new();
    for (pi, p) in w.parties.iter().enumerate() {
        let Some(iban) = &p.iban else { continue };
        let acct = w.accounts.iter().position(|a| a.party == pi);
        accounts.push(AccountTruth {
            iban: iban.as_str().to_owned(),
            holder: p.name.clone(),
            bank: p.bank.clone(),
            bic: p.bic.clone(),
            role: p.role,
            statement_format: acct.map(|a| w.accounts[a].fmt.name().to_owned()),
            evidence_files: acct
                .and_then(|a| files_of_account.get(&a).cloned())
                .unwrap_or_default(),
        });
    }

    let mut typologies = Vec::new();
    for t in &w.typologies {
        let mut txs: Vec<TxRef> = t
            .bookings
            .iter()
            .flat_map(|b| refs.get(b).cloned().unwrap_or_default())
            .collect();
        txs.sort_by(|a, b| (&a.date, &a.file, &a.locator).cmp(&(&b.date, &b.file, &b.locator)));
        txs.dedup();
        typologies.push(TypologyTruth {
            id: t.id.clone(),
            kind: t.kind.to_owned(),
            description: t.description.clone(),
            accounts: t
                .accounts
                .iter()
                .filter_map(|&p| {
                    w.parties
                        .get(p)?
                        .iban
                        .as_ref()
                        .map(|i| i.as_str().to_owned())
                })
                .collect(),
            properties: t.props.clone(),
            transactions: txs,
        });
    }

    let mut mirror_pairs = Vec::new();
    for &(out, inn) in &w.mirrors {
        let (Some(d), Some(c)) = (
            refs.get(&out).and_then(|v| v.first()),
            refs.get(&inn).and_then(|v| v.first()),
        ) else {
            continue;
        };
        let b = &w.bookings[out];
        mirror_pairs.push(MirrorPair {
            end_to_end_ref: b.e2e.clone(),
            amount_cents: b.amount.abs(),
            debit: d.clone(),
            credit: c.clone(),
        });
    }

    let mut balance_mismatches = Vec::new();
    for f in &out_files {
        for s in f.statements.iter().filter(|s| !s.reconciles) {
            let missing = w.omitted.iter().next().map(|&id| &w.bookings[id]);
            balance_mismatches.push(Mismatch {
                file: f.path.clone(),
                statement: s.index,
                opening_cents: s.opening_cents.unwrap_or(0),
                closing_cents: s.closing_cents.unwrap_or(0),
                entries_sum_cents: s.entries_sum_cents,
                difference_cents: s.closing_cents.unwrap_or(0)
                    - s.opening_cents.unwrap_or(0)
                    - s.entries_sum_cents,
                missing_booking_date: missing
                    .map(|b| b.date.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                missing_booking_amount_cents: missing.map_or(0, |b| b.amount),
            });
        }
    }

    Truth {
        generator: "gs_synth",
        seed: w.config.seed,
        config: w.config.clone(),
        period: (
            w.period_start.format("%Y-%m-%d").to_string(),
            w.period_end.format("%Y-%m-%d").to_string(),
        ),
        files: out_files,
        accounts,
        typologies,
        mirror_pairs,
        balance_mismatches,
    }
}

/// `transactions.csv`: one row per labelled transaction reference.
pub(crate) fn transactions_csv(t: &Truth) -> String {
    let mut out = String::from("file,locator,typology_id,kind,date,amount_cents,end_to_end_ref\n");
    for ty in &t.typologies {
        for r in &ty.transactions {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{}",
                csv_field(&r.file),
                csv_field(&r.locator),
                csv_field(&ty.id),
                csv_field(&ty.kind),
                r.date,
                r.amount_cents,
                csv_field(r.end_to_end_ref.as_deref().unwrap_or(""))
            );
        }
    }
    out
}
