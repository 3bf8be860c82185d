//! Rule 4 — distribution patterns: fan-out, gather-scatter and scatter-gather.
//!
//! * `fan_out`: one party pays ≥ `fan_out_min` distinct payees within `window_days`.
//! * `gather_scatter`: ≥ `gather_min_in` distinct payers within `window_days`, then
//!   ≥ `scatter_min_out` distinct payees from the window's start to `window_days` after its end.
//! * `scatter_gather`: a source pays ≥ `sg_min_intermediaries` parties that each pay the same
//!   target within `window_days` after receiving (at most `max_scan` outgoing transactions
//!   looked at per intermediary and source payment, which bounds the work).
//!
//! Scores: `1 − 0.5^(count / minimum)` (gather-scatter: mean of both ratios), times `weight`.
//! CASH and UNKNOWN never count as payer, payee or intermediary.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use rayon::prelude::*;

use super::{Ctx, Finding, saturating, window_starts};
use crate::resolve::PartyId;
use crate::util::{self, eur_de, eur_en};

/// The window with the most distinct counterparties: (distinct, l, r) over `v`.
fn best_window(
    ctx: &Ctx<'_>,
    v: &[u32],
    other: impl Fn(u32) -> PartyId,
    window_days: i64,
) -> Option<(usize, usize, usize)> {
    let dates: Vec<_> = v.iter().map(|&i| ctx.date(i)).collect();
    let starts = window_starts(&dates, window_days.max(1));
    let mut counts: HashMap<PartyId, u32> = HashMap::new();
    let mut l = 0;
    let mut best = None;
    for (r, &i) in v.iter().enumerate() {
        *counts.entry(other(i)).or_default() += 1;
        let nl = starts.get(r).copied().unwrap_or(0);
        while l < nl {
            if let Some(&j) = v.get(l) {
                let k = other(j);
                if let Some(c) = counts.get_mut(&k) {
                    *c -= 1;
                    if *c == 0 {
                        counts.remove(&k);
                    }
                }
            }
            l += 1;
        }
        if best.is_none_or(|(d, _, _)| counts.len() > d) {
            best = Some((counts.len(), l, r));
        }
    }
    best
}

fn sum(ctx: &Ctx<'_>, v: &[u32]) -> i64 {
    v.iter().map(|&i| ctx.cents(i)).fold(0, i64::saturating_add)
}

fn fan_out(ctx: &Ctx<'_>, p: PartyId) -> Option<Finding> {
    let prm = &ctx.pack.fan;
    let mut v: Vec<u32> = ctx
        .outs(p)
        .into_iter()
        .filter(|&i| !ctx.special(ctx.payee(i)) && ctx.channel_in(i, &prm.channels))
        .collect();
    if prm.fan_out_one_off_only {
        // recurring payees (payroll, rent, suppliers paid month after month) are not a
        // distribution: keep payees whose payments from p all lie within one window
        let mut span: BTreeMap<PartyId, (NaiveDate, NaiveDate)> = BTreeMap::new();
        for &i in &v {
            let d = ctx.date(i);
            let e = span.entry(ctx.payee(i)).or_insert((d, d));
            e.0 = e.0.min(d);
            e.1 = e.1.max(d);
        }
        v.retain(|&i| {
            span.get(&ctx.payee(i))
                .is_some_and(|(a, b)| util::days(*a, *b) <= prm.window_days)
        });
    }
    if v.len() < prm.fan_out_min {
        return None;
    }
    let (d, l, r) = best_window(ctx, &v, |i| ctx.payee(i), prm.window_days)?;
    if d < prm.fan_out_min {
        return None;
    }
    let w = v.get(l..=r)?.to_vec();
    let total = sum(ctx, &w);
    let span = util::days(ctx.date(w[0]), ctx.date(w[w.len() - 1])) + 1;
    let name = ctx.name(p);
    let de = format!(
        "{name} zahlte in {span} Tagen {} an {d} verschiedene Empfänger ({} Zahlungen).",
        eur_de(total),
        w.len()
    );
    let en = format!(
        "{name} paid {} to {d} distinct payees within {span} days ({} payments).",
        eur_en(total),
        w.len()
    );
    let related = w.iter().map(|&i| ctx.payee(i)).collect();
    Some(ctx.finding(
        "fan_out",
        "",
        prm.weight * saturating(d as f64, prm.fan_out_min as f64),
        vec![p],
        related,
        w,
        vec![
            ("fan_out_min", prm.fan_out_min.to_string()),
            ("window_days", prm.window_days.to_string()),
            ("distinct_payees", d.to_string()),
            ("sum_cents", total.to_string()),
        ],
        de,
        en,
    ))
}

