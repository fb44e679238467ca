//! Bias checks, fairness metrics and cleaning from the command line, on real data:
//! `capstan data bias` on adult, `train --sensitive` (report, JSON, run record),
//! `evaluate --sensitive` against Fairlearn on the same predictions, and `[features.clean]`
//! on telco_churn as IBM published it (a space for 11 missing total charges).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use capstan_frame::{Frame, ReadOptions};
use common::{capstan, repo_root, shared_data, tempdir};

const BAD_INPUT: i32 = 3;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn read(path: &Path) -> Frame {
    capstan_frame::read(path, &ReadOptions::default()).expect("read data")
}

#[test]
fn data_bias_on_adult() {
    let dir = tempdir("bias");
    let adult = shared_data("adult");
    let args = [
        "data",
        "bias",
        "--data",
        s(&adult),
        "--target",
        "income_gt_50k",
        "--sensitive",
        "sex,race",
    ];
    let text = capstan(&dir, &args);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("sensitive column 'sex'"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("four-fifths rule"), "{}", text.stdout);

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let run = capstan(&dir, &json_args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = json(&run.stdout);
    // Group counts and positive rates recomputed from the rows.
    let frame = read(&adult);
    let (sex, y) = (
        frame.column("sex").expect("sex"),
        frame.column("income_gt_50k").expect("target"),
    );
    let groups = report["columns"][0]["groups"].as_array().expect("groups");
    assert_eq!(report["columns"][0]["column"], "sex");
    for g in groups {
        let name = g["group"].as_str().expect("group");
        let rows: Vec<usize> = (0..frame.n_rows())
            .filter(|&i| sex.str_at(i) == Some(name))
            .collect();
        let positives = rows.iter().filter(|&&i| y.f64_at(i) == Some(1.0)).count();
        assert_eq!(g["count"].as_u64(), Some(rows.len() as u64), "{name}");
        assert_eq!(
            g["positive_rate"].as_f64(),
            Some(positives as f64 / rows.len() as f64),
            "{name}"
        );
    }
    let findings: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.contains("group 'Other' is 0.8 % of rows"))
    );

    let missing = capstan(
        &dir,
        &[
            "data",
            "bias",
            "--data",
            s(&adult),
            "--target",
            "income_gt_50k",
            "--sensitive",
            "gender",
        ],
    );
    assert_eq!(missing.code, BAD_INPUT);
    assert!(
        missing
            .stderr
            .contains("sensitive column 'gender' not found"),
        "{}",
        missing.stderr
    );
}

/// Fairlearn's metrics on a predictions file, or `None` without python + fairlearn.
fn fairlearn(predictions: &Path, data: &Path, column: &str) -> Option<serde_json::Value> {
    let python = std::env::var_os("CAPSTAN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    let script = r#"
import sys, json, warnings
warnings.simplefilter("ignore")
import pandas as pd
import fairlearn.metrics as F
p = pd.read_csv(sys.argv[1]); d = pd.read_csv(sys.argv[2]); col = sys.argv[3]
y, yp, g = d["income_gt_50k"].astype(int), (p["proba_1"] >= 0.5).astype(int), d[col]
print(json.dumps({
  "demographic_parity_difference": F.demographic_parity_difference(y, yp, sensitive_features=g),
  "demographic_parity_ratio": F.demographic_parity_ratio(y, yp, sensitive_features=g),
  "equal_opportunity_difference": F.equal_opportunity_difference(y, yp, sensitive_features=g),
  "equalized_odds_difference": F.equalized_odds_difference(y, yp, sensitive_features=g),
}))
"#;
    let out = Command::new(&python)
        .args(["-c", script, s(predictions), s(data), column])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            Some(serde_json::from_slice(&o.stdout).expect("fairlearn JSON"))
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but {} has no fairlearn",
                python.display()
            );
            eprintln!("skipping the fairlearn comparison: no python with fairlearn");
            None
        }
    }
}

