//! `--weight-column` from the command line on the bundled telco data: a weighted GBDT differs
//! from the unweighted one, reports weighted metrics equal to scikit-learn's
//! `sample_weight`, records the column, and predicts without it; every bad weight column is
//! refused with exit code 3 and a message naming the file, column and row.

mod common;

use std::path::{Path, PathBuf};

use common::{capstan, python, python_json, telco, tempdir};

const BAD_INPUT: i32 = 3;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Telco with a last column `w`: `weight(data row, line)` gives each row's cell.
fn telco_with_weights(dir: &Path, name: &str, weight: impl Fn(usize, &str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(telco()).expect("read telco");
    let mut lines = text.lines();
    let mut out = format!("{},w\n", lines.next().expect("header"));
    for (i, line) in lines.enumerate() {
        out.push_str(&format!("{line},{}\n", weight(i, line)));
    }
    let path = dir.join(name);
    std::fs::write(&path, out).expect("write weighted telco");
    path
}

/// Churners weigh 3, others 0.5 to 2.5, every 50th row 0.
fn weight(i: usize, line: &str) -> String {
    if i % 50 == 7 {
        "0".into()
    } else if line.ends_with(",1") {
        "3".into()
    } else {
        format!("{}", 0.5 + (i % 3) as f64)
    }
}

fn train(dir: &Path, data: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "train",
        "--data",
        s(data),
        "--target",
        "churn",
        "--n-trees",
        "30",
    ];
    args.extend_from_slice(extra);
    capstan(dir, &args)
}

