//! Seeded generator of realistic German seized-evidence folders with injected terror-financing
//! and money-laundering typologies, plus the ground truth to test readers and detectors against.
//!
//! Everything is drawn from one `ChaCha8Rng` seeded by [`Config::seed`]: the same configuration
//! writes byte-identical files (no clock is read anywhere; zip and xlsx timestamps are fixed).
//!
//! * [`generate`] writes an evidence folder (bank statements in eight formats, a DATEV stack,
//!   noise and one broken file) and, outside it, `truth.json` and `transactions.csv`.
//! * [`write_bulk_bank_csv`], [`write_bulk_xlsx`] and [`write_mixed_folder`] write large inputs
//!   for benchmarks.

mod bulk;
mod case;
mod docs;
pub mod ledger;
mod model;
mod names;
mod render;
mod truth;
mod util;

use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

pub use bulk::{
    BulkSummary, MixedSummary, write_bulk_bank_csv, write_bulk_xlsx, write_mixed_folder,
};

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Seed of the `ChaCha8Rng`; the only source of randomness.
    pub seed: u64,
    /// Background persons (family, friends, members, landlords) in the world.
    pub persons: usize,
    /// Months covered by the statements (at least 4; fewer are raised to 4 because the
    /// typologies are placed in months 2 to 5).
    pub months: u32,
    /// First day of the period (moved to the first of its month).
    pub start: NaiveDate,
    /// Distinct donors of the donation fan-in typology (at least 30).
    pub donors: usize,
    /// Multiplier of everyday bookings (card payments, invoices, members).
    pub activity: u32,
}

impl Config {
    /// The small demo case: 8 accounts over 6 months from January 2025, a few thousand bookings.
    pub fn demo() -> Self {
        Self {
            seed: 7,
            persons: 80,
            months: 6,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            donors: 36,
            activity: 6,
        }
    }

    /// A case scaled by the number of background persons and months; everyday activity grows
    /// with the number of persons (one step per 150).
    pub fn with_scale(seed: u64, persons: usize, months: u32) -> Self {
        Self {
            seed,
            persons: persons.max(20),
            months: months.max(4),
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            donors: (persons / 3).max(30),
            activity: u32::try_from(persons / 150).unwrap_or(u32::MAX).max(1),
        }
    }
}

/// What [`generate`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Evidence files written (relative paths; archive members not counted).
    pub files: Vec<String>,
    /// Transactions the readable evidence files hold in total (as the truth counts them).
    pub transactions: usize,
    /// Typology instances injected.
    pub typologies: usize,
    /// Total size of the evidence folder in bytes.
    pub evidence_bytes: u64,
}

/// Writes the evidence folder to `evidence_dir` and the ground truth (`truth.json`,
/// `transactions.csv`) to `truth_dir`, which must not lie inside the evidence folder.
pub fn generate(config: &Config, evidence_dir: &Path, truth_dir: &Path) -> anyhow::Result<Summary> {
    std::fs::create_dir_all(evidence_dir)?;
    std::fs::create_dir_all(truth_dir)?;
    let ev = evidence_dir.canonicalize()?;
    let tr = truth_dir.canonicalize()?;
    if tr.starts_with(&ev) {
        anyhow::bail!(
            "the truth folder {} must not be inside the evidence folder {}",
            tr.display(),
            ev.display()
        );
    }
    let world = model::build(config);
    let files = case::case_files(&world)?;
    let mut summary = Summary::default();
    for f in &files {
        let Some(bytes) = &f.bytes else { continue };
        let path = evidence_dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        summary.files.push(f.path.clone());
        summary.evidence_bytes += bytes.len() as u64;
    }
    let truth = truth::build(&world, &files);
    summary.transactions = truth.files.iter().map(|f| f.transactions).sum();
    summary.typologies = truth.typologies.len();
    std::fs::write(
        truth_dir.join("truth.json"),
        serde_json::to_string_pretty(&truth)? + "\n",
    )?;
    std::fs::write(
        truth_dir.join("transactions.csv"),
        truth::transactions_csv(&truth),
    )?;
    Ok(summary)
}

#[cfg(test)]
mod tests;
