//! A lenient, allocation-light CSV tokenizer with physical line numbers, delimiter sniffing and
//! record-aligned chunking for parallel parsing.
//!
//! Quoted fields may hold delimiters, line breaks and `""`. Stray quotes inside unquoted fields
//! are kept literally (real exports have them); text after a closing quote is appended. Line
//! breaks are `\n`, `\r\n` and lone `\r`, counted like `text::numbered_lines`.

use std::borrow::Cow;
use std::ops::Range;

/// Where a record lies in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordPos {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset after the last character (before the line break).
    pub end: usize,
    /// 1-based physical line where the record starts.
    pub line: u32,
}

/// Iterates over the records of a text.
pub(crate) struct Tokenizer<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
    delim: u8,
    /// Bytes that end a quoted field's run: quote and line breaks.
    quoted_stops: Stops,
    /// Bytes that end an unquoted field: delimiter and line breaks.
    plain_stops: Stops,
    /// Scratch of [`Self::one_line_record`]: per 8 bytes of the line, the quotes and the
    /// delimiters ([`byte_marks`]).
    marks: Vec<[u64; 2]>,
}

/// Three bytes to search for: a table by byte value (short runs are scanned byte by byte) and
/// the bytes themselves (long runs are handed to `memchr3`'s SIMD search).
struct Stops {
    table: [bool; 256],
    bytes: [u8; 3],
}

impl Stops {
    fn new(bytes: [u8; 3]) -> Self {
        let mut table = [false; 256];
        for b in bytes {
            table[usize::from(b)] = true;
        }
        Self { table, bytes }
    }

    /// The first position at or after `from` holding one of the bytes, or `hay.len()`. Most CSV
    /// fields are short: the first 32 bytes are looked at one by one (a `memchr3` call costs
    /// ~100 instructions before it finds anything), the rest with SIMD.
    #[inline]
    fn find(&self, hay: &[u8], from: usize) -> usize {
        let end = hay.len().min(from + 32);
        let mut at = from;
        while at < end {
            if self.table[usize::from(hay[at])] {
                return at;
            }
            at += 1;
        }
        if at >= hay.len() {
            return hay.len();
        }
        let [one, two, three] = self.bytes;
        memchr::memchr3(one, two, three, &hay[at..]).map_or(hay.len(), |k| at + k)
    }
}

impl<'a> Tokenizer<'a> {
    /// Starts at byte `pos` (a record start) on 1-based line `line`.
    pub fn new(text: &'a str, delim: u8, pos: usize, line: u32) -> Self {
        Self {
            text,
            pos,
            line,
            delim,
            quoted_stops: Stops::new([b'"', b'\n', b'\r']),
            plain_stops: Stops::new([delim, b'\n', b'\r']),
            marks: Vec::new(),
        }
    }

    /// Byte offset of the next record.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// 1-based line of the next record.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// Reads the next record into `fields` (cleared first). `None` at the end of the text.
    pub fn next_record(&mut self, fields: &mut Vec<Cow<'a, str>>) -> Option<RecordPos> {
        fields.clear();
        if self.pos >= self.text.len() {
            return None;
        }
        if let Some(r) = self.one_line_record(fields) {
            return Some(r);
        }
        fields.clear();
        self.any_record(fields)
    }

    /// The longest line [`Self::one_line_record`] reads: its marks take 2 bytes per byte of the
    /// line, and a hostile file may hold one line of hundreds of MB (read byte by byte instead).
    const ONE_LINE_MAX: usize = 64 * 1024;

