//! Every file in ../shared/fixtures, ingested together: each either loads with its expected
//! transaction count and amount sum, or is skipped/fails with a specific reason — never a panic.
//!
//! The expected numbers were checked by hand against the files (and their own balances) by the
//! readers' unit tests in `src/formats/*`; this table pins the whole folder so that a new
//! fixture, or a reader change that alters any file's result, shows up here. To print the current
//! table after a deliberate change: `cargo test -p gs_ingest --test fixtures -- --ignored --nocapture`.
// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gs_ingest::{IngestOptions, IngestResult, ingest};
use gs_jobs::Progress;
use gs_types::EvidenceStatus;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../../shared/fixtures")
        .canonicalize()
        .expect("../shared/fixtures beside the checkout")
}

#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// Loaded: rows, sum of amounts in cents (over all currencies in the file).
    Loaded(usize, i64),
    /// Skipped, reason contains.
    Skipped(&'static str),
    /// Failed, reason contains.
    Failed(&'static str),
}
use Expect::{Failed, Loaded, Skipped};

include!("fixtures_data/expected.rs");

fn run() -> IngestResult {
    ingest(&[fixtures()], &IngestOptions::default(), &Progress::new())
        .expect("ingest of the fixtures folder")
}

fn sums(res: &IngestResult) -> BTreeMap<&str, i64> {
    let mut m: BTreeMap<&str, i64> = BTreeMap::new();
    for t in &res.transactions {
        *m.entry(t.evidence_path.as_str()).or_default() += t.amount.cents();
    }
    m
}

#[test]
fn every_fixture_has_its_expected_outcome() {
    let res = run();
    let sums = sums(&res);
    let expected: BTreeMap<&str, Expect> = EXPECTED
        .iter()
        .map(|(p, e)| (*p, e.clone_expect()))
        .collect();
    let mut problems = Vec::new();
    for f in &res.manifest {
        let Some(exp) = expected.get(f.path.as_str()) else {
            problems.push(format!(
                "{}: not in the expectation table ({:?})",
                f.path, f.status
            ));
            continue;
        };
        let ok = match (exp, &f.status) {
            (Loaded(rows, sum), EvidenceStatus::Loaded { rows: r }) => {
                rows == r && *sum == sums.get(f.path.as_str()).copied().unwrap_or(0)
            }
            (Skipped(s), EvidenceStatus::Skipped { reason })
            | (Failed(s), EvidenceStatus::Failed { reason }) => reason.contains(s),
            _ => false,
        };
        if !ok {
            problems.push(format!(
                "{}: expected {exp:?}, got {:?} (sum {})",
                f.path,
                f.status,
                sums.get(f.path.as_str()).copied().unwrap_or(0)
            ));
        }
    }
    for (p, _) in EXPECTED {
        if !res.manifest.iter().any(|f| f.path == *p) {
            problems.push(format!("{p}: expected but not found on disk"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_loaded_transaction_has_provenance() {
    let res = run();
    for t in &res.transactions {
        assert_eq!(t.tx_id.0.len(), 16);
        assert!(t.locator.is_some(), "{}: no locator", t.evidence_path);
        assert!(
            !t.source_text.is_empty(),
            "{} {:?}: no source text",
            t.evidence_path,
            t.locator
        );
        assert!(!t.currency.is_empty());
        let e = res
            .manifest
            .iter()
            .find(|e| e.path == t.evidence_path)
            .expect("manifest entry");
        assert_eq!(e.id, t.evidence_id);
    }
    let mut ids: Vec<&str> = res
        .transactions
        .iter()
        .map(|t| t.tx_id.0.as_str())
        .collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "transaction ids are unique");
}

#[test]
#[ignore = "prints the expectation table; run by hand after a deliberate change"]
fn print_expectation_table() {
    let res = run();
    let sums = sums(&res);
    println!("const EXPECTED: &[(&str, Expect)] = &[");
    for f in &res.manifest {
        let e = match &f.status {
            EvidenceStatus::Loaded { rows } => format!(
                "Loaded({rows}, {})",
                sums.get(f.path.as_str()).copied().unwrap_or(0)
            ),
            EvidenceStatus::Skipped { reason } => format!("Skipped({:?})", short(reason)),
            EvidenceStatus::Failed { reason } => format!("Failed({:?})", short(reason)),
        };
        println!("    ({:?}, {e}),", f.path);
    }
    println!("];");
}

fn short(reason: &str) -> String {
    reason.chars().take(60).collect()
}

impl Expect {
    fn clone_expect(&self) -> Expect {
        match self {
            Loaded(a, b) => Loaded(*a, *b),
            Skipped(s) => Skipped(s),
            Failed(s) => Failed(s),
        }
    }
}
