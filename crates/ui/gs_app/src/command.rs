//! Commands: the only way views change application state. Menu items, buttons, drops and
//! shortcuts all send one of these; [`crate::GeldspurApp::apply_commands`] applies them once
//! per frame.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

use gs_ui::Lang;

use crate::state::{SortColumn, TxFilter};

/// Everything a user can ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Add evidence folders/files (drop, dialog, CLI argument). Queued while a job runs.
    AddEvidence(Vec<PathBuf>),
    /// Open the folder dialog (on a background thread).
    OpenFolderDialog,
    /// Open the files dialog (on a background thread).
    AddFilesDialog,
    /// The file dialog could not be shown (no portal): tell the user to drop instead.
    DialogUnavailable,
    /// Stop the running ingest; the state before it is kept.
    CancelJob,
    /// Switch the UI language.
    SetLanguage(Lang),
    /// Show only files with warnings, errors, failures.
    SetProblemsOnly(bool),
    /// Apply a transaction filter.
    SetFilter(TxFilter),
    /// Sort the table (clicking the same column again flips the order).
    SortBy(SortColumn),
    /// Select a transaction (index into the case's transactions) or none.
    SelectTransaction(Option<usize>),
    /// Put text on the clipboard (e.g. a SHA-256).
    CopyText(String),
    /// Remove a toast.
    DismissToast(u64),
}

/// Cloneable, thread-safe sender of commands (bounded; a full queue drops the command with a log
/// line instead of blocking the UI).
#[derive(Clone, Debug)]
pub struct CommandSender {
    tx: SyncSender<Command>,
}

impl CommandSender {
    /// Sends a command.
    pub fn send(&self, cmd: Command) {
        // A disconnected receiver means the app is shutting down: nothing to do.
        if let Err(TrySendError::Full(c)) = self.tx.try_send(cmd) {
            tracing::warn!(command = ?c, "command queue full; command dropped");
        }
    }
}

/// Creates the command channel.
pub fn command_channel() -> (CommandSender, Receiver<Command>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(1024);
    (CommandSender { tx }, rx)
}
