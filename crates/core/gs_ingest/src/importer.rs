//! The `Importer` trait every format module implements, and what an import returns.

use std::ops::Range;
use std::sync::OnceLock;

use gs_jobs::Progress;
use gs_types::{EvidenceIssue, Money, PartyRef, Severity, Transaction};
use polars::prelude::DataFrame;
use polars_buffer::Buffer;

use crate::error::Result;
use crate::mapping::TableMapping;
use crate::rows::FrameSink;
use crate::text::{self, Decoded};

/// An evidence file (or archive member) in memory, read once, never written.
pub struct SourceFile {
    /// Path relative to the evidence root (`/`-separated; archive members `a.zip!/b.xml`).
    pub rel_path: String,
    /// The file's bytes (shared: a big export's decoded text can become frame columns
    /// without a copy). After [`transcode_in_place`](Self::transcode_in_place) they are the
    /// text as UTF-8.
    pub bytes: Buffer<u8>,
    decoded: OnceLock<Decoded<'static>>,
    /// [`text::single_byte_guess`] of the file, made once (chardetng reads ~10 MB/s; every
    /// importer's detection decodes the head).
    guess: OnceLock<Option<&'static encoding_rs::Encoding>>,
    transcoded: Option<Transcoded>,
}

/// What [`SourceFile::transcode_in_place`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transcoded {
    /// The encoding the file was in (encoding_rs's name).
    pub from: &'static str,
    /// Some bytes became U+FFFD.
    pub had_errors: bool,
}

impl SourceFile {
    /// Wraps bytes read from disk (their SHA-256 is taken by the caller, `walk::PendingSha`:
    /// importers do not need it).
    pub fn new(rel_path: String, bytes: impl Into<Buffer<u8>>) -> Self {
        Self {
            rel_path,
            bytes: bytes.into(),
            decoded: OnceLock::new(),
            guess: OnceLock::new(),
            transcoded: None,
        }
    }

    /// Replaces a single-byte-encoded text file's bytes (windows-1252 and its kin, by the same
    /// guess as [`text::decode`]) by their UTF-8, on all cores: in place
    /// ([`text::transcode_single_byte_in_place`]), or into new memory while the bytes are
    /// shared (a big file's SHA-256 is still being taken from them,
    /// [`PendingSha`](crate::walk::PendingSha); [`text::transcode_single_byte`]). Only for
    /// importers that read the file as text and nothing else: afterwards the raw bytes are
    /// gone. Files with a BOM and UTF-8 files stay as they are. Returns what was done.
    pub fn transcode_in_place(&mut self) -> Option<Transcoded> {
        if self.transcoded.is_some() {
            return self.transcoded;
        }
        let b: &[u8] = &self.bytes;
        // `compat` stops at the first invalid byte (`basic` reads on to the end)
        if encoding_rs::Encoding::for_bom(b).is_some() || simdutf8::compat::from_utf8(b).is_ok() {
            return None;
        }
        let enc = self.single_byte_guess()?;
        let had_errors = match std::mem::take(&mut self.bytes).into_mut().either(Err, Ok) {
            Ok(mut v) => {
                let e = text::transcode_single_byte_in_place(&mut v, enc);
                self.bytes = Buffer::from(v);
                e
            }
            Err(shared) => {
                let (v, e) = text::transcode_single_byte(&shared, enc);
                self.bytes = Buffer::from(v);
                e
            }
        };
        self.decoded = OnceLock::new();
        // the bytes are UTF-8 now
        self.guess = OnceLock::from(None);
        self.transcoded = Some(Transcoded {
            from: enc.name(),
            had_errors,
        });
        self.transcoded
    }

    /// Set when the bytes were transcoded to UTF-8 in place.
    pub fn transcoded(&self) -> Option<Transcoded> {
        self.transcoded
    }

    /// Builds a file from bytes (tests).
    pub fn from_bytes(rel_path: &str, bytes: Vec<u8>) -> Self {
        Self::new(rel_path.to_owned(), bytes)
    }

