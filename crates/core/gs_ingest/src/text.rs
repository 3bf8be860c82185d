//! Bytes to text: BOM, UTF-8, Windows-1252 / ISO-8859-1 detection; line helpers.

use std::borrow::Cow;

/// Text decoded from evidence bytes.
#[derive(Debug, Clone)]
pub struct Decoded<'a> {
    /// The text (borrowed when the bytes were valid UTF-8 without BOM).
    pub text: Cow<'a, str>,
    /// Encoding name as encoding_rs spells it (`UTF-8`, `windows-1252`, ...).
    pub encoding: &'static str,
    /// A byte order mark was present and removed.
    pub had_bom: bool,
    /// Some bytes could not be decoded and became U+FFFD.
    pub had_errors: bool,
}

/// Files up to this size are given to the encoding guess whole; of bigger files it reads a
/// quarter of this in lines with non-ASCII bytes (chardetng is slow: ~5 MB/s; a German export
/// shows its umlauts in the first few hundred lines).
pub const ENCODING_SAMPLE_BYTES: usize = 256 << 10;

/// Decodes bytes: BOM first, then strict UTF-8, then chardetng's guess (restricted to
/// what German evidence uses: windows-1252 for Latin text, which is a superset of ISO-8859-1's
/// printable range).
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    decode_with(bytes, || single_byte_guess(bytes))
}

/// [`decode`] with the single-byte guess supplied (asked only when the bytes have no BOM and
/// are not UTF-8): a file's guess is made once, on the file's head
/// ([`SourceFile`](crate::SourceFile)), and then also decodes any part of it.
pub fn decode_with(
    bytes: &[u8],
    guess: impl FnOnce() -> Option<&'static encoding_rs::Encoding>,
) -> Decoded<'_> {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded {
            text,
            encoding: enc.name(),
            had_bom: true,
            had_errors,
        };
    }
    if let Ok(s) = simdutf8::basic::from_utf8(bytes) {
        return Decoded {
            text: Cow::Borrowed(s),
            encoding: "UTF-8",
            had_bom: false,
            had_errors: false,
        };
    }
    let Some(enc) = guess() else {
        // Mostly UTF-8 with a few stray bytes: decode lossy as UTF-8.
        let text = String::from_utf8_lossy(bytes);
        return Decoded {
            text,
            encoding: "UTF-8",
            had_bom: false,
            had_errors: true,
        };
    };
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    Decoded {
        text,
        encoding: enc.name(),
        had_bom: false,
        had_errors,
    }
}

/// The encoding of bytes that are not UTF-8 (no BOM, not valid UTF-8): chardetng's guess on
/// the bytes (a big file: on its first lines with non-ASCII bytes) with a German hint,
/// restricted to what German evidence uses (windows-1252 for Latin text, a superset of
/// ISO-8859-1's printable range; ISO-8859-2 and windows-1250 for Central European exports). `None`: mostly UTF-8 with a
/// few stray bytes (decode lossy as UTF-8).
pub fn single_byte_guess(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let mut det = chardetng::EncodingDetector::new();
    if bytes.len() <= ENCODING_SAMPLE_BYTES {
        det.feed(bytes, true);
    } else {
        det.feed(&non_ascii_lines(bytes), false);
    }
    let enc = det.guess(Some(b"de"), true);
    match enc.name() {
        "UTF-8" => None,
        "windows-1252" | "ISO-8859-2" | "windows-1250" => Some(enc),
        // exotic guesses on short German text are usually wrong; windows-1252 decodes every byte
        _ => Some(encoding_rs::WINDOWS_1252),
    }
}

