//! Rule 2 — many small donors → one account (crowdfunding-style fan-in).
//!
//! Per receiving party: payments of at most `max_amount_eur` on the pack's `channels` (cash
//! never: cash has no payer identity), the `window_days` window with the most distinct payers. Fires when that
//! window has ≥ `min_payers` distinct payers and the median payment is ≤ `max_median_eur`.
//! Then the out-flow from the window's start to `follow_days` after its end is measured:
//! its share of the collected sum, the part taken as cash and the part sent abroad (payee
//! account country ≠ `home_country`). Score: `s = 1 − 0.5^(payers / min_payers)`; when the
//! out-flow share ≥ `follow_share`, `s = 1 − (1 − s) × 0.5`; times `weight`.

use std::collections::HashMap;
use std::fmt::Write as _;

use gs_types::Channel;
use rayon::prelude::*;

use super::{Ctx, Finding, saturating, window_starts};
use crate::resolve::PartyId;
use crate::util::{self, eur_de, eur_en, pct};

fn for_party(ctx: &Ctx<'_>, p: PartyId) -> Option<Finding> {
    let prm = &ctx.pack.small_donors;
    let max_amt = prm.max_amount_eur.saturating_mul(100);
    let v: Vec<u32> = ctx
        .ins(p)
        .into_iter()
        .filter(|&i| {
            ctx.cents(i) <= max_amt
                && ctx.channel_in(i, &prm.channels)
                && !matches!(
                    ctx.channel(i),
                    Channel::CashDeposit | Channel::CashWithdrawal
                )
                && !ctx.special(ctx.payer(i))
        })
        .collect();
    if v.len() < prm.min_payers {
        return None;
    }
    let dates: Vec<_> = v.iter().map(|&i| ctx.date(i)).collect();
    let starts = window_starts(&dates, prm.window_days.max(1));
    // sliding distinct-payer count
    let mut counts: HashMap<PartyId, u32> = HashMap::new();
    let mut l = 0usize;
    let mut best: Option<(usize, usize, usize)> = None; // (distinct, l, r)
    for (r, &i) in v.iter().enumerate() {
        *counts.entry(ctx.payer(i)).or_default() += 1;
        let nl = starts.get(r).copied().unwrap_or(0);
        while l < nl {
            if let Some(j) = v.get(l) {
                let k = ctx.payer(*j);
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
    let (distinct, l, r) = best?;
    if distinct < prm.min_payers {
        return None;
    }
    let window: Vec<u32> = v.get(l..=r)?.to_vec();
    let mut amts: Vec<i64> = window.iter().map(|&i| ctx.cents(i)).collect();
    let median = util::median_cents(&mut amts);
    if median > prm.max_median_eur.saturating_mul(100) {
        return None;
    }
    let collected: i64 = window
        .iter()
        .map(|&i| ctx.cents(i))
        .fold(0, i64::saturating_add);
    let (first, last) = (dates.get(l).copied()?, dates.get(r).copied()?);
    let follow_end = util::add_days(last, prm.follow_days);
    let outs: Vec<u32> = ctx
        .outs(p)
        .into_iter()
        .filter(|&i| {
            let d = ctx.date(i);
            d >= first && d <= follow_end
        })
        .collect();
    let out_sum: i64 = outs
        .iter()
        .map(|&i| ctx.cents(i))
        .fold(0, i64::saturating_add);
    let cash_out: i64 = outs
        .iter()
        .filter(|&&i| ctx.channel(i) == Channel::CashWithdrawal)
        .map(|&i| ctx.cents(i))
        .fold(0, i64::saturating_add);
    let abroad: i64 = outs
        .iter()
        .filter(|&&i| {
            ctx.parties.get(ctx.payee(i)).is_some_and(|q| {
                !q.account_countries.is_empty()
                    && !q.account_countries.contains(&ctx.pack.home_country)
            })
        })
        .map(|&i| ctx.cents(i))
        .fold(0, i64::saturating_add);
    let share = if collected > 0 {
        out_sum as f64 / collected as f64
    } else {
        0.0
    };
    let mut score = saturating(distinct as f64, prm.min_payers as f64);
    let follows = share >= prm.follow_share && out_sum > 0;
    if follows {
        score = 1.0 - (1.0 - score) * 0.5;
    }
    score *= prm.weight;
    let span = util::days(first, last) + 1;
    let name = ctx.name(p);
    let mut de = format!(
        "{distinct} verschiedene Einzahler überwiesen {} Beträge bis {} (Median {}) in {span} Tagen an {name}, Summe {}.",
        window.len(),
        eur_de(max_amt),
        eur_de(median),
        eur_de(collected)
    );
    let mut en = format!(
        "{distinct} distinct payers sent {} payments of at most {} (median {}) within {span} days to {name}, total {}.",
        window.len(),
        eur_en(max_amt),
        eur_en(median),
        eur_en(collected)
    );
    if follows {
        let _ = write!(
            de,
            " Bis {} Tage danach flossen {} ({} %) wieder ab, davon {} bar und {} ins Ausland.",
            prm.follow_days,
            eur_de(out_sum),
            pct(share),
            eur_de(cash_out),
            eur_de(abroad)
        );
        let _ = write!(
            en,
            " Within {} days after, {} ({} %) left again, of which {} as cash and {} abroad.",
            prm.follow_days,
            eur_en(out_sum),
            pct(share),
            eur_en(cash_out),
            eur_en(abroad)
        );
    }
    let related: Vec<PartyId> = window
        .iter()
        .map(|&i| ctx.payer(i))
        .chain(outs.iter().map(|&i| ctx.payee(i)))
        .collect();
    let mut txs = window;
    if follows {
        txs.extend(outs);
    }
    Some(ctx.finding(
        "small_donors",
        "",
        score,
        vec![p],
        related,
        txs,
        vec![
            ("min_payers", prm.min_payers.to_string()),
            ("max_amount_eur", prm.max_amount_eur.to_string()),
            ("max_median_eur", prm.max_median_eur.to_string()),
            ("window_days", prm.window_days.to_string()),
            ("distinct_payers", distinct.to_string()),
            ("median_cents", median.to_string()),
            ("collected_cents", collected.to_string()),
            ("outflow_cents", out_sum.to_string()),
            ("outflow_share", format!("{share:.3}")),
            ("cash_out_cents", cash_out.to_string()),
            ("abroad_cents", abroad.to_string()),
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
    use gs_types::{Iban, Transaction};

    const TARGET: &str = "DE89370400440532013000";

    fn donors(n: u32, cents: i64) -> Vec<Transaction> {
        (0..n)
            .map(|k| {
                let iban = Iban::from_german_account("10000000", &format!("{}", 1000 + k)).unwrap();
                tx(
                    &format!("d{k}"),
                    side(Some("Verein"), Some(TARGET)),
                    side(Some(&format!("Spender {k}")), Some(iban.as_str())),
                    cents,
                    k % 20,
                )
            })
            .collect()
    }

    #[test]
    fn donors_then_transfer_abroad_fire() {
        let mut txs = donors(25, 5_000);
        // collected 1,250 €; 1,200 € sent to a Turkish account 3 days after the window
        txs.push(tx(
            "out",
            side(Some("Verein"), Some(TARGET)),
            side(Some("X"), Some("TR330006100519786457841326")),
            -120_000,
            22,
        ));
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].params["distinct_payers"], "25");
        assert_eq!(f[0].params["abroad_cents"], "120000");
        assert_eq!(f[0].tx_indices.len(), 26);
        assert!(
            f[0].explanation_de.contains("25 verschiedene Einzahler"),
            "{}",
            f[0].explanation_de
        );
        assert!(
            f[0].explanation_en.contains("€1,200 (96 %) left again"),
            "{}",
            f[0].explanation_en
        );
        assert!(f[0].score > 0.75);
    }

    #[test]
    fn near_misses_do_not_fire() {
        let pack = RulePack::default_pack();
        // donors above the small-amount threshold
        assert!(run_with(&donors(25, 60_000), &pack, run).1.is_empty());
        // too few donors
        assert!(run_with(&donors(19, 5_000), &pack, run).1.is_empty());
        // many payments from ONE payer are not many donors
        let one: Vec<Transaction> = (0..30)
            .map(|k| {
                tx(
                    &format!("o{k}"),
                    side(Some("V"), Some(TARGET)),
                    side(Some("P"), Some("DE02120300000000202051")),
                    5_000,
                    k,
                )
            })
            .collect();
        assert!(run_with(&one, &pack, run).1.is_empty());
        // 25 small card payments (a shop) or direct debits (a gym) are not donations
        for ch in [Channel::Card, Channel::DirectDebit] {
            let mut shop = donors(25, 5_000);
            for t in &mut shop {
                t.channel = ch;
            }
            assert!(run_with(&shop, &pack, run).1.is_empty(), "{ch:?}");
        }
        // without out-flow it fires with a lower score
        let (_, f) = run_with(&donors(25, 5_000), &pack, run);
        assert_eq!(f.len(), 1);
        assert!(f[0].score < 0.75);
    }
}
