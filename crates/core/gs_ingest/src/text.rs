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
    let mut det = chardetng::EncodingDetector::new();
    let head = &bytes[..bytes.len().min(ENCODING_SAMPLE_BYTES)];
    det.feed(head, head.len() == bytes.len());
    let mut enc = det.guess(Some(b"de"), true);
    if enc == encoding_rs::UTF_8 {
        // Mostly UTF-8 with a few stray bytes: decode lossy as UTF-8.
        let text = String::from_utf8_lossy(bytes);
        return Decoded {
            text,
            encoding: "UTF-8",
            had_bom: false,
            had_errors: true,
        };
    }
    if enc.name() != "windows-1252" && enc.name() != "ISO-8859-2" && enc.name() != "windows-1250" {
        // Exotic guesses on short German text are usually wrong; windows-1252 decodes every byte.
        enc = encoding_rs::WINDOWS_1252;
    }
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    Decoded {
        text,
        encoding: enc.name(),
        had_bom: false,
        had_errors,
    }
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
    fn binary_and_lines() {
        assert!(looks_binary(&[0x89, b'P', b'N', b'G', 0, 0, 0]));
        assert!(!looks_binary(b"a;b;c\n1;2;3\n"));
        let lines: Vec<_> = numbered_lines("a\r\nb\rc\nd").collect();
        assert_eq!(lines, vec![(1, "a"), (2, "b"), (3, "c"), (4, "d")]);
    }
}
