//! Detection quality against ground truth: per-typology recall and precision of the rules on
//! the generator's ledger, and ranking metrics (precision@k, recall in the top 1 % / 5 %,
//! ROC-AUC, PR-AUC) for party scores against party labels (generator, AMLSim).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use gs_graph::{Analysis, Finding};
use gs_synth::ledger::{KINDS, Ledger};

/// The rule (and structuring band) expected to report each generator typology.
pub fn expected_rule(kind: &str) -> (&'static str, Option<&'static str>) {
    match kind {
        "structuring_cash_10000" => ("structuring", Some("cash_below_10000")),
        "structuring_cash_2500" => ("structuring", Some("cash_below_2500")),
        "structuring_transfer_1000" => ("structuring", Some("transfer_below_1000")),
        "structuring_other_15000" => ("structuring", Some("other_below_15000")),
        "small_donors" => ("small_donors", None),
        "pass_through_chain" => ("pass_through", None),
        "cycle" => ("cycle", None),
        "fan_out" => ("fan_out", None),
        "scatter_gather" => ("scatter_gather", None),
        "gather_scatter" => ("gather_scatter", None),
        "corridor" => ("corridor", None),
        "dormant_reactivation" => ("dormant_reactivation", None),
        "behaviour_jump" => ("behaviour_jump", None),
        _ => ("?", None),
    }
}

/// One line of the per-typology table.
#[derive(Clone, Debug, PartialEq)]
pub struct TypologyRow {
    /// Generator typology.
    pub kind: String,
    /// Rule (and band) expected to report it.
    pub rule: String,
    /// Injected instances.
    pub instances: usize,
    /// Instances whose transactions the rule's findings cover to at least half.
    pub found: usize,
    /// `found / instances`.
    pub recall: f64,
    /// Findings of that rule (and band).
    pub findings: usize,
    /// Of these, findings that touch injected transactions (of any typology).
    pub true_findings: usize,
    /// `true_findings / findings` (1 when there are none).
    pub precision: f64,
}

fn matches(f: &Finding, rule: &str, variant: Option<&str>) -> bool {
    f.rule == rule && variant.is_none_or(|v| f.variant == v)
}

/// Row index per tx id, and the rows of all injected instances.
fn injected_rows(ledger: &Ledger) -> (HashMap<&str, u32>, HashSet<u32>) {
    let idx: HashMap<&str, u32> = ledger
        .transactions
        .iter()
        .enumerate()
        .map(|(i, t)| (t.tx_id.0.as_str(), i as u32))
        .collect();
    let injected: HashSet<u32> = ledger
        .instances
        .iter()
        .flat_map(|i| i.tx_ids.iter())
        .filter_map(|t| idx.get(t.as_str()).copied())
        .collect();
    (idx, injected)
}

