//! Feature extraction: one row per scored transaction and one row per party, computed in plain
//! Rust over date-sorted per-party vectors (the crate docs say why not Polars).
//!
//! Canonical row order: booking date, then `tx_id`, then input index. Everything that depends
//! on "before" (first payment to a payee, windows, gaps) uses this order, so the matrix does not
//! depend on the order of the input slice.

use std::collections::{HashSet, VecDeque};

use gs_graph::{Analysis, PartyKind};
use gs_types::chrono::{Datelike, NaiveDate, Timelike};
use gs_types::{Channel, PartyRef, Transaction};
use rayon::prelude::*;
use serde::Serialize;

/// How a feature's raw value reads in an explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// `ln(1 + euros)`.
    LogEuros,
    /// `ln((amount + 1) / (typical + 1))`: a factor.
    LogRatio,
    /// A z-score.
    ZScore,
    /// `ln(1 + count)`.
    LogCount,
    /// `ln(1 + days)`.
    LogDays,
    /// A share in 0..=1.
    Share,
    /// 0 or 1.
    Flag,
    /// A dimensionless number (trailing zeros, burstiness, closeness).
    Number,
    /// Cyclic encoding (sin or cos).
    Cyclic,
}

/// One feature column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FeatureDef {
    /// Column name.
    pub name: &'static str,
    /// What it measures (English; the crate docs hold the table).
    pub description: &'static str,
    /// German label used in explanations.
    #[serde(skip)]
    pub label_de: &'static str,
    /// English label used in explanations.
    #[serde(skip)]
    pub label_en: &'static str,
    /// How the raw value reads.
    #[serde(skip)]
    pub kind: FeatureKind,
}

