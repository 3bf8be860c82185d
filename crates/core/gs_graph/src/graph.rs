//! The transaction graph: parties as nodes, aggregated payer → payee flows as edges.
//!
//! Mirror rows (`mirror_of` set: the same transfer seen from the other account) are left
//! out, so each transfer counts once. All orders are canonical: transactions by
//! (booking date, tx id, input index), nodes by [`PartyId`], edges by (payer, payee). Nothing
//! depends on hash-map iteration order.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use chrono::NaiveDate;
use gs_types::Transaction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::resolve::{Parties, PartyId, PartyKind};

/// An aggregated flow payer → payee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeFlow {
    /// Number of transactions.
    pub count: u32,
    /// Sum of absolute amounts in cents (saturating).
    pub total_cents: i64,
    /// First booking date.
    pub first: NaiveDate,
    /// Last booking date.
    pub last: NaiveDate,
    /// Transaction indices (input order indices), in canonical order.
    pub tx: Vec<u32>,
}

/// The graph plus per-party transaction lists used by the rules.
#[derive(Clone, Debug)]
pub struct TxGraph {
    /// Node `i` is `PartyId(i)`.
    pub graph: DiGraph<PartyId, EdgeFlow>,
    /// Non-mirror transaction indices in canonical order (date, tx id, index).
    pub active: Vec<u32>,
    /// Position of each transaction in `active` (`u32::MAX` for mirrors).
    pub rank: Vec<u32>,
    /// Per party: outgoing transaction indices, canonical order.
    pub out_tx: Vec<Vec<u32>>,
    /// Per party: incoming transaction indices, canonical order.
    pub in_tx: Vec<Vec<u32>>,
    /// Mirror rows left out.
    pub mirrors_skipped: usize,
    /// Which parties are CASH / UNKNOWN.
    pub special: Vec<bool>,
    /// Payer party per transaction (input index).
    pub payer: Vec<PartyId>,
    /// Payee party per transaction (input index).
    pub payee: Vec<PartyId>,
}

/// Counts describing the graph.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphSummary {
    /// Nodes (parties).
    pub nodes: usize,
    /// Aggregated edges.
    pub edges: usize,
    /// Transactions counted (mirrors excluded).
    pub transactions: usize,
    /// Mirror rows left out.
    pub mirrors_skipped: usize,
    /// Weak components of the graph without CASH/UNKNOWN (isolated parties count).
    pub components: usize,
    /// Size of the largest of them.
    pub largest_component: usize,
}

/// A path whose transactions move forward in time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimePath {
    /// Parties from start to end.
    pub parties: Vec<PartyId>,
    /// One transaction per hop.
    pub txs: Vec<u32>,
}

/// A pass-through account collapsed: `from → via → to` shown as `from → to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collapsed {
    /// Original payer.
    pub from: PartyId,
    /// The pass-through party.
    pub via: PartyId,
    /// Final payee.
    pub to: PartyId,
    /// Cents `from → via`.
    pub in_cents: i64,
    /// Cents `via → to`.
    pub out_cents: i64,
    /// First date of the inflow.
    pub first_in: NaiveDate,
    /// Last date of the outflow.
    pub last_out: NaiveDate,
}

/// Network measures of one party.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartyMeasures {
    /// Party.
    pub party: PartyId,
    /// Distinct payers.
    pub in_degree: u32,
    /// Distinct payees.
    pub out_degree: u32,
    /// Cents received.
    pub in_weight_cents: i64,
    /// Cents paid.
    pub out_weight_cents: i64,
    /// Weighted PageRank (weights = cents).
    pub pagerank: f64,
    /// Directed betweenness (unnormalised; estimated from sampled sources on big graphs).
    pub betweenness: f64,
    /// Weak component id (dense, by smallest member).
    pub component: u32,
    /// k-core number (undirected, simple graph).
    pub core: u32,
    /// Community id (label propagation; dense, by smallest member).
    pub community: u32,
}

/// Parameters of the measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasureOptions {
    /// PageRank damping.
    pub damping: f64,
    /// PageRank iterations at most.
    pub max_iter: u32,
    /// PageRank L1 tolerance.
    pub tolerance: f64,
    /// Up to this many nodes betweenness is exact; above, `betweenness_samples` sources.
    pub betweenness_exact_limit: usize,
    /// Sources sampled above the limit.
    pub betweenness_samples: usize,
    /// Seed of the source sample.
    pub seed: u64,
    /// Label-propagation rounds at most.
    pub lpa_rounds: u32,
}

