//! Rule 8 — watch terms in the purpose text (Verwendungszweck).
//!
//! The terms are case-specific and user-supplied; the shipped list is EMPTY, and geldspur
//! ships no list of religious or ethnic terms. Purpose and term are normalised like names
//! (case, umlauts, diacritics, punctuation). A term of several words must appear as
//! consecutive words. A word of ≥ `min_word_len` letters matches with Jaro-Winkler ≥
//! `similarity`; shorter words must match exactly. Grouped per (account holder, term).
//! Score: `weight × (1 − 0.5^count)`.

use std::collections::BTreeMap;

use super::{Ctx, Finding, saturating};
use crate::resolve::PartyId;
use crate::util::{self, eur_de, eur_en};

fn word_match(a: &str, b: &str, sim: f64, min_len: usize) -> bool {
    if a == b {
        return true;
    }
    a.chars().count() >= min_len
        && b.chars().count() >= min_len
        && strsim::jaro_winkler(a, b) >= sim
}

/// Runs the rule.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let prm = &ctx.pack.watch_terms;
    let terms: Vec<(String, Vec<String>)> = prm
        .terms
        .iter()
        .map(|t| (t.clone(), util::tokens(t)))
        .filter(|(_, tok)| !tok.is_empty())
        .collect();
    if terms.is_empty() {
        return Vec::new();
    }
    let mut groups: BTreeMap<(PartyId, usize), Vec<(u32, String)>> = BTreeMap::new();
    for &i in &ctx.g.active {
        if !ctx.usable(i) {
            continue;
        }
        let Some(purpose) = ctx.txs.get(i as usize).and_then(|t| t.purpose.as_deref()) else {
            continue;
        };
        let words = util::tokens(purpose);
        let holder = if ctx
            .txs
            .get(i as usize)
            .is_some_and(|t| t.amount.is_negative())
        {
            ctx.payer(i)
        } else {
            ctx.payee(i)
        };
        for (k, (_, tt)) in terms.iter().enumerate() {
            let hit = words.windows(tt.len()).find(|w| {
                w.iter()
                    .zip(tt)
                    .all(|(a, b)| word_match(a, b, prm.similarity, prm.min_word_len))
            });
            if let Some(w) = hit {
                groups
                    .entry((holder, k))
                    .or_default()
                    .push((i, w.join(" ")));
            }
        }
    }
    let mut out = Vec::new();
    for ((holder, k), hits) in groups {
        let Some((term, _)) = terms.get(k) else {
            continue;
        };
        let n = hits.len();
        let total: i64 = hits
            .iter()
            .map(|(i, _)| ctx.cents(*i))
            .fold(0, i64::saturating_add);
        let mut written: Vec<&str> = hits.iter().map(|(_, w)| w.as_str()).collect();
        written.sort_unstable();
        written.dedup();
        let shown = written
            .iter()
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join("\", \"");
        let name = ctx.name(holder);
        let de = format!(
            "Suchbegriff \"{term}\" in {n} Verwendungszwecken bei {name} (gefunden als \"{shown}\"), Summe {}.",
            eur_de(total)
        );
        let en = format!(
            "Watch term \"{term}\" in {n} purpose texts of {name} (found as \"{shown}\"), total {}.",
            eur_en(total)
        );
        let related = hits
            .iter()
            .map(|(i, _)| {
                if ctx.payer(*i) == holder {
                    ctx.payee(*i)
                } else {
                    ctx.payer(*i)
                }
            })
            .collect();
        out.push(ctx.finding(
            "watch_term",
            term,
            prm.weight * saturating(n as f64, 1.0),
            vec![holder],
            related,
            hits.iter().map(|(i, _)| *i).collect(),
            vec![
                ("term", term.clone()),
                ("similarity", prm.similarity.to_string()),
                ("min_word_len", prm.min_word_len.to_string()),
                ("count", n.to_string()),
                ("sum_cents", total.to_string()),
            ],
            de,
            en,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{side, tx};
    use crate::rules::RulePack;
    use crate::rules::tests::run_with;

    #[test]
    fn empty_default_and_fuzzy_match() {
        let me = side(Some("Ich"), Some("DE89370400440532013000"));
        let mut a = tx(
            "1",
            me.clone(),
            side(Some("X"), Some("DE02120300000000202051")),
            -10_000,
            1,
        );
        a.purpose = Some("Spende Projekt Sonnenblüme 2026".into());
        let mut b = tx(
            "2",
            me.clone(),
            side(Some("X"), Some("DE02120300000000202051")),
            -20_000,
            2,
        );
        b.purpose = Some("SONNENBLUME-PROJEKT".into());
        let mut c = tx(
            "3",
            me,
            side(Some("X"), Some("DE02120300000000202051")),
            -20_000,
            3,
        );
        c.purpose = Some("Miete Oktober".into());
        let txs = vec![a, b, c];
        let mut pack = RulePack::default_pack();
        assert!(
            run_with(&txs, &pack, run).1.is_empty(),
            "empty list by default"
        );
        pack.watch_terms.terms = vec![
            "Sonnenblume".into(),
            "Mieter".into(),
            "projekt sonnenblume".into(),
        ];
        let (_, f) = run_with(&txs, &pack, run);
        let by: BTreeMap<&str, &Finding> = f.iter().map(|x| (x.variant.as_str(), x)).collect();
        assert_eq!(by["Sonnenblume"].tx_indices, vec![0, 1]);
        assert!(
            by["Sonnenblume"]
                .explanation_de
                .contains("in 2 Verwendungszwecken")
        );
        assert_eq!(by["projekt sonnenblume"].tx_indices, vec![0]);
        // "miete" vs "mieter": fuzzy at ≥ 5 letters (JW 0.97)
        assert_eq!(by["Mieter"].tx_indices, vec![2]);
        pack.watch_terms.similarity = 0.99;
        let (_, f) = run_with(&txs, &pack, run);
        assert!(f.iter().all(|x| x.variant != "Mieter"));
    }
}