macro_rules! features {
    ($(#[$meta:meta])* $konst:ident, $enum:ident {
        $($name:ident: $kind:ident, $de:literal, $en:literal, $desc:literal;)*
    }) => {
        $(#[$meta])*
        pub const $konst: &[FeatureDef] = &[$(FeatureDef {
            name: stringify!($name),
            description: $desc,
            label_de: $de,
            label_en: $en,
            kind: FeatureKind::$kind,
        }),*];

        #[doc = concat!("Column indices of [`", stringify!($konst), "`].")]
        #[allow(non_camel_case_types, dead_code)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        pub(crate) enum $enum { $($name),* }
    };
}

features! {
    /// Transaction feature columns, in matrix order.
    FEATURES, F {
        log_amount: LogEuros, "Betrag", "amount",
            "ln(1 + amount in euros)";
        amount_vs_payer: LogRatio, "Betrag im Vergleich zum Üblichen des Kontos", "amount against the account's usual",
            "ln((amount + 1) / (payer's median outgoing amount + 1)), euros";
        amount_vs_payee: LogRatio, "Betrag im Vergleich zum Üblichen beim Empfänger", "amount against the payee's usual",
            "ln((amount + 1) / (payee's median incoming amount + 1)), euros";
        amount_z_payer: ZScore, "Betrag (z-Wert beim Konto)", "amount (z-score for the account)",
            "z-score of ln(amount) among the payer's outgoing amounts (0 with fewer than 3)";
        amount_z_payee: ZScore, "Betrag (z-Wert beim Empfänger)", "amount (z-score for the payee)",
            "z-score of ln(amount) among the payee's incoming amounts (0 with fewer than 3)";
        roundness: Number, "Rundheit des Betrags", "roundness of the amount",
            "trailing zeros of the amount in cents, capped at 8 (4 = multiple of 100 €)";
        below_threshold: Number, "knapp unter einer Meldeschwelle", "just below a threshold",
            "max over 1,000 / 2,500 / 10,000 / 15,000 € of 1 − (threshold − amount) / (10 % of threshold) inside the 10 % band below, else 0";
        weekday_sin: Cyclic, "Wochentag", "weekday",
            "sin(2π · weekday / 7), Monday = 0";
        weekday_cos: Cyclic, "Wochentag", "weekday",
            "cos(2π · weekday / 7)";
        hour_sin: Cyclic, "Uhrzeit", "time of day",
            "sin(2π · hour / 24) when the evidence has a time, else 0";
        hour_cos: Cyclic, "Uhrzeit", "time of day",
            "cos(2π · hour / 24) when the evidence has a time, else 0 (unknown = the circle's centre)";
        log_days_since_prev: LogDays, "Abstand zur vorigen Zahlung des Kontos", "gap since the account's previous payment",
            "ln(1 + days since the payer's previous outgoing transaction); 365 days for the first";
        new_counterparty: Flag, "erste Zahlung an diesen Empfänger", "first payment to this payee",
            "1 when the payer pays this payee for the first time in the case";
        cross_border: Flag, "grenzüberschreitend", "cross-border",
            "1 when the payer's and payee's account countries (IBAN, else BIC, else the party's) are known and differ";
        ch_cash: Flag, "Kanal Bargeld", "channel cash",
            "channel is a cash deposit or withdrawal";
        ch_transfer: Flag, "Kanal Überweisung", "channel transfer",
            "channel is a transfer or standing order";
        ch_card: Flag, "Kanal Karte", "channel card",
            "channel is a card payment";
        ch_debit: Flag, "Kanal Lastschrift", "channel direct debit",
            "channel is a direct debit";
        ch_other: Flag, "Kanal sonstiges", "channel other",
            "channel is a fee or unknown";
        payer_out_1d: LogCount, "Zahlungen des Kontos am selben Tag davor", "account's payments earlier the same day",
            "ln(1 + payer's outgoing transactions earlier on the same day)";
        payer_out_7d: LogCount, "Zahlungen des Kontos in den 7 Tagen davor", "account's payments in the 7 days before",
            "ln(1 + payer's outgoing transactions in the 7 days up to this one)";
        payer_out_30d: LogCount, "Zahlungen des Kontos in den 30 Tagen davor", "account's payments in the 30 days before",
            "ln(1 + payer's outgoing transactions in the 30 days up to this one)";
        payer_outvol_30d: LogEuros, "Abflüsse des Kontos in den 30 Tagen davor", "account's outflow in the 30 days before",
            "ln(1 + payer's outgoing euros in the 30 days up to this one)";
        payee_in_1d: LogCount, "Eingänge beim Empfänger am selben Tag davor", "payee's receipts earlier the same day",
            "ln(1 + payee's incoming transactions earlier on the same day)";
        payee_in_7d: LogCount, "Eingänge beim Empfänger in den 7 Tagen davor", "payee's receipts in the 7 days before",
            "ln(1 + payee's incoming transactions in the 7 days up to this one)";
        payee_in_30d: LogCount, "Eingänge beim Empfänger in den 30 Tagen davor", "payee's receipts in the 30 days before",
            "ln(1 + payee's incoming transactions in the 30 days up to this one)";
        payee_invol_30d: LogEuros, "Zuflüsse beim Empfänger in den 30 Tagen davor", "payee's inflow in the 30 days before",
            "ln(1 + payee's incoming euros in the 30 days up to this one)";
        payer_counterparties: LogCount, "Gegenparteien des Kontos", "account's counterparties",
            "ln(1 + payer's distinct payers + distinct payees), from the graph measures";
        payee_counterparties: LogCount, "Gegenparteien des Empfängers", "payee's counterparties",
            "ln(1 + payee's distinct payers + distinct payees)";
        payer_cash_share: Share, "Bargeldanteil des Kontos", "account's cash share",
            "share of the payer's volume (in + out) that is cash";
        payee_cash_share: Share, "Bargeldanteil des Empfängers", "payee's cash share",
            "share of the payee's volume (in + out) that is cash";
        payer_pass_through: Share, "Durchleitung beim Konto", "pass-through at the account",
            "share of the payer's inflow that left again within 7 days (FIFO matching)";
        payee_pass_through: Share, "Durchleitung beim Empfänger", "pass-through at the payee",
            "share of the payee's inflow that left again within 7 days (FIFO matching)";
        payer_burstiness: Number, "Schubweise Aktivität des Kontos", "bursty activity of the account",
            "(σ − μ)/(σ + μ) of the payer's gaps between bookings in days (−1 regular … 1 bursty; 0 with fewer than 3 bookings)";
        payee_burstiness: Number, "Schubweise Aktivität des Empfängers", "bursty activity of the payee",
            "(σ − μ)/(σ + μ) of the payee's gaps between bookings";
        payer_in_cycle: Flag, "Konto in einem Geldkreislauf", "account in a money cycle",
            "1 when a `cycle` finding names the payer";
        payee_in_cycle: Flag, "Empfänger in einem Geldkreislauf", "payee in a money cycle",
            "1 when a `cycle` finding names the payee";
        payer_pagerank: Number, "Zentralität des Kontos (PageRank)", "account's centrality (PageRank)",
            "ln(1 + PageRank × number of parties) of the payer (1 = average)";
        payee_pagerank: Number, "Zentralität des Empfängers (PageRank)", "payee's centrality (PageRank)",
            "ln(1 + PageRank × number of parties) of the payee";
        payer_betweenness: Number, "Vermittlerrolle des Kontos (Betweenness)", "account's broker role (betweenness)",
            "ln(1 + betweenness) of the payer";
        payee_betweenness: Number, "Vermittlerrolle des Empfängers (Betweenness)", "payee's broker role (betweenness)",
            "ln(1 + betweenness) of the payee";
        payer_core: Number, "k-Core des Kontos", "account's k-core",
            "ln(1 + k-core number) of the payer";
        payee_core: Number, "k-Core des Empfängers", "payee's k-core",
            "ln(1 + k-core number) of the payee";
        payer_nb_in_pass: Share, "Durchleitung bei den Absendern des Kontos", "pass-through at the account's senders",
            "mean pass-through share of the parties that paid the payer (message passing along incoming edges)";
        payer_nb_in_cash: Share, "Bargeldanteil bei den Absendern des Kontos", "cash share at the account's senders",
            "mean cash share of the parties that paid the payer";
        payee_nb_out_pass: Share, "Durchleitung bei den Empfängern des Empfängers", "pass-through at the payee's payees",
            "mean pass-through share of the parties the payee paid (message passing along outgoing edges)";
        payee_nb_out_cash: Share, "Bargeldanteil bei den Empfängern des Empfängers", "cash share at the payee's payees",
            "mean cash share of the parties the payee paid";
        payer_nb_pass_max: Share, "höchste Durchleitung unter den Gegenparteien des Kontos", "highest pass-through among the account's counterparties",
            "max pass-through share over the payer's counterparties (both directions)";
        payee_nb_pass_max: Share, "höchste Durchleitung unter den Gegenparteien des Empfängers", "highest pass-through among the payee's counterparties",
            "max pass-through share over the payee's counterparties (both directions)";
        payer_nb_degree: LogCount, "Vernetzung der Gegenparteien des Kontos", "connectedness of the account's counterparties",
            "mean ln(1 + distinct counterparties) of the payer's counterparties";
        payee_nb_degree: LogCount, "Vernetzung der Gegenparteien des Empfängers", "connectedness of the payee's counterparties",
            "mean ln(1 + distinct counterparties) of the payee's counterparties";
    }
}

features! {
    /// Party feature columns (input of the supervised head, with the model score and the rule
    /// risk appended), in matrix order.
    PARTY_FEATURES, P {
        out_degree: LogCount, "Empfänger", "payees",
            "ln(1 + distinct payees)";
        in_degree: LogCount, "Absender", "payers",
            "ln(1 + distinct payers)";
        out_volume: LogEuros, "Abflüsse", "outflow",
            "ln(1 + euros paid)";
        in_volume: LogEuros, "Zuflüsse", "inflow",
            "ln(1 + euros received)";
        transactions: LogCount, "Buchungen", "bookings",
            "ln(1 + scored transactions in + out)";
        cash_share: Share, "Bargeldanteil", "cash share",
            "share of the volume (in + out) that is cash";
        pass_through: Share, "Durchleitung", "pass-through",
            "share of the inflow that left again within 7 days (FIFO)";
        burstiness: Number, "Schubweise Aktivität", "burstiness",
            "(σ − μ)/(σ + μ) of the gaps between bookings";
        in_cycle: Flag, "in einem Geldkreislauf", "in a money cycle",
            "1 when a `cycle` finding names the party";
        pagerank: Number, "PageRank", "PageRank",
            "ln(1 + PageRank × number of parties)";
        betweenness: Number, "Betweenness", "betweenness",
            "ln(1 + betweenness)";
        core: Number, "k-Core", "k-core",
            "ln(1 + k-core number)";
        nb_in_pass: Share, "Durchleitung bei den Absendern", "pass-through at the senders",
            "mean pass-through share of the parties that paid this one";
        nb_in_cash: Share, "Bargeldanteil bei den Absendern", "cash share at the senders",
            "mean cash share of the parties that paid this one";
        nb_out_pass: Share, "Durchleitung bei den Empfängern", "pass-through at the payees",
            "mean pass-through share of the parties this one paid";
        nb_out_cash: Share, "Bargeldanteil bei den Empfängern", "cash share at the payees",
            "mean cash share of the parties this one paid";
        nb_pass_max: Share, "höchste Durchleitung der Gegenparteien", "highest pass-through of the counterparties",
            "max pass-through share over all counterparties";
        nb_degree: LogCount, "Vernetzung der Gegenparteien", "connectedness of the counterparties",
            "mean ln(1 + distinct counterparties) of the counterparties";
    }
}

/// Number of transaction features.
pub const D: usize = FEATURES.len();
/// Number of party features (before the model score and the rule risk are appended).
pub const DP: usize = PARTY_FEATURES.len();

/// The thresholds of [`F::below_threshold`], in euros.
pub(crate) const THRESHOLDS_EUR: [f64; 4] = [1_000.0, 2_500.0, 10_000.0, 15_000.0];

/// Per-party statistics: inputs of the rows and of the explanations.
#[derive(Clone, Debug, Default)]
pub(crate) struct PartyStats {
    /// Median outgoing amount (cents, lower median).
    pub med_out: Vec<i64>,
    /// Median incoming amount (cents).
    pub med_in: Vec<i64>,
    /// Mean and standard deviation of ln(euros) of outgoing amounts (sd 0 with < 3).
    pub log_out: Vec<(f64, f64)>,
    /// Same for incoming amounts.
    pub log_in: Vec<(f64, f64)>,
    /// ln(1 + distinct counterparties).
    pub degree: Vec<f32>,
    pub cash_share: Vec<f32>,
    pub pass: Vec<f32>,
    pub burst: Vec<f32>,
    pub in_cycle: Vec<bool>,
    pub nb_in_pass: Vec<f32>,
    pub nb_in_cash: Vec<f32>,
    pub nb_out_pass: Vec<f32>,
    pub nb_out_cash: Vec<f32>,
    pub nb_pass_max: Vec<f32>,
    pub nb_degree: Vec<f32>,
    /// Scored transactions in + out.
    pub tx_count: Vec<u32>,
    /// Volume out / in (cents).
    pub vol_out: Vec<i64>,
    pub vol_in: Vec<i64>,
}

/// The feature matrices of a case.
#[derive(Clone, Debug)]
pub struct Features {
    /// Input transaction index of each row, in canonical order.
    pub rows: Vec<u32>,
    /// Row-major `rows.len() × D` raw (unscaled) values.
    pub x: Vec<f32>,
    /// Row-major `parties × DP` raw values.
    pub party_x: Vec<f32>,
    /// Per row: the payer has no earlier outgoing transaction in the case.
    pub(crate) first_out: Vec<bool>,
    pub(crate) stats: PartyStats,
}

/// Whether a transaction is scored: not a mirror (its primary is), not a reversal (a Storno
/// undoes a booking), amount ≠ 0. The same set the rules use.
pub fn scored(t: &Transaction) -> bool {
    t.mirror_of.is_none() && !t.reversal && t.amount.cents() != 0
}

fn ln1p(x: f64) -> f32 {
    x.max(0.0).ln_1p() as f32
}

fn flag(b: bool) -> f32 {
    f32::from(u8::from(b))
}

fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

/// Lower median (a value that occurred).
fn median(v: &mut [i64]) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[(v.len() - 1) / 2]
}

