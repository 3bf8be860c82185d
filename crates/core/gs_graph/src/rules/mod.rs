//! Typology rules and the rule pack that configures them.
//!
//! A [`RulePack`] (TOML, `assets/rules/default.toml` embedded as the default) says which rules
//! run and with which parameters. Each rule module turns the resolved graph into
//! [`Finding`]s: a stable id, the rule and pack version, a score in 0..=1, the parties, the
//! exact transactions, the parameter values that fired and an explanation in German and
//! English with the concrete numbers.
//!
//! Transactions used by the rules: not mirrors (each transfer once), not reversals (a Storno
//! undoes a booking; counting both would double it), amount ≠ 0.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use gs_types::{Channel, Transaction};
use serde::{Deserialize, Serialize};

use crate::graph::TxGraph;
use crate::resolve::{DataFileError, Parties, PartyId, load_toml, parse_toml};
use crate::util;

pub mod behaviour;
pub mod categories;
pub mod corridors;
pub mod cycles;
pub mod donors;
pub mod fan;
pub mod pass_through;
pub mod structuring;
pub mod watch;

/// Money direction seen from the analysed account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money received.
    In,
    /// Money paid.
    Out,
    /// Either.
    Both,
}

/// One amount band of the structuring rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Band id (e.g. `cash_below_10000`).
    pub id: String,
    /// The threshold (euros); amounts must be below it.
    pub threshold_eur: i64,
    /// Lower end of the band (euros, inclusive).
    pub lower_eur: i64,
    /// Channels counted (empty = any).
    pub channels: Vec<Channel>,
    /// Direction counted.
    pub direction: Direction,
    /// Transactions needed within the window.
    pub min_count: usize,
    /// Rolling window in days.
    pub window_days: i64,
}

/// Rule 1 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructuringParams {
    /// Run it.
    pub enabled: bool,
    /// Score weight.
    pub weight: f64,
    /// Bands.
    pub bands: Vec<Band>,
}

/// Rule 2 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DonorParams {
    /// Run it.
    pub enabled: bool,
    /// Score weight.
    pub weight: f64,
    /// Channels of incoming payments that count as gifts.
    pub channels: Vec<Channel>,
    /// Distinct payers needed.
    pub min_payers: usize,
    /// Largest single payment counted (euros).
    pub max_amount_eur: i64,
    /// Largest median payment (euros).
    pub max_median_eur: i64,
    /// Window (days).
    pub window_days: i64,
    /// Days after the window in which out-flow is looked for.
    pub follow_days: i64,
    /// Share of the collected sum whose out-flow raises the score.
    pub follow_share: f64,
}

/// Rule 3 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassThroughParams {
    /// Run it.
    pub enabled: bool,
    /// Score weight.
    pub weight: f64,
    /// Days within which inflow must leave.
    pub days: i64,
    /// Share of inflow that must leave within `days`.
    pub min_share: f64,
    /// Largest residual (inflow − outflow) as share of inflow.
    pub max_residual_share: f64,
    /// Smallest total inflow (euros).
    pub min_inflow_eur: i64,
    /// Fewest transactions (in + out).
    pub min_transactions: usize,
    /// Chain variant: days within which an intermediary forwards.
    pub chain_days: i64,
    /// Chain variant: smallest forwarded share of the received amount.
    pub chain_min_share: f64,
    /// Chain variant: intermediaries needed in a row.
    pub chain_min_hops: usize,
    /// Chain variant: smallest first payment (euros).
    pub chain_min_eur: i64,
}

/// Rule 4 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FanParams {
    /// Run it.
    pub enabled: bool,
    /// Score weight.
    pub weight: f64,
    /// Channels of payments that count.
    pub channels: Vec<Channel>,
    /// Distinct payees for fan-out.
    pub fan_out_min: usize,
    /// Fan-out counts only one-off payees (all of p's payments to them within one window).
    pub fan_out_one_off_only: bool,
    /// Distinct payers for gather-scatter.
    pub gather_min_in: usize,
    /// Distinct payees for gather-scatter.
    pub scatter_min_out: usize,
    /// Intermediaries for scatter-gather.
    pub sg_min_intermediaries: usize,
    /// Scatter-gather: an intermediary's payment to the target must lie within
    /// `[share × received, received / share]`.
    pub sg_min_share: f64,
    /// Window (days).
    pub window_days: i64,
    /// Outgoing transactions scanned per intermediary.
    pub max_scan: usize,
}

