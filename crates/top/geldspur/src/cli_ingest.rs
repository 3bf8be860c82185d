//! `geldspur ingest`: evidence → transactions.parquet, manifest.json, mappings/.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use gs_jobs::Progress;
use gs_pipeline::{CaseSummary, Request};
use gs_types::{EvidenceStatus, Severity};

/// Arguments of `geldspur ingest`.
#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// Evidence folders and/or files (read-only; never modified).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder (created; must not be inside the evidence).
    #[arg(long)]
    out: PathBuf,
    /// Table mapping file(s) (TOML) fixing column roles; see docs/MAPPING.md.
    #[arg(long = "mapping", value_name = "FILE")]
    mappings: Vec<PathBuf>,
    /// Print the manifest as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand; exit 0 when at least one file loaded, 1 when nothing could be loaded,
/// 2 on bad arguments (missing input, bad mapping, output inside evidence).
pub fn run(args: &IngestArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("geldspur: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Checks inputs and output folder and builds the pipeline request (shared with `analyze`).
pub fn request(
    inputs: &[PathBuf],
    out: &std::path::Path,
    mappings: &[PathBuf],
) -> anyhow::Result<Request> {
    for i in inputs {
        anyhow::ensure!(i.exists(), "input does not exist: {}", i.display());
    }
    gs_pipeline::check_output_dir(inputs, out)?;
    let mut request = Request {
        inputs: inputs.to_vec(),
        ..Default::default()
    };
    for m in mappings {
        let text = std::fs::read_to_string(m)
            .with_context(|| format!("cannot read mapping file {}", m.display()))?;
        let mapping: gs_ingest::TableMapping = toml_mapping(&text)
            .with_context(|| format!("mapping file is not valid: {}", m.display()))?;
        request.ingest.mappings.push(mapping);
    }
    Ok(request)
}

fn run_inner(args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let mut request = request(&args.inputs, &args.out, &args.mappings)?;
    // the frame is all this command writes: build it while reading (no Transaction per row)
    request.frame_only = true;
    let progress = Progress::new();
    let show_bar = std::io::stderr().is_terminal() && !args.json;
    let worker_progress = progress.clone();
    let handle = std::thread::Builder::new()
        .name("ingest".to_owned())
        .spawn(move || gs_pipeline::run(&request, &worker_progress))
        .context("cannot start the ingest thread")?;
    if show_bar {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg:>10} [{bar:30}] {pos}/{len} files {prefix}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        while !handle.is_finished() {
            let s = progress.snapshot();
            bar.set_length(s.files_total);
            bar.set_position(s.files_done);
            bar.set_message(s.stage.clone());
            bar.set_prefix(format!("{} rows", s.rows));
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish_and_clear();
    }
    let mut outcome = handle
        .join()
        .map_err(|_| anyhow::anyhow!("the ingest thread crashed"))??;
    let written = gs_ingest::output::write(&outcome.ingest, &mut outcome.frame, &args.out)
        .context("writing the outputs failed")?;
    let summary = CaseSummary::of_outcome(&outcome);

    let mut stdout = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&outcome.ingest.manifest)?;
        writeln!(stdout, "{json}")?;
    } else {
        print_table(&mut stdout, &outcome.ingest.manifest)?;
        writeln!(stdout)?;
        let span = summary
            .date_span
            .map(|(a, b)| {
                format!(
                    " from {} to {}",
                    gs_types::dates::format_de(a),
                    gs_types::dates::format_de(b)
                )
            })
            .unwrap_or_default();
        writeln!(
            stdout,
            "{} files: {} loaded, {} skipped, {} failed; {} transactions ({} mirrored) on {} accounts{}; {} warnings, {} dropped rows",
            summary.files,
            summary.loaded,
            summary.skipped,
            summary.failed,
            summary.transactions,
            summary.mirrors,
            summary.accounts,
            span,
            summary.warnings,
            summary.row_errors
        )?;
        for w in &written {
            writeln!(stdout, "wrote {}", w.display())?;
        }
    }
    if summary.loaded == 0 {
        eprintln!("geldspur: no evidence file could be loaded");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn toml_mapping(text: &str) -> anyhow::Result<gs_ingest::TableMapping> {
    Ok(gs_ingest::mapping::TableMapping::from_toml_str(text)?)
}

fn print_table(
    w: &mut impl std::io::Write,
    manifest: &[gs_types::EvidenceFile],
) -> std::io::Result<()> {
    let path_w = manifest
        .iter()
        .map(|f| f.path.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    let fmt_w = manifest
        .iter()
        .map(|f| f.format.as_deref().unwrap_or("-").chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 28);
    writeln!(
        w,
        "{:<8} {:<fmt_w$} {:>8} {:>5} {:>5}  {:<path_w$}",
        "STATUS", "FORMAT", "ROWS", "WARN", "ERR", "FILE"
    )?;
    for f in manifest {
        let rows = match f.status {
            EvidenceStatus::Loaded { rows } => rows.to_string(),
            _ => "-".to_owned(),
        };
        let warn = f
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .count();
        let err = f
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count();
        let format: String = f
            .format
            .as_deref()
            .unwrap_or("-")
            .chars()
            .take(fmt_w)
            .collect();
        writeln!(
            w,
            "{:<8} {:<fmt_w$} {:>8} {:>5} {:>5}  {}",
            f.status.label(),
            format,
            rows,
            warn,
            err,
            f.path
        )?;
        match &f.status {
            EvidenceStatus::Skipped { reason } | EvidenceStatus::Failed { reason } => {
                writeln!(w, "{:8} └ {reason}", "")?;
            }
            EvidenceStatus::Loaded { .. } => {
                for i in f
                    .issues
                    .iter()
                    .filter(|i| i.severity >= Severity::Warning)
                    .take(3)
                {
                    let loc = i
                        .locator
                        .as_deref()
                        .map(|l| format!(" ({l})"))
                        .unwrap_or_default();
                    writeln!(w, "{:8} └ {}{loc}", "", i.message)?;
                }
                let more = warn + err;
                if more > 3 {
                    writeln!(w, "{:8} └ … {} more in manifest.json", "", more - 3)?;
                }
            }
        }
    }
    Ok(())
}
