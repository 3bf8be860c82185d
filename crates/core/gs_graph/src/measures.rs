//! Network measures on the transaction graph.
//!
//! Written here, not taken from rustworkx-core: rustworkx-core 0.18.1 declares `petgraph ^0.8`
//! (so it could share the workspace's 0.8.3), but adding it changes the shared Cargo.lock and
//! its parallel algorithms' reproducibility would need its own checks; a later change may swap
//! these for it (docs/DETECTION.md). Every measure is deterministic: nodes in id order,
//! sums in fixed order, sampled betweenness with a fixed seed and fixed chunking (rayon only
//! maps chunks; the chunk results are added in order).
//!
//! Degrees and weights use every edge. PageRank, betweenness, components, k-core and
//! communities use the *core graph*: edges between real parties only (no CASH / UNKNOWN, no
//! self-loops), because the pseudo-parties would otherwise join unrelated accounts.

use petgraph::visit::EdgeRef;
use rayon::prelude::*;

use crate::graph::{MeasureOptions, PartyMeasures, TxGraph};
use crate::resolve::PartyId;

/// Compressed adjacency lists (sorted, deduplicated targets).
struct Csr {
    start: Vec<usize>,
    target: Vec<u32>,
    weight: Vec<f64>,
}

impl Csr {
    fn from_edges(n: usize, mut edges: Vec<(u32, u32, f64)>) -> Self {
        edges.sort_unstable_by_key(|e| (e.0, e.1));
        // merge duplicates, summing weights in sorted order
        let mut merged: Vec<(u32, u32, f64)> = Vec::with_capacity(edges.len());
        for e in edges {
            match merged.last_mut() {
                Some(l) if l.0 == e.0 && l.1 == e.1 => l.2 += e.2,
                _ => merged.push(e),
            }
        }
        let mut start = vec![0usize; n + 1];
        for e in &merged {
            if let Some(s) = start.get_mut(e.0 as usize + 1) {
                *s += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        Self {
            start,
            target: merged.iter().map(|e| e.1).collect(),
            weight: merged.iter().map(|e| e.2).collect(),
        }
    }
    fn range(&self, v: usize) -> std::ops::Range<usize> {
        let a = self.start.get(v).copied().unwrap_or(0);
        let b = self.start.get(v + 1).copied().unwrap_or(a);
        a..b
    }
}

/// Computes all measures; result index `i` is `PartyId(i)`.
pub fn compute(g: &TxGraph, opts: &MeasureOptions) -> Vec<PartyMeasures> {
    let n = g.graph.node_count();
    let mut m: Vec<PartyMeasures> = (0..n)
        .map(|i| PartyMeasures {
            party: PartyId(i as u32),
            ..Default::default()
        })
        .collect();
    let mut core_dir: Vec<(u32, u32, f64)> = Vec::new();
    let mut core_und: Vec<(u32, u32, f64)> = Vec::new();
    for e in g.graph.edge_references() {
        let (a, b) = (e.source().index(), e.target().index());
        let w = e.weight();
        if a != b {
            if let Some(x) = m.get_mut(a) {
                x.out_degree += 1;
            }
            if let Some(x) = m.get_mut(b) {
                x.in_degree += 1;
            }
        }
        if let Some(x) = m.get_mut(a) {
            x.out_weight_cents = x.out_weight_cents.saturating_add(w.total_cents);
        }
        if let Some(x) = m.get_mut(b) {
            x.in_weight_cents = x.in_weight_cents.saturating_add(w.total_cents);
        }
        let special = |i: usize| g.special.get(i).copied().unwrap_or(true);
        if a != b && !special(a) && !special(b) {
            core_dir.push((a as u32, b as u32, w.total_cents as f64));
            core_und.push((a as u32, b as u32, f64::from(w.count)));
            core_und.push((b as u32, a as u32, f64::from(w.count)));
        }
    }
    let dir = Csr::from_edges(n, core_dir);
    let und = Csr::from_edges(n, core_und);

    for (x, pr) in m.iter_mut().zip(pagerank(&dir, n, opts)) {
        x.pagerank = pr;
    }
    for (x, b) in m.iter_mut().zip(betweenness(&dir, n, opts)) {
        x.betweenness = b;
    }
    for (x, c) in m.iter_mut().zip(components(&und, n)) {
        x.component = c;
    }
    for (x, c) in m.iter_mut().zip(k_core(&und, n)) {
        x.core = c;
    }
    for (x, c) in m
        .iter_mut()
        .zip(label_propagation(&und, n, opts.lpa_rounds, opts.seed))
    {
        x.community = c;
    }
    m
}

fn pagerank(dir: &Csr, n: usize, opts: &MeasureOptions) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let nf = n as f64;
    let out_w: Vec<f64> = (0..n)
        .map(|v| dir.range(v).map(|k| dir.weight[k]).sum())
        .collect();
    let mut p = vec![1.0 / nf; n];
    let d = opts.damping;
    for _ in 0..opts.max_iter {
        let dangling: f64 = (0..n).filter(|&v| out_w[v] <= 0.0).map(|v| p[v]).sum();
        let base = (1.0 - d) / nf + d * dangling / nf;
        let mut q = vec![base; n];
        for v in 0..n {
            if out_w[v] > 0.0 {
                let share = d * p[v] / out_w[v];
                for k in dir.range(v) {
                    q[dir.target[k] as usize] += share * dir.weight[k];
                }
            }
        }
        let diff: f64 = p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum();
        p = q;
        if diff < opts.tolerance {
            break;
        }
    }
    p
}

/// splitmix64: a tiny fixed PRNG for the source sample (no dependency, same on every machine).
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn betweenness(dir: &Csr, n: usize, opts: &MeasureOptions) -> Vec<f64> {
    // Fixed chunk size: the order of float additions must not depend on the thread count.
    const CHUNK: usize = 16;
    if n == 0 {
        return Vec::new();
    }
    let (sources, scale): (Vec<u32>, f64) =
        if n <= opts.betweenness_exact_limit || opts.betweenness_samples >= n {
            ((0..n as u32).collect(), 1.0)
        } else {
            // partial Fisher-Yates over node ids with a fixed seed
            let k = opts.betweenness_samples.max(1);
            let mut ids: Vec<u32> = (0..n as u32).collect();
            let mut st = opts.seed;
            for i in 0..k {
                let j = i + (splitmix(&mut st) % (n - i) as u64) as usize;
                ids.swap(i, j);
            }
            ids.truncate(k);
            ids.sort_unstable();
            (ids, n as f64 / k as f64)
        };
    let partial: Vec<Vec<f64>> = sources
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut acc = vec![0.0; n];
            let mut sigma = vec![0.0f64; n];
            let mut dist = vec![-1i64; n];
            let mut delta = vec![0.0f64; n];
            let mut order: Vec<u32> = Vec::new();
            let mut queue = std::collections::VecDeque::new();
            for &s in chunk {
                // Brandes: BFS counting shortest paths, then dependency accumulation.
                order.clear();
                sigma.fill(0.0);
                dist.fill(-1);
                delta.fill(0.0);
                sigma[s as usize] = 1.0;
                dist[s as usize] = 0;
                queue.push_back(s);
                while let Some(v) = queue.pop_front() {
                    order.push(v);
                    let dv = dist[v as usize];
                    for k in dir.range(v as usize) {
                        let w = dir.target[k] as usize;
                        if dist[w] < 0 {
                            dist[w] = dv + 1;
                            queue.push_back(w as u32);
                        }
                        if dist[w] == dv + 1 {
                            sigma[w] += sigma[v as usize];
                        }
                    }
                }
                for &w in order.iter().rev() {
                    let w = w as usize;
                    // predecessors of w are the v with an edge v→w and dist[v] = dist[w]−1;
                    // pushing dependency forward from v instead avoids storing predecessor lists.
                    for k in dir.range(w) {
                        let x = dir.target[k] as usize;
                        if dist[x] == dist[w] + 1 && sigma[x] > 0.0 {
                            delta[w] += sigma[w] / sigma[x] * (1.0 + delta[x]);
                        }
                    }
                    if w != s as usize {
                        acc[w] += delta[w];
                    }
                }
            }
            acc
        })
        .collect();
    let mut out = vec![0.0; n];
    for p in partial {
        for (o, v) in out.iter_mut().zip(p) {
            *o += v;
        }
    }
    for x in &mut out {
        *x *= scale;
    }
    out
}

