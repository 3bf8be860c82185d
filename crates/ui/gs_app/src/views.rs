//! Views: read [`AppState`], keep only their own widget buffers in [`ViewState`], and change
//! anything else by sending [`Command`]s. Functions that draw end in `_ui`.

use egui::{Align, Layout, RichText};
use egui_extras::{Column, TableBuilder};
use gs_types::{EvidenceStatus, Money, Severity, Transaction};
use gs_ui::{Lang, Strings, format, theme};

use crate::app::AppState;
use crate::command::{Command, CommandSender};
use crate::state::{Case, SortColumn, TxFilter};

/// Widget buffers that belong to the views (not case data).
#[derive(Default, Debug)]
pub struct ViewState {
    /// Filter bar text fields.
    pub filter_text: String,
    /// "from" date as typed.
    pub date_from: String,
    /// "to" date as typed.
    pub date_to: String,
    /// Minimum amount as typed.
    pub amount_min: String,
    /// Maximum amount as typed.
    pub amount_max: String,
    /// Selected account (None = all).
    pub account: Option<String>,
}

impl ViewState {
    /// The filter the buffers describe (unparseable fields are ignored).
    pub fn to_filter(&self) -> TxFilter {
        let money = |s: &str| {
            Money::parse(s, gs_types::DecimalSeparator::Auto)
                .ok()
                .map(|p| p.money.abs())
        };
        TxFilter {
            text: self.filter_text.trim().to_owned(),
            date_from: format::parse_date(&self.date_from),
            date_to: format::parse_date(&self.date_to),
            amount_min: money(&self.amount_min),
            amount_max: money(&self.amount_max),
            account: self.account.clone(),
        }
    }
}

struct Ctx<'a> {
    state: &'a AppState,
    tx: &'a CommandSender,
    s: &'static Strings,
    lang: Lang,
    tokens: theme::Tokens,
}

/// Draws the whole window.
pub fn frame_ui(ui: &mut egui::Ui, state: &AppState, views: &mut ViewState, tx: &CommandSender) {
    let lang = state.prefs.lang;
    let c = Ctx {
        state,
        tx,
        s: lang.strings(),
        lang,
        tokens: theme::tokens(ui.visuals().dark_mode),
    };
    egui::Panel::top("menu").show(ui, |ui| menu_ui(ui, &c));
    egui::Panel::bottom("status").show(ui, |ui| status_ui(ui, &c));
    let empty = state.case.evidence.is_empty() && state.job.is_none();
    if empty {
        egui::CentralPanel::default().show(ui, |ui| start_ui(ui, &c));
    } else {
        egui::Panel::left("evidence")
            .resizable(true)
            .default_size(420.0)
            .size_range(260.0..=640.0)
            .show(ui, |ui| evidence_ui(ui, &c));
        if state.table.selected.is_some() {
            egui::Panel::right("details")
                .resizable(true)
                .default_size(380.0)
                .show(ui, |ui| details_ui(ui, &c));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            filter_bar_ui(ui, &c, views);
            ui.separator();
            table_ui(ui, &c);
        });
    }
    toasts_ui(ui, &c);
}

fn menu_ui(ui: &mut egui::Ui, c: &Ctx<'_>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button(c.s.menu_file, |ui| {
            if ui.button(c.s.open_folder).clicked() {
                c.tx.send(Command::OpenFolderDialog);
            }
            if ui.button(c.s.add_files).clicked() {
                c.tx.send(Command::AddFilesDialog);
            }
            if !c.state.prefs.recent.is_empty() {
                ui.separator();
                for r in &c.state.prefs.recent {
                    if ui.button(r).clicked() {
                        c.tx.send(Command::AddEvidence(vec![r.into()]));
                    }
                }
            }
        });
        ui.menu_button(c.s.language, |ui| {
            for l in [Lang::De, Lang::En] {
                if ui.selectable_label(c.lang == l, l.native_name()).clicked() {
                    c.tx.send(Command::SetLanguage(l));
                }
            }
        });
    });
}

