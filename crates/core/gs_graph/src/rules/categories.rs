//! Rule 7 — counterparty categories as context.
//!
//! Never a finding on its own. A finding whose transactions touch a party with a category
//! (money-service business, crypto exchange, prepaid/e-money, crowdfunding, NPO by legal
//! form — `assets/counterparty_categories.toml`) gets `score' = 1 − (1 − score)(1 − w)` with
//! `w` the largest weight of the categories found, and a sentence naming them. The finding id
//! does not change.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{Ctx, Finding, FindingSeverity};
use crate::resolve::PartyId;

/// Applies the context to findings.
pub fn apply(ctx: &Ctx<'_>, findings: &mut [Finding]) {
    let weights = &ctx.pack.categories.weights;
    if weights.is_empty() {
        return;
    }
    let labels: BTreeMap<&str, (&str, &str)> = ctx
        .parties
        .category_labels
        .iter()
        .map(|(id, de, en)| (id.as_str(), (de.as_str(), en.as_str())))
        .collect();
    for f in findings.iter_mut() {
        let mut hits: BTreeMap<&str, BTreeSet<PartyId>> = BTreeMap::new();
        let mut seen: BTreeSet<PartyId> = BTreeSet::new();
        for &i in &f.tx_indices {
            for p in [ctx.payer(i), ctx.payee(i)] {
                if !seen.insert(p) {
                    continue;
                }
                if let Some(party) = ctx.parties.get(p) {
                    for c in &party.categories {
                        if weights.get(c).is_some_and(|w| *w > 0.0) {
                            hits.entry(c.as_str()).or_default().insert(p);
                        }
                    }
                }
            }
        }
        if hits.is_empty() {
            continue;
        }
        let w = hits
            .keys()
            .filter_map(|c| weights.get(*c))
            .fold(0.0f64, |a, b| a.max(*b))
            .clamp(0.0, 1.0);
        f.score = (1.0 - (1.0 - f.score) * (1.0 - w)).clamp(0.0, 1.0);
        f.severity = FindingSeverity::of(f.score);
        let mut de = Vec::new();
        let mut en = Vec::new();
        for (c, ps) in &hits {
            let names: Vec<&str> = ps.iter().take(5).map(|&p| ctx.name(p)).collect();
            let (lde, len) = labels.get(c).copied().unwrap_or((c, c));
            de.push(format!("{lde} ({})", names.join(", ")));
            en.push(format!("{len} ({})", names.join(", ")));
            f.context.push((*c).to_owned());
        }
        let _ = write!(
            f.explanation_de,
            " Kontext: beteiligt sind {}.",
            de.join("; ")
        );
        let _ = write!(f.explanation_en, " Context: involves {}.", en.join("; "));
        f.params.insert("context_weight".to_owned(), format!("{w}"));
    }
}