    /// The common case, fast: a record on one line whose quoted fields hold no `""`, no line
    /// break and nothing after the closing quote. The quotes and delimiters of the line are
    /// found eight bytes at a time ([`byte_marks`]) and the fields cut between them; a
    /// byte-by-byte scan per field cost ~2,800 instructions per row of a bank CSV. `None`
    /// (nothing consumed) for any other record: [`Self::any_record`] reads it, and gives the
    /// same fields as this for the records read here (tested).
    fn one_line_record(&mut self, fields: &mut Vec<Cow<'a, str>>) -> Option<RecordPos> {
        let text = self.text;
        let b = text.as_bytes();
        let start = self.pos;
        // the record ends at the first line break (a quoted field going on past it is left
        // to the full tokenizer)
        let end = memchr::memchr2(b'\n', b'\r', &b[start..]).map_or(b.len(), |k| start + k);
        if end - start > Self::ONE_LINE_MAX {
            return None;
        }
        let line = &b[start..end];
        self.marks.clear();
        let (quote, delim) = (
            u64::from_ne_bytes([b'"'; 8]),
            u64::from_ne_bytes([self.delim; 8]),
        );
        let mut words = line.chunks_exact(8);
        for w in &mut words {
            let mut x = [0u8; 8];
            x.copy_from_slice(w);
            let x = u64::from_le_bytes(x);
            self.marks
                .push([byte_marks(x, quote), byte_marks(x, delim)]);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            // zero padding: never a quote or a delimiter
            let mut x = [0u8; 8];
            x[..rest.len()].copy_from_slice(rest);
            let x = u64::from_le_bytes(x);
            self.marks
                .push([byte_marks(x, quote), byte_marks(x, delim)]);
        }
        // the first quote (k = 0) or delimiter (k = 1) at or after `from`, before `end`
        let marks = &self.marks;
        let next = |k: usize, from: usize| -> Option<usize> {
            let off = from - start;
            let mut w = off / 8;
            let mut m = marks.get(w)?[k] & (!0u64 << (8 * (off % 8)));
            loop {
                if m != 0 {
                    return Some(start + w * 8 + m.trailing_zeros() as usize / 8);
                }
                w += 1;
                m = marks.get(w)?[k];
            }
        };
        let mut p = start;
        loop {
            if p < end && b[p] == b'"' {
                let q = next(0, p + 1)?;
                if q + 1 < end && b[q + 1] != self.delim {
                    return None; // `""` or text after the closing quote
                }
                fields.push(Cow::Borrowed(&text[p + 1..q]));
                if q + 1 == end {
                    break;
                }
                p = q + 2;
            } else {
                let d = next(1, p).unwrap_or(end);
                fields.push(Cow::Borrowed(&text[p..d]));
                if d == end {
                    break;
                }
                p = d + 1;
            }
        }
        let rec = RecordPos {
            start,
            end,
            line: self.line,
        };
        let mut i = end;
        if i < b.len() {
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
            i += 1;
            self.line = self.line.saturating_add(1);
        }
        self.pos = i;
        Some(rec)
    }