fn components(und: &Csr, n: usize) -> Vec<u32> {
    let mut comp = vec![u32::MAX; n];
    let mut next = 0u32;
    let mut stack = Vec::new();
    for s in 0..n {
        if comp[s] != u32::MAX {
            continue;
        }
        comp[s] = next;
        stack.push(s);
        while let Some(v) = stack.pop() {
            for k in und.range(v) {
                let w = und.target[k] as usize;
                if comp[w] == u32::MAX {
                    comp[w] = next;
                    stack.push(w);
                }
            }
        }
        next += 1;
    }
    comp
}

/// Batagelj–Zaversnik O(m) core decomposition.
fn k_core(und: &Csr, n: usize) -> Vec<u32> {
    let mut deg: Vec<usize> = (0..n).map(|v| und.range(v).len()).collect();
    let maxd = deg.iter().copied().max().unwrap_or(0);
    let mut bin = vec![0usize; maxd + 1];
    for &d in &deg {
        bin[d] += 1;
    }
    let mut start = 0;
    for b in &mut bin {
        let c = *b;
        *b = start;
        start += c;
    }
    let mut pos = vec![0usize; n];
    let mut vert = vec![0usize; n];
    for v in 0..n {
        pos[v] = bin[deg[v]];
        vert[pos[v]] = v;
        bin[deg[v]] += 1;
    }
    for d in (1..=maxd).rev() {
        bin[d] = bin[d - 1];
    }
    if let Some(b) = bin.first_mut() {
        *b = 0;
    }
    for i in 0..n {
        let v = vert[i];
        for k in und.range(v) {
            let u = und.target[k] as usize;
            if deg[u] > deg[v] {
                let du = deg[u];
                let pu = pos[u];
                let pw = bin[du];
                let w = vert[pw];
                if u != w {
                    pos[u] = pw;
                    vert[pu] = w;
                    pos[w] = pu;
                    vert[pw] = u;
                }
                bin[du] += 1;
                deg[u] -= 1;
            }
        }
    }
    deg.into_iter().map(|d| d as u32).collect()
}