fn gather_scatter(ctx: &Ctx<'_>, p: PartyId) -> Option<Finding> {
    let prm = &ctx.pack.fan;
    let ins: Vec<u32> = ctx
        .ins(p)
        .into_iter()
        .filter(|&i| !ctx.special(ctx.payer(i)) && ctx.channel_in(i, &prm.channels))
        .collect();
    if ins.len() < prm.gather_min_in {
        return None;
    }
    let (din, l, r) = best_window(ctx, &ins, |i| ctx.payer(i), prm.window_days)?;
    if din < prm.gather_min_in {
        return None;
    }
    let win = ins.get(l..=r)?.to_vec();
    let (first, last) = (ctx.date(win[0]), ctx.date(win[win.len() - 1]));
    let end = util::add_days(last, prm.window_days);
    let outs: Vec<u32> = ctx
        .outs(p)
        .into_iter()
        .filter(|&i| {
            !ctx.special(ctx.payee(i))
                && ctx.channel_in(i, &prm.channels)
                && ctx.date(i) >= first
                && ctx.date(i) <= end
        })
        .collect();
    let payees: BTreeSet<PartyId> = outs.iter().map(|&i| ctx.payee(i)).collect();
    let dout = payees.len();
    if dout < prm.scatter_min_out {
        return None;
    }
    let (sin, sout) = (sum(ctx, &win), sum(ctx, &outs));
    let name = ctx.name(p);
    let de = format!(
        "{name} erhielt {} von {din} verschiedenen Einzahlern und zahlte bis {} Tage danach {} an {dout} verschiedene Empfänger aus.",
        eur_de(sin),
        prm.window_days,
        eur_de(sout)
    );
    let en = format!(
        "{name} received {} from {din} distinct payers and paid {} to {dout} distinct payees within {} days after.",
        eur_en(sin),
        eur_en(sout),
        prm.window_days
    );
    let ratio = f64::midpoint(
        din as f64 / prm.gather_min_in.max(1) as f64,
        dout as f64 / prm.scatter_min_out.max(1) as f64,
    );
    let related = win
        .iter()
        .map(|&i| ctx.payer(i))
        .chain(outs.iter().map(|&i| ctx.payee(i)))
        .collect();
    Some(ctx.finding(
        "gather_scatter",
        "",
        prm.weight * saturating(ratio, 1.0),
        vec![p],
        related,
        win.into_iter().chain(outs).collect(),
        vec![
            ("gather_min_in", prm.gather_min_in.to_string()),
            ("scatter_min_out", prm.scatter_min_out.to_string()),
            ("window_days", prm.window_days.to_string()),
            ("distinct_payers", din.to_string()),
            ("distinct_payees", dout.to_string()),
            ("in_cents", sin.to_string()),
            ("out_cents", sout.to_string()),
        ],
        de,
        en,
    ))
}

fn scatter_gather(ctx: &Ctx<'_>, s: PartyId) -> Vec<Finding> {
    let prm = &ctx.pack.fan;
    let outs: Vec<u32> = ctx
        .outs(s)
        .into_iter()
        .filter(|&i| {
            !ctx.special(ctx.payee(i)) && ctx.payee(i) != s && ctx.channel_in(i, &prm.channels)
        })
        .collect();
    let mids: BTreeSet<PartyId> = outs.iter().map(|&i| ctx.payee(i)).collect();
    if mids.len() < prm.sg_min_intermediaries {
        return Vec::new();
    }
    // target → intermediary → transactions (source→mid and mid→target)
    let mut by_target: BTreeMap<PartyId, BTreeMap<PartyId, Vec<u32>>> = BTreeMap::new();
    for &t1 in &outs {
        let m = ctx.payee(t1);
        let d1 = ctx.date(t1);
        // the raw date-sorted list, read by binary search: a hub intermediary paid by many
        // sources costs max_scan per payment, not its whole list
        let Some(list) = ctx.g.out_tx.get(m.idx()) else {
            continue;
        };
        let from = list.partition_point(|&i| ctx.date(i) < d1);
        for &t2 in list.iter().skip(from).take(prm.max_scan) {
            if util::days(d1, ctx.date(t2)) > prm.window_days {
                break;
            }
            let t = ctx.payee(t2);
            // the intermediary passes on about what it received: a2 in [share·a1, a1/share]
            let (a1, a2) = (ctx.cents(t1) as f64, ctx.cents(t2) as f64);
            if !ctx.usable(t2)
                || t == s
                || t == m
                || ctx.special(t)
                || !ctx.channel_in(t2, &prm.channels)
                || a2 < a1 * prm.sg_min_share
                || a2 * prm.sg_min_share > a1
            {
                continue;
            }
            let e = by_target.entry(t).or_default().entry(m).or_default();
            e.push(t1);
            e.push(t2);
        }
    }
    let mut res = Vec::new();
    for (t, per_mid) in by_target {
        let k = per_mid.len();
        if k < prm.sg_min_intermediaries {
            continue;
        }
        let txs: Vec<u32> = per_mid.values().flatten().copied().collect();
        let sent: i64 = {
            let mut a: Vec<u32> = txs.iter().copied().filter(|&i| ctx.payer(i) == s).collect();
            a.sort_unstable();
            a.dedup();
            sum(ctx, &a)
        };
        let gathered: i64 = {
            let mut a: Vec<u32> = txs.iter().copied().filter(|&i| ctx.payee(i) == t).collect();
            a.sort_unstable();
            a.dedup();
            sum(ctx, &a)
        };
        let (sn, tn) = (ctx.name(s), ctx.name(t));
        let de = format!(
            "{sn} verteilte {} auf {k} Zwischenempfänger, die binnen {} Tagen {} an {tn} weiterleiteten.",
            eur_de(sent),
            prm.window_days,
            eur_de(gathered)
        );
        let en = format!(
            "{sn} spread {} over {k} intermediaries who passed {} on to {tn} within {} days.",
            eur_en(sent),
            eur_en(gathered),
            prm.window_days
        );
        res.push(ctx.finding(
            "scatter_gather",
            "",
            prm.weight * saturating(k as f64, prm.sg_min_intermediaries as f64),
            vec![s, t],
            per_mid.keys().copied().collect(),
            txs,
            vec![
                (
                    "sg_min_intermediaries",
                    prm.sg_min_intermediaries.to_string(),
                ),
                ("window_days", prm.window_days.to_string()),
                ("intermediaries", k.to_string()),
                ("sent_cents", sent.to_string()),
                ("gathered_cents", gathered.to_string()),
            ],
            de,
            en,
        ));
    }
    res
}

