//! Feature extraction: one row per scored transaction and one row per party, written as Polars
//! lazy expressions (group statistics, rolling sums over a party-separated time axis, gaps,
//! first-distinct flags, joins for the party columns and one round of message passing). Only the FIFO
//! pass-through share is a plain Rust scan (a queue; no expression states it).
//!
//! Canonical row order: booking date, then `tx_id`, then input index. Everything that depends
//! on "before" (first payment to a payee, windows, gaps) uses this order, so the matrix does not
//! depend on the order of the input slice.

use std::collections::VecDeque;

use gs_graph::{Analysis, PartyKind};
use gs_types::chrono::{Datelike, NaiveDate};
use gs_types::{Channel, PartyRef, Transaction};
use polars::prelude::*;
use polars::series::ops::NullBehavior;
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
        payer_out_1d: LogCount, "weitere Zahlungen des Kontos am selben Tag", "account's other payments the same day",
            "ln(1 + payer's other outgoing transactions on the same day)";
        payer_out_7d: LogCount, "weitere Zahlungen des Kontos in den 7 Tagen bis zu diesem Tag", "account's other payments in the 7 days up to this day",
            "ln(1 + payer's other outgoing transactions dated in the 7 days ending on this one's day)";
        payer_out_30d: LogCount, "weitere Zahlungen des Kontos in den 30 Tagen bis zu diesem Tag", "account's other payments in the 30 days up to this day",
            "ln(1 + payer's other outgoing transactions dated in the 30 days ending on this one's day)";
        payer_outvol_30d: LogEuros, "Abflüsse des Kontos in den 30 Tagen bis zu diesem Tag", "account's outflow in the 30 days up to this day",
            "ln(1 + payer's other outgoing euros dated in the 30 days ending on this one's day)";
        payee_in_1d: LogCount, "weitere Eingänge beim Empfänger am selben Tag", "payee's other receipts the same day",
            "ln(1 + payee's other incoming transactions on the same day)";
        payee_in_7d: LogCount, "weitere Eingänge beim Empfänger in den 7 Tagen bis zu diesem Tag", "payee's other receipts in the 7 days up to this day",
            "ln(1 + payee's other incoming transactions dated in the 7 days ending on this one's day)";
        payee_in_30d: LogCount, "weitere Eingänge beim Empfänger in den 30 Tagen bis zu diesem Tag", "payee's other receipts in the 30 days up to this day",
            "ln(1 + payee's other incoming transactions dated in the 30 days ending on this one's day)";
        payee_invol_30d: LogEuros, "Zuflüsse beim Empfänger in den 30 Tagen bis zu diesem Tag", "payee's inflow in the 30 days up to this day",
            "ln(1 + payee's other incoming euros dated in the 30 days ending on this one's day)";
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

