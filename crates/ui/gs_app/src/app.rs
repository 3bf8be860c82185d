//! The application: state, command handling, job polling, and the frame's layout.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use gs_ui::Lang;

use crate::command::{Command, CommandSender, command_channel};
use crate::job::{IngestJob, JobPoll};
use crate::state::{Case, TableView, UiPrefs};
use crate::views;

/// Key under which eframe stores [`UiPrefs`].
pub const PREFS_KEY: &str = "geldspur_prefs";

/// A transient message at the bottom right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    /// Id for dismissing.
    pub id: u64,
    /// Error (stays until dismissed) or warning (fades after a while).
    pub is_error: bool,
    /// Text.
    pub text: String,
    /// When it appeared.
    pub created: Instant,
}

/// Everything the views read.
pub struct AppState {
    /// UI preferences (persisted).
    pub prefs: UiPrefs,
    /// The case.
    pub case: Case,
    /// The table's filter, sort and selection.
    pub table: TableView,
    /// Running ingest, if any.
    pub job: Option<IngestJob>,
    /// Inputs waiting for the running job to finish.
    pub queue: VecDeque<Vec<PathBuf>>,
    /// Toasts, oldest first.
    pub toasts: Vec<Toast>,
    /// Jobs started so far (generation counter).
    pub generation: u64,
    /// Wall-clock seconds and files of the last finished job (for the status bar).
    pub last_job: Option<(f64, u64, u64)>,
}

/// The eframe application.
pub struct GeldspurApp {
    /// State (views read it; only [`GeldspurApp::apply_commands`] changes it).
    pub state: AppState,
    /// View-local state (text buffers of the filter bar etc.).
    pub views: views::ViewState,
    tx: CommandSender,
    rx: Receiver<Command>,
    log_rx: Option<Receiver<gs_log::UiRecord>>,
    next_toast: u64,
    egui_ctx: Option<egui::Context>,
    title: String,
}

impl GeldspurApp {
    /// A new app with the given preferences; `log_rx` feeds tracing warnings/errors into toasts.
    pub fn new(prefs: UiPrefs, log_rx: Option<Receiver<gs_log::UiRecord>>) -> Self {
        let (tx, rx) = command_channel();
        Self {
            state: AppState {
                prefs,
                case: Case::default(),
                table: TableView::default(),
                job: None,
                queue: VecDeque::new(),
                toasts: Vec::new(),
                generation: 0,
                last_job: None,
            },
            views: views::ViewState::default(),
            tx,
            rx,
            log_rx,
            next_toast: 0,
            egui_ctx: None,
            title: String::new(),
        }
    }

    /// Creates the app inside eframe: restores preferences from eframe storage.
    pub fn from_creation_context(
        cc: &eframe::CreationContext<'_>,
        log_rx: Option<Receiver<gs_log::UiRecord>>,
    ) -> Self {
        let prefs = cc
            .storage
            .and_then(|s| eframe::get_value::<UiPrefs>(s, PREFS_KEY))
            .unwrap_or_default();
        let mut app = Self::new(prefs, log_rx);
        app.egui_ctx = Some(cc.egui_ctx.clone());
        app
    }

    /// A sender for commands (cloneable, usable from other threads).
    pub fn sender(&self) -> CommandSender {
        self.tx.clone()
    }

    /// Current language.
    pub fn lang(&self) -> Lang {
        self.state.prefs.lang
    }

    fn toast(&mut self, is_error: bool, text: String) {
        self.next_toast += 1;
        self.state.toasts.push(Toast {
            id: self.next_toast,
            is_error,
            text,
            created: Instant::now(),
        });
        if self.state.toasts.len() > 8 {
            self.state.toasts.remove(0);
        }
    }

    fn wake_fn(&self) -> gs_jobs::WakeFn {
        match &self.egui_ctx {
            Some(ctx) => {
                let ctx = ctx.clone();
                std::sync::Arc::new(move || ctx.request_repaint())
            }
            None => std::sync::Arc::new(|| {}),
        }
    }

    fn start_next_job(&mut self) {
        if self.state.job.is_some() {
            return;
        }
        let Some(inputs) = self.state.queue.pop_front() else {
            return;
        };
        self.state.generation += 1;
        let base = self.state.case.snapshot();
        match IngestJob::start(self.state.generation, inputs, base, self.wake_fn()) {
            Ok(job) => self.state.job = Some(job),
            Err(e) => self.toast(true, format!("cannot start the ingest thread: {e}")),
        }
    }

    /// Applies all pending commands (the one place that changes state).
    pub fn apply_commands(&mut self) {
        while let Ok(cmd) = self.rx.try_recv() {
            self.apply(cmd);
        }
    }

    fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::AddEvidence(paths) => {
                if paths.is_empty() {
                    return;
                }
                for p in &paths {
                    if p.is_dir() {
                        let s = p.display().to_string();
                        self.state.prefs.recent.retain(|r| r != &s);
                        self.state.prefs.recent.insert(0, s);
                        self.state.prefs.recent.truncate(10);
                    }
                }
                if self.state.case.name.is_none() {
                    self.state.case.name = paths
                        .first()
                        .and_then(|p| p.file_name())
                        .map(|n| n.to_string_lossy().into_owned());
                }
                self.state.queue.push_back(paths);
                self.start_next_job();
            }
            Command::OpenFolderDialog | Command::AddFilesDialog => {
                let folder = cmd == Command::OpenFolderDialog;
                let tx = self.tx.clone();
                let spawned = std::thread::Builder::new()
                    .name("file-dialog".to_owned())
                    .spawn(move || {
                        let started = Instant::now();
                        let picked: Option<Vec<PathBuf>> = if folder {
                            rfd::FileDialog::new().pick_folder().map(|p| vec![p])
                        } else {
                            rfd::FileDialog::new().pick_files()
                        };
                        match picked {
                            Some(p) => tx.send(Command::AddEvidence(p)),
                            // No portal: rfd returns at once without showing anything.
                            None if started.elapsed() < Duration::from_millis(300) => {
                                tx.send(Command::DialogUnavailable);
                            }
                            None => {}
                        }
                    });
                if spawned.is_err() {
                    self.apply(Command::DialogUnavailable);
                }
            }
            Command::DialogUnavailable => {
                let text = self.lang().strings().dialog_unavailable.to_owned();
                self.toast(false, text);
            }
            Command::CancelJob => {
                if let Some(job) = &self.state.job {
                    job.cancel();
                }
                self.state.queue.clear();
            }
            Command::SetLanguage(lang) => self.state.prefs.lang = lang,
            Command::SetProblemsOnly(b) => self.state.prefs.problems_only = b,
            Command::SetFilter(f) => {
                self.state.table.filter = f;
                self.state.table.refresh(&self.state.case);
            }
            Command::SortBy(col) => self.state.table.sort_by(col, &self.state.case),
            Command::SelectTransaction(i) => self.state.table.selected = i,
            Command::CopyText(text) => {
                if let Some(ctx) = &self.egui_ctx {
                    ctx.copy_text(text);
                }
            }
            Command::DismissToast(id) => self.state.toasts.retain(|t| t.id != id),
        }
    }

    /// Polls the running job and the log channel; starts queued jobs.
    pub fn poll(&mut self) {
        let finished = match &self.state.job {
            Some(job) => match job.poll() {
                JobPoll::Running => None,
                JobPoll::Done(r) => Some(Some(r)),
                JobPoll::Lost => Some(None),
            },
            None => None,
        };
        if let Some(result) = finished {
            let job = self.state.job.take();
            let s = self.lang().strings();
            match result {
                Some(Ok(out)) => {
                    let secs = job
                        .as_ref()
                        .map_or(0.0, |j| j.started.elapsed().as_secs_f64());
                    self.state.last_job = Some((secs, out.files, out.rows));
                    for f in out.failed.iter().take(3) {
                        self.toast(true, f.clone());
                    }
                    for (path, n) in out.dropped_rows.iter().take(3) {
                        self.toast(true, format!("{path}: {n} {}", s.rows_not_read));
                    }
                    if out.failed.len() > 3 {
                        self.toast(
                            true,
                            format!("… {} {}", out.failed.len() - 3, s.status_failed),
                        );
                    }
                    let name = self.state.case.name.take();
                    self.state.case = out.case;
                    if self.state.case.name.is_none() {
                        self.state.case.name = name;
                    }
                    self.state.table.refresh(&self.state.case);
                }
                Some(Err(gs_pipeline::PipelineError::Ingest(
                    gs_ingest::IngestError::Cancelled,
                ))) => {
                    self.toast(false, s.cancelled.to_owned());
                }
                Some(Err(e)) => self.toast(true, format!("{e:#}")),
                None => self.toast(
                    true,
                    "the ingest thread crashed; the previous state is kept".to_owned(),
                ),
            }
            self.start_next_job();
        }
        let records: Vec<gs_log::UiRecord> = self
            .log_rx
            .as_ref()
            .map(|rx| rx.try_iter().take(20).collect())
            .unwrap_or_default();
        for r in records {
            self.toast(r.level == gs_log::UiLevel::Error, r.message);
        }
        let now = Instant::now();
        self.state
            .toasts
            .retain(|t| t.is_error || now.duration_since(t.created) < Duration::from_secs(10));
    }

    /// Draws one frame into `ui` (used by eframe and by the kittest harness).
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        if self.egui_ctx.is_none() {
            self.egui_ctx = Some(ui.ctx().clone());
        }
        self.poll();
        let dropped: Vec<PathBuf> = ui.ctx().input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if !dropped.is_empty() {
            self.tx.send(Command::AddEvidence(dropped));
        }
        let title = match &self.state.case.name {
            Some(n) => format!("geldspur — {n}"),
            None => "geldspur".to_owned(),
        };
        if title != self.title {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        views::frame_ui(ui, &self.state, &mut self.views, &self.tx);
        self.apply_commands();
        if self.state.job.is_some() {
            // Progress is also pushed by the job's wake callback; this keeps the rate display live.
            ui.ctx().request_repaint_after(Duration::from_millis(250));
        }
        if !self.state.toasts.is_empty() {
            ui.ctx().request_repaint_after(Duration::from_secs(1));
        }
    }

    /// Blocks until the running and queued jobs are done (tests, headless use).
    pub fn wait_for_jobs(&mut self, timeout: Duration) -> bool {
        let start = Instant::now();
        while self.state.job.is_some() || !self.state.queue.is_empty() {
            if start.elapsed() > timeout {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
            self.apply_commands();
            self.poll();
        }
        true
    }
}

impl eframe::App for GeldspurApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, PREFS_KEY, &self.state.prefs);
    }
}
