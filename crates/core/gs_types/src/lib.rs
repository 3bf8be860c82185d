//! geldspur domain types and the canonical schema.
//!
//! No GUI, no I/O beyond hashing: everything here is shared by ingest, graph, model, case
//! store and report crates.

pub mod dates;
pub mod evidence;
pub mod iban;
pub mod money;
pub mod provenance;
pub mod schema;

pub use evidence::{EvidenceFile, EvidenceIssue, EvidenceStatus, Severity};
pub use iban::{Iban, IbanError};
pub use money::{DecimalSeparator, Money, ParsedAmount};
pub use provenance::{EvidenceId, Locator, TxId, TxIdDeriver, TxIdHex};
pub use schema::{Channel, PartyRef, SourceKind, Transaction};

/// Re-exported so that downstream crates name one chrono.
pub use chrono;
