//! Rule 3 — rapid pass-through: money arrives and leaves again within days.
//!
//! Per observed account (its own statements are in the evidence, so in- and outflows are
//! complete): inflows are matched first-in-first-out to later outflows; an inflow part older
//! than `days` days is no longer matchable. Fires when total inflow ≥ `min_inflow_eur`, at
//! least `min_transactions` transactions, matched share ≥ `min_share` and residual
//! `max(0, inflow − outflow) / inflow ≤ max_residual_share`.
//! Score: `weight × (0.5 + 0.5 × (share − min_share) / (1 − min_share))`.
//!
//! Chain variant (`variant = "chain"`): every usable transaction of at least `chain_min_eur`
//! into a real party is followed hop by hop: the intermediary's best forwarding transaction
//! (within `chain_days`, `chain_min_share`..=100 % of the received amount, not back to the
//! payer) continues the chain. Maximal chains with ≥ `chain_min_hops` intermediaries fire;
//! chains that return to a party already in them are cycles and left to the cycle rule.
//! Work: one binary search and a bounded scan per transaction. Score:
//! `weight × (0.6 + 0.4 × min(1, (hops − 1) / 3))`; the finding names the intermediaries.

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

/// Chain variant: the best forwarding step of transaction `t` (payer → x): an outgoing
/// transaction of x on or after t's date, at most `chain_days` later, between
/// `chain_min_share` and 100 % of t's amount. Among candidates the one closest in amount
/// wins, then the earliest in canonical order.
fn forward(ctx: &Ctx<'_>, t: u32) -> Option<u32> {
    let prm = &ctx.pack.pass_through;
    let x = ctx.payee(t);
    if ctx.special(x) {
        return None;
    }
    let a = ctx.cents(t);
    let d = ctx.date(t);
    let lo = (a as f64 * prm.chain_min_share).ceil() as i64;
    let list = ctx.g.out_tx.get(x.idx())?;
    let from = list.partition_point(|&i| ctx.date(i) < d);
    let mut best: Option<(i64, u32, u32)> = None;
    for &o in list.get(from..)? {
        if util::days(d, ctx.date(o)) > prm.chain_days {
            break;
        }
        if o == t || !ctx.usable(o) {
            continue;
        }
        let b = ctx.cents(o);
        let y = ctx.payee(o);
        if b < lo || b > a || y == x || y == ctx.payer(t) {
            continue;
        }
        let key = (a - b, ctx.rank(o), o);
        if best.is_none_or(|k| key < k) {
            best = Some(key);
        }
    }
    best.map(|(_, _, o)| o)
}

/// Chain variant: follows every sufficiently large transaction hop by hop (see the pack).
fn chains(ctx: &Ctx<'_>) -> Vec<Finding> {
    let prm = &ctx.pack.pass_through;
    let min = prm.chain_min_eur.saturating_mul(100);
    let n = ctx.txs.len();
    let next: Vec<Option<u32>> = (0..n as u32)
        .into_par_iter()
        .map(|t| {
            if ctx.usable(t) && ctx.cents(t) >= min && !ctx.special(ctx.payer(t)) {
                forward(ctx, t)
            } else {
                None
            }
        })
        .collect();
    let mut has_pred = vec![false; n];
    for o in next.iter().flatten() {
        if let Some(h) = has_pred.get_mut(*o as usize) {
            *h = true;
        }
    }
    let mut out = Vec::new();
    for start in 0..n as u32 {
        if has_pred[start as usize] || next[start as usize].is_none() {
            continue;
        }
        let mut path = vec![start];
        let mut seen = vec![ctx.payer(start), ctx.payee(start)];
        let mut cur = start;
        let mut closed = false;
        while let Some(o) = next.get(cur as usize).copied().flatten() {
            let y = ctx.payee(o);
            path.push(o);
            if seen.contains(&y) {
                closed = true;
                break;
            }
            seen.push(y);
            cur = o;
            if path.len() > 16 {
                break;
            }
        }
        let hops = path.len() - 1;
        if closed || hops < prm.chain_min_hops {
            continue;
        }
        out.push(chain_finding(ctx, &path));
    }
    out
}

fn chain_finding(ctx: &Ctx<'_>, path: &[u32]) -> Finding {
    let prm = &ctx.pack.pass_through;
    let hops = path.len() - 1;
    let first = path[0];
    let last = path[hops];
    let mids: Vec<PartyId> = path[1..].iter().map(|&i| ctx.payer(i)).collect();
    let mut route: Vec<&str> = vec![ctx.name(ctx.payer(first))];
    route.extend(path.iter().map(|&i| ctx.name(ctx.payee(i))));
    let route = route.join(" → ");
    let (a0, a1) = (ctx.cents(first), ctx.cents(last));
    let days = util::days(ctx.date(first), ctx.date(last));
    let max_gap = path
        .windows(2)
        .map(|w| util::days(ctx.date(w[0]), ctx.date(w[1])))
        .max()
        .unwrap_or(0);
    let kept = pct(a1 as f64 / a0.max(1) as f64);
    let score = prm.weight * (0.6 + 0.4 * ((hops as f64 - 1.0) / 3.0).clamp(0.0, 1.0));
    let de = format!(
        "{} liefen in {days} Tagen über {hops} Konten weiter: {route}; am Ende kamen {} an ({kept} %), jede Weiterleitung spätestens nach {max_gap} Tagen.",
        eur_de(a0),
        eur_de(a1),
    );
    let en = format!(
        "{} passed through {hops} accounts within {days} days: {route}; {} ({kept} %) arrived at the end, each hop within {max_gap} days.",
        eur_en(a0),
        eur_en(a1),
    );
    let related = vec![ctx.payer(first), ctx.payee(last)];
    ctx.finding(
        "pass_through",
        "chain",
        score,
        mids,
        related,
        path.to_vec(),
        vec![
            ("chain_days", prm.chain_days.to_string()),
            ("chain_min_share", prm.chain_min_share.to_string()),
            ("chain_min_hops", prm.chain_min_hops.to_string()),
            ("chain_min_eur", prm.chain_min_eur.to_string()),
            ("hops", hops.to_string()),
            ("first_cents", a0.to_string()),
            ("last_cents", a1.to_string()),
            ("days", days.to_string()),
            ("max_hop_days", max_gap.to_string()),
        ],
        de,
        en,
    )
}