/// Per-party statistics the explanations quote.
#[derive(Clone, Debug, Default)]
pub(crate) struct PartyStats {
    /// Median outgoing amount (cents, lower median).
    pub med_out: Vec<i64>,
    /// Median incoming amount (cents).
    pub med_in: Vec<i64>,
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

/// Days since 1970-01-01 (Polars' `Date`).
fn epoch_days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
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

/// A two-letter country as a number (for a compact Polars column).
fn country_code(c: &str) -> Option<u32> {
    let b = c.as_bytes();
    (b.len() == 2).then(|| u32::from(b[0]) << 8 | u32::from(b[1]))
}

/// FIFO pass-through share within 7 days of one party: each outflow consumes the oldest
/// inflows of the last 7 days (inflows before outflows on the same day). A sequential scan
/// with a queue, which Polars expressions cannot state; the only party column computed in
/// plain Rust.
fn pass_through(txs: &[Transaction], ins: &[u32], outs: &[u32]) -> f32 {
    let cents = |i: u32| txs[i as usize].amount.cents().saturating_abs();
    let day = |i: u32| epoch_days(txs[i as usize].booking_date);
    let mut ev: Vec<(i32, bool, u32)> = ins
        .iter()
        .map(|&i| (day(i), false, i))
        .chain(outs.iter().map(|&i| (day(i), true, i)))
        .collect();
    ev.sort_unstable();
    let mut queue: VecDeque<(i32, i64)> = VecDeque::new();
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
    if inflow > 0 {
        (matched as f64 / inflow as f64) as f32
    } else {
        0.0
    }
}

/// Computes the transaction and party feature matrices: the inputs (party ids from the
/// resolution, amounts, dates, channels, account countries, graph measures, FIFO
/// pass-through) go into two Polars frames, every feature is a Polars expression over them
/// (see [`pl_features`]), and the result is copied into row-major matrices for candle.
pub fn extract(txs: &[Transaction], a: &Analysis) -> Result<Features, PolarsError> {
    let np = a.parties.parties.len();
    let payer = |i: u32| a.parties.tx_payer[i as usize].idx();
    let payee = |i: u32| a.parties.tx_payee[i as usize].idx();
    // canonical order; keys are unique (the index breaks ties), so an unstable parallel sort
    // is deterministic
    let mut keys: Vec<(NaiveDate, &str, u32)> = txs
        .par_iter()
        .enumerate()
        .filter(|(_, t)| scored(t))
        .map(|(i, t)| (t.booking_date, t.tx_id.0.as_str(), i as u32))
        .collect();
    keys.par_sort_unstable();
    let order: Vec<u32> = keys.into_iter().map(|k| k.2).collect();
    let mut outs: Vec<Vec<u32>> = vec![Vec::new(); np];
    let mut ins: Vec<Vec<u32>> = vec![Vec::new(); np];
    for &i in &order {
        if let Some(v) = outs.get_mut(payer(i)) {
            v.push(i);
        }
        if let Some(v) = ins.get_mut(payee(i)) {
            v.push(i);
        }
    }
    let special: Vec<bool> = a
        .parties
        .parties
        .iter()
        .map(|p| matches!(p.kind, PartyKind::Cash | PartyKind::Unknown))
        .collect();
    let pass: Vec<f32> = (0..np)
        .into_par_iter()
        .map(|p| pass_through(txs, &ins[p], &outs[p]))
        .collect();
    let mut in_cycle = vec![false; np];
    for f in a.findings.iter().filter(|f| f.rule == "cycle") {
        for p in &f.parties {
            if let Some(c) = in_cycle.get_mut(p.idx()) {
                *c = true;
            }
        }
    }
    let country = |p: usize| -> Option<&str> {
        a.parties
            .parties
            .get(p)
            .and_then(|x| x.account_countries.first())
            .map(String::as_str)
    };

    // transaction inputs, canonical order
    let n = order.len();
    let tx_col = |name: &str, f: &(dyn Fn(&Transaction, u32) -> Option<i64> + Sync)| {
        Column::new(
            name.into(),
            order
                .par_iter()
                .map(|&i| f(&txs[i as usize], i))
                .collect::<Vec<Option<i64>>>(),
        )
    };
    let tx_in = DataFrame::new(
        n,
        vec![
            tx_col("payer", &|_, i| Some(payer(i) as i64)),
            tx_col("payee", &|_, i| Some(payee(i) as i64)),
            tx_col("cents", &|t, _| Some(t.amount.cents())),
            tx_col("date", &|t, _| Some(i64::from(epoch_days(t.booking_date))))
                .cast(&DataType::Int32)?
                .cast(&DataType::Date)?,
            tx_col("ts", &|t, _| {
                t.timestamp.map(|ts| ts.and_utc().timestamp_millis())
            })
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
            tx_col("chan", &|t, _| {
                Some(match t.channel {
                    Channel::CashDeposit | Channel::CashWithdrawal => 0,
                    Channel::Transfer | Channel::StandingOrder => 1,
                    Channel::Card => 2,
                    Channel::DirectDebit => 3,
                    Channel::Fee | Channel::Unknown => 4,
                })
            }),
            tx_col("payer_cc", &|t, i| {
                ref_country(t.payer_payee().0)
                    .or_else(|| country(payer(i)))
                    .and_then(country_code)
                    .map(i64::from)
            }),
            tx_col("payee_cc", &|t, i| {
                ref_country(t.payer_payee().1)
                    .or_else(|| country(payee(i)))
                    .and_then(country_code)
                    .map(i64::from)
            }),
        ],
    )?;
    // party inputs: what the graph crate measured, cycle membership, FIFO pass-through
    let n_parties = np.max(1) as f64;
    let measure = |name: &str, f: &dyn Fn(&gs_graph::PartyMeasures) -> f64| {
        Column::new(
            name.into(),
            (0..np)
                .map(|p| a.measures.get(p).map_or(0.0, f))
                .collect::<Vec<f64>>(),
        )
    };
    let party_in = DataFrame::new(
        np,
        vec![
            Column::new("party".into(), (0..np as i64).collect::<Vec<_>>()),
            Column::new("special".into(), special.clone()),
            Column::new("in_cycle".into(), in_cycle),
            Column::new("pass".into(), pass),
            measure("out_deg", &|m| f64::from(m.out_degree)),
            measure("in_deg", &|m| f64::from(m.in_degree)),
            measure("pagerank_n", &|m| m.pagerank * n_parties),
            measure("betweenness", &|m| m.betweenness),
            measure("kcore", &|m| f64::from(m.core)),
        ],
    )?;
    let (tx_frame, party_frame) = pl_features(tx_in.lazy(), party_in.lazy())?;

    // row-major matrices
    let columns = |df: &DataFrame, defs: &[FeatureDef]| -> Result<Vec<Vec<f32>>, PolarsError> {
        defs.par_iter()
            .map(|f| {
                let c = df.column(f.name)?.cast(&DataType::Float32)?;
                let finite = |x: f32| if x.is_finite() { x } else { 0.0 };
                let ca = c.f32()?;
                let mut v = Vec::with_capacity(c.len());
                if ca.null_count() == 0 {
                    for arr in ca.downcast_iter() {
                        v.extend(arr.values().iter().map(|&x| finite(x)));
                    }
                } else {
                    v.extend(ca.iter().map(|x| x.map_or(0.0, finite)));
                }
                Ok(v)
            })
            .collect()
    };
    let tx_cols = columns(&tx_frame, FEATURES)?;
    let mut x = vec![0.0f32; n * D];
    x.par_chunks_mut(D).enumerate().for_each(|(r, row)| {
        for (c, v) in row.iter_mut().enumerate() {
            *v = tx_cols[c][r];
        }
    });
    let party_cols = columns(&party_frame, PARTY_FEATURES)?;
    let mut party_x = vec![0.0f32; np * DP];
    party_x.par_chunks_mut(DP).enumerate().for_each(|(p, row)| {
        // pseudo-parties aggregate unrelated people: their party rows carry no signal
        if special[p] {
            return;
        }
        for (c, v) in row.iter_mut().enumerate() {
            *v = party_cols[c][p];
        }
    });
    let first_out = tx_frame
        .column("first_out")?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let st = party_stats(&party_frame)?;
    Ok(Features {
        rows: order,
        x,
        party_x,
        first_out,
        stats: st,
    })
}

/// `f64` values of a column (nulls as 0).
fn f64s(df: &DataFrame, name: &str) -> Result<Vec<f64>, PolarsError> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// The per-party statistics the explanations quote, from the party frame (one row per party,
/// in party order).
fn party_stats(df: &DataFrame) -> Result<PartyStats, PolarsError> {
    let i64s = |name: &str| -> Result<Vec<i64>, PolarsError> {
        Ok(f64s(df, name)?.into_iter().map(|v| v as i64).collect())
    };
    Ok(PartyStats {
        med_out: i64s("med_out")?,
        med_in: i64s("med_in")?,
    })
}

/// The party columns from message passing.
const NB_COLS: [&str; 6] = [
    "nb_in_pass",
    "nb_in_cash",
    "nb_out_pass",
    "nb_out_cash",
    "nb_pass_max",
    "nb_degree",
];

/// `ln(1 + x)` of a non-negative quantity.
fn log1p(e: Expr) -> Expr {
    let e = e.cast(DataType::Float64);
    when(e.clone().gt(lit(0.0)))
        .then(e)
        .otherwise(lit(0.0))
        .log1p()
}

/// A left join that keeps the left frame's row order.
fn join_left(l: LazyFrame, r: LazyFrame, on_l: &str, on_r: &str) -> LazyFrame {
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    l.join(r, [col(on_l)], [col(on_r)], args)
}

/// The party columns, renamed for one side of a transaction (`payer_…` / `payee_…`).
fn side(party: &LazyFrame, prefix: &str, cols: &[&str]) -> LazyFrame {
    let mut exprs = vec![col("party").alias(format!("{prefix}party"))];
    exprs.extend(cols.iter().map(|c| col(*c).alias(format!("{prefix}{c}"))));
    party.clone().select(exprs)
}

/// Every feature as a Polars expression. `tx`: one row per scored transaction in canonical
/// order (`payer`, `payee`, `cents`, `date`, `ts`, `chan`, `payer_cc`, `payee_cc`); `party`:
/// one row per party in party order (`party`, `special`, `in_cycle`, `pass`, `out_deg`,
/// `in_deg`, `pagerank_n`, `betweenness`, `kcore`). Returns the transaction frame (the
/// [`FEATURES`] columns + `first_out`) and the party frame ([`PARTY_FEATURES`] + the
/// statistics of [`PartyStats`]), both in input order.
pub(crate) fn pl_features(
    tx: LazyFrame,
    party: LazyFrame,
) -> Result<(DataFrame, DataFrame), PolarsError> {
    // amounts are signed in the evidence; the direction is in payer → payee
    let tx = tx.with_columns([col("cents").abs()]);
    let eur = || col("cents").cast(DataType::Float64) / lit(100.0);
    let tx = tx.with_columns([eur().alias("eur"), log1p(eur()).alias("leur")]);

    // per party, as payer (outgoing) and as payee (incoming)
    let side_stats = |key: &str, dir: &str| {
        tx.clone().group_by([col(key).alias("party")]).agg([
            col("cents")
                .quantile(lit(0.5), QuantileMethod::Lower)
                .alias(format!("med_{dir}")),
            col("leur").mean().alias(format!("log_{dir}_mean")),
            // sd 0 below 3 values: too few to call anything unusual
            when(len().gt_eq(lit(3)))
                .then(col("leur").std(0))
                .otherwise(lit(0.0))
                .alias(format!("log_{dir}_sd")),
            col("cents").sum().alias(format!("vol_{dir}")),
            len().cast(DataType::Int64).alias(format!("n_{dir}")),
        ])
    };
    // both sides in one long frame: volume, cash and the rhythm of bookings
    let long = concat(
        [
            tx.clone().select([
                col("payer").alias("party"),
                col("cents"),
                col("date"),
                col("chan"),
            ]),
            tx.clone().select([
                col("payee").alias("party"),
                col("cents"),
                col("date"),
                col("chan"),
            ]),
        ],
        UnionArgs::default(),
    )?
    // gaps between a party's consecutive bookings in days: sorted by (party, day), a gap is
    // the day difference to the row before when that row is the same party's
    .sort(["party", "date"], SortMultipleOptions::default())
    .with_columns([when(col("party").eq(col("party").shift(lit(1))))
        .then(
            (col("date").cast(DataType::Int32) - col("date").cast(DataType::Int32).shift(lit(1)))
                .cast(DataType::Float64),
        )
        .otherwise(lit(NULL).cast(DataType::Float64))
        .alias("gap")])
    .group_by([col("party")])
    .agg([
        col("cents")
            .filter(col("chan").eq(lit(0i64)))
            .sum()
            .alias("cash_cents"),
        len().cast(DataType::Int64).alias("n_tx"),
        col("gap").mean().alias("gap_mean"),
        col("gap").std(0).alias("gap_sd"),
    ]);
    // pseudo-parties (CASH, UNKNOWN) gather unrelated people: their party columns carry no
    // signal
    let unless_special = |e: Expr| when(col("special")).then(lit(0.0)).otherwise(e);
    let party = join_left(party, side_stats("payer", "out"), "party", "party");
    let party = join_left(party, side_stats("payee", "in"), "party", "party");
    let party = join_left(party, long, "party", "party")
        .with_columns([
            col("vol_out").fill_null(lit(0i64)),
            col("vol_in").fill_null(lit(0i64)),
            col("med_out").fill_null(lit(0.0)),
            col("med_in").fill_null(lit(0.0)),
            col("n_tx").fill_null(lit(0i64)),
        ])
        .with_columns([
            unless_special(
                col("cash_cents")
                    .fill_null(lit(0i64))
                    .cast(DataType::Float64)
                    / when((col("vol_out") + col("vol_in")).gt(lit(0i64)))
                        .then((col("vol_out") + col("vol_in")).cast(DataType::Float64))
                        .otherwise(lit(1.0)),
            )
            .alias("cash_share"),
            // stays f32 like the Rust scan's result
            when(col("special"))
                .then(lit(0.0f32))
                .otherwise(col("pass"))
                .alias("pass_through"),
            // (σ − μ)/(σ + μ) of the gaps; −1 regular … 1 bursty; 0 with fewer than 2 gaps
            when(col("special").or(col("n_tx").lt(lit(3i64))))
                .then(lit(0.0))
                .when((col("gap_sd") + col("gap_mean")).gt(lit(0.0)))
                .then((col("gap_sd") - col("gap_mean")) / (col("gap_sd") + col("gap_mean")))
                // every booking on the same day: as bursty as it gets
                .otherwise(lit(1.0))
                .alias("burstiness"),
            unless_special(log1p(col("out_deg") + col("in_deg"))).alias("degree"),
            log1p(col("out_deg")).alias("out_degree"),
            log1p(col("in_deg")).alias("in_degree"),
            log1p(col("vol_out").cast(DataType::Float64) / lit(100.0)).alias("out_volume"),
            log1p(col("vol_in").cast(DataType::Float64) / lit(100.0)).alias("in_volume"),
            log1p(col("n_tx")).alias("transactions"),
            unless_special(log1p(col("pagerank_n"))).alias("pagerank"),
            unless_special(log1p(col("betweenness"))).alias("betweenness"),
            unless_special(log1p(col("kcore"))).alias("core"),
        ])
        .collect()?
        .lazy();

    // one round of message passing over the directed graph, both directions: means of the
    // counterparties' party columns (self-payments and pseudo-parties left out)
    let nb = party.clone().select([
        col("party").alias("c"),
        col("special").alias("c_special"),
        col("pass_through").alias("c_pass"),
        col("cash_share").alias("c_cash"),
        col("degree").alias("c_degree"),
    ]);
    let edges = |p: &str, c: &str| {
        tx.clone()
            .select([col(p).alias("p"), col(c).alias("c")])
            .filter(col("p").neq(col("c")))
            .unique_stable(None, UniqueKeepStrategy::First)
    };
    let with_c = |e: LazyFrame| {
        join_left(e, nb.clone(), "c", "c")
            .filter(col("c_special").not())
            .sort(["p", "c"], SortMultipleOptions::default())
    };
    let senders = with_c(edges("payee", "payer")).group_by([col("p")]).agg([
        col("c_pass").mean().alias("nb_in_pass"),
        col("c_cash").mean().alias("nb_in_cash"),
    ]);
    let payees = with_c(edges("payer", "payee")).group_by([col("p")]).agg([
        col("c_pass").mean().alias("nb_out_pass"),
        col("c_cash").mean().alias("nb_out_cash"),
    ]);
    let all = with_c(
        concat(
            [edges("payee", "payer"), edges("payer", "payee")],
            UnionArgs::default(),
        )?
        .unique_stable(None, UniqueKeepStrategy::First),
    )
    .group_by([col("p")])
    .agg([
        col("c_pass").max().alias("nb_pass_max"),
        col("c_degree").mean().alias("nb_degree"),
    ]);
    let party = join_left(party, senders, "party", "p");
    let party = join_left(party, payees, "party", "p");
    let party_df = join_left(party, all, "party", "p")
        .with_columns(NB_COLS.map(|c| col(c).fill_null(lit(0.0)).cast(DataType::Float64)))
        .collect()?;

    // transaction rows: the party columns of both sides
    let party = party_df.clone().lazy();
    let cols: Vec<&str> = [
        "med_out",
        "med_in",
        "log_out_mean",
        "log_out_sd",
        "log_in_mean",
        "log_in_sd",
        "degree",
        "cash_share",
        "pass_through",
        "burstiness",
        "in_cycle",
        "pagerank",
        "betweenness",
        "core",
    ]
    .into_iter()
    .chain(NB_COLS)
    .collect();
    let tx = join_left(tx, side(&party, "p_", &cols), "payer", "p_party");
    let tx = join_left(tx, side(&party, "q_", &cols), "payee", "q_party");
    let ratio = |median: &str| {
        ((eur() + lit(1.0)) / (col(median) / lit(100.0) + lit(1.0))).log(lit(std::f64::consts::E))
    };
    let z = |mean: &str, sd: &str| {
        when(col(sd).gt(lit(1e-9)))
            .then((col("leur") - col(mean)) / col(sd))
            .otherwise(lit(0.0))
    };
    let roundness = (1..=8u32)
        .map(|k| {
            (col("cents") % lit(10i64.pow(k)))
                .eq(lit(0i64))
                .cast(DataType::Float64)
        })
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| lit(0.0));
    let below = polars::lazy::dsl::max_horizontal(
        THRESHOLDS_EUR
            .iter()
            .map(|&th| {
                when(eur().lt(lit(th)).and(eur().gt_eq(lit(0.9 * th))))
                    .then(lit(1.0) - (lit(th) - eur()) / lit(0.1 * th))
                    .otherwise(lit(0.0))
            })
            .collect::<Vec<_>>(),
    )?;
    let tau = std::f64::consts::TAU;
    let weekday = (col("date").dt().weekday().cast(DataType::Float64) - lit(1.0)) * lit(tau / 7.0);
    let hour = (col("ts").dt().hour().cast(DataType::Float64)
        + col("ts").dt().minute().cast(DataType::Float64) / lit(60.0))
        * lit(tau / 24.0);
    // Windows "in the N days up to this one": the side's other bookings dated in the N days
    // ending on this one's day (the same day included, the booking itself not). One rolling
    // sum over the whole frame instead of one per party (`over`): the time axis is
    // `party · 10⁶ + day`, so a window never reaches into another party's bookings (10⁶ days
    // apart), and Polars sorts by it internally and returns the rows in frame order. Sums run
    // over integers (counts, cents): exact whatever the order of equal keys.
    let window = |days: i64, what: &str, key: &str| {
        col(what).rolling_sum_by(
            col(format!("t_{key}")),
            RollingOptionsDynamicWindow {
                window_size: polars::prelude::Duration::parse(&format!("{days}i")),
                min_periods: 1,
                closed_window: ClosedWindow::Right,
                fn_params: None,
            },
        )
    };
    let count = |days: i64, key: &str| log1p(window(days, "one", key) - lit(1i64));
    let volume = |key: &str| {
        log1p((window(30, "cents", key) - col("cents")).cast(DataType::Float64) / lit(100.0))
    };
    let time_axis = |key: &str| {
        (col(key).cast(DataType::Int64) * lit(1_000_000i64)
            + col("date").cast(DataType::Int32).cast(DataType::Int64))
        .alias(format!("t_{key}"))
    };
    let flag_of = |e: Expr| e.cast(DataType::Float64);
    let tx = tx
        .with_columns([
            lit(1i64).alias("one"),
            time_axis("payer"),
            time_axis("payee"),
            (col("payer").cast(DataType::UInt64) * lit(1u64 << 32)
                + col("payee").cast(DataType::UInt64))
            .alias("pair"),
        ])
        .with_columns([
            col("leur").alias("log_amount"),
            ratio("p_med_out").alias("amount_vs_payer"),
            ratio("q_med_in").alias("amount_vs_payee"),
            z("p_log_out_mean", "p_log_out_sd").alias("amount_z_payer"),
            z("q_log_in_mean", "q_log_in_sd").alias("amount_z_payee"),
            roundness.alias("roundness"),
            below.alias("below_threshold"),
            weekday.clone().sin().alias("weekday_sin"),
            weekday.cos().alias("weekday_cos"),
            hour.clone().sin().fill_null(lit(0.0)).alias("hour_sin"),
            hour.cos().fill_null(lit(0.0)).alias("hour_cos"),
            log1p(
                col("date")
                    .cast(DataType::Int32)
                    .diff(lit(1), NullBehavior::Ignore)
                    .over([col("payer")])?
                    .fill_null(lit(365)),
            )
            .alias("log_days_since_prev"),
            col("payer").is_first_distinct().alias("first_out"),
            flag_of(col("pair").is_first_distinct()).alias("new_counterparty"),
            flag_of(col("payer_cc").neq(col("payee_cc")).fill_null(lit(false)))
                .alias("cross_border"),
            flag_of(col("chan").eq(lit(0i64))).alias("ch_cash"),
            flag_of(col("chan").eq(lit(1i64))).alias("ch_transfer"),
            flag_of(col("chan").eq(lit(2i64))).alias("ch_card"),
            flag_of(col("chan").eq(lit(3i64))).alias("ch_debit"),
            flag_of(col("chan").eq(lit(4i64))).alias("ch_other"),
            count(1, "payer").alias("payer_out_1d"),
            count(7, "payer").alias("payer_out_7d"),
            count(30, "payer").alias("payer_out_30d"),
            volume("payer").alias("payer_outvol_30d"),
            count(1, "payee").alias("payee_in_1d"),
            count(7, "payee").alias("payee_in_7d"),
            count(30, "payee").alias("payee_in_30d"),
            volume("payee").alias("payee_invol_30d"),
            col("p_degree").alias("payer_counterparties"),
            col("q_degree").alias("payee_counterparties"),
            col("p_cash_share").alias("payer_cash_share"),
            col("q_cash_share").alias("payee_cash_share"),
            col("p_pass_through").alias("payer_pass_through"),
            col("q_pass_through").alias("payee_pass_through"),
            col("p_burstiness").alias("payer_burstiness"),
            col("q_burstiness").alias("payee_burstiness"),
            col("p_in_cycle")
                .cast(DataType::Float64)
                .alias("payer_in_cycle"),
            col("q_in_cycle")
                .cast(DataType::Float64)
                .alias("payee_in_cycle"),
            col("p_pagerank").alias("payer_pagerank"),
            col("q_pagerank").alias("payee_pagerank"),
            col("p_betweenness").alias("payer_betweenness"),
            col("q_betweenness").alias("payee_betweenness"),
            col("p_core").alias("payer_core"),
            col("q_core").alias("payee_core"),
            col("p_nb_in_pass").alias("payer_nb_in_pass"),
            col("p_nb_in_cash").alias("payer_nb_in_cash"),
            col("q_nb_out_pass").alias("payee_nb_out_pass"),
            col("q_nb_out_cash").alias("payee_nb_out_cash"),
            col("p_nb_pass_max").alias("payer_nb_pass_max"),
            col("q_nb_pass_max").alias("payee_nb_pass_max"),
            col("p_nb_degree").alias("payer_nb_degree"),
            col("q_nb_degree").alias("payee_nb_degree"),
        ]);
    let mut keep: Vec<Expr> = FEATURES.iter().map(|f| col(f.name)).collect();
    keep.push(col("first_out"));
    let tx_df = tx.select(keep).collect()?;
    Ok((tx_df, party_df))
}

/// Trailing decimal zeros of an amount in cents (0 for 0): the reference for the
/// `roundness` expression.
#[cfg(test)]
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

/// Closeness to just below a threshold (see [`FEATURES`]): the reference for the
/// `below_threshold` expression.
#[cfg(test)]
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

    /// [`Scaler::apply`] on the calling thread (for one batch).
    pub fn apply_seq(&self, x: &[f32]) -> Vec<f32> {
        let d = self.median.len().max(1);
        let mut out = vec![0.0f32; x.len()];
        for (o, r) in out.chunks_mut(d).zip(x.chunks(d)) {
            for c in 0..o.len() {
                o[c] = ((r[c] - self.median[c]) / self.scale[c]).clamp(-CLIP, CLIP);
            }
        }
        out
    }

    /// Scales a row-major matrix: (x − median) / scale, clipped to ±[`CLIP`].
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        // whole rows per chunk, so each chunk is scaled exactly as `apply_seq` scales it
        let rows = 4096 * self.median.len().max(1);
        x.par_chunks(rows)
            .flat_map_iter(|c| self.apply_seq(c))
            .collect()
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
        let names: std::collections::HashSet<&str> = FEATURES.iter().map(|f| f.name).collect();
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