fn start_ui(ui: &mut egui::Ui, c: &Ctx<'_>) {
    ui.with_layout(Layout::top_down(Align::Center), |ui| {
        ui.add_space(ui.available_height() * 0.3);
        ui.heading(c.s.drop_title);
        ui.label(c.s.drop_sub);
        ui.add_space(12.0);
        ui.horizontal(|ui| {
            ui.add_space((ui.available_width() - 420.0).max(0.0) / 2.0);
            if ui.button(c.s.open_folder).clicked() {
                c.tx.send(Command::OpenFolderDialog);
            }
            if ui.button(c.s.add_files).clicked() {
                c.tx.send(Command::AddFilesDialog);
            }
        });
    });
}

fn status_label(status: &EvidenceStatus, s: &Strings) -> &'static str {
    match status {
        EvidenceStatus::Loaded { .. } => s.status_loaded,
        EvidenceStatus::Skipped { .. } => s.status_skipped,
        EvidenceStatus::Failed { .. } => s.status_failed,
    }
}

fn evidence_ui(ui: &mut egui::Ui, c: &Ctx<'_>) {
    ui.heading(c.s.evidence);
    let mut problems_only = c.state.prefs.problems_only;
    if ui.checkbox(&mut problems_only, c.s.only_problems).changed() {
        c.tx.send(Command::SetProblemsOnly(problems_only));
    }
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("evidence_scroll")
        .show(ui, |ui| {
            for e in c
                .state
                .case
                .evidence
                .iter()
                .filter(|e| !problems_only || Case::has_problem(e))
            {
                let color = match &e.status {
                    EvidenceStatus::Loaded { .. } if Case::has_problem(e) => c.tokens.warning,
                    EvidenceStatus::Loaded { .. } => c.tokens.ok,
                    EvidenceStatus::Skipped { .. } => c.tokens.muted,
                    EvidenceStatus::Failed { .. } => c.tokens.error,
                };
                let rows = match e.status {
                    EvidenceStatus::Loaded { rows } => format::count(rows, c.lang),
                    _ => String::new(),
                };
                ui.horizontal(|ui| {
                    status_dot_ui(ui, color).on_hover_text(status_label(&e.status, c.s));
                    ui.colored_label(color, status_label(&e.status, c.s));
                    ui.add(egui::Label::new(RichText::new(&e.path).strong()).truncate())
                        .on_hover_text(&e.path);
                });
                ui.indent(&e.path, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(e.format.as_deref().unwrap_or("-"));
                        if !rows.is_empty() {
                            ui.label(format!("{rows} {}", c.s.rows));
                        }
                        ui.weak(format::bytes(e.size_bytes, c.lang));
                    });
                    match &e.status {
                        EvidenceStatus::Failed { reason } => {
                            ui.colored_label(c.tokens.error, reason);
                        }
                        EvidenceStatus::Skipped { reason } => {
                            ui.colored_label(c.tokens.muted, reason);
                        }
                        EvidenceStatus::Loaded { .. } => {}
                    }
                    for i in e
                        .issues
                        .iter()
                        .filter(|i| i.severity >= Severity::Warning)
                        .take(5)
                    {
                        let col = if i.severity == Severity::Error {
                            c.tokens.error
                        } else {
                            c.tokens.warning
                        };
                        let loc = i
                            .locator
                            .as_deref()
                            .map(|l| format!(" ({l})"))
                            .unwrap_or_default();
                        ui.colored_label(col, format!("{}{loc}", i.message));
                    }
                    let n = e.count_issues(Severity::Warning);
                    if n > 5 {
                        ui.weak(format!("… +{} {}", n - 5, c.s.warnings));
                    }
                    if !e.sha256.is_empty() {
                        let short = format!("SHA-256 {}…", &e.sha256[..16.min(e.sha256.len())]);
                        if ui.small_button(short).on_hover_text(&e.sha256).clicked() {
                            c.tx.send(Command::CopyText(e.sha256.clone()));
                        }
                    }
                });
                ui.add_space(4.0);
            }
        });
}

/// A small filled circle in the status colour (glyph-free: works with any font).
fn status_dot_ui(ui: &mut egui::Ui, color: egui::Color32) -> egui::Response {
    let size = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), size * 0.3, color);
    resp
}