/// Per-typology recall and precision of the rules on a generated ledger.
pub fn typology_table(ledger: &Ledger, analysis: &Analysis) -> Vec<TypologyRow> {
    let (idx, injected) = injected_rows(ledger);
    KINDS
        .iter()
        .map(|&kind| {
            let (rule, variant) = expected_rule(kind);
            let fs: Vec<&Finding> = analysis
                .findings
                .iter()
                .filter(|f| matches(f, rule, variant))
                .collect();
            let covered: HashSet<u32> = fs
                .iter()
                .flat_map(|f| f.tx_indices.iter().copied())
                .collect();
            let inst: Vec<_> = ledger.instances.iter().filter(|i| i.kind == kind).collect();
            let found = inst
                .iter()
                .filter(|i| {
                    let hit = i
                        .tx_ids
                        .iter()
                        .filter(|t| idx.get(t.as_str()).is_some_and(|x| covered.contains(x)))
                        .count();
                    hit * 2 >= i.tx_ids.len()
                })
                .count();
            let true_findings = fs
                .iter()
                .filter(|f| f.tx_indices.iter().any(|i| injected.contains(i)))
                .count();
            TypologyRow {
                kind: kind.to_owned(),
                rule: variant.map_or_else(|| rule.to_owned(), |v| format!("{rule}/{v}")),
                instances: inst.len(),
                found,
                recall: ratio(found, inst.len()),
                findings: fs.len(),
                true_findings,
                precision: ratio(true_findings, fs.len()),
            }
        })
        .collect()
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Findings per rule that touch no injected transaction (the rules without a typology of
/// their own, e.g. watch terms, show up here too).
pub fn false_findings_by_rule(
    ledger: &Ledger,
    analysis: &Analysis,
) -> BTreeMap<String, (usize, usize)> {
    let (_, injected) = injected_rows(ledger);
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for f in &analysis.findings {
        let key = if f.variant.is_empty() || f.rule == "corridor" || f.rule == "cycle" {
            f.rule.clone()
        } else {
            format!("{}/{}", f.rule, f.variant)
        };
        let e = out.entry(key).or_default();
        e.0 += 1;
        if !f.tx_indices.iter().any(|i| injected.contains(i)) {
            e.1 += 1;
        }
    }
    out
}

/// Markdown table of [`typology_table`] rows.
pub fn typology_markdown(rows: &[TypologyRow]) -> String {
    let mut s = String::from(
        "| typology | rule | instances | found | recall | findings | on injected | precision |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.2} | {} | {} | {:.2} |",
            r.kind,
            r.rule,
            r.instances,
            r.found,
            r.recall,
            r.findings,
            r.true_findings,
            r.precision
        );
    }
    s
}

/// Ranking quality of party scores against binary labels.
#[derive(Clone, Debug, PartialEq)]
pub struct RankMetrics {
    /// Parties ranked.
    pub n: usize,
    /// Positives among them.
    pub positives: usize,
    /// `k` used for precision@k (= positives).
    pub k: usize,
    /// Precision among the top `k`.
    pub precision_at_k: f64,
    /// Share of positives in the top 1 %.
    pub recall_top1: f64,
    /// Share of positives in the top 5 %.
    pub recall_top5: f64,
    /// Area under the ROC curve (ties count half).
    pub roc_auc: f64,
    /// Average precision (area under the precision-recall curve).
    pub pr_auc: f64,
}

/// Ranks by score descending (ties by input order, so equal scores are not rewarded) and
/// measures against `labels`.
#[allow(clippy::many_single_char_names)] // n, k, i, j, r: the textbook names of these sums
pub fn rank_metrics(scores: &[f64], labels: &[bool]) -> RankMetrics {
    let n = scores.len().min(labels.len());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let positives = labels[..n].iter().filter(|&&l| l).count();
    let top = |frac: f64| -> f64 {
        let m = ((n as f64 * frac).ceil() as usize).min(n);
        ratio(order[..m].iter().filter(|&&i| labels[i]).count(), positives)
    };
    let k = positives.max(1).min(n);
    let precision_at_k = order[..k].iter().filter(|&&i| labels[i]).count() as f64 / k as f64;
    // average precision
    let mut hits = 0usize;
    let mut ap = 0.0;
    for (r, &i) in order.iter().enumerate() {
        if labels[i] {
            hits += 1;
            ap += hits as f64 / (r + 1) as f64;
        }
    }
    let pr_auc = if positives == 0 {
        0.0
    } else {
        ap / positives as f64
    };
    // ROC-AUC by ranks with ties averaged (Mann–Whitney U)
    let mut asc: Vec<usize> = (0..n).collect();
    asc.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank = vec![0.0f64; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[asc[j + 1]].total_cmp(&scores[asc[i]]).is_eq() {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &x in &asc[i..=j] {
            rank[x] = r;
        }
        i = j + 1;
    }
    let neg = n - positives;
    let roc_auc = if positives == 0 || neg == 0 {
        0.5
    } else {
        let sum: f64 = (0..n).filter(|&x| labels[x]).map(|x| rank[x]).sum();
        (sum - (positives * (positives + 1)) as f64 / 2.0) / (positives * neg) as f64
    };
    RankMetrics {
        n,
        positives,
        k,
        precision_at_k,
        recall_top1: top(0.01),
        recall_top5: top(0.05),
        roc_auc,
        pr_auc,
    }
}

/// Labels per party of an analysis: a party is positive when one of its IBANs is in `accounts`.
pub fn party_labels<S: std::hash::BuildHasher>(
    analysis: &Analysis,
    accounts: &HashSet<String, S>,
) -> Vec<bool> {
    analysis
        .parties
        .parties
        .iter()
        .map(|p| p.ibans.iter().any(|i| accounts.contains(i)))
        .collect()
}

/// Rule-only party scores of an analysis, index = party id.
pub fn rule_scores(analysis: &Analysis) -> Vec<f64> {
    let mut v = vec![0.0; analysis.parties.parties.len()];
    for s in &analysis.party_scores {
        if let Some(x) = v.get_mut(s.party.idx()) {
            *x = s.score;
        }
    }
    v
}

/// Ranking metrics of the score columns of an `analyze` output's `parties.csv` against
/// AMLSim's account labels (`nodes.csv`: nodeid,isFraud,...). Parties are matched by their
/// account number (`other_accounts` holds the node id); AMLSim accounts that never transact
/// are not in `parties.csv` and are not ranked.
pub fn amlsim_party_metrics(
    parties_csv: &std::path::Path,
    nodes_csv: &std::path::Path,
    columns: &[&str],
) -> Result<Vec<(String, RankMetrics)>, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let mut fraud: HashMap<String, bool> = HashMap::new();
    let mut r = csv::Reader::from_path(nodes_csv).map_err(|e| err(&e))?;
    for rec in r.records() {
        let rec = rec.map_err(|e| err(&e))?;
        fraud.insert(rec.get(0).unwrap_or("").to_owned(), rec.get(1) == Some("1"));
    }
    let mut r = csv::Reader::from_path(parties_csv).map_err(|e| err(&e))?;
    let head = r.headers().map_err(|e| err(&e))?.clone();
    let pos = |name: &str| head.iter().position(|h| h == name);
    let acc = pos("other_accounts").ok_or("parties.csv has no other_accounts column")?;
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| pos(c).ok_or(format!("parties.csv has no column {c}")))
        .collect::<Result<_, _>>()?;
    let mut labels = Vec::new();
    let mut scores: Vec<Vec<f64>> = vec![Vec::new(); columns.len()];
    for rec in r.records() {
        let rec = rec.map_err(|e| err(&e))?;
        let accounts = rec.get(acc).unwrap_or("");
        let Some(&l) = accounts.split(['|', ';', ' ']).find_map(|a| fraud.get(a)) else {
            continue;
        };
        labels.push(l);
        for (k, &i) in idx.iter().enumerate() {
            scores[k].push(rec.get(i).and_then(|v| v.parse().ok()).unwrap_or(0.0));
        }
    }
    Ok(columns
        .iter()
        .zip(scores)
        .map(|(c, s)| ((*c).to_owned(), rank_metrics(&s, &labels)))
        .collect())
}

