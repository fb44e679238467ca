//! Reads a table, prints its shape, schema and timings: `cargo run --release --example
//! read_file -- FILE [OUT]` (OUT: also write it, format by extension).

use std::path::Path;
use std::time::Instant;

use capstan_frame::{ReadOptions, read, write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(input) = args.first() else {
        return Err("usage: read_file FILE [OUT]".into());
    };
    let start = Instant::now();
    let frame = read(Path::new(input), &ReadOptions::default())?;
    let read_s = start.elapsed().as_secs_f64();
    println!(
        "{input}: {} rows x {} cols, read in {read_s:.2} s",
        frame.n_rows(),
        frame.n_cols()
    );
    for (field, column) in frame.schema().fields.iter().zip(frame.columns()) {
        println!(
            "  {:<24} {:<8} nulls={}",
            field.name,
            field.dtype,
            column.null_count()
        );
    }
    if let Some(out) = args.get(1) {
        let start = Instant::now();
        write(&frame, Path::new(out))?;
        println!("{out}: written in {:.2} s", start.elapsed().as_secs_f64());
    }
    Ok(())
}