fn filter_bar_ui(ui: &mut egui::Ui, c: &Ctx<'_>, v: &mut ViewState) {
    let mut submit = false;
    ui.horizontal_wrapped(|ui| {
        let r = ui.add(
            egui::TextEdit::singleline(&mut v.filter_text)
                .hint_text(c.s.filter_text)
                .desired_width(220.0),
        );
        submit |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        submit |= r.changed() && v.filter_text.is_empty();
        let l = ui.label(c.s.date_from);
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut v.date_from)
                    .hint_text("01.01.2025")
                    .desired_width(80.0),
            )
            .labelled_by(l.id);
        submit |= r.lost_focus();
        let l = ui.label(c.s.date_to);
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut v.date_to)
                    .hint_text("31.12.2025")
                    .desired_width(80.0),
            )
            .labelled_by(l.id);
        submit |= r.lost_focus();
        let l = ui.label(c.s.amount_min);
        let r = ui
            .add(egui::TextEdit::singleline(&mut v.amount_min).desired_width(70.0))
            .labelled_by(l.id);
        submit |= r.lost_focus();
        let l = ui.label(c.s.amount_max);
        let r = ui
            .add(egui::TextEdit::singleline(&mut v.amount_max).desired_width(70.0))
            .labelled_by(l.id);
        submit |= r.lost_focus();
        let selected = v
            .account
            .clone()
            .unwrap_or_else(|| c.s.all_accounts.to_owned());
        let l = ui.label(c.s.col_account);
        let combo = egui::ComboBox::from_id_salt("account_filter")
            .selected_text(selected)
            .width(200.0)
            .show_ui(ui, |ui| {
                let mut changed = ui
                    .selectable_value(&mut v.account, None, c.s.all_accounts)
                    .clicked();
                for a in &c.state.case.accounts {
                    changed |= ui
                        .selectable_value(&mut v.account, Some(a.clone()), a)
                        .clicked();
                }
                changed
            });
        let _ = combo.response.labelled_by(l.id);
        submit |= combo.inner.unwrap_or(false);
        submit |= ui.button(c.s.apply_filter).clicked();
        if ui.button(c.s.clear_filter).clicked() {
            *v = ViewState::default();
            submit = true;
        }
    });
    let f = v.to_filter();
    if submit && f != c.state.table.filter {
        c.tx.send(Command::SetFilter(f));
    }
    ui.label(format!(
        "{} {} {} {}",
        format::count(c.state.table.rows.len(), c.lang),
        c.s.shown_of,
        format::count(c.state.case.transactions.len(), c.lang),
        c.s.transactions
    ));
}

fn party_text(p: &gs_types::PartyRef) -> String {
    match (&p.name, p.account_key()) {
        (Some(n), Some(k)) => format!("{n} · {k}"),
        (Some(n), None) => n.clone(),
        (None, Some(k)) => k,
        (None, None) => String::new(),
    }
}

fn table_ui(ui: &mut egui::Ui, c: &Ctx<'_>) {
    let txs = &c.state.case.transactions;
    let rows = &c.state.table.rows;
    let header = |ui: &mut egui::Ui, label: &str, col: SortColumn| {
        let arrow = match c.state.table.sort {
            Some((s, true)) if s == col => " ^",
            Some((s, false)) if s == col => " v",
            _ => "",
        };
        if ui
            .button(RichText::new(format!("{label}{arrow}")).strong())
            .clicked()
        {
            c.tx.send(Command::SortBy(col));
        }
    };
    let row_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    // Clicks on cell text select the row (selectable labels would swallow them).
    ui.style_mut().interaction.selectable_labels = false;
    TableBuilder::new(ui)
        .id_salt("transactions")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(Layout::left_to_right(Align::Center))
        .column(Column::initial(90.0).at_least(70.0))
        .column(Column::initial(110.0).at_least(80.0))
        .column(Column::initial(200.0).at_least(80.0).clip(true))
        .column(Column::initial(200.0).at_least(80.0).clip(true))
        .column(Column::initial(260.0).at_least(80.0).clip(true))
        .column(Column::initial(110.0).at_least(60.0))
        .column(Column::remainder().at_least(120.0).clip(true))
        .header(row_h + 4.0, |mut h| {
            h.col(|ui| header(ui, c.s.col_booking_date, SortColumn::BookingDate));
            h.col(|ui| header(ui, c.s.col_amount, SortColumn::Amount));
            h.col(|ui| header(ui, c.s.col_account, SortColumn::Account));
            h.col(|ui| header(ui, c.s.col_counterparty, SortColumn::Counterparty));
            h.col(|ui| header(ui, c.s.col_purpose, SortColumn::Purpose));
            h.col(|ui| header(ui, c.s.col_channel, SortColumn::Channel));
            h.col(|ui| header(ui, c.s.col_source, SortColumn::Source));
        })
        .body(|body| {
            body.rows(row_h, rows.len(), |mut row| {
                let idx = rows[row.index()] as usize;
                let Some(t) = txs.get(idx) else { return };
                row.set_selected(c.state.table.selected == Some(idx));
                row.col(|ui| {
                    ui.label(format::date(t.booking_date, c.lang));
                });
                row.col(|ui| {
                    let color = if t.amount.is_negative() {
                        c.tokens.negative
                    } else {
                        c.tokens.positive
                    };
                    ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                        ui.colored_label(color, format::amount(t.amount, &t.currency, c.lang));
                    });
                });
                row.col(|ui| {
                    ui.label(party_text(&t.account));
                });
                row.col(|ui| {
                    ui.label(party_text(&t.counterparty));
                });
                row.col(|ui| {
                    ui.label(t.purpose.as_deref().unwrap_or(""));
                });
                row.col(|ui| {
                    ui.label(format::channel(t.channel, c.lang));
                });
                row.col(|ui| {
                    let loc = t
                        .locator
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    ui.weak(format!("{} · {loc}", t.evidence_path));
                });
                if row.response().clicked() {
                    c.tx.send(Command::SelectTransaction(Some(idx)));
                }
            });
        });
}

