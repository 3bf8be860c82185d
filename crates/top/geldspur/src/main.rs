//! geldspur: follow the money in seized financial evidence.
//!
//! With no subcommand (or `open [FOLDER]`) it opens the desktop window; subcommands run the
//! same pipeline headless.

mod cli_analyze;
mod cli_ingest;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: ingest allocates a few short-lived strings per
/// row, and glibc's malloc/free plus its page faults were a quarter of a million-row ingest
/// (docs/BENCHMARKS.md). Polars recommends the same for its users.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// geldspur — reads seized bank evidence (MT940, CAMT, bank CSV, spreadsheets, PDF statements,
/// DATEV, OFX) into one provenance-carrying transaction table. Never opens a network connection.
#[derive(Parser, Debug)]
#[command(name = "geldspur", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read evidence folders/files into transactions.parquet + manifest.json.
    Ingest(cli_ingest::IngestArgs),
    /// Ingest, then resolve parties, build the payment graph and run the typology rules.
    Analyze(cli_analyze::AnalyzeArgs),
    /// Open the desktop window on an evidence folder.
    Open {
        /// Evidence folder.
        folder: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Ingest(args)) => {
            gs_log::init();
            cli_ingest::run(&args)
        }
        Some(Command::Analyze(args)) => {
            gs_log::init();
            cli_analyze::run(&args)
        }
        Some(Command::Open { folder }) => open_window(folder),
        None => open_window(None),
    }
}

fn open_window(folder: Option<PathBuf>) -> ExitCode {
    // Warnings and errors from tracing also become toasts in the window.
    let log_rx = gs_log::init_with_ui(256);
    if let Some(f) = &folder
        && !f.exists()
    {
        eprintln!("geldspur: input does not exist: {}", f.display());
        return ExitCode::from(2);
    }
    match gs_app::run_native(folder.into_iter().collect(), Some(log_rx)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("geldspur: cannot open the window: {e}");
            ExitCode::from(1)
        }
    }
}
