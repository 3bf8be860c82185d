//! Logging set-up for geldspur binaries: `tracing` with an `EnvFilter` (`RUST_LOG`), to stderr.
//!
//! The investigators' audit trail is case data (see the case store), not log output.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops. Default level: `warn` for
/// dependencies, `info` for geldspur's own crates.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,geldspur=info,gs_ingest=info,gs_pipeline=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
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
    fn chain_includes_causes_once() {
        let io = std::io::Error::other("disk gone");
        let wrapped = std::io::Error::other(io);
        let s = error_chain(&wrapped);
        assert!(s.contains("disk gone"), "{s}");
    }
}
