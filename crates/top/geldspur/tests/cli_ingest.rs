//! End-to-end tests of `geldspur ingest` on real third-party fixtures (../shared/fixtures).
// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .expect("workspace root")
}

fn fixtures() -> PathBuf {
    workspace_root()
        .join("../shared/fixtures")
        .canonicalize()
        .expect("../shared/fixtures must exist beside the checkout")
}

fn geldspur() -> Command {
    Command::new(env!("CARGO_BIN_EXE_geldspur"))
}

fn manifest(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json written");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

/// File names marked MALFORMED in a fixture folder's SOURCE.md.
fn malformed_fixtures() -> Vec<String> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(fixtures()).unwrap() {
        let dir = dir.unwrap().path();
        let Ok(src) = std::fs::read_to_string(dir.join("SOURCE.md")) else {
            continue;
        };
        let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
        for line in src.lines().filter(|l| l.contains("MALFORMED")) {
            if let Some(name) = line.split('`').nth(1) {
                out.push(format!("{folder}/{name}"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn ingest_all_fixtures_reports_every_file_and_never_crashes() {
    let out = tempfile::tempdir().unwrap();
    let res = geldspur()
        .args(["ingest"])
        .arg(fixtures())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        res.status.success(),
        "exit {:?}\n{stdout}\n{}",
        res.status,
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(
        stdout.contains("STATUS") && stdout.contains("FORMAT"),
        "per-file table printed:\n{stdout}"
    );

    let m = manifest(out.path());
    let files = m["files"].as_array().unwrap();
    let on_disk = walk_count(&fixtures());
    // Every file on disk has exactly one manifest entry (archives may add member entries).
    assert!(
        files.len() >= on_disk,
        "{} entries for {on_disk} files",
        files.len()
    );
    let mut rows_total = 0u64;
    for f in files {
        let path = f["path"].as_str().unwrap();
        let status = f["status"].as_str().unwrap();
        assert!(
            ["loaded", "skipped", "failed"].contains(&status),
            "{path}: {status}"
        );
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64, "{path} hashed");
        if let Some(reason) = f["reason"].as_str() {
            assert!(
                !reason.contains("crashed"),
                "{path}: a parser panicked: {reason}"
            );
            assert!(!reason.is_empty(), "{path}: {status} without a reason");
        }
        if path.ends_with("SOURCE.md") {
            assert_eq!(status, "skipped", "{path}");
        }
        if status == "loaded" {
            rows_total += f["rows"].as_u64().unwrap();
        }
    }
    assert_eq!(m["transactions"].as_u64().unwrap(), rows_total);

    // Malformed-by-design files never load silently: they fail, or carry warnings/errors.
    // Exception: the "binary characters" of this file are valid UTF-8 umlauts (Ü, ß) in :20:
    // and :86:; the statements read correctly and reconcile, so there is nothing to warn about.
    let readable = ["wolph-mt940/betterplace_with_binary_character.sta"];
    for name in malformed_fixtures()
        .into_iter()
        .filter(|n| !readable.contains(&n.as_str()))
    {
        let f = files
            .iter()
            .find(|f| f["path"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} missing from manifest"));
        let status = f["status"].as_str().unwrap();
        let issues = f["issues"].as_array().unwrap();
        let flagged = issues.iter().any(|i| i["severity"] != "info");
        assert!(
            status == "failed" || status == "skipped" || flagged,
            "{name} loaded without any warning: {f}"
        );
    }

    let df =
        gs_ingest::output::read_transactions(&out.path().join("transactions.parquet")).unwrap();
    assert_eq!(df.height() as u64, rows_total);
    assert_eq!(df.width(), gs_types::schema::COLUMNS.len());
}

fn walk_count(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            n += walk_count(&p);
        } else {
            n += 1;
        }
    }
    n
}

#[test]
fn ingest_is_reproducible() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for out in [a.path(), b.path()] {
        let st = geldspur()
            .arg("ingest")
            .arg(fixtures())
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(st.status.success());
    }
    let da = gs_ingest::output::read_transactions(&a.path().join("transactions.parquet")).unwrap();
    let db = gs_ingest::output::read_transactions(&b.path().join("transactions.parquet")).unwrap();
    assert!(da.height() > 100);
    assert!(
        da.equals_missing(&db),
        "two runs on the same evidence give identical frames"
    );
    assert_eq!(manifest(a.path()), manifest(b.path()));
}

#[test]
fn missing_input_and_output_inside_evidence_are_refused() {
    let out = tempfile::tempdir().unwrap();
    let st = geldspur()
        .args(["ingest", "/no/such/evidence", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("does not exist"));

    let ev = tempfile::tempdir().unwrap();
    std::fs::write(ev.path().join("a.txt"), "x").unwrap();
    let st = geldspur()
        .arg("ingest")
        .arg(ev.path())
        .arg("--out")
        .arg(ev.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("inside the evidence"));
    assert!(
        !ev.path().join("out").exists(),
        "nothing written into the evidence"
    );
}

#[test]
fn nothing_loadable_exits_1_with_reasons() {
    let ev = tempfile::tempdir().unwrap();
    std::fs::write(
        ev.path().join("foto.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let st = geldspur()
        .arg("ingest")
        .arg(ev.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&st.stdout);
    assert!(stdout.contains("PNG image"), "{stdout}");
    assert!(String::from_utf8_lossy(&st.stderr).contains("no evidence file could be loaded"));
}

#[test]
fn evidence_files_are_not_modified() {
    let src = fixtures().join("wolph-mt940/self-provided_sparkassen.sta");
    let before = std::fs::metadata(&src).unwrap().modified().unwrap();
    let bytes = std::fs::read(&src).unwrap();
    let out = tempfile::tempdir().unwrap();
    let st = geldspur()
        .arg("ingest")
        .arg(&src)
        .arg("--out")
        .arg(out.path())
        .arg("--json")
        .output()
        .unwrap();
    assert!(st.status.success());
    let json: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(json[0]["path"], "self-provided_sparkassen.sta");
    assert_eq!(std::fs::read(&src).unwrap(), bytes);
    assert_eq!(std::fs::metadata(&src).unwrap().modified().unwrap(), before);
}

#[test]
fn mapping_file_makes_an_unknown_layout_readable_and_is_written_back() {
    let src = fixtures().join("amlsim/sample_outputs_tx.csv");
    let out = tempfile::tempdir().unwrap();
    // Without a mapping: a clear failure naming the header and the missing role.
    let st = geldspur()
        .arg("ingest")
        .arg(&src)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&st.stdout);
    assert!(
        stdout.contains("no date column") && stdout.contains("TXN_AMOUNT_ORIG"),
        "{stdout}"
    );
    // With the documented example mapping: 45 ledger rows.
    let mapping = workspace_root().join("docs/examples/amlsim_tx.mapping.toml");
    let st = geldspur()
        .arg("ingest")
        .arg(&src)
        .arg("--out")
        .arg(out.path())
        .arg("--mapping")
        .arg(&mapping)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let m = manifest(out.path());
    assert_eq!(m["files"][0]["rows"], 45);
    let written: Vec<_> = std::fs::read_dir(out.path().join("mappings"))
        .unwrap()
        .collect();
    assert_eq!(
        written.len(),
        1,
        "the mapping used is written out for review"
    );
    // The written mapping reads the file the same way when given back.
    let again = tempfile::tempdir().unwrap();
    let st = geldspur()
        .arg("ingest")
        .arg(&src)
        .arg("--out")
        .arg(again.path())
        .arg("--mapping")
        .arg(written[0].as_ref().unwrap().path())
        .output()
        .unwrap();
    assert!(st.status.success());
    let a = gs_ingest::output::read_transactions(&out.path().join("transactions.parquet")).unwrap();
    let b =
        gs_ingest::output::read_transactions(&again.path().join("transactions.parquet")).unwrap();
    assert!(a.equals_missing(&b));
    // A broken mapping file is refused with its path.
    let bad = again.path().join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\n[columns]\nno_such_role = \"A\"\n").unwrap();
    let st = geldspur()
        .arg("ingest")
        .arg(&src)
        .arg("--out")
        .arg(out.path())
        .arg("--mapping")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("bad.toml"));
}
