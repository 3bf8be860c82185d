//! The ingest orchestrator: inputs → evidence files → importers (in parallel) → canonical
//! transactions + evidence manifest.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use gs_jobs::Progress;
use gs_types::{
    EvidenceFile, EvidenceId, EvidenceIssue, EvidenceStatus, Locator, Severity, SourceKind,
    Transaction, TxId,
};
use rayon::prelude::*;

use crate::error::{IngestError, Result};
use crate::formats;
use crate::importer::panic_message;
use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};
use crate::mapping::TableMapping;
use crate::rows::{FrameSink, RowFinisher};
use crate::walk::PendingSha;
use crate::{mirror, reconcile};
use polars::prelude::{DataFrame, IntoColumn, PlHashSet, PolarsResult, StringChunked};
use polars_buffer::Buffer;

/// Settings of one ingest run.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// User-given table mappings (`--mapping FILE`), tried before automatic detection.
    pub mappings: Vec<TableMapping>,
    /// Files larger than this are skipped with a reason (they would be read into memory).
    pub max_file_bytes: u64,
    /// Largest total of bytes unpacked from one archive (zip bomb guard).
    pub max_archive_bytes: u64,
    /// Booking dates of mirrored rows may differ by this many days.
    pub mirror_window_days: i64,
    /// Frame mode: build the canonical frame while reading and keep no [`Transaction`]s
    /// (`IngestResult::frame` is set, `IngestResult::transactions` stays empty). Streaming
    /// importers (bank and table CSV) then never hold a whole file as `Transaction`s: the
    /// mode `geldspur ingest` uses. See [`crate::rows`].
    pub frame_only: bool,
    /// Frame mode streams files from this size on (smaller files are read as transactions and
    /// become one frame piece together). Default 8 MiB; tests use 0 to stream every file.
    pub stream_min_bytes: u64,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            mappings: Vec::new(),
            max_file_bytes: 4 << 30,
            max_archive_bytes: 4 << 30,
            mirror_window_days: 4,
            frame_only: false,
            stream_min_bytes: STREAM_MIN_BYTES,
        }
    }
}

/// A mapping that was used for a table, with the evidence it was used for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsedMapping {
    /// Evidence path.
    pub evidence_path: String,
    /// The mapping.
    pub mapping: TableMapping,
}

/// What an ingest run produced.
#[derive(Debug, Default)]
pub struct IngestResult {
    /// All transactions, in manifest order and file order within each file (empty in frame
    /// mode).
    pub transactions: Vec<Transaction>,
    /// Frame mode only: the canonical frame of all rows, in the order `transactions` would
    /// have (see [`IngestOptions::frame_only`]).
    pub frame: Option<DataFrame>,
    /// One entry per file looked at (sorted by path).
    pub manifest: Vec<EvidenceFile>,
    /// Table mappings that were used.
    pub mappings_used: Vec<UsedMapping>,
    /// Rows marked as mirrors of another row.
    pub mirrors: usize,
}

impl IngestResult {
    /// Rows loaded: transactions, or the frame's rows in frame mode.
    pub fn row_count(&self) -> usize {
        self.frame
            .as_ref()
            .map_or(self.transactions.len(), DataFrame::height)
    }

    /// Files that loaded (even with 0 rows).
    pub fn loaded_files(&self) -> usize {
        self.manifest
            .iter()
            .filter(|f| matches!(f.status, EvidenceStatus::Loaded { .. }))
            .count()
    }

    /// Files that failed.
    pub fn failed_files(&self) -> usize {
        self.manifest
            .iter()
            .filter(|f| matches!(f.status, EvidenceStatus::Failed { .. }))
            .count()
    }
}

struct Candidate {
    abs: PathBuf,
    rel: String,
}

