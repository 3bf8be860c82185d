//! Fuzz target: the camt reader must never panic or hang on arbitrary bytes.
#![no_main]

use gs_ingest::formats::camt::CamtImporter;
use gs_ingest::{ImportContext, Importer, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = SourceFile::from_bytes("fuzz.input", data.to_vec());
    let progress = gs_jobs::Progress::new();
    let ctx = ImportContext { mappings: &[], progress: &progress };
    if CamtImporter.detect(&file).is_some() {
        let _ = CamtImporter.import(&file, &ctx);
    }
    let _ = CamtImporter.import(&file, &ctx);
});
