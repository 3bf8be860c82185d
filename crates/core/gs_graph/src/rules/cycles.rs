//! Rule 5 — cycles / round-tripping: money returns to where it started.
//!
//! A cycle is a sequence of transactions `t0, t1, …, tk` with payee(tᵢ) = payer(tᵢ₊₁),
//! payee(tk) = payer(t0), no party twice, `min_len ≤ k+1 ≤ max_len` (≤ 6), each booking date on
//! or after the previous one, all within `window_days` of `t0`, every amount within
//! `amount_tolerance` of `t0`'s, and `t0` ≥ `min_amount_eur`. `t0` is the cycle's earliest
//! transaction in canonical order, so each cycle is found exactly once.
//!
//! Bounded search: a depth-first search per starting transaction, at most `max_expansions`
//! candidate steps each, and candidates are read from date-sorted lists by binary search.
//! Starting transactions run in parallel; results are merged in start order. Instances on the
//! same party cycle (e.g. monthly repetitions) form one finding with at most `max_instances`
//! instances. Score: `weight × (1 − 0.4 × 0.7^(instances − 1))`.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::{Ctx, Finding};
use crate::resolve::PartyId;
use crate::util::{self, eur_de, eur_en};

struct Search<'a, 'b> {
    ctx: &'a Ctx<'b>,
    start: PartyId,
    t0: u32,
    a0: i64,
    tol: i64,
    budget: usize,
    found: Vec<Vec<u32>>,
}

impl Search<'_, '_> {
    fn go(&mut self, at: PartyId, path_parties: &mut Vec<PartyId>, path: &mut Vec<u32>) {
        let prm = &self.ctx.pack.cycles;
        let Some(&last) = path.last() else { return };
        let last_date = self.ctx.date(last);
        let d0 = self.ctx.date(self.t0);
        let r0 = self.ctx.rank(self.t0);
        let Some(list) = self.ctx.g.out_tx.get(at.idx()) else {
            return;
        };
        let from = list.partition_point(|&i| self.ctx.date(i) < last_date);
        for &i in list.iter().skip(from) {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let d = self.ctx.date(i);
            if util::days(d0, d) > prm.window_days {
                break;
            }
            if self.ctx.rank(i) <= r0
                || !self.ctx.usable(i)
                || (self.ctx.cents(i) - self.a0).abs() > self.tol
            {
                continue;
            }
            let next = self.ctx.payee(i);
            if next == self.start {
                if path.len() + 1 >= prm.min_len {
                    let mut c = path.clone();
                    c.push(i);
                    self.found.push(c);
                }
                continue;
            }
            if path.len() + 1 >= prm.max_len
                || self.ctx.special(next)
                || path_parties.contains(&next)
            {
                continue;
            }
            path_parties.push(next);
            path.push(i);
            self.go(next, path_parties, path);
            path.pop();
            path_parties.pop();
        }
    }
}

fn from_start(ctx: &Ctx<'_>, t0: u32) -> Vec<Vec<u32>> {
    let prm = &ctx.pack.cycles;
    let (s, m) = (ctx.payer(t0), ctx.payee(t0));
    let a0 = ctx.cents(t0);
    if s == m
        || ctx.special(s)
        || ctx.special(m)
        || a0 < prm.min_amount_eur.saturating_mul(100)
        || !ctx.usable(t0)
    {
        return Vec::new();
    }
    let tol = (a0 as f64 * prm.amount_tolerance.clamp(0.0, 1.0)) as i64;
    let mut se = Search {
        ctx,
        start: s,
        t0,
        a0,
        tol,
        budget: prm.max_expansions,
        found: Vec::new(),
    };
    let mut parties = vec![s, m];
    let mut path = vec![t0];
    se.go(m, &mut parties, &mut path);
    se.found
}