/// Rule 5 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleParams {
    /// Run it.
    pub enabled: bool,
    /// Score weight.
    pub weight: f64,
    /// Shortest cycle (parties).
    pub min_len: usize,
    /// Longest cycle (parties, at most 6).
    pub max_len: usize,
    /// Window (days) from first to last hop.
    pub window_days: i64,
    /// Relative amount difference allowed per hop.
    pub amount_tolerance: f64,
    /// Smallest first amount (euros).
    pub min_amount_eur: i64,
    /// Search steps per starting transaction.
    pub max_expansions: usize,
    /// Instances kept per party cycle.
    pub max_instances: usize,
}

/// Rule 6 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorridorParams {
    /// Run it.
    pub enabled: bool,
    /// Score weight.
    pub weight: f64,
    /// Sum (euros) at which the amount part of the score is full.
    pub reference_eur: i64,
}

/// Rule 7 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryParams {
    /// Apply the context.
    pub enabled: bool,
    /// Context weight per category id.
    pub weights: BTreeMap<String, f64>,
}

/// Rule 8 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchParams {
    /// Run it.
    pub enabled: bool,
    /// Score weight.
    pub weight: f64,
    /// Case-specific terms (empty by default).
    pub terms: Vec<String>,
    /// Jaro-Winkler similarity per word.
    pub similarity: f64,
    /// Words shorter than this must match exactly.
    pub min_word_len: usize,
}

/// Rule 9 parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviourParams {
    /// Run it.
    pub enabled: bool,
    /// Score weight.
    pub weight: f64,
    /// Silence (days) that makes an account dormant.
    pub dormant_days: i64,
    /// Window (days) after reactivation.
    pub reactivation_window_days: i64,
    /// Volume (euros) after reactivation.
    pub reactivation_min_eur: i64,
    /// Period length (days) for jumps.
    pub period_days: i64,
    /// Periods of history compared.
    pub history_periods: i64,
    /// Factor over the history mean.
    pub jump_factor: f64,
    /// Distinct counterparties needed for a counterparty jump.
    pub min_counterparties: usize,
    /// Volume (euros) needed for a volume jump.
    pub min_volume_eur: i64,
}

/// A versioned rule pack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    /// Pack version, recorded in every finding.
    pub version: String,
    /// Country of the investigated accounts.
    pub home_country: String,
    /// Rule 1.
    pub structuring: StructuringParams,
    /// Rule 2.
    pub small_donors: DonorParams,
    /// Rule 3.
    pub pass_through: PassThroughParams,
    /// Rule 4.
    pub fan: FanParams,
    /// Rule 5.
    pub cycles: CycleParams,
    /// Rule 6.
    pub corridors: CorridorParams,
    /// Rule 7.
    pub categories: CategoryParams,
    /// Rule 8.
    pub watch_terms: WatchParams,
    /// Rule 9.
    pub behaviour: BehaviourParams,
    /// Party risk score.
    #[serde(default)]
    pub score: ScoreParams,
}

/// How findings make the party risk score (see `score.rs`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreParams {
    /// Share of a finding's score that its related parties (donors of a fan-in, payees of a
    /// fan-out, members of the flow) receive; the parties the finding is about receive all.
    pub related_weight: f64,
}

impl Default for ScoreParams {
    fn default() -> Self {
        Self {
            related_weight: 0.25,
        }
    }
}

const DEFAULT_PACK: &str = include_str!("../../../../../assets/rules/default.toml");

impl RulePack {
    /// The shipped pack (`assets/rules/default.toml`).
    pub fn default_pack() -> Self {
        // Compiled-in constant, parsed by a unit test: not untrusted input.
        #[allow(clippy::expect_used)]
        Self::parse(DEFAULT_PACK, "<embedded rules/default.toml>")
            .expect("embedded default rule pack is valid")
    }

    /// Loads a user pack.
    pub fn load(path: &Path) -> Result<Self, DataFileError> {
        let p: Self = load_toml(path)?;
        p.check(&path.display().to_string())?;
        Ok(p)
    }

    /// Parses a pack from text.
    pub fn parse(text: &str, name: &str) -> Result<Self, DataFileError> {
        let p: Self = parse_toml(text, name)?;
        p.check(name)?;
        Ok(p)
    }