    /// Lower-case file name extension (a hint only; detection is by content).
    pub fn extension(&self) -> String {
        self.rel_path
            .rsplit('/')
            .next()
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// Decoded text of the whole file (decoded once, cached).
    pub fn text(&self) -> &Decoded<'static> {
        self.decoded.get_or_init(|| {
            if let Some(t) = self.transcoded {
                return Decoded {
                    text: String::from_utf8_lossy(&self.bytes).into_owned().into(),
                    encoding: t.from,
                    had_bom: false,
                    had_errors: t.had_errors,
                };
            }
            let d = text::decode_with(&self.bytes, || self.single_byte_guess());
            Decoded {
                text: std::borrow::Cow::Owned(d.text.into_owned()),
                encoding: d.encoding,
                had_bom: d.had_bom,
                had_errors: d.had_errors,
            }
        })
    }

    /// Decoded text of the first `max` bytes (for detection; cheap). Bytes that are not UTF-8
    /// are decoded with the file's encoding guess (made once per file).
    pub fn head(&self, max: usize) -> String {
        let cut = &self.bytes[..self.bytes.len().min(max)];
        text::decode_with(cut, || self.single_byte_guess())
            .text
            .into_owned()
    }

    /// The file's single-byte encoding ([`text::single_byte_guess`], made once); `None`:
    /// UTF-8 (with stray bytes).
    fn single_byte_guess(&self) -> Option<&'static encoding_rs::Encoding> {
        *self
            .guess
            .get_or_init(|| text::single_byte_guess(&self.bytes))
    }

    /// True when the head looks binary.
    pub fn is_binary(&self) -> bool {
        text::looks_binary(&self.bytes)
    }
}

/// What an importer may use while importing.
#[derive(Clone, Copy)]
pub struct ImportContext<'a> {
    /// User-given table mappings (`--mapping FILE`), tried before automatic detection.
    pub mappings: &'a [TableMapping],
    /// Progress and cancellation; importers call `add_rows` and check `is_cancelled` now and then.
    pub progress: &'a Progress,
    /// Frame mode (see [`crate::rows`]): importers that stream (the CSV table engine) hand
    /// their rows in batches to this sink and return frame chunks instead of transactions.
    /// Importers that do not stream ignore it; their transactions are converted afterwards.
    pub frames: Option<&'a FrameSink>,
}

/// Summary of one statement inside a file, used to reconcile balances.
#[derive(Clone, Debug, Default)]
pub struct StatementSummary {
    /// Human label, e.g. "statement 3 (:20: STARTUMS)".
    pub label: String,
    /// The statement's account.
    pub account: PartyRef,
    /// Currency.
    pub currency: String,
    /// Opening balance (MT940 `:60F:`/`:60M:`, CAMT `OPBD`/`PRCD`).
    pub opening: Option<Money>,
    /// Closing balance (MT940 `:62F:`/`:62M:`, CAMT `CLBD`).
    pub closing: Option<Money>,
    /// Indices of this statement's entries among the file's rows (the rows of
    /// `ImportOutput::frames` first, then `ImportOutput::transactions`).
    pub tx_range: Range<usize>,
}

/// What an importer read from one file.
#[derive(Debug, Default)]
pub struct ImportOutput {
    /// Format name shown to users (e.g. "MT940", "camt.053", "Sparkasse CSV-CAMT V2").
    pub format: String,
    /// Version when known (e.g. "camt.053.001.02").
    pub format_version: Option<String>,
    /// Transactions with `locator`, `source_text` and every field the format has.
    pub transactions: Vec<Transaction>,
    /// Frame mode only: rows already completed by [`ImportContext::frames`] and turned into
    /// canonical frame chunks, in file order; they come before `transactions`.
    pub frames: Vec<DataFrame>,
    /// Frame mode only: rows of `frames` that had no currency (EUR was filled in).
    pub frames_without_currency: usize,
    /// Statements for balance reconciliation (empty when the format has none).
    pub statements: Vec<StatementSummary>,
    /// Warnings and dropped-row errors with locators.
    pub issues: Vec<EvidenceIssue>,
    /// Table mappings that were used (detected or given), written out for review and reuse.
    pub mappings_used: Vec<TableMapping>,
}