/// The lines of a big file that hold non-ASCII bytes, up to [`ENCODING_SAMPLE_BYTES`] / 4 of
/// them from the first [`NON_ASCII_SCAN_BYTES`]: what tells encodings apart, without the pure
/// ASCII lines between them that chardetng would read at ~5 MB/s for nothing.
fn non_ascii_lines(bytes: &[u8]) -> Vec<u8> {
    const CONTEXT: usize = 2048; // at most this much of a line on each side of the byte
    let want = ENCODING_SAMPLE_BYTES / 4;
    let scan = &bytes[..bytes.len().min(NON_ASCII_SCAN_BYTES)];
    let mut sample = Vec::with_capacity(want + 2 * CONTEXT);
    let mut pos = 0;
    while sample.len() < want && pos < scan.len() {
        // the next non-ASCII byte (32 ASCII bytes passed over at a time)
        let mut i = pos;
        while i + 32 <= scan.len() && scan[i..i + 32].is_ascii() {
            i += 32;
        }
        let Some(k) = scan[i..].iter().position(|&b| b >= 0x80) else {
            break;
        };
        let p = i + k;
        let floor = pos.max(p.saturating_sub(CONTEXT));
        let start = memchr::memrchr(b'\n', &scan[floor..p]).map_or(floor, |j| floor + j + 1);
        let ceil = scan.len().min(p + CONTEXT);
        let end = memchr::memchr(b'\n', &scan[p..ceil]).map_or(ceil, |j| p + j + 1);
        sample.extend_from_slice(&scan[start..end]);
        pos = end;
    }
    sample
}

/// How far into a big file [`single_byte_guess`] looks for lines with non-ASCII bytes.
const NON_ASCII_SCAN_BYTES: usize = 8 << 20;

/// Transcodes a single-byte encoding (windows-1252, ISO-8859-x, windows-125x) to UTF-8 in
/// place, on all cores, with exactly the output of encoding_rs. Returns whether any byte
/// decoded to U+FFFD.
///
/// Every byte value has a fixed UTF-8 length, so the output size and each 4 MiB part's place
/// in it (its window) are known first. The vector grows to the output size (within its
/// capacity when the caller left room: a German export grows by ~1 %). A window starts later
/// than its part by the growth of all parts before it, so the first bytes of a part lie in the
/// window before; they are copied aside (~1 % of the file in all). Then every window is
/// decoded back to front, in parallel: writing from the window's end, a character's bytes
/// never reach below the bytes still to be read (the output before a character is at least
/// as long as the input before it). A 200 MB export is never held twice (raw and decoded).
pub fn transcode_single_byte_in_place(
    bytes: &mut Vec<u8>,
    enc: &'static encoding_rs::Encoding,
) -> bool {
    use rayon::prelude::*;
    let Some(table) = ByteTable::of(enc) else {
        // not ASCII-compatible (no such encoding is guessed): decode the ordinary way
        let (text, err) = enc.decode_without_bom_handling(bytes);
        *bytes = text.into_owned().into_bytes();
        return err;
    };
    let utf8 = &table.utf8;
    let scan = |p: &[u8]| table.scan(p);
    let scanned: Vec<(usize, bool)> = bytes.par_chunks(PART).map(scan).collect();
    let extras: Vec<usize> = scanned.iter().map(|s| s.0).collect();
    let had_errors = scanned.iter().any(|s| s.1);
    let n = bytes.len();
    let total_extra: usize = extras.iter().sum();
    if total_extra == 0 {
        return had_errors; // ASCII only: already UTF-8
    }
    // exactly the room needed when the caller left too little (no doubling: the buffer lives
    // on as the frame's text)
    bytes.reserve_exact(total_extra);
    bytes.resize(n + total_extra, 0);
    // part k: input [k·PART, k·PART + len_k); window k: output [k·PART + grown_k, ... + len_k +
    // extra_k), where grown_k is the growth of the parts before k. The part's first
    // min(grown_k, len_k) bytes lie before its window: copied aside first.
    let mut heads: Vec<Vec<u8>> = Vec::with_capacity(extras.len());
    let mut windows: Vec<(usize, usize)> = Vec::with_capacity(extras.len()); // (len, window len)
    let mut grown = 0usize;
    for (k, &extra) in extras.iter().enumerate() {
        let from = k * PART;
        let len = PART.min(n - from);
        heads.push(bytes[from..from + grown.min(len)].to_vec());
        windows.push((len, len + extra));
        grown += extra;
    }
    let mut parts: Vec<(&mut [u8], Vec<u8>, usize)> = Vec::with_capacity(windows.len());
    let mut rest = bytes.as_mut_slice();
    for (&(len, wlen), head) in windows.iter().zip(heads) {
        let (w, tail) = rest.split_at_mut(wlen);
        parts.push((w, head, len));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(w, head, len)| {
        // input byte i of the part: head[i] for i < hl, else w[i - hl]; output fills all of w
        let hl = head.len();
        let (mut r, mut o) = (len, w.len());
        while r > hl {
            // an ASCII run (ending at r) moves as it is, 16 bytes at a time where possible
            let mut run = 0;
            while r - run >= hl + 16 && w[r - run - hl - 16..r - run - hl].is_ascii() {
                run += 16;
            }
            while r - run > hl && w[r - run - hl - 1] < 0x80 {
                run += 1;
            }
            if run > 0 {
                if o != r - hl {
                    w.copy_within(r - run - hl..r - hl, o - run);
                }
                o -= run;
                r -= run;
                continue;
            }
            r -= 1;
            let (seq, width) = utf8[usize::from(w[r - hl])];
            let width = usize::from(width);
            // o - width >= r - hl: the output before this byte is at least the input before it
            w[o - width..o].copy_from_slice(&seq[..width]);
            o -= width;
        }
        while r > 0 {
            r -= 1;
            let (seq, width) = utf8[usize::from(head[r])];
            let width = usize::from(width);
            w[o - width..o].copy_from_slice(&seq[..width]);
            o -= width;
        }
        debug_assert_eq!(o, 0);
    });
    had_errors
}