    fn check(&self, name: &str) -> Result<(), DataFileError> {
        let bad = |m: String| {
            Err(DataFileError::Parse {
                path: name.to_owned(),
                message: m,
            })
        };
        for b in &self.structuring.bands {
            if b.lower_eur > b.threshold_eur || b.min_count == 0 || b.window_days < 1 {
                return bad(format!(
                    "structuring band '{}' needs lower ≤ threshold, min_count ≥ 1, window ≥ 1 day",
                    b.id
                ));
            }
        }
        if self.cycles.max_len > 6
            || self.cycles.min_len < 2
            || self.cycles.min_len > self.cycles.max_len
        {
            return bad("cycles: 2 ≤ min_len ≤ max_len ≤ 6".to_owned());
        }
        let pt = &self.pass_through;
        if pt.chain_min_hops < 1 || pt.chain_days < 0 || !(0.0..=1.0).contains(&pt.chain_min_share)
        {
            return bad(
                "pass_through: chain_min_hops ≥ 1, chain_days ≥ 0, chain_min_share in 0..=1"
                    .to_owned(),
            );
        }
        let weights = [
            self.structuring.weight,
            self.small_donors.weight,
            self.pass_through.weight,
            self.fan.weight,
            self.cycles.weight,
            self.corridors.weight,
            self.watch_terms.weight,
            self.behaviour.weight,
        ];
        if !(0.0..=1.0).contains(&self.score.related_weight) {
            return bad("score.related_weight must lie in 0..=1".to_owned());
        }
        if weights
            .iter()
            .chain(self.categories.weights.values())
            .any(|w| !(0.0..=1.0).contains(w))
        {
            return bad("weights must lie in 0..=1".to_owned());
        }
        Ok(())
    }
}

/// One dated country list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountryListDef {
    /// Id.
    pub id: String,
    /// German label.
    pub label_de: String,
    /// English label.
    pub label_en: String,
    /// Score weight of a corridor into this list.
    pub weight: f64,
    /// ISO 3166 alpha-2 codes.
    pub countries: Vec<String>,
}

/// The high-risk country lists (`assets/high_risk_countries.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountryList {
    /// Version.
    pub version: String,
    /// Date the lists reflect.
    pub as_of: String,
    /// Lists.
    #[serde(rename = "list")]
    pub lists: Vec<CountryListDef>,
}

const DEFAULT_COUNTRIES: &str = include_str!("../../../../../assets/high_risk_countries.toml");

impl CountryList {
    /// The shipped lists.
    pub fn default_list() -> Self {
        parse_toml(DEFAULT_COUNTRIES, "<embedded high_risk_countries.toml>").unwrap_or_else(|_| {
            Self {
                version: "invalid".into(),
                as_of: String::new(),
                lists: Vec::new(),
            }
        })
    }

    /// Loads user lists.
    pub fn load(path: &Path) -> Result<Self, DataFileError> {
        load_toml(path)
    }

    /// Lists containing a country.
    pub fn lists_for(&self, country: &str) -> Vec<&CountryListDef> {
        self.lists
            .iter()
            .filter(|l| l.countries.iter().any(|c| c.eq_ignore_ascii_case(country)))
            .collect()
    }
}

/// Severity band of a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSeverity {
    /// score < 0.5.
    Low,
    /// 0.5 ≤ score < 0.75.
    Medium,
    /// score ≥ 0.75.
    High,
}