#[test]
fn weighted_training_and_metrics() {
    let dir = tempdir("weights");
    let data = telco_with_weights(&dir, "telco_w.csv", weight);
    let telco = telco();

    let plain = train(&dir, &telco, &["--json"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let plain = json(&plain.stdout);
    let bundle = dir.join("weighted.capstan");
    let weighted = train(
        &dir,
        &data,
        &["--weight-column", "w", "--json", "--out", s(&bundle)],
    );
    assert_eq!(weighted.code, 0, "{}", weighted.stderr);
    let weighted = json(&weighted.stdout);
    let run_id = weighted["run_id"].as_str().expect("run id").to_string();

    assert_eq!(weighted["weight_column"], "w");
    assert_eq!(
        weighted["features"], plain["features"],
        "the weight column is not a feature"
    );
    assert_ne!(weighted["model_sha256"], plain["model_sha256"]);
    // Neither predict nor serve asks for it: it is not in the bundle's input schema.
    let manifest = capstan_bundle::Bundle::read(&bundle)
        .expect("bundle")
        .manifest;
    assert!(manifest.input_schema.fields.iter().all(|f| f.name != "w"));
    assert_eq!(manifest.lineage.config["weight_column"], "w");
    for split in ["train", "test"] {
        let m = &weighted["metrics"][split];
        for key in [
            "roc_auc",
            "log_loss",
            "weighted_roc_auc",
            "weighted_log_loss",
            "weighted_brier",
            "weighted_accuracy",
        ] {
            assert!(m[key].as_f64().is_some(), "{split} {key}: {m}");
        }
        assert!(plain["metrics"][split]["weighted_log_loss"].is_null());
    }
    // Churners weigh more: the weighted model predicts churn more often.
    let rate = |r: &serde_json::Value| r["metrics"]["test"]["recall"].as_f64().expect("recall");
    assert!(rate(&weighted) > rate(&plain), "{weighted} vs {plain}");

    let show = capstan(&dir, &["runs", "show", &run_id]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(show.stdout.contains("weight_column = w"), "{}", show.stdout);
    assert!(
        show.stdout.contains("\"weight_column\": \"w\""),
        "{}",
        show.stdout
    );

    // Predictions need no weight column: the plain telco file has none.
    let scores = dir.join("scores.csv");
    let predict = capstan(
        &dir,
        &[
            "predict",
            "--model",
            &run_id,
            "--data",
            s(&telco),
            "--out",
            s(&scores),
        ],
    );
    assert_eq!(predict.code, 0, "{}", predict.stderr);
    let plain_scores = dir.join("plain_scores.csv");
    let plain_id = plain["run_id"].as_str().expect("run id");
    let args = [
        "predict",
        "--model",
        plain_id,
        "--data",
        s(&telco),
        "--out",
        s(&plain_scores),
    ];
    assert_eq!(capstan(&dir, &args).code, 0);
    assert_ne!(
        std::fs::read_to_string(&scores).expect("scores"),
        std::fs::read_to_string(&plain_scores).expect("plain scores")
    );

    // Evaluate: weighted metrics only when asked, equal to scikit-learn's.
    let eval = |extra: &[&str]| {
        let mut args = vec!["evaluate", "--model", &run_id, "--data", s(&data), "--json"];
        args.extend_from_slice(extra);
        let run = capstan(&dir, &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        json(&run.stdout)["metrics"].clone()
    };
    assert!(eval(&[])["weighted_log_loss"].is_null());
    let ours = eval(&["--weight-column", "w"]);
    let Some(py) = python("sklearn, pandas") else {
        return;
    };
    let script = r#"
import sys, json
import pandas as pd
from sklearn import metrics as M
p = pd.read_csv(sys.argv[1]); d = pd.read_csv(sys.argv[2])
y, w, p1 = d["churn"], d["w"], p["proba_1"]
print(json.dumps({
  "weighted_roc_auc": M.roc_auc_score(y, p1, sample_weight=w),
  "weighted_log_loss": M.log_loss(y, p1, sample_weight=w),
  "weighted_brier": M.brier_score_loss(y, p1, sample_weight=w),
  "weighted_accuracy": M.accuracy_score(y, (p1 >= 0.5).astype(int), sample_weight=w),
}))
"#;
    let theirs = python_json(&py, script, &[s(&scores), s(&data)]);
    for (key, value) in theirs.as_object().expect("object") {
        let (a, b) = (ours[key].as_f64().expect(key), value.as_f64().expect(key));
        // Probabilities pass through a CSV file with 17 significant digits.
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{key}: {a} vs {b}"
        );
        eprintln!("{key}: ours {a} sklearn {b}");
    }
}

#[test]
fn bad_weight_columns_are_refused() {
    let dir = tempdir("weights-bad");
    let refused = |data: &Path, extra: &[&str], expected: &[&str]| {
        let run = train(&dir, data, extra);
        assert_eq!(run.code, BAD_INPUT, "{extra:?}: {}", run.stderr);
        for part in expected {
            assert!(run.stderr.contains(part), "{extra:?}: {}", run.stderr);
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    };
    let good = telco_with_weights(&dir, "good.csv", weight);
    let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
    let good_name = name(&good).expect("name");

    refused(
        &good,
        &["--weight-column", "exposure"],
        &[
            &good_name,
            "weight column 'exposure' not found; columns are:",
        ],
    );
    refused(
        &good,
        &["--weight-column", "gender"],
        &["weight column 'gender' is string but weights must be numbers"],
    );

    let negative = telco_with_weights(&dir, "negative.csv", |i, _| {
        if i == 3 { "-2".into() } else { "1".into() }
    });
    refused(
        &negative,
        &["--weight-column", "w"],
        &["negative.csv: row 5, column 'w': weight -2"],
    );
    let missing = telco_with_weights(&dir, "missing.csv", |i, _| {
        if i == 10 { String::new() } else { "1".into() }
    });
    refused(
        &missing,
        &["--weight-column", "w"],
        &["missing.csv: row 12, column 'w': missing weight"],
    );
    let nan = telco_with_weights(&dir, "nan.csv", |i, _| {
        if i == 20 { "NaN".into() } else { "1.5".into() }
    });
    refused(
        &nan,
        &["--weight-column", "w"],
        &["nan.csv: row 22, column 'w': weight NaN"],
    );
    let infinite = telco_with_weights(&dir, "inf.csv", |i, _| {
        if i == 30 { "inf".into() } else { "1.5".into() }
    });
    refused(
        &infinite,
        &["--weight-column", "w"],
        &["inf.csv: row 32, column 'w': weight inf"],
    );
    let zero = telco_with_weights(&dir, "zero.csv", |_, _| "0".into());
    refused(
        &zero,
        &["--weight-column", "w"],
        &["zero.csv: weight column 'w' is zero in every row"],
    );

    refused(
        &good,
        &["--weight-column", "w", "--model", "linear"],
        &["weight column 'w': the linear model does not take row weights"],
    );
    let quantile = dir.join("quantile.toml");
    std::fs::write(&quantile, "[gbdt]\nobjective = \"quantile\"\n").expect("config");
    refused(
        &good,
        &[
            "--weight-column",
            "w",
            "--config",
            s(&quantile),
            "--task",
            "regression",
        ],
        &["the gbdt objective 'quantile' does not take row weights"],
    );
    refused(
        &good,
        &["--weight-column", "churn"],
        &["weight column 'churn' is also the target"],
    );

    let include = dir.join("include.toml");
    std::fs::write(&include, "[features]\ninclude = [\"tenure\", \"w\"]\n").expect("config");
    refused(
        &good,
        &["--weight-column", "w", "--config", s(&include)],
        &["weight column 'w' is listed in features.include"],
    );

    // From the config file too, and in evaluate.
    let config = dir.join("weights.toml");
    std::fs::write(&config, "weight_column = \"gender\"\n").expect("config");
    refused(
        &good,
        &["--config", s(&config)],
        &["weight column 'gender' is string"],
    );
    let trained = train(&dir, &good, &["--weight-column", "w", "--out", "w.capstan"]);
    assert_eq!(trained.code, 0, "{}", trained.stderr);
    let args = [
        "evaluate",
        "--model",
        "w.capstan",
        "--data",
        s(&negative),
        "--weight-column",
        "w",
    ];
    let run = capstan(&dir, &args);
    assert_eq!(run.code, BAD_INPUT, "{}", run.stderr);
    assert!(
        run.stderr.contains("row 5, column 'w': weight -2"),
        "{}",
        run.stderr
    );
}
