//! Party risk score: a documented, monotone combination of finding scores.
//!
//! `risk(p) = 1 − (1 − r) · Π (1 − sᵢ)`: the product over the findings about `p` (`p` in
//! [`Finding::parties`]); `r = related_weight × max sⱼ` over the findings `p` only takes part in
//! ([`Finding::related_parties`]: the donors of a fan-in, the payees of a fan-out), pack
//! `[score]`, default 0.25 — taking part lifts a party above the uninvolved but never above
//! `related_weight`, however many findings it appears in. Adding a finding or raising a
//! score never lowers the risk.
//! The product runs over findings in their canonical order (score desc, id), so the float
//! result is reproducible. Ranking: risk desc, then `uid` asc; rank 1 is the highest.

use serde::{Deserialize, Serialize};

use crate::resolve::{Parties, PartyId};
use crate::rules::Finding;

/// Score and rank of one party.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartyScore {
    /// Party.
    pub party: PartyId,
    /// Its stable uid.
    pub uid: String,
    /// Risk in 0..=1.
    pub score: f64,
    /// 1-based rank.
    pub rank: u32,
    /// Number of findings naming the party (as subject or related party).
    pub findings: u32,
    /// Ids of its top findings (at most 3, by score then id).
    pub top_findings: Vec<String>,
}

/// Scores and ranks all parties (sorted by rank).
pub fn party_scores(
    parties: &Parties,
    findings: &[Finding],
    related_weight: f64,
) -> Vec<PartyScore> {
    let n = parties.parties.len();
    let mut keep = vec![1.0f64; n];
    let mut related_max = vec![0.0f64; n];
    let mut count = vec![0u32; n];
    let mut top: Vec<Vec<String>> = vec![Vec::new(); n];
    let rw = related_weight.clamp(0.0, 1.0);
    // findings arrive sorted (score desc, id); the first three per party are its top reasons
    for f in findings {
        let sc = f.score.clamp(0.0, 1.0);
        for p in &f.parties {
            if let Some(k) = keep.get_mut(p.idx()) {
                *k *= 1.0 - sc;
                count[p.idx()] += 1;
                if top[p.idx()].len() < 3 {
                    top[p.idx()].push(f.id.clone());
                }
            }
        }
        if rw <= 0.0 {
            continue;
        }
        for p in &f.related_parties {
            if let Some(r) = related_max.get_mut(p.idx()) {
                *r = r.max(rw * sc);
                count[p.idx()] += 1;
                if top[p.idx()].len() < 3 {
                    top[p.idx()].push(f.id.clone());
                }
            }
        }
    }
    // own findings combine; taking part adds at most `related_weight` (the best one counts)
    for (k, r) in keep.iter_mut().zip(&related_max) {
        *k *= 1.0 - r;
    }
    let mut out: Vec<PartyScore> = parties
        .parties
        .iter()
        .map(|p| PartyScore {
            party: p.id,
            uid: p.uid.clone(),
            score: 1.0 - keep[p.id.idx()],
            rank: 0,
            findings: count[p.id.idx()],
            top_findings: std::mem::take(&mut top[p.id.idx()]),
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.uid.cmp(&b.uid)));
    for (k, s) in out.iter_mut().enumerate() {
        s.rank = k as u32 + 1;
    }
    out
}
