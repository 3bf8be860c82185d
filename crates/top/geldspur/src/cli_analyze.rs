//! `geldspur analyze`: ingest → entity resolution → graph → rules → ranked findings.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use gs_jobs::Progress;
use gs_pipeline::analysis::AnalyzeRequest;

/// Arguments of `geldspur analyze`.
#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Evidence folders and/or files (read-only; never modified).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder (created; must not be inside the evidence).
    #[arg(long)]
    out: PathBuf,
    /// Table mapping file(s) (TOML); see docs/MAPPING.md.
    #[arg(long = "mapping", value_name = "FILE")]
    mappings: Vec<PathBuf>,
    /// Rule pack (TOML); default: the embedded assets/rules/default.toml.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Language of the printed explanations.
    #[arg(long, default_value = "de", value_parser = ["de", "en"])]
    lang: String,
    /// How many findings to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print the findings as JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Where the anomaly model runs: auto (CUDA when built in and present, else CPU), cpu, cuda.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    device: gs_model::DeviceChoice,
    /// Seed of the anomaly model (stored in the model card; same seed → same scores).
    #[arg(long, default_value_t = gs_model::ModelOptions::default().seed)]
    seed: u64,
    /// Investigator decisions (CSV kind,id,label; see docs/DETECTION.md) for the model's
    /// supervised head.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Rules only: skip the anomaly model.
    #[arg(long)]
    no_model: bool,
}

fn parse_device(s: &str) -> Result<gs_model::DeviceChoice, String> {
    s.parse()
}

/// Runs the subcommand: exit 0 on success, 1 when nothing could be loaded, 2 on bad arguments.
pub fn run(args: &AnalyzeArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("geldspur: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let ingest = crate::cli_ingest::request(&args.inputs, &args.out, &args.mappings)?;
    let labels = match &args.labels {
        Some(path) => {
            let l = gs_pipeline::labels::LabelFile::load(path).map_err(anyhow::Error::msg)?;
            gs_model::Labels {
                parties: l.parties,
                transactions: l.transactions,
            }
        }
        None => gs_model::Labels::default(),
    };
    let req = AnalyzeRequest {
        ingest,
        rules: args.rules.clone(),
        model: (!args.no_model).then(|| gs_model::ModelOptions {
            seed: args.seed,
            device: args.device,
            ..gs_model::ModelOptions::default()
        }),
        labels,
    };
    let outcome = gs_pipeline::analysis::analyze(&req, &Progress::new())?;
    let summary = gs_pipeline::CaseSummary::of(&outcome.ingest.ingest);
    if summary.loaded == 0 {
        eprintln!("geldspur: no evidence file could be loaded");
        return Ok(ExitCode::from(1));
    }
    let written =
        gs_pipeline::analysis::write(&outcome, &args.out).context("writing the outputs failed")?;
    let a = &outcome.analysis;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&a.findings)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{} transactions, {} parties, {} findings (rule pack {}, country lists as of {})",
        outcome.ingest.ingest.transactions.len(),
        a.parties.parties.len(),
        a.findings.len(),
        a.pack_version,
        a.countries_as_of
    )?;
    writeln!(out)?;
    for (i, f) in a.findings.iter().take(args.top).enumerate() {
        let text = if args.lang == "de" {
            &f.explanation_de
        } else {
            &f.explanation_en
        };
        writeln!(
            out,
            "{:>3}. {:.2} {:<8?} {:<22} {}",
            i + 1,
            f.score,
            f.severity,
            f.rule,
            text
        )?;
        writeln!(
            out,
            "     {} transactions, first {}",
            f.tx_ids.len(),
            f.tx_ids.first().map_or("", String::as_str)
        )?;
    }
    if let Some(m) = &outcome.model {
        let txs = &outcome.ingest.ingest.transactions;
        let mut top: Vec<usize> = (0..txs.len())
            .filter(|&i| !m.tx_explanation_de[i].is_empty())
            .collect();
        top.sort_by(|&x, &y| {
            m.tx_score[y]
                .total_cmp(&m.tx_score[x])
                .then(txs[x].tx_id.0.cmp(&txs[y].tx_id.0))
        });
        writeln!(
            out,
            "\nmodel ({}, seed {}, {} rows, labels {:?}): top transactions",
            m.card.device, m.card.options.seed, m.card.rows_scored, m.card.labels_used
        )?;
        for &i in top.iter().take(args.top.min(5)) {
            let text = if args.lang == "de" {
                &m.tx_explanation_de[i]
            } else {
                &m.tx_explanation_en[i]
            };
            writeln!(out, "     {} {}", txs[i].tx_id.0, text)?;
        }
    }
    writeln!(out)?;
    for w in &written {
        writeln!(out, "wrote {}", w.display())?;
    }
    Ok(ExitCode::SUCCESS)
}
