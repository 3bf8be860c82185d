//! CPU time of one frame of the main view (table over 1,000,000 transactions), headless:
//! layout + tessellation-free egui pass, as the UI thread pays it. Target: <= 8 ms.
//! Run: `cargo bench -p gs_app --bench table_frame`.
// criterion_group! generates undocumented pub items.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use gs_app::GeldspurApp;
use gs_app::state::UiPrefs;
use gs_types::chrono::NaiveDate;
use gs_types::{
    EvidenceFile, EvidenceId, EvidenceStatus, Locator, Money, PartyRef, Transaction, TxId,
};

fn synthetic(n: usize) -> Vec<Transaction> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    (0..n)
        .map(|i| Transaction {
            tx_id: TxId(format!("{i:016x}")),
            evidence_id: EvidenceId("0123456789abcdef".into()),
            evidence_path: "Bank/umsaetze.csv".into(),
            locator: Some(Locator::Row {
                sheet: None,
                row: i as u32 + 2,
            }),
            booking_date: start + gs_types::chrono::Duration::days((i % 700) as i64),
            amount: Money(((i * 7919) % 200_000) as i64 - 100_000),
            currency: "EUR".into(),
            account: PartyRef {
                iban: Some("DE89370400440532013000".into()),
                name: Some("Max Mustermann".into()),
                ..Default::default()
            },
            counterparty: PartyRef {
                name: Some(format!("Gegenpartei {}", i % 5000)),
                iban: Some("DE02120300000000202051".into()),
                ..Default::default()
            },
            purpose: Some(format!("Rechnung {i} Verwendungszweck mit etwas Text")),
            source_text: format!("\"DE89370400440532013000\";\"01.01.24\";\"{i}\""),
            ..Default::default()
        })
        .collect()
}

fn frame(c: &mut Criterion) {
    let rows = 1_000_000;
    let mut app = GeldspurApp::new(
        UiPrefs {
            lang: gs_ui::Lang::De,
            ..Default::default()
        },
        None,
    );
    app.state.case.transactions = Arc::new(synthetic(rows));
    app.state.case.evidence = vec![EvidenceFile {
        id: EvidenceId("0123456789abcdef".into()),
        path: "Bank/umsaetze.csv".into(),
        size_bytes: 1,
        modified: None,
        sha256: "0".repeat(64),
        format: Some("Sparkasse CSV-CAMT V2".into()),
        format_version: None,
        status: EvidenceStatus::Loaded { rows },
        issues: vec![],
    }];
    app.state.case.recompute();
    app.state.table.refresh(&app.state.case);
    let ctx = egui::Context::default();
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 1000.0),
        )),
        ..Default::default()
    };
    // Warm up fonts and layout caches.
    for _ in 0..3 {
        let _ = ctx.run_ui(input(), |ui| app.frame_ui(ui));
    }
    c.bench_function("main_view_frame_1m_rows", |b| {
        b.iter(|| black_box(ctx.run_ui(input(), |ui| app.frame_ui(ui))));
    });
    // Jumping far into the table (new rows every frame, nothing cached) costs the same: the
    // table lays out only visible rows. Measured by selecting rows deep in the table.
    let mut k = 0usize;
    c.bench_function("main_view_frame_1m_rows_selection_changes", |b| {
        b.iter(|| {
            k = (k + 104_729) % rows;
            app.state.table.selected = Some(k);
            black_box(ctx.run_ui(input(), |ui| app.frame_ui(ui)))
        });
    });
}

criterion_group!(benches, frame);
criterion_main!(benches);