fn field_ui(ui: &mut egui::Ui, label: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    ui.label(RichText::new(label).weak());
    ui.label(value);
    ui.end_row();
}

fn details_ui(ui: &mut egui::Ui, c: &Ctx<'_>) {
    let Some(t): Option<&Transaction> = c
        .state
        .table
        .selected
        .and_then(|i| c.state.case.transactions.get(i))
    else {
        ui.label(c.s.no_selection);
        return;
    };
    ui.horizontal(|ui| {
        ui.heading(c.s.details);
        if ui.small_button(c.s.dismiss).clicked() {
            c.tx.send(Command::SelectTransaction(None));
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("details_scroll")
        .show(ui, |ui| {
            egui::Grid::new("details_grid")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    field_ui(ui, c.s.tx_id, &t.tx_id.0);
                    field_ui(
                        ui,
                        c.s.col_booking_date,
                        &format::date(t.booking_date, c.lang),
                    );
                    field_ui(
                        ui,
                        c.s.col_value_date,
                        &t.value_date
                            .map(|d| format::date(d, c.lang))
                            .unwrap_or_default(),
                    );
                    field_ui(
                        ui,
                        c.s.col_amount,
                        &format::amount(t.amount, &t.currency, c.lang),
                    );
                    field_ui(ui, c.s.col_account, &party_text(&t.account));
                    field_ui(ui, c.s.col_counterparty, &party_text(&t.counterparty));
                    let (payer, payee) = t.payer_payee();
                    field_ui(ui, c.s.payer, &party_text(payer));
                    field_ui(ui, c.s.payee, &party_text(payee));
                    field_ui(ui, c.s.col_purpose, t.purpose.as_deref().unwrap_or(""));
                    field_ui(
                        ui,
                        c.s.col_booking_text,
                        t.booking_text.as_deref().unwrap_or(""),
                    );
                    field_ui(ui, c.s.col_channel, format::channel(t.channel, c.lang));
                    let refs: Vec<String> = [
                        ("EREF", &t.end_to_end_ref),
                        ("MREF", &t.mandate_ref),
                        ("CRED", &t.creditor_id),
                        ("Code", &t.tx_code),
                    ]
                    .iter()
                    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
                    .collect();
                    field_ui(ui, c.s.references, &refs.join(" · "));
                    field_ui(
                        ui,
                        c.s.balance_after,
                        &t.balance_after
                            .map(|b| format::amount(b, &t.currency, c.lang))
                            .unwrap_or_default(),
                    );
                    if t.reversal {
                        field_ui(ui, c.s.reversal, "•");
                    }
                    field_ui(
                        ui,
                        c.s.mirror_of,
                        t.mirror_of.as_ref().map_or("", |m| m.0.as_str()),
                    );
                });
            ui.separator();
            ui.label(RichText::new(c.s.evidence_file).strong());
            ui.label(&t.evidence_path);
            ui.label(format!(
                "{}: {}",
                c.s.locator,
                t.locator
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ));
            if let Some(e) = c
                .state
                .case
                .evidence
                .iter()
                .find(|e| e.path == t.evidence_path)
            {
                ui.horizontal(|ui| {
                    ui.monospace(&e.sha256);
                    if ui.small_button(c.s.copy).clicked() {
                        c.tx.send(Command::CopyText(e.sha256.clone()));
                    }
                });
            }
            ui.separator();
            ui.label(RichText::new(c.s.source_text).strong());
            ui.add(egui::Label::new(RichText::new(&t.source_text).monospace()).wrap());
        });
}

/// One animated bar per file being read (importers report rows, not a fraction of the file).
fn files_in_flight_ui(ui: &mut egui::Ui, c: &Ctx<'_>, files: &[gs_jobs::FileInFlight]) {
    for f in files {
        ui.horizontal(|ui| {
            ui.add(
                egui::ProgressBar::new(0.0)
                    .animate(true)
                    .desired_width(160.0)
                    .text(format!(
                        "{} {}",
                        format::count(f.rows as usize, c.lang),
                        c.s.rows
                    )),
            );
            ui.label(format!("{:.1} s", f.elapsed_ms as f64 / 1000.0));
            ui.weak(format::bytes(f.bytes, c.lang));
            ui.add(egui::Label::new(&f.path).truncate());
        });
    }
}

fn status_ui(ui: &mut egui::Ui, c: &Ctx<'_>) {
    // One snapshot per frame (it locks and copies the in-flight list).
    let snapshot = c
        .state
        .job
        .as_ref()
        .map(|job| (job, job.progress.snapshot()));
    if let Some((_, p)) = &snapshot
        && !p.in_flight.is_empty()
    {
        files_in_flight_ui(ui, c, &p.in_flight);
        ui.separator();
    }
    ui.horizontal(|ui| {
        let case = &c.state.case;
        if case.evidence.is_empty() && c.state.job.is_none() {
            ui.label(c.s.no_evidence);
        } else {
            let span = case
                .date_span()
                .map(|(a, b)| {
                    format!(
                        " · {} – {}",
                        format::date(a, c.lang),
                        format::date(b, c.lang)
                    )
                })
                .unwrap_or_default();
            ui.label(format!(
                "{} {} · {} {} · {} {}{span}",
                format::count(case.evidence.len(), c.lang),
                c.s.summary_files,
                format::count(case.transactions.len(), c.lang),
                c.s.summary_transactions,
                format::count(case.accounts.len(), c.lang),
                c.s.summary_accounts,
            ));
        }
        if let Some((job, p)) = &snapshot {
            ui.separator();
            let frac = if p.bytes_total > 0 {
                p.bytes_done as f32 / p.bytes_total as f32
            } else {
                0.0
            };
            let secs = job.started.elapsed().as_secs_f64().max(0.001);
            let rate = p.files_done as f64 / secs;
            ui.add(
                egui::ProgressBar::new(frac)
                    .desired_width(220.0)
                    .text(format!(
                        "{} {}/{} {}",
                        c.s.loading, p.files_done, p.files_total, c.s.files
                    )),
            );
            ui.label(format!(
                "{:.1} {}{} · {} {}",
                rate,
                c.s.files,
                c.s.per_second,
                format::count(p.rows as usize, c.lang),
                c.s.rows
            ));
            if !p.current.is_empty() {
                ui.weak(&p.current);
            }
            if !c.state.queue.is_empty() {
                ui.label(format!("+{} {}", c.state.queue.len(), c.s.queued));
            }
            if ui.button(c.s.cancel).clicked() {
                c.tx.send(Command::CancelJob);
            }
        }
    });
}

fn toasts_ui(ui: &mut egui::Ui, c: &Ctx<'_>) {
    if c.state.toasts.is_empty() {
        return;
    }
    egui::Area::new(egui::Id::unique("toasts"))
        .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -40.0))
        .show(ui.ctx(), |ui| {
            for t in &c.state.toasts {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_max_width(420.0);
                    ui.horizontal(|ui| {
                        let col = if t.is_error {
                            c.tokens.error
                        } else {
                            c.tokens.warning
                        };
                        status_dot_ui(ui, col);
                        ui.add(egui::Label::new(&t.text).wrap());
                        if ui.small_button(c.s.dismiss).clicked() {
                            c.tx.send(Command::DismissToast(t.id));
                        }
                    });
                });
            }
        });
}
