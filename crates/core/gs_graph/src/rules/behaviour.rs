//! Rule 9 — behaviour change of an observed account.
//!
//! * `dormant_reactivation`: no booking for ≥ `dormant_days`, then ≥ `reactivation_min_eur`
//!   moved within `reactivation_window_days`. Score `weight × (1 − 0.5^(volume / minimum))`.
//! * `behaviour_jump`: the account's activity is cut into periods of `period_days` from its
//!   first booking. A period jumps when its distinct counterparties are ≥ `min_counterparties`
//!   and ≥ `jump_factor` × the mean of the `history_periods` periods before, or its volume is
//!   ≥ `min_volume_eur` and ≥ `jump_factor` × that mean. Needs `history_periods` periods of
//!   history. Score `weight × (1 − 0.5^(ratio / jump_factor))`.
//!
//! Only accounts whose statements are in the evidence (else silence means "not in the
//! evidence", not "dormant").

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::{Ctx, Finding, saturating};
use crate::resolve::PartyId;
use crate::util::{self, eur_de, eur_en};

fn for_party(ctx: &Ctx<'_>, p: PartyId) -> Vec<Finding> {
    let prm = &ctx.pack.behaviour;
    if !ctx.parties.get(p).is_some_and(|x| x.observed) {
        return Vec::new();
    }
    let mut all: Vec<u32> = ctx.ins(p).into_iter().chain(ctx.outs(p)).collect();
    all.sort_unstable_by_key(|&i| ctx.rank(i));
    all.dedup();
    let mut out = Vec::new();
    let name = ctx.name(p);
    let other = |i: u32| {
        if ctx.payer(i) == p {
            ctx.payee(i)
        } else {
            ctx.payer(i)
        }
    };
    // dormant reactivation
    for k in 1..all.len() {
        let (a, b) = (all[k - 1], all[k]);
        let gap = util::days(ctx.date(a), ctx.date(b));
        if gap < prm.dormant_days {
            continue;
        }
        let start = ctx.date(b);
        let win: Vec<u32> = all
            .iter()
            .skip(k)
            .take_while(|&&i| util::days(start, ctx.date(i)) < prm.reactivation_window_days)
            .copied()
            .collect();
        let vol: i64 = win
            .iter()
            .map(|&i| ctx.cents(i))
            .fold(0, i64::saturating_add);
        let min = prm.reactivation_min_eur.saturating_mul(100);
        if vol < min {
            continue;
        }
        let de = format!(
            "Konto {name} nach {gap} Tagen ohne Umsatz ab {} reaktiviert: {} Buchungen über {} in {} Tagen.",
            util::date_de(start),
            win.len(),
            eur_de(vol),
            prm.reactivation_window_days
        );
        let en = format!(
            "Account {name} reactivated on {} after {gap} days without bookings: {} bookings moving {} within {} days.",
            util::date_en(start),
            win.len(),
            eur_en(vol),
            prm.reactivation_window_days
        );
        let related = win.iter().map(|&i| other(i)).collect();
        out.push(ctx.finding(
            "dormant_reactivation",
            "",
            prm.weight * saturating(vol as f64, min.max(1) as f64),
            vec![p],
            related,
            win,
            vec![
                ("dormant_days", prm.dormant_days.to_string()),
                (
                    "reactivation_window_days",
                    prm.reactivation_window_days.to_string(),
                ),
                ("reactivation_min_eur", prm.reactivation_min_eur.to_string()),
                ("gap_days", gap.to_string()),
                ("volume_cents", vol.to_string()),
            ],
            de,
            en,
        ));
    }
    // jumps (sparse periods: hostile date ranges cost nothing)
    let Some(&first) = all.first() else {
        return out;
    };
    let d0 = ctx.date(first);
    let period = prm.period_days.max(1);
    let mut periods: BTreeMap<i64, (BTreeSet<PartyId>, i64, Vec<u32>)> = BTreeMap::new();
    for &i in &all {
        let e = periods
            .entry(util::days(d0, ctx.date(i)) / period)
            .or_default();
        e.0.insert(other(i));
        e.1 = e.1.saturating_add(ctx.cents(i));
        e.2.push(i);
    }
    let h = prm.history_periods.max(1);
    for (&b, (cps, vol, txs)) in &periods {
        if b < h {
            continue;
        }
        let (mut mc, mut mv) = (0.0, 0.0);
        for q in b - h..b {
            if let Some((c, v, _)) = periods.get(&q) {
                mc += c.len() as f64;
                mv += *v as f64;
            }
        }
        mc /= h as f64;
        mv /= h as f64;
        let rc = cps.len() as f64 / mc.max(1.0);
        let rv = *vol as f64 / mv.max(100.0);
        let by_cp = cps.len() >= prm.min_counterparties && rc >= prm.jump_factor;
        let by_vol = *vol >= prm.min_volume_eur.saturating_mul(100) && rv >= prm.jump_factor;
        if !(by_cp || by_vol) {
            continue;
        }
        let ratio = if by_cp {
            rc.max(if by_vol { rv } else { 0.0 })
        } else {
            rv
        };
        let start = util::add_days(d0, b.saturating_mul(period));
        let de = format!(
            "Verhaltenswechsel bei {name} ab {}: {} verschiedene Gegenparteien und {} Umsatz in {period} Tagen, gegenüber durchschnittlich {:.1} Gegenparteien und {} in den {h} Zeiträumen davor.",
            util::date_de(start),
            cps.len(),
            eur_de(*vol),
            mc,
            eur_de(mv as i64)
        );
        let en = format!(
            "Behaviour change of {name} from {}: {} distinct counterparties and {} turnover within {period} days, against an average of {:.1} counterparties and {} in the {h} periods before.",
            util::date_en(start),
            cps.len(),
            eur_en(*vol),
            mc,
            eur_en(mv as i64)
        );
        out.push(ctx.finding(
            "behaviour_jump",
            if by_cp { "counterparties" } else { "volume" },
            prm.weight * saturating(ratio, prm.jump_factor.max(1.0)),
            vec![p],
            cps.iter().copied().collect(),
            txs.clone(),
            vec![
                ("period_days", period.to_string()),
                ("history_periods", h.to_string()),
                ("jump_factor", prm.jump_factor.to_string()),
                ("counterparties", cps.len().to_string()),
                ("history_mean_counterparties", format!("{mc:.2}")),
                ("volume_cents", vol.to_string()),
                ("history_mean_volume_cents", format!("{mv:.0}")),
            ],
            de,
            en,
        ));
    }
    out
}

