//! Logging set-up for geldspur binaries: `tracing` with an `EnvFilter` (`RUST_LOG`), to stderr.
//!
//! The investigators' audit trail is case data (see the case store), not log output.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

fn default_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("warn,geldspur=info,gs_ingest=info,gs_pipeline=info,gs_app=info")
    })
}

/// Installs the global subscriber once; later calls are no-ops. Default level: `warn` for
/// dependencies, `info` for geldspur's own crates.
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(default_filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// Severity of a record sent to the UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum UiLevel {
    /// A warning.
    Warning,
    /// An error (data may be lost).
    Error,
}

/// A warning or error event for the UI's toasts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UiRecord {
    /// Severity.
    pub level: UiLevel,
    /// The event's message and fields, `key=value` separated by spaces.
    pub message: String,
}

/// A tracing layer that forwards WARN and ERROR events into a bounded channel; when the UI
/// does not keep up, records are dropped rather than blocking the emitting thread.
pub struct UiLayer {
    tx: SyncSender<UiRecord>,
}

/// Creates the layer and the receiving end (capacity `capacity`).
pub fn ui_channel(capacity: usize) -> (UiLayer, Receiver<UiRecord>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
    (UiLayer { tx }, rx)
}

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for UiLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        // Only our own events: window-system chatter from dependencies is not for investigators.
        let target = event.metadata().target();
        if !(target.starts_with("gs_") || target.starts_with("geldspur")) {
            return;
        }
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => UiLevel::Error,
            tracing::Level::WARN => UiLevel::Warning,
            _ => return,
        };
        let mut v = MessageVisitor(String::new());
        event.record(&mut v);
        match self.tx.try_send(UiRecord {
            level,
            message: v.0,
        }) {
            Ok(()) | Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }
}

/// Installs stderr logging plus the UI layer; returns the receiver for toasts.
pub fn init_with_ui(capacity: usize) -> Receiver<UiRecord> {
    let (layer, rx) = ui_channel(capacity);
    let _ = tracing_subscriber::registry()
        .with(default_filter())
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_target(false),
        )
        .with(layer)
        .try_init();
    rx
}

/// Formats an error with its whole chain of causes: `outer: inner: root`.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(c) = cur {
        let msg = c.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_layer_forwards_warnings_and_errors_only() {
        let (layer, rx) = ui_channel(4);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not shown");
            tracing::warn!(file = "a.sta", "balance mismatch");
            tracing::warn!(target: "winit::x11", "XRandR noise");
            tracing::error!("rows lost");
        });
        let got: Vec<UiRecord> = rx.try_iter().collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].level, UiLevel::Warning);
        assert!(
            got[0].message.contains("balance mismatch")
                && got[0].message.contains("file=\"a.sta\""),
            "{:?}",
            got[0]
        );
        assert_eq!(got[1].level, UiLevel::Error);
    }

    #[test]
    fn chain_includes_causes_once() {
        let io = std::io::Error::other("disk gone");
        let wrapped = std::io::Error::other(io);
        let s = error_chain(&wrapped);
        assert!(s.contains("disk gone"), "{s}");
    }
}