/// Parts of a file transcoded on one core at a time.
const PART: usize = 4 << 20;

/// The UTF-8 of every byte value of an ASCII-compatible single-byte encoding.
struct ByteTable {
    /// UTF-8 of each byte value (at most 3 bytes: U+FFFD or a BMP character) and its length.
    utf8: [([u8; 3], u8); 256],
    /// The byte value has no character (decodes to U+FFFD).
    errors: [bool; 256],
}

impl ByteTable {
    /// `None` when the encoding does not map ASCII to itself.
    fn of(enc: &'static encoding_rs::Encoding) -> Option<Self> {
        let mut t = Self {
            utf8: [([0u8; 3], 0u8); 256],
            errors: [false; 256],
        };
        for (b, (out, len)) in t.utf8.iter_mut().enumerate() {
            let one = [b as u8];
            let (text, e) = enc.decode_without_bom_handling(&one);
            let text = text.as_bytes();
            let n = text.len().min(3);
            out[..n].copy_from_slice(&text[..n]);
            *len = n as u8;
            t.errors[b] = e;
        }
        let ascii = (0..0x80).all(|b| t.utf8[b].1 == 1 && usize::from(t.utf8[b].0[0]) == b);
        ascii.then_some(t)
    }

    /// Extra output bytes of `p` (its UTF-8 length minus its length), and whether a byte has
    /// no character; ASCII blocks are passed over at once.
    fn scan(&self, p: &[u8]) -> (usize, bool) {
        let mut extra = 0;
        let mut error = false;
        for c in p.chunks(64).filter(|c| !c.is_ascii()) {
            for &b in c {
                extra += usize::from(self.utf8[usize::from(b)].1) - 1;
                error |= self.errors[usize::from(b)];
            }
        }
        (extra, error)
    }

