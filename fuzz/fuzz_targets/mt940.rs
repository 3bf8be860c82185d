//! Fuzz target: the mt940 reader must never panic or hang on arbitrary bytes.
#![no_main]

use gs_ingest::formats::mt940::Mt940Importer;
use gs_ingest::{ImportContext, Importer, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = SourceFile::from_bytes("fuzz.input", data.to_vec());
    let progress = gs_jobs::Progress::new();
    let ctx = ImportContext { mappings: &[], progress: &progress };
    if Mt940Importer.detect(&file).is_some() {
        let _ = Mt940Importer.import(&file, &ctx);
    }
    let _ = Mt940Importer.import(&file, &ctx);
});