impl ImportOutput {
    /// New empty output for a format.
    pub fn new(format: impl Into<String>) -> Self {
        Self {
            format: format.into(),
            ..Self::default()
        }
    }

    /// Rows read: those already in frame chunks plus the transactions.
    pub fn rows(&self) -> usize {
        self.frames.iter().map(DataFrame::height).sum::<usize>() + self.transactions.len()
    }

    /// Adds a warning.
    pub fn warn(&mut self, locator: Option<String>, message: impl Into<String>) {
        self.issues.push(EvidenceIssue {
            severity: Severity::Warning,
            locator,
            message: message.into(),
        });
    }

    /// Adds an info note.
    pub fn info(&mut self, locator: Option<String>, message: impl Into<String>) {
        self.issues.push(EvidenceIssue {
            severity: Severity::Info,
            locator,
            message: message.into(),
        });
    }

    /// Records a dropped row (data loss: an error, never silent).
    pub fn row_error(&mut self, locator: Option<String>, message: impl Into<String>) {
        self.issues.push(EvidenceIssue {
            severity: Severity::Error,
            locator,
            message: message.into(),
        });
    }
}

/// A reader for one family of formats. Detection is by content, never by extension alone.
pub trait Importer: Send + Sync {
    /// Short stable id (`mt940`, `camt`, `bank_csv`, `table`, `pdf`, `datev`, `ofx`).
    fn id(&self) -> &'static str;

    /// Cheap content check: `None` = "not mine", else a confidence 1–100. Must not parse the
    /// whole file and must never panic.
    fn detect(&self, file: &SourceFile) -> Option<u8>;

    /// Reads the file. A broken file is an `Err` naming the reason; broken rows inside an
    /// otherwise readable file are `row_error`s in the output, and the rest still loads.
    fn import(&self, file: &SourceFile, ctx: &ImportContext<'_>) -> Result<ImportOutput>;

    /// True when the importer reads a file only as text (never its raw bytes) unless a user
    /// mapping sends it elsewhere: the ingest may then transcode a big file to UTF-8 in its
    /// own memory first ([`SourceFile::transcode_in_place`]).
    fn reads_text_only(&self) -> bool {
        false
    }
}

/// The message of a caught panic (third-party parsers run under `catch_unwind`).
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::many_single_char_names)] // one file per letter: f, u, b, s
    fn transcoding_in_place_keeps_the_text_and_names_the_encoding() {
        let text = "Buchungstag;Empfänger;Betrag\n01.02.2025;Jürgen Weiß;-12,50\n";
        let (w1252, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        let mut f = SourceFile::from_bytes("a.csv", w1252.to_vec());
        assert_eq!(f.text().encoding, "windows-1252");
        let t = f.transcode_in_place().unwrap();
        assert_eq!((t.from, t.had_errors), ("windows-1252", false));
        assert!(*f.bytes == *text.as_bytes());
        // the text and the encoding it came from, as before
        let d = f.text();
        assert_eq!((d.text.as_ref(), d.encoding), (text, "windows-1252"));
        assert_eq!(
            f.transcode_in_place(),
            Some(t),
            "a second call changes nothing"
        );

        // UTF-8 and UTF-8 with BOM stay as they are
        let mut u = SourceFile::from_bytes("u.csv", text.as_bytes().to_vec());
        assert_eq!(u.transcode_in_place(), None);
        assert!(*u.bytes == *text.as_bytes());
        let bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
        let mut b = SourceFile::from_bytes("b.csv", bom.clone());
        assert_eq!(b.transcode_in_place(), None);
        assert!(*b.bytes == *bom);
        // bytes still shared (their hash is being taken) are decoded into new memory: the
        // other holder keeps the bytes as read
        let mut s = SourceFile::from_bytes("s.csv", w1252.to_vec());
        let other = s.bytes.clone();
        assert_eq!(s.transcode_in_place(), Some(t));
        assert!(*s.bytes == *text.as_bytes() && *other == *w1252);
        assert_eq!(s.text().text.as_ref(), text);
    }
}
