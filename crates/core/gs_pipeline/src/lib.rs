//! The one entry point the app and the CLI call: ingest → graph → rules → model → findings,
//! with progress and cancellation through [`gs_jobs::Progress`].
//!
//! Today the pipeline runs the ingest stage and builds the canonical frame; the graph, rule,
//! model and findings stages are added by their own crates (see docs/ARCHITECTURE.md) and
//! plug in after [`Stage::Ingest`].

pub mod analysis;
pub mod labels;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gs_ingest::{IngestOptions, IngestResult};
use gs_jobs::Progress;
use gs_types::EvidenceStatus;
use gs_types::chrono::NaiveDate;
use polars::prelude::{ChunkAgg, DataFrame, DataType, PolarsResult, StringChunked};

/// Errors of the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Ingest failed as a whole (input missing, cancelled).
    #[error(transparent)]
    Ingest(#[from] gs_ingest::IngestError),
    /// Building the frame failed.
    #[error("building the transaction frame failed: {0}")]
    Frame(#[from] polars::error::PolarsError),
    /// The rule pack could not be loaded.
    #[error("rule pack not loaded: {0}")]
    Rules(String),
    /// Writing outputs failed.
    #[error("cannot write output: {0}")]
    Output(String),
    /// The model stage failed (e.g. CUDA requested but not available).
    #[error("model stage failed: {0}")]
    Model(String),
    /// The output folder lies inside the evidence.
    #[error("output folder is inside the evidence; evidence folders are never written: {0}")]
    OutputInsideEvidence(String),
}

/// Result alias of this crate.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// The stages, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Evidence → canonical transactions.
    Ingest,
    /// Entity resolution, the transaction graph and network measures (gs_graph).
    Graph,
    /// Typology rules and party scores (gs_graph).
    Rules,
    /// Anomaly model (gs_model).
    Model,
    /// Ranked findings (not built yet).
    Findings,
}

/// What to run on.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Evidence folders and files.
    pub inputs: Vec<PathBuf>,
    /// Ingest settings (mappings, limits).
    pub ingest: IngestOptions,
    /// Leave `Outcome::frame` empty: callers that keep the transactions themselves (the window)
    /// do not pay for a frame they never read.
    pub skip_frame: bool,
    /// Only the frame: `Outcome::ingest.transactions` stays empty and the frame is built
    /// while the evidence is read (`IngestOptions::frame_only`; `geldspur ingest` uses it).
    /// Ignored when `skip_frame` is set.
    pub frame_only: bool,
}

/// What the pipeline produced.
#[derive(Debug)]
pub struct Outcome {
    /// Ingest result: transactions + manifest.
    pub ingest: IngestResult,
    /// The canonical frame (see docs/SCHEMA.md); empty when `Request::skip_frame` was set.
    pub frame: DataFrame,
    /// Stages that ran.
    pub stages: Vec<Stage>,
}

/// A short case summary for status bars and CLI output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseSummary {
    /// Files looked at.
    pub files: usize,
    /// Files loaded.
    pub loaded: usize,
    /// Files skipped.
    pub skipped: usize,
    /// Files failed.
    pub failed: usize,
    /// Transactions.
    pub transactions: usize,
    /// Rows marked as mirrors.
    pub mirrors: usize,
    /// Earliest and latest booking date.
    pub date_span: Option<(NaiveDate, NaiveDate)>,
    /// Distinct statement accounts.
    pub accounts: usize,
    /// Warnings and errors over all files.
    pub warnings: usize,
    /// Dropped rows (errors) over all files.
    pub row_errors: usize,
}

