//! Progress counters, stage labels and cancellation for background jobs.
//!
//! Core crates report progress through [`Progress`] and check [`Progress::is_cancelled`];
//! the UI (or the CLI's progress bar) reads the same atomics from another thread. A `wake`
//! callback (the UI passes `request_repaint`) keeps this crate free of any GUI dependency.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Callback invoked when progress changes noticeably (e.g. egui's `request_repaint`).
pub type WakeFn = Arc<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    files_total: AtomicU64,
    files_done: AtomicU64,
    bytes_total: AtomicU64,
    bytes_done: AtomicU64,
    rows: AtomicU64,
    stage: Mutex<String>,
    current: Mutex<String>,
    wake: Mutex<Option<WakeFn>>,
    in_flight: Mutex<std::collections::BTreeMap<String, Arc<FileCounter>>>,
}

/// Progress of one file being read.
#[derive(Debug, Default)]
struct FileCounter {
    bytes: u64,
    rows: AtomicU64,
    started: Mutex<Option<std::time::Instant>>,
}

/// One file being read right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInFlight {
    /// Evidence path.
    pub path: String,
    /// File size.
    pub bytes: u64,
    /// Transactions read from it so far.
    pub rows: u64,
    /// Milliseconds since it was started.
    pub elapsed_ms: u64,
}

/// Shared progress state and cancel flag of one job. Cheap to clone.
#[derive(Clone, Default)]
pub struct Progress {
    inner: Arc<Inner>,
    /// Set on the handle given to one file's importer: rows are counted for the file too.
    file: Option<Arc<FileCounter>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}

/// A consistent-enough copy of the counters for display.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Current stage label (e.g. "ingest", "graph").
    pub stage: String,
    /// File (or item) being worked on.
    pub current: String,
    /// Files known so far.
    pub files_total: u64,
    /// Files finished (loaded, skipped or failed).
    pub files_done: u64,
    /// Bytes of all known files.
    pub bytes_total: u64,
    /// Bytes of finished files.
    pub bytes_done: u64,
    /// Transactions read so far.
    pub rows: u64,
    /// Cancel was requested.
    pub cancelled: bool,
    /// Files being read right now (sorted by path).
    pub in_flight: Vec<FileInFlight>,
}

impl Progress {
    /// New, not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the callback that is called on progress changes.
    pub fn set_wake(&self, wake: WakeFn) {
        if let Ok(mut w) = self.inner.wake.lock() {
            *w = Some(wake);
        }
    }

    fn wake(&self) {
        let w = self.inner.wake.lock().ok().and_then(|w| w.clone());
        if let Some(w) = w {
            w();
        }
    }

    /// Asks the job to stop at the next check.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// True once [`Progress::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }

    /// Sets the stage label.
    pub fn set_stage(&self, stage: &str) {
        if let Ok(mut s) = self.inner.stage.lock() {
            stage.clone_into(&mut s);
        }
        self.wake();
    }

    /// Sets the item being worked on.
    pub fn set_current(&self, current: &str) {
        if let Ok(mut s) = self.inner.current.lock() {
            current.clone_into(&mut s);
        }
    }

    /// Adds files (and their bytes) to the totals.
    pub fn add_files(&self, files: u64, bytes: u64) {
        self.inner.files_total.fetch_add(files, Ordering::Relaxed);
        self.inner.bytes_total.fetch_add(bytes, Ordering::Relaxed);
        self.wake();
    }

    /// Marks one file (of `bytes`) as finished.
    pub fn file_done(&self, bytes: u64) {
        self.inner.files_done.fetch_add(1, Ordering::Relaxed);
        self.inner.bytes_done.fetch_add(bytes, Ordering::Relaxed);
        self.wake();
    }

    /// Counts transactions read (for the job and, on a file handle, for that file).
    pub fn add_rows(&self, rows: u64) {
        self.inner.rows.fetch_add(rows, Ordering::Relaxed);
        if let Some(f) = &self.file {
            f.rows.fetch_add(rows, Ordering::Relaxed);
        }
    }

    /// Starts reading `path` (`bytes` long): returns a handle for that file's importer that
    /// shares the cancel flag and counters of this job and counts the file's own rows.
    #[must_use]
    pub fn begin_file(&self, path: &str, bytes: u64) -> Progress {
        let counter = Arc::new(FileCounter {
            bytes,
            rows: AtomicU64::new(0),
            started: Mutex::new(Some(std::time::Instant::now())),
        });
        if let Ok(mut m) = self.inner.in_flight.lock() {
            m.insert(path.to_owned(), Arc::clone(&counter));
        }
        self.wake();
        Progress {
            inner: Arc::clone(&self.inner),
            file: Some(counter),
        }
    }

    /// Finishes reading `path` (removes it from the in-flight list).
    pub fn end_file(&self, path: &str) {
        if let Ok(mut m) = self.inner.in_flight.lock() {
            m.remove(path);
        }
    }

    /// Copies the counters.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let i = &self.inner;
        ProgressSnapshot {
            stage: i.stage.lock().map(|s| s.clone()).unwrap_or_default(),
            current: i.current.lock().map(|s| s.clone()).unwrap_or_default(),
            files_total: i.files_total.load(Ordering::Relaxed),
            files_done: i.files_done.load(Ordering::Relaxed),
            bytes_total: i.bytes_total.load(Ordering::Relaxed),
            bytes_done: i.bytes_done.load(Ordering::Relaxed),
            rows: i.rows.load(Ordering::Relaxed),
            cancelled: i.cancelled.load(Ordering::Relaxed),
            in_flight: i
                .in_flight
                .lock()
                .map(|m| {
                    m.iter()
                        .map(|(path, f)| FileInFlight {
                            path: path.clone(),
                            bytes: f.bytes,
                            rows: f.rows.load(Ordering::Relaxed),
                            elapsed_ms: f
                                .started
                                .lock()
                                .ok()
                                .and_then(|s| *s)
                                .map_or(0, |s| s.elapsed().as_millis() as u64),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn counters_and_cancel_are_shared_across_clones() {
        let p = Progress::new();
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        p.set_wake(Arc::new(move || {
            w.fetch_add(1, Ordering::Relaxed);
        }));
        let q = p.clone();
        q.add_files(3, 300);
        q.file_done(100);
        q.add_rows(42);
        q.set_stage("ingest");
        let s = p.snapshot();
        assert_eq!(
            (s.files_total, s.files_done, s.bytes_done, s.rows),
            (3, 1, 100, 42)
        );
        assert_eq!(s.stage, "ingest");
        assert!(!p.is_cancelled());
        q.cancel();
        assert!(p.is_cancelled());
        assert!(woken.load(Ordering::Relaxed) >= 3);
    }

    #[test]
    fn file_handles_count_their_own_rows() {
        let p = Progress::new();
        let a = p.begin_file("a.csv", 100);
        let b = p.begin_file("b.sta", 50);
        a.add_rows(10);
        b.add_rows(3);
        let s = p.snapshot();
        assert_eq!(s.rows, 13);
        assert_eq!(
            s.in_flight
                .iter()
                .map(|f| (f.path.as_str(), f.rows, f.bytes))
                .collect::<Vec<_>>(),
            vec![("a.csv", 10, 100), ("b.sta", 3, 50)]
        );
        p.cancel();
        assert!(a.is_cancelled(), "file handles share the job's cancel flag");
        p.end_file("a.csv");
        assert_eq!(p.snapshot().in_flight.len(), 1);
    }
}
