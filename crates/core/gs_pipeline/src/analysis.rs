//! The analysis stages after ingest: entity resolution → graph → network measures → typology
//! rules → party scores (gs_graph), and writing their outputs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gs_graph::{Analysis, AnalyzeOptions, RulePack, TxGraph};
use gs_jobs::Progress;
use polars::prelude::*;
use serde::Serialize;

use crate::{Outcome, PipelineError, Request, Result, Stage};

/// What `analyze` runs on.
#[derive(Clone, Debug, Default)]
pub struct AnalyzeRequest {
    /// Ingest part (evidence inputs, mappings).
    pub ingest: Request,
    /// Rule pack file (`--rules FILE`); the embedded default pack when `None`.
    pub rules: Option<PathBuf>,
    /// Anomaly model parameters; `None` skips the model stage (rules only).
    pub model: Option<gs_model::ModelOptions>,
    /// Investigator decisions for the model's supervised head.
    pub labels: gs_model::Labels,
}

/// Ingest + analysis results.
pub struct AnalyzeOutcome {
    /// The ingest stage's outcome (transactions, manifest, frame).
    pub ingest: Outcome,
    /// Parties, measures, findings, scores.
    pub analysis: Analysis,
    /// The payment graph.
    pub graph: TxGraph,
    /// Model scores, explanations, fused party risk and model card (when the stage ran).
    pub model: Option<gs_model::ModelOutput>,
}

/// Runs ingest and the analysis stages.
pub fn analyze(req: &AnalyzeRequest, progress: &Progress) -> Result<AnalyzeOutcome> {
    let pack = match &req.rules {
        Some(p) => {
            RulePack::load(p).map_err(|e| PipelineError::Rules(format!("{e} — {}", p.display())))?
        }
        None => RulePack::default_pack(),
    };
    let mut ingest = match ingest_dir(&req.ingest.inputs) {
        Some(dir) => load_ingest_dir(&dir)?,
        None => crate::run(&req.ingest, progress)?,
    };
    if progress.is_cancelled() {
        return Err(PipelineError::Ingest(gs_ingest::IngestError::Cancelled));
    }
    progress.set_stage("graph and rules");
    tracing::info!(transactions = ingest.ingest.transactions.len(), pack = %pack.version, "analysis started");
    let (analysis, graph) = gs_graph::analyze_with_graph(
        &ingest.ingest.transactions,
        &pack,
        &AnalyzeOptions::default(),
    );
    ingest.stages.extend([Stage::Graph, Stage::Rules]);
    let model = match &req.model {
        Some(opts) => {
            if progress.is_cancelled() {
                return Err(PipelineError::Ingest(gs_ingest::IngestError::Cancelled));
            }
            progress.set_stage("model");
            tracing::info!(seed = opts.seed, device = ?opts.device, "model started");
            let out = gs_model::run(&ingest.ingest.transactions, &analysis, &req.labels, opts)
                .map_err(|e| PipelineError::Model(e.to_string()))?;
            ingest.stages.push(Stage::Model);
            Some(out)
        }
        None => None,
    };
    progress.set_stage("done");
    Ok(AnalyzeOutcome {
        ingest,
        analysis,
        graph,
        model,
    })
}

/// `Some(dir)` when the only input is the output folder of an earlier `geldspur ingest`.
pub fn ingest_dir(inputs: &[PathBuf]) -> Option<PathBuf> {
    match inputs {
        [one]
            if one.join(gs_ingest::output::TRANSACTIONS_FILE).is_file()
                && one.join(gs_ingest::output::MANIFEST_FILE).is_file() =>
        {
            Some(one.clone())
        }
        _ => None,
    }
}

#[derive(serde::Deserialize)]
struct ManifestIn {
    files: Vec<gs_types::EvidenceFile>,
    #[serde(default)]
    mirrors: usize,
}

