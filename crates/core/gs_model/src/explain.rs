//! Explanations in words: the features with the largest share of a transaction's
//! reconstruction error, rendered with the concrete numbers of the raw (unscaled) values, the
//! party's own typical value where there is one, else the case's median.

use gs_graph::Analysis;
use gs_types::chrono::{Datelike, Timelike, Weekday};
use gs_types::{Money, Transaction};

use crate::features::{D, F, FEATURES, FeatureKind, Features, ref_country, threshold_below};

/// `137.420 €`, `9.000,50 €` (cents only when not zero).
pub(crate) fn eur_de(cents: i64) -> String {
    let s = Money(cents).format_de();
    format!("{} €", s.strip_suffix(",00").unwrap_or(&s))
}

/// `€137,420`, `€9,000.50`.
pub(crate) fn eur_en(cents: i64) -> String {
    let s = Money(cents).format_en();
    let s = s.strip_suffix(".00").unwrap_or(&s);
    match s.strip_prefix('-') {
        Some(b) => format!("-€{b}"),
        None => format!("€{s}"),
    }
}

/// A number with `decimals` decimals in German (`1.234,5`) or English (`1,234.5`) style.
pub(crate) fn num(x: f64, decimals: usize, de: bool) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let (sep, dot) = if de { ('.', ',') } else { (',', '.') };
    let mut grouped = String::new();
    for (k, ch) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(ch);
    }
    let sign = if x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{dot}{frac}")
    }
}

/// A factor: `38×`, `2,5×`.
fn factor(x: f64, de: bool) -> String {
    if x >= 10.0 {
        format!("{}×", num(x, 0, de))
    } else {
        format!("{}×", num(x, 1, de))
    }
}

fn pct(x: f64, de: bool) -> String {
    format!("{} %", num((x * 100.0).clamp(-1e6, 1e6), 0, de))
}

fn weekday(w: Weekday, de: bool) -> &'static str {
    let k = w.num_days_from_monday() as usize;
    let names_de = [
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
        "Sonntag",
    ];
    let names_en = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    if de { names_de[k] } else { names_en[k] }
}

/// Everything a sentence may need about one row.
pub(crate) struct Row<'a> {
    pub t: &'a Transaction,
    pub a: &'a Analysis,
    pub feats: &'a Features,
    /// Row index in the feature matrix.
    pub r: usize,
    /// Payer and payee party indices.
    pub payer: usize,
    pub payee: usize,
    /// Case medians of the raw columns.
    pub median: &'a [f32],
    /// Case means of the raw columns (shares of flags).
    pub mean: &'a [f32],
}

/// `exp(v) − 1`, the inverse of `ln(1 + x)`.
fn unlog(v: f32) -> f64 {
    f64::from(v).exp() - 1.0
}

