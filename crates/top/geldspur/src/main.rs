//! geldspur: follow the money in seized financial evidence.
//!
//! With no subcommand this will open the desktop window (being built); subcommands run the
//! same pipeline headless.

mod cli_ingest;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Open the desktop window on an evidence folder.
    Open {
        /// Evidence folder.
        folder: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    gs_log::init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Ingest(args)) => cli_ingest::run(&args),
        Some(Command::Open { .. }) | None => {
            eprintln!(
                "geldspur: the desktop window is not built yet in this version; use `geldspur ingest <folder> --out <dir>`"
            );
            ExitCode::from(2)
        }
    }
}
