//! Per-typology recall and precision of the default rule pack on the generator's ledger
//! (10,000 transactions, two seeds): the bar is recall ≥ 0.95 and precision ≥ 0.8 for
//! every typology. Precision counts a finding as true when it touches injected transactions.
//! The 1,000,000-transaction table is in docs/DETECTION.md (`gs_eval ledger 1000000`).

use gs_benches::eval;
use gs_graph::{AnalyzeOptions, RulePack};
use gs_synth::ledger::{LedgerConfig, ledger};

#[test]
fn every_typology_meets_recall_and_precision_at_10k() {
    for seed in [7, 11] {
        let l = ledger(&LedgerConfig::for_transactions(10_000, seed));
        let a = gs_graph::analyze(
            &l.transactions,
            &RulePack::default_pack(),
            &AnalyzeOptions::default(),
        );
        let rows = eval::typology_table(&l, &a);
        assert_eq!(rows.len(), gs_synth::ledger::KINDS.len());
        let bad: Vec<&eval::TypologyRow> = rows
            .iter()
            .filter(|r| r.instances == 0 || r.recall < 0.95 || r.precision < 0.8)
            .collect();
        assert!(
            bad.is_empty(),
            "seed {seed}:\n{}",
            eval::typology_markdown(&rows)
        );
    }
}

#[test]
fn disabling_a_rule_loses_its_typology() {
    // the table measures the rules, not the generator: switch structuring off and its
    // typologies are no longer found
    let l = ledger(&LedgerConfig::for_transactions(10_000, 7));
    let mut pack = RulePack::default_pack();
    pack.structuring.enabled = false;
    let a = gs_graph::analyze(&l.transactions, &pack, &AnalyzeOptions::default());
    let rows = eval::typology_table(&l, &a);
    for r in rows.iter().filter(|r| r.kind.starts_with("structuring")) {
        assert_eq!(r.found, 0, "{}", r.kind);
    }
    assert!(
        rows.iter()
            .any(|r| r.kind == "cycle" && r.found == r.instances)
    );
}