impl Default for MeasureOptions {
    fn default() -> Self {
        Self {
            damping: 0.85,
            max_iter: 100,
            tolerance: 1e-10,
            betweenness_exact_limit: 2_000,
            betweenness_samples: 128,
            seed: 0x5eed_cafe,
            lpa_rounds: 30,
        }
    }
}

fn abs_cents(t: &Transaction) -> i64 {
    t.amount.cents().saturating_abs()
}

impl TxGraph {
    /// Builds the graph from transactions and their resolved parties.
    pub fn build(txs: &[Transaction], parties: &Parties) -> Self {
        let n = parties.parties.len();
        let mut active: Vec<u32> = (0..txs.len() as u32)
            .filter(|&i| txs.get(i as usize).is_some_and(|t| t.mirror_of.is_none()))
            .collect();
        let mirrors_skipped = txs.len() - active.len();
        active.par_sort_unstable_by(|&a, &b| {
            let (ta, tb) = (&txs[a as usize], &txs[b as usize]);
            ta.booking_date
                .cmp(&tb.booking_date)
                .then_with(|| ta.tx_id.cmp(&tb.tx_id))
                .then(a.cmp(&b))
        });
        let mut rank = vec![u32::MAX; txs.len()];
        let mut out_tx: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut in_tx: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut agg: HashMap<(u32, u32), EdgeFlow> = HashMap::new();
        for (r, &i) in active.iter().enumerate() {
            rank[i as usize] = r as u32;
            let t = &txs[i as usize];
            let (Some(&p), Some(&q)) = (
                parties.tx_payer.get(i as usize),
                parties.tx_payee.get(i as usize),
            ) else {
                continue;
            };
            if let Some(v) = out_tx.get_mut(p.idx()) {
                v.push(i);
            }
            if let Some(v) = in_tx.get_mut(q.idx()) {
                v.push(i);
            }
            let e = agg.entry((p.0, q.0)).or_insert_with(|| EdgeFlow {
                count: 0,
                total_cents: 0,
                first: t.booking_date,
                last: t.booking_date,
                tx: Vec::new(),
            });
            e.count += 1;
            e.total_cents = e.total_cents.saturating_add(abs_cents(t));
            e.first = e.first.min(t.booking_date);
            e.last = e.last.max(t.booking_date);
            e.tx.push(i);
        }
        let mut edges: Vec<((u32, u32), EdgeFlow)> = agg.into_iter().collect();
        edges.sort_unstable_by_key(|(k, _)| *k);
        let mut graph = DiGraph::with_capacity(n, edges.len());
        for i in 0..n {
            graph.add_node(PartyId(i as u32));
        }
        for ((a, b), e) in edges {
            graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), e);
        }
        let special = (0..n)
            .map(|i| parties.is_special(PartyId(i as u32)))
            .collect();
        Self {
            graph,
            active,
            rank,
            out_tx,
            in_tx,
            mirrors_skipped,
            special,
            payer: parties.tx_payer.clone(),
            payee: parties.tx_payee.clone(),
        }
    }

    /// Summary counts (uses the weak components of [`crate::measures::compute`]' core graph).
    pub fn summary(&self, measures: &[PartyMeasures]) -> GraphSummary {
        let mut sizes: HashMap<u32, usize> = HashMap::new();
        for m in measures {
            *sizes.entry(m.component).or_default() += 1;
        }
        GraphSummary {
            nodes: self.graph.node_count(),
            edges: self.graph.edge_count(),
            transactions: self.active.len(),
            mirrors_skipped: self.mirrors_skipped,
            components: sizes.len(),
            largest_component: sizes.values().copied().max().unwrap_or(0),
        }
    }

    /// Time-respecting paths `from → … → to`: each hop's booking date is on or after the
    /// previous hop's, all within `window_days` of the first hop, at most `max_hops` hops
    /// (clamped to 8), no party twice, at most `max_paths` paths and a fixed work budget.
    pub fn time_paths(
        &self,
        txs: &[Transaction],
        from: PartyId,
        to: PartyId,
        max_hops: usize,
        window_days: i64,
        max_paths: usize,
    ) -> Vec<TimePath> {
        struct Search<'a> {
            g: &'a TxGraph,
            txs: &'a [Transaction],
            to: PartyId,
            max_hops: usize,
            window_days: i64,
            max_paths: usize,
            budget: u64,
            out: Vec<TimePath>,
        }
        impl Search<'_> {
            fn go(
                &mut self,
                at: PartyId,
                after: Option<NaiveDate>,
                start: Option<NaiveDate>,
                path: &mut TimePath,
            ) {
                if self.out.len() >= self.max_paths || path.txs.len() >= self.max_hops {
                    return;
                }
                let Some(list) = self.g.out_tx.get(at.idx()) else {
                    return;
                };
                let from_pos = after.map_or(0, |d| {
                    list.partition_point(|&i| self.txs[i as usize].booking_date < d)
                });
                for &i in list.iter().skip(from_pos) {
                    if self.budget == 0 || self.out.len() >= self.max_paths {
                        return;
                    }
                    self.budget -= 1;
                    let d = self.txs[i as usize].booking_date;
                    let s = start.unwrap_or(d);
                    if crate::util::days(s, d) > self.window_days {
                        break;
                    }
                    let Some(next) = self.g.payee_of(i) else {
                        continue;
                    };
                    let special = self.g.special.get(next.idx()).copied().unwrap_or(true);
                    if path.parties.contains(&next) || (special && next != self.to) {
                        continue;
                    }
                    path.parties.push(next);
                    path.txs.push(i);
                    if next == self.to {
                        self.out.push(path.clone());
                    } else {
                        self.go(next, Some(d), Some(s), path);
                    }
                    path.parties.pop();
                    path.txs.pop();
                }
            }
        }
        if from == to {
            return Vec::new();
        }
        let mut s = Search {
            g: self,
            txs,
            to,
            max_hops: max_hops.min(8),
            window_days,
            max_paths,
            budget: 1_000_000,
            out: Vec::new(),
        };
        let mut path = TimePath {
            parties: vec![from],
            txs: Vec::new(),
        };
        s.go(from, None, None, &mut path);
        s.out
    }

    /// Payee party of a transaction.
    fn payee_of(&self, i: u32) -> Option<PartyId> {
        self.payee.get(i as usize).copied()
    }

    /// Parties within `hops` steps (either direction), with their distance, sorted by
    /// (distance, id). Includes `start` at distance 0.
    pub fn neighbourhood(&self, start: PartyId, hops: u32) -> Vec<(PartyId, u32)> {
        let n = self.graph.node_count();
        if start.idx() >= n {
            return Vec::new();
        }
        let mut dist = vec![u32::MAX; n];
        dist[start.idx()] = 0;
        let mut q = VecDeque::from([start.idx()]);
        while let Some(v) = q.pop_front() {
            let d = dist[v];
            if d >= hops {
                continue;
            }
            let node = NodeIndex::new(v);
            let mut nb: Vec<usize> = self
                .graph
                .edges_directed(node, petgraph::Direction::Outgoing)
                .map(|e| e.target().index())
                .chain(
                    self.graph
                        .edges_directed(node, petgraph::Direction::Incoming)
                        .map(|e| e.source().index()),
                )
                .collect();
            nb.sort_unstable();
            for w in nb {
                if dist[w] == u32::MAX {
                    dist[w] = d + 1;
                    q.push_back(w);
                }
            }
        }
        let mut out: Vec<(PartyId, u32)> = dist
            .iter()
            .enumerate()
            .filter(|(_, d)| **d != u32::MAX)
            .map(|(i, d)| (PartyId(i as u32), *d))
            .collect();
        out.sort_unstable_by_key(|(p, d)| (*d, *p));
        out
    }

    /// Collapses `via` as a pass-through: every inflow edge `A → via` paired with every
    /// outflow edge `via → B` (A ≠ B) whose money could have passed (inflow's first date on or
    /// before the outflow's last date). At most `max` pairs, sorted by (from, to).
    pub fn collapse_pass_through(&self, via: PartyId, max: usize) -> Vec<Collapsed> {
        if via.idx() >= self.graph.node_count() {
            return Vec::new();
        }
        let node = NodeIndex::new(via.idx());
        let mut ins: Vec<_> = self
            .graph
            .edges_directed(node, petgraph::Direction::Incoming)
            .collect();
        let mut outs: Vec<_> = self
            .graph
            .edges_directed(node, petgraph::Direction::Outgoing)
            .collect();
        ins.sort_unstable_by_key(|e| e.source().index());
        outs.sort_unstable_by_key(|e| e.target().index());
        let mut res = Vec::new();
        'outer: for i in &ins {
            for o in &outs {
                if i.source() == o.target() || i.source() == node || o.target() == node {
                    continue;
                }
                if i.weight().first > o.weight().last {
                    continue;
                }
                if res.len() >= max {
                    break 'outer;
                }
                res.push(Collapsed {
                    from: PartyId(i.source().index() as u32),
                    via,
                    to: PartyId(o.target().index() as u32),
                    in_cents: i.weight().total_cents,
                    out_cents: o.weight().total_cents,
                    first_in: i.weight().first,
                    last_out: o.weight().last,
                });
            }
        }
        res
    }

    /// Deterministic GraphML (nodes by id, edges by (payer, payee)).
    pub fn to_graphml(&self, parties: &Parties) -> String {
        let mut s = String::with_capacity(
            256 + self.graph.edge_count() * 160 + self.graph.node_count() * 120,
        );
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        s.push_str("<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n");
        for (id, on, name, ty) in [
            ("uid", "node", "uid", "string"),
            ("name", "node", "name", "string"),
            ("kind", "node", "kind", "string"),
            ("count", "edge", "count", "int"),
            ("total_cents", "edge", "total_cents", "long"),
            ("first", "edge", "first", "string"),
            ("last", "edge", "last", "string"),
        ] {
            let _ = writeln!(
                s,
                "  <key id=\"{id}\" for=\"{on}\" attr.name=\"{name}\" attr.type=\"{ty}\"/>"
            );
        }
        s.push_str("  <graph id=\"G\" edgedefault=\"directed\">\n");
        for p in &parties.parties {
            let kind = match p.kind {
                PartyKind::Account => "account",
                PartyKind::NameOnly => "name_only",
                PartyKind::Cash => "cash",
                PartyKind::Unknown => "unknown",
            };
            let _ = writeln!(
                s,
                "    <node id=\"n{}\"><data key=\"uid\">{}</data><data key=\"name\">{}</data><data key=\"kind\">{kind}</data></node>",
                p.id.0,
                xml_escape(&p.uid),
                xml_escape(&p.display_name)
            );
        }
        for e in self.graph.edge_references() {
            let w = e.weight();
            let _ = writeln!(
                s,
                "    <edge source=\"n{}\" target=\"n{}\"><data key=\"count\">{}</data><data key=\"total_cents\">{}</data><data key=\"first\">{}</data><data key=\"last\">{}</data></edge>",
                e.source().index(),
                e.target().index(),
                w.count,
                w.total_cents,
                w.first,
                w.last
            );
        }
        s.push_str("  </graph>\n</graphml>\n");
        s
    }
}

