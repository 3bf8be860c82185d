//! Small shared helpers: encodings, German number/date formatting, business days, check digits.

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

/// Encodes text as Windows-1252; characters without a mapping become `?` (as bank exports do).
pub(crate) fn cp1252(text: &str) -> Vec<u8> {
    if text.is_ascii() {
        return text.as_bytes().to_vec();
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let mut buf = [0u8; 4];
        let s: &str = c.encode_utf8(&mut buf);
        let (bytes, _, had_errors) = encoding_rs::WINDOWS_1252.encode(s);
        if had_errors {
            out.push(b'?');
        } else {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// Encodes text as ISO-8859-1 (Latin-1); characters above U+00FF become `?`.
pub(crate) fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// `1234,56` / `-1234,56`: German decimal comma without thousands groups.
pub(crate) fn de_plain(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{},{:02}", abs / 100, abs % 100)
}

/// `1.234,56` / `-1.234,56`: German with thousands groups.
pub(crate) fn de_grouped(cents: i64) -> String {
    gs_types::Money::from_cents(cents).format_de()
}

/// `1234.56`: XML decimal of the magnitude.
pub(crate) fn xml_amount(cents: i64) -> String {
    let abs = cents.unsigned_abs();
    format!("{}.{:02}", abs / 100, abs % 100)
}

/// `dd.mm.yy`.
pub(crate) fn ddmmyy(d: NaiveDate) -> String {
    d.format("%d.%m.%y").to_string()
}

/// `dd.mm.yyyy`.
pub(crate) fn ddmmyyyy(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// First day of the month `n` months after the month of `d`.
pub(crate) fn month_start(d: NaiveDate, n: u32) -> NaiveDate {
    let first = d.with_day(1).unwrap_or(d);
    first.checked_add_months(Months::new(n)).unwrap_or(first)
}

/// Last day of the month `n` months after the month of `d`.
pub(crate) fn month_end(d: NaiveDate, n: u32) -> NaiveDate {
    let next = month_start(d, n + 1);
    next.pred_opt().unwrap_or(next)
}

/// `d` plus `n` days.
pub(crate) fn plus_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(d)
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The business day on or after `d`, but never after `hi` (then the one before `hi`), and never
/// before `lo`. Banks book Monday to Friday; public holidays are ignored on purpose.
pub(crate) fn bday_in(d: NaiveDate, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    let mut x = d.clamp(lo, hi);
    while is_weekend(x) && x < hi {
        x = plus_days(x, 1);
    }
    while is_weekend(x) && x > lo {
        x = x.pred_opt().unwrap_or(x);
    }
    x
}

/// ISO 7064 mod 97-10 over an alphanumeric string (letters count as 10..35).
pub(crate) fn mod97(s: &str) -> u32 {
    let mut rem: u32 = 0;
    for c in s.chars() {
        let Some(v) = c.to_digit(36) else { continue };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem
}

/// A German SEPA creditor identifier (`DE98ZZZ09999999999`) with valid check digits over the
/// national part (the business code `ZZZ` is not part of the check).
pub(crate) fn creditor_id(national: &str) -> String {
    let check = 98 - mod97(&format!("{national}DE00"));
    format!("DE{check:02}ZZZ{national}")
}

/// Escapes text for XML element content and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Splits text into chunks of at most `n` characters (char-safe).
pub(crate) fn chunks(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n.max(1)).map(|c| c.iter().collect()).collect()
}

/// Quotes a CSV field when it contains the separator, a quote or a line break.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creditor_id_check_digits() {
        // The Bundesbank's documented example.
        assert_eq!(creditor_id("09999999999"), "DE98ZZZ09999999999");
    }

    #[test]
    fn formatting() {
        assert_eq!(de_plain(-123_456), "-1234,56");
        assert_eq!(de_grouped(-123_456), "-1.234,56");
        assert_eq!(xml_amount(-5), "0.05");
        assert_eq!(latin1("Gläubiger€"), b"Gl\xe4ubiger?".to_vec());
        assert_eq!(cp1252("Gläubiger€"), b"Gl\xe4ubiger\x80".to_vec());
    }

    #[test]
    fn business_days() {
        let sat = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let lo = sat;
        let hi = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
        assert_eq!(
            bday_in(sat, lo, hi),
            NaiveDate::from_ymd_opt(2025, 3, 3).unwrap()
        );
        // 2025-05-31 is a Saturday and the end of the range: go back to Friday.
        let end = NaiveDate::from_ymd_opt(2025, 5, 31).unwrap();
        assert_eq!(
            bday_in(end, lo, end),
            NaiveDate::from_ymd_opt(2025, 5, 30).unwrap()
        );
    }
}
