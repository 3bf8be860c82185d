//! The bundled demo case (testdata/demo-case, written by gs_synth) against its ground truth
//! (testdata/demo-case-truth/truth.json): every file's outcome, counts and sums, the deliberate
//! balance gap, every labelled typology transaction, and every mirror pair.
// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gs_jobs::Progress;
use gs_pipeline::Request;
use gs_types::{EvidenceStatus, Severity, SourceKind, Transaction};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../testdata")
        .canonicalize()
        .expect("testdata")
}

fn truth() -> Value {
    let text =
        std::fs::read_to_string(root().join("demo-case-truth/truth.json")).expect("truth.json");
    serde_json::from_str(&text).expect("truth is JSON")
}

fn ingest() -> gs_pipeline::Outcome {
    gs_pipeline::run(
        &Request {
            inputs: vec![root().join("demo-case")],
            ..Default::default()
        },
        &Progress::new(),
    )
    .expect("demo ingest")
}

fn key(t: &Transaction) -> (String, String) {
    (
        t.evidence_path.clone(),
        t.locator
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    )
}

#[test]
fn every_demo_file_matches_the_ground_truth() {
    let out = ingest();
    let truth = truth();
    let mut problems = Vec::new();
    for f in truth["files"].as_array().expect("files") {
        let path = f["path"].as_str().expect("path");
        let Some(e) = out.ingest.manifest.iter().find(|e| e.path == path) else {
            problems.push(format!("{path}: missing from the manifest"));
            continue;
        };
        let rows: Vec<&Transaction> = out
            .ingest
            .transactions
            .iter()
            .filter(|t| t.evidence_path == path)
            .collect();
        match f["expected_error"].as_str() {
            Some("malformed") => {
                if !matches!(e.status, EvidenceStatus::Failed { .. }) {
                    problems.push(format!("{path}: expected a failure, got {:?}", e.status));
                }
            }
            Some("not_transaction_evidence") => {
                if !matches!(e.status, EvidenceStatus::Skipped { .. }) {
                    problems.push(format!("{path}: expected skipped, got {:?}", e.status));
                }
            }
            Some("no_transactions") => {
                let ok = matches!(
                    e.status,
                    EvidenceStatus::Loaded { rows: 0 } | EvidenceStatus::Skipped { .. }
                );
                if !ok {
                    problems.push(format!(
                        "{path}: expected 'no transactions' (loaded 0 or skipped), got {:?}",
                        e.status
                    ));
                }
            }
            _ if f["format"] == "zip" => {
                if e.format.as_deref() != Some("ZIP archive") {
                    problems.push(format!(
                        "{path}: expected a ZIP archive entry, got {:?}",
                        e.format
                    ));
                }
            }
            _ => {
                let n = f["transactions"].as_u64().expect("count") as usize;
                if e.status != (EvidenceStatus::Loaded { rows: n }) {
                    problems.push(format!("{path}: expected {n} rows, got {:?}", e.status));
                }
                let ledger = f["ledger"].as_bool().unwrap_or(false)
                    || rows.iter().any(|t| t.source_kind == SourceKind::Ledger);
                if ledger {
                    let abs: i64 = rows.iter().map(|t| t.amount.cents().abs()).sum();
                    let want = f["abs_amount_sum_cents"].as_i64().expect("abs sum");
                    if abs != want {
                        problems.push(format!("{path}: ledger absolute sum {abs} != {want}"));
                    }
                    if let Some(t) = rows.iter().find(|t| !t.amount.is_negative()) {
                        problems.push(format!(
                            "{path}: ledger rows are negative (sender's view), {:?} is not",
                            t.locator
                        ));
                    }
                } else {
                    let sum: i64 = rows.iter().map(|t| t.amount.cents()).sum();
                    let want = f["amount_sum_cents"].as_i64().expect("sum");
                    if sum != want {
                        problems.push(format!("{path}: sum {sum} != {want}"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn only_the_deliberate_statement_has_a_balance_mismatch() {
    let out = ingest();
    let truth = truth();
    let expected: Vec<(String, u64)> = truth["balance_mismatches"]
        .as_array()
        .expect("balance_mismatches")
        .iter()
        .map(|m| {
            (
                m["file"].as_str().expect("file").to_owned(),
                m["statement"].as_u64().expect("statement"),
            )
        })
        .collect();
    assert!(!expected.is_empty());
    let mut found = Vec::new();
    for e in &out.ingest.manifest {
        for i in e
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Warning && i.message.contains("balance mismatch"))
        {
            found.push((e.path.clone(), i.message.clone()));
        }
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (file, statement) in expected {
        assert!(
            found
                .iter()
                .any(|(p, m)| *p == file && m.contains(&format!("statement {statement}"))),
            "no mismatch warning for statement {statement} of {file}: {found:#?}"
        );
    }
}

#[test]
fn every_labelled_transaction_is_found_with_its_amount() {
    let out = ingest();
    let truth = truth();
    let by_key: HashMap<(String, String), &Transaction> = out
        .ingest
        .transactions
        .iter()
        .map(|t| (key(t), t))
        .collect();
    let mut missing = Vec::new();
    let mut total = 0;
    for typ in truth["typologies"].as_array().expect("typologies") {
        for r in typ["transactions"].as_array().expect("transactions") {
            total += 1;
            let k = (
                r["file"].as_str().expect("file").to_owned(),
                r["locator"].as_str().expect("locator").to_owned(),
            );
            let want = r["amount_cents"].as_i64().expect("amount").abs();
            match by_key.get(&k) {
                Some(t) if t.amount.cents().abs() == want => {}
                Some(t) => missing.push(format!("{k:?}: amount {} != {want}", t.amount.cents())),
                None => missing.push(format!("{k:?} ({}) not found", typ["kind"])),
            }
        }
    }
    assert!(
        total > 100,
        "the demo has many labelled transactions ({total})"
    );
    assert!(
        missing.is_empty(),
        "{} of {total}:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn mirror_pairs_are_linked() {
    let out = ingest();
    let truth = truth();
    let by_key: HashMap<(String, String), &Transaction> = out
        .ingest
        .transactions
        .iter()
        .map(|t| (key(t), t))
        .collect();
    let get = |side: &Value| {
        let k = (
            side["file"].as_str().expect("file").to_owned(),
            side["locator"].as_str().expect("locator").to_owned(),
        );
        by_key
            .get(&k)
            .copied()
            .unwrap_or_else(|| panic!("{k:?} not found"))
    };
    let pairs = truth["mirror_pairs"].as_array().expect("mirror_pairs");
    let mut unlinked = Vec::new();
    for p in pairs {
        let (d, c) = (get(&p["debit"]), get(&p["credit"]));
        let linked =
            d.mirror_of.as_ref() == Some(&c.tx_id) || c.mirror_of.as_ref() == Some(&d.tx_id);
        if !linked {
            unlinked.push(format!("{:?} <-> {:?}", key(d), key(c)));
        }
    }
    assert!(
        unlinked.is_empty(),
        "{} of {} mirror pairs not linked:\n{}",
        unlinked.len(),
        pairs.len(),
        unlinked.join("\n")
    );
    // Nothing else is linked: every mirror row belongs to a labelled pair.
    assert_eq!(out.ingest.mirrors, pairs.len(), "no spurious mirrors");
}