/// One feature's phrase (German, English).
pub(crate) fn phrase(f: usize, row: &Row<'_>) -> (String, String) {
    let raw = row.feats.x[row.r * D + f];
    let typ = row.median.get(f).copied().unwrap_or(0.0);
    let st = &row.feats.stats;
    let cents = row.t.amount.cents().saturating_abs();
    let is = |x: F| f == x as usize;
    let def = FEATURES[f];
    let payer_side = def.name.starts_with("payer");
    let (who_de, who_en) = if payer_side {
        ("zahlendes Konto", "paying account")
    } else {
        ("Empfänger", "payee")
    };
    let amount_against = |med: i64, out: bool| -> (String, String) {
        let (de_whose, en_whose) = if out {
            ("das zahlende Konto", "the paying account's")
        } else {
            ("die Eingänge des Empfängers", "the payee's incoming")
        };
        if med <= 0 {
            return (
                format!(
                    "Betrag {} ohne Vergleichswert für {de_whose}",
                    eur_de(cents)
                ),
                format!(
                    "amount {} with no usual value for {en_whose}",
                    eur_en(cents)
                ),
            );
        }
        let r = cents as f64 / med as f64;
        if r >= 1.0 {
            (
                format!(
                    "Betrag {} {} höher als üblich für {de_whose} (üblich {})",
                    eur_de(cents),
                    factor(r, true),
                    eur_de(med)
                ),
                format!(
                    "amount {} is {} {en_whose} usual ({})",
                    eur_en(cents),
                    factor(r, false),
                    eur_en(med)
                ),
            )
        } else {
            (
                format!(
                    "Betrag {} nur {} des Üblichen für {de_whose} (üblich {})",
                    eur_de(cents),
                    pct(r, true),
                    eur_de(med)
                ),
                format!(
                    "amount {} only {} of {en_whose} usual ({})",
                    eur_en(cents),
                    pct(r, false),
                    eur_en(med)
                ),
            )
        }
    };
    if is(F::amount_vs_payer) || is(F::amount_z_payer) {
        return amount_against(st.med_out.get(row.payer).copied().unwrap_or(0), true);
    }
    if is(F::amount_vs_payee) || is(F::amount_z_payee) {
        return amount_against(st.med_in.get(row.payee).copied().unwrap_or(0), false);
    }
    if is(F::log_amount) {
        let med = (unlog(typ) * 100.0).round() as i64;
        let r = cents as f64 / med.max(1) as f64;
        let (de, en) = if r >= 1.0 {
            (factor(r, true), factor(r, false))
        } else {
            (
                format!("{} des", pct(r, true)),
                format!("{} of the", pct(r, false)),
            )
        };
        return (
            format!(
                "Betrag {} ist {de} im Fall üblichen Betrags ({})",
                eur_de(cents),
                eur_de(med)
            ),
            format!(
                "amount {} is {en} case's usual amount ({})",
                eur_en(cents),
                eur_en(med)
            ),
        );
    }
    if is(F::roundness) {
        return if raw >= 4.0 {
            (
                format!("runder Betrag ({})", eur_de(cents)),
                format!("round amount ({})", eur_en(cents)),
            )
        } else {
            (
                format!("Betrag {} krummer als im Fall üblich", eur_de(cents)),
                format!("amount {} less round than usual in the case", eur_en(cents)),
            )
        };
    }
    if is(F::below_threshold) {
        let eur = cents as f64 / 100.0;
        if let Some(th) = threshold_below(eur) {
            let th = (th * 100.0) as i64;
            return (
                format!(
                    "Betrag {} knapp unter der Schwelle von {}",
                    eur_de(cents),
                    eur_de(th)
                ),
                format!(
                    "amount {} just below the {} threshold",
                    eur_en(cents),
                    eur_en(th)
                ),
            );
        }
    }
    if is(F::weekday_sin) || is(F::weekday_cos) {
        let w = row.t.booking_date.weekday();
        return (
            format!("gebucht an einem {}", weekday(w, true)),
            format!("booked on a {}", weekday(w, false)),
        );
    }
    if is(F::hour_sin) || is(F::hour_cos) {
        return match row.t.timestamp {
            Some(ts) => (
                format!("Uhrzeit {:02}:{:02}", ts.hour(), ts.minute()),
                format!("at {:02}:{:02}", ts.hour(), ts.minute()),
            ),
            None => (
                "ohne Uhrzeit, im Fall meist mit".to_owned(),
                "no time of day, unlike most of the case".to_owned(),
            ),
        };
    }
    if is(F::log_days_since_prev) {
        let days = unlog(raw).round();
        let usual = num(unlog(typ).round(), 0, true);
        let usual_en = num(unlog(typ).round(), 0, false);
        let first = row.feats.first_out.get(row.r).copied().unwrap_or(false);
        return if first {
            (
                "erste Zahlung des zahlenden Kontos im Datenbestand".to_owned(),
                "the paying account's first payment in the evidence".to_owned(),
            )
        } else {
            (
                format!(
                    "{} Tage seit der vorigen Zahlung des zahlenden Kontos (üblich {usual})",
                    num(days, 0, true)
                ),
                format!(
                    "{} days since the paying account's previous payment (usual {usual_en})",
                    num(days, 0, false)
                ),
            )
        };
    }
    if is(F::new_counterparty) {
        return if raw > 0.5 {
            (
                "erste Zahlung an diesen Empfänger".to_owned(),
                "first payment to this payee".to_owned(),
            )
        } else {
            (
                "wiederholte Zahlung an denselben Empfänger".to_owned(),
                "repeat payment to the same payee".to_owned(),
            )
        };
    }
    if is(F::cross_border) {
        let (pref, qref) = row.t.payer_payee();
        let country = |r: &gs_types::PartyRef, p: usize| -> String {
            ref_country(r)
                .map(str::to_owned)
                .or_else(|| {
                    row.a
                        .parties
                        .parties
                        .get(p)
                        .and_then(|x| x.account_countries.first().cloned())
                })
                .unwrap_or_else(|| "?".to_owned())
        };
        let (pc, qc) = (country(pref, row.payer), country(qref, row.payee));
        return if raw > 0.5 {
            (
                format!("grenzüberschreitend ({pc} → {qc})"),
                format!("cross-border ({pc} → {qc})"),
            )
        } else {
            (
                format!("inländisch ({pc}), im Fall selten"),
                format!("domestic ({pc}), rare in the case"),
            )
        };
    }
    if def.name.starts_with("ch_") {
        // name the transaction's own channel and how common it is in the case
        let own = [
            F::ch_cash,
            F::ch_transfer,
            F::ch_card,
            F::ch_debit,
            F::ch_other,
        ]
        .into_iter()
        .find(|&c| row.feats.x[row.r * D + c as usize] > 0.5)
        .unwrap_or(F::ch_other) as usize;
        let share = f64::from(row.mean.get(own).copied().unwrap_or(0.0));
        let o = FEATURES[own];
        return (
            format!(
                "{} ({} der Buchungen im Fall)",
                o.label_de,
                pct(share, true)
            ),
            format!(
                "{} ({} of the case's bookings)",
                o.label_en,
                pct(share, false)
            ),
        );
    }
    let higher = raw >= typ;
    let (cmp_de, cmp_en) = if higher {
        ("mehr als üblich", "more than usual")
    } else {
        ("weniger als üblich", "less than usual")
    };
    match def.kind {
        FeatureKind::LogCount => {
            let (v, u) = (unlog(raw), unlog(typ));
            let d = usize::from((v - v.round()).abs() > 0.05 && v < 100.0);
            (
                format!(
                    "{}: {} ({cmp_de}; Median im Fall {})",
                    def.label_de,
                    num(v, d, true),
                    num(u, d, true)
                ),
                format!(
                    "{}: {} ({cmp_en}; case median {})",
                    def.label_en,
                    num(v, d, false),
                    num(u, d, false)
                ),
            )
        }
        FeatureKind::LogEuros => {
            let (v, u) = (
                (unlog(raw) * 100.0).round() as i64,
                (unlog(typ) * 100.0).round() as i64,
            );
            (
                format!(
                    "{}: {} ({cmp_de}; Median im Fall {})",
                    def.label_de,
                    eur_de(v),
                    eur_de(u)
                ),
                format!(
                    "{}: {} ({cmp_en}; case median {})",
                    def.label_en,
                    eur_en(v),
                    eur_en(u)
                ),
            )
        }
        FeatureKind::Share => {
            if is(F::payer_pass_through) || is(F::payee_pass_through) {
                return (
                    format!(
                        "{} leitete {} der Zuflüsse binnen 7 Tagen weiter (üblich {})",
                        capitalise(who_de),
                        pct(f64::from(raw), true),
                        pct(f64::from(typ), true)
                    ),
                    format!(
                        "{} passed on {} of its inflow within 7 days (usual {})",
                        capitalise(who_en),
                        pct(f64::from(raw), false),
                        pct(f64::from(typ), false)
                    ),
                );
            }
            (
                format!(
                    "{}: {} (üblich {})",
                    def.label_de,
                    pct(f64::from(raw), true),
                    pct(f64::from(typ), true)
                ),
                format!(
                    "{}: {} (usual {})",
                    def.label_en,
                    pct(f64::from(raw), false),
                    pct(f64::from(typ), false)
                ),
            )
        }
        FeatureKind::Flag => {
            if raw > 0.5 {
                (def.label_de.to_owned(), def.label_en.to_owned())
            } else {
                (
                    format!("nicht: {}", def.label_de),
                    format!("not: {}", def.label_en),
                )
            }
        }
        _ => {
            // PageRank, betweenness, k-core are stored as ln(1 + x): show x
            let logged = def.name.ends_with("pagerank")
                || def.name.ends_with("betweenness")
                || def.name.ends_with("core");
            let (v, u) = if logged {
                (unlog(raw), unlog(typ))
            } else {
                (f64::from(raw), f64::from(typ))
            };
            (
                format!(
                    "{}: {} ({cmp_de}; Median im Fall {})",
                    def.label_de,
                    num(v, 2, true),
                    num(u, 2, true)
                ),
                format!(
                    "{}: {} ({cmp_en}; case median {})",
                    def.label_en,
                    num(v, 2, false),
                    num(u, 2, false)
                ),
            )
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_both_languages() {
        assert_eq!(eur_de(123_456), "1.234,56 €");
        assert_eq!(eur_de(4_800_000), "48.000 €");
        assert_eq!(eur_en(4_800_000), "€48,000");
        assert_eq!(eur_en(-150), "-€1.50");
        assert_eq!(num(1234.5, 1, true), "1.234,5");
        assert_eq!(num(1234.5, 1, false), "1,234.5");
        assert_eq!(num(-0.4, 0, true), "0");
        assert_eq!(factor(38.2, true), "38×");
        assert_eq!(factor(2.46, true), "2,5×");
        assert_eq!(pct(0.96, true), "96 %");
        assert_eq!(capitalise("zahlendes Konto"), "Zahlendes Konto");
    }
}