/// Mean and population sd of ln(euros); sd = 0 below 3 values.
fn log_moments(cents: &[i64]) -> (f64, f64) {
    if cents.is_empty() {
        return (0.0, 0.0);
    }
    let n = cents.len() as f64;
    let logs = cents.iter().map(|&c| (c as f64 / 100.0).max(0.0).ln_1p());
    let mean = logs.clone().sum::<f64>() / n;
    if cents.len() < 3 {
        return (mean, 0.0);
    }
    let var = logs.map(|l| (l - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// A side's account country: IBAN prefix, else BIC country.
pub(crate) fn ref_country(r: &PartyRef) -> Option<&str> {
    if let Some(i) = r.iban.as_deref()
        && i.len() >= 2
        && i.as_bytes()[..2].iter().all(u8::is_ascii_uppercase)
    {
        return Some(&i[..2]);
    }
    r.bic.as_deref().and_then(gs_types::iban::bic_country)
}

/// Per-party transaction lists (indices into `txs`, canonical order) with day numbers and
/// prefix sums of cents for O(log n) windows.
struct Lists {
    idx: Vec<Vec<u32>>,
    day: Vec<Vec<i64>>,
    prefix: Vec<Vec<i64>>,
}

impl Lists {
    fn new(np: usize) -> Self {
        Self {
            idx: vec![Vec::new(); np],
            day: vec![Vec::new(); np],
            prefix: vec![vec![0]; np],
        }
    }

    fn push(&mut self, p: usize, i: u32, day: i64, cents: i64) {
        let Some(list) = self.idx.get_mut(p) else {
            return;
        };
        list.push(i);
        self.day[p].push(day);
        let last = self.prefix[p].last().copied().unwrap_or(0);
        self.prefix[p].push(last.saturating_add(cents));
    }

    /// Entries at positions `< k` of party `p` within `window_days` of position `k`'s day
    /// (window 1 = the same day), and their volume in cents.
    fn window_before(&self, p: usize, k: usize, window_days: i64) -> (usize, i64) {
        let days = &self.day[p];
        let Some(&d) = days.get(k) else {
            return (0, 0);
        };
        let from = d - window_days + 1;
        let lo = days[..k].partition_point(|&x| x < from);
        (k - lo, self.prefix[p][k] - self.prefix[p][lo])
    }
}

/// FIFO pass-through share within 7 days and burstiness of one party.
fn flow_stats(txs: &[Transaction], ins: &[u32], outs: &[u32]) -> (f32, f32) {
    let cents = |i: u32| txs[i as usize].amount.cents().saturating_abs();
    let date = |i: u32| txs[i as usize].booking_date;
    // inflows before outflows on the same day: money received in the morning can leave
    let mut ev: Vec<(i64, bool, u32)> = ins
        .iter()
        .map(|&i| (day_number(date(i)), false, i))
        .chain(outs.iter().map(|&i| (day_number(date(i)), true, i)))
        .collect();
    ev.sort_unstable();
    let mut queue: VecDeque<(i64, i64)> = VecDeque::new();
    let (mut matched, mut inflow) = (0i64, 0i64);
    for &(d, is_out, i) in &ev {
        if !is_out {
            queue.push_back((d, cents(i)));
            inflow = inflow.saturating_add(cents(i));
            continue;
        }
        while queue.front().is_some_and(|&(d0, _)| d - d0 > 7) {
            queue.pop_front();
        }
        let mut need = cents(i);
        while need > 0 {
            let Some(f) = queue.front_mut() else { break };
            let take = need.min(f.1);
            f.1 -= take;
            need -= take;
            matched = matched.saturating_add(take);
            if f.1 == 0 {
                queue.pop_front();
            }
        }
    }
    let pass = if inflow > 0 {
        (matched as f64 / inflow as f64) as f32
    } else {
        0.0
    };
    let gaps: Vec<f64> = ev.windows(2).map(|w| (w[1].0 - w[0].0) as f64).collect();
    let burst = if gaps.len() >= 2 {
        let mu = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mu).powi(2)).sum::<f64>() / gaps.len() as f64;
        let sd = var.sqrt();
        if sd + mu > 0.0 {
            ((sd - mu) / (sd + mu)) as f32
        } else {
            // every booking on the same day: as bursty as it gets
            1.0
        }
    } else {
        0.0
    };
    (pass, burst)
}

/// One party's statistics, before message passing.
struct Per {
    med_out: i64,
    med_in: i64,
    log_out: (f64, f64),
    log_in: (f64, f64),
    vol_out: i64,
    vol_in: i64,
    cash: f32,
    pass: f32,
    burst: f32,
}

/// Computes the transaction and party feature matrices.
pub fn extract(txs: &[Transaction], a: &Analysis) -> Features {
    let np = a.parties.parties.len();
    let payer = |i: u32| a.parties.tx_payer[i as usize].idx();
    let payee = |i: u32| a.parties.tx_payee[i as usize].idx();
    let cents = |i: u32| txs[i as usize].amount.cents().saturating_abs();
    let is_cash = |i: u32| {
        matches!(
            txs[i as usize].channel,
            Channel::CashDeposit | Channel::CashWithdrawal
        )
    };
    let mut order: Vec<u32> = (0..txs.len() as u32)
        .filter(|&i| scored(&txs[i as usize]))
        .collect();
    order.sort_by(|&x, &y| {
        let (tx, ty) = (&txs[x as usize], &txs[y as usize]);
        tx.booking_date
            .cmp(&ty.booking_date)
            .then_with(|| tx.tx_id.0.cmp(&ty.tx_id.0))
            .then(x.cmp(&y))
    });
    let mut outs = Lists::new(np);
    let mut ins = Lists::new(np);
    // position of each transaction in its payer's out-list and its payee's in-list
    let mut pos_out = vec![0u32; txs.len()];
    let mut pos_in = vec![0u32; txs.len()];
    for &i in &order {
        let d = day_number(txs[i as usize].booking_date);
        let (p, q) = (payer(i), payee(i));
        pos_out[i as usize] = outs.idx.get(p).map_or(0, Vec::len) as u32;
        outs.push(p, i, d, cents(i));
        pos_in[i as usize] = ins.idx.get(q).map_or(0, Vec::len) as u32;
        ins.push(q, i, d, cents(i));
    }
    let special: Vec<bool> = a
        .parties
        .parties
        .iter()
        .map(|p| matches!(p.kind, PartyKind::Cash | PartyKind::Unknown))
        .collect();

    // party statistics (each closure is sequential; collect keeps the order)
    let per: Vec<Per> = (0..np)
        .into_par_iter()
        .map(|p| {
            let mut o: Vec<i64> = outs.idx[p].iter().map(|&i| cents(i)).collect();
            let mut n: Vec<i64> = ins.idx[p].iter().map(|&i| cents(i)).collect();
            let (vol_out, vol_in) = (
                o.iter().fold(0i64, |s, &c| s.saturating_add(c)),
                n.iter().fold(0i64, |s, &c| s.saturating_add(c)),
            );
            let cash = outs.idx[p]
                .iter()
                .chain(&ins.idx[p])
                .filter(|&&i| is_cash(i))
                .fold(0i64, |s, &i| s.saturating_add(cents(i)));
            let total = vol_out.saturating_add(vol_in).max(1);
            let (log_out, log_in) = (log_moments(&o), log_moments(&n));
            let (pass, burst) = flow_stats(txs, &ins.idx[p], &outs.idx[p]);
            Per {
                med_out: median(&mut o),
                med_in: median(&mut n),
                log_out,
                log_in,
                vol_out,
                vol_in,
                cash: (cash as f64 / total as f64) as f32,
                pass,
                burst,
            }
        })
        .collect();
    let mut st = PartyStats {
        med_out: per.iter().map(|x| x.med_out).collect(),
        med_in: per.iter().map(|x| x.med_in).collect(),
        log_out: per.iter().map(|x| x.log_out).collect(),
        log_in: per.iter().map(|x| x.log_in).collect(),
        vol_out: per.iter().map(|x| x.vol_out).collect(),
        vol_in: per.iter().map(|x| x.vol_in).collect(),
        cash_share: per.iter().map(|x| x.cash).collect(),
        pass: per.iter().map(|x| x.pass).collect(),
        burst: per.iter().map(|x| x.burst).collect(),
        degree: (0..np)
            .map(|p| {
                a.measures
                    .get(p)
                    .map_or(0.0, |m| ln1p(f64::from(m.in_degree + m.out_degree)))
            })
            .collect(),
        in_cycle: vec![false; np],
        tx_count: (0..np)
            .map(|p| (outs.idx[p].len() + ins.idx[p].len()) as u32)
            .collect(),
        ..PartyStats::default()
    };
    for f in a.findings.iter().filter(|f| f.rule == "cycle") {
        for p in &f.parties {
            if let Some(c) = st.in_cycle.get_mut(p.idx()) {
                *c = true;
            }
        }
    }
    // pseudo-parties aggregate unrelated people: their party features carry no signal
    for p in (0..np).filter(|&p| special[p]) {
        st.cash_share[p] = 0.0;
        st.pass[p] = 0.0;
        st.burst[p] = 0.0;
        st.degree[p] = 0.0;
    }
    // one round of message passing over the directed graph, both directions
    let nb: Vec<[f32; 6]> = (0..np)
        .into_par_iter()
        .map(|p| {
            let mut senders: Vec<usize> = ins.idx[p]
                .iter()
                .map(|&i| payer(i))
                .filter(|&c| c != p && !special[c])
                .collect();
            let mut payees: Vec<usize> = outs.idx[p]
                .iter()
                .map(|&i| payee(i))
                .filter(|&c| c != p && !special[c])
                .collect();
            senders.sort_unstable();
            senders.dedup();
            payees.sort_unstable();
            payees.dedup();
            let mean = |v: &[usize], f: &[f32]| {
                if v.is_empty() {
                    0.0
                } else {
                    v.iter().map(|&c| f[c]).sum::<f32>() / v.len() as f32
                }
            };
            let mut all: Vec<usize> = senders.iter().chain(&payees).copied().collect();
            all.sort_unstable();
            all.dedup();
            [
                mean(&senders, &st.pass),
                mean(&senders, &st.cash_share),
                mean(&payees, &st.pass),
                mean(&payees, &st.cash_share),
                all.iter().map(|&c| st.pass[c]).fold(0.0f32, f32::max),
                mean(&all, &st.degree),
            ]
        })
        .collect();
    st.nb_in_pass = nb.iter().map(|v| v[0]).collect();
    st.nb_in_cash = nb.iter().map(|v| v[1]).collect();
    st.nb_out_pass = nb.iter().map(|v| v[2]).collect();
    st.nb_out_cash = nb.iter().map(|v| v[3]).collect();
    st.nb_pass_max = nb.iter().map(|v| v[4]).collect();
    st.nb_degree = nb.iter().map(|v| v[5]).collect();

    // first payment payer → payee, in canonical order
    let mut seen_pairs: HashSet<(usize, usize)> = HashSet::new();
    let mut is_new = vec![false; txs.len()];
    for &i in &order {
        is_new[i as usize] = seen_pairs.insert((payer(i), payee(i)));
    }
    let n_parties = np.max(1) as f64;
    let graph = |p: usize| -> (f32, f32, f32) {
        if special.get(p).copied().unwrap_or(true) {
            return (0.0, 0.0, 0.0);
        }
        a.measures.get(p).map_or((0.0, 0.0, 0.0), |m| {
            (
                ln1p(m.pagerank * n_parties),
                ln1p(m.betweenness),
                ln1p(f64::from(m.core)),
            )
        })
    };
    let country = |p: usize| -> Option<&str> {
        a.parties
            .parties
            .get(p)
            .and_then(|x| x.account_countries.first())
            .map(String::as_str)
    };
    let mut x = vec![0.0f32; order.len() * D];
    x.par_chunks_mut(D)
        .zip(order.par_iter())
        .for_each(|(r, &i)| {
            let t = &txs[i as usize];
            let (pi, qi) = (payer(i), payee(i));
            let c = cents(i);
            let eur = c as f64 / 100.0;
            r[F::log_amount as usize] = ln1p(eur);
            r[F::amount_vs_payer as usize] =
                ((eur + 1.0) / (st.med_out[pi] as f64 / 100.0 + 1.0)).ln() as f32;
            r[F::amount_vs_payee as usize] =
                ((eur + 1.0) / (st.med_in[qi] as f64 / 100.0 + 1.0)).ln() as f32;
            let z = |(mean, sd): (f64, f64)| {
                if sd > 1e-9 {
                    ((eur.ln_1p() - mean) / sd) as f32
                } else {
                    0.0
                }
            };
            r[F::amount_z_payer as usize] = z(st.log_out[pi]);
            r[F::amount_z_payee as usize] = z(st.log_in[qi]);
            r[F::roundness as usize] = trailing_decimal_zeros(c).min(8) as f32;
            r[F::below_threshold as usize] = below_threshold(eur);
            let wd = f64::from(t.booking_date.weekday().num_days_from_monday());
            r[F::weekday_sin as usize] = (std::f64::consts::TAU * wd / 7.0).sin() as f32;
            r[F::weekday_cos as usize] = (std::f64::consts::TAU * wd / 7.0).cos() as f32;
            if let Some(ts) = t.timestamp {
                let h = f64::from(ts.hour()) + f64::from(ts.minute()) / 60.0;
                r[F::hour_sin as usize] = (std::f64::consts::TAU * h / 24.0).sin() as f32;
                r[F::hour_cos as usize] = (std::f64::consts::TAU * h / 24.0).cos() as f32;
            }
            let ko = pos_out[i as usize] as usize;
            let ki = pos_in[i as usize] as usize;
            let gap = if ko > 0 {
                outs.day[pi][ko] - outs.day[pi][ko - 1]
            } else {
                365
            };
            r[F::log_days_since_prev as usize] = ln1p(gap as f64);
            r[F::new_counterparty as usize] = flag(is_new[i as usize]);
            let (pref, qref) = t.payer_payee();
            let pc = ref_country(pref).or_else(|| country(pi));
            let qc = ref_country(qref).or_else(|| country(qi));
            r[F::cross_border as usize] = flag(matches!((pc, qc), (Some(x), Some(y)) if x != y));
            let ch = match t.channel {
                Channel::CashDeposit | Channel::CashWithdrawal => F::ch_cash,
                Channel::Transfer | Channel::StandingOrder => F::ch_transfer,
                Channel::Card => F::ch_card,
                Channel::DirectDebit => F::ch_debit,
                Channel::Fee | Channel::Unknown => F::ch_other,
            };
            r[ch as usize] = 1.0;
            r[F::payer_out_1d as usize] = ln1p(outs.window_before(pi, ko, 1).0 as f64);
            r[F::payer_out_7d as usize] = ln1p(outs.window_before(pi, ko, 7).0 as f64);
            let (n30, v30) = outs.window_before(pi, ko, 30);
            r[F::payer_out_30d as usize] = ln1p(n30 as f64);
            r[F::payer_outvol_30d as usize] = ln1p(v30 as f64 / 100.0);
            r[F::payee_in_1d as usize] = ln1p(ins.window_before(qi, ki, 1).0 as f64);
            r[F::payee_in_7d as usize] = ln1p(ins.window_before(qi, ki, 7).0 as f64);
            let (n30, v30) = ins.window_before(qi, ki, 30);
            r[F::payee_in_30d as usize] = ln1p(n30 as f64);
            r[F::payee_invol_30d as usize] = ln1p(v30 as f64 / 100.0);
            r[F::payer_counterparties as usize] = st.degree[pi];
            r[F::payee_counterparties as usize] = st.degree[qi];
            r[F::payer_cash_share as usize] = st.cash_share[pi];
            r[F::payee_cash_share as usize] = st.cash_share[qi];
            r[F::payer_pass_through as usize] = st.pass[pi];
            r[F::payee_pass_through as usize] = st.pass[qi];
            r[F::payer_burstiness as usize] = st.burst[pi];
            r[F::payee_burstiness as usize] = st.burst[qi];
            r[F::payer_in_cycle as usize] = flag(st.in_cycle[pi]);
            r[F::payee_in_cycle as usize] = flag(st.in_cycle[qi]);
            let (gp, gq) = (graph(pi), graph(qi));
            r[F::payer_pagerank as usize] = gp.0;
            r[F::payee_pagerank as usize] = gq.0;
            r[F::payer_betweenness as usize] = gp.1;
            r[F::payee_betweenness as usize] = gq.1;
            r[F::payer_core as usize] = gp.2;
            r[F::payee_core as usize] = gq.2;
            r[F::payer_nb_in_pass as usize] = st.nb_in_pass[pi];
            r[F::payer_nb_in_cash as usize] = st.nb_in_cash[pi];
            r[F::payee_nb_out_pass as usize] = st.nb_out_pass[qi];
            r[F::payee_nb_out_cash as usize] = st.nb_out_cash[qi];
            r[F::payer_nb_pass_max as usize] = st.nb_pass_max[pi];
            r[F::payee_nb_pass_max as usize] = st.nb_pass_max[qi];
            r[F::payer_nb_degree as usize] = st.nb_degree[pi];
            r[F::payee_nb_degree as usize] = st.nb_degree[qi];
            for v in r.iter_mut() {
                if !v.is_finite() {
                    *v = 0.0;
                }
            }
        });

    // party rows
    let mut party_x = vec![0.0f32; np * DP];
    party_x.par_chunks_mut(DP).enumerate().for_each(|(p, r)| {
        if special[p] {
            return;
        }
        let m = a.measures.get(p);
        let (pr, btw, core) = graph(p);
        r[P::out_degree as usize] = m.map_or(0.0, |m| ln1p(f64::from(m.out_degree)));
        r[P::in_degree as usize] = m.map_or(0.0, |m| ln1p(f64::from(m.in_degree)));
        r[P::out_volume as usize] = ln1p(st.vol_out[p] as f64 / 100.0);
        r[P::in_volume as usize] = ln1p(st.vol_in[p] as f64 / 100.0);
        r[P::transactions as usize] = ln1p(f64::from(st.tx_count[p]));
        r[P::cash_share as usize] = st.cash_share[p];
        r[P::pass_through as usize] = st.pass[p];
        r[P::burstiness as usize] = st.burst[p];
        r[P::in_cycle as usize] = flag(st.in_cycle[p]);
        r[P::pagerank as usize] = pr;
        r[P::betweenness as usize] = btw;
        r[P::core as usize] = core;
        r[P::nb_in_pass as usize] = st.nb_in_pass[p];
        r[P::nb_in_cash as usize] = st.nb_in_cash[p];
        r[P::nb_out_pass as usize] = st.nb_out_pass[p];
        r[P::nb_out_cash as usize] = st.nb_out_cash[p];
        r[P::nb_pass_max as usize] = st.nb_pass_max[p];
        r[P::nb_degree as usize] = st.nb_degree[p];
        for v in r.iter_mut() {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
    });
    let first_out = order.iter().map(|&i| pos_out[i as usize] == 0).collect();
    Features {
        rows: order,
        x,
        party_x,
        first_out,
        stats: st,
    }
}

/// Trailing decimal zeros of an amount in cents (0 for 0).
pub(crate) fn trailing_decimal_zeros(mut cents: i64) -> u32 {
    if cents == 0 {
        return 0;
    }
    let mut n = 0;
    while cents % 10 == 0 {
        cents /= 10;
        n += 1;
    }
    n
}

/// Closeness to just below a threshold (see [`FEATURES`]).
pub(crate) fn below_threshold(eur: f64) -> f32 {
    THRESHOLDS_EUR
        .iter()
        .map(|&th| {
            if eur < th && eur >= 0.9 * th {
                (1.0 - (th - eur) / (0.1 * th)) as f32
            } else {
                0.0
            }
        })
        .fold(0.0, f32::max)
}

/// The threshold an amount sits just below, if any.
pub(crate) fn threshold_below(eur: f64) -> Option<f64> {
    THRESHOLDS_EUR
        .iter()
        .copied()
        .find(|&th| eur < th && eur >= 0.9 * th)
}

/// Robust scaling of one matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaler {
    /// Column medians.
    pub median: Vec<f32>,
    /// Column scales: IQR; where the IQR is 0 (binary or rare columns), 1.349·σ (the IQR a
    /// normal distribution with that σ has); where σ is 0 too, 1.
    pub scale: Vec<f32>,
}

/// Values of scaled features are clipped to ±this.
pub const CLIP: f32 = 10.0;

impl Scaler {
    /// Fits the scaler on a row-major `n × d` matrix (all rows).
    pub fn fit(x: &[f32], d: usize) -> Self {
        let n = x.len() / d.max(1);
        let cols: Vec<(f32, f32)> = (0..d)
            .into_par_iter()
            .map(|c| {
                let mut col: Vec<f32> = (0..n).map(|r| x[r * d + c]).collect();
                col.sort_by(f32::total_cmp);
                let q = |f: f64| {
                    col.get(((n.saturating_sub(1)) as f64 * f).round() as usize)
                        .copied()
                        .unwrap_or(0.0)
                };
                let (med, q1, q3) = (q(0.5), q(0.25), q(0.75));
                let iqr = q3 - q1;
                if iqr > 1e-6 {
                    return (med, iqr);
                }
                let nf = n.max(1) as f64;
                let mean = col.iter().map(|&v| f64::from(v)).sum::<f64>() / nf;
                let var = col
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / nf;
                let sd = (var.sqrt() * 1.349) as f32;
                (med, if sd > 1e-6 { sd } else { 1.0 })
            })
            .collect();
        Self {
            median: cols.iter().map(|c| c.0).collect(),
            scale: cols.iter().map(|c| c.1).collect(),
        }
    }

    /// Scales a row-major matrix: (x − median) / scale, clipped to ±[`CLIP`].
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let d = self.median.len().max(1);
        let mut out = vec![0.0f32; x.len()];
        out.par_chunks_mut(d)
            .zip(x.par_chunks(d))
            .for_each(|(o, r)| {
                for c in 0..o.len() {
                    o[c] = ((r[c] - self.median[c]) / self.scale[c]).clamp(-CLIP, CLIP);
                }
            });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(trailing_decimal_zeros(1_000_000), 6);
        assert_eq!(trailing_decimal_zeros(123_456), 0);
        assert_eq!(trailing_decimal_zeros(0), 0);
        assert!(below_threshold(9_900.0) > 0.85);
        assert!(below_threshold(10_000.0) < 1e-6);
        assert!(below_threshold(8_000.0) < 1e-6);
        assert_eq!(threshold_below(2_400.0), Some(2_500.0));
        let names: HashSet<&str> = FEATURES.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), D, "feature names are unique");
    }

    #[test]
    fn scaler_uses_iqr_then_sigma() {
        // column 0: 0..100 (IQR 50); column 1: one 1 among 100 zeros
        let mut x = Vec::new();
        for r in 0..101 {
            x.push(r as f32);
            x.push(if r == 7 { 1.0 } else { 0.0 });
        }
        let s = Scaler::fit(&x, 2);
        assert_eq!(s.median, vec![50.0, 0.0]);
        assert!((s.scale[0] - 50.0).abs() < 1e-4);
        assert!(s.scale[1] > 0.1 && s.scale[1] < 0.2, "{}", s.scale[1]);
        let y = s.apply(&x);
        assert!((y[14 * 2 + 1]).abs() < 1e-6);
        assert!((y[7 * 2 + 1] - CLIP).abs() < 1e-6 || y[7 * 2 + 1] > 5.0);
    }
}