fn xml_escape(t: &str) -> String {
    let mut o = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::tests::{side, tx};
    use crate::resolve::{CategoryList, ManualDecisions, ResolveOptions, resolve};
    use gs_types::{PartyRef, TxId};

    pub(crate) const IA: &str = "DE89370400440532013000";
    pub(crate) const IB: &str = "DE02120300000000202051";
    pub(crate) const IC: &str = "DE12500105170648489890";
    pub(crate) const ID: &str = "DE02500105170137075030";

    fn build(txs: &[Transaction]) -> (Parties, TxGraph) {
        let p = resolve(
            txs,
            &CategoryList::default_list(),
            &ResolveOptions::default(),
            &ManualDecisions::default(),
        );
        let g = TxGraph::build(txs, &p);
        (p, g)
    }

    fn pid(p: &Parties, iban: &str) -> PartyId {
        p.parties
            .iter()
            .find(|x| x.ibans.iter().any(|i| i == iban))
            .unwrap()
            .id
    }

    #[test]
    fn mirrors_are_counted_once() {
        let a = side(Some("A"), Some(IA));
        let b = side(Some("B"), Some(IB));
        let t1 = tx("1", a.clone(), b.clone(), -10_000, 0);
        let mut t2 = tx("2", b, a, 10_000, 0);
        t2.mirror_of = Some(TxId("1".into()));
        let (p, g) = build(&[t1, t2]);
        assert_eq!(g.graph.edge_count(), 1);
        let e = g.graph.edge_references().next().unwrap();
        assert_eq!(e.weight().count, 1);
        assert_eq!(e.weight().total_cents, 10_000);
        assert_eq!(e.source().index(), pid(&p, IA).idx());
        assert_eq!(
            g.summary(&crate::measures::compute(&g, &MeasureOptions::default()))
                .mirrors_skipped,
            1
        );
    }

    #[test]
    fn time_respecting_paths_reject_backwards_hops() {
        let (a, b, c) = (
            side(Some("A"), Some(IA)),
            side(Some("B"), Some(IB)),
            side(Some("C"), Some(IC)),
        );
        // A→B on day 5, B→C on day 3 (earlier): not a path. B→C on day 7: a path.
        let txs = vec![
            tx("1", a.clone(), b.clone(), -100, 5),
            tx("2", b.clone(), c.clone(), -100, 3),
        ];
        let (p, g) = build(&txs);
        assert!(
            g.time_paths(&txs, pid(&p, IA), pid(&p, IC), 4, 30, 10)
                .is_empty()
        );
        let mut txs2 = txs.clone();
        txs2.push(tx("3", b, c, -100, 7));
        let (p, g) = build(&txs2);
        let paths = g.time_paths(&txs2, pid(&p, IA), pid(&p, IC), 4, 30, 10);
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].txs, vec![0, 2]);
        // window too short
        assert!(
            g.time_paths(&txs2, pid(&p, IA), pid(&p, IC), 4, 1, 10)
                .is_empty()
        );
        // hop limit
        assert!(
            g.time_paths(&txs2, pid(&p, IA), pid(&p, IC), 1, 30, 10)
                .is_empty()
        );
        let _ = a;
    }

    #[test]
    fn neighbourhood_collapse_and_graphml() {
        let (a, b, c, d) = (
            side(Some("A & <Co>"), Some(IA)),
            side(Some("B"), Some(IB)),
            side(Some("C"), Some(IC)),
            side(Some("D"), Some(ID)),
        );
        let txs = vec![
            tx("1", a.clone(), b.clone(), -500, 1),
            tx("2", b.clone(), c.clone(), -490, 2),
            tx("3", c.clone(), d.clone(), -480, 3),
        ];
        let (p, g) = build(&txs);
        let nb = g.neighbourhood(pid(&p, IB), 1);
        assert_eq!(nb.len(), 3);
        assert_eq!(nb[0], (pid(&p, IB), 0));
        assert_eq!(g.neighbourhood(pid(&p, IB), 2).len(), 4);
        let col = g.collapse_pass_through(pid(&p, IB), 100);
        assert_eq!(col.len(), 1);
        assert_eq!(
            (col[0].from, col[0].to, col[0].in_cents, col[0].out_cents),
            (pid(&p, IA), pid(&p, IC), 500, 490)
        );
        let x = g.to_graphml(&p);
        assert!(x.contains("A &amp; &lt;Co&gt;"));
        assert_eq!(x.matches("<edge ").count(), 3);
        assert_eq!(x, g.to_graphml(&p));
        let m = crate::measures::compute(&g, &MeasureOptions::default());
        // chain A→B→C→D: B and C lie on shortest paths (B: A→C, A→D; C: A→D, B→D)
        assert!((m[pid(&p, IB).idx()].betweenness - 2.0).abs() < 1e-9);
        assert!((m[pid(&p, IC).idx()].betweenness - 2.0).abs() < 1e-9);
        assert!(m[pid(&p, IA).idx()].betweenness.abs() < 1e-12);
        assert_eq!(m[pid(&p, IB).idx()].in_degree, 1);
        assert_eq!(m[pid(&p, IB).idx()].out_weight_cents, 490);
        assert_eq!(
            m[pid(&p, IA).idx()].component,
            m[pid(&p, ID).idx()].component
        );
        assert_eq!(m[pid(&p, IB).idx()].core, 1);
        let pr: f64 = m.iter().map(|x| x.pagerank).sum();
        assert!((pr - 1.0).abs() < 1e-6);
        assert!(m[pid(&p, ID).idx()].pagerank > m[pid(&p, IA).idx()].pagerank);
    }

    #[test]
    fn k_core_communities_and_sampled_betweenness() {
        // two triangles joined by one edge: cores 2, two communities
        let ib = [
            IA,
            IB,
            IC,
            ID,
            "DE75512108001245126199",
            "DE91100000000123456789",
        ];
        let s: Vec<PartyRef> = ib
            .iter()
            .enumerate()
            .map(|(i, x)| side(Some(&format!("N{i}")), Some(x)))
            .collect();
        let mut txs = Vec::new();
        for (k, (a, b)) in [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (2, 3)]
            .iter()
            .enumerate()
        {
            for r in 0..3 {
                txs.push(tx(
                    &format!("{k}-{r}"),
                    s[*a].clone(),
                    s[*b].clone(),
                    -100,
                    r,
                ));
            }
        }
        let (p, g) = build(&txs);
        let m = crate::measures::compute(&g, &MeasureOptions::default());
        let id = |i: usize| pid(&p, ib[i]).idx();
        assert!((0..6).all(|i| m[id(i)].core == 2));
        assert_eq!(m[id(0)].community, m[id(1)].community);
        assert_eq!(m[id(3)].community, m[id(5)].community);
        assert_ne!(m[id(0)].community, m[id(3)].community);
        let sampled = crate::measures::compute(
            &g,
            &MeasureOptions {
                betweenness_exact_limit: 2,
                betweenness_samples: 3,
                ..Default::default()
            },
        );
        assert_eq!(
            sampled,
            crate::measures::compute(
                &g,
                &MeasureOptions {
                    betweenness_exact_limit: 2,
                    betweenness_samples: 3,
                    ..Default::default()
                }
            )
        );
    }
}