/// Loads the transactions and manifest that `geldspur ingest` wrote, instead of reading the
/// evidence again (the evidence hashes in the manifest still identify every source).
fn load_ingest_dir(dir: &Path) -> Result<Outcome> {
    let pq = dir.join(gs_ingest::output::TRANSACTIONS_FILE);
    let df = gs_ingest::output::read_transactions(&pq)?;
    let transactions = gs_types::schema::from_frame(&df)?;
    let mf = dir.join(gs_ingest::output::MANIFEST_FILE);
    let text = std::fs::read_to_string(&mf).map_err(|e| out_err(&mf, e))?;
    let manifest: ManifestIn = serde_json::from_str(&text).map_err(|e| out_err(&mf, e))?;
    let frame = gs_types::schema::to_frame(&transactions)?;
    let ingest = gs_ingest::IngestResult {
        transactions,
        manifest: manifest.files,
        mappings_used: Vec::new(),
        mirrors: manifest.mirrors,
        frame: None,
    };
    Ok(Outcome {
        ingest,
        frame,
        stages: vec![Stage::Ingest],
    })
}

#[derive(Serialize)]
struct FindingsDoc<'a> {
    tool: &'static str,
    tool_version: &'static str,
    rule_pack_version: &'a str,
    country_lists_version: &'a str,
    country_lists_as_of: &'a str,
    transactions: usize,
    parties: usize,
    findings: &'a [gs_graph::Finding],
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Output(format!("{e} — {}", path.display()))
}

