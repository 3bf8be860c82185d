//! Evidence ingestion: a folder of seized files becomes canonical, provenance-carrying
//! transactions.
//!
//! Each format lives in [`formats`] and implements [`Importer`]: detect by content, fail fast
//! with "not mine", import with per-row warnings. [`ingest()`] walks inputs, hashes every file,
//! picks an importer, runs files in parallel (rayon), reconciles statement balances, links
//! mirrored transfers and returns the transactions plus the evidence manifest.

pub mod channel;
pub mod error;
pub mod formats;
pub mod importer;
pub mod ingest;
pub mod mapping;
pub mod mirror;
pub mod output;
pub mod reconcile;
pub mod rows;
pub mod text;
pub mod walk;

pub use error::{IngestError, Result};
pub use importer::{ImportContext, ImportOutput, Importer, SourceFile, StatementSummary};
pub use ingest::{IngestOptions, IngestResult, UsedMapping, ingest};
pub use mapping::TableMapping;
