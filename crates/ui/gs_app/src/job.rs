//! The ingest job: a named background thread running the pipeline, with progress atomics, a
//! cancel flag, a generation id (stale results are dropped) and a bounded result channel.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Instant;

use gs_jobs::Progress;

use crate::state::Case;

/// A running ingest.
pub struct IngestJob {
    /// Increases with every job; results of older generations are ignored.
    pub generation: u64,
    /// Shared progress / cancel flag.
    pub progress: Progress,
    /// Inputs of this job.
    pub inputs: Vec<PathBuf>,
    /// Start time (for files/s).
    pub started: Instant,
    rx: Receiver<(u64, gs_pipeline::Result<JobOutput>)>,
}

/// A finished job's result: the merged case, ready to replace the current one (merging and
/// mirror linking over a million rows happen here, off the UI thread).
pub struct JobOutput {
    /// The case with the new evidence merged in.
    pub case: Case,
    /// Files and transactions read by this job.
    pub files: u64,
    /// Transactions read by this job.
    pub rows: u64,
    /// "path: reason" of files that failed in this job.
    pub failed: Vec<String>,
    /// (path, count) of files from which rows could not be read (data loss: shown as errors).
    pub dropped_rows: Vec<(String, usize)>,
}

/// What polling a job gave.
pub enum JobPoll {
    /// Still running.
    Running,
    /// Finished (successfully, cancelled or failed).
    Done(gs_pipeline::Result<JobOutput>),
    /// The worker thread died without a result.
    Lost,
}

impl IngestJob {
    /// Starts the job on a thread named `ingest-<generation>`. `wake` is called on progress
    /// (the app passes egui's `request_repaint`).
    pub fn start(
        generation: u64,
        inputs: Vec<PathBuf>,
        base: Case,
        wake: gs_jobs::WakeFn,
    ) -> std::io::Result<Self> {
        let progress = Progress::new();
        progress.set_wake(wake.clone());
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        // The window keeps the transactions, not a Polars frame.
        let request = gs_pipeline::Request {
            inputs: inputs.clone(),
            skip_frame: true,
            ..Default::default()
        };
        let p = progress.clone();
        std::thread::Builder::new()
            .name(format!("ingest-{generation}"))
            .spawn(move || {
                let result = gs_pipeline::run(&request, &p).map(|outcome| {
                    let files = outcome.ingest.manifest.len() as u64;
                    let rows = outcome.ingest.transactions.len() as u64;
                    let failed = outcome
                        .ingest
                        .manifest
                        .iter()
                        .filter_map(|e| match &e.status {
                            gs_types::EvidenceStatus::Failed { reason } => {
                                Some(format!("{}: {reason}", e.path))
                            }
                            _ => None,
                        })
                        .collect();
                    let dropped_rows = outcome
                        .ingest
                        .manifest
                        .iter()
                        .map(|e| {
                            (
                                e.path.clone(),
                                e.issues
                                    .iter()
                                    .filter(|i| i.severity == gs_types::Severity::Error)
                                    .count(),
                            )
                        })
                        .filter(|(_, n)| *n > 0)
                        .collect();
                    p.set_stage("merging");
                    let mut case = base;
                    case.merge(outcome.ingest, request.ingest.mirror_window_days);
                    JobOutput {
                        case,
                        files,
                        rows,
                        failed,
                        dropped_rows,
                    }
                });
                let _ = tx.send((generation, result));
                wake();
            })?;
        Ok(Self {
            generation,
            progress,
            inputs,
            started: Instant::now(),
            rx,
        })
    }

    /// Non-blocking poll.
    pub fn poll(&self) -> JobPoll {
        match self.rx.try_recv() {
            Ok((generation, result)) if generation == self.generation => JobPoll::Done(result),
            Ok(_) | Err(TryRecvError::Empty) => JobPoll::Running,
            Err(TryRecvError::Disconnected) => JobPoll::Lost,
        }
    }

    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.progress.cancel();
    }
}
