//! Where a transaction came from: evidence file id + locator inside it.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Identifies an evidence file by content: the first 16 hex digits of its SHA-256.
/// Two byte-identical files share an id (the second is listed as a duplicate).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EvidenceId(pub String);

impl EvidenceId {
    /// From a full SHA-256 hex digest.
    pub fn from_sha256(sha256_hex: &str) -> Self {
        Self(sha256_hex.chars().take(16).collect())
    }
}

impl fmt::Display for EvidenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Stable transaction id: first 16 hex digits of SHA-256(evidence sha256, NUL, locator).
/// Identical across runs for the same evidence bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TxId(pub String);

impl TxId {
    /// Derives the id from the evidence hash and the locator text.
    pub fn derive(evidence_sha256: &str, locator: &Locator) -> Self {
        TxIdDeriver::new(evidence_sha256).derive(locator)
    }
}

/// [`TxId::derive`] for many rows of one evidence file: the hash state after the evidence
/// hash is computed once, the locator text is hashed as it is formatted (no string per row).
#[derive(Clone)]
pub struct TxIdDeriver {
    prefix: Sha256,
}

impl TxIdDeriver {
    /// For the evidence file with this SHA-256 (hex).
    pub fn new(evidence_sha256: &str) -> Self {
        let mut prefix = Sha256::new();
        prefix.update(evidence_sha256.as_bytes());
        prefix.update([0u8]);
        Self { prefix }
    }

    /// The id of the row at `locator`; equal to [`TxId::derive`].
    pub fn derive(&self, locator: &Locator) -> TxId {
        locator.with_text(|t| TxId(self.derive_from_text(t).as_str().to_owned()))
    }

    /// The id of the row whose locator text (`Locator`'s `Display`) is `locator_text`, without
    /// a string: a streaming reader formats the locator once, for the id and for its column.
    pub fn derive_from_text(&self, locator_text: &str) -> TxIdHex {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut h = self.prefix.clone();
        h.update(locator_text.as_bytes());
        let digest = h.finalize();
        let mut out = [0u8; 16];
        for (o, &b) in out.chunks_exact_mut(2).zip(&digest[..8]) {
            o[0] = HEX[usize::from(b >> 4)];
            o[1] = HEX[usize::from(b & 0xF)];
        }
        TxIdHex(out)
    }
}

/// A transaction id's 16 hex digits on the stack ([`TxIdDeriver::derive_from_text`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxIdHex([u8; 16]);

