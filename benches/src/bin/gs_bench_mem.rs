//! Peak memory of an ingest compared with the in-memory size of the resulting frame.
//! Usage: `cargo run --release -p gs_benches --bin gs_bench_mem -- [rows] [frame|transactions]`
//! (generates a Sparkasse CSV of `rows` rows, default 1,000,000, ingests it, prints both sizes).
//! `frame` (default) is what `geldspur ingest` runs (frame built while reading); `transactions`
//! is what the window and `analyze` run (every row as a `Transaction`, then the frame).
//! Environment: `GS_BENCH_STAGES=1` times the stages one by one, `GS_BENCH_COLUMNS=1` prints
//! each column's size, `GS_BENCH_DIR=DIR` keeps the generated CSV in DIR for the next run,
//! `GS_BENCH_CANCEL_AFTER_MS=N` measures how fast a cancel stops the ingest,
//! `GS_BENCH_WITH=FOLDER` ingests FOLDER beside the CSV (statements of other accounts).

use gs_ingest::IngestOptions;
use gs_jobs::Progress;

// the allocator the `geldspur` binary uses
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // GS_BENCH_DIR keeps the generated CSV between runs (profiles then show only the ingest)
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = std::env::var_os("GS_BENCH_DIR").map_or_else(|| tmp.path().to_path_buf(), Into::into);
    let csv = gs_benches::big_csv(&dir, rows);
    let file_bytes = std::fs::metadata(&csv).map_or(0, |m| m.len());
    if let Some(ms) = std::env::var("GS_BENCH_CANCEL_AFTER_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        cancel_latency(&csv, ms);
        return;
    }
    if std::env::var_os("GS_BENCH_STAGES").is_some() {
        stages(&csv);
    }
    if let Some(n) = std::env::var("GS_BENCH_VS_POLARS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        vs_polars(&csv, n);
        return;
    }
    let frame_only = std::env::args().nth(2).as_deref() != Some("transactions");
    let before = gs_benches::peak_rss_bytes().unwrap_or(0);
    let start = std::time::Instant::now();
    // GS_BENCH_WITH=FOLDER ingests another folder beside the CSV (e.g. testdata/demo-case:
    // several accounts, so mirror linking cannot be skipped)
    let mut inputs = vec![csv];
    inputs.extend(std::env::var_os("GS_BENCH_WITH").map(std::path::PathBuf::from));
    let req = gs_pipeline::Request {
        inputs,
        ingest: IngestOptions::default(),
        skip_frame: false,
        frame_only,
    };
    let out = gs_pipeline::run(&req, &Progress::new()).expect("ingest");
    let secs = start.elapsed().as_secs_f64();
    let frame_bytes = out.frame.estimated_size() as u64;
    if std::env::var_os("GS_BENCH_COLUMNS").is_some() {
        for c in out.frame.columns() {
            println!(
                "  {:<24} {:>8.1} MiB",
                c.name().as_str(),
                c.as_materialized_series().estimated_size() as f64 / (1024.0 * 1024.0)
            );
        }
    }
    let peak = gs_benches::peak_rss_bytes().unwrap_or(0);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "rows {} | file {:.1} MiB | ingest {secs:.2} s ({} mode)",
        out.frame.height(),
        mib(file_bytes),
        if frame_only { "frame" } else { "transactions" }
    );
    println!(
        "frame (estimated_size) {:.1} MiB | peak RSS {:.1} MiB (before ingest {:.1} MiB)",
        mib(frame_bytes),
        mib(peak),
        mib(before)
    );
    println!(
        "peak RSS / frame = {:.2}",
        peak as f64 / frame_bytes.max(1) as f64
    );
}

/// The time ratio in pairs (`GS_BENCH_VS_POLARS=N`): N rounds of a plain Polars read
/// and a frame-mode ingest, one right after the other ([`gs_benches::paired_vs_polars`]; the
/// criterion bench `benches/ingest.rs` prints the same measurement after its own).
fn vs_polars(csv: &std::path::Path, rounds: usize) {
    println!("{}", gs_benches::paired_vs_polars(csv, rounds).summary());
}