impl FindingSeverity {
    /// Band of a score.
    pub fn of(score: f64) -> Self {
        if score >= 0.75 {
            Self::High
        } else if score >= 0.5 {
            Self::Medium
        } else {
            Self::Low
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: hash of rule id + sorted transaction ids (32 hex digits).
    pub id: String,
    /// Rule id (`structuring`, `small_donors`, `pass_through`, `fan_out`, `gather_scatter`,
    /// `scatter_gather`, `cycle`, `corridor`, `watch_term`, `dormant_reactivation`,
    /// `behaviour_jump`).
    pub rule: String,
    /// Sub-case (structuring band, corridor country, watch term, ...).
    pub variant: String,
    /// Rule-pack version.
    pub pack_version: String,
    /// Score in 0..=1 (after category context).
    pub score: f64,
    /// Score before the category context.
    pub base_score: f64,
    /// Severity band of `score`.
    pub severity: FindingSeverity,
    /// Parties the finding is about (they receive its score).
    pub parties: Vec<PartyId>,
    /// Other parties involved (counterparties, intermediaries).
    pub related_parties: Vec<PartyId>,
    /// Transaction indices into the analysed slice, in canonical order.
    pub tx_indices: Vec<u32>,
    /// Their transaction ids.
    pub tx_ids: Vec<String>,
    /// Parameter values that fired, and the measured values.
    pub params: BTreeMap<String, String>,
    /// Category context applied (category ids).
    pub context: Vec<String>,
    /// First booking date.
    pub first_date: Option<NaiveDate>,
    /// Last booking date.
    pub last_date: Option<NaiveDate>,
    /// German explanation.
    pub explanation_de: String,
    /// English explanation.
    pub explanation_en: String,
}

/// Shared view for the rules.
pub struct Ctx<'a> {
    /// Transactions.
    pub txs: &'a [Transaction],
    /// Resolved parties.
    pub parties: &'a Parties,
    /// Graph.
    pub g: &'a TxGraph,
    /// Pack.
    pub pack: &'a RulePack,
    /// Country lists.
    pub countries: &'a CountryList,
}

impl Ctx<'_> {
    /// Usable for rules: active, not a reversal, amount ≠ 0.
    pub fn usable(&self, i: u32) -> bool {
        self.g.rank.get(i as usize).is_some_and(|r| *r != u32::MAX)
            && self
                .txs
                .get(i as usize)
                .is_some_and(|t| !t.reversal && t.amount.cents() != 0)
    }
    /// Booking date.
    pub fn date(&self, i: u32) -> NaiveDate {
        self.txs
            .get(i as usize)
            .map(|t| t.booking_date)
            .unwrap_or_default()
    }
    /// Absolute amount in cents.
    pub fn cents(&self, i: u32) -> i64 {
        self.txs
            .get(i as usize)
            .map_or(0, |t| t.amount.cents().saturating_abs())
    }
    /// Channel.
    pub fn channel(&self, i: u32) -> Channel {
        self.txs
            .get(i as usize)
            .map_or(Channel::Unknown, |t| t.channel)
    }
    /// Payer.
    pub fn payer(&self, i: u32) -> PartyId {
        self.g.payer.get(i as usize).copied().unwrap_or_default()
    }
    /// Payee.
    pub fn payee(&self, i: u32) -> PartyId {
        self.g.payee.get(i as usize).copied().unwrap_or_default()
    }
    /// Canonical rank.
    pub fn rank(&self, i: u32) -> u32 {
        self.g.rank.get(i as usize).copied().unwrap_or(u32::MAX)
    }
    /// CASH / UNKNOWN.
    pub fn special(&self, p: PartyId) -> bool {
        self.g.special.get(p.idx()).copied().unwrap_or(true)
    }
    /// Display name.
    pub fn name(&self, p: PartyId) -> &str {
        self.parties.get(p).map_or("?", |x| x.display_name.as_str())
    }
    /// Usable outgoing transactions of a party (canonical order).
    pub fn outs(&self, p: PartyId) -> Vec<u32> {
        self.g
            .out_tx
            .get(p.idx())
            .map(|v| v.iter().copied().filter(|&i| self.usable(i)).collect())
            .unwrap_or_default()
    }
    /// Usable incoming transactions of a party (canonical order).
    pub fn ins(&self, p: PartyId) -> Vec<u32> {
        self.g
            .in_tx
            .get(p.idx())
            .map(|v| v.iter().copied().filter(|&i| self.usable(i)).collect())
            .unwrap_or_default()
    }
    /// Whether the transaction's channel is in `channels` (empty = any).
    pub fn channel_in(&self, i: u32, channels: &[Channel]) -> bool {
        channels.is_empty() || channels.contains(&self.channel(i))
    }
    /// Real (not CASH/UNKNOWN) parties.
    pub fn real_parties(&self) -> Vec<PartyId> {
        (0..self.parties.parties.len() as u32)
            .map(PartyId)
            .filter(|&p| !self.special(p))
            .collect()
    }