/// Asynchronous label propagation. A node takes the label with the largest summed edge weight
/// (transaction counts) among its neighbours. Ties keep the node's own label when it is among
/// them, else go to the tied label with the largest seeded hash — plain "smallest label wins"
/// floods the whole component with one label. Nodes are visited in a seeded shuffled order per
/// round. Both are fixed by `seed`, so the result is reproducible.
fn label_propagation(und: &Csr, n: usize, rounds: u32, seed: u64) -> Vec<u32> {
    let mut label: Vec<u32> = (0..n as u32).collect();
    let mut tally: Vec<(u32, f64)> = Vec::new();
    let mut order: Vec<usize> = (0..n).collect();
    let mut st = seed;
    let tie_hash = |l: u32, v: usize, r: u32| {
        let mut x =
            seed ^ (u64::from(l) << 32) ^ (v as u64).rotate_left(17) ^ u64::from(r).rotate_left(48);
        splitmix(&mut x)
    };
    for round in 0..rounds {
        for i in (1..n).rev() {
            let j = (splitmix(&mut st) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let mut changed = false;
        for &v in &order {
            let r = und.range(v);
            if r.is_empty() {
                continue;
            }
            tally.clear();
            for k in r {
                tally.push((label[und.target[k] as usize], und.weight[k]));
            }
            tally.sort_unstable_by_key(|t| t.0);
            let mut sums: Vec<(u32, f64)> = Vec::new();
            for &(l, w) in &tally {
                match sums.last_mut() {
                    Some(x) if x.0 == l => x.1 += w,
                    _ => sums.push((l, w)),
                }
            }
            let max = sums.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
            let own = label[v];
            let tied = sums.iter().filter(|x| x.1 >= max - 1e-9);
            let best = if sums.iter().any(|x| x.0 == own && x.1 >= max - 1e-9) {
                own
            } else {
                tied.max_by_key(|x| (tie_hash(x.0, v, round), x.0))
                    .map_or(own, |x| x.0)
            };
            if best != own {
                label[v] = best;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // dense ids in order of each community's smallest member
    let mut map = std::collections::HashMap::new();
    let mut next = 0u32;
    label
        .iter()
        .map(|l| {
            *map.entry(*l).or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}