/// CSV field quoting (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Writes `findings.json`, `parties.csv` (ranked by the fused score when the model ran),
/// `transactions.parquet` (canonical frame + party ids, finding ids, the highest finding score
/// per row and, with the model, `model_score` and its explanations), `graph.graphml`,
/// `manifest.json`, the mappings used and, with the model, `model_card.json` and
/// `model.safetensors`. Same inputs and settings → byte-identical files.
pub fn write(out: &AnalyzeOutcome, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| out_err(dir, e))?;
    let mut written = Vec::new();
    let a = &out.analysis;
    let txs = &out.ingest.ingest.transactions;

    let findings_path = dir.join("findings.json");
    let doc = FindingsDoc {
        tool: "geldspur",
        tool_version: env!("CARGO_PKG_VERSION"),
        rule_pack_version: &a.pack_version,
        country_lists_version: &a.countries_version,
        country_lists_as_of: &a.countries_as_of,
        transactions: txs.len(),
        parties: a.parties.parties.len(),
        findings: &a.findings,
    };
    let json = serde_json::to_string_pretty(&doc).map_err(|e| out_err(&findings_path, e))?;
    std::fs::write(&findings_path, json).map_err(|e| out_err(&findings_path, e))?;
    written.push(findings_path);

    let parties_path = dir.join("parties.csv");
    let model = out.model.as_ref();
    let mut csv = String::from(if model.is_some() {
        "rank,party_id,display_name,kind,ibans,other_accounts,categories,risk_score,model_score,fused_score,rule_rank,findings,top_reasons_de,top_reasons_en\n"
    } else {
        "rank,party_id,display_name,kind,ibans,other_accounts,categories,risk_score,findings,top_reasons_de,top_reasons_en\n"
    });
    // with the model, parties are ranked by the fused score (ties: rule rank)
    let mut order: Vec<&gs_graph::PartyScore> = a.party_scores.iter().collect();
    if let Some(m) = model {
        let fused =
            |s: &gs_graph::PartyScore| m.party_fused.get(s.party.idx()).copied().unwrap_or(0.0);
        order.sort_by(|x, y| fused(y).total_cmp(&fused(x)).then(x.rank.cmp(&y.rank)));
    }
    for (pos, s) in order.into_iter().enumerate() {
        let Some(p) = a.parties.parties.get(s.party.0 as usize) else {
            continue;
        };
        let reasons = |de: bool| {
            s.top_findings
                .iter()
                .filter_map(|id| a.findings.iter().find(|f| &f.id == id))
                .map(|f| {
                    if de {
                        f.explanation_de.as_str()
                    } else {
                        f.explanation_en.as_str()
                    }
                })
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let ident = [
            csv_field(&p.uid),
            csv_field(&p.display_name),
            csv_field(&format!("{:?}", p.kind).to_lowercase()),
            csv_field(&p.ibans.join(" ")),
            csv_field(&p.other_accounts.join(" ")),
            csv_field(&p.categories.join(" ")),
        ]
        .join(",");
        let _ = match model {
            Some(m) => writeln!(
                csv,
                "{},{ident},{:.6},{:.6},{:.6},{},{},{},{}",
                pos + 1,
                s.score,
                m.party_model_score
                    .get(s.party.idx())
                    .copied()
                    .unwrap_or(0.0),
                m.party_fused.get(s.party.idx()).copied().unwrap_or(0.0),
                s.rank,
                s.findings,
                csv_field(&reasons(true)),
                csv_field(&reasons(false)),
            ),
            None => writeln!(
                csv,
                "{},{ident},{:.6},{},{},{}",
                s.rank,
                s.score,
                s.findings,
                csv_field(&reasons(true)),
                csv_field(&reasons(false)),
            ),
        };
    }
    std::fs::write(&parties_path, csv).map_err(|e| out_err(&parties_path, e))?;
    written.push(parties_path);

    // Canonical frame + analysis columns, written once with the manifest and mappings.
    let uid = |id: &gs_graph::resolve::PartyId| {
        a.parties.parties.get(id.0 as usize).map(|p| p.uid.as_str())
    };
    let mut finding_ids: Vec<Vec<&str>> = vec![Vec::new(); txs.len()];
    let mut tx_score = vec![0.0f64; txs.len()];
    for f in &a.findings {
        for &i in &f.tx_indices {
            if let Some(v) = finding_ids.get_mut(i as usize) {
                v.push(f.id.as_str());
                tx_score[i as usize] = tx_score[i as usize].max(f.score);
            }
        }
    }
    let mut df = out.ingest.frame.clone();
    let extra = [
        Column::new(
            "payer_party".into(),
            a.parties.tx_payer.iter().map(uid).collect::<Vec<_>>(),
        ),
        Column::new(
            "payee_party".into(),
            a.parties.tx_payee.iter().map(uid).collect::<Vec<_>>(),
        ),
        Column::new(
            "finding_ids".into(),
            finding_ids
                .iter()
                .map(|v| (!v.is_empty()).then(|| v.join(" ")))
                .collect::<Vec<_>>(),
        ),
        Column::new("rule_score".into(), tx_score),
    ];
    for c in extra {
        df.with_column(c).map_err(|e| out_err(dir, e))?;
    }
    if let Some(m) = model {
        fn text(v: &[String]) -> Vec<Option<&str>> {
            v.iter()
                .map(|s| (!s.is_empty()).then_some(s.as_str()))
                .collect()
        }
        let cols = [
            Column::new(
                "model_score".into(),
                m.tx_score.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            ),
            Column::new("model_explanation_de".into(), text(&m.tx_explanation_de)),
            Column::new("model_explanation_en".into(), text(&m.tx_explanation_en)),
        ];
        for c in cols {
            df.with_column(c).map_err(|e| out_err(dir, e))?;
        }
    }
    written.splice(
        0..0,
        gs_ingest::output::write(&out.ingest.ingest, &mut df, dir)?,
    );

    let gml = dir.join("graph.graphml");
    std::fs::write(&gml, out.graph.to_graphml(&a.parties)).map_err(|e| out_err(&gml, e))?;
    written.push(gml);
    if let Some(m) = model {
        written.extend(gs_model::write(m, dir).map_err(|e| out_err(dir, e))?);
    }
    Ok(written)
}
