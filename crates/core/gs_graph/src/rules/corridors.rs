//! Rule 6 — high-risk payment corridors.
//!
//! For each transaction, the *counterparty account's* country — the IBAN's first two letters,
//! else the BIC's letters 5–6, as written on that transaction — is looked up in the dated
//! country lists (`assets/high_risk_countries.toml`). This describes where money went to or
//! came from; it is never applied to a person. Findings are grouped per (account holder,
//! country). Score: `weight × max list weight × (0.5 + 0.5 × min(1, total / reference_eur))`.

use std::collections::{BTreeMap, HashMap};

use gs_types::{Iban, PartyRef, iban};

use super::{Ctx, Finding};
use crate::resolve::PartyId;
use crate::util::{eur_de, eur_en};

/// Country of a side's account as written (IBAN, else BIC).
pub(crate) fn account_country(p: &PartyRef) -> Option<String> {
    if let Some(i) = p.iban.as_deref()
        && let Ok(i) = Iban::parse(i)
    {
        return Some(i.country().to_owned());
    }
    let b = p.bic.as_deref()?.trim().to_uppercase();
    iban::bic_country(&b).map(str::to_owned)
}

/// Runs the rule.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let prm = &ctx.pack.corridors;
    // (holder, country) → (out txs, in txs)
    let mut groups: BTreeMap<(PartyId, String), (Vec<u32>, Vec<u32>)> = BTreeMap::new();
    // counterparties recur: validate each distinct (IBAN, BIC) text once
    let mut memo: HashMap<(Option<&str>, Option<&str>), Option<String>> = HashMap::new();
    for &i in &ctx.g.active {
        if !ctx.usable(i) {
            continue;
        }
        let Some(t) = ctx.txs.get(i as usize) else {
            continue;
        };
        let cp = &t.counterparty;
        let Some(c) = memo
            .entry((cp.iban.as_deref(), cp.bic.as_deref()))
            .or_insert_with(|| account_country(cp))
            .clone()
        else {
            continue;
        };
        if c == ctx.pack.home_country || ctx.countries.lists_for(&c).is_empty() {
            continue;
        }
        let outgoing = t.amount.is_negative();
        let holder = if outgoing { ctx.payer(i) } else { ctx.payee(i) };
        let e = groups.entry((holder, c)).or_default();
        if outgoing { e.0.push(i) } else { e.1.push(i) }
    }
    let mut out = Vec::new();
    for ((holder, country), (outs, ins)) in groups {
        let lists = ctx.countries.lists_for(&country);
        let w = lists.iter().map(|l| l.weight).fold(0.0, f64::max);
        let s_out: i64 = outs
            .iter()
            .map(|&i| ctx.cents(i))
            .fold(0, i64::saturating_add);
        let s_in: i64 = ins
            .iter()
            .map(|&i| ctx.cents(i))
            .fold(0, i64::saturating_add);
        let total = s_out.saturating_add(s_in);
        let reference = prm.reference_eur.saturating_mul(100).max(1);
        let score = prm.weight * w * (0.5 + 0.5 * (total as f64 / reference as f64).min(1.0));
        let ids: Vec<&str> = lists.iter().map(|l| l.id.as_str()).collect();
        let lde: Vec<&str> = lists.iter().map(|l| l.label_de.as_str()).collect();
        let len: Vec<&str> = lists.iter().map(|l| l.label_en.as_str()).collect();
        let name = ctx.name(holder);
        let de = format!(
            "{name}: {} {} an Konten in {country} ({}) und {} {} von dort ({}); {country} steht auf: {} (Stand {}).",
            outs.len(),
            if outs.len() == 1 {
                "Zahlung"
            } else {
                "Zahlungen"
            },
            eur_de(s_out),
            ins.len(),
            if ins.len() == 1 {
                "Zahlung"
            } else {
                "Zahlungen"
            },
            eur_de(s_in),
            lde.join("; "),
            ctx.countries.as_of
        );
        let en = format!(
            "{name}: {} {} to accounts in {country} ({}) and {} {} from there ({}); {country} is on: {} (as of {}).",
            outs.len(),
            if outs.len() == 1 {
                "payment"
            } else {
                "payments"
            },
            eur_en(s_out),
            ins.len(),
            if ins.len() == 1 {
                "payment"
            } else {
                "payments"
            },
            eur_en(s_in),
            len.join("; "),
            ctx.countries.as_of
        );
        let related = outs
            .iter()
            .map(|&i| ctx.payee(i))
            .chain(ins.iter().map(|&i| ctx.payer(i)))
            .collect();
        out.push(ctx.finding(
            "corridor",
            &country,
            score,
            vec![holder],
            related,
            outs.into_iter().chain(ins).collect(),
            vec![
                ("country", country.clone()),
                ("lists", ids.join(",")),
                ("list_weight", format!("{w}")),
                ("lists_as_of", ctx.countries.as_of.clone()),
                ("reference_eur", prm.reference_eur.to_string()),
                ("out_cents", s_out.to_string()),
                ("in_cents", s_in.to_string()),
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
    fn corridor_by_counterparty_account_only() {
        let me = side(Some("Ich"), Some("DE89370400440532013000"));
        let mut by_bic = tx("2", me.clone(), side(Some("Y"), None), -200_000, 2);
        by_bic.counterparty.bic = Some("BKIDIRTHXXX".into());
        let txs = vec![
            // German account of someone with a foreign-sounding name: never a corridor
            tx(
                "1",
                me.clone(),
                side(Some("Mohammadi Tehrani"), Some("DE02120300000000202051")),
                -500_000,
                1,
            ),
            by_bic,
            tx(
                "3",
                me,
                side(Some("Z"), Some("TR330006100519786457841326")),
                -500_000,
                3,
            ),
        ];
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].variant, "IR");
        assert_eq!(f[0].tx_indices, vec![1]);
        assert!(f[0].params["lists"].contains("fatf_call_for_action"));
        assert!(
            f[0].explanation_de.starts_with(
                "Ich: 1 Zahlung an Konten in IR (2.000 €) und 0 Zahlungen von dort (0 €)"
            ),
            "{}",
            f[0].explanation_de
        );
    }
}