    /// Writes the UTF-8 of `input` into `out`, which has exactly its length.
    fn decode_into(&self, input: &[u8], out: &mut [u8]) {
        let (mut r, mut o) = (0, 0);
        while r < input.len() {
            // an ASCII run moves as it is, 16 bytes at a time where possible
            let mut run = 0;
            while r + run + 16 <= input.len() && input[r + run..r + run + 16].is_ascii() {
                run += 16;
            }
            while r + run < input.len() && input[r + run] < 0x80 {
                run += 1;
            }
            if run > 0 {
                out[o..o + run].copy_from_slice(&input[r..r + run]);
                r += run;
                o += run;
                continue;
            }
            let (seq, width) = self.utf8[usize::from(input[r])];
            let width = usize::from(width);
            out[o..o + width].copy_from_slice(&seq[..width]);
            o += width;
            r += 1;
        }
        debug_assert_eq!(o, out.len());
    }
}

/// [`transcode_single_byte_in_place`] into new memory, for bytes that are shared (a big file
/// whose SHA-256 is still being taken from them, `walk::PendingSha`): the same output, on
/// all cores, front to back. Returns the UTF-8 and whether any byte decoded to U+FFFD.
pub fn transcode_single_byte(bytes: &[u8], enc: &'static encoding_rs::Encoding) -> (Vec<u8>, bool) {
    use rayon::prelude::*;
    let Some(table) = ByteTable::of(enc) else {
        let (t, e) = enc.decode_without_bom_handling(bytes);
        return (t.into_owned().into_bytes(), e);
    };
    let scanned: Vec<(usize, bool)> = bytes.par_chunks(PART).map(|p| table.scan(p)).collect();
    let had_errors = scanned.iter().any(|s| s.1);
    let total: usize = bytes.len() + scanned.iter().map(|s| s.0).sum::<usize>();
    // zeroed memory from the allocator is fresh pages: faulted in by the writes, no memset
    let mut out = vec![0u8; total];
    let mut windows: Vec<(&[u8], &mut [u8])> = Vec::with_capacity(scanned.len());
    let mut rest = out.as_mut_slice();
    for (part, &(extra, _)) in bytes.chunks(PART).zip(&scanned) {
        let (w, tail) = rest.split_at_mut(part.len() + extra);
        windows.push((part, w));
        rest = tail;
    }
    windows
        .into_par_iter()
        .for_each(|(part, w)| table.decode_into(part, w));
    (out, had_errors)
}

/// True when the bytes look binary (NUL bytes or many control characters in the head).
pub fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let ctrl = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x1a))
        .count();
    ctrl * 20 > head.len().max(1)
}

