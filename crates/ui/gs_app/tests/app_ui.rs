//! Drives the real app state and views headless with egui_kittest: load evidence through the
//! same command a drop sends, wait for the background job, then check the evidence panel, the
//! table, filtering and the details pane through the accessibility tree.
// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use gs_app::state::{SortColumn, TxFilter, UiPrefs};
use gs_app::{Command, GeldspurApp};
use gs_types::EvidenceStatus;
use gs_ui::Lang;

fn demo_case() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../testdata/demo-case")
        .canonicalize()
        .expect("testdata/demo-case exists")
}

fn harness(lang: Lang) -> (Harness<'static, GeldspurApp>, gs_app::CommandSender) {
    let app = GeldspurApp::new(
        UiPrefs {
            lang,
            ..Default::default()
        },
        None,
    );
    let tx = app.sender();
    let h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(|ui, app: &mut GeldspurApp| app.frame_ui(ui), app);
    (h, tx)
}

fn load(h: &mut Harness<'static, GeldspurApp>, tx: &gs_app::CommandSender, folder: PathBuf) {
    tx.send(Command::AddEvidence(vec![folder]));
    h.step();
    assert!(
        h.state().state.job.is_some(),
        "the drop starts a background job"
    );
    assert!(
        h.state_mut().wait_for_jobs(Duration::from_mins(5)),
        "ingest finished"
    );
    h.run_steps(3);
}

#[test]
fn start_view_then_loaded_case_with_evidence_table_filter_and_details() {
    let (mut h, tx) = harness(Lang::En);
    h.run_steps(2);
    h.get_by_label("Drop an evidence folder here");
    h.get_by_label("Open evidence folder…");

    load(&mut h, &tx, demo_case());
    let n_tx = h.state().state.case.transactions.len();
    let evidence = h.state().state.case.evidence.clone();
    assert!(
        n_tx > 1000,
        "demo case has thousands of transactions, got {n_tx}"
    );

    // Evidence panel: every file with its status; the broken file with its reason.
    for e in &evidence {
        h.get_by_label(&e.path);
        if let EvidenceStatus::Failed { reason } | EvidenceStatus::Skipped { reason } = &e.status {
            h.get_by_label(reason);
        }
    }
    assert!(
        evidence
            .iter()
            .any(|e| matches!(e.status, EvidenceStatus::Failed { .. })),
        "the deliberately broken file fails"
    );

    // Table: row count equals the ingested count.
    assert_eq!(h.state().state.table.rows.len(), n_tx);
    h.get_by_label(&format!(
        "{} shown of {} Transactions",
        fmt_en(n_tx),
        fmt_en(n_tx)
    ));

    // Filtering narrows the table.
    let some_name = h
        .state()
        .state
        .case
        .transactions
        .iter()
        .find_map(|t| t.counterparty.name.clone())
        .expect("a counterparty name");
    tx.send(Command::SetFilter(TxFilter {
        text: some_name.clone(),
        ..Default::default()
    }));
    h.run_steps(2);
    let filtered = h.state().state.table.rows.len();
    assert!(
        filtered > 0 && filtered < n_tx,
        "filter '{some_name}' narrows {n_tx} to {filtered}"
    );
    for &i in &h.state().state.table.rows {
        let t = &h.state().state.case.transactions[i as usize];
        let hay = format!("{t:?}").to_lowercase();
        assert!(hay.contains(&some_name.to_lowercase()));
    }

    // Sorting by amount orders the visible rows.
    tx.send(Command::SortBy(SortColumn::Amount));
    h.run_steps(2);
    let amounts: Vec<i64> = h
        .state()
        .state
        .table
        .rows
        .iter()
        .map(|&i| h.state().state.case.transactions[i as usize].amount.cents())
        .collect();
    assert!(amounts.windows(2).all(|w| w[0] <= w[1]));

    // Selecting a row (click on its amount cell) shows its provenance in the details pane.
    let first = h.state().state.table.rows[0] as usize;
    let t = h.state().state.case.transactions[first].clone();
    let loc = t.locator.as_ref().expect("locator").to_string();
    h.get_all_by_label(&gs_ui::format::amount(t.amount, &t.currency, Lang::En))
        .next()
        .expect("amount cell of the first row")
        .click();
    h.run_steps(2);
    assert_eq!(h.state().state.table.selected, Some(first));
    h.get_by_label(&format!("Location: {loc}"));
    let sha = evidence
        .iter()
        .find(|e| e.path == t.evidence_path)
        .expect("evidence entry")
        .sha256
        .clone();
    h.get_by_label(&sha);
    h.get_by_label_contains(t.source_text.lines().next().unwrap_or_default().trim());
}

#[test]
fn german_ui_and_problem_filter() {
    let (mut h, tx) = harness(Lang::De);
    h.run_steps(2);
    h.get_by_label("Beweismittelordner hier ablegen");
    load(&mut h, &tx, demo_case());
    let n = h.state().state.case.transactions.len();
    h.get_by_label(&format!(
        "{} angezeigt von {} Umsätze",
        fmt_de(n),
        fmt_de(n)
    ));
    // German amounts in the table: 1.234,56 €
    let t = h.state().state.case.transactions[h.state().state.table.rows[0] as usize].clone();
    h.get_by_label(&gs_ui::format::amount(t.amount, &t.currency, Lang::De));

    let all = h.state().state.case.evidence.len();
    h.get_by_label("Nur Probleme zeigen").click();
    h.run_steps(2);
    assert!(h.state().state.prefs.problems_only);
    let ok_file = h
        .state()
        .state
        .case
        .evidence
        .iter()
        .find(|e| !gs_app::state::Case::has_problem(e))
        .expect("a clean file")
        .path
        .clone();
    assert!(
        h.query_by_label(&ok_file).is_none(),
        "clean files are hidden with 'Nur Probleme zeigen'"
    );
    assert!(all > 1);
}

#[test]
fn cancel_keeps_previous_state_and_second_drop_is_queued() {
    let (mut h, tx) = harness(Lang::En);
    load(&mut h, &tx, demo_case());
    let before = h.state().state.case.transactions.len();
    // A second drop while loading is queued; cancelling drops the queue and keeps the case.
    tx.send(Command::AddEvidence(vec![demo_case()]));
    tx.send(Command::AddEvidence(vec![demo_case()]));
    h.step();
    assert_eq!(
        h.state().state.queue.len(),
        1,
        "second drop waits in the queue"
    );
    tx.send(Command::CancelJob);
    h.step();
    assert!(h.state_mut().wait_for_jobs(Duration::from_mins(1)));
    h.run_steps(2);
    let after = h.state().state.case.transactions.len();
    assert_eq!(
        after, before,
        "cancelled or finished, identical evidence is not counted twice"
    );
    assert!(h.state().state.queue.is_empty());
}

fn fmt_en(n: usize) -> String {
    gs_ui::format::count(n, Lang::En)
}

fn fmt_de(n: usize) -> String {
    gs_ui::format::count(n, Lang::De)
}
