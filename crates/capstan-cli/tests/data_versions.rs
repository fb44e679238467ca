//! Dataset versions end to end on adult: training records the version (run, bundle, store),
//! `data versions` lists it with the run and reuses an unchanged file's hash, `data diff`
//! reports exactly what a modified copy changed, and CSV vs Parquet is the same content.

mod common;

use std::path::Path;

use arrow_array::Int64Array;
use capstan_bundle::Bundle;
use capstan_frame::{Column, Frame, ReadOptions};
use common::{Run, capstan, shared_data, tempdir};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json(run: &Run) -> Value {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// `frame` with `hours_per_week` increased by 5 in every row.
fn shift_hours(frame: &Frame) -> Frame {
    let columns = frame
        .schema()
        .fields
        .iter()
        .zip(frame.columns())
        .map(|(f, c)| {
            let c = if f.name == "hours_per_week" {
                let shifted: Int64Array = (0..c.len())
                    .map(|i| c.f64_at(i).map(|v| v as i64 + 5))
                    .collect();
                Column::Integer(shifted)
            } else {
                c.clone()
            };
            (f.name.clone(), c)
        })
        .collect();
    Frame::from_columns(columns).expect("same shape")
}

fn mean(frame: &Frame, column: &str) -> f64 {
    let c = frame.require(column).expect("column");
    let values: Vec<f64> = (0..c.len()).filter_map(|i| c.f64_at(i)).collect();
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn training_records_the_version_and_diff_reports_changes() {
    let dir = tempdir("data-versions");
    let adult = shared_data("adult");
    let bundle_path = dir.join("model.capstan");
    let trained = json(&capstan(
        &dir,
        &[
            "train",
            "--data",
            s(&adult),
            "--target",
            "income_gt_50k",
            "--n-trees",
            "10",
            "--out",
            s(&bundle_path),
            "--json",
        ],
    ));
    let run_id = trained["run_id"].as_str().expect("run id").to_string();

    // The bundle and the run lineage carry the version; the file hash is kept beside it.
    let bundle = Bundle::read(&bundle_path).expect("bundle");
    let version = bundle
        .manifest
        .lineage
        .dataset_version
        .clone()
        .expect("dataset version in the bundle lineage");
    assert_eq!(version.len(), 64);
    assert_eq!(
        bundle.manifest.lineage.dataset_sha256,
        capstan_frame::file_sha256(&adult).expect("file hash")
    );
    let run = json(&capstan(&dir, &["runs", "show", &run_id, "--json"]));
    assert_eq!(run["lineage"]["dataset_version"], version.as_str());

    // Listed with the run that used it.
    let listed = json(&capstan(&dir, &["data", "versions", "--json"]));
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["version"], version.as_str());
    assert_eq!(listed[0]["n_rows"], 48842);
    assert_eq!(listed[0]["n_cols"], 15);
    assert_eq!(listed[0]["run_ids"], serde_json::json!([run_id]));
    let table = capstan(&dir, &["data", "versions"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let line = table
        .stdout
        .lines()
        .find(|l| l.starts_with(&version[..12]))
        .unwrap_or_else(|| panic!("no row for {version}:\n{}", table.stdout));
    assert!(line.contains(&run_id) && line.contains("48842"), "{line}");

    // Computing it from the file gives the same version; the second time it is not re-read.
    let first = json(&capstan(
        &dir,
        &["data", "versions", "--data", s(&adult), "--json"],
    ));
    assert_eq!(first["version"], version.as_str());
    assert_eq!(first["reused"], false);
    assert_eq!(first["has_profile"], true);
    let again = json(&capstan(
        &dir,
        &["data", "versions", "--data", s(&adult), "--json"],
    ));
    assert_eq!(again["version"], version.as_str());
    assert_eq!(again["reused"], true);
    assert_eq!(again["run_ids"], serde_json::json!([run_id]));

    // A modified copy: fnlwgt dropped, the last 500 rows removed, hours_per_week + 5.
    let frame = capstan_frame::read(&adult, &ReadOptions::default()).expect("adult");
    let kept: Vec<usize> = (0..frame.n_rows() - 500).collect();
    let modified = shift_hours(&frame.take(&kept).drop_columns(&["fnlwgt"]));
    let modified_path = dir.join("adult_modified.csv");
    capstan_frame::write_csv(&modified, &modified_path).expect("write copy");
    let d = json(&capstan(
        &dir,
        &["data", "diff", s(&adult), s(&modified_path), "--json"],
    ));
    assert_eq!(d["same_content"], false);
    assert_eq!(
        d["removed_columns"],
        serde_json::json!([{"name": "fnlwgt", "type": "integer"}])
    );
    assert_eq!(d["added_columns"], serde_json::json!([]));
    assert_eq!(d["type_changes"], serde_json::json!([]));
    assert_eq!(
        (d["a"]["n_rows"].as_u64(), d["b"]["n_rows"].as_u64()),
        (Some(48842), Some(48342))
    );
    let columns = d["columns"].as_array().expect("columns");
    assert_eq!(columns.len(), 14);
    let stats = |name: &str| -> &Value {
        &columns.iter().find(|c| c["name"] == name).expect("column")["stats"]
    };
    let hours = stats("hours_per_week");
    let expected_b = mean(&modified, "hours_per_week");
    assert!(
        (hours["mean"]["a"].as_f64().expect("a") - mean(&frame, "hours_per_week")).abs() < 1e-9
    );
    assert!((hours["mean"]["b"].as_f64().expect("b") - expected_b).abs() < 1e-9);
    assert!(hours["psi"].as_f64().expect("psi") > 0.25, "{hours}");
    for c in columns.iter().filter(|c| c["name"] != "hours_per_week") {
        let psi = c["stats"]["psi"].as_f64().unwrap_or(0.0);
        assert!(psi < 0.01, "{}: psi {psi}", c["name"]);
    }

    // Only the shift: exactly that column's content changed.
    let shifted_path = dir.join("adult_shifted.parquet");
    capstan_frame::write_parquet(&shift_hours(&frame), &shifted_path).expect("write shifted");
    let d = json(&capstan(
        &dir,
        &["data", "diff", s(&adult), s(&shifted_path), "--json"],
    ));
    let changed: Vec<&str> = d["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter(|c| c["content"] == "changed")
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(changed, vec!["hours_per_week"]);
    let human = capstan(&dir, &["data", "diff", s(&adult), s(&shifted_path)]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("content changed in 1 of 15 shared columns: hours_per_week"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("rows: 48842 -> 48842 (+0)"),
        "{}",
        human.stdout
    );

    // The same table as Parquet: same content, from a file or from the recorded version.
    let parquet = dir.join("adult.parquet");
    capstan_frame::write_parquet(&frame, &parquet).expect("write parquet");
    let same = capstan(&dir, &["data", "diff", s(&adult), s(&parquet)]);
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(same.stdout.contains("same content"), "{}", same.stdout);
    let same = json(&capstan(
        &dir,
        &["data", "diff", &version[..10], s(&parquet), "--json"],
    ));
    assert_eq!(same["same_content"], true);

    // Bad references.
    let unknown = capstan(&dir, &["data", "diff", "deadbeef", s(&parquet)]);
    assert_eq!(unknown.code, 4, "{}", unknown.stderr);
    assert!(
        unknown
            .stderr
            .contains("no dataset version matches 'deadbeef'"),
        "{}",
        unknown.stderr
    );
    let missing = capstan(&dir, &["data", "diff", "no/such.csv", s(&parquet)]);
    assert_eq!(missing.code, 3, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no/such.csv: no such file"),
        "{}",
        missing.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}
