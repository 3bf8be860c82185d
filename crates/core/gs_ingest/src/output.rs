//! Writing an ingest run to disk: `transactions.parquet`, `manifest.json`, `mappings/*.toml`.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::error::{IngestError, Result};
use crate::ingest::IngestResult;

/// File names inside the output folder.
pub const TRANSACTIONS_FILE: &str = "transactions.parquet";
/// Evidence manifest file name.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Folder for the table mappings that were used.
pub const MAPPINGS_DIR: &str = "mappings";

#[derive(Serialize)]
struct ManifestDoc<'a> {
    tool: &'static str,
    tool_version: &'static str,
    schema_columns: &'a [&'a str],
    transactions: usize,
    mirrors: usize,
    files: &'a [gs_types::EvidenceFile],
}

fn out_err(path: &Path, e: impl std::fmt::Display) -> IngestError {
    IngestError::Output(format!("{e} — {}", path.display()))
}

/// Makes a file-name-safe slug.
fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.truncate(120);
    out
}

/// Writes the outputs; returns the paths written. `frame` is the canonical frame of the run
/// (built once by the pipeline, or while reading in frame mode; callers may have added columns). The
/// output folder must not be inside the evidence (callers check); existing files of the same
/// names are replaced.
pub fn write(result: &IngestResult, frame: &mut DataFrame, out_dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).map_err(|e| out_err(out_dir, e))?;
    let mut written = Vec::new();

    let pq = out_dir.join(TRANSACTIONS_FILE);
    let f = std::fs::File::create(&pq).map_err(|e| out_err(&pq, e))?;
    ParquetWriter::new(f)
        .finish(frame)
        .map_err(|e| out_err(&pq, e))?;
    written.push(pq);

    let doc = ManifestDoc {
        tool: "geldspur",
        tool_version: env!("CARGO_PKG_VERSION"),
        schema_columns: gs_types::schema::COLUMNS,
        transactions: frame.height(),
        mirrors: result.mirrors,
        files: &result.manifest,
    };
    let mf = out_dir.join(MANIFEST_FILE);
    let json = serde_json::to_string_pretty(&doc).map_err(|e| out_err(&mf, e))?;
    std::fs::write(&mf, json).map_err(|e| out_err(&mf, e))?;
    written.push(mf);

    if !result.mappings_used.is_empty() {
        let dir = out_dir.join(MAPPINGS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| out_err(&dir, e))?;
        for (i, used) in result.mappings_used.iter().enumerate() {
            let path = dir.join(format!("{:03}_{}.toml", i + 1, slug(&used.evidence_path)));
            let body = toml::to_string(&used.mapping).map_err(|e| out_err(&path, e))?;
            let text = format!(
                "# Mapping used for evidence file: {}\n# Review it, edit it, and pass it back with --mapping FILE.\n{body}",
                used.evidence_path
            );
            std::fs::write(&path, text).map_err(|e| out_err(&path, e))?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Reads a `transactions.parquet` written by [`write`].
pub fn read_transactions(path: &Path) -> Result<DataFrame> {
    let f = std::fs::File::open(path).map_err(|e| out_err(path, e))?;
    ParquetReader::new(f).finish().map_err(|e| out_err(path, e))
}