impl TxIdHex {
    /// The digits as text.
    pub fn as_str(&self) -> &str {
        // hex digits: ASCII by construction
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A place inside an evidence file. Numbers are 1-based, as a person counts them
/// (spreadsheet row numbers, text line numbers, PDF page numbers).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Locator {
    /// A table row: CSV line number or spreadsheet row (`sheet=Umsätze row=17`).
    Row {
        /// Sheet name for workbooks.
        sheet: Option<String>,
        /// 1-based row (spreadsheet) or physical line (text) number.
        row: u32,
    },
    /// An entry in a statement file (MT940, CAMT, OFX): `statement=2 entry=5 [detail=1] [line=34]`.
    Entry {
        /// 1-based statement number in the file.
        statement: u32,
        /// 1-based entry number in the statement.
        entry: u32,
        /// 1-based transaction detail in a batch entry (CAMT `TxDtls`).
        detail: Option<u32>,
        /// 1-based text line where the entry starts, when the format is line based.
        line: Option<u32>,
    },
    /// A line of text on a PDF page: `page=3 line=12`.
    Page {
        /// 1-based page.
        page: u32,
        /// 1-based line on that page (after layout reconstruction).
        line: u32,
    },
}

impl Locator {
    /// Calls `f` with the text `Display` writes. The common `row=N` is written into a stack
    /// buffer without the formatting machinery: ids and the frame's locator column need it for
    /// every row of a million-row export.
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        if let Locator::Row { sheet: None, row } = self {
            let mut buf = *b"row=0000000000";
            let mut n = *row;
            let mut i = buf.len();
            loop {
                i -= 1;
                buf[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let digits = buf.len() - i;
            buf.copy_within(i.., 4);
            // ASCII by construction
            return f(std::str::from_utf8(&buf[..4 + digits]).unwrap_or_default());
        }
        f(&self.to_string())
    }

    /// Parses the text written by `Display` (`row=17`, `sheet=Umsätze row=17`,
    /// `statement=2 entry=5 detail=1 line=34`, `page=3 line=12`). Sheet names may contain
    /// spaces: everything between `sheet=` and the last ` row=` is the name.
    pub fn parse(text: &str) -> Option<Locator> {
        let num = |s: &str| s.trim().parse::<u32>().ok();
        if let Some(rest) = text.strip_prefix("sheet=") {
            let (sheet, row) = rest.rsplit_once(" row=")?;
            return Some(Locator::Row {
                sheet: Some(sheet.to_owned()),
                row: num(row)?,
            });
        }
        if let Some(row) = text.strip_prefix("row=") {
            return Some(Locator::Row {
                sheet: None,
                row: num(row)?,
            });
        }
        let mut kv = std::collections::BTreeMap::new();
        for part in text.split_whitespace() {
            let (k, v) = part.split_once('=')?;
            kv.insert(k, num(v)?);
        }
        if let (Some(&page), Some(&line)) = (kv.get("page"), kv.get("line")) {
            return Some(Locator::Page { page, line });
        }
        Some(Locator::Entry {
            statement: *kv.get("statement")?,
            entry: *kv.get("entry")?,
            detail: kv.get("detail").copied(),
            line: kv.get("line").copied(),
        })
    }
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Row {
                sheet: Some(s),
                row,
            } => write!(f, "sheet={s} row={row}"),
            Locator::Row { sheet: None, row } => write!(f, "row={row}"),
            Locator::Entry {
                statement,
                entry,
                detail,
                line,
            } => {
                write!(f, "statement={statement} entry={entry}")?;
                if let Some(d) = detail {
                    write!(f, " detail={d}")?;
                }
                if let Some(l) = line {
                    write!(f, " line={l}")?;
                }
                Ok(())
            }
            Locator::Page { page, line } => write!(f, "page={page} line={line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_text() {
        let l = Locator::Row {
            sheet: Some("Umsätze".into()),
            row: 17,
        };
        assert_eq!(l.to_string(), "sheet=Umsätze row=17");
        let e = Locator::Entry {
            statement: 2,
            entry: 5,
            detail: None,
            line: Some(34),
        };
        assert_eq!(e.to_string(), "statement=2 entry=5 line=34");
        assert_eq!(
            Locator::Page { page: 3, line: 12 }.to_string(),
            "page=3 line=12"
        );
    }

    #[test]
    fn with_text_writes_what_display_writes() {
        let mut all: Vec<Locator> = [0, 1, 9, 10, 99, 100, 65_536, 999_999_999, u32::MAX]
            .into_iter()
            .map(|row| Locator::Row { sheet: None, row })
            .collect();
        all.push(Locator::Row {
            sheet: Some("Umsätze".into()),
            row: 17,
        });
        all.push(Locator::Page { page: 3, line: 12 });
        for l in all {
            assert_eq!(l.with_text(str::to_owned), l.to_string());
        }
    }

    #[test]
    fn locator_parse_round_trips() {
        for l in [
            Locator::Row {
                sheet: Some("Umsätze 2025".into()),
                row: 17,
            },
            Locator::Row {
                sheet: None,
                row: 3,
            },
            Locator::Entry {
                statement: 2,
                entry: 5,
                detail: Some(1),
                line: Some(34),
            },
            Locator::Entry {
                statement: 1,
                entry: 9,
                detail: None,
                line: None,
            },
            Locator::Page { page: 3, line: 12 },
        ] {
            assert_eq!(Locator::parse(&l.to_string()), Some(l.clone()), "{l}");
        }
        assert_eq!(Locator::parse("garbage"), None);
    }

    #[test]
    fn tx_id_is_stable_and_distinct() {
        let a = TxId::derive(
            "abc",
            &Locator::Row {
                sheet: None,
                row: 1,
            },
        );
        let b = TxId::derive(
            "abc",
            &Locator::Row {
                sheet: None,
                row: 1,
            },
        );
        let c = TxId::derive(
            "abc",
            &Locator::Row {
                sheet: None,
                row: 2,
            },
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.0.len(), 16);
    }

    /// The ids are stored in every output and case: the fast deriver must give exactly what
    /// the definition (SHA-256 of hash, NUL, locator text; first 8 bytes in hex) gives.
    #[test]
    fn deriver_matches_the_definition() {
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let d = TxIdDeriver::new(sha);
        for loc in [
            Locator::Row {
                sheet: None,
                row: 17,
            },
            Locator::Row {
                sheet: Some("Umsätze".into()),
                row: 1_000_000,
            },
            Locator::parse("page=3 line=12").unwrap(),
            Locator::parse("statement=2 entry=5").unwrap(),
        ] {
            let mut h = Sha256::new();
            h.update(sha.as_bytes());
            h.update([0u8]);
            h.update(loc.to_string().as_bytes());
            let want = h.finalize()[..8].iter().fold(String::new(), |mut s, b| {
                use std::fmt::Write as _;
                write!(s, "{b:02x}").unwrap();
                s
            });
            assert_eq!(d.derive(&loc).0, want, "{loc}");
            assert_eq!(TxId::derive(sha, &loc).0, want);
            assert_eq!(d.derive_from_text(&loc.to_string()).as_str(), want);
        }
    }
}
