//! Write then read gives back the same frame: CSV -> Parquet, CSV -> CSV, JSON lines.

mod common;

use capstan_frame::{Frame, ReadOptions, read, write, write_csv, write_json_lines, write_parquet};
use common::{dataset, list_dir, scratch_dir};

const SETS: &[&str] = &[
    "adult",
    "telco_churn",
    "california_housing",
    "bike_sharing_hourly",
    "titanic",
    "penguins",
];

fn original(name: &str) -> Frame {
    read(&dataset(name), &ReadOptions::default()).expect(name)
}

#[test]
fn csv_to_parquet_to_frame() {
    let dir = scratch_dir("csv_to_parquet");
    for name in SETS {
        let frame = original(name);
        let out = dir.join(format!("{name}.parquet"));
        write_parquet(&frame, &out).expect("write parquet");
        let back = read(&out, &ReadOptions::default()).expect("read parquet");
        assert_eq!(back, frame, "{name}");
    }
    // Only the final files: no temp files left behind.
    assert!(list_dir(&dir).iter().all(|n| n.ends_with(".parquet")));
}

#[test]
fn csv_to_csv() {
    let dir = scratch_dir("csv_to_csv");
    for name in SETS {
        let frame = original(name);
        let out = dir.join(format!("{name}.csv"));
        write_csv(&frame, &out).expect("write csv");
        let back = read(&out, &ReadOptions::default()).expect("read csv");
        assert_eq!(back, frame, "{name}");
    }
}

#[test]
fn json_lines_and_tsv_by_extension() {
    let dir = scratch_dir("jsonl_tsv");
    for name in ["telco_churn", "bike_sharing_hourly", "penguins"] {
        let frame = original(name);
        for ext in ["jsonl", "tsv", "pq"] {
            let out = dir.join(format!("{name}.{ext}"));
            write(&frame, &out).expect("write");
            let back = read(&out, &ReadOptions::default()).expect("read");
            assert_eq!(back, frame, "{name}.{ext}");
        }
    }
    let tsv = std::fs::read_to_string(dir.join("penguins.tsv")).expect("tsv");
    assert!(
        tsv.starts_with("island\tbill_length_mm\t"),
        "{}",
        &tsv[..40]
    );
}

#[test]
fn floats_keep_exact_values_and_type_through_csv() {
    let dir = scratch_dir("float_text");
    let path = common::write_file(
        &dir,
        "f.csv",
        "x,y\n1.0,0.1\n2.0,1e-7\n3.0,1.7976931348623157e308\n",
    );
    let frame = read(&path, &ReadOptions::default()).expect("read");
    let out = dir.join("out.csv");
    write_json_lines(&frame, &dir.join("out.jsonl")).expect("jsonl");
    write_csv(&frame, &out).expect("write");
    let text = std::fs::read_to_string(&out).expect("text");
    assert_eq!(text, "x,y\n1.0,0.1\n2.0,1e-7\n3.0,1.7976931348623157e308\n");
    assert_eq!(read(&out, &ReadOptions::default()).expect("back"), frame);
    assert_eq!(
        read(&dir.join("out.jsonl"), &ReadOptions::default()).expect("jsonl back"),
        frame
    );
}
