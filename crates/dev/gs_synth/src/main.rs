//! `gs_synth`: writes seeded synthetic evidence folders and benchmark inputs.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gs_synth",
    about = "Seeded generator of synthetic German evidence folders with ground truth"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Writes an evidence folder and, outside it, the ground truth.
    Generate {
        /// Seed of the random generator.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Evidence folder to write.
        #[arg(long)]
        out: PathBuf,
        /// Folder for truth.json and transactions.csv (not inside --out).
        #[arg(long)]
        truth: PathBuf,
        /// Background persons.
        #[arg(long)]
        persons: Option<usize>,
        /// Months covered (at least 4).
        #[arg(long)]
        months: Option<u32>,
    },
    /// Writes a large Sparkasse CSV-CAMT V2 file.
    BulkCsv {
        /// Data rows.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Writes a large ledger workbook.
    BulkXlsx {
        /// Data rows.
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Writes many small files of mixed formats.
    Mixed {
        /// Number of files.
        #[arg(long, default_value_t = 1_000)]
        files: usize,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// (Re)writes OUT/demo-case and OUT/demo-case-truth with the demo configuration.
    Demo {
        /// Folder that receives demo-case/ and demo-case-truth/.
        #[arg(long, default_value = "testdata")]
        out: PathBuf,
    },
}

fn replace_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Generate {
            seed,
            out,
            truth,
            persons,
            months,
        } => {
            let mut config = gs_synth::Config::demo();
            config.seed = seed;
            if persons.is_some() || months.is_some() {
                config = gs_synth::Config::with_scale(
                    seed,
                    persons.unwrap_or(config.persons),
                    months.unwrap_or(config.months),
                );
            }
            let s = gs_synth::generate(&config, &out, &truth)?;
            println!(
                "{} files, {} transactions, {} typologies, {} bytes",
                s.files.len(),
                s.transactions,
                s.typologies,
                s.evidence_bytes
            );
        }
        Cmd::BulkCsv { rows, out, seed } => {
            let s = gs_synth::write_bulk_bank_csv(&out, rows, seed)?;
            println!(
                "{} rows, sum {} cents, {} bytes",
                s.rows, s.sum_cents, s.bytes
            );
        }
        Cmd::BulkXlsx { rows, out, seed } => {
            let s = gs_synth::write_bulk_xlsx(&out, rows, seed)?;
            println!(
                "{} rows, sum {} cents, {} bytes",
                s.rows, s.sum_cents, s.bytes
            );
        }
        Cmd::Mixed { files, out, seed } => {
            let s = gs_synth::write_mixed_folder(&out, files, seed)?;
            println!("{} files, {} transactions", s.files, s.transactions);
        }
        Cmd::Demo { out } => {
            let ev = out.join("demo-case");
            let tr = out.join("demo-case-truth");
            replace_dir(&ev)?;
            replace_dir(&tr)?;
            let s = gs_synth::generate(&gs_synth::Config::demo(), &ev, &tr)?;
            println!(
                "{} files, {} transactions, {} typologies, {} bytes",
                s.files.len(),
                s.transactions,
                s.typologies,
                s.evidence_bytes
            );
        }
    }
    Ok(())
}
