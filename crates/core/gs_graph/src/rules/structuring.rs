//! Rule 1 — structuring / smurfing: repeated amounts just below a reporting or identification
//! threshold within a rolling window, per account.
//!
//! Parameters per band (see `assets/rules/default.toml`): `lower_eur ≤ amount < threshold_eur`,
//! `channels`, `direction`, at least `min_count` such transactions with all of them inside some
//! `window_days`-day window. Overlapping qualifying windows form one finding (a cluster); a gap
//! longer than the window starts a new one. Score: `weight × (1 − 0.5^(count / min_count))`.

use gs_types::Channel;
use rayon::prelude::*;

use super::{Band, Ctx, Direction, Finding, saturating, window_starts};
use crate::resolve::PartyId;
use crate::util::{self, eur_de, eur_en};

fn wording(channels: &[Channel]) -> (&'static str, &'static str) {
    let cash = |c: &Channel| matches!(c, Channel::CashDeposit | Channel::CashWithdrawal);
    match channels {
        [Channel::CashDeposit] => ("Bareinzahlungen", "cash deposits"),
        [Channel::CashWithdrawal] => ("Barabhebungen", "cash withdrawals"),
        c if !c.is_empty() && c.iter().all(cash) => ("Bartransaktionen", "cash transactions"),
        c if !c.is_empty()
            && c.iter()
                .all(|x| matches!(x, Channel::Transfer | Channel::Unknown)) =>
        {
            ("Überweisungen", "transfers")
        }
        _ => ("Zahlungen", "payments"),
    }
}

fn candidates(ctx: &Ctx<'_>, p: PartyId, b: &Band) -> Vec<u32> {
    let lo = b.lower_eur.saturating_mul(100);
    let hi = b.threshold_eur.saturating_mul(100);
    let ok = |i: &u32| {
        let c = ctx.cents(*i);
        c >= lo && c < hi && (b.channels.is_empty() || b.channels.contains(&ctx.channel(*i)))
    };
    let mut v: Vec<u32> = Vec::new();
    if matches!(b.direction, Direction::In | Direction::Both) {
        v.extend(ctx.ins(p).into_iter().filter(ok));
    }
    if matches!(b.direction, Direction::Out | Direction::Both) {
        v.extend(ctx.outs(p).into_iter().filter(ok));
    }
    v.sort_unstable_by_key(|&i| ctx.rank(i));
    v.dedup();
    v
}