fn rel_string(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Lists the files below the inputs, sorted by relative path. A single folder input is the
/// evidence root; with several inputs each keeps its own name as the first path component.
fn collect(inputs: &[PathBuf]) -> Result<Vec<Candidate>> {
    let mut out = Vec::new();
    let single_dir = inputs.len() == 1 && inputs[0].is_dir();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .map_err(|_| IngestError::NotFound(input.display().to_string()))?;
        let name = input.file_name().map_or_else(
            || input.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        if meta.is_dir() {
            for entry in walkdir::WalkDir::new(input)
                .follow_links(false)
                .sort_by_file_name()
            {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        // Unreadable folder: keep going, report it as a file-level failure.
                        let path = e.path().map_or_else(|| input.clone(), Path::to_path_buf);
                        let rel = path
                            .strip_prefix(input)
                            .map_or_else(|_| path.display().to_string(), rel_string);
                        out.push(Candidate {
                            abs: path,
                            rel: if single_dir {
                                rel
                            } else {
                                format!("{name}/{rel}")
                            },
                        });
                        continue;
                    }
                };
                if entry.file_type().is_dir() {
                    continue;
                }
                let rel = entry
                    .path()
                    .strip_prefix(input)
                    .map(rel_string)
                    .unwrap_or_default();
                let rel = if single_dir {
                    rel
                } else {
                    format!("{name}/{rel}")
                };
                out.push(Candidate {
                    abs: entry.path().to_path_buf(),
                    rel,
                });
            }
        } else {
            out.push(Candidate {
                abs: input.clone(),
                rel: name,
            });
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.dedup_by(|a, b| a.rel == b.rel);
    Ok(out)
}

/// The outcome for one file (or archive member).
struct FileOutcome {
    entry: EvidenceFile,
    txs: Vec<Transaction>,
    /// Frame mode: the file's rows.
    frame: Option<DataFrame>,
    mappings: Vec<TableMapping>,
}

impl FileOutcome {
    /// A file that produced no transactions (skipped, failed, or an archive's own entry).
    fn only(entry: EvidenceFile) -> Vec<FileOutcome> {
        vec![FileOutcome {
            entry,
            txs: Vec::new(),
            frame: None,
            mappings: Vec::new(),
        }]
    }
}

fn modified_rfc3339(meta: &std::fs::Metadata) -> Option<String> {
    let t = meta.modified().ok()?;
    let dt: gs_types::chrono::DateTime<gs_types::chrono::Utc> = t.into();
    Some(dt.to_rfc3339_opts(gs_types::chrono::SecondsFormat::Secs, true))
}

fn entry(
    rel: &str,
    size: u64,
    modified: Option<String>,
    sha256: String,
    status: EvidenceStatus,
) -> EvidenceFile {
    EvidenceFile {
        id: EvidenceId::from_sha256(&sha256),
        path: rel.to_owned(),
        size_bytes: size,
        modified,
        sha256,
        format: None,
        format_version: None,
        status,
        issues: Vec::new(),
    }
}

fn skipped(reason: impl Into<String>) -> EvidenceStatus {
    EvidenceStatus::Skipped {
        reason: reason.into(),
    }
}

fn failed(reason: impl Into<String>) -> EvidenceStatus {
    EvidenceStatus::Failed {
        reason: reason.into(),
    }
}

/// Says what a file without a recognised format is, for the "skipped" reason.
fn describe_unrecognised(bytes: &[u8], file: &SourceFile) -> String {
    let kind = if bytes.starts_with(b"\x89PNG") {
        "PNG image"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "JPEG image"
    } else if bytes.starts_with(b"GIF8") {
        "GIF image"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "TIFF image"
    } else if bytes.starts_with(b"PK\x03\x04") {
        "office document or archive"
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "legacy office document"
    } else if bytes.starts_with(b"%PDF") {
        "PDF"
    } else if file.is_binary() {
        "binary file"
    } else {
        "text file"
    };
    format!("not transaction evidence: {kind} in no known bank or table format")
}

fn is_plain_archive(bytes: &[u8]) -> bool {
    if !bytes.starts_with(b"PK\x03\x04") {
        return false;
    }
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return false;
    };
    // Office documents (xlsx, ods, docx) are zips too: they go to the table reader or are skipped.
    let office = zip.by_name("[Content_Types].xml").is_ok() || zip.by_name("mimetype").is_ok();
    !office
}

struct Run<'a> {
    importers: Vec<Box<dyn Importer>>,
    opts: &'a IngestOptions,
    progress: &'a Progress,
}

