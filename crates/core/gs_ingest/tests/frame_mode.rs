//! Frame mode (`IngestOptions::frame_only`, what `geldspur ingest` runs) must give exactly the
//! rows, manifest and mirrors of transaction mode (what the window and `analyze` run), on every
//! real fixture and on the demo case (which has mirrored transfers between several accounts).
// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use gs_ingest::{IngestOptions, ingest};
use gs_jobs::Progress;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// Transaction mode against frame mode, once with the default streaming threshold (small files
/// stay transactions) and once streaming every file.
fn both_modes(input: &Path) -> (usize, usize) {
    let mut out = (0, 0);
    for stream_min_bytes in [IngestOptions::default().stream_min_bytes, 0] {
        out = compare(input, stream_min_bytes);
    }
    out
}

fn compare(input: &Path, stream_min_bytes: u64) -> (usize, usize) {
    let plain = ingest(
        &[input.to_path_buf()],
        &IngestOptions::default(),
        &Progress::new(),
    )
    .unwrap();
    let framed = ingest(
        &[input.to_path_buf()],
        &IngestOptions {
            frame_only: true,
            stream_min_bytes,
            ..IngestOptions::default()
        },
        &Progress::new(),
    )
    .unwrap();
    assert!(framed.transactions.is_empty(), "frame mode keeps no rows");
    assert!(plain.frame.is_none(), "transaction mode builds no frame");
    assert_eq!(plain.manifest, framed.manifest);
    assert_eq!(plain.mappings_used, framed.mappings_used);
    assert_eq!(plain.mirrors, framed.mirrors);
    let expected = gs_types::schema::to_frame(&plain.transactions).unwrap();
    let got = framed.frame.as_ref().unwrap();
    assert_eq!(got.height(), plain.transactions.len());
    assert_eq!(framed.row_count(), plain.row_count());
    assert!(
        expected.equals_missing(got),
        "frames differ for {}",
        input.display()
    );
    // what `geldspur ingest` writes: the streamed frame (chunks, constant columns, views into
    // the shared text) round-trips through parquet
    let dir = tempfile::tempdir().unwrap();
    let mut written = got.clone();
    gs_ingest::output::write(&framed, &mut written, dir.path()).unwrap();
    let back = gs_ingest::output::read_transactions(
        &dir.path().join(gs_ingest::output::TRANSACTIONS_FILE),
    )
    .unwrap();
    assert!(expected.equals_missing(&back), "parquet round trip");
    (plain.transactions.len(), plain.mirrors)
}

#[test]
fn frame_mode_equals_transaction_mode_on_the_demo_case() {
    let (rows, mirrors) = both_modes(&root().join("testdata/demo-case"));
    assert!(rows > 1_000, "{rows} rows");
    assert!(mirrors > 0, "the demo case has mirrored transfers");
}

#[test]
fn frame_mode_equals_transaction_mode_on_every_fixture() {
    let fixtures = root().join("../shared/fixtures").canonicalize().unwrap();
    let (rows, _) = both_modes(&fixtures);
    assert!(rows > 400, "{rows} rows");
}
