//! Completing imported rows: stable ids, evidence provenance, channels and the currency
//! default. One implementation for both ways an ingest keeps its rows:
//!
//! - as [`Transaction`]s (the window and `analyze` work on them): the whole file's rows are
//!   completed at once after the importer returns;
//! - as canonical frames only ([`IngestOptions::frame_only`](crate::IngestOptions), used by
//!   `geldspur ingest`): streaming importers hand batches of rows to a [`FrameSink`] while they
//!   parse; each batch is completed and turned into a frame chunk at once, so a million-row
//!   export never exists as a million `Transaction`s.

use std::hash::BuildHasher as _;

use gs_types::schema::FrameBuilder;
use gs_types::{Channel, EvidenceId, Locator, Transaction, TxIdDeriver};
use polars::prelude::{
    AnyValue, Column, DataFrame, DataType, IntoColumn as _, PlHashMap, PolarsResult, Scalar,
    StringChunkedBuilder, polars_bail, polars_ensure,
};
use polars_buffer::Buffer;
use rayon::prelude::*;

use crate::channel;

/// Rows per frame chunk in frame mode: big enough that the frame has few chunks (a 1 M-row
/// file has ~30 per column), small enough that a batch of `Transaction`s stays in the caches.
pub const BATCH_ROWS: usize = 32 * 1024;

/// Completes the rows of one evidence file.
pub struct RowFinisher {
    ids: TxIdDeriver,
    evidence_id: EvidenceId,
    evidence_path: String,
}

impl RowFinisher {
    /// For the evidence file with this SHA-256 (hex), id and path.
    pub fn new(sha256: &str, evidence_id: EvidenceId, evidence_path: String) -> Self {
        Self {
            ids: TxIdDeriver::new(sha256),
            evidence_id,
            evidence_path,
        }
    }

    /// Fills `tx_id`, `evidence_id`, `evidence_path`, `channel` (when `Unknown`) and the
    /// currency (EUR when empty) of rows whose position in the file starts at `first` (a row
    /// without locator gets `row = position + 1`). Returns how many rows had no currency.
    pub fn finish(&self, txs: &mut [Transaction], first: usize) -> usize {
        // in parallel: a single bank CSV can hold a million rows
        const PART: usize = 4096;
        txs.par_chunks_mut(PART)
            .enumerate()
            .map(|(k, part)| {
                let mut memo = ChannelMemo::default();
                let start = first + k * PART;
                let mut missing = 0;
                for (i, t) in part.iter_mut().enumerate() {
                    missing += usize::from(self.finish_one(t, start + i, &mut memo));
                }
                missing
            })
            .sum()
    }

    /// [`finish`](Self::finish) for one row at `position`; true when it had no currency.
    pub fn finish_one(&self, t: &mut Transaction, position: usize, memo: &mut ChannelMemo) -> bool {
        let (loc, missing) = self.complete(t, position, memo);
        t.tx_id = self.ids.derive(&loc);
        t.locator = Some(loc);
        missing
    }

    /// [`finish_one`](Self::finish_one) without the id: the row's locator (taken out of `t`; a
    /// row without one gets `row = position + 1`) for the caller to derive the id from, and
    /// whether the row had no currency.
    fn complete(
        &self,
        t: &mut Transaction,
        position: usize,
        memo: &mut ChannelMemo,
    ) -> (Locator, bool) {
        t.evidence_id.clone_from(&self.evidence_id);
        t.evidence_path.clone_from(&self.evidence_path);
        complete_row(t, position, memo)
    }
}

/// What every row gets, whatever its evidence: its locator taken out (a row without one gets
/// `row = position + 1`), its channel and the currency default. Returns the locator and
/// whether the row had no currency.
fn complete_row(t: &mut Transaction, position: usize, memo: &mut ChannelMemo) -> (Locator, bool) {
    let loc = t.locator.take().unwrap_or(Locator::Row {
        sheet: None,
        row: (position + 1) as u32,
    });
    t.channel = memo.channel(t);
    let missing = t.currency.is_empty();
    if missing {
        "EUR".clone_into(&mut t.currency);
    }
    (loc, missing)
}

