//! `capstan data profile` end to end on real data: the terminal summary, the JSON and HTML
//! files, `--json`, Parquet input giving the same profile as CSV, and bad input.

mod common;

use std::path::Path;

use capstan_frame::ReadOptions;
use capstan_quality::profile::Profile;
use common::{capstan, shared_data, tempdir};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn profiles_titanic_to_summary_json_and_html() {
    let dir = tempdir("profile-titanic");
    let data = shared_data("titanic");
    let json = dir.join("profile.json");
    let html = dir.join("report.html");
    let run = capstan(
        &dir,
        &[
            "data",
            "profile",
            "--data",
            s(&data),
            "--target",
            "survived",
            "--out",
            s(&json),
            "--html",
            s(&html),
        ],
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    for needle in [
        "891 rows, 11 columns",
        "findings:",
        "mostly_missing",
        "'cabin' is missing in 687 of 891 rows",
        "id_like",
        "target survived (2 classes: 0 549, 1 342)",
        "single_feature_auc",
    ] {
        assert!(
            run.stdout.contains(needle),
            "stdout lacks '{needle}':\n{}",
            run.stdout
        );
    }
    let p: Profile =
        serde_json::from_slice(&std::fs::read(&json).expect("profile json")).expect("parse");
    assert_eq!((p.n_rows, p.n_cols), (891, 11));
    let age = p.column("age").expect("age");
    assert_eq!((age.count, age.missing), (714, 177));
    let page = std::fs::read_to_string(&html).expect("report");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg") && page.contains("What to look at first"));

    let run = capstan(&dir, &["data", "profile", "--data", s(&data), "--json"]);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let printed: Profile = serde_json::from_str(&run.stdout).expect("--json prints a profile");
    assert_eq!(printed.columns, p.columns);
    assert!(printed.target.is_none());
}

#[test]
fn parquet_and_csv_give_the_same_profile() {
    let dir = tempdir("profile-parquet");
    let csv = shared_data("california_housing");
    let frame = capstan_frame::read(&csv, &ReadOptions::default()).expect("read csv");
    let parquet = dir.join("housing.parquet");
    capstan_frame::write(&frame, &parquet).expect("write parquet");
    let profile_of = |path: &Path| -> Profile {
        let run = capstan(
            &dir,
            &[
                "data",
                "profile",
                "--data",
                s(path),
                "--target",
                "median_house_value",
                "--json",
            ],
        );
        assert_eq!(run.code, 0, "stderr: {}", run.stderr);
        serde_json::from_str(&run.stdout).expect("profile json")
    };
    let a = profile_of(&csv);
    let b = profile_of(&parquet);
    assert_eq!(a.columns, b.columns);
    assert_eq!(a.correlations, b.correlations);
    assert_eq!(a.target, b.target);
    assert_eq!(a.findings, b.findings);
}

#[test]
fn bad_target_and_missing_file_are_input_errors() {
    let dir = tempdir("profile-errors");
    let data = shared_data("titanic");
    let out = dir.join("never.json");
    let run = capstan(
        &dir,
        &[
            "data",
            "profile",
            "--data",
            s(&data),
            "--target",
            "survivd",
            "--out",
            s(&out),
        ],
    );
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    for needle in [
        "target column 'survivd' not found",
        "did you mean 'survived'",
        "columns are: pclass, name, sex",
    ] {
        assert!(
            run.stderr.contains(needle),
            "stderr lacks '{needle}': {}",
            run.stderr
        );
    }
    assert!(!out.exists(), "no profile is written on error");

    let missing = dir.join("nope.csv");
    let run = capstan(&dir, &["data", "profile", "--data", s(&missing)]);
    assert_eq!(run.code, 3, "stderr: {}", run.stderr);
    assert!(run.stderr.contains("nope.csv"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
