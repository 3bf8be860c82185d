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

/// How much of a file the encoding guess reads (chardetng is slow: ~10 MB/s; a German export
/// shows its umlauts in the first few hundred lines).
pub const ENCODING_SAMPLE_BYTES: usize = 256 << 10;

/// Decodes bytes: BOM first, then strict UTF-8, then chardetng's guess (restricted to
/// what German evidence uses: windows-1252 for Latin text, which is a superset of ISO-8859-1's
/// printable range).
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
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
    let Some(enc) = single_byte_guess(bytes) else {
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
/// the first [`ENCODING_SAMPLE_BYTES`] with a German hint, restricted to what German evidence
/// uses (windows-1252 for Latin text, a superset of ISO-8859-1's printable range;
/// ISO-8859-2 and windows-1250 for Central European exports). `None`: mostly UTF-8 with a
/// few stray bytes (decode lossy as UTF-8).
pub fn single_byte_guess(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let mut det = chardetng::EncodingDetector::new();
    let head = &bytes[..bytes.len().min(ENCODING_SAMPLE_BYTES)];
    det.feed(head, head.len() == bytes.len());
    let enc = det.guess(Some(b"de"), true);
    match enc.name() {
        "UTF-8" => None,
        "windows-1252" | "ISO-8859-2" | "windows-1250" => Some(enc),
        // exotic guesses on short German text are usually wrong; windows-1252 decodes every byte
        _ => Some(encoding_rs::WINDOWS_1252),
    }
}

/// Transcodes a single-byte encoding (windows-1252, ISO-8859-x, windows-125x) to UTF-8 in
/// place, on all cores, with exactly the output of encoding_rs. Returns whether any byte
/// decoded to U+FFFD.
///
/// Every byte value has a fixed UTF-8 length, so the output size and each 4 MiB part's place
/// in it are known first. The vector grows to the output size (within its capacity when the
/// caller left room: a German export grows by ~1 %), each part moves to the end of its own
/// output window (last part first, so nothing unread is overwritten), and then every window
/// is decoded front to back in parallel: a character's bytes never overtake the bytes still
/// to be read, because a window's remaining output is always at least its remaining input.
/// A 200 MB export is never held twice (raw and decoded).
pub fn transcode_single_byte_in_place(
    bytes: &mut Vec<u8>,
    enc: &'static encoding_rs::Encoding,
) -> bool {
    use rayon::prelude::*;
    const PART: usize = 4 << 20;
    // UTF-8 of each byte value (at most 3 bytes: U+FFFD or a BMP character), and errors
    let mut utf8 = [([0u8; 3], 0u8); 256];
    let mut errors = [false; 256];
    for (b, (out, len)) in utf8.iter_mut().enumerate() {
        let one = [b as u8];
        let (t, e) = enc.decode_without_bom_handling(&one);
        let t = t.as_bytes();
        let n = t.len().min(3);
        out[..n].copy_from_slice(&t[..n]);
        *len = n as u8;
        errors[b] = e;
    }
    if (0..0x80).any(|b| utf8[b].1 != 1 || usize::from(utf8[b].0[0]) != b) {
        // not ASCII-compatible (no such encoding is guessed): decode the ordinary way
        let (t, e) = enc.decode_without_bom_handling(bytes);
        *bytes = t.into_owned().into_bytes();
        return e;
    }
    // extra output bytes per part, and whether a byte has no character; ASCII blocks are
    // passed over at once
    let scan = |p: &[u8]| -> (usize, bool) {
        let mut extra = 0;
        let mut error = false;
        for c in p.chunks(64).filter(|c| !c.is_ascii()) {
            for &b in c {
                extra += usize::from(utf8[usize::from(b)].1) - 1;
                error |= errors[usize::from(b)];
            }
        }
        (extra, error)
    };
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
    // window k: output [o_k, o_k + len_k + extra_k); its input moves to the window's end
    let mut windows = Vec::with_capacity(extras.len());
    let mut out_start = 0usize;
    for (k, &extra) in extras.iter().enumerate() {
        let len = PART.min(n - k * PART);
        windows.push((out_start, len, extra));
        out_start += len + extra;
    }
    for (k, &(o, len, extra)) in windows.iter().enumerate().rev() {
        let from = k * PART;
        let to = o + extra;
        if from != to {
            bytes.copy_within(from..from + len, to);
        }
    }
    // split into the windows and decode each in place
    let mut parts: Vec<(&mut [u8], usize)> = Vec::with_capacity(windows.len());
    let mut rest = bytes.as_mut_slice();
    for &(_, len, extra) in &windows {
        let (w, tail) = rest.split_at_mut(len + extra);
        parts.push((w, extra));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(w, extra)| {
        let (mut r, mut o) = (extra, 0usize);
        while r < w.len() {
            // an ASCII run moves as it is (only while output lags behind input)
            let mut run = 0;
            while r + run + 16 <= w.len() && w[r + run..r + run + 16].is_ascii() {
                run += 16;
            }
            while r + run < w.len() && w[r + run] < 0x80 {
                run += 1;
            }
            if run > 0 {
                if o != r {
                    w.copy_within(r..r + run, o);
                }
                o += run;
                r += run;
                continue;
            }
            let (seq, len) = utf8[usize::from(w[r])];
            let len = usize::from(len);
            // o + len <= r + 1: the remaining output is the remaining input plus its extra
            w[o..o + len].copy_from_slice(&seq[..len]);
            o += len;
            r += 1;
        }
        debug_assert_eq!(o, w.len());
    });
    had_errors
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

/// Head of the bytes decoded, for detection (at most `max` bytes, cut on a char boundary).
pub fn head_text(bytes: &[u8], max: usize) -> String {
    let cut = &bytes[..bytes.len().min(max)];
    decode(cut).text.into_owned()
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
    fn in_place_transcoding_equals_encoding_rs() {
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