/// Splits text into lines (`\n`, `\r\n` or lone `\r`), keeping 1-based line numbers.
pub fn numbered_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.split('\n')
        .flat_map(|l| {
            // lone CR line breaks (old Mac exports) split further
            let l = l.strip_suffix('\r').unwrap_or(l);
            l.split('\r')
        })
        .enumerate()
        .map(|(i, l)| ((i + 1) as u32, l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_encodings() {
        let utf8 = "Müller;Überweisung".as_bytes();
        assert_eq!(decode(utf8).encoding, "UTF-8");
        let bom = [&[0xEF, 0xBB, 0xBF][..], utf8].concat();
        let d = decode(&bom);
        assert!(d.had_bom);
        assert_eq!(d.text, "Müller;Überweisung");
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode("Müller;Überweisung;Straße;Gebühr");
        let d = decode(&latin);
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(d.text, "Müller;Überweisung;Straße;Gebühr");
    }

    #[test]
    fn big_files_are_guessed_from_their_non_ascii_lines() {
        // 400 KiB of ASCII lines first: a sample of the head would see no umlaut at all
        let mut ascii = String::new();
        while ascii.len() < 400 << 10 {
            ascii.push_str("\"DE02120300000000202051\";\"01.01.25\";\"LASTSCHRIFT\";\"-800,00\"\n");
        }
        let (mut german, mut czech) = (String::new(), String::new());
        for i in 0..3000 {
            use std::fmt::Write as _;
            let cents = i % 100;
            writeln!(
                german,
                "\"Bäckerei Müller {i}\";\"Überweisung Straße\";\"-3,{cents:02}\""
            )
            .unwrap();
            writeln!(
                czech,
                "\"Příliš žluťoučký kůň {i}\";\"úpěl ďábelské ódy\";\"-3,50\""
            )
            .unwrap();
        }
        // chardetng with the German hint reads this short Czech sample in ISO-8859-2 as
        // windows-1252 whether it stands alone or not
        for (text, enc, verdict) in [
            (&german, encoding_rs::WINDOWS_1252, "windows-1252"),
            (&czech, encoding_rs::WINDOWS_1250, "windows-1250"),
            (&czech, encoding_rs::ISO_8859_2, "windows-1252"),
        ] {
            let (alone, _, _) = enc.encode(text);
            let big_text = format!("{ascii}{text}{ascii}");
            let (big, _, _) = enc.encode(&big_text);
            assert!(big.len() > ENCODING_SAMPLE_BYTES);
            let sample = non_ascii_lines(&big);
            assert!(sample.len() >= ENCODING_SAMPLE_BYTES / 4);
            assert!(
                sample
                    .split(|&b| b == b'\n')
                    .all(|l| l.is_empty() || !l.is_ascii())
            );
            let guess = single_byte_guess(&big).map(encoding_rs::Encoding::name);
            assert_eq!(guess, Some(verdict), "{}", enc.name());
            // the ASCII lines around do not change the verdict
            assert_eq!(
                guess,
                single_byte_guess(&alone[..ENCODING_SAMPLE_BYTES.min(alone.len())])
                    .map(encoding_rs::Encoding::name),
                "{}",
                enc.name()
            );
        }
        let late = format!("{ascii}{german}");
        let (german_1252, _, _) = encoding_rs::WINDOWS_1252.encode(&late);
        assert_eq!(
            single_byte_guess(&german_1252).map(encoding_rs::Encoding::name),
            Some("windows-1252")
        );
    }

    #[test]
    fn transcoding_equals_encoding_rs() {
        // every byte value (€ is 3 bytes in UTF-8, ü 2, controls 1) over several 4 MiB parts,
        // a mostly ASCII text with umlauts, ASCII only, and nothing
        let all: Vec<u8> = (0..9_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let lines = "Müller;Überweisung Straße 12;-1.234,56 €\n".repeat(250_000);
        let (german, _, _) = encoding_rs::WINDOWS_1252.encode(&lines);
        let inputs: [&[u8]; 4] = [&all, &german, b"plain ascii;1,00\n", b""];
        for enc in [
            encoding_rs::WINDOWS_1252,
            encoding_rs::ISO_8859_2,
            encoding_rs::WINDOWS_1250,
        ] {
            for input in inputs {
                let (want, want_errors) = enc.decode_without_bom_handling(input);
                // with room to grow in place, and without (the vector reallocates)
                for room in [input.len(), 0] {
                    let mut v = Vec::with_capacity(input.len() + room);
                    v.extend_from_slice(input);
                    let errors = transcode_single_byte_in_place(&mut v, enc);
                    assert!(
                        v == want.as_bytes(),
                        "{} ({} bytes)",
                        enc.name(),
                        input.len()
                    );
                    assert_eq!(errors, want_errors);
                }
                // into new memory (the bytes are shared while their hash is taken)
                let (out, errors) = transcode_single_byte(input, enc);
                assert!(
                    out == want.as_bytes(),
                    "{} ({} bytes), into new memory",
                    enc.name(),
                    input.len()
                );
                assert_eq!(errors, want_errors);
            }
        }
    }

    #[test]
    fn binary_and_lines() {
        assert!(looks_binary(&[0x89, b'P', b'N', b'G', 0, 0, 0]));
        assert!(!looks_binary(b"a;b;c\n1;2;3\n"));
        let lines: Vec<_> = numbered_lines("a\r\nb\rc\nd").collect();
        assert_eq!(lines, vec![(1, "a"), (2, "b"), (3, "c"), (4, "d")]);
    }
}