/// Plain baseline: each party's largest |z-score| of ln(amount) over its transactions (payer or
/// payee), z against the whole case.
pub fn baseline_amount_z(txs: &[gs_types::Transaction], analysis: &Analysis) -> Vec<f64> {
    let xs: Vec<f64> = txs
        .iter()
        .map(|t| (t.amount.cents().unsigned_abs() as f64 / 100.0).ln_1p())
        .collect();
    let n = xs.len().max(1) as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n)
        .sqrt()
        .max(1e-9);
    let mut out = vec![0.0f64; analysis.parties.parties.len()];
    for (i, x) in xs.iter().enumerate() {
        let z = ((x - mean) / sd).abs();
        for p in [analysis.parties.tx_payer[i], analysis.parties.tx_payee[i]] {
            if let Some(v) = out.get_mut(p.idx()) {
                *v = v.max(z);
            }
        }
    }
    out
}

/// One line of the model comparison.
#[derive(Clone, Debug)]
pub struct VariantRow {
    /// Variant name.
    pub variant: String,
    /// Parties measured (labelled parties are left out of the label variants).
    pub metrics: RankMetrics,
}

fn subset(scores: &[f64], labels: &[bool], keep: &[bool]) -> RankMetrics {
    let (s, l): (Vec<f64>, Vec<bool>) = scores
        .iter()
        .zip(labels)
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|((s, l), _)| (*s, *l))
        .unzip();
    rank_metrics(&s, &l)
}

