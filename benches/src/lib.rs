//! Shared helpers for geldspur's end-to-end benchmarks: input generation and peak memory.

use std::path::{Path, PathBuf};

pub mod eval;

/// Rows of the big bank CSV (override with `GS_BENCH_ROWS`).
pub fn csv_rows() -> usize {
    std::env::var("GS_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// Creates (once per run) the benchmark inputs under `dir`; returns the path of the big CSV.
pub fn big_csv(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join(format!("sparkasse_{rows}.csv"));
    if !path.exists() {
        gs_synth::write_bulk_bank_csv(&path, rows, 7).expect("writing the benchmark CSV");
    }
    path
}

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Plain Polars read of a `;`-separated CSV (the baseline the ingest is compared with).
pub fn polars_read_csv(path: &Path) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::*;
    CsvReadOptions::default()
        .with_has_header(true)
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(b';')
                .with_encoding(CsvEncoding::LossyUtf8),
        )
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
}

/// Rounds of a paired measurement ([`paired_vs_polars`]): in each, a plain Polars read and a
/// frame-mode ingest of the same file, one right after the other.
#[derive(Clone, Debug)]
pub struct Paired {
    /// (wall, CPU) seconds of the Polars read, per round.
    pub polars: Vec<(f64, f64)>,
    /// (wall, CPU) seconds of the ingest (`geldspur ingest`'s frame mode), per round.
    pub ours: Vec<(f64, f64)>,
}

impl Paired {
    /// Each round's own wall-time ratio (ingest / Polars), sorted. Both reads of a round ran
    /// within about a second, in one machine state: the ratio does not move with the drift of
    /// a shared machine over minutes, which criterion's separate windows (~40 s of Polars,
    /// then ~35 s of the ingest) do.
    pub fn round_ratios(&self) -> Vec<f64> {
        let mut r: Vec<f64> = self
            .polars
            .iter()
            .zip(&self.ours)
            .map(|(p, o)| o.0 / p.0)
            .collect();
        r.sort_by(f64::total_cmp);
        r
    }

    /// One line: medians of both sides (wall and CPU), the ratio of the medians and the
    /// median and range of the rounds' own ratios.
    pub fn summary(&self) -> String {
        let median = |v: &[(f64, f64)], cpu: bool| {
            let mut x: Vec<f64> = v.iter().map(|p| if cpu { p.1 } else { p.0 }).collect();
            x.sort_by(f64::total_cmp);
            x.get(x.len() / 2).copied().unwrap_or(f64::NAN)
        };
        let (pw, ow) = (median(&self.polars, false), median(&self.ours, false));
        let (pc, oc) = (median(&self.polars, true), median(&self.ours, true));
        let r = self.round_ratios();
        let (lo, mid, hi) = (
            r.first().copied().unwrap_or(f64::NAN),
            r.get(r.len() / 2).copied().unwrap_or(f64::NAN),
            r.last().copied().unwrap_or(f64::NAN),
        );
        format!(
            "{} paired rounds, medians: polars {pw:.3} s wall / {pc:.2} s CPU | geldspur frame mode {ow:.3} s wall / {oc:.2} s CPU | ratio of medians: wall {:.2}, CPU {:.2} | rounds' own wall ratios: median {mid:.2}, range {lo:.2}–{hi:.2}",
            r.len(),
            ow / pw,
            oc / pc,
        )
    }
}

/// The ratio measured in pairs: `rounds` times a plain Polars read of `csv` and, right
/// after it, a frame-mode ingest (what `geldspur ingest` runs), both with the drop of their
/// result inside the timing, as criterion times them. The order alternates between rounds so
/// that neither side always runs on the other's freshly freed memory.
pub fn paired_vs_polars(csv: &Path, rounds: usize) -> Paired {
    let time = |f: &dyn Fn() -> usize| {
        let (t, c) = (std::time::Instant::now(), cpu_seconds());
        std::hint::black_box(f());
        (t.elapsed().as_secs_f64(), cpu_seconds() - c)
    };
    let polars = || polars_read_csv(csv).expect("polars read").height();
    let ours = || ingest_frame_mode(&[csv.to_path_buf()]);
    let mut p = Paired {
        polars: Vec::new(),
        ours: Vec::new(),
    };
    for k in 0..rounds.max(1) {
        if k % 2 == 0 {
            p.polars.push(time(&polars));
            p.ours.push(time(&ours));
        } else {
            p.ours.push(time(&ours));
            p.polars.push(time(&polars));
        }
    }
    p
}

/// Rows of a frame-mode ingest of `inputs` (what `geldspur ingest` runs: big files are
/// streamed into frame chunks).
pub fn ingest_frame_mode(inputs: &[PathBuf]) -> usize {
    let req = gs_pipeline::Request {
        inputs: inputs.to_vec(),
        ingest: gs_ingest::IngestOptions::default(),
        skip_frame: false,
        frame_only: true,
    };
    gs_pipeline::run(&req, &gs_jobs::Progress::new())
        .expect("ingest")
        .frame
        .height()
}

/// User + system CPU seconds of this process so far (all threads), from /proc/self/stat;
/// 0 where that is not readable.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the command name (which may hold spaces) start at state; utime, stime are
    // the 12th and 13th of them, in clock ticks (100 per second on Linux)
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}