/// Runs the rule (all three patterns).
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let parties = ctx.real_parties();
    let per: Vec<Vec<Finding>> = parties
        .par_iter()
        .map(|&p| {
            let mut v: Vec<Finding> = fan_out(ctx, p)
                .into_iter()
                .chain(gather_scatter(ctx, p))
                .collect();
            v.extend(scatter_gather(ctx, p));
            v
        })
        .collect();
    per.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{side, tx};
    use crate::rules::RulePack;
    use crate::rules::tests::run_with;
    use gs_types::{Iban, PartyRef, Transaction};

    fn acct(k: u32) -> PartyRef {
        let i = Iban::from_german_account("10000000", &format!("{}", 5000 + k)).unwrap();
        side(Some(&format!("P{k}")), Some(i.as_str()))
    }

    #[test]
    fn fan_out_fires_and_near_miss_does_not() {
        let src = acct(0);
        let txs: Vec<Transaction> = (1..=12)
            .map(|k| tx(&format!("f{k}"), src.clone(), acct(k), -100_000, k))
            .collect();
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        let fo: Vec<&Finding> = f.iter().filter(|x| x.rule == "fan_out").collect();
        assert_eq!(fo.len(), 1);
        assert_eq!(fo[0].params["distinct_payees"], "12");
        assert!(
            fo[0]
                .explanation_de
                .contains("12.000 € an 12 verschiedene Empfänger"),
            "{}",
            fo[0].explanation_de
        );
        // same 12 payees, but one every 5 days: never 10 within 14 days
        let slow: Vec<Transaction> = (1..=12)
            .map(|k| tx(&format!("s{k}"), src.clone(), acct(k), -100_000, k * 5))
            .collect();
        assert!(
            run_with(&slow, &RulePack::default_pack(), run)
                .1
                .iter()
                .all(|x| x.rule != "fan_out")
        );
    }

    #[test]
    fn scatter_gather_and_gather_scatter() {
        let (s, t) = (acct(0), acct(99));
        let mut txs = Vec::new();
        for k in 1..=4 {
            txs.push(tx(&format!("a{k}"), s.clone(), acct(k), -300_000, 1));
            txs.push(tx(&format!("b{k}"), acct(k), t.clone(), -290_000, 3));
        }
        let (p, f) = run_with(&txs, &RulePack::default_pack(), run);
        let sg: Vec<&Finding> = f.iter().filter(|x| x.rule == "scatter_gather").collect();
        assert_eq!(sg.len(), 1, "{f:?}");
        assert_eq!(sg[0].tx_indices.len(), 8);
        assert_eq!(sg[0].related_parties.len(), 4);
        assert_eq!(p.get(sg[0].parties[0]).unwrap().display_name.len(), 2);
        assert!(
            sg[0]
                .explanation_en
                .contains("spread €12,000 over 4 intermediaries who passed €11,600 on"),
            "{}",
            sg[0].explanation_en
        );
        // gather-scatter: 5 payers in, then 5 payees out
        let hub = acct(50);
        let mut gs: Vec<Transaction> = (1..=5)
            .map(|k| tx(&format!("i{k}"), hub.clone(), acct(k), 100_000, k))
            .collect();
        gs.extend((6..=10).map(|k| tx(&format!("o{k}"), hub.clone(), acct(k), -95_000, 8 + k)));
        let (_, f) = run_with(&gs, &RulePack::default_pack(), run);
        assert_eq!(f.iter().filter(|x| x.rule == "gather_scatter").count(), 1);
        // only 4 payees out: no
        gs.pop();
        let (_, f) = run_with(&gs, &RulePack::default_pack(), run);
        assert_eq!(f.iter().filter(|x| x.rule == "gather_scatter").count(), 0);
    }
}
