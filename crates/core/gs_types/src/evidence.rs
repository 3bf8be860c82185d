//! The evidence manifest: one entry per file that was looked at.

use serde::{Deserialize, Serialize};

use crate::provenance::EvidenceId;

/// What happened to an evidence file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// Read; `rows` transactions loaded (may be 0 for "no transactions found").
    Loaded {
        /// Transactions loaded from the file.
        rows: usize,
    },
    /// Deliberately not read (not transaction evidence, duplicate, ...).
    Skipped {
        /// Why, in words.
        reason: String,
    },
    /// Tried and failed; nothing from this file is in the frame.
    Failed {
        /// Why, in words.
        reason: String,
    },
}

impl EvidenceStatus {
    /// Short label: loaded / skipped / failed.
    pub fn label(&self) -> &'static str {
        match self {
            EvidenceStatus::Loaded { .. } => "loaded",
            EvidenceStatus::Skipped { .. } => "skipped",
            EvidenceStatus::Failed { .. } => "failed",
        }
    }
}

/// How bad a finding about a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing (an assumption made, an encoding guessed).
    Info,
    /// Data may be incomplete or odd (balance mismatch, invalid IBAN check digits).
    Warning,
    /// Data was lost: a row could not be read and is not in the frame.
    Error,
}

/// A warning or row error with its place in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceIssue {
    /// How bad.
    pub severity: Severity,
    /// Where in the file (locator text), when known.
    pub locator: Option<String>,
    /// What, in words.
    pub message: String,
}

/// One entry of the evidence manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFile {
    /// Content id (first 16 hex of sha256).
    pub id: EvidenceId,
    /// Path relative to the evidence root, `/`-separated; members of archives as `a.zip!/b.xml`.
    pub path: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// File modification time (RFC 3339, UTC) as found on disk, when readable.
    pub modified: Option<String>,
    /// Full SHA-256 hex of the file's bytes.
    pub sha256: String,
    /// Detected format (e.g. `MT940`, `camt.053`, `Sparkasse CSV-CAMT V2`), if any.
    pub format: Option<String>,
    /// Format version (e.g. `camt.053.001.02`), if known.
    pub format_version: Option<String>,
    /// Outcome.
    #[serde(flatten)]
    pub status: EvidenceStatus,
    /// Warnings and row errors, in file order.
    pub issues: Vec<EvidenceIssue>,
}

impl EvidenceFile {
    /// Number of issues at or above `severity`.
    pub fn count_issues(&self, severity: Severity) -> usize {
        self.issues
            .iter()
            .filter(|i| i.severity >= severity)
            .count()
    }
}