    /// Builds a finding: sorts and dedups transactions canonically, derives the stable id,
    /// dates and severity.
    #[allow(clippy::too_many_arguments)]
    pub fn finding(
        &self,
        rule: &str,
        variant: &str,
        score: f64,
        mut parties: Vec<PartyId>,
        mut related: Vec<PartyId>,
        mut txs: Vec<u32>,
        params: Vec<(&str, String)>,
        explanation_de: String,
        explanation_en: String,
    ) -> Finding {
        txs.sort_unstable_by_key(|&i| (self.rank(i), i));
        txs.dedup();
        parties.sort_unstable();
        parties.dedup();
        related.sort_unstable();
        related.dedup();
        related.retain(|p| !parties.contains(p));
        let tx_ids: Vec<String> = txs
            .iter()
            .map(|&i| {
                self.txs
                    .get(i as usize)
                    .map(|t| t.tx_id.0.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("#{i}"))
            })
            .collect();
        let mut sorted_ids: Vec<&str> = tx_ids.iter().map(String::as_str).collect();
        sorted_ids.sort_unstable();
        let id = util::stable_hash_hex([rule, variant].into_iter().chain(sorted_ids));
        let score = if score.is_finite() {
            score.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let first_date = txs.iter().map(|&i| self.date(i)).min();
        let last_date = txs.iter().map(|&i| self.date(i)).max();
        Finding {
            id,
            rule: rule.to_owned(),
            variant: variant.to_owned(),
            pack_version: self.pack.version.clone(),
            score,
            base_score: score,
            severity: FindingSeverity::of(score),
            parties,
            related_parties: related,
            tx_indices: txs,
            tx_ids,
            params: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            context: Vec::new(),
            first_date,
            last_date,
            explanation_de,
            explanation_en,
        }
    }
}

/// `1 − 0.5^(x / at)`: 0.5 when `x` reaches the rule's minimum `at`, rising towards 1.
pub(crate) fn saturating(x: f64, at: f64) -> f64 {
    if at <= 0.0 {
        1.0
    } else {
        1.0 - 0.5f64.powf(x / at)
    }
}

/// Sliding window over transactions sorted by date: for each right end, the leftmost index
/// within `window_days` (inclusive day span `window_days`).
pub(crate) fn window_starts(dates: &[NaiveDate], window_days: i64) -> Vec<usize> {
    let mut out = Vec::with_capacity(dates.len());
    let mut l = 0;
    for (r, d) in dates.iter().enumerate() {
        while l < r && util::days(dates[l], *d) >= window_days {
            l += 1;
        }
        out.push(l);
    }
    out
}

/// Runs every enabled rule and the category context; findings sorted by score desc, then id.
pub fn run_rules(ctx: &Ctx<'_>) -> Vec<Finding> {
    let p = ctx.pack;
    let mut f = Vec::new();
    if p.structuring.enabled {
        f.extend(structuring::run(ctx));
    }
    if p.small_donors.enabled {
        f.extend(donors::run(ctx));
    }
    if p.pass_through.enabled {
        f.extend(pass_through::run(ctx));
    }
    if p.fan.enabled {
        f.extend(fan::run(ctx));
    }
    if p.cycles.enabled {
        f.extend(cycles::run(ctx));
    }
    if p.corridors.enabled {
        f.extend(corridors::run(ctx));
    }
    if p.watch_terms.enabled {
        f.extend(watch::run(ctx));
    }
    if p.behaviour.enabled {
        f.extend(behaviour::run(ctx));
    }
    if p.categories.enabled {
        categories::apply(ctx, &mut f);
    }
    // The same transactions can fire the same rule twice only through identical ids; keep one.
    f.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    f.dedup_by(|a, b| a.id == b.id);
    f
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::resolve::{CategoryList, ManualDecisions, ResolveOptions, resolve};

    /// Runs resolution, graph and one rule function on transactions.
    pub(crate) fn run_with(
        txs: &[Transaction],
        pack: &RulePack,
        rule: fn(&Ctx<'_>) -> Vec<Finding>,
    ) -> (Parties, Vec<Finding>) {
        let parties = resolve(
            txs,
            &CategoryList::default_list(),
            &ResolveOptions::default(),
            &ManualDecisions::default(),
        );
        let g = TxGraph::build(txs, &parties);
        let countries = CountryList::default_list();
        let ctx = Ctx {
            txs,
            parties: &parties,
            g: &g,
            pack,
            countries: &countries,
        };
        let f = rule(&ctx);
        (parties.clone(), f)
    }

    #[test]
    fn embedded_pack_and_lists_parse() {
        let p = RulePack::parse(DEFAULT_PACK, "default").unwrap();
        assert_eq!(p.version, "2026.11-2");
        assert_eq!(p.structuring.bands.len(), 4);
        assert_eq!(p.structuring.bands[0].channels, vec![Channel::CashDeposit]);
        assert!(p.watch_terms.terms.is_empty(), "no built-in watch terms");
        assert_eq!(RulePack::default_pack(), p);
        let c = CountryList::default_list();
        assert_eq!(c.version, "2026.11-1");
        assert_eq!(c.lists.len(), 3);
        assert_eq!(c.lists_for("ir").len(), 2);
        assert!(c.lists_for("DE").is_empty());
        assert!(CategoryList::default_list().categories.len() >= 5);
    }

    #[test]
    fn bad_packs_are_rejected() {
        let bad = DEFAULT_PACK.replace("max_len = 6", "max_len = 9");
        assert!(RulePack::parse(&bad, "x").is_err());
        let bad = DEFAULT_PACK.replace("weight = 1.0", "weight = 7.0");
        assert!(RulePack::parse(&bad, "x").is_err());
        let bad = DEFAULT_PACK.replace("[fan]", "[fan]\nbogus = 1");
        assert!(RulePack::parse(&bad, "x").is_err());
        assert!(RulePack::load(Path::new("/nonexistent/pack.toml")).is_err());
    }
}