/// Runs the rule: the per-account test, then the chain variant.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let mut f: Vec<Finding> = ctx
        .real_parties()
        .par_iter()
        .filter_map(|&p| for_party(ctx, p))
        .collect();
    f.extend(chains(ctx));
    f
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

    const Y: &str = "DE75512108001245126199";
    const Z: &str = "DE91100000000123456789";

    /// A → X (day 0, 10,000 €), X → Y (day `g1`), Y → Z (day `g1 + g2`), amounts `a1`, `a2`;
    /// X and Y also have everyday traffic that keeps the per-account test quiet.
    fn chain(g1: u32, a1: i64, g2: u32, a2: i64) -> Vec<Transaction> {
        let (a, x, y, z) = (
            side(Some("Quelle GmbH"), Some(A)),
            side(Some("Xaver Zwischen"), Some(X)),
            side(Some("Yvonne Weiter"), Some(Y)),
            side(Some("Ziel Ltd"), Some(Z)),
        );
        let mut v = vec![
            tx("c0", x.clone(), a, 1_000_000, 20),
            tx("c1", x.clone(), y.clone(), -a1, 20 + g1),
            tx("c2", y.clone(), z, -a2, 20 + g1 + g2),
        ];
        for k in 0..12u32 {
            let emp = side(Some("Arbeitgeber AG"), Some(B));
            v.push(tx(
                &format!("sx{k}"),
                x.clone(),
                emp.clone(),
                420_000,
                k * 30,
            ));
            v.push(tx(&format!("sy{k}"), y.clone(), emp, 380_000, k * 30 + 1));
        }
        v
    }

    #[test]
    fn chain_through_busy_accounts_fires() {
        let (p, f) = run_with(
            &chain(1, 980_000, 2, 960_000),
            &RulePack::default_pack(),
            run,
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        let c = &f[0];
        assert_eq!(c.variant, "chain");
        assert_eq!(c.tx_ids, vec!["c0", "c1", "c2"]);
        let mut names: Vec<&str> = c
            .parties
            .iter()
            .map(|&q| p.get(q).unwrap().display_name.as_str())
            .collect();
        names.sort_unstable();
        assert_eq!(names, vec!["Xaver Zwischen", "Yvonne Weiter"]);
        assert_eq!(c.params["hops"], "2");
        assert!(
            c.explanation_de.starts_with("10.000 € liefen in 3 Tagen über 2 Konten weiter: Quelle GmbH → Xaver Zwischen → Yvonne Weiter → Ziel Ltd; am Ende kamen 9.600 € an (96 %)"),
            "{}",
            c.explanation_de
        );
        assert!(
            c.explanation_en
                .contains("€10,000 passed through 2 accounts"),
            "{}",
            c.explanation_en
        );
    }

    #[test]
    fn chain_near_misses_do_not_fire() {
        let pack = RulePack::default_pack();
        // second hop after 5 days (> chain_days = 3)
        assert!(
            run_with(&chain(1, 980_000, 5, 960_000), &pack, run)
                .1
                .is_empty()
        );
        // X forwards only 60 %
        assert!(
            run_with(&chain(1, 600_000, 1, 590_000), &pack, run)
                .1
                .is_empty()
        );
        // X forwards more than it received (not this money)
        assert!(
            run_with(&chain(1, 1_200_000, 1, 1_100_000), &pack, run)
                .1
                .is_empty()
        );
        // one hop only: Y keeps the money
        let mut one = chain(1, 980_000, 1, 960_000);
        one.retain(|t| t.tx_id.0 != "c2");
        assert!(run_with(&one, &pack, run).1.is_empty());
        // a hop to an earlier date does not continue the chain
        let mut back = chain(1, 980_000, 1, 960_000);
        back[2].booking_date = back[0].booking_date - chrono::Days::new(1);
        assert!(run_with(&back, &pack, run).1.is_empty());
    }

    #[test]
    fn chain_back_to_a_member_is_left_to_the_cycle_rule() {
        let mut v = chain(1, 980_000, 1, 960_000);
        v[2].counterparty = side(Some("Quelle GmbH"), Some(A));
        assert!(run_with(&v, &RulePack::default_pack(), run).1.is_empty());
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
