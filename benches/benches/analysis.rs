//! Resolution + graph + measures + all rules on the generator's ledger at three sizes.
//! `cargo bench -p gs_benches --bench analysis`; sizes via `GS_BENCH_LEDGER=10000,100000,1000000`.

// criterion_group! generates undocumented pub items.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use gs_graph::{AnalyzeOptions, RulePack};
use gs_synth::ledger::{LedgerConfig, ledger};

fn sizes() -> Vec<usize> {
    std::env::var("GS_BENCH_LEDGER").ok().map_or_else(
        || vec![10_000, 100_000, 1_000_000],
        |v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
    )
}

fn bench(c: &mut Criterion) {
    let pack = RulePack::default_pack();
    let opts = AnalyzeOptions::default();
    let mut g = c.benchmark_group("analysis");
    g.sample_size(10);
    for n in sizes() {
        let l = ledger(&LedgerConfig::for_transactions(n, 7));
        g.bench_function(format!("ledger_{n}"), |b| {
            b.iter(|| gs_graph::analyze(&l.transactions, &pack, &opts));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