/// Times the stages of one file's ingest separately (set `GS_BENCH_STAGES=1`).
fn stages(csv: &std::path::Path) {
    use gs_ingest::Importer as _;
    let t = std::time::Instant::now();
    let bytes = std::fs::read(csv).expect("read");
    println!("read            {:>7.3} s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let sha = gs_ingest::walk::sha256_hex(&bytes);
    println!("sha256          {:>7.3} s", t.elapsed().as_secs_f64());
    // stages that allocate run twice: the first run also pays for faulting in fresh memory
    for _ in 0..2 {
        let t = std::time::Instant::now();
        let d = gs_ingest::text::decode(&bytes);
        println!(
            "decode (one thread, {}) {:>7.3} s",
            d.encoding,
            t.elapsed().as_secs_f64()
        );
    }
    let evidence_id = gs_types::EvidenceId::from_sha256(&sha);
    let file = gs_ingest::SourceFile::new("x.csv".into(), bytes);
    let progress = gs_jobs::Progress::new();
    let ctx = gs_ingest::ImportContext {
        mappings: &[],
        progress: &progress,
        frames: None,
    };
    let sink = gs_ingest::rows::FrameSink::new("x.csv".into());
    for _ in 0..2 {
        let t = std::time::Instant::now();
        let framed = gs_ingest::formats::bank_csv::BankCsvImporter
            .import(
                &file,
                &gs_ingest::ImportContext {
                    frames: Some(&sink),
                    ..ctx
                },
            )
            .expect("import");
        println!(
            "frame mode: import into {} frame chunks {:>7.3} s ({} rows)",
            framed.frames.len(),
            t.elapsed().as_secs_f64(),
            framed.rows()
        );
        let mut frames = framed.frames;
        let t = std::time::Instant::now();
        gs_ingest::rows::fill_ids(&mut frames, &sha, &evidence_id).expect("ids");
        println!("frame mode: tx ids {:>7.3} s", t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        let df = gs_types::schema::concat(frames).expect("concat");
        println!(
            "frame mode: concat {:>7.3} s ({} rows)",
            t.elapsed().as_secs_f64(),
            df.height()
        );
        drop(df);
    }
    let t = std::time::Instant::now();
    let out = gs_ingest::formats::bank_csv::BankCsvImporter
        .import(&file, &ctx)
        .expect("import");
    println!(
        "bank_csv import {:>7.3} s ({} rows)",
        t.elapsed().as_secs_f64(),
        out.transactions.len()
    );
    let mut txs = out.transactions;
    let t = std::time::Instant::now();
    let n = gs_ingest::mirror::link_mirrors(&mut txs, 4);
    println!("mirrors         {:>7.3} s ({n})", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let w = gs_ingest::reconcile::running_balances(&txs);
    println!(
        "running bal.    {:>7.3} s ({} warnings)",
        t.elapsed().as_secs_f64(),
        w.len()
    );
    // twice: the second run may reuse the memory the first one freed (no page faults)
    for _ in 0..2 {
        let t = std::time::Instant::now();
        let df = gs_types::schema::to_frame(&txs).expect("frame");
        println!(
            "to_frame        {:>7.3} s ({} cols)",
            t.elapsed().as_secs_f64(),
            df.width()
        );
        drop(df);
    }
    let t = std::time::Instant::now();
    drop(txs);
    println!("drop            {:>7.3} s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let df = gs_benches::polars_read_csv(csv).expect("polars");
    println!(
        "polars read     {:>7.3} s ({} rows)",
        t.elapsed().as_secs_f64(),
        df.height()
    );
}

/// Starts an ingest, cancels it after `ms` milliseconds and prints how long it took to stop
/// (set `GS_BENCH_CANCEL_AFTER_MS=500`).
fn cancel_latency(csv: &std::path::Path, ms: u64) {
    let progress = gs_jobs::Progress::new();
    let p = progress.clone();
    let req = gs_pipeline::Request {
        inputs: vec![csv.to_path_buf()],
        ingest: IngestOptions::default(),
        skip_frame: false,
        frame_only: true,
    };
    let worker = std::thread::Builder::new()
        .name("ingest".into())
        .spawn(move || gs_pipeline::run(&req, &p).map(|o| o.frame.height()))
        .expect("thread");
    std::thread::sleep(std::time::Duration::from_millis(ms));
    let t = std::time::Instant::now();
    progress.cancel();
    let result = worker.join().expect("join");
    println!(
        "cancel after {ms} ms: stopped {:.3} s after the cancel ({})",
        t.elapsed().as_secs_f64(),
        if result.is_err() {
            "cancelled"
        } else {
            "had already finished"
        }
    );
}
