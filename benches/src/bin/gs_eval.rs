//! Detection quality and analysis cost on the generator's ledger.
//!
//! `gs_eval ledger <transactions> [seed]`: builds the ledger, runs resolution → graph →
//! measures → rules with the default pack, prints stage times, peak memory, the per-typology
//! recall/precision table and the findings per rule that touch no injected transaction.
//! Run in release for timings: `cargo run --release -p gs_benches --bin gs_eval -- ledger 1000000`.

// n, t, l, a, m: size, timer, ledger, analysis, metrics — a measuring script.
#![allow(clippy::many_single_char_names)]

use std::collections::HashSet;
use std::time::Instant;

use gs_benches::eval;
use gs_graph::{AnalyzeOptions, RulePack};
use gs_synth::ledger::{LedgerConfig, ledger};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("parties") => {
            // gs_eval parties <parties.csv> <nodes.csv> [score column...]
            let (Some(parties), Some(nodes)) = (args.get(1), args.get(2)) else {
                eprintln!("usage: gs_eval parties <parties.csv> <amlsim nodes.csv> [columns]");
                std::process::exit(2);
            };
            let cols: Vec<&str> = if args.len() > 3 {
                args[3..].iter().map(String::as_str).collect()
            } else {
                vec!["risk_score"]
            };
            match eval::amlsim_party_metrics(parties.as_ref(), nodes.as_ref(), &cols) {
                Ok(rows) => {
                    for (c, m) in rows {
                        println!("{c}: {m:?}");
                    }
                }
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            }
        }
        Some("model-ledger") => {
            let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(10_000);
            let seed: u64 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(7);
            let l = ledger(&LedgerConfig::for_transactions(n, seed));
            let a = gs_graph::analyze(&l.transactions, &pack(), &AnalyzeOptions::default());
            let accounts: HashSet<String> = l
                .instances
                .iter()
                .flat_map(|i| i.accounts.iter().cloned())
                .collect();
            let truth = eval::party_labels(&a, &accounts);
            model_table(&l.transactions, &a, &truth);
        }
        Some("features") => {
            // gs_eval features <transactions> [seed]: feature extraction alone, 3 runs
            let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(10_000);
            let seed: u64 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(7);
            let l = ledger(&LedgerConfig::for_transactions(n, seed));
            let a = gs_graph::analyze(&l.transactions, &pack(), &AnalyzeOptions::default());
            for _ in 0..3 {
                let t = Instant::now();
                let f = gs_model::features::extract(&l.transactions, &a).expect("features");
                println!(
                    "features of {} rows × {}: {:.2} s",
                    f.rows.len(),
                    gs_model::features::D,
                    t.elapsed().as_secs_f64()
                );
            }
        }
        Some("model-amlsim") => {
            // gs_eval model-amlsim <extracted 20K_fanin200cycle200 dir> [rules.toml]
            let Some(dir) = args.get(1).map(std::path::PathBuf::from) else {
                eprintln!(
                    "usage: gs_eval model-amlsim <dir with transactions.csv and nodes.csv> [rules.toml]"
                );
                std::process::exit(2);
            };
            let (txs, a) = amlsim_analysis(&dir, args.get(2).map(std::path::PathBuf::from));
            let truth = eval::amlsim_truth(&a, &dir.join("nodes.csv")).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(1)
            });
            model_table(&txs, &a, &truth);
        }
        Some("ledger") => {
            let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(10_000);
            let seed: u64 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(7);
            run_ledger(n, seed);
        }
        _ => {
            eprintln!(
                "usage: gs_eval ledger <transactions> [seed] | gs_eval parties <parties.csv> <nodes.csv> [columns] | gs_eval model-ledger <transactions> [seed] | gs_eval model-amlsim <dir> [rules.toml] | gs_eval features <transactions> [seed]"
            );
            std::process::exit(2);
        }
    }
}

/// The default pack; `GS_EVAL_RELATED_WEIGHT=x` overrides `[score] related_weight`.
fn pack() -> RulePack {
    let mut p = RulePack::default_pack();
    if let Some(w) = std::env::var("GS_EVAL_RELATED_WEIGHT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        p.score.related_weight = w;
    }
    p
}

fn model_table(txs: &[gs_types::Transaction], a: &gs_graph::Analysis, truth: &[bool]) {
    let opts = gs_model::ModelOptions {
        device: gs_model::DeviceChoice::Cpu,
        ..gs_model::ModelOptions::default()
    };
    let t = Instant::now();
    let m = gs_model::run(txs, a, &gs_model::Labels::default(), &opts).expect("model");
    println!(
        "model on {} transactions: {:.2} s ({:?}); peak RSS {:.0} MB",
        txs.len(),
        t.elapsed().as_secs_f64(),
        m.card.seconds,
        gs_benches::peak_rss_bytes().unwrap_or(0) as f64 / 1e6
    );
    let t = Instant::now();
    let again = gs_model::score(txs, a, &m.weights, gs_model::DeviceChoice::Cpu).expect("score");
    let s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let feats = gs_model::features::extract(txs, a).expect("features");
    let feat = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let fwd = gs_model::score_features(txs, &feats, &m.weights, gs_model::DeviceChoice::Cpu)
        .expect("score");
    let f = t.elapsed().as_secs_f64();
    println!(
        "score with saved weights: {s:.2} s = {:.0} rows/s (features {feat:.2} s; scaling + forward + percentiles {f:.2} s = {:.0} rows/s); identical to run: {}",
        txs.len() as f64 / s,
        txs.len() as f64 / f.max(1e-9),
        again == m.tx_score && fwd == m.tx_score
    );
    match eval::model_variants(txs, a, truth, &opts) {
        Ok(rows) => println!("\n{}", eval::variants_markdown(&rows)),
        Err(e) => eprintln!("{e}"),
    }
}