fn band_findings(ctx: &Ctx<'_>, p: PartyId, b: &Band) -> Vec<Finding> {
    let v = candidates(ctx, p, b);
    if v.len() < b.min_count {
        return Vec::new();
    }
    let dates: Vec<_> = v.iter().map(|&i| ctx.date(i)).collect();
    let starts = window_starts(&dates, b.window_days);
    // mark every transaction that lies in a qualifying window (difference array)
    let mut cover = vec![0i32; v.len() + 1];
    for (r, &l) in starts.iter().enumerate() {
        if r + 1 - l >= b.min_count {
            cover[l] += 1;
            cover[r + 1] -= 1;
        }
    }
    let mut out = Vec::new();
    let mut run: Vec<u32> = Vec::new();
    let mut level = 0;
    let flush = |run: &mut Vec<u32>, out: &mut Vec<Finding>| {
        if run.len() >= b.min_count {
            out.push(make(ctx, p, b, std::mem::take(run)));
        }
        run.clear();
    };
    for (k, &i) in v.iter().enumerate() {
        level += cover[k];
        if level > 0 {
            if let Some(&last) = run.last()
                && util::days(ctx.date(last), ctx.date(i)) >= b.window_days
            {
                flush(&mut run, &mut out);
            }
            run.push(i);
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn make(ctx: &Ctx<'_>, p: PartyId, b: &Band, txs: Vec<u32>) -> Finding {
    let n = txs.len();
    let sum: i64 = txs
        .iter()
        .map(|&i| ctx.cents(i))
        .fold(0i64, i64::saturating_add);
    let min = txs.iter().map(|&i| ctx.cents(i)).min().unwrap_or(0);
    let max = txs.iter().map(|&i| ctx.cents(i)).max().unwrap_or(0);
    let first = txs.iter().map(|&i| ctx.date(i)).min().unwrap_or_default();
    let last = txs.iter().map(|&i| ctx.date(i)).max().unwrap_or_default();
    let span = util::days(first, last) + 1;
    let (wde, wen) = wording(&b.channels);
    let thr = b.threshold_eur.saturating_mul(100);
    let de = format!(
        "{n} {wde} zwischen {} und {} in {span} Tagen, Summe {} — knapp unter der Schwelle von {} (Konto {}, {} bis {}).",
        eur_de(min),
        eur_de(max),
        eur_de(sum),
        eur_de(thr),
        ctx.name(p),
        util::date_de(first),
        util::date_de(last),
    );
    let en = format!(
        "{n} {wen} between {} and {} within {span} days, total {} — just below the {} threshold (account {}, {} to {}).",
        eur_en(min),
        eur_en(max),
        eur_en(sum),
        eur_en(thr),
        ctx.name(p),
        util::date_en(first),
        util::date_en(last),
    );
    let related: Vec<PartyId> = txs
        .iter()
        .map(|&i| {
            if ctx.payer(i) == p {
                ctx.payee(i)
            } else {
                ctx.payer(i)
            }
        })
        .collect();
    let score = ctx.pack.structuring.weight * saturating(n as f64, b.min_count as f64);
    ctx.finding(
        "structuring",
        &b.id,
        score,
        vec![p],
        related,
        txs,
        vec![
            ("band", b.id.clone()),
            ("threshold_eur", b.threshold_eur.to_string()),
            ("lower_eur", b.lower_eur.to_string()),
            ("min_count", b.min_count.to_string()),
            ("window_days", b.window_days.to_string()),
            ("count", n.to_string()),
            ("span_days", span.to_string()),
            ("sum_cents", sum.to_string()),
        ],
        de,
        en,
    )
}

/// Runs the rule.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let parties = ctx.real_parties();
    let mut out = Vec::new();
    for b in &ctx.pack.structuring.bands {
        let found: Vec<Vec<Finding>> = parties
            .par_iter()
            .map(|&p| band_findings(ctx, p, b))
            .collect();
        out.extend(found.into_iter().flatten());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{side, tx};
    use crate::rules::RulePack;
    use crate::rules::tests::run_with;
    use gs_types::{PartyRef, Transaction};

    fn deposit(id: &str, cents: i64, day: u32) -> Transaction {
        let mut t = tx(
            id,
            side(Some("Konto Inhaber"), Some("DE89370400440532013000")),
            PartyRef::default(),
            cents,
            day,
        );
        t.channel = Channel::CashDeposit;
        t
    }

    #[test]
    fn fourteen_deposits_below_10000_fire_with_numbers() {
        let amounts = [
            900_000, 950_000, 999_000, 920_000, 980_000, 990_000, 910_000, 940_000, 960_000,
            999_000, 930_000, 970_000, 985_000, 990_000,
        ];
        let txs: Vec<Transaction> = amounts
            .iter()
            .enumerate()
            .map(|(k, a)| deposit(&format!("t{k}"), *a, (k as u32 * 11) / 14))
            .collect();
        let (p, f) = run_with(&txs, &RulePack::default_pack(), run);
        let f: Vec<&Finding> = f
            .iter()
            .filter(|x| x.variant == "cash_below_10000")
            .collect();
        assert_eq!(f.len(), 1);
        let sum: i64 = amounts.iter().sum();
        assert_eq!(sum, 13_423_000);
        assert_eq!(f[0].tx_indices.len(), 14);
        assert!(
            f[0].explanation_de.starts_with(
                "14 Bareinzahlungen zwischen 9.000 € und 9.990 € in 11 Tagen, Summe 134.230 €"
            ),
            "{}",
            f[0].explanation_de
        );
        assert!(
            f[0].explanation_en.starts_with(
                "14 cash deposits between €9,000 and €9,990 within 11 days, total €134,230"
            ),
            "{}",
            f[0].explanation_en
        );
        assert_eq!(
            p.get(f[0].parties[0]).unwrap().display_name,
            "Konto Inhaber"
        );
        assert!(f[0].score > 0.9);
        assert_eq!(f[0].params["count"], "14");
    }

    #[test]
    fn near_misses_do_not_fire() {
        let pack = RulePack::default_pack();
        // 9 deposits of 9,500 € spread over 3 months (window 30 days, 4 needed)
        let spread: Vec<Transaction> = (0..9)
            .map(|k| deposit(&format!("s{k}"), 950_000, k * 11))
            .collect();
        let (_, f) = run_with(&spread, &pack, run);
        assert!(f.is_empty(), "{f:?}");
        // 10,000 € exactly is not below the threshold; 8,999 € below the band
        let at: Vec<Transaction> = (0..6)
            .map(|k| {
                deposit(
                    &format!("a{k}"),
                    if k % 2 == 0 { 1_000_000 } else { 899_900 },
                    k,
                )
            })
            .collect();
        assert!(run_with(&at, &pack, run).1.is_empty());
        // transfers in the cash band do not count as cash
        let mut tr: Vec<Transaction> = (0..6)
            .map(|k| deposit(&format!("b{k}"), 950_000, k))
            .collect();
        for t in &mut tr {
            t.channel = Channel::Transfer;
        }
        assert!(
            run_with(&tr, &pack, run)
                .1
                .iter()
                .all(|x| x.variant != "cash_below_10000")
        );
    }

    #[test]
    fn separate_bursts_are_separate_findings() {
        let mut txs: Vec<Transaction> = (0..4)
            .map(|k| deposit(&format!("x{k}"), 950_000, k))
            .collect();
        txs.extend((0..4).map(|k| deposit(&format!("y{k}"), 950_000, 100 + k)));
        let (_, f) = run_with(&txs, &RulePack::default_pack(), run);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|x| x.tx_indices.len() == 4));
        assert_ne!(f[0].id, f[1].id);
    }
}
