//! Peak memory of an ingest compared with the in-memory size of the resulting frame.
//! Usage: `cargo run --release -p gs_benches --bin gs_bench_mem -- [rows]`
//! (generates a Sparkasse CSV of `rows` rows, default 1,000,000, ingests it, prints both sizes).

use gs_ingest::IngestOptions;
use gs_jobs::Progress;

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = gs_benches::big_csv(dir.path(), rows);
    let file_bytes = std::fs::metadata(&csv).map_or(0, |m| m.len());
    let before = gs_benches::peak_rss_bytes().unwrap_or(0);
    let start = std::time::Instant::now();
    let req = gs_pipeline::Request {
        inputs: vec![csv],
        ingest: IngestOptions::default(),
    };
    let out = gs_pipeline::run(&req, &Progress::new()).expect("ingest");
    let secs = start.elapsed().as_secs_f64();
    let frame_bytes = out.frame.estimated_size() as u64;
    let peak = gs_benches::peak_rss_bytes().unwrap_or(0);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "rows {} | file {:.1} MiB | ingest {secs:.2} s",
        out.frame.height(),
        mib(file_bytes)
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