    /// Any record, byte by byte: quoted fields across lines, `""`, text after a closing quote.
    fn any_record(&mut self, fields: &mut Vec<Cow<'a, str>>) -> Option<RecordPos> {
        let text = self.text;
        let b = text.as_bytes();
        let n = b.len();
        if self.pos >= n {
            return None;
        }
        let start = self.pos;
        let line = self.line;
        let mut i = self.pos;
        loop {
            // one field
            if i < n && b[i] == b'"' {
                i += 1;
                let fstart = i;
                let mut owned: Option<String> = None;
                let mut seg = i;
                loop {
                    // jump to the next quote or line break
                    i = self.quoted_stops.find(b, i);
                    if i >= n {
                        break;
                    }
                    match b[i] {
                        b'"' => {
                            if i + 1 < n && b[i + 1] == b'"' {
                                let o = owned.get_or_insert_with(String::new);
                                o.push_str(&text[seg..=i]);
                                i += 2;
                                seg = i;
                            } else {
                                break;
                            }
                        }
                        b'\n' => {
                            self.line = self.line.saturating_add(1);
                            i += 1;
                        }
                        b'\r' => {
                            if !(i + 1 < n && b[i + 1] == b'\n') {
                                self.line = self.line.saturating_add(1);
                            }
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
                let qend = i.min(n);
                let mut value: Cow<'a, str> = match owned {
                    Some(mut o) => {
                        o.push_str(&text[seg..qend]);
                        Cow::Owned(o)
                    }
                    None => Cow::Borrowed(&text[fstart..qend]),
                };
                if i < n {
                    i += 1; // closing quote
                }
                // lenient: characters after the closing quote up to the delimiter
                let tail_start = i;
                while i < n && b[i] != self.delim && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                if i > tail_start {
                    let mut o = value.into_owned();
                    o.push_str(&text[tail_start..i]);
                    value = Cow::Owned(o);
                }
                fields.push(value);
            } else {
                let fstart = i;
                i = self.plain_stops.find(b, i);
                fields.push(Cow::Borrowed(&text[fstart..i]));
            }
            if i < n && b[i] == self.delim {
                i += 1;
                continue;
            }
            break;
        }
        let end = i;
        if i < n {
            if b[i] == b'\r' {
                i += 1;
                if i < n && b[i] == b'\n' {
                    i += 1;
                }
            } else if b[i] == b'\n' {
                i += 1;
            }
            self.line = self.line.saturating_add(1);
        }
        self.pos = i;
        Some(RecordPos { start, end, line })
    }
}

/// Counts delimiter candidates outside quotes per line over the first lines and picks the one
/// with the most consistent field count (at least two fields).
pub(crate) fn sniff_delimiter(head: &str) -> Option<u8> {
    let mut best: Option<(u8, usize)> = None;
    for d in [b';', b',', b'\t', b'|'] {
        let mut tok = Tokenizer::new(head, d, 0, 1);
        let mut fields = Vec::new();
        let mut counts: Vec<usize> = Vec::new();
        while let Some(_r) = tok.next_record(&mut fields) {
            if fields.len() == 1 && fields[0].trim().is_empty() {
                continue;
            }
            counts.push(fields.len());
            if counts.len() >= 60 {
                break;
            }
        }
        if counts.is_empty() {
            continue;
        }
        // the most frequent field count above one, weighted by how often it occurs
        let mut freq: Vec<(usize, usize)> = Vec::new();
        for &c in &counts {
            if c < 2 {
                continue;
            }
            match freq.iter_mut().find(|(k, _)| *k == c) {
                Some((_, f)) => *f += 1,
                None => freq.push((c, 1)),
            }
        }
        // cells in rows of the same width: a decimal comma inside a ';' file splits a few
        // rows in two, but the ';' rows are both many and wide
        let Some(&(cols, f)) = freq.iter().max_by_key(|(c, f)| (*f * *c, *c)) else {
            continue;
        };
        let score = f * cols;
        if f >= 1 && best.is_none_or(|(_, s)| score > s) {
            best = Some((d, score));
        }
    }
    best.map(|(d, _)| d)
}

/// The high bit of every byte of `word` that equals the byte repeated in `pattern` (exact:
/// the low seven bits are added without carries between bytes).
#[inline]
fn byte_marks(word: u64, pattern: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let v = word ^ pattern;
    !(((v & LOW7) + LOW7) | v | LOW7)
}

/// How often `needle` occurs in `b`, eight bytes at a time (SWAR: a byte of `word ^ needle`
/// is zero exactly where the needle is). A bank CSV has a quote every few bytes: too many for
/// `memchr_iter`, and a plain per-byte loop is not vectorised for the baseline x86-64 target
/// (~3× slower in a measurement on this machine).
fn count_byte(b: &[u8], needle: u8) -> usize {
    let pattern = u64::from_ne_bytes([needle; 8]);
    let mut words = b.chunks_exact(8);
    let mut total = 0usize;
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        total += byte_marks(u64::from_ne_bytes(word), pattern).count_ones() as usize;
    }
    total
        + words
            .remainder()
            .iter()
            .map(|&x| usize::from(x == needle))
            .sum::<usize>()
}

/// Line breaks in `b` (`\n`, and `\r` not followed by `\n`); `next` is the byte after `b`.
fn count_breaks(b: &[u8], next: Option<u8>) -> u32 {
    let lone_cr = memchr::memchr_iter(b'\r', b)
        .filter(|&i| b.get(i + 1).copied().or(next) != Some(b'\n'))
        .count();
    u32::try_from(count_byte(b, b'\n') + lone_cr).unwrap_or(u32::MAX)
}

/// Splits `text[from..]` into about `parts` record-aligned ranges (with their 1-based start
/// lines), using quote parity to find record starts in parallel. The caller verifies that each
/// range's tokenizer ends exactly at the next range's start (`parse_text` checks this while parsing);
/// a file whose quotes confuse the parity is then parsed sequentially.
pub(crate) fn split_ranges(
    text: &str,
    from: usize,
    first_line: u32,
    parts: usize,
) -> Vec<(Range<usize>, u32)> {
    use rayon::prelude::*;
    let b = text.as_bytes();
    let n = b.len();
    if from >= n {
        return Vec::new();
    }
    let len = n - from;
    let parts = parts.max(1).min(len / (1 << 16) + 1);
    if parts <= 1 {
        return vec![(from..n, first_line)];
    }
    let step = len / parts;
    // raw cut points: just after a '\n' at or after the nominal position
    let mut cuts: Vec<usize> = vec![from];
    for k in 1..parts {
        let nominal = from + k * step;
        let Some(off) = b
            .get(nominal..)
            .and_then(|s| s.iter().position(|&x| x == b'\n'))
        else {
            break;
        };
        let c = nominal + off + 1;
        if c < n && c > *cuts.last().unwrap_or(&from) {
            cuts.push(c);
        }
    }
    cuts.push(n);
    let pieces: Vec<Range<usize>> = cuts.windows(2).map(|w| w[0]..w[1]).collect();
    // per piece: quote count and line breaks
    let stats: Vec<(usize, u32)> = pieces
        .par_iter()
        .map(|r| {
            let s = &b[r.clone()];
            (count_byte(s, b'"'), count_breaks(s, b.get(r.end).copied()))
        })
        .collect();
    let mut out = Vec::with_capacity(pieces.len());
    let mut quotes = 0usize;
    let mut line = first_line;
    for (i, r) in pieces.iter().enumerate() {
        if quotes.is_multiple_of(2) {
            // the piece starts outside quotes, right after a line break
            out.push((r.start, line));
        }
        // (an odd count means the cut is inside a quoted field; the record continues into
        // this piece and the next even cut starts the next range)
        quotes += stats[i].0;
        line = line.saturating_add(stats[i].1);
    }
    let mut ranges = Vec::with_capacity(out.len());
    for (i, &(s, l)) in out.iter().enumerate() {
        let e = out.get(i + 1).map_or(n, |x| x.0);
        ranges.push((s..e, l));
    }
    ranges
}

#[cfg(test)]
/// True when tokenizing each range from its start ends exactly at its end (so the ranges are the
/// same records a sequential pass sees).
pub(crate) fn range_is_consistent(text: &str, delim: u8, range: &Range<usize>, line: u32) -> bool {
    let mut tok = Tokenizer::new(text, delim, range.start, line);
    let mut fields = Vec::new();
    while tok.pos() < range.end {
        if tok.next_record(&mut fields).is_none() {
            break;
        }
    }
    tok.pos() == range.end
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    #[test]
    fn stops_are_found_like_the_plain_search() {
        let stops = super::Stops::new([b'"', b'\n', b'\r']);
        // a stop at every distance from the start (in the byte scan, behind it in memchr's
        // part), none at all, and bytes that differ from a stop in one bit
        for len in [0usize, 1, 7, 8, 9, 63, 64, 65, 200] {
            for stop in [None, Some(b'"'), Some(b'\n'), Some(b'\r')] {
                for at in 0..len.max(1) {
                    let mut hay: Vec<u8> = (0..len).map(|i| b"#*\x8a\x0bab;"[i % 7]).collect();
                    if let Some(s) = stop
                        && at < len
                    {
                        hay[at] = s;
                    }
                    for from in [0, at / 2, at] {
                        if from > hay.len() {
                            continue;
                        }
                        let want = hay[from..]
                            .iter()
                            .position(|b| matches!(b, b'"' | b'\n' | b'\r'))
                            .map_or(hay.len(), |k| from + k);
                        assert_eq!(
                            stops.find(&hay, from),
                            want,
                            "len {len} at {at} from {from}"
                        );
                    }
                }
            }
        }
    }

    /// Every record of `text` with the tokenizer as used (one-line fast path first) and with
    /// the byte-by-byte path alone: fields, positions, lines and where each record ends.
    fn both_ways(text: &str, d: u8) -> (Vec<String>, Vec<String>) {
        let run = |fast: bool| {
            let mut tok = super::Tokenizer::new(text, d, 0, 1);
            let mut fields = Vec::new();
            let mut out = Vec::new();
            loop {
                let r = if fast {
                    tok.next_record(&mut fields)
                } else {
                    fields.clear();
                    tok.any_record(&mut fields)
                };
                let Some(r) = r else { break };
                out.push(format!("{r:?} {fields:?} -> {} {}", tok.pos(), tok.line()));
            }
            out
        };
        (run(true), run(false))
    }

    #[test]
    fn one_line_records_read_like_the_full_tokenizer() {
        // records the fast path takes and every way it must hand one over: `""`, text after
        // a closing quote, quoted line breaks, an unterminated quote, stray quotes in plain
        // fields, empty fields and lines, CRLF / lone CR, no final line break, words of 8
        let cases = [
            "\"a\";\"b\";\"\"\n\"c;d\";e;\"\"\"x\"\r\n",
            "\"Auftragskonto\";\"Buchungstag\"\n\"DE59370501982420164873\";\"31.12.25\"\n",
            "a;b\"c;\"d\"e;f\n;;\n\n\"x\ny\";z\r\"q\"\"\"\r\n\"open;end",
            "12345678;\"1234567\";\"\";;\"Große Straße 12345678\"",
            "\"ab\"c;d\n\"a\";\"b\"x\n\"\";\"\n\"\n",
            ";\";\";\n\"\"\n\"\n",
        ];
        for text in cases {
            for d in [b';', b','] {
                let (fast, full) = both_ways(text, d);
                assert_eq!(fast, full, "{text:?}");
            }
        }
        // a line longer than the fast path takes is read the same way, byte by byte
        let long = format!("\"{}\";x\n\"a\"\n", "y;".repeat(40_000));
        let (fast, full) = both_ways(&long, b';');
        assert_eq!(fast, full);
        let mut tok = super::Tokenizer::new(&long, b';', 0, 1);
        assert!(tok.one_line_record(&mut Vec::new()).is_none());
        // a real-looking bank CSV line is read by the fast path (fields without copies)
        let line = "\"DE59370501982420164873\";\"31.12.25\";\"KARTENZAHLUNG\";\"\";\"-29,70\"\n";
        let mut tok = super::Tokenizer::new(line, b';', 0, 1);
        let mut fields = Vec::new();
        assert!(tok.one_line_record(&mut fields).is_some());
        assert_eq!(fields.len(), 5);
        assert!(
            fields
                .iter()
                .all(|f| matches!(f, std::borrow::Cow::Borrowed(_)))
        );
        assert_eq!(fields[2], "KARTENZAHLUNG");
    }

    proptest::proptest! {
        #[test]
        fn fast_path_matches_the_full_tokenizer(
            text in "[a\";,\n\r ä]{0,80}",
            comma in proptest::bool::ANY,
        ) {
            let (fast, full) = both_ways(&text, if comma { b',' } else { b';' });
            proptest::prop_assert_eq!(fast, full);
        }
    }

    #[test]
    fn count_breaks_counts_lf_crlf_and_lone_cr() {
        // every mix of the three breaks, cut at every place (a CR at the end looks at `next`)
        let text = b"a\nb\r\nc\rd\r\r\n\n\re";
        let plain = |b: &[u8], next: Option<u8>| {
            let mut c = 0u32;
            for (i, &x) in b.iter().enumerate() {
                let nx = b.get(i + 1).copied().or(next);
                c += u32::from(x == b'\n' || (x == b'\r' && nx != Some(b'\n')));
            }
            c
        };
        for end in 0..=text.len() {
            let (b, next) = (&text[..end], text.get(end).copied());
            assert_eq!(super::count_breaks(b, next), plain(b, next), "{end}");
        }
        let long = "x;\"y\"\r\n".repeat(10_000);
        assert_eq!(super::count_breaks(long.as_bytes(), None), 10_000);
    }

    #[test]
    fn count_byte_counts_like_the_plain_loop() {
        // lengths around the 8-byte words, quotes dense and sparse, and near-miss bytes
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 20_000] {
            for every in [1usize, 2, 5, 97] {
                // 0xA2 and 0x23 differ from '"' (0x22) in one bit
                let b: Vec<u8> = (0..len)
                    .map(|i| {
                        if i % every == 0 {
                            b'"'
                        } else {
                            b"a\xa2#"[i % 3]
                        }
                    })
                    .collect();
                let want = b.iter().map(|&x| usize::from(x == b'"')).sum::<usize>();
                assert_eq!(super::count_byte(&b, b'"'), want, "len {len} every {every}");
            }
        }
    }

