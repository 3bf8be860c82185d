//! Numbers, amounts and dates as the chosen language writes them.

use gs_types::Money;
use gs_types::chrono::NaiveDate;

use crate::Lang;

/// `1.234,56 €` (de) / `€1,234.56` style kept simple as `1,234.56 EUR` (en).
pub fn amount(m: Money, currency: &str, lang: Lang) -> String {
    match lang {
        Lang::De => {
            let sym = if currency == "EUR" { "€" } else { currency };
            format!("{} {sym}", m.format_de())
        }
        Lang::En => format!("{} {currency}", m.format_en()),
    }
}

/// Amount without currency.
pub fn amount_plain(m: Money, lang: Lang) -> String {
    match lang {
        Lang::De => m.format_de(),
        Lang::En => m.format_en(),
    }
}

/// `31.12.2025` (de) / `2025-12-31` (en, ISO: unambiguous in court documents).
pub fn date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::De => d.format("%d.%m.%Y").to_string(),
        Lang::En => d.format("%Y-%m-%d").to_string(),
    }
}

/// Parses a date typed by the user in either form.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    gs_types::dates::parse_date(text)
}

/// Integer with thousands separators: `1.234.567` (de) / `1,234,567` (en).
pub fn count(n: usize, lang: Lang) -> String {
    let s = n.to_string();
    let sep = match lang {
        Lang::De => '.',
        Lang::En => ',',
    };
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Byte sizes: `1,5 MB` (de) / `1.5 MB` (en).
pub fn bytes(n: u64, lang: Lang) -> String {
    let (v, unit) = if n >= 1 << 30 {
        (n as f64 / f64::from(1u32 << 30), "GB")
    } else if n >= 1 << 20 {
        (n as f64 / f64::from(1u32 << 20), "MB")
    } else if n >= 1 << 10 {
        (n as f64 / 1024.0, "KB")
    } else {
        return format!("{n} B");
    };
    let s = format!("{v:.1} {unit}");
    match lang {
        Lang::De => s.replace('.', ","),
        Lang::En => s,
    }
}

/// The payment channel in words.
pub fn channel(ch: gs_types::Channel, lang: Lang) -> &'static str {
    use gs_types::Channel as C;
    match (lang, ch) {
        (Lang::De, C::Transfer) => "Überweisung",
        (Lang::De, C::CashDeposit) => "Bareinzahlung",
        (Lang::De, C::CashWithdrawal) => "Barauszahlung",
        (Lang::De, C::Card) => "Kartenzahlung",
        (Lang::De, C::DirectDebit) => "Lastschrift",
        (Lang::De, C::StandingOrder) => "Dauerauftrag",
        (Lang::De, C::Fee) => "Entgelt/Zinsen",
        (Lang::De, C::Unknown) => "unbekannt",
        (Lang::En, C::Transfer) => "transfer",
        (Lang::En, C::CashDeposit) => "cash deposit",
        (Lang::En, C::CashWithdrawal) => "cash withdrawal",
        (Lang::En, C::Card) => "card",
        (Lang::En, C::DirectDebit) => "direct debit",
        (Lang::En, C::StandingOrder) => "standing order",
        (Lang::En, C::Fee) => "fee/interest",
        (Lang::En, C::Unknown) => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_and_english() {
        assert_eq!(amount(Money(123_456), "EUR", Lang::De), "1.234,56 €");
        assert_eq!(amount(Money(-123_456), "EUR", Lang::En), "-1,234.56 EUR");
        let d = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        assert_eq!(date(d, Lang::De), "31.12.2025");
        assert_eq!(date(d, Lang::En), "2025-12-31");
        assert_eq!(count(1_234_567, Lang::De), "1.234.567");
        assert_eq!(count(999, Lang::En), "999");
        assert_eq!(bytes(1_572_864, Lang::De), "1,5 MB");
        assert_eq!(parse_date("31.12.2025"), Some(d));
    }
}