impl CaseSummary {
    /// Summarises an ingest result.
    pub fn of(result: &IngestResult) -> Self {
        let mut s = CaseSummary {
            files: result.manifest.len(),
            transactions: result.transactions.len(),
            mirrors: result.mirrors,
            ..Default::default()
        };
        for f in &result.manifest {
            match f.status {
                EvidenceStatus::Loaded { .. } => s.loaded += 1,
                EvidenceStatus::Skipped { .. } => s.skipped += 1,
                EvidenceStatus::Failed { .. } => s.failed += 1,
            }
            s.warnings += f
                .issues
                .iter()
                .filter(|i| i.severity == gs_types::Severity::Warning)
                .count();
            s.row_errors += f
                .issues
                .iter()
                .filter(|i| i.severity == gs_types::Severity::Error)
                .count();
        }
        let mut accounts = BTreeSet::new();
        for t in &result.transactions {
            if let Some(k) = t.account.account_key() {
                accounts.insert(k);
            }
            s.date_span = Some(match s.date_span {
                None => (t.booking_date, t.booking_date),
                Some((a, b)) => (a.min(t.booking_date), b.max(t.booking_date)),
            });
        }
        s.accounts = accounts.len();
        s
    }

    /// Summarises a pipeline run: from its transactions, or from its frame when the run kept
    /// only the frame (`Request::frame_only`).
    pub fn of_outcome(o: &Outcome) -> Self {
        if !o.ingest.transactions.is_empty() || o.frame.height() == 0 {
            return Self::of(&o.ingest);
        }
        let mut s = Self::of(&o.ingest);
        s.transactions = o.frame.height();
        s.accounts = frame_accounts(&o.frame).unwrap_or(0);
        s.date_span = frame_date_span(&o.frame);
        s
    }
}

/// Distinct statement accounts ([`gs_types::PartyRef::account_key`]) in a canonical frame.
fn frame_accounts(df: &DataFrame) -> PolarsResult<usize> {
    let s = |n: &str| -> PolarsResult<&StringChunked> { df.column(n)?.str() };
    let (iban, bank, number) = (
        s("account_iban")?,
        s("account_bank_code")?,
        s("account_number")?,
    );
    let keys: std::collections::HashSet<Cow<'_, str>> = iban
        .iter()
        .zip(bank.iter())
        .zip(number.iter())
        .filter_map(|((i, b), n)| gs_types::schema::account_key_of(i, b, n))
        .collect();
    Ok(keys.len())
}

/// Earliest and latest booking date in a canonical frame.
fn frame_date_span(df: &DataFrame) -> Option<(NaiveDate, NaiveDate)> {
    let days = df
        .column("booking_date")
        .ok()?
        .cast(&DataType::Int32)
        .ok()?;
    let days = days.i32().ok()?;
    Some((
        NaiveDate::from_epoch_days(days.min()?)?,
        NaiveDate::from_epoch_days(days.max()?)?,
    ))
}

fn is_inside(child: &Path, parent: &Path) -> bool {
    match (std::fs::canonicalize(parent), canonical_or_parent(child)) {
        (Ok(p), Some(c)) => p.is_dir() && c.starts_with(&p),
        _ => false,
    }
}

/// Canonicalises a path that may not exist yet via its nearest existing ancestor.
fn canonical_or_parent(p: &Path) -> Option<PathBuf> {
    let mut cur = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(&cur) {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return Some(out);
        }
        rest.push(cur.file_name()?.to_owned());
        cur = cur.parent()?.to_path_buf();
        if cur.as_os_str().is_empty() {
            cur = PathBuf::from(".");
        }
    }
}

/// Refuses an output folder inside any evidence input.
pub fn check_output_dir(inputs: &[PathBuf], out: &Path) -> Result<()> {
    for i in inputs {
        if is_inside(out, i) {
            return Err(PipelineError::OutputInsideEvidence(
                out.display().to_string(),
            ));
        }
    }
    Ok(())
}

