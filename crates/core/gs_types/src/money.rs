//! Exact money amounts.
//!
//! Amounts are held as signed integer cents (`i64`), never as floating point. Bank formats
//! carry at most two decimals in practice; a source amount with more non-zero decimals is
//! rounded half away from zero to cents and the importer keeps the exact text
//! (`Transaction::amount_exact`) and raises a warning.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A signed amount of money in cents (minor units, scale 2).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Money(pub i64);

/// Which character separates the decimals in a number as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalSeparator {
    /// `1.234,56` (German).
    Comma,
    /// `1,234.56` (English, SWIFT uses `,` only — see [`DecimalSeparator::Comma`]).
    Dot,
    /// Decide from the text: the last of `,`/`.` followed by 1–5 digits only is the separator
    /// unless it is followed by exactly three digits and another separator of the same kind
    /// occurs (a thousands group).
    Auto,
}

/// Result of parsing a decimal amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAmount {
    /// Rounded to cents.
    pub money: Money,
    /// `Some(exact decimal text)` when the source had non-zero digits beyond cents.
    pub exact: Option<String>,
}

/// Why a text is not an amount.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing to parse.
    #[error("empty amount")]
    Empty,
    /// Not a number.
    #[error("'{0}' is not an amount")]
    Invalid(String),
    /// Larger than i64 cents.
    #[error("amount '{0}' is too large")]
    Overflow(String),
}

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// From cents.
    pub const fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    /// The amount in cents.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Absolute value.
    #[must_use]
    pub const fn abs(self) -> Self {
        Self(self.0.saturating_abs())
    }

    /// Negated.
    #[must_use]
    pub const fn neg(self) -> Self {
        Self(-self.0)
    }

    /// True when below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Checked addition.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Parses an amount as written in bank files: optional sign (leading `+`/`-`, trailing
    /// `-`/`+`), optional thousands separators, optional currency symbol/code and spaces.
    pub fn parse(text: &str, sep: DecimalSeparator) -> Result<ParsedAmount, AmountError> {
        parse_amount(text, sep)
    }

    /// German formatting: `-1.234,56`.
    pub fn format_de(self) -> String {
        format_grouped(self.0, '.', ',')
    }

    /// English formatting: `-1,234.56`.
    pub fn format_en(self) -> String {
        format_grouped(self.0, ',', '.')
    }

    /// Plain machine formatting: `-1234.56`.
    pub fn format_plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format_plain())
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

fn format_grouped(cents: i64, group: char, decimal: char) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut out = String::with_capacity(units.len() + units.len() / 3 + 5);
    out.push_str(sign);
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(c);
    }
    out.push(decimal);
    let c = abs % 100;
    out.push(char::from(b'0' + (c / 10) as u8));
    out.push(char::from(b'0' + (c % 10) as u8));
    out
}

fn parse_amount(text: &str, sep: DecimalSeparator) -> Result<ParsedAmount, AmountError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(AmountError::Empty);
    }
    let mut negative = false;
    let mut body = String::with_capacity(t.len());
    let mut sign_seen = false;
    let chars: Vec<char> = t.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '0'..='9' | '.' | ',' => body.push(c),
            '-' | '\u{2212}' | '+' => {
                if sign_seen {
                    return Err(AmountError::Invalid(text.to_owned()));
                }
                // Allowed at the start or the end (SAP/PDF style "1.234,56-").
                let only_trailing = chars[i + 1..].iter().all(|c| !c.is_ascii_digit());
                let only_leading = chars[..i].iter().all(|c| !c.is_ascii_digit());
                if !(only_leading || only_trailing) {
                    return Err(AmountError::Invalid(text.to_owned()));
                }
                sign_seen = true;
                negative = c != '+';
            }
            // Swiss/space thousands separators and currency symbols carry no value.
            '\'' | ' ' | '\u{a0}' | '\u{202f}' | '€' | '$' | '£' => {}
            c if c.is_ascii_alphabetic() => {
                // currency codes like EUR before or after the number
                if body.chars().any(|b| b.is_ascii_digit())
                    && chars[i..].iter().any(char::is_ascii_digit)
                {
                    return Err(AmountError::Invalid(text.to_owned()));
                }
            }
            _ => return Err(AmountError::Invalid(text.to_owned())),
        }
    }
    if !body.chars().any(|c| c.is_ascii_digit()) {
        return Err(AmountError::Invalid(text.to_owned()));
    }
    let decimal = match sep {
        DecimalSeparator::Comma => Some(','),
        DecimalSeparator::Dot => Some('.'),
        DecimalSeparator::Auto => guess_decimal(&body),
    };
    let (int_part, frac_part) = match decimal.and_then(|d| body.rfind(d).map(|p| (d, p))) {
        Some((_, pos)) => (&body[..pos], &body[pos + 1..]),
        None => (body.as_str(), ""),
    };
    let group = match decimal {
        Some(',') => '.',
        _ => ',',
    };
    if frac_part.contains(['.', ',']) {
        return Err(AmountError::Invalid(text.to_owned()));
    }
    if int_part.contains(group) {
        // Thousands groups must be well formed ("1.234.567"), else "1234.56" read with a comma
        // decimal would silently become 123456.
        let groups: Vec<&str> = int_part.split(group).collect();
        let well_formed = groups.iter().enumerate().all(|(i, g)| {
            if i == 0 {
                (1..=3).contains(&g.len())
            } else {
                g.len() == 3
            }
        });
        if !well_formed {
            return Err(AmountError::Invalid(text.to_owned()));
        }
    }
    let mut units: i128 = 0;
    for c in int_part.chars() {
        if c == group {
            continue;
        }
        let Some(d) = c.to_digit(10) else {
            return Err(AmountError::Invalid(text.to_owned()));
        };
        units = units * 10 + i128::from(d);
        if units > i128::from(i64::MAX) {
            return Err(AmountError::Overflow(text.to_owned()));
        }
    }
    let frac_digits: Vec<u32> = frac_part.chars().filter_map(|c| c.to_digit(10)).collect();
    let d0 = i128::from(frac_digits.first().copied().unwrap_or(0));
    let d1 = i128::from(frac_digits.get(1).copied().unwrap_or(0));
    let rest = &frac_digits[frac_digits.len().min(2)..];
    let mut cents = units * 100 + d0 * 10 + d1;
    let inexact = rest.iter().any(|&d| d != 0);
    if rest.first().copied().unwrap_or(0) >= 5 {
        cents += 1; // half away from zero (applied to the magnitude)
    }
    if negative {
        cents = -cents;
    }
    let money = Money(i64::try_from(cents).map_err(|_| AmountError::Overflow(text.to_owned()))?);
    let exact = inexact.then(|| {
        let sign = if negative { "-" } else { "" };
        let frac: String = frac_digits
            .iter()
            .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
            .collect();
        format!("{sign}{units}.{frac}")
    });
    Ok(ParsedAmount { money, exact })
}