impl Run<'_> {
    /// `meta` is the candidate's `symlink_metadata`, read once when the inputs were listed.
    fn process_candidate(
        &self,
        cand: &Candidate,
        meta: &std::io::Result<std::fs::Metadata>,
    ) -> Vec<FileOutcome> {
        self.progress.set_current(&cand.rel);
        let meta = match meta {
            Ok(m) => m,
            Err(e) => {
                return FileOutcome::only(entry(
                    &cand.rel,
                    0,
                    None,
                    String::new(),
                    failed(format!("cannot read: {e}")),
                ));
            }
        };
        let size = meta.len();
        let modified = modified_rfc3339(meta);
        let not_read = |status| {
            FileOutcome::only(entry(
                &cand.rel,
                size,
                modified.clone(),
                String::new(),
                status,
            ))
        };
        let outcomes = if meta.file_type().is_symlink() {
            not_read(skipped("symbolic link (not followed)"))
        } else if !meta.is_file() {
            not_read(skipped("not a regular file"))
        } else if size > self.opts.max_file_bytes {
            not_read(skipped(format!(
                "file too large ({size} bytes > limit {})",
                self.opts.max_file_bytes
            )))
        } else {
            // opened read-only; evidence is never written.
            match crate::walk::read_evidence(&cand.abs) {
                Ok(bytes) => {
                    let bytes = Buffer::from(bytes);
                    // a big file is hashed while it is detected, decoded and parsed
                    let sha = PendingSha::start(&bytes);
                    self.process_bytes(&cand.rel, bytes, sha, modified.clone(), 0)
                }
                Err(e) => not_read(failed(format!("cannot read: {e}"))),
            }
        };
        self.progress.file_done(size);
        outcomes
    }

    /// One file's bytes (read, or unpacked from an archive) and their hash, which may still be
    /// being taken: it is waited for only once the file's rows are read.
    fn process_bytes(
        &self,
        rel: &str,
        bytes: Buffer<u8>,
        sha: PendingSha,
        modified: Option<String>,
        depth: u32,
    ) -> Vec<FileOutcome> {
        let size = bytes.len() as u64;
        let hashed = |sha: PendingSha| {
            sha.wait().map_err(|e| {
                FileOutcome::only(entry(
                    rel,
                    size,
                    modified.clone(),
                    String::new(),
                    failed(e.to_string()),
                ))
            })
        };
        if bytes.is_empty() || is_plain_archive(&bytes) {
            let sha = match hashed(sha) {
                Ok(s) => s,
                Err(e) => return e,
            };
            if bytes.is_empty() {
                return FileOutcome::only(entry(rel, 0, modified, sha, skipped("empty file")));
            }
            return self.process_archive(rel, &bytes, sha, modified, depth);
        }
        let mut file = SourceFile::new(rel.to_owned(), bytes);
        let mut best: Option<(u8, usize)> = None;
        for (i, imp) in self.importers.iter().enumerate() {
            let conf = catch_unwind(AssertUnwindSafe(|| imp.detect(&file)))
                .ok()
                .flatten();
            if let Some(c) = conf
                && best.is_none_or(|(b, _)| c > b)
            {
                best = Some((c, i));
            }
        }
        let Some((_, idx)) = best else {
            let reason = describe_unrecognised(&file.bytes, &file);
            return match hashed(sha) {
                Ok(sha) => FileOutcome::only(entry(rel, size, modified, sha, skipped(reason))),
                Err(e) => e,
            };
        };
        let importer = &self.importers[idx];
        // a big windows-1252 export becomes UTF-8 in its own memory (or, while its hash is
        // being taken, in new memory): never held twice for long (a user mapping may send
        // the file to the table importer, which can re-decode the raw bytes with the
        // mapping's encoding)
        if importer.reads_text_only()
            && self.opts.mappings.is_empty()
            && size >= TRANSCODE_MIN_BYTES
        {
            file.transcode_in_place();
        }
        // The importer gets a per-file handle: rows count for the job and for this file.
        let file_progress = self.progress.begin_file(rel, size);
        // frame mode streams big files only: a small file's rows are few, and one frame for
        // all small files at the end is cheaper than a frame each
        let sink = (self.opts.frame_only && size >= self.opts.stream_min_bytes)
            .then(|| FrameSink::new(rel.to_owned()));
        let ctx = ImportContext {
            mappings: &self.opts.mappings,
            progress: &file_progress,
            frames: sink.as_ref(),
        };
        let result = catch_unwind(AssertUnwindSafe(|| importer.import(&file, &ctx)))
            .unwrap_or_else(|p| {
                Err(IngestError::Panicked {
                    format: importer.id().to_owned(),
                    message: panic_message(p.as_ref()),
                })
            });
        self.progress.end_file(rel);
        drop(file);
        let sha = match hashed(sha) {
            Ok(s) => s,
            Err(e) => return e,
        };
        let mut e = entry(rel, size, modified, sha.clone(), skipped(""));
        match result {
            Ok(out) => {
                let (rows, mappings) = finalize(&mut e, &sha, out);
                let (txs, frame) = match rows {
                    Rows::Transactions(t) => (t, None),
                    Rows::Frame(f) => (Vec::new(), Some(f)),
                };
                vec![FileOutcome {
                    entry: e,
                    txs,
                    frame,
                    mappings,
                }]
            }
            Err(IngestError::Cancelled) => {
                e.status = failed("cancelled");
                FileOutcome::only(e)
            }
            Err(err) => {
                e.status = failed(err.to_string());
                e.format = Some(format_label(importer.id()).to_owned());
                FileOutcome::only(e)
            }
        }
    }

    fn process_archive(
        &self,
        rel: &str,
        bytes: &[u8],
        sha: String,
        modified: Option<String>,
        depth: u32,
    ) -> Vec<FileOutcome> {
        let size = bytes.len() as u64;
        let mut archive_entry = entry(rel, size, modified, sha, EvidenceStatus::Loaded { rows: 0 });
        archive_entry.format = Some("ZIP archive".to_owned());
        if depth >= 2 {
            archive_entry.status = skipped("archive nested too deeply (more than 2 levels)");
            return FileOutcome::only(archive_entry);
        }
        let mut zip = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
            Ok(z) => z,
            Err(e) => {
                archive_entry.status = failed(format!("ZIP archive unreadable: {e}"));
                return FileOutcome::only(archive_entry);
            }
        };
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        let mut total: u64 = 0;
        for i in 0..zip.len() {
            let mut f = match zip.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    archive_entry.issues.push(EvidenceIssue {
                        severity: Severity::Error,
                        locator: Some(format!("member={}", i + 1)),
                        message: format!("archive member unreadable: {e}"),
                    });
                    continue;
                }
            };
            if f.is_dir() {
                continue;
            }
            let name = match f.name() {
                Ok(n) => n.replace('\\', "/"),
                Err(e) => {
                    archive_entry.issues.push(EvidenceIssue {
                        severity: Severity::Error,
                        locator: Some(format!("member={}", i + 1)),
                        message: format!("archive member name unreadable: {e}"),
                    });
                    continue;
                }
            };
            let budget = self.opts.max_archive_bytes.saturating_sub(total);
            let mut buf = Vec::new();
            if let Err(e) = (&mut f)
                .take(budget.min(self.opts.max_file_bytes) + 1)
                .read_to_end(&mut buf)
            {
                archive_entry.issues.push(EvidenceIssue {
                    severity: Severity::Error,
                    locator: Some(format!("member={name}")),
                    message: format!("archive member unreadable: {e}"),
                });
                continue;
            }
            if buf.len() as u64 > budget.min(self.opts.max_file_bytes) {
                archive_entry.issues.push(EvidenceIssue {
                    severity: Severity::Error,
                    locator: Some(format!("member={name}")),
                    message: "archive member too large to unpack (zip bomb guard); not read"
                        .to_owned(),
                });
                break;
            }
            total += buf.len() as u64;
            members.push((name, buf));
        }
        archive_entry.issues.push(EvidenceIssue {
            severity: Severity::Info,
            locator: None,
            message: format!(
                "{} members, each listed as its own evidence entry",
                members.len()
            ),
        });
        let mut outcomes: Vec<FileOutcome> = members
            .into_par_iter()
            .flat_map_iter(|(name, buf)| {
                let buf = Buffer::from(buf);
                let sha = PendingSha::start(&buf);
                self.process_bytes(&format!("{rel}!/{name}"), buf, sha, None, depth + 1)
            })
            .collect();
        outcomes.insert(
            0,
            FileOutcome {
                entry: archive_entry,
                txs: vec![],
                frame: None,
                mappings: vec![],
            },
        );
        outcomes
    }
}