    use super::*;

    fn all(text: &str, d: u8) -> Vec<(u32, Vec<String>)> {
        let mut t = Tokenizer::new(text, d, 0, 1);
        let mut f = Vec::new();
        let mut out = Vec::new();
        while let Some(r) = t.next_record(&mut f) {
            out.push((r.line, f.iter().map(ToString::to_string).collect()));
        }
        out
    }

    #[test]
    fn quotes_newlines_and_line_numbers() {
        let r = all("a;\"b;c\"\r\n\"x\"\"y\";\"multi\nline\"\n\rz;1", b';');
        assert_eq!(r[0], (1, vec!["a".to_owned(), "b;c".to_owned()]));
        assert_eq!(r[1], (2, vec!["x\"y".to_owned(), "multi\nline".to_owned()]));
        assert_eq!(r[2], (4, vec![String::new()]));
        assert_eq!(r[3], (5, vec!["z".to_owned(), "1".to_owned()]));
        // stray quote in an unquoted field stays
        let r = all("ab\"c,\"d\"x\n", b',');
        assert_eq!(r[0].1, vec!["ab\"c".to_owned(), "dx".to_owned()]);
    }

    #[test]
    fn sniffs() {
        assert_eq!(sniff_delimiter("a;b;c\n1;2,5;3\n4;5;6\n"), Some(b';'));
        assert_eq!(sniff_delimiter("a,b,c\n1,\"2;5\",3\n"), Some(b','));
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n"), Some(b'\t'));
        assert_eq!(sniff_delimiter("K|1|2\n|a|b|c|\n|d|e|f|\n"), Some(b'|'));
        assert_eq!(sniff_delimiter("just text\nmore text\n"), None);
    }

    #[test]
    fn ranges_match_sequential() {
        let mut s = String::new();
        for i in 0..20_000 {
            let _ = write!(s, "{i};\"text\nwith; break {i}\";\"q\"\"x\"\r\n");
        }
        let ranges = split_ranges(&s, 0, 1, 8);
        assert!(ranges.len() > 1);
        let mut lines = Vec::new();
        for (r, l) in &ranges {
            assert!(range_is_consistent(&s, b';', r, *l));
            let mut t = Tokenizer::new(&s, b';', r.start, *l);
            let mut f = Vec::new();
            while t.pos() < r.end {
                let Some(p) = t.next_record(&mut f) else {
                    break;
                };
                lines.push(p.line);
            }
        }
        let seq: Vec<u32> = all(&s, b';').into_iter().map(|x| x.0).collect();
        assert_eq!(lines, seq);
    }
}