/// A row's transaction code and booking text.
type CodeAndText = (Option<String>, Option<String>);

/// Channels already derived from a (transaction code, booking text) pair: a file has few
/// distinct pairs, and [`channel::from_code_or_text`] depends on nothing else.
#[derive(Default)]
pub struct ChannelMemo {
    /// By hash of the pair; the pairs themselves are kept to rule out collisions.
    known: PlHashMap<u64, Vec<(CodeAndText, Channel)>>,
}

impl ChannelMemo {
    /// The row's channel: the importer's, else by code or booking text, else by purpose or
    /// counterparty name ([`channel::derive`]).
    pub fn channel(&mut self, t: &Transaction) -> Channel {
        if t.channel != Channel::Unknown {
            return t.channel;
        }
        let key = (t.tx_code.as_deref(), t.booking_text.as_deref());
        let h = self.known.hasher().hash_one(key);
        let seen = self.known.entry(h).or_default();
        // compared inline (`==` on strings calls `memcmp`, slow here per call)
        let same = gs_types::schema::same_opt_str;
        let by_code = if let Some(&(_, c)) = seen
            .iter()
            .find(|((code, text), _)| same(code.as_deref(), key.0) && same(text.as_deref(), key.1))
        {
            c
        } else {
            let c = channel::from_code_or_text(t);
            seen.push(((key.0.map(str::to_owned), key.1.map(str::to_owned)), c));
            c
        };
        if by_code == Channel::Unknown {
            channel::from_purpose_or_name(t)
        } else {
            by_code
        }
    }
}

/// Frame mode: where streaming importers put their rows (see the module docs).
///
/// A sink does not know the file's SHA-256: a big file is hashed while it is parsed
/// ([`PendingSha`](crate::walk::PendingSha)). The chunks' `tx_id` and `evidence_id` are
/// filled in afterwards from their locators ([`fill_ids`]).
pub struct FrameSink {
    evidence_path: String,
    batch_rows: usize,
}

impl FrameSink {
    /// A sink for the rows of the evidence file at `evidence_path`, in batches of
    /// [`BATCH_ROWS`].
    pub fn new(evidence_path: String) -> Self {
        Self {
            evidence_path,
            batch_rows: BATCH_ROWS,
        }
    }

    /// The same with another batch size (tests use tiny batches to cross batch borders).
    #[must_use]
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Rows per batch.
    pub fn batch_rows(&self) -> usize {
        self.batch_rows
    }

    /// An empty batch to put rows into (one per parsing thread); every row brings its
    /// `source_text`.
    pub fn batch(&self) -> RowBatch<'_> {
        self.new_batch(false)
    }

    /// An empty batch whose rows all come with their source text as a byte range of the
    /// shared text ([`RowBatch::push`]); `Transaction::source_text` is not read.
    pub fn span_batch(&self) -> RowBatch<'_> {
        self.new_batch(true)
    }

    fn new_batch(&self, with_spans: bool) -> RowBatch<'_> {
        RowBatch {
            sink: self,
            frame: self.builder(with_spans),
            memo: ChannelMemo::default(),
            missing: 0,
            with_spans,
            spans: Vec::new(),
        }
    }

    /// The builder of one chunk: the evidence columns (and `source_text` with spans) are put
    /// in by [`RowBatch::take`], the ids by [`fill_ids`], so they are not written per row.
    fn builder(&self, with_spans: bool) -> FrameBuilder {
        let later: &[&str] = if with_spans {
            &["tx_id", "evidence_id", "evidence_path", "source_text"]
        } else {
            &["tx_id", "evidence_id", "evidence_path"]
        };
        FrameBuilder::with_capacity(self.batch_rows).filled_later(later)
    }

    /// Completes the rows (a row without locator gets its position) into one frame chunk;
    /// `txs` is emptied. Also returns how many rows had no currency (EUR was filled in).
    pub fn flush(&self, txs: &mut Vec<Transaction>) -> PolarsResult<(DataFrame, usize)> {
        let mut b = self.batch();
        for (i, t) in txs.iter_mut().enumerate() {
            // a row without locator gets its position, as `RowFinisher::finish` gives it
            t.locator.get_or_insert(Locator::Row {
                sheet: None,
                row: (i + 1) as u32,
            });
            b.push(t, None);
        }
        txs.clear();
        b.take(None)
    }
}