fn guess_decimal(body: &str) -> Option<char> {
    let last_comma = body.rfind(',');
    let last_dot = body.rfind('.');
    match (last_comma, last_dot) {
        (None, None) => None,
        (Some(c), Some(d)) => Some(if c > d { ',' } else { '.' }),
        (Some(p), None) | (None, Some(p)) => {
            let c = body[p..].chars().next().unwrap_or(',');
            let count = body.matches(c).count();
            let after = body.len() - p - 1;
            // "1.234.567" or "1.234" with exactly three digits: thousands grouping when repeated;
            // a single separator followed by three digits is read as a decimal only for ','
            // (German "0,125" is rare in statements; "1.234" as 1234 is the common German case).
            if count > 1
                || (after == 3
                    && c == '.'
                    && body[..p].len() <= 3
                    && !body[..p].is_empty()
                    && body[..p] != *"0")
            {
                Some(if c == ',' { '.' } else { ',' })
            } else {
                Some(c)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, sep: DecimalSeparator) -> i64 {
        Money::parse(s, sep).unwrap().money.cents()
    }

    #[test]
    fn german_amounts() {
        assert_eq!(p("1.234,56", DecimalSeparator::Comma), 123_456);
        assert_eq!(p("-1.234,56", DecimalSeparator::Comma), -123_456);
        assert_eq!(p("1.234,56-", DecimalSeparator::Comma), -123_456);
        assert_eq!(p("12,5", DecimalSeparator::Comma), 1250);
        assert_eq!(p("1234,", DecimalSeparator::Comma), 123_400);
        assert_eq!(p("EUR 9.999,00", DecimalSeparator::Comma), 999_900);
        assert_eq!(p("9.999,00 €", DecimalSeparator::Comma), 999_900);
    }

    #[test]
    fn auto_amounts() {
        assert_eq!(p("1,234.56", DecimalSeparator::Auto), 123_456);
        assert_eq!(p("1.234,56", DecimalSeparator::Auto), 123_456);
        assert_eq!(p("-50.5", DecimalSeparator::Auto), -5050);
        assert_eq!(p("1.234", DecimalSeparator::Auto), 123_400);
        assert_eq!(p("0.125", DecimalSeparator::Auto), 13);
        assert_eq!(p("100", DecimalSeparator::Auto), 10_000);
        assert_eq!(p("1.234.567", DecimalSeparator::Auto), 123_456_700);
    }

    #[test]
    fn sub_cent_amounts_keep_exact_text() {
        let a = Money::parse("12.34567", DecimalSeparator::Dot).unwrap();
        assert_eq!(a.money.cents(), 1235);
        assert_eq!(a.exact.as_deref(), Some("12.34567"));
        let b = Money::parse("12.34000", DecimalSeparator::Dot).unwrap();
        assert_eq!(b.exact, None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Money::parse("", DecimalSeparator::Comma).is_err());
        assert!(Money::parse("abc", DecimalSeparator::Comma).is_err());
        assert!(Money::parse("1-2", DecimalSeparator::Comma).is_err());
        assert!(Money::parse("1,2,3", DecimalSeparator::Comma).is_err());
        assert!(Money::parse("1234.56", DecimalSeparator::Comma).is_err());
        assert!(Money::parse("99999999999999999999", DecimalSeparator::Comma).is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(Money(123_456_789).format_de(), "1.234.567,89");
        assert_eq!(Money(-5).format_de(), "-0,05");
        assert_eq!(Money(100_000).format_en(), "1,000.00");
        assert_eq!(Money(-100).format_plain(), "-1.00");
    }

    proptest::proptest! {
        #[test]
        fn roundtrip_de(c in -1_000_000_000_000i64..1_000_000_000_000i64) {
            let m = Money(c);
            proptest::prop_assert_eq!(Money::parse(&m.format_de(), DecimalSeparator::Comma).unwrap().money, m);
            proptest::prop_assert_eq!(Money::parse(&m.format_en(), DecimalSeparator::Dot).unwrap().money, m);
            proptest::prop_assert_eq!(Money::parse(&m.format_plain(), DecimalSeparator::Auto).unwrap().money, m);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Money::parse(&s, DecimalSeparator::Auto);
            let _ = Money::parse(&s, DecimalSeparator::Comma);
        }
    }
}
