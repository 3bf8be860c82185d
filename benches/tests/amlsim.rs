//! IBM AMLSim (../shared/fixtures/amlsim, 20,000 accounts, 1,804 laundering accounts in 200
//! fan-in and 200 cycle patterns): loaded through the documented mapping
//! (docs/examples/amlsim_20k.mapping.toml), analysed with the default pack and with the
//! documented AMLSim pack (docs/examples/amlsim.rules.toml), parties ranked by rule risk and
//! measured against the account labels. The floors below are the measured numbers rounded
//! down (docs/DETECTION.md has the full table): a change that makes the ranking worse fails.

use std::path::{Path, PathBuf};

use gs_benches::eval;
use gs_jobs::Progress;
use gs_pipeline::analysis::{AnalyzeRequest, analyze, write};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn amlsim_party_ranking_by_rules() {
    let fixture = root().join("../shared/fixtures/amlsim/sample_20K_fanin200cycle200_csv.tar.xz");
    assert!(fixture.exists(), "fixture missing: {}", fixture.display());
    let tmp = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new("tar")
        .arg("xJf")
        .arg(&fixture)
        .arg("-C")
        .arg(tmp.path())
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar xJf failed");
    let data = tmp.path().join("20K_fanin200cycle200");
    let case = tmp.path().join("case");
    std::fs::create_dir_all(&case).expect("case dir");
    std::fs::rename(data.join("transactions.csv"), case.join("transactions.csv")).expect("move");
    let mapping = std::fs::read_to_string(root().join("docs/examples/amlsim_20k.mapping.toml"))
        .expect("mapping");
    let mapping = gs_ingest::TableMapping::from_toml_str(&mapping).expect("valid mapping");
    for (pack, min_auc, min_prec) in [
        (None, 0.55, 0.15),
        (
            Some(root().join("docs/examples/amlsim.rules.toml")),
            0.57,
            0.17,
        ),
    ] {
        let mut req = AnalyzeRequest {
            ingest: gs_pipeline::Request {
                inputs: vec![case.clone()],
                ..Default::default()
            },
            rules: pack.clone(),
            model: None,
            labels: gs_model::Labels::default(),
        };
        req.ingest.ingest.mappings.push(mapping.clone());
        let out = analyze(&req, &Progress::new()).expect("analysis");
        assert_eq!(out.ingest.ingest.transactions.len(), 120_558);
        let dir = tmp
            .path()
            .join(format!("out{}", usize::from(pack.is_some())));
        write(&out, &dir).expect("write outputs");
        let m = eval::amlsim_party_metrics(
            &dir.join("parties.csv"),
            &data.join("nodes.csv"),
            &["risk_score"],
        )
        .expect("metrics");
        let m = &m[0].1;
        println!("{pack:?}: {m:?}");
        assert!(m.positives > 1_700 && m.n > 19_000, "{m:?}");
        assert!(m.roc_auc >= min_auc, "{pack:?}: {m:?}");
        assert!(m.precision_at_k >= min_prec, "{pack:?}: {m:?}");
    }
}
