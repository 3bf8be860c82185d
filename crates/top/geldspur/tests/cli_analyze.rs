//! `geldspur analyze` on the demo case: outputs exist, are byte-identical across runs, and the
//! findings reference real transactions with explanations in both languages.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../testdata/demo-case")
        .canonicalize()
        .unwrap()
}

fn analyze(out: &Path) -> String {
    let st = Command::new(env!("CARGO_BIN_EXE_geldspur"))
        .arg("analyze")
        .arg(demo())
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    String::from_utf8(st.stdout).unwrap()
}

#[test]
fn analyze_demo_case_is_reproducible_and_explained() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let stdout = analyze(a.path());
    analyze(b.path());
    for f in [
        "findings.json",
        "parties.csv",
        "graph.graphml",
        "transactions.parquet",
        "manifest.json",
    ] {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(!x.is_empty(), "{f} written");
        assert!(x == y, "{f} differs between two runs on the same evidence");
    }
    assert!(stdout.contains("findings (rule pack"), "{stdout}");

    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.path().join("findings.json")).unwrap()).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let df = gs_ingest::output::read_transactions(&a.path().join("transactions.parquet")).unwrap();
    let tx_col = df.column("tx_id").unwrap().str().unwrap().clone();
    let ids: std::collections::HashSet<String> = (0..df.height())
        .filter_map(|i| tx_col.get(i).map(str::to_owned))
        .collect();
    for col in ["payer_party", "payee_party", "finding_ids", "rule_score"] {
        assert!(df.column(col).is_ok(), "analysis column {col}");
    }
    let rules: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    // Typologies the rules already find on the demo case (docs/DETECTION.md has the full table).
    for want in [
        "structuring",
        "small_donors",
        "scatter_gather",
        "gather_scatter",
        "fan_out",
        "cycle",
    ] {
        assert!(
            rules.contains(want),
            "no {want} finding; rules fired: {rules:?}"
        );
    }
    for f in findings {
        assert!(!f["explanation_de"].as_str().unwrap().is_empty());
        assert!(!f["explanation_en"].as_str().unwrap().is_empty());
        assert_eq!(f["pack_version"], doc["rule_pack_version"]);
        for id in f["tx_ids"].as_array().unwrap() {
            assert!(
                ids.contains(id.as_str().unwrap()),
                "finding {} names an unknown transaction",
                f["id"]
            );
        }
    }
    let parties = std::fs::read_to_string(a.path().join("parties.csv")).unwrap();
    assert!(parties.starts_with("rank,party_id,display_name"));
    assert!(parties.lines().count() > 100, "all parties are ranked");
}

#[test]
fn a_broken_rule_pack_is_refused() {
    let out = tempfile::tempdir().unwrap();
    let bad = out.path().join("rules.toml");
    std::fs::write(&bad, "version = \"x\"\nno_such_rule = 1\n").unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_geldspur"))
        .arg("analyze")
        .arg(demo())
        .arg("--out")
        .arg(out.path().join("o"))
        .arg("--rules")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&st.stderr).contains("rule pack"),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

#[test]
fn analyze_from_an_ingest_folder_gives_the_same_findings() {
    let ingest = tempfile::tempdir().unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_geldspur"))
        .arg("ingest")
        .arg(demo())
        .arg("--out")
        .arg(ingest.path())
        .output()
        .unwrap();
    assert!(st.status.success());
    let from_dir = tempfile::tempdir().unwrap();
    let st = Command::new(env!("CARGO_BIN_EXE_geldspur"))
        .arg("analyze")
        .arg(ingest.path())
        .arg("--out")
        .arg(from_dir.path())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let from_evidence = tempfile::tempdir().unwrap();
    analyze(from_evidence.path());
    for f in ["findings.json", "parties.csv", "graph.graphml"] {
        assert!(
            std::fs::read(from_dir.path().join(f)).unwrap()
                == std::fs::read(from_evidence.path().join(f)).unwrap(),
            "{f} differs between analyzing the evidence and its ingest folder"
        );
    }
}