/// Runs the rule.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let prm = &ctx.pack.cycles;
    let per: Vec<Vec<Vec<u32>>> = ctx
        .g
        .active
        .par_iter()
        .map(|&t0| from_start(ctx, t0))
        .collect();
    // canonical party cycle (rotation starting at the smallest id) → instances
    let mut groups: BTreeMap<Vec<PartyId>, Vec<Vec<u32>>> = BTreeMap::new();
    for c in per.into_iter().flatten() {
        let parties: Vec<PartyId> = c.iter().map(|&i| ctx.payer(i)).collect();
        let k = parties
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| **p)
            .map_or(0, |(k, _)| k);
        let mut key = parties.clone();
        key.rotate_left(k);
        let e = groups.entry(key).or_default();
        if e.len() < prm.max_instances {
            e.push(c);
        }
    }
    let mut out = Vec::new();
    for (key, inst) in groups {
        let Some(first) = inst.first() else { continue };
        let n = inst.len();
        let names: Vec<&str> = first.iter().map(|&i| ctx.name(ctx.payer(i))).collect();
        let route = format!(
            "{} → {}",
            names.join(" → "),
            names.first().copied().unwrap_or("?")
        );
        let a0 = ctx.cents(first[0]);
        let back = first.last().map_or(0, |&i| ctx.cents(i));
        let days = util::days(
            ctx.date(first[0]),
            first.last().map_or(ctx.date(first[0]), |&i| ctx.date(i)),
        );
        let total: i64 = inst
            .iter()
            .flatten()
            .map(|&i| ctx.cents(i))
            .fold(0, i64::saturating_add);
        let de = format!(
            "Geld lief im Kreis über {} Konten: {route}; {} gingen hinaus, {} kamen nach {days} Tagen zurück ({n}-mal, Summe aller Schritte {}).",
            key.len(),
            eur_de(a0),
            eur_de(back),
            eur_de(total)
        );
        let en = format!(
            "Money went round a cycle of {} accounts: {route}; {} went out and {} came back after {days} days ({n} time(s), all hops total {}).",
            key.len(),
            eur_en(a0),
            eur_en(back),
            eur_en(total)
        );
        let score = prm.weight * (1.0 - 0.4 * 0.7f64.powi((n as i32).saturating_sub(1)));
        let txs: Vec<u32> = inst.into_iter().flatten().collect();
        out.push(ctx.finding(
            "cycle",
            &key.len().to_string(),
            score,
            key.clone(),
            Vec::new(),
            txs,
            vec![
                ("length", key.len().to_string()),
                ("window_days", prm.window_days.to_string()),
                ("amount_tolerance", prm.amount_tolerance.to_string()),
                ("instances", n.to_string()),
                ("first_amount_cents", a0.to_string()),
                ("returned_cents", back.to_string()),
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
    use gs_types::{Iban, PartyRef, Transaction};

    fn acct(k: u32) -> PartyRef {
        let i = Iban::from_german_account("10000000", &format!("{}", 7000 + k)).unwrap();
        side(Some(&format!("K{k}")), Some(i.as_str()))
    }

    fn ring(days: &[u32], amounts: &[i64]) -> Vec<Transaction> {
        let n = days.len() as u32;
        (0..n)
            .map(|k| {
                tx(
                    &format!("c{k}"),
                    acct(k),
                    acct((k + 1) % n),
                    -amounts[k as usize],
                    days[k as usize],
                )
            })
            .collect()
    }

    #[test]
    fn time_ordered_cycle_fires_once() {
        let txs = ring(&[1, 3, 5, 8], &[1_000_000, 980_000, 960_000, 950_000]);
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].parties.len(), 4);
        assert_eq!(f[0].tx_indices, vec![0, 1, 2, 3]);
        assert!(
            f[0].explanation_de.contains(
                "K0 → K1 → K2 → K3 → K0; 10.000 € gingen hinaus, 9.500 € kamen nach 7 Tagen zurück"
            ),
            "{}",
            f[0].explanation_de
        );
    }

    #[test]
    fn near_misses_do_not_fire() {
        let pack = RulePack::default_pack();
        // a hop backwards in time
        assert!(
            run_with(&ring(&[1, 3, 2, 8], &[1_000_000; 4]), &pack, run)
                .1
                .is_empty()
        );
        // amounts not similar
        assert!(
            run_with(
                &ring(&[1, 2, 3, 4], &[1_000_000, 500_000, 500_000, 500_000]),
                &pack,
                run
            )
            .1
            .is_empty()
        );
        // outside the window
        assert!(
            run_with(&ring(&[1, 10, 20, 40], &[1_000_000; 4]), &pack, run)
                .1
                .is_empty()
        );
        // 7 accounts: longer than 6
        assert!(
            run_with(&ring(&[1, 2, 3, 4, 5, 6, 7], &[1_000_000; 7]), &pack, run)
                .1
                .is_empty()
        );
        // 2-cycle is allowed
        assert_eq!(
            run_with(&ring(&[1, 2], &[1_000_000; 2]), &pack, run)
                .1
                .len(),
            1
        );
    }

    #[test]
    fn dense_graph_search_is_bounded() {
        // complete graph on 12 accounts, same amount, same day: huge number of cycles
        let mut txs = Vec::new();
        for a in 0..12 {
            for b in 0..12 {
                if a != b {
                    txs.push(tx(&format!("{a}-{b}"), acct(a), acct(b), -1_000_000, 1));
                }
            }
        }
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        assert!(!f.is_empty());
        assert!(
            f.iter()
                .all(|x| x.tx_indices.iter().all(|&i| (i as usize) < txs.len()))
        );
    }
}
