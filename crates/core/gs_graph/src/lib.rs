//! geldspur "follow the money": entity resolution, transaction graph, network measures and
//! typology rules. Core crate: no GUI, no I/O except loading rule packs and data files.
//!
//! Pipeline: [`resolve::resolve`] → [`graph::TxGraph::build`] → [`rules::run_rules`] →
//! [`score::party_scores`]; [`analyze`] runs all of it reproducibly. See `docs/DETECTION.md`.

// Graph algorithms (Brandes, core decomposition, FIFO matching) read best with the short
// names of their papers (s, v, w, d, l, r).
#![allow(clippy::many_single_char_names)]

pub mod graph;
pub mod measures;
pub mod resolve;
pub mod rules;
pub mod score;
mod util;

pub use graph::{GraphSummary, MeasureOptions, PartyMeasures, TxGraph};
pub use resolve::{
    CategoryList, ManualDecisions, MergeKind, MergeReason, Parties, Party, PartyId, PartyKind,
    ResolveOptions,
};
pub use rules::{CountryList, Finding, FindingSeverity, RulePack};
pub use score::PartyScore;

use gs_types::Transaction;
use serde::{Deserialize, Serialize};

/// Everything [`analyze`] needs besides the transactions and the rule pack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeOptions {
    /// Entity-resolution parameters.
    pub resolve: ResolveOptions,
    /// Manual merge/split decisions.
    pub manual: ManualDecisions,
    /// Counterparty categories (default: `assets/counterparty_categories.toml`).
    pub categories: CategoryList,
    /// High-risk country lists (default: `assets/high_risk_countries.toml`).
    pub countries: CountryList,
    /// Network-measure parameters.
    pub measures: MeasureOptions,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            resolve: ResolveOptions::default(),
            manual: ManualDecisions::default(),
            categories: CategoryList::default_list(),
            countries: CountryList::default_list(),
            measures: MeasureOptions::default(),
        }
    }
}

/// The result of [`analyze`]. Same input (in any order, with unique tx ids) → same output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Resolved parties and per-transaction payer/payee.
    pub parties: Parties,
    /// Graph counts.
    pub graph: GraphSummary,
    /// Network measures, index = party id.
    pub measures: Vec<PartyMeasures>,
    /// Findings, by score desc then id.
    pub findings: Vec<Finding>,
    /// Party risk scores, by rank.
    pub party_scores: Vec<PartyScore>,
    /// Rule-pack version.
    pub pack_version: String,
    /// Country-list version and date.
    pub countries_version: String,
    /// Country lists "as of".
    pub countries_as_of: String,
}

/// Resolution → graph → measures → rules → party scores. Returns the graph too (for GraphML
/// export, paths and neighbourhoods).
pub fn analyze_with_graph(
    txs: &[Transaction],
    pack: &RulePack,
    opts: &AnalyzeOptions,
) -> (Analysis, TxGraph) {
    let parties = resolve::resolve(txs, &opts.categories, &opts.resolve, &opts.manual);
    let g = TxGraph::build(txs, &parties);
    let measures = measures::compute(&g, &opts.measures);
    let ctx = rules::Ctx {
        txs,
        parties: &parties,
        g: &g,
        pack,
        countries: &opts.countries,
    };
    let findings = rules::run_rules(&ctx);
    let party_scores = score::party_scores(&parties, &findings, pack.score.related_weight);
    let graph = g.summary(&measures);
    let a = Analysis {
        parties,
        graph,
        measures,
        findings,
        party_scores,
        pack_version: pack.version.clone(),
        countries_version: opts.countries.version.clone(),
        countries_as_of: opts.countries.as_of.clone(),
    };
    (a, g)
}

/// Resolution → graph → measures → rules → party scores.
pub fn analyze(txs: &[Transaction], pack: &RulePack, opts: &AnalyzeOptions) -> Analysis {
    analyze_with_graph(txs, pack, opts).0
}

#[cfg(test)]
mod tests;