/// Runs the pipeline's stages that exist today (ingest + frame).
pub fn run(req: &Request, progress: &Progress) -> Result<Outcome> {
    tracing::info!(inputs = req.inputs.len(), "ingest started");
    let opts = gs_ingest::IngestOptions {
        frame_only: req.frame_only && !req.skip_frame,
        ..req.ingest.clone()
    };
    let mut ingest = gs_ingest::ingest(&req.inputs, &opts, progress)?;
    if progress.is_cancelled() {
        return Err(PipelineError::Ingest(gs_ingest::IngestError::Cancelled));
    }
    progress.set_stage("frame");
    let frame = if req.skip_frame {
        DataFrame::empty()
    } else if let Some(f) = ingest.frame.take() {
        f
    } else {
        gs_types::schema::to_frame(&ingest.transactions)?
    };
    progress.set_stage("done");
    tracing::info!(
        files = ingest.manifest.len(),
        transactions = ingest.transactions.len().max(frame.height()),
        "ingest finished"
    );
    Ok(Outcome {
        ingest,
        frame,
        stages: vec![Stage::Ingest],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_inside_evidence_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ev = dir.path().join("evidence");
        std::fs::create_dir_all(&ev).unwrap();
        assert!(check_output_dir(std::slice::from_ref(&ev), &ev.join("out")).is_err());
        assert!(check_output_dir(std::slice::from_ref(&ev), &ev.join("a/b/c")).is_err());
        assert!(check_output_dir(&[ev], &dir.path().join("out")).is_ok());
    }

    #[test]
    fn empty_folder_gives_empty_frame() {
        let dir = tempfile::tempdir().unwrap();
        let out = run(
            &Request {
                inputs: vec![dir.path().to_path_buf()],
                ..Default::default()
            },
            &Progress::new(),
        )
        .unwrap();
        assert_eq!(out.frame.height(), 0);
        assert_eq!(out.frame.width(), gs_types::schema::COLUMNS.len());
        assert_eq!(CaseSummary::of(&out.ingest).files, 0);
    }
}

#[cfg(test)]
mod frame_tests {
    use super::*;

    #[test]
    fn skip_frame_keeps_transactions_without_a_frame() {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/demo-case");
        let req = |skip_frame| Request {
            inputs: vec![demo.clone()],
            skip_frame,
            ..Default::default()
        };
        let with = run(&req(false), &Progress::new()).unwrap();
        let without = run(&req(true), &Progress::new()).unwrap();
        assert_eq!(with.frame.height(), with.ingest.transactions.len());
        assert_eq!(without.frame.height(), 0);
        assert_eq!(without.ingest.transactions, with.ingest.transactions);
    }

    #[test]
    fn frame_only_gives_the_same_frame_and_summary() {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/demo-case");
        let plain = run(
            &Request {
                inputs: vec![demo.clone()],
                ..Default::default()
            },
            &Progress::new(),
        )
        .unwrap();
        for stream_min_bytes in [IngestOptions::default().stream_min_bytes, 0] {
            let framed = run(
                &Request {
                    inputs: vec![demo.clone()],
                    frame_only: true,
                    ingest: IngestOptions {
                        stream_min_bytes,
                        ..IngestOptions::default()
                    },
                    ..Default::default()
                },
                &Progress::new(),
            )
            .unwrap();
            assert!(framed.ingest.transactions.is_empty());
            assert!(plain.frame.equals_missing(&framed.frame));
            let summary = CaseSummary::of_outcome(&framed);
            assert_eq!(summary, CaseSummary::of(&plain.ingest));
            assert_eq!(summary, CaseSummary::of_outcome(&plain));
            assert!(
                summary.accounts > 1 && summary.date_span.is_some(),
                "{summary:?}"
            );
        }
    }
}

#[cfg(test)]
mod cancel_tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Cancelling a large ingest stops it promptly and leaves nothing half-done behind.
    #[test]
    fn cancel_stops_a_large_ingest_promptly() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("umsatz.CSV");
        gs_synth::write_bulk_bank_csv(&csv, 300_000, 3).unwrap();
        let progress = Progress::new();
        let p = progress.clone();
        let req = Request {
            inputs: vec![csv],
            ..Default::default()
        };
        let worker = std::thread::Builder::new()
            .name("ingest-test".into())
            .spawn(move || run(&req, &p))
            .unwrap();
        // Wait until rows are being read, then cancel.
        let start = Instant::now();
        while progress.snapshot().rows == 0
            && !worker.is_finished()
            && start.elapsed() < Duration::from_mins(1)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let cancelled_at = Instant::now();
        progress.cancel();
        let result = worker.join().unwrap();
        let took = cancelled_at.elapsed();
        assert!(
            matches!(
                result,
                Err(PipelineError::Ingest(gs_ingest::IngestError::Cancelled))
            ),
            "{result:?}"
        );
        // Generous bound for a debug build on a loaded 2-core machine; release is far below 1 s.
        assert!(took < Duration::from_secs(5), "cancel took {took:?}");
    }
}
