//! IBAN and BIC: normalisation and validation.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A normalised IBAN (upper case, no spaces) whose check digits are valid.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Iban(String);

/// Why a text is not a valid IBAN.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    /// Wrong shape (country letters, check digits, 11–34 alphanumerics).
    #[error("'{0}' is not shaped like an IBAN")]
    Shape(String),
    /// Mod-97 check failed.
    #[error("IBAN '{0}' has wrong check digits")]
    CheckDigits(String),
    /// Known country with a different length.
    #[error("IBAN '{0}' has the wrong length for its country")]
    Length(String),
}

/// Strips spaces and dashes and upper-cases.
pub fn normalize_account_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// IBAN lengths by country (ISO 13616 registry) for the countries frequent in German evidence.
/// Countries not listed are checked by shape and check digits only.
const COUNTRY_LENGTHS: &[(&str, usize)] = &[
    ("AE", 23),
    ("AT", 20),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GL", 18),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IQ", 23),
    ("IR", 26),
    ("IT", 27),
    ("JO", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TN", 24),
    ("TR", 26),
];

/// IBAN length of a country (ISO 3166 alpha-2), when it uses IBANs.
pub fn length_of(cc: &str) -> Option<usize> {
    country_length(cc)
}

fn country_length(cc: &str) -> Option<usize> {
    COUNTRY_LENGTHS
        .iter()
        .find(|(c, _)| *c == cc)
        .map(|(_, l)| *l)
}

/// ISO 7064 mod 97-10 over an IBAN-ordered string.
fn mod97(s: &str) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in s.chars() {
        let v = c.to_digit(36)?;
        if v >= 10 {
            rem = (rem * 100 + v) % 97;
        } else {
            rem = (rem * 10 + v) % 97;
        }
    }
    Some(rem)
}

impl Iban {
    /// Parses and validates an IBAN written with or without spaces.
    pub fn parse(text: &str) -> Result<Self, IbanError> {
        let s = normalize_account_text(text);
        let b = s.as_bytes();
        if !(15..=34).contains(&s.len())
            || !b[0].is_ascii_uppercase()
            || !b[1].is_ascii_uppercase()
            || !b[2].is_ascii_digit()
            || !b[3].is_ascii_digit()
            || !s.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(IbanError::Shape(text.to_owned()));
        }
        if let Some(len) = country_length(&s[..2])
            && len != s.len()
        {
            return Err(IbanError::Length(text.to_owned()));
        }
        let rearranged = format!("{}{}", &s[4..], &s[..4]);
        if mod97(&rearranged) != Some(1) {
            return Err(IbanError::CheckDigits(text.to_owned()));
        }
        Ok(Self(s))
    }

    /// Builds a German IBAN from BLZ (8 digits) and account number (up to 10 digits).
    /// This is the plain rule; some banks have exceptions (see the Bundesbank's IBAN rules),
    /// so callers treat the result as derived, not as evidence.
    pub fn from_german_account(blz: &str, account: &str) -> Option<Self> {
        let blz = blz.trim();
        let account = account.trim().trim_start_matches('0');
        if blz.len() != 8 || !blz.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        if account.is_empty() || account.len() > 10 || !account.chars().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let bban = format!("{blz}{account:0>10}");
        let check = 98 - mod97(&format!("{bban}DE00"))?;
        Self::parse(&format!("DE{check:02}{bban}")).ok()
    }

    /// Builds an IBAN from country code and BBAN with computed check digits (used by the generator).
    pub fn from_bban(country: &str, bban: &str) -> Option<Self> {
        let check = 98 - mod97(&format!("{bban}{country}00"))?;
        Self::parse(&format!("{country}{check:02}{bban}")).ok()
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// ISO country code (first two letters). This is the country of the *account's bank*,
    /// used for payment-corridor risk only, never as a person's nationality.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// For German IBANs: the BLZ (bank code).
    pub fn german_blz(&self) -> Option<&str> {
        (self.country() == "DE").then(|| &self.0[4..12])
    }

    /// Grouped in fours for display: `DE89 3704 0044 0532 0130 00`.
    pub fn grouped(&self) -> String {
        let mut out = String::with_capacity(self.0.len() + self.0.len() / 4);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True when `text` looks like a BIC (SWIFT code): 4 letters bank, 2 letters country,
/// 2 alphanumerics location, optional 3 alphanumerics branch.
pub fn is_bic(text: &str) -> bool {
    let s = text.trim();
    let b = s.as_bytes();
    (s.len() == 8 || s.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Country code of a BIC (letters 5–6).
pub fn bic_country(bic: &str) -> Option<&str> {
    is_bic(bic).then(|| &bic.trim()[4..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ibans() {
        let i = Iban::parse("DE89 3704 0044 0532 0130 00").unwrap();
        assert_eq!(i.as_str(), "DE89370400440532013000");
        assert_eq!(i.country(), "DE");
        assert_eq!(i.german_blz(), Some("37040044"));
        assert_eq!(i.grouped(), "DE89 3704 0044 0532 0130 00");
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
        assert!(Iban::parse("nl91abna0417164300").is_ok());
    }

    #[test]
    fn invalid_ibans() {
        assert!(matches!(
            Iban::parse("DE89370400440532013001"),
            Err(IbanError::CheckDigits(_))
        ));
        assert!(matches!(
            Iban::parse("DE8937040044053201300"),
            Err(IbanError::Length(_))
        ));
        assert!(matches!(Iban::parse("1234"), Err(IbanError::Shape(_))));
        assert!(matches!(
            Iban::parse("DE89 3704 0044 0532 0130 0ä"),
            Err(IbanError::Shape(_))
        ));
    }

    #[test]
    fn german_account_to_iban() {
        assert_eq!(
            Iban::from_german_account("37040044", "532013000")
                .unwrap()
                .as_str(),
            "DE89370400440532013000"
        );
        assert!(Iban::from_german_account("3704004", "1").is_none());
    }

    #[test]
    fn bics() {
        assert!(is_bic("COBADEFFXXX"));
        assert!(is_bic("DEUTDEFF"));
        assert!(!is_bic("DEUTDEF"));
        assert!(!is_bic("12345678"));
        assert_eq!(bic_country("COBADEFFXXX"), Some("DE"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = Iban::parse(&s);
            let _ = is_bic(&s);
        }

        #[test]
        fn from_bban_is_valid(acct in 1u64..9_999_999_999u64, blz in 10_000_000u32..99_999_999u32) {
            let iban = Iban::from_german_account(&blz.to_string(), &acct.to_string()).unwrap();
            proptest::prop_assert!(Iban::parse(iban.as_str()).is_ok());
        }
    }
}
