//! Fuzz target: CSV sniffing and reading (bank profiles and generic tables) must never panic.
#![no_main]

use gs_ingest::formats::{bank_csv::BankCsvImporter, table::TableImporter};
use gs_ingest::{ImportContext, Importer, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = SourceFile::from_bytes("fuzz.csv", data.to_vec());
    let progress = gs_jobs::Progress::new();
    let ctx = ImportContext { mappings: &[], progress: &progress };
    let _ = BankCsvImporter.detect(&file);
    let _ = TableImporter.detect(&file);
    let _ = BankCsvImporter.import(&file, &ctx);
    let _ = TableImporter.import(&file, &ctx);
});
