//! Shared helpers for geldspur's end-to-end benchmarks: input generation and peak memory.

use std::path::{Path, PathBuf};

pub mod eval;

/// Rows of the big bank CSV (override with `GS_BENCH_ROWS`).
pub fn csv_rows() -> usize {
    std::env::var("GS_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Creates (once per run) the benchmark inputs under `dir`; returns the path of the big CSV.
pub fn big_csv(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join(format!("sparkasse_{rows}.csv"));
    if !path.exists() {
        gs_synth::write_bulk_bank_csv(&path, rows, 7).expect("writing the benchmark CSV");
    }
    path
}

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Plain Polars read of a `;`-separated CSV (the baseline the ingest is compared with).
pub fn polars_read_csv(path: &Path) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    CsvReadOptions::default()
        .with_has_header(true)
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(b';')
                .with_encoding(CsvEncoding::LossyUtf8),
        )
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
}
