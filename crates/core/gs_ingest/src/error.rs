//! Errors of the ingest crate.

/// Why a file (or the whole ingest) could not be read. Messages name the problem first; the
/// orchestrator appends the evidence path.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Reading from disk failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The input path does not exist.
    #[error("input does not exist: {0}")]
    NotFound(String),
    /// The file is in a known format but broken.
    #[error("{format}: {reason}")]
    Malformed {
        /// Format name (e.g. "MT940").
        format: String,
        /// What is wrong, naming the place (statement, line, element).
        reason: String,
    },
    /// PDF is encrypted.
    #[error("PDF is encrypted (password protected); decrypt a working copy to read it")]
    Encrypted,
    /// PDF has no text layer (scan).
    #[error("PDF has no text layer (scanned image); OCR is not supported")]
    NoTextLayer,
    /// A table whose column roles could not be determined.
    #[error("table columns not recognised: {0}")]
    UnknownLayout(String),
    /// A third-party parser panicked; caught and reported.
    #[error("{format}: parser crashed on this file ({message})")]
    Panicked {
        /// Format name.
        format: String,
        /// Panic message.
        message: String,
    },
    /// Cancelled by the user.
    #[error("cancelled")]
    Cancelled,
    /// Building the canonical frame failed (frame mode).
    #[error("building the canonical frame failed: {0}")]
    Frame(String),
    /// Writing outputs failed.
    #[error("cannot write output: {0}")]
    Output(String),
}

impl IngestError {
    /// Shorthand for [`IngestError::Malformed`].
    pub fn malformed(format: &str, reason: impl Into<String>) -> Self {
        IngestError::Malformed {
            format: format.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = IngestError> = std::result::Result<T, E>;