/// Puts the ids into frame chunks made by a [`FrameSink`] once the file's SHA-256 is known:
/// `tx_id` from each row's locator (as [`RowFinisher`] derives it), `evidence_id` as a
/// constant. In parallel over the chunks.
pub fn fill_ids(
    frames: &mut [DataFrame],
    sha256: &str,
    evidence_id: &EvidenceId,
) -> PolarsResult<()> {
    let ids = TxIdDeriver::new(sha256);
    frames.par_iter_mut().try_for_each(|df| {
        let n = df.height();
        let tx_id = {
            let locators = df.column("locator")?.str()?;
            let mut b = StringChunkedBuilder::new("tx_id".into(), n);
            for arr in locators.downcast_iter() {
                for loc in arr {
                    match loc {
                        Some(text) => b.append_value(ids.derive_from_text(text).as_str()),
                        None => b.append_null(),
                    }
                }
            }
            b.finish().into_column()
        };
        df.replace("tx_id", tx_id)?;
        df.replace(
            "evidence_id",
            Column::new_scalar(
                "evidence_id".into(),
                Scalar::new(
                    DataType::String,
                    AnyValue::StringOwned(evidence_id.0.as_str().into()),
                ),
                n,
            ),
        )?;
        Ok(())
    })
}

/// Rows on their way into one frame chunk: each row is completed and written into the
/// chunk's columns as it arrives ([`FrameBuilder`]), so a batch never exists as a vector of
/// transactions.
pub struct RowBatch<'s> {
    sink: &'s FrameSink,
    frame: FrameBuilder,
    memo: ChannelMemo,
    missing: usize,
    /// Made by [`FrameSink::span_batch`]: every row comes with a span.
    with_spans: bool,
    /// `source_text` as byte ranges of the shared text (one per row).
    spans: Vec<(usize, usize)>,
}