/// Display label for an importer id, used when a file fails before the importer names its format.
fn format_label(id: &str) -> &str {
    match id {
        "mt940" => "MT940",
        "camt" => "CAMT",
        "bank_csv" => "bank CSV",
        "table" => "table",
        "pdf" => "PDF",
        "datev" => "DATEV",
        "ofx" => "OFX",
        other => other,
    }
}

/// A file's rows after [`finalize`]: transactions, or (frame mode) its canonical frame.
enum Rows {
    Transactions(Vec<Transaction>),
    Frame(DataFrame),
}

/// Positions of rows whose tx id repeats an earlier row's (two rows with one locator).
fn repeated_ids<'a>(ids: impl Iterator<Item = &'a str>, n: usize) -> Vec<usize> {
    let mut seen: PlHashSet<&str> = PlHashSet::default();
    seen.reserve(n);
    ids.enumerate()
        .filter_map(|(i, id)| (!seen.insert(id)).then_some(i))
        .collect()
}

/// True when the ids are surely pairwise distinct, checked fast and in parallel: every id is
/// 16 lower-case hex digits (as [`TxId::derive`] writes them), packed into a u64 and sorted. False means
/// "maybe not" (an id of another shape, or two equal numbers): [`repeated_ids`] then finds the
/// repeats exactly. Distinct numbers imply distinct texts, so `true` is never wrong.
fn ids_surely_distinct(ids: &StringChunked) -> bool {
    // digit value of a lower-case hex digit, 0xFF for any other byte
    const DIGIT: [u8; 256] = {
        let mut t = [0xFF; 256];
        let mut i = 0;
        while i < 16 {
            t[b"0123456789abcdef"[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    fn packed(id: Option<&str>) -> Option<u64> {
        let id: &[u8; 16] = id?.as_bytes().try_into().ok()?;
        let (mut v, mut bad) = (0u64, 0u8);
        for &b in id {
            let d = DIGIT[usize::from(b)];
            bad |= d;
            v = v << 4 | u64::from(d & 0xF);
        }
        // 0xFF has bits above the low four; a digit never does
        (bad & 0xF0 == 0).then_some(v)
    }
    // equal numbers fall into the same bucket (by their top bits): each chunk's numbers are
    // packed into buckets, then each bucket is sorted on its own (in the caches, in parallel)
    const BUCKET_BITS: u32 = 6;
    let chunks: Vec<_> = ids.downcast_iter().collect();
    let Some(parts) = chunks
        .par_iter()
        .map(|arr| {
            let mut buckets = vec![Vec::new(); 1 << BUCKET_BITS];
            for id in *arr {
                let v = packed(id)?;
                buckets[(v >> (64 - BUCKET_BITS)) as usize].push(v);
            }
            Some(buckets)
        })
        .collect::<Option<Vec<Vec<Vec<u64>>>>>()
    else {
        return false;
    };
    (0..1usize << BUCKET_BITS).into_par_iter().all(|b| {
        let mut all: Vec<u64> = parts.iter().flat_map(|p| &p[b]).copied().collect();
        all.sort_unstable();
        !all.windows(2).any(|w| w[0] == w[1])
    })
}

/// The id given instead to the `i`-th row when its locator repeats, and the warning.
fn disambiguated(sha: &str, loc: &str, i: usize) -> (TxId, EvidenceIssue) {
    let id = TxId::derive(
        sha,
        &Locator::Row {
            sheet: Some(format!("{loc} #{i}")),
            row: 0,
        },
    );
    let issue = EvidenceIssue {
        severity: Severity::Warning,
        locator: Some(loc.to_owned()),
        message: "two transactions share this locator (reader imprecision); ids disambiguated"
            .to_owned(),
    };
    (id, issue)
}

fn missing_currency_issue(n: usize) -> Option<EvidenceIssue> {
    (n > 0).then(|| EvidenceIssue {
        severity: Severity::Info,
        locator: None,
        message: format!("{n} rows without currency; EUR assumed"),
    })
}

/// Bank CSVs from this size on are transcoded to UTF-8 in place (see `process_bytes`).
const TRANSCODE_MIN_BYTES: u64 = 8 << 20;

/// Files from this size on are streamed into frames in frame mode (default).
const STREAM_MIN_BYTES: u64 = 8 << 20;

/// Fills ids, paths and channels, checks locators, reconciles balances. When the importer
/// streamed (frame mode) the file's rows end as one canonical frame (its chunks as streamed).
fn finalize(e: &mut EvidenceFile, sha: &str, out: ImportOutput) -> (Rows, Vec<TableMapping>) {
    let ImportOutput {
        format,
        format_version,
        mut transactions,
        mut frames,
        frames_without_currency,
        statements,
        mut issues,
        mappings_used,
    } = out;
    e.format = Some(format);
    e.format_version = format_version;
    let finisher = RowFinisher::new(sha, e.id.clone(), e.path.clone());
    let first: usize = frames.iter().map(DataFrame::height).sum();
    let missing = frames_without_currency + finisher.finish(&mut transactions, first);
    let rows = if frames.is_empty() {
        // Two rows with one locator would share a tx id: keep both, make the later id unique.
        let dups = repeated_ids(
            transactions.iter().map(|t| t.tx_id.0.as_str()),
            transactions.len(),
        );
        for i in dups {
            let t = &mut transactions[i];
            let loc = t
                .locator
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let (id, issue) = disambiguated(sha, &loc, i);
            t.tx_id = id;
            issues.push(issue);
        }
        issues.extend(missing_currency_issue(missing));
        issues.extend(reconcile::statements(&statements, &transactions));
        if transactions
            .iter()
            .all(|t| t.source_kind == SourceKind::Statement)
        {
            issues.extend(reconcile::running_balances(&transactions));
        }
        Rows::Transactions(transactions)
    } else {
        match finalize_frame(
            sha,
            &e.id,
            &mut frames,
            transactions,
            &mut issues,
            missing,
            &statements,
        ) {
            Ok(df) => Rows::Frame(df),
            Err(err) => {
                e.status = failed(format!("building the canonical frame failed: {err}"));
                return (Rows::Transactions(Vec::new()), mappings_used);
            }
        }
    };
    let n = match &rows {
        Rows::Transactions(t) => t.len(),
        Rows::Frame(f) => f.height(),
    };
    e.status = EvidenceStatus::Loaded { rows: n };
    if n == 0 && !issues.iter().any(|i| i.message.contains("no transactions")) {
        issues.push(EvidenceIssue {
            severity: Severity::Info,
            locator: None,
            message: "no transactions found".to_owned(),
        });
    }
    e.issues.extend(issues);
    (rows, mappings_used)
}

/// Frame mode of [`finalize`]: the same checks, on the frame's columns.
fn finalize_frame(
    sha: &str,
    evidence_id: &EvidenceId,
    frames: &mut Vec<DataFrame>,
    transactions: Vec<Transaction>,
    issues: &mut Vec<EvidenceIssue>,
    missing_currency: usize,
    statements: &[crate::StatementSummary],
) -> PolarsResult<DataFrame> {
    // the streamed chunks get their ids now that the hash is known
    crate::rows::fill_ids(frames, sha, evidence_id)?;
    if !transactions.is_empty() {
        frames.push(gs_types::schema::to_frame(&transactions)?);
    }
    drop(transactions);
    let mut df = gs_types::schema::concat(std::mem::take(frames))?;
    let ids = df.column("tx_id")?.str()?.clone();
    let dups = if ids_surely_distinct(&ids) {
        Vec::new()
    } else {
        repeated_ids(ids.iter().map(Option::unwrap_or_default), ids.len())
    };
    if !dups.is_empty() {
        let locators = df.column("locator")?.str()?.clone();
        let mut fixed: HashMap<usize, String> = HashMap::new();
        for i in dups {
            let loc = locators.get(i).unwrap_or_default();
            let (id, issue) = disambiguated(sha, loc, i);
            fixed.insert(i, id.0);
            issues.push(issue);
        }
        let new: StringChunked = ids
            .iter()
            .enumerate()
            .map(|(i, id)| fixed.get(&i).map_or(id, |f| Some(f.as_str())))
            .collect();
        df.replace("tx_id", new.with_name("tx_id".into()).into_column())?;
    }
    issues.extend(missing_currency_issue(missing_currency));
    issues.extend(reconcile::statements_in_frame(statements, &df)?);
    let all_statement = gs_types::schema::one_str_value(df.column("source_kind")?)?
        == Some(Some(SourceKind::Statement.as_str()));
    if all_statement {
        issues.extend(reconcile::running_balances_in_frame(&df)?);
    }
    Ok(df)
}

/// Ingests files and folders. Fails only when an input does not exist, when nothing was
/// found, or when cancelled; every per-file problem is reported in the manifest instead.
pub fn ingest(
    inputs: &[PathBuf],
    opts: &IngestOptions,
    progress: &Progress,
) -> Result<IngestResult> {
    progress.set_stage("scanning");
    let candidates = collect(inputs)?;
    let metas: Vec<std::io::Result<std::fs::Metadata>> = candidates
        .iter()
        .map(|c| std::fs::symlink_metadata(&c.abs))
        .collect();
    let total_bytes: u64 = metas.iter().flatten().map(std::fs::Metadata::len).sum();
    progress.add_files(candidates.len() as u64, total_bytes);
    progress.set_stage("reading");
    let run = Run {
        importers: formats::registry(),
        opts,
        progress,
    };
    let per_file: Vec<Vec<FileOutcome>> = candidates
        .par_iter()
        .zip(metas.par_iter())
        .map(|(c, m)| {
            if progress.is_cancelled() {
                Vec::new()
            } else {
                run.process_candidate(c, m)
            }
        })
        .collect();
    if progress.is_cancelled() {
        return Err(IngestError::Cancelled);
    }
    progress.set_stage("linking");
    let mut outcomes: Vec<FileOutcome> = per_file.into_iter().flatten().collect();
    // Byte-identical copies: the first (by path) is kept, the others are listed as duplicates.
    let mut first_by_sha: HashMap<String, String> = HashMap::new();
    for o in &mut outcomes {
        if o.entry.sha256.is_empty() || o.entry.format.as_deref() == Some("ZIP archive") {
            continue;
        }
        if let Some(first) = first_by_sha.get(&o.entry.sha256) {
            o.entry.status = skipped(format!(
                "identical content to {first} (same SHA-256); its transactions are counted once"
            ));
            o.txs.clear();
            o.frame = None;
            o.mappings.clear();
        } else {
            first_by_sha.insert(o.entry.sha256.clone(), o.entry.path.clone());
        }
    }
    let mut result = IngestResult::default();
    // frame mode with streamed files: the frame's pieces in manifest order (runs of small
    // files' transactions become one piece each)
    let streamed = outcomes.iter().any(|o| o.frame.is_some());
    let frame_err = |e: polars::prelude::PolarsError| IngestError::Frame(e.to_string());
    let mut pieces: Vec<DataFrame> = Vec::new();
    let mut mapping_names: BTreeMap<String, usize> = BTreeMap::new();
    for o in outcomes {
        for m in o.mappings {
            *mapping_names.entry(m.name.clone()).or_default() += 1;
            result.mappings_used.push(UsedMapping {
                evidence_path: o.entry.path.clone(),
                mapping: m,
            });
        }
        if result.transactions.is_empty() {
            result.transactions = o.txs; // a big file's rows are moved, not copied
        } else {
            result.transactions.extend(o.txs);
        }
        if let Some(f) = o.frame.filter(|f| f.height() > 0) {
            if !result.transactions.is_empty() {
                pieces.push(gs_types::schema::to_frame(&result.transactions).map_err(frame_err)?);
                result.transactions.clear();
            }
            pieces.push(f);
        }
        result.manifest.push(o.entry);
    }
    if progress.is_cancelled() {
        return Err(IngestError::Cancelled);
    }
    if streamed {
        if !result.transactions.is_empty() {
            pieces.push(gs_types::schema::to_frame(&result.transactions).map_err(frame_err)?);
            result.transactions = Vec::new();
        }
        let mut df = gs_types::schema::concat(pieces).map_err(frame_err)?;
        result.mirrors =
            mirror::link_mirrors_in_frame(&mut df, opts.mirror_window_days).map_err(frame_err)?;
        result.frame = Some(df);
    } else {
        result.mirrors = mirror::link_mirrors(&mut result.transactions, opts.mirror_window_days);
        if opts.frame_only {
            let txs = std::mem::take(&mut result.transactions);
            result.frame = Some(gs_types::schema::to_frame(&txs).map_err(frame_err)?);
        }
    }
    progress.set_stage("done");
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::sha256_hex;

    #[test]
    fn fast_distinct_check_agrees_with_the_exact_one() {
        let ids = |v: Vec<String>| -> StringChunked { v.into_iter().map(Some).collect() };
        let derived: Vec<String> = (0..5000u32)
            .map(|r| {
                TxId::derive(
                    "ab",
                    &Locator::Row {
                        sheet: None,
                        row: r,
                    },
                )
                .0
            })
            .collect();
        assert!(ids_surely_distinct(&ids(derived.clone())));
        // a repeat: the fast check says "maybe", the exact one finds it
        let mut dup = derived.clone();
        dup[4000] = dup[17].clone();
        assert!(!ids_surely_distinct(&ids(dup.clone())));
        assert_eq!(
            repeated_ids(dup.iter().map(String::as_str), dup.len()),
            vec![4000]
        );
        // ids of another shape (or missing) always go to the exact check
        let mut odd = derived.clone();
        odd[3] = "not-hex-16-chars".into();
        assert!(!ids_surely_distinct(&ids(odd)));
        let mut upper = derived;
        upper[3] = upper[3].to_uppercase();
        assert!(!ids_surely_distinct(&ids(upper)));
        let with_null: StringChunked = [Some("0123456789abcdef"), None].into_iter().collect();
        assert!(!ids_surely_distinct(&with_null));
    }

    /// A bank CSV above the transcoding size (windows-1252, umlauts) gives the same rows in
    /// both modes, reports its encoding, and its source text is decoded, not garbled.
    #[test]
    fn big_windows_1252_bank_csv_is_transcoded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from(
            "\"Auftragskonto\";\"Buchungstag\";\"Valutadatum\";\"Buchungstext\";\"Verwendungszweck\";\"Glaeubiger ID\";\"Mandatsreferenz\";\"Kundenreferenz (End-to-End)\";\"Sammlerreferenz\";\"Lastschrift Ursprungsbetrag\";\"Auslagenersatz Ruecklastschrift\";\"Beguenstigter/Zahlungspflichtiger\";\"Kontonummer/IBAN\";\"BIC (SWIFT-Code)\";\"Betrag\";\"Waehrung\";\"Info\"\n",
        );
        let rows = 60_000;
        for i in 0..rows {
            use std::fmt::Write as _;
            let _ = writeln!(
                text,
                "\"DE59370501982420164873\";\"{d:02}.01.25\";\"{d:02}.01.25\";\"KARTENZAHLUNG\";\"Einkauf Nr. {i} Straße Gebühr {i}\";\"\";\"\";\"\";\"\";\"\";\"\";\"Bäckerei Müller {m}\";\"\";\"\";\"-{e},{c:02}\";\"EUR\";\"Umsatz gebucht\"",
                d = 1 + i % 28,
                m = i % 97,
                e = 1 + i % 300,
                c = i % 100,
            );
        }
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
        assert!(bytes.len() as u64 > TRANSCODE_MIN_BYTES);
        std::fs::write(dir.path().join("umsaetze.csv"), &bytes).unwrap();
        let run = |frame_only: bool| {
            ingest(
                &[dir.path().to_path_buf()],
                &IngestOptions {
                    frame_only,
                    ..IngestOptions::default()
                },
                &Progress::new(),
            )
            .unwrap()
        };
        let (plain, framed) = (run(false), run(true));
        assert_eq!(plain.manifest, framed.manifest);
        let e = &plain.manifest[0];
        assert_eq!(e.status, EvidenceStatus::Loaded { rows });
        assert_eq!(
            e.sha256,
            sha256_hex(&bytes),
            "the hash is of the file as read"
        );
        assert!(
            e.issues.iter().all(|i| !i.message.contains("replaced")),
            "{:?}",
            e.issues
        );
        let t = &plain.transactions[7];
        assert_eq!(t.counterparty.name.as_deref(), Some("Bäckerei Müller 7"));
        assert!(
            t.source_text.contains("Straße Gebühr 7"),
            "{}",
            t.source_text
        );
        let frame = framed.frame.unwrap();
        assert!(
            gs_types::schema::to_frame(&plain.transactions)
                .unwrap()
                .equals_missing(&frame)
        );
    }

    #[test]
    fn missing_input_is_an_error() {
        let err = ingest(
            &[PathBuf::from("/nonexistent/evidence")],
            &IngestOptions::default(),
            &Progress::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn noise_and_duplicates_and_archives_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("bild.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
        std::fs::write(root.join("leer.csv"), b"").unwrap();
        std::fs::write(
            root.join("brief.txt"),
            "Sehr geehrte Damen und Herren,\nanbei die Unterlagen.\n",
        )
        .unwrap();
        std::fs::write(root.join("kopie1.txt"), "gleich").unwrap();
        std::fs::write(root.join("kopie2.txt"), "gleich").unwrap();
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("innen/brief.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, b"nur Text").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        std::fs::write(root.join("paket.zip"), bytes).unwrap();
        let progress = Progress::new();
        let res = ingest(&[root.to_path_buf()], &IngestOptions::default(), &progress).unwrap();
        assert!(
            progress.snapshot().in_flight.is_empty(),
            "every file handle was closed"
        );
        let by_path: BTreeMap<&str, &EvidenceFile> =
            res.manifest.iter().map(|e| (e.path.as_str(), e)).collect();
        assert_eq!(by_path.len(), 7, "{:?}", by_path.keys());
        assert!(
            matches!(&by_path["bild.png"].status, EvidenceStatus::Skipped { reason } if reason.contains("PNG image"))
        );
        assert!(
            matches!(&by_path["leer.csv"].status, EvidenceStatus::Skipped { reason } if reason == "empty file")
        );
        assert!(
            matches!(&by_path["kopie2.txt"].status, EvidenceStatus::Skipped { reason } if reason.contains("identical content to kopie1.txt"))
        );
        assert_eq!(by_path["paket.zip"].format.as_deref(), Some("ZIP archive"));
        assert!(by_path.contains_key("paket.zip!/innen/brief.txt"));
        assert_eq!(by_path["bild.png"].sha256.len(), 64);
        assert!(res.transactions.is_empty());
    }

    #[test]
    fn repeated_locators_get_distinct_ids_in_both_modes() {
        let tx = |row: u32, cents: i64| Transaction {
            locator: Some(Locator::Row { sheet: None, row }),
            amount: gs_types::Money(cents),
            booking_date: gs_types::chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            ..Transaction::default()
        };
        let sha = "cd".repeat(32);
        let run = |streamed: bool| {
            let mut out = ImportOutput::new("test");
            let mut txs = vec![tx(2, -100), tx(3, 200), tx(3, 300), tx(4, -5)];
            let mut e = entry("a.csv", 10, None, sha.clone(), skipped(""));
            if streamed {
                // as a streaming importer hands its rows over in frame mode
                let sink = FrameSink::new(e.path.clone());
                let (df, missing) = sink.flush(&mut txs).unwrap();
                out.frames = vec![df];
                out.frames_without_currency = missing;
            } else {
                out.transactions = txs;
            }
            let (rows, _) = finalize(&mut e, &sha, out);
            let frame = match rows {
                Rows::Transactions(t) => gs_types::schema::to_frame(&t).unwrap(),
                Rows::Frame(f) => f,
            };
            (frame, e)
        };
        let (plain, e1) = run(false);
        let (framed, e2) = run(true);
        assert!(plain.equals_missing(&framed));
        assert_eq!(e1.issues, e2.issues);
        let ids: Vec<&str> = plain
            .column("tx_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(Option::unwrap)
            .collect();
        let distinct: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), 4, "{ids:?}");
        assert_eq!(
            ids[1],
            TxId::derive(
                &sha,
                &Locator::Row {
                    sheet: None,
                    row: 3
                }
            )
            .0
        );
        let warned: Vec<_> = e1
            .issues
            .iter()
            .filter(|i| i.message.contains("share this locator"))
            .collect();
        assert_eq!(warned.len(), 1);
        assert_eq!(warned[0].locator.as_deref(), Some("row=3"));
        // currency was filled in and counted
        assert!(
            e1.issues
                .iter()
                .any(|i| i.message == "4 rows without currency; EUR assumed")
        );
    }

    #[test]
    fn cancel_returns_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        let p = Progress::new();
        p.cancel();
        assert!(matches!(
            ingest(&[dir.path().to_path_buf()], &IngestOptions::default(), &p),
            Err(IngestError::Cancelled)
        ));
    }
}