/// Runs the rule.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let per: Vec<Vec<Finding>> = ctx
        .real_parties()
        .par_iter()
        .map(|&p| for_party(ctx, p))
        .collect();
    per.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{side, tx};
    use crate::rules::RulePack;
    use crate::rules::tests::run_with;
    use gs_types::{Iban, Transaction};

    fn cp(k: u32) -> gs_types::PartyRef {
        let i = Iban::from_german_account("10000000", &format!("{}", 9000 + k)).unwrap();
        side(Some(&format!("G{k}")), Some(i.as_str()))
    }

    #[test]
    fn dormant_reactivation_fires_and_small_does_not() {
        let me = side(Some("Ruhend"), Some("DE89370400440532013000"));
        let mut txs: Vec<Transaction> = vec![tx("a", me.clone(), cp(1), -5_000, 0)];
        txs.push(tx("b", me.clone(), cp(2), 400_000, 200));
        txs.push(tx("c", me.clone(), cp(3), -390_000, 205));
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        let d: Vec<&Finding> = f
            .iter()
            .filter(|x| x.rule == "dormant_reactivation")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].tx_indices, vec![1, 2]);
        assert!(
            d[0].explanation_de.contains("nach 200 Tagen ohne Umsatz"),
            "{}",
            d[0].explanation_de
        );
        // only 1,000 € after the silence
        txs[1].amount = gs_types::Money(50_000);
        txs[2].amount = gs_types::Money(-50_000);
        assert!(
            run_with(&txs, &RulePack::default_pack(), run)
                .1
                .iter()
                .all(|x| x.rule != "dormant_reactivation")
        );
    }

    #[test]
    fn counterparty_jump_fires_and_steady_does_not() {
        let me = side(Some("Sprung"), Some("DE89370400440532013000"));
        let mut txs = Vec::new();
        for m in 0..4u32 {
            for k in 0..2u32 {
                txs.push(tx(
                    &format!("h{m}{k}"),
                    me.clone(),
                    cp(k),
                    -10_000,
                    m * 30 + k,
                ));
            }
        }
        let steady = txs.clone();
        for k in 0..15u32 {
            txs.push(tx(
                &format!("j{k}"),
                me.clone(),
                cp(100 + k),
                -10_000,
                125 + k % 5,
            ));
        }
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        let j: Vec<&Finding> = f.iter().filter(|x| x.rule == "behaviour_jump").collect();
        assert_eq!(j.len(), 1, "{f:?}");
        assert_eq!(j[0].params["counterparties"], "15");
        assert!(
            run_with(&steady, &RulePack::default_pack(), run)
                .1
                .is_empty()
        );
    }
}
