//! Rule 3 — rapid pass-through: money arrives and leaves again within days.
//!
//! Per observed account (its own statements are in the evidence, so in- and outflows are
//! complete): inflows are matched first-in-first-out to later outflows; an inflow part older
//! than `days` days is no longer matchable. Fires when total inflow ≥ `min_inflow_eur`, at
//! least `min_transactions` transactions, matched share ≥ `min_share` and residual
//! `max(0, inflow − outflow) / inflow ≤ max_residual_share`.
//! Score: `weight × (0.5 + 0.5 × (share − min_share) / (1 − min_share))`.

use std::collections::VecDeque;

use rayon::prelude::*;

use super::{Ctx, Finding};
use crate::resolve::PartyId;
use crate::util::{self, eur_de, eur_en, pct};

fn for_party(ctx: &Ctx<'_>, p: PartyId) -> Option<Finding> {
    let prm = &ctx.pack.pass_through;
    if !ctx.parties.get(p).is_some_and(|x| x.observed) {
        return None;
    }
    let ins = ctx.ins(p);
    let outs = ctx.outs(p);
    if ins.is_empty() || outs.is_empty() || ins.len() + outs.len() < prm.min_transactions {
        return None;
    }
    let inflow: i64 = ins
        .iter()
        .map(|&i| ctx.cents(i))
        .fold(0, i64::saturating_add);
    if inflow < prm.min_inflow_eur.saturating_mul(100) || inflow <= 0 {
        return None;
    }
    let outflow: i64 = outs
        .iter()
        .map(|&i| ctx.cents(i))
        .fold(0, i64::saturating_add);
    // merge by canonical rank; on the same rank order cannot tie (ranks are unique)
    let mut events: Vec<(u32, bool)> = ins
        .iter()
        .map(|&i| (i, true))
        .chain(outs.iter().map(|&i| (i, false)))
        .collect();
    events.sort_unstable_by_key(|&(i, _)| ctx.rank(i));
    let mut queue: VecDeque<(u32, i64)> = VecDeque::new();
    let mut matched: i64 = 0;
    let mut used_in: Vec<u32> = Vec::new();
    let mut used_out: Vec<u32> = Vec::new();
    let mut max_delay = 0i64;
    for (i, is_in) in events {
        if is_in {
            queue.push_back((i, ctx.cents(i)));
            continue;
        }
        let d = ctx.date(i);
        while queue
            .front()
            .is_some_and(|&(j, _)| util::days(ctx.date(j), d) > prm.days)
        {
            queue.pop_front();
        }
        let mut need = ctx.cents(i);
        let mut any = false;
        while need > 0 {
            let Some(front) = queue.front_mut() else {
                break;
            };
            let take = need.min(front.1);
            front.1 -= take;
            need -= take;
            matched = matched.saturating_add(take);
            any = true;
            used_in.push(front.0);
            max_delay = max_delay.max(util::days(ctx.date(front.0), d));
            if front.1 == 0 {
                queue.pop_front();
            }
        }
        if any {
            used_out.push(i);
        }
    }
    let share = matched as f64 / inflow as f64;
    let residual = (inflow - outflow).max(0);
    let residual_share = residual as f64 / inflow as f64;
    if share < prm.min_share || residual_share > prm.max_residual_share {
        return None;
    }
    let span = (1.0 - prm.min_share).max(1e-9);
    let score = prm.weight * (0.5 + 0.5 * ((share - prm.min_share) / span).clamp(0.0, 1.0));
    let name = ctx.name(p);
    let de = format!(
        "{} % der Zuflüsse von {} an {name} ({} Eingänge) flossen innerhalb von höchstens {} Tagen wieder ab ({} in {} Ausgängen); Restbetrag {}.",
        pct(share),
        eur_de(inflow),
        ins.len(),
        prm.days,
        eur_de(matched),
        used_out.len(),
        eur_de(residual)
    );
    let en = format!(
        "{} % of the {} received by {name} ({} inflows) left again within at most {} days ({} in {} outflows); residual {}.",
        pct(share),
        eur_en(inflow),
        ins.len(),
        prm.days,
        eur_en(matched),
        used_out.len(),
        eur_en(residual)
    );
    let related: Vec<PartyId> = used_in
        .iter()
        .map(|&i| ctx.payer(i))
        .chain(used_out.iter().map(|&i| ctx.payee(i)))
        .collect();
    let txs: Vec<u32> = used_in.into_iter().chain(used_out).collect();
    Some(ctx.finding(
        "pass_through",
        "",
        score,
        vec![p],
        related,
        txs,
        vec![
            ("days", prm.days.to_string()),
            ("min_share", prm.min_share.to_string()),
            ("max_residual_share", prm.max_residual_share.to_string()),
            ("inflow_cents", inflow.to_string()),
            ("outflow_cents", outflow.to_string()),
            ("matched_cents", matched.to_string()),
            ("share", format!("{share:.3}")),
            ("residual_cents", residual.to_string()),
            ("max_delay_days", max_delay.to_string()),
        ],
        de,
        en,
    ))
}

/// Runs the rule.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    ctx.real_parties()
        .par_iter()
        .filter_map(|&p| for_party(ctx, p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{side, tx};
    use crate::rules::RulePack;
    use crate::rules::tests::run_with;
    use gs_types::Transaction;

    const X: &str = "DE89370400440532013000";
    const A: &str = "DE02120300000000202051";
    const B: &str = "DE12500105170648489890";

    fn flows(out_cents: &[(i64, u32)]) -> Vec<Transaction> {
        let x = side(Some("Durchlauf"), Some(X));
        let mut v = vec![
            tx("i1", x.clone(), side(Some("A"), Some(A)), 1_000_000, 0),
            tx("i2", x.clone(), side(Some("A"), Some(A)), 500_000, 10),
        ];
        for (k, (c, d)) in out_cents.iter().enumerate() {
            v.push(tx(
                &format!("o{k}"),
                x.clone(),
                side(Some("B"), Some(B)),
                -c,
                *d,
            ));
        }
        v
    }

    #[test]
    fn fast_outflow_fires() {
        let txs = flows(&[(980_000, 2), (490_000, 12)]);
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].params["matched_cents"], "1470000");
        assert_eq!(f[0].params["residual_cents"], "30000");
        assert_eq!(f[0].tx_indices.len(), 4);
        assert!(
            f[0].explanation_de
                .starts_with("98 % der Zuflüsse von 15.000 € an Durchlauf"),
            "{}",
            f[0].explanation_de
        );
        assert!(
            f[0].explanation_en.contains("residual €300"),
            "{}",
            f[0].explanation_en
        );
    }

    #[test]
    fn near_misses_do_not_fire() {
        let pack = RulePack::default_pack();
        // 40 % out-flow
        assert!(
            run_with(&flows(&[(400_000, 2), (200_000, 12)]), &pack, run)
                .1
                .is_empty()
        );
        // all leaves, but only after 20 days
        assert!(
            run_with(&flows(&[(980_000, 25), (490_000, 30)]), &pack, run)
                .1
                .is_empty()
        );
        // an unobserved counterparty is never judged (B receives everything but is not a statement account)
        let (p, f) = run_with(&flows(&[(980_000, 2), (490_000, 12)]), &pack, run);
        assert!(
            f.iter()
                .all(|x| p.get(x.parties[0]).unwrap().display_name == "Durchlauf")
        );
    }
}
