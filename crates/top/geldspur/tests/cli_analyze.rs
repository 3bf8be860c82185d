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
        "model_card.json",
        "model.safetensors",
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

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_geldspur"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn model_scores_explanations_and_card_are_written() {
    let a = tempfile::tempdir().unwrap();
    let stdout = analyze(a.path());
    assert!(stdout.contains("model (cpu, seed 20261124"), "{stdout}");
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.path().join("model_card.json")).unwrap()).unwrap();
    assert_eq!(card["options"]["seed"], 20_261_124);
    assert_eq!(card["device"], "cpu");
    assert_eq!(card["head_used"], false);
    let df = gs_ingest::output::read_transactions(&a.path().join("transactions.parquet")).unwrap();
    let score = df.column("model_score").unwrap().f64().unwrap().clone();
    let expl = df
        .column("model_explanation_de")
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let n = df.height();
    let scored = (0..n)
        .filter(|&i| score.get(i).is_some_and(|v| v > 0.0))
        .count();
    assert!(scored * 10 > n * 9, "{scored} of {n} rows scored");
    let explained: Vec<&str> = (0..n).filter_map(|i| expl.get(i)).collect();
    assert!(
        !explained.is_empty() && explained.len() * 10 < n,
        "{} explained",
        explained.len()
    );
    assert!(
        explained.iter().all(|e| e.starts_with("Modell (Perzentil")),
        "{explained:?}"
    );
    // every explained row is in the top 5 % of the case
    for i in 0..n {
        if expl.get(i).is_some() {
            assert!(score.get(i).unwrap() >= 0.95);
        }
    }
    let parties = std::fs::read_to_string(a.path().join("parties.csv")).unwrap();
    assert!(parties.starts_with("rank,party_id,display_name,kind,ibans,other_accounts,categories,risk_score,model_score,fused_score,rule_rank,"), "{}", parties.lines().next().unwrap());
    // ranked by the fused score
    let fused: Vec<f64> = parties
        .lines()
        .skip(1)
        .map(|l| {
            let mut r = csv_split(l);
            r.swap_remove(9).parse().unwrap()
        })
        .collect();
    assert!(
        fused.windows(2).all(|w| w[0] >= w[1]),
        "parties.csv is sorted by fused_score"
    );
}

/// Splits one CSV line (quoted fields may hold commas).
fn csv_split(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[test]
fn device_labels_and_no_model_flags() {
    let demo = demo();
    let demo = demo.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = out.path().join("cuda");
    let r = run(&[
        "analyze",
        demo,
        "--out",
        o.to_str().unwrap(),
        "--device",
        "cuda",
    ]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("without CUDA support"), "{err}");
    let r = run(&[
        "analyze",
        demo,
        "--out",
        o.to_str().unwrap(),
        "--device",
        "gpu",
    ]);
    assert_eq!(r.status.code(), Some(2));

    let o = out.path().join("rules");
    let r = run(&["analyze", demo, "--out", o.to_str().unwrap(), "--no-model"]);
    assert!(r.status.success());
    assert!(!o.join("model_card.json").exists());
    assert!(o.join("findings.json").exists());

    // decisions: the two best-ranked parties cleared, two others suspicious
    let base = out.path().join("base");
    assert!(
        run(&["analyze", demo, "--out", base.to_str().unwrap()])
            .status
            .success()
    );
    let parties = std::fs::read_to_string(base.join("parties.csv")).unwrap();
    let uids: Vec<String> = parties
        .lines()
        .skip(1)
        .map(|l| csv_split(l)[1].clone())
        .collect();
    let labels = out.path().join("labels.csv");
    std::fs::write(
        &labels,
        format!(
            "kind,id,label\nparty,{},cleared\nparty,{},cleared\nparty,{},suspicious\nparty,{},suspicious\n",
            uids[0], uids[1], uids[40], uids[41]
        ),
    )
    .unwrap();
    let o = out.path().join("labelled");
    let r = run(&[
        "analyze",
        demo,
        "--out",
        o.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o.join("model_card.json")).unwrap()).unwrap();
    assert_eq!(card["head_used"], true);
    let ranked: Vec<String> = std::fs::read_to_string(o.join("parties.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| csv_split(l)[1].clone())
        .collect();
    let pos = |u: &str| ranked.iter().position(|x| x == u).unwrap();
    assert!(
        pos(&uids[40]) < 40 && pos(&uids[41]) < 41,
        "suspicious parties move up"
    );
    assert!(
        pos(&uids[0]) > 1 && pos(&uids[1]) > 1,
        "cleared parties move down"
    );
    // a labels file that cannot be read is refused, naming the line
    std::fs::write(&labels, "party,X,maybe\n").unwrap();
    let r = run(&[
        "analyze",
        demo,
        "--out",
        o.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("line 1"));
}