fn amlsim_analysis(
    dir: &std::path::Path,
    rules: Option<std::path::PathBuf>,
) -> (Vec<gs_types::Transaction>, gs_graph::Analysis) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("docs/examples/amlsim_20k.mapping.toml"))
        .expect("mapping");
    let mapping = gs_ingest::TableMapping::from_toml_str(&text).expect("mapping parses");
    let mut req = gs_pipeline::Request {
        inputs: vec![dir.join("transactions.csv")],
        ..Default::default()
    };
    req.ingest.mappings.push(mapping);
    req.skip_frame = true;
    let out = gs_pipeline::run(&req, &gs_jobs::Progress::new()).expect("ingest");
    let pack = match rules {
        Some(p) => RulePack::load(&p).expect("rule pack"),
        None => RulePack::default_pack(),
    };
    let a = gs_graph::analyze(&out.ingest.transactions, &pack, &AnalyzeOptions::default());
    (out.ingest.transactions, a)
}

fn run_ledger(n: usize, seed: u64) {
    let t = Instant::now();
    let l = ledger(&LedgerConfig::for_transactions(n, seed));
    let t_gen = t.elapsed().as_secs_f64();
    let pack = pack();
    let opts = AnalyzeOptions::default();
    let t = Instant::now();
    let a = gs_graph::analyze(&l.transactions, &pack, &opts);
    let t_an = t.elapsed().as_secs_f64();
    println!(
        "ledger seed {seed}: {} transactions, {} persons, {} parties, {} instances; generated in {t_gen:.2} s; analysis (resolve+graph+measures+rules) {t_an:.2} s; peak RSS {:.0} MB",
        l.transactions.len(),
        l.config.persons,
        a.parties.parties.len(),
        l.instances.len(),
        gs_benches::peak_rss_bytes().unwrap_or(0) as f64 / 1e6
    );
    let rows = eval::typology_table(&l, &a);
    println!("\n{}", eval::typology_markdown(&rows));
    println!("findings per rule (total, touching no injected transaction):");
    for (rule, (total, fp)) in eval::false_findings_by_rule(&l, &a) {
        println!("  {rule}: {total} ({fp})");
    }
    // GS_EVAL_SHOW=<kind>: the rule's findings and the instances of that kind, for reading
    if let Ok(kind) = std::env::var("GS_EVAL_SHOW") {
        let (rule, variant) = eval::expected_rule(&kind);
        for f in a
            .findings
            .iter()
            .filter(|f| f.rule == rule && variant.is_none_or(|v| f.variant == v))
        {
            println!("finding {} {}: {}", f.rule, f.variant, f.explanation_en);
        }
        for i in l.instances.iter().filter(|i| i.kind == kind) {
            println!("instance {} accounts {:?}", i.id, i.accounts);
            for f in &a.findings {
                if f.parties.iter().any(|&p| {
                    a.parties.parties[p.idx()]
                        .ibans
                        .iter()
                        .any(|x| i.accounts.contains(x))
                }) {
                    println!("  has {} {}: {}", f.rule, f.variant, f.explanation_en);
                }
            }
            if std::env::var("GS_EVAL_ALL").is_ok() {
                for t in l.transactions.iter().filter(|t| {
                    [&t.account, &t.counterparty]
                        .iter()
                        .any(|s| s.iban.as_ref().is_some_and(|x| i.accounts.contains(x)))
                }) {
                    println!(
                        "   all {} {} {} {:?}",
                        t.tx_id.0,
                        t.booking_date,
                        t.amount.cents(),
                        t.channel
                    );
                }
            }
            for t in l
                .transactions
                .iter()
                .filter(|t| i.tx_ids.contains(&t.tx_id.0))
            {
                println!(
                    "   {} {} {} {:?} -> {:?}",
                    t.tx_id.0,
                    t.booking_date,
                    t.amount.cents(),
                    t.account.name,
                    t.counterparty.name
                );
            }
        }
    }
    let accounts: HashSet<String> = l
        .instances
        .iter()
        .flat_map(|i| i.accounts.iter().cloned())
        .collect();
    let labels = eval::party_labels(&a, &accounts);
    let m = eval::rank_metrics(&eval::rule_scores(&a), &labels);
    println!("\nparty ranking by rule risk: {m:?}");
}
