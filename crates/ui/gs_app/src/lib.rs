//! geldspur's desktop application (eframe/egui).
//!
//! Views read [`AppState`] and send [`Command`]s through a [`CommandSender`]; the app applies
//! them once per frame. Ingest runs on a named background thread ([`job::IngestJob`]) and
//! wakes the UI through egui's `request_repaint`. eframe storage holds only [`state::UiPrefs`].

pub mod app;
pub mod command;
pub mod job;
pub mod state;
pub mod views;

pub use app::{AppState, GeldspurApp};
pub use command::{Command, CommandSender};

/// Starts the native window (blocking until it is closed). `initial` evidence is loaded at start.
pub fn run_native(
    initial: Vec<std::path::PathBuf>,
    log_rx: Option<std::sync::mpsc::Receiver<gs_log::UiRecord>>,
) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("geldspur")
            .with_inner_size([1400.0, 860.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "geldspur",
        options,
        Box::new(move |cc| {
            let app = GeldspurApp::from_creation_context(cc, log_rx);
            if !initial.is_empty() {
                app.sender().send(Command::AddEvidence(initial));
            }
            Ok(Box::new(app))
        }),
    )
}
