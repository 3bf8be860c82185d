//! The `Importer` trait every format module implements, and what an import returns.

use std::ops::Range;
use std::sync::OnceLock;

use gs_jobs::Progress;
use gs_types::{EvidenceIssue, Money, PartyRef, Severity, Transaction};
use polars::prelude::DataFrame;

use crate::error::Result;
use crate::mapping::TableMapping;
use crate::rows::FrameSink;
use crate::text::{self, Decoded};

/// An evidence file (or archive member) in memory, read once, never written.
pub struct SourceFile {
    /// Path relative to the evidence root (`/`-separated; archive members `a.zip!/b.xml`).
    pub rel_path: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Full SHA-256 hex of `bytes`.
    pub sha256: String,
    decoded: OnceLock<Decoded<'static>>,
}

impl SourceFile {
    /// Wraps bytes read from disk.
    pub fn new(rel_path: String, bytes: Vec<u8>, sha256: String) -> Self {
        Self {
            rel_path,
            bytes,
            sha256,
            decoded: OnceLock::new(),
        }
    }

    /// Builds a file from bytes, hashing them (tests, archive members).
    pub fn from_bytes(rel_path: &str, bytes: Vec<u8>) -> Self {
        let sha = crate::walk::sha256_hex(&bytes);
        Self::new(rel_path.to_owned(), bytes, sha)
    }

    /// Lower-case file name extension (a hint only; detection is by content).
    pub fn extension(&self) -> String {
        self.rel_path
            .rsplit('/')
            .next()
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// Decoded text of the whole file (decoded once, cached).
    pub fn text(&self) -> &Decoded<'static> {
        self.decoded.get_or_init(|| {
            let d = text::decode(&self.bytes);
            Decoded {
                text: std::borrow::Cow::Owned(d.text.into_owned()),
                encoding: d.encoding,
                had_bom: d.had_bom,
                had_errors: d.had_errors,
            }
        })
    }

    /// Decoded text of the first `max` bytes (for detection; cheap).
    pub fn head(&self, max: usize) -> String {
        text::head_text(&self.bytes, max)
    }

    /// True when the head looks binary.
    pub fn is_binary(&self) -> bool {
        text::looks_binary(&self.bytes)
    }
}

/// What an importer may use while importing.
#[derive(Clone, Copy)]
pub struct ImportContext<'a> {
    /// User-given table mappings (`--mapping FILE`), tried before automatic detection.
    pub mappings: &'a [TableMapping],
    /// Progress and cancellation; importers call `add_rows` and check `is_cancelled` now and then.
    pub progress: &'a Progress,
    /// Frame mode (see [`crate::rows`]): importers that stream (the CSV table engine) hand
    /// their rows in batches to this sink and return frame chunks instead of transactions.
    /// Importers that do not stream ignore it; their transactions are converted afterwards.
    pub frames: Option<&'a FrameSink>,
}

/// Summary of one statement inside a file, used to reconcile balances.
#[derive(Clone, Debug, Default)]
pub struct StatementSummary {
    /// Human label, e.g. "statement 3 (:20: STARTUMS)".
    pub label: String,
    /// The statement's account.
    pub account: PartyRef,
    /// Currency.
    pub currency: String,
    /// Opening balance (MT940 `:60F:`/`:60M:`, CAMT `OPBD`/`PRCD`).
    pub opening: Option<Money>,
    /// Closing balance (MT940 `:62F:`/`:62M:`, CAMT `CLBD`).
    pub closing: Option<Money>,
    /// Indices of this statement's entries among the file's rows (the rows of
    /// `ImportOutput::frames` first, then `ImportOutput::transactions`).
    pub tx_range: Range<usize>,
}

/// What an importer read from one file.
#[derive(Debug, Default)]
pub struct ImportOutput {
    /// Format name shown to users (e.g. "MT940", "camt.053", "Sparkasse CSV-CAMT V2").
    pub format: String,
    /// Version when known (e.g. "camt.053.001.02").
    pub format_version: Option<String>,
    /// Transactions with `locator`, `source_text` and every field the format has.
    pub transactions: Vec<Transaction>,
    /// Frame mode only: rows already completed by [`ImportContext::frames`] and turned into
    /// canonical frame chunks, in file order; they come before `transactions`.
    pub frames: Vec<DataFrame>,
    /// Frame mode only: rows of `frames` that had no currency (EUR was filled in).
    pub frames_without_currency: usize,
    /// Statements for balance reconciliation (empty when the format has none).
    pub statements: Vec<StatementSummary>,
    /// Warnings and dropped-row errors with locators.
    pub issues: Vec<EvidenceIssue>,
    /// Table mappings that were used (detected or given), written out for review and reuse.
    pub mappings_used: Vec<TableMapping>,
}

impl ImportOutput {
    /// New empty output for a format.
    pub fn new(format: impl Into<String>) -> Self {
        Self {
            format: format.into(),
            ..Self::default()
        }
    }

    /// Rows read: those already in frame chunks plus the transactions.
    pub fn rows(&self) -> usize {
        self.frames.iter().map(DataFrame::height).sum::<usize>() + self.transactions.len()
    }

    /// Adds a warning.
    pub fn warn(&mut self, locator: Option<String>, message: impl Into<String>) {
        self.issues.push(EvidenceIssue {
            severity: Severity::Warning,
            locator,
            message: message.into(),
        });
    }

    /// Adds an info note.
    pub fn info(&mut self, locator: Option<String>, message: impl Into<String>) {
        self.issues.push(EvidenceIssue {
            severity: Severity::Info,
            locator,
            message: message.into(),
        });
    }

    /// Records a dropped row (data loss: an error, never silent).
    pub fn row_error(&mut self, locator: Option<String>, message: impl Into<String>) {
        self.issues.push(EvidenceIssue {
            severity: Severity::Error,
            locator,
            message: message.into(),
        });
    }
}

/// A reader for one family of formats. Detection is by content, never by extension alone.
pub trait Importer: Send + Sync {
    /// Short stable id (`mt940`, `camt`, `bank_csv`, `table`, `pdf`, `datev`, `ofx`).
    fn id(&self) -> &'static str;

    /// Cheap content check: `None` = "not mine", else a confidence 1–100. Must not parse the
    /// whole file and must never panic.
    fn detect(&self, file: &SourceFile) -> Option<u8>;

    /// Reads the file. A broken file is an `Err` naming the reason; broken rows inside an
    /// otherwise readable file are `row_error`s in the output, and the rest still loads.
    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput>;
}

/// The message of a caught panic (third-party parsers run under `catch_unwind`).
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}