/// Rules only, model only, fused, fused after 20 / 100 simulated investigator decisions, and
/// the amount z-score baseline. The simulated investigator reviews the top k/2 of the fused
/// ranking and a systematic sample of k/2 of the rest, and labels them with the truth; label
/// variants (and the "fused, same parties" line next to each) are measured on the parties left
/// unlabelled.
pub fn model_variants(
    txs: &[gs_types::Transaction],
    analysis: &Analysis,
    truth: &[bool],
    opts: &gs_model::ModelOptions,
) -> Result<Vec<VariantRow>, String> {
    let all = vec![true; truth.len()];
    let real: Vec<bool> = analysis
        .parties
        .parties
        .iter()
        .map(|p| {
            !matches!(
                p.kind,
                gs_graph::PartyKind::Cash | gs_graph::PartyKind::Unknown
            )
        })
        .collect();
    let m = gs_model::run(txs, analysis, &gs_model::Labels::default(), opts)
        .map_err(|e| e.to_string())?;
    let mut rows = vec![
        VariantRow {
            variant: "baseline: amount z-score".into(),
            metrics: subset(&baseline_amount_z(txs, analysis), truth, &real),
        },
        VariantRow {
            variant: "rules only".into(),
            metrics: subset(&rule_scores(analysis), truth, &real),
        },
        VariantRow {
            variant: "model only".into(),
            metrics: subset(
                &m.party_model_score
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect::<Vec<_>>(),
                truth,
                &real,
            ),
        },
        VariantRow {
            variant: "fused (rules + model)".into(),
            metrics: subset(&m.party_fused, truth, &real),
        },
    ];
    let _ = all;
    let mut order: Vec<usize> = (0..truth.len()).filter(|&p| real[p]).collect();
    order.sort_by(|&x, &y| {
        m.party_fused[y]
            .total_cmp(&m.party_fused[x])
            .then(x.cmp(&y))
    });
    for k in [20usize, 100] {
        // the investigator reviews the top k/2 of the ranking and, for quality control, a
        // systematic sample of k/2 from the rest (so both suspicious and cleared decisions exist)
        let half = k / 2;
        let rest = &order[half.min(order.len())..];
        let step = (rest.len() / half.max(1)).max(1);
        let reviewed: Vec<usize> = order
            .iter()
            .take(half)
            .chain(rest.iter().step_by(step).take(k - half))
            .copied()
            .collect();
        let mut labels = gs_model::Labels::default();
        for &p in &reviewed {
            labels
                .parties
                .insert(analysis.parties.parties[p].uid.clone(), truth[p]);
        }
        let keep: Vec<bool> = (0..truth.len())
            .map(|p| real[p] && !reviewed.contains(&p))
            .collect();
        let ml = gs_model::run(txs, analysis, &labels, opts).map_err(|e| e.to_string())?;
        rows.push(VariantRow {
            variant: format!(
                "fused, same {} unlabelled parties",
                keep.iter().filter(|&&x| x).count()
            ),
            metrics: subset(&m.party_fused, truth, &keep),
        });
        rows.push(VariantRow {
            variant: format!(
                "fused + {k} labels (head {}: {} suspicious, {} cleared)",
                if ml.card.head_used { "on" } else { "off" },
                reviewed.iter().filter(|&&p| truth[p]).count(),
                reviewed.iter().filter(|&&p| !truth[p]).count()
            ),
            metrics: subset(&ml.party_fused, truth, &keep),
        });
    }
    Ok(rows)
}

/// Markdown table of [`model_variants`].
pub fn variants_markdown(rows: &[VariantRow]) -> String {
    let mut s = String::from(
        "| variant | parties | positives | precision@k | recall top 1 % | recall top 5 % | ROC-AUC | PR-AUC |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let m = &r.metrics;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            r.variant,
            m.n,
            m.positives,
            m.precision_at_k,
            m.recall_top1,
            m.recall_top5,
            m.roc_auc,
            m.pr_auc
        );
    }
    s
}

/// AMLSim account labels per party of an analysis (party matched by its account number).
pub fn amlsim_truth(analysis: &Analysis, nodes_csv: &std::path::Path) -> Result<Vec<bool>, String> {
    let mut fraud: HashMap<String, bool> = HashMap::new();
    let mut r = csv::Reader::from_path(nodes_csv).map_err(|e| e.to_string())?;
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        fraud.insert(rec.get(0).unwrap_or("").to_owned(), rec.get(1) == Some("1"));
    }
    Ok(analysis
        .parties
        .parties
        .iter()
        .map(|p| {
            p.other_accounts
                .iter()
                .any(|a| fraud.get(a).copied().unwrap_or(false))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_metrics_on_a_hand_made_ranking() {
        // positives at ranks 1 and 3 of 4
        let m = rank_metrics(&[0.9, 0.8, 0.7, 0.1], &[true, false, true, false]);
        assert_eq!(m.positives, 2);
        assert!((m.precision_at_k - 0.5).abs() < 1e-12);
        assert!((m.pr_auc - f64::midpoint(1.0, 2.0 / 3.0)).abs() < 1e-12);
        assert!((m.roc_auc - 0.75).abs() < 1e-12);
        // all tied: AUC 0.5
        let m = rank_metrics(&[0.0; 4], &[true, false, true, false]);
        assert!((m.roc_auc - 0.5).abs() < 1e-12);
        // perfect
        let m = rank_metrics(&[1.0, 0.0, 0.9, 0.1], &[true, false, true, false]);
        assert!((m.roc_auc - 1.0).abs() < 1e-12 && (m.pr_auc - 1.0).abs() < 1e-12);
    }
}
