//! Image snapshots of the main views, rendered headless with wgpu (software adapter on machines
//! without a GPU). Create or update the PNGs with `UPDATE_SNAPSHOTS=1 cargo test -p gs_app --test
//! snapshots_ui` and review them before committing.

use std::path::Path;
use std::time::Duration;

use egui_kittest::Harness;
use gs_app::state::UiPrefs;
use gs_app::{Command, GeldspurApp};
use gs_ui::Lang;

fn harness() -> (Harness<'static, GeldspurApp>, gs_app::CommandSender) {
    let app = GeldspurApp::new(
        UiPrefs {
            lang: Lang::De,
            ..Default::default()
        },
        None,
    );
    let tx = app.sender();
    let h = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut GeldspurApp| app.frame_ui(ui), app);
    (h, tx)
}

#[test]
fn start_and_loaded_views_look_as_reviewed() {
    let (mut h, tx) = harness();
    h.run_steps(2);
    h.snapshot("start_view_de");

    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/demo-case");
    tx.send(Command::AddEvidence(vec![
        demo.canonicalize().expect("demo case"),
    ]));
    h.step();
    assert!(h.state_mut().wait_for_jobs(Duration::from_mins(5)));
    // Toasts carry wall-clock ages; dismiss them so the image is stable.
    let ids: Vec<u64> = h.state().state.toasts.iter().map(|t| t.id).collect();
    for id in ids {
        tx.send(Command::DismissToast(id));
    }
    h.run_steps(3);
    h.snapshot("demo_case_loaded_de");
}
