//! `capstan-bench-read`: times `capstan_frame::read` on one file and prints one JSON line
//! (seconds, rows, columns, file MB, MB/s). Driven by `scripts/bench_data.py`, which runs
//! pyarrow's CSV reader on the same file beside it.
//!
//! `--threads` sets the rayon pool, on which the CSV reader reads, tokenizes and types
//! chunks of the file (it starts no threads of its own). The best of
//! `--repeat` reads is reported; each read starts from the page cache (the file is read
//! once before timing).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use capstan_frame::ReadOptions;
use clap::Parser;
use serde_json::json;

/// Time capstan's reader on one file; print one JSON line.
#[derive(Debug, Parser)]
#[command(name = "capstan-bench-read", version)]
struct Args {
    /// .csv, .tsv, .parquet or .jsonl
    file: PathBuf,
    /// Worker threads (rayon pool) [default: all cores]
    #[arg(long)]
    threads: Option<usize>,
    /// Reads to time; the fastest is reported
    #[arg(long, default_value_t = 3)]
    repeat: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("rayon pool")?;
    }
    let bytes = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot stat {}", args.file.display()))?
        .len();
    // warm the page cache so the timing is the parser, not the disk
    std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let mut best = f64::INFINITY;
    let mut shape = (0, 0);
    for _ in 0..args.repeat.max(1) {
        let started = Instant::now();
        let frame = capstan_frame::read(&args.file, &ReadOptions::default())?;
        best = best.min(started.elapsed().as_secs_f64());
        shape = (frame.n_rows(), frame.n_cols());
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "{}",
        json!({
            "engine": "capstan",
            "file": args.file,
            "seconds": best,
            "rows": shape.0,
            "cols": shape.1,
            "mb": mb,
            "mb_per_s": mb / best,
        })
    );
    Ok(())
}