impl RowBatch<'_> {
    /// Completes `t` (it must carry its locator) and appends it. `span` is the row's source
    /// text as a byte range of the text given to [`take`](Self::take) (then `t.source_text`
    /// is not used): one for every row of a [`span_batch`](FrameSink::span_batch), none for
    /// the rows of a [`batch`](FrameSink::batch).
    ///
    /// `t` is taken by reference (its locator is taken out, its channel and currency filled):
    /// a `Transaction` is ~600 bytes, and moving one per row in and out of vectors showed up
    /// as `memmove` in profiles.
    pub fn push(&mut self, t: &mut Transaction, span: Option<(usize, usize)>) {
        debug_assert_eq!(
            span.is_some(),
            self.with_spans,
            "a span for every row or none"
        );
        let (loc, missing) = complete_row(t, 0, &mut self.memo);
        self.missing += usize::from(missing);
        // the id is derived from the locator column later (`fill_ids`)
        loc.with_text(|text| self.frame.push_with_id(t, "", Some(text)));
        self.spans.extend(span);
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.frame.len()
    }

    /// True when the batch holds no row.
    pub fn is_empty(&self) -> bool {
        self.frame.is_empty()
    }

    /// True when the batch has its sink's batch size.
    pub fn is_full(&self) -> bool {
        self.frame.len() >= self.sink.batch_rows
    }

    /// The batch's frame chunk, and how many of its rows had no currency; the batch is empty
    /// again afterwards. With spans, `source_text` is a view column into `shared`. `tx_id`
    /// and `evidence_id` are all null until [`fill_ids`].
    pub fn take(&mut self, shared: Option<&Buffer<u8>>) -> PolarsResult<(DataFrame, usize)> {
        let frame = std::mem::replace(&mut self.frame, self.sink.builder(self.with_spans));
        let mut df = frame.finish()?;
        let n = df.height();
        if self.with_spans {
            polars_ensure!(
                self.spans.len() == n,
                ComputeError: "{} source spans for {n} rows", self.spans.len()
            );
            let Some(text) = shared else {
                polars_bail!(ComputeError: "source spans without the text they point into");
            };
            let col = gs_types::schema::text_span_column("source_text", text, &self.spans)?;
            df.replace("source_text", col)?;
        }
        self.spans.clear();
        // scalar columns, as the builder makes them for any one-value column (no view per
        // row; `schema::concat` keeps them scalar across batches)
        let constant = |name: &str, value: &str| {
            Column::new_scalar(
                name.into(),
                Scalar::new(DataType::String, AnyValue::StringOwned(value.into())),
                n,
            )
        };
        df.replace(
            "evidence_path",
            constant("evidence_path", &self.sink.evidence_path),
        )?;
        Ok((df, std::mem::take(&mut self.missing)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::importer::{ImportContext, ImportOutput, Importer, SourceFile};

    /// The canonical frame of an import in transaction mode, completed as `finalize` does.
    fn struct_frame(mut o: ImportOutput, sha: &str) -> DataFrame {
        let f = RowFinisher::new(sha, EvidenceId::from_sha256(sha), "x.csv".into());
        f.finish(&mut o.transactions, 0);
        gs_types::schema::to_frame(&o.transactions).unwrap()
    }

    /// Imports `bytes` both ways (frame mode with `batch` rows per batch) and checks that the
    /// frames hold the same rows and the outputs the same issues and statements.
    pub(crate) fn check_modes(imp: &dyn Importer, name: &str, bytes: &[u8], batch: usize) -> usize {
        let sha = "ab".repeat(32);
        let file = SourceFile::new(name.into(), bytes.to_vec());
        let progress = gs_jobs::Progress::new();
        let plain = imp
            .import(
                &file,
                &ImportContext {
                    mappings: &[],
                    progress: &progress,
                    frames: None,
                },
            )
            .unwrap();
        let sink = FrameSink::new("x.csv".into()).with_batch_rows(batch);
        let streamed = imp
            .import(
                &file,
                &ImportContext {
                    mappings: &[],
                    progress: &progress,
                    frames: Some(&sink),
                },
            )
            .unwrap();
        assert!(
            streamed.transactions.is_empty(),
            "every row went to the sink"
        );
        assert_eq!(plain.issues, streamed.issues);
        let ranges = |o: &ImportOutput| {
            o.statements
                .iter()
                .map(|s| (s.tx_range.clone(), s.opening, s.closing))
                .collect::<Vec<_>>()
        };
        assert_eq!(ranges(&plain), ranges(&streamed));
        let n = plain.transactions.len();
        let chunks = streamed.frames.len();
        let a = struct_frame(plain, &sha);
        let mut frames = streamed.frames;
        fill_ids(&mut frames, &sha, &EvidenceId::from_sha256(&sha)).unwrap();
        let b = gs_types::schema::concat(frames).unwrap();
        assert_eq!(b.height(), n);
        assert!(a.equals_missing(&b), "{a:?}\n{b:?}");
        chunks
    }

    #[test]
    fn continuation_rows_across_batch_borders() {
        // a generic table (continuation rows allowed): rows 2 and 5 continue the row above
        let text = "Datum;Empfänger;Verwendungszweck;Betrag\n\
            01.02.2025;Anna Muster;Miete Februar;-850,00\n\
            ;;Wohnung 3 links;\n\
            02.02.2025;Bäckerei Korn;Brot;-4,20\n\
            03.02.2025;Bernd Beispiel;Rückzahlung;150,00\n\
            ;;Danke;\n\
            04.02.2025;Carla Test;Spende;-20,00\n";
        for batch in [1, 2, 3, 100] {
            let chunks = check_modes(
                &crate::formats::table::TableImporter,
                "t.csv",
                text.as_bytes(),
                batch,
            );
            // batch b flushes b rows whenever b + 1 are waiting: 4 dated rows
            assert_eq!(chunks, 4usize.div_ceil(batch), "batch {batch}");
        }
    }
}