#[test]
fn train_and_evaluate_with_sensitive_columns() {
    let dir = tempdir("fairness");
    let adult = shared_data("adult");
    let train = capstan(
        &dir,
        &[
            "train",
            "--data",
            s(&adult),
            "--target",
            "income_gt_50k",
            "--sensitive",
            "sex,race",
            "--drop",
            "sex,race",
            "--n-trees",
            "30",
            "--json",
        ],
    );
    assert_eq!(train.code, 0, "{}", train.stderr);
    let report = json(&train.stdout);
    let run_id = report["run_id"].as_str().expect("run id").to_string();
    assert_eq!(report["features"], 12, "sex and race are not features");
    let test_rows = report["test_rows"].as_u64().expect("test rows");
    for column in ["sex", "race"] {
        let m = &report["fairness"][column];
        let groups = m["groups"].as_array().expect("groups");
        let n: u64 = groups.iter().map(|g| g["n"].as_u64().expect("n")).sum();
        assert_eq!(n, test_rows, "{column}: every test row in one group");
        let rates: Vec<f64> = groups
            .iter()
            .map(|g| g["selection_rate"].as_f64().expect("rate"))
            .collect();
        let (lo, hi) = rates
            .iter()
            .fold((1.0f64, 0.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        assert_eq!(m["demographic_parity_difference"].as_f64(), Some(hi - lo));
    }
    let warnings = report["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .is_some_and(|w| w.starts_with("bias check: column 'sex'"))),
        "{warnings:?}"
    );

    let show = capstan(&dir, &["runs", "show", &run_id]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout
            .contains("fairness.sex.demographic_parity_difference"),
        "{}",
        show.stdout
    );

    // evaluate --sensitive on the whole file equals Fairlearn on the same predictions.
    let eval = capstan(
        &dir,
        &[
            "evaluate",
            "--model",
            &run_id,
            "--data",
            s(&adult),
            "--sensitive",
            "sex",
            "--json",
        ],
    );
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    let ours = &json(&eval.stdout)["fairness"]["sex"];
    let preds = dir.join("preds.csv");
    let predict = capstan(
        &dir,
        &[
            "predict",
            "--model",
            &run_id,
            "--data",
            s(&adult),
            "--out",
            s(&preds),
        ],
    );
    assert_eq!(predict.code, 0, "{}", predict.stderr);
    if let Some(theirs) = fairlearn(&preds, &adult, "sex") {
        for key in [
            "demographic_parity_difference",
            "demographic_parity_ratio",
            "equal_opportunity_difference",
            "equalized_odds_difference",
        ] {
            let (a, b) = (
                ours[key].as_f64().expect("ours"),
                theirs[key].as_f64().expect("fairlearn"),
            );
            assert!((a - b).abs() <= 1e-12, "{key}: ours {a} vs fairlearn {b}");
        }
    }

    let missing = capstan(
        &dir,
        &[
            "train",
            "--data",
            s(&adult),
            "--target",
            "income_gt_50k",
            "--sensitive",
            "gender",
        ],
    );
    assert_eq!(missing.code, BAD_INPUT, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("sensitive column 'gender' not found"),
        "{}",
        missing.stderr
    );
}

#[test]
fn train_cleans_telco_as_published() {
    let dir = tempdir("clean");
    // Blank total charges back to the single space of the original file.
    let text = std::fs::read_to_string(shared_data("telco_churn")).expect("read telco");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let col = header
        .split(',')
        .position(|h| h == "total_charges")
        .expect("total_charges");
    let mut out = format!("{header}\n");
    let mut blanks = 0;
    for line in lines {
        let mut cells: Vec<&str> = line.split(',').collect();
        if cells[col].is_empty() {
            cells[col] = " ";
            blanks += 1;
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    assert_eq!(blanks, 11);
    let data = dir.join("telco.csv");
    std::fs::write(&data, out).expect("write telco");
    let config = dir.join("clean.toml");
    std::fs::write(
        &config,
        "[features.clean]\ndedup = true\ncoerce = true\n\
         clip = { method = \"quantile\", lower = 0.01, upper = 0.99 }\n",
    )
    .expect("write config");
    let train = capstan(
        &dir,
        &[
            "train",
            "--config",
            s(&config),
            "--data",
            s(&data),
            "--target",
            "churn",
            "--test-fraction",
            "0.0",
            "--n-trees",
            "20",
            "--json",
        ],
    );
    assert_eq!(train.code, 0, "{}", train.stderr);
    let cleaning = &json(&train.stdout)["cleaning"];
    // Duplicates counted on whole lines, as pandas duplicated() would.
    let mut seen = std::collections::BTreeSet::new();
    let duplicates = text.lines().skip(1).filter(|l| !seen.insert(*l)).count();
    assert_eq!(
        cleaning["duplicates_dropped"].as_u64(),
        Some(duplicates as u64)
    );
    let coerced = &cleaning["coerced"][0];
    assert_eq!(coerced["column"], "total_charges");
    assert_eq!(coerced["n_changed"], 11, "all blanks are in the kept rows");
    assert_eq!(coerced["examples"][0][0], " ");
    let clipped: Vec<&str> = cleaning["clipped"]
        .as_array()
        .expect("clipped")
        .iter()
        .filter_map(|c| c["column"].as_str())
        .collect();
    assert!(clipped.contains(&"total_charges"), "{clipped:?}");

    // The text report says the same, and new rows with spaces score.
    let text_run = capstan(
        &dir,
        &[
            "train",
            "--config",
            s(&config),
            "--data",
            s(&data),
            "--target",
            "churn",
            "--n-trees",
            "20",
            "--out",
            s(&dir.join("model.capstan")),
        ],
    );
    assert_eq!(text_run.code, 0, "{}", text_run.stderr);
    assert!(
        text_run
            .stdout
            .contains(&format!("dropped {duplicates} exact duplicate rows")),
        "{}",
        text_run.stdout
    );
    assert!(
        text_run
            .stdout
            .contains("column 'total_charges': read as numbers;"),
        "{}",
        text_run.stdout
    );
    let preds = dir.join("preds.csv");
    let predict = capstan(
        &dir,
        &[
            "predict",
            "--model",
            s(&dir.join("model.capstan")),
            "--data",
            s(&data),
            "--out",
            s(&preds),
        ],
    );
    assert_eq!(predict.code, 0, "{}", predict.stderr);
    assert_eq!(read(&preds).n_rows(), 7043);
}
