//! Date parsing for the forms found in German and international bank files.

use chrono::NaiveDate;

/// Parses `dd.mm.yyyy`, `dd.mm.yy`, `yyyy-mm-dd`, `yyyymmdd`, `dd/mm/yyyy`, `yymmdd` (SWIFT when
/// `swift_yymmdd`), with optional surrounding spaces. Two-digit years: 00–69 → 20xx, 70–99 → 19xx.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let t = t.split(['T', ' ']).next().unwrap_or(t); // drop a time part
    if t.contains('.') {
        return dmy(t, '.');
    }
    if t.contains('-') {
        let parts: Vec<&str> = t.split('-').collect();
        if parts.len() == 3 && parts[0].len() == 4 {
            return ymd(parts[0], parts[1], parts[2]);
        }
        return dmy(t, '-');
    }
    if t.contains('/') {
        let parts: Vec<&str> = t.split('/').collect();
        if parts.len() == 3 && parts[0].len() == 4 {
            return ymd(parts[0], parts[1], parts[2]);
        }
        return dmy(t, '/');
    }
    if t.len() == 8 && t.chars().all(|c| c.is_ascii_digit()) {
        return ymd(&t[..4], &t[4..6], &t[6..8]);
    }
    None
}

/// SWIFT `YYMMDD` (MT940 `:60F:`, `:61:`).
pub fn parse_yymmdd(t: &str) -> Option<NaiveDate> {
    if t.len() != 6 || !t.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = t[..2].parse().ok()?;
    let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
    NaiveDate::from_ymd_opt(year, t[2..4].parse().ok()?, t[4..6].parse().ok()?)
}

/// Excel/Lotus serial date (1900 system, with the 1900-02-29 bug) to a date.
pub fn from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(chrono::Duration::days(days))
}

fn dmy(t: &str, sep: char) -> Option<NaiveDate> {
    let parts: Vec<&str> = t.split(sep).collect();
    if parts.len() != 3 {
        return None;
    }
    let d: u32 = parts[0].trim().parse().ok()?;
    let m: u32 = parts[1].trim().parse().ok()?;
    let y_text = parts[2].trim();
    let y: i32 = y_text.parse().ok()?;
    let year = match y_text.len() {
        2 => {
            if y < 70 {
                2000 + y
            } else {
                1900 + y
            }
        }
        4 => y,
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, m, d)
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// German display format `31.12.2025`.
pub fn format_de(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn forms() {
        assert_eq!(parse_date("31.12.2025"), Some(d(2025, 12, 31)));
        assert_eq!(parse_date("31.12.25"), Some(d(2025, 12, 31)));
        assert_eq!(parse_date("2025-12-31"), Some(d(2025, 12, 31)));
        assert_eq!(parse_date("2025-12-31T10:00:00"), Some(d(2025, 12, 31)));
        assert_eq!(parse_date("20251231"), Some(d(2025, 12, 31)));
        assert_eq!(parse_date("31/12/2025"), Some(d(2025, 12, 31)));
        assert_eq!(parse_date("30.02.2025"), None);
        assert_eq!(parse_yymmdd("251231"), Some(d(2025, 12, 31)));
        assert_eq!(parse_yymmdd("991231"), Some(d(1999, 12, 31)));
        assert_eq!(from_excel_serial(45_657.0), Some(d(2024, 12, 31)));
        assert_eq!(format_de(d(2025, 1, 2)), "02.01.2025");
    }
}
