//! Small shared helpers: stable hashing, name/text normalisation, money and date wording.

use chrono::NaiveDate;

/// FNV-1a 64 over bytes. Used for ids that must be identical on every machine and run
/// (std's `DefaultHasher` is randomly seeded and may change between Rust versions).
pub(crate) fn fnv1a64(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_OFFSET_2: u64 = 0x6c62_272e_07bb_0142;

/// 128-bit stable hash of a list of parts (NUL separated), as 32 hex digits. Two independent
/// FNV streams keep accidental collisions between findings out of practical reach.
pub(crate) fn stable_hash_hex<'a, I: IntoIterator<Item = &'a str>>(parts: I) -> String {
    let mut a = FNV_OFFSET;
    let mut b = FNV_OFFSET_2;
    for p in parts {
        a = fnv1a64(a, p.as_bytes());
        a = fnv1a64(a, &[0]);
        b = fnv1a64(b, p.as_bytes());
        b = fnv1a64(b, &[0xff]);
    }
    format!("{a:016x}{b:016x}")
}

/// Transliterates one lower-case char to ASCII: German umlauts as `ae`/`oe`/`ue`/`ss`,
/// other Latin diacritics stripped. Characters without a mapping are returned unchanged.
fn translit(c: char, out: &mut String) {
    let s: &str = match c {
        'ä' | 'æ' => "ae",
        'ö' | 'œ' => "oe",
        'ü' => "ue",
        'ß' => "ss",
        'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' | 'į' => "i",
        'ł' | 'ľ' | 'ĺ' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' | 'ő' => "o",
        'ř' | 'ŕ' => "r",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ť' | 'ţ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(s);
}

/// Lower-cases, transliterates and splits into alphanumeric tokens. Runs of single-letter
/// tokens are joined (`e. V.` → `ev`, `e.G.` → `eg`) so dotted abbreviations compare equal
/// to their undotted spelling.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    let mut flat = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        translit(c, &mut flat);
    }
    let mut raw: Vec<&str> = Vec::new();
    for t in flat.split(|c: char| !c.is_alphanumeric()) {
        if !t.is_empty() {
            raw.push(t);
        }
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut pending = String::new();
    for t in raw {
        if t.chars().count() == 1 {
            pending.push_str(t);
        } else {
            if !pending.is_empty() {
                out.push(std::mem::take(&mut pending));
            }
            out.push(t.to_owned());
        }
    }
    if !pending.is_empty() {
        out.push(pending);
    }
    out
}

/// A name split into its comparable core and its legal form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NormName {
    /// Tokens without legal form, in written order, joined by a space.
    pub plain: String,
    /// Tokens without legal form, sorted, joined by a space (the match key).
    pub sorted: String,
    /// Canonical legal form, when one was found.
    pub legal_form: Option<&'static str>,
}

/// Legal forms as token sequences (after [`tokens`]) and their canonical spelling. Longer
/// sequences first so `gmbh co kg` wins over `gmbh`.
const LEGAL_FORMS: &[(&[&str], &str)] = &[
    (&["gmbh", "co", "kg"], "GmbH & Co. KG"),
    (&["ug", "haftungsbeschraenkt"], "UG (haftungsbeschränkt)"),
    (&["ggmbh"], "gGmbH"),
    (&["gmbh"], "GmbH"),
    (&["ug"], "UG (haftungsbeschränkt)"),
    (&["ev"], "e.V."),
    (&["eg"], "eG"),
    (&["kg"], "KG"),
    (&["ohg"], "OHG"),
    (&["gbr"], "GbR"),
    (&["ag"], "AG"),
    (&["ltd"], "Ltd"),
    (&["limited"], "Ltd"),
    (&["inc"], "Inc"),
    (&["llc"], "LLC"),
];

/// Normalises a party name: case folding, umlauts/diacritics, legal form removed into its own
/// field, punctuation removed, tokens sorted.
pub(crate) fn normalize_name(name: &str) -> NormName {
    let toks = tokens(name);
    let mut keep = vec![true; toks.len()];
    let mut legal_form = None;
    let mut i = 0;
    while i < toks.len() {
        let mut matched = 0;
        for (seq, canon) in LEGAL_FORMS {
            let end = i + seq.len();
            if end <= toks.len()
                && toks
                    .get(i..end)
                    .is_some_and(|w| w.iter().zip(seq.iter()).all(|(a, b)| a == b))
            {
                // A name that is only a legal form keeps it as its name.
                if seq.len() < toks.len() {
                    matched = seq.len();
                    if legal_form.is_none() {
                        legal_form = Some(*canon);
                    }
                }
                break;
            }
        }
        if matched > 0 {
            for k in keep.iter_mut().skip(i).take(matched) {
                *k = false;
            }
            i += matched;
        } else {
            i += 1;
        }
    }
    let core: Vec<&str> = toks
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(t, _)| t.as_str())
        .collect();
    let plain = core.join(" ");
    let mut sorted_toks = core;
    sorted_toks.sort_unstable();
    NormName {
        plain,
        sorted: sorted_toks.join(" "),
        legal_form,
    }
}

