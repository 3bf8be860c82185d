//! The anomaly model on the generator's ledger: features + training + scoring (`run`), and
//! scoring alone with the trained weights (`score`: features + forward; `score_features`:
//! scaling + forward + percentiles on extracted features).
//! `cargo bench -p gs_benches --bench model` (it lives here, not in gs_model, so
//! that it shares the release build of the other benches: a bench of gs_model alone unifies
//! polars' features differently and rebuilds it); size via `GS_BENCH_MODEL_TX` (default 100,000).

// criterion_group! generates undocumented pub items.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use gs_graph::{AnalyzeOptions, RulePack};
use gs_model::{DeviceChoice, Labels, ModelOptions, run, score};
use gs_synth::ledger::{LedgerConfig, ledger};

fn bench(crit: &mut Criterion) {
    let size: usize = std::env::var("GS_BENCH_MODEL_TX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let txs = ledger(&LedgerConfig::for_transactions(size, 7)).transactions;
    let analysis = gs_graph::analyze(&txs, &RulePack::default_pack(), &AnalyzeOptions::default());
    let opts = ModelOptions {
        device: DeviceChoice::Cpu,
        ..ModelOptions::default()
    };
    let trained = run(&txs, &analysis, &Labels::default(), &opts).expect("model runs");
    let rows = txs.len();
    let mut group = crit.benchmark_group("model");
    group.sample_size(10);
    group.bench_function(format!("features_train_score_{rows}"), |bench| {
        bench.iter(|| run(&txs, &analysis, &Labels::default(), &opts));
    });
    group.bench_function(format!("score_only_{rows}"), |bench| {
        bench.iter(|| score(&txs, &analysis, &trained.weights, DeviceChoice::Cpu));
    });
    let feats = gs_model::features::extract(&txs, &analysis).expect("features");
    group.bench_function(format!("forward_only_{rows}"), |bench| {
        bench.iter(|| gs_model::score_features(&txs, &feats, &trained.weights, DeviceChoice::Cpu));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