/// German euro wording: `137.420 €`, `9.000,50 €` (cents only when not zero).
pub(crate) fn eur_de(cents: i64) -> String {
    let s = gs_types::Money(cents).format_de();
    if cents % 100 == 0 {
        format!("{} €", s.trim_end_matches(",00"))
    } else {
        format!("{s} €")
    }
}

/// English euro wording: `€137,420`, `€9,000.50`.
pub(crate) fn eur_en(cents: i64) -> String {
    // sign split off the formatted text: `abs()` would overflow on i64::MIN
    let full = gs_types::Money(cents).format_en();
    let (sign, body) = full
        .strip_prefix('-')
        .map_or(("", full.as_str()), |b| ("-", b));
    let body = if cents % 100 == 0 {
        body.trim_end_matches(".00")
    } else {
        body
    };
    format!("{sign}€{body}")
}

/// `24.11.2026`.
pub(crate) fn date_de(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// `2026-11-24`.
pub(crate) fn date_en(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Percent with no decimals, for explanations.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.0}", (x * 100.0).clamp(-1e9, 1e9))
}

/// Median of cents (lower median for even counts, so the value is one that occurred).
pub(crate) fn median_cents(v: &mut [i64]) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let mid = (v.len() - 1) / 2;
    v.get(mid).copied().unwrap_or(0)
}

/// `d + n` days (n < 0 counts as 0), saturating at the last representable date: hostile
/// evidence may carry dates near chrono's limits, where `+` would panic.
pub(crate) fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_days(chrono::Days::new(n.max(0) as u64))
        .unwrap_or(NaiveDate::MAX)
}

/// Days between two dates (b − a), saturating into i64.
pub(crate) fn days(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umlauts_and_legal_forms() {
        let a = normalize_name("Müller & Söhne GmbH");
        assert_eq!(a.sorted, "mueller soehne");
        assert_eq!(a.legal_form, Some("GmbH"));
        let b = normalize_name("MUELLER SOEHNE G.m.b.H.");
        assert_eq!(b.sorted, a.sorted);
        assert_eq!(b.legal_form, Some("GmbH"));
        let c = normalize_name("Hilfe für Kinder e. V.");
        assert_eq!(c.plain, "hilfe fuer kinder");
        assert_eq!(c.legal_form, Some("e.V."));
        let d = normalize_name("Straße Bau UG (haftungsbeschränkt)");
        assert_eq!(d.plain, "strasse bau");
        assert_eq!(d.legal_form, Some("UG (haftungsbeschränkt)"));
        assert_eq!(normalize_name("José Ñúñez").sorted, "jose nunez");
        assert_eq!(
            normalize_name("Schmidt, Anna").sorted,
            normalize_name("Anna Schmidt").sorted
        );
        // a name that is only a legal form stays a name
        assert_eq!(normalize_name("AG").plain, "ag");
    }

    #[test]
    fn money_wording() {
        assert_eq!(eur_de(13_742_000), "137.420 €");
        assert_eq!(eur_de(900_050), "9.000,50 €");
        assert_eq!(eur_en(13_742_000), "€137,420");
        assert_eq!(eur_en(-900_050), "-€9,000.50");
    }

    proptest::proptest! {
        #[test]
        fn hostile_names_never_panic(s in "\\PC{0,60}") {
            let n = normalize_name(&s);
            let toks: Vec<&str> = n.sorted.split(' ').collect();
            let mut sorted = toks.clone();
            sorted.sort_unstable();
            proptest::prop_assert_eq!(toks, sorted);
            proptest::prop_assert!(!n.sorted.contains("  "));
            let _ = eur_de(i64::MIN);
            let _ = eur_en(i64::MIN);
            let _ = add_days(NaiveDate::MAX, i64::MAX);
        }
    }

    #[test]
    fn stable_hash_is_fixed() {
        assert_eq!(stable_hash_hex(["a", "b"]), stable_hash_hex(["a", "b"]));
        assert_ne!(stable_hash_hex(["ab"]), stable_hash_hex(["a", "b"]));
        assert_eq!(stable_hash_hex(["x"]).len(), 32);
    }
}
