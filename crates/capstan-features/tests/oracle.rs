//! Oracle: linear-mode output on real data equals scikit-learn's
//! SimpleImputer(median) + StandardScaler and OneHotEncoder, to 1e-12.

mod common;

use std::path::Path;
use std::process::Command;

use capstan_features::{FittedPipeline, PipelineMode, PipelineSpec};
use capstan_frame::Frame;
use common::*;

const SCRIPT: &str = r#"
import json, sys
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

a = json.loads(sys.argv[1])
dtypes = {c: str for c in a["categorical"]}
read = lambda p: pd.read_csv(p, keep_default_na=False, na_values=[""], dtype=dtypes)
train, full = read(a["train"]), read(a["full"])
parts = []
for c in a["order"]:
    if c in a["categorical"]:
        if a["min_frequency"]:
            enc = OneHotEncoder(min_frequency=a["min_frequency"],
                                handle_unknown="infrequent_if_exist", sparse_output=False)
        else:
            enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        parts.append(("cat_" + c, enc, [c]))
        continue
    parts.append(("num_" + c, make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), [c]))
    if a["indicator"] and train[c].isna().any():
        parts.append(("ind_" + c, MissingIndicator(), [c]))
ct = ColumnTransformer(parts, verbose_feature_names_out=False).fit(train)
x = np.asarray(ct.transform(full), dtype=np.float64)
names = list(ct.get_feature_names_out())
np.savetxt(a["out"], x, delimiter=",", fmt="%.17g", header=",".join(names), comments="")
"#;

/// Writes `frame` as CSV (empty field = null; floats in shortest round-trip form).
fn write_csv(frame: &Frame, path: &Path) {
    let mut w = csv::Writer::from_path(path).expect("temp csv");
    w.write_record(frame.schema().names()).expect("header");
    for i in 0..frame.n_rows() {
        let row: Vec<String> = frame
            .columns()
            .iter()
            .map(|c| c.display_at(i).unwrap_or_default())
            .collect();
        w.write_record(&row).expect("row");
    }
    w.flush().expect("flush");
}

/// Our feature name in scikit-learn's spelling.
fn sklearn_name(ours: &str) -> String {
    if let Some(c) = ours.strip_suffix("__missing") {
        return format!("missingindicator_{c}");
    }
    match ours.split_once('=') {
        Some((c, "__missing__")) => format!("{c}_nan"),
        Some((c, "__rare__")) => format!("{c}_infrequent_sklearn"),
        Some((c, v)) => format!("{c}_{v}"),
        None => ours.to_string(),
    }
}

struct Case<'a> {
    dataset: &'a str,
    numeric: &'a [&'a str],
    categorical: &'a [&'a str],
    n_train: usize,
    rare_min_count: usize,
    indicator: bool,
}

fn check_against_sklearn(case: Case) {
    let Some(python) = python_with_sklearn() else {
        return;
    };
    let data = load_dataset(case.dataset);
    let used: Vec<&str> = case
        .numeric
        .iter()
        .chain(case.categorical)
        .copied()
        .collect();
    let all_names: Vec<&str> = data.schema().names().collect();
    let others: Vec<&str> = all_names
        .into_iter()
        .filter(|n| !used.contains(n))
        .collect();
    let full = data.drop_columns(&others);
    let train_idx: Vec<usize> = (0..case.n_train).collect();
    let train = full.take(&train_idx);

    let spec = PipelineSpec {
        missing_indicator: case.indicator,
        rare_min_count: case.rare_min_count,
        ..PipelineSpec::default()
    };
    let pipeline = FittedPipeline::fit(&spec, PipelineMode::Linear, &train, &[]).expect("fits");
    let ours = pipeline.transform(&full).expect("transforms");

    let dir = temp_dir(&format!("oracle-{}-{}", case.dataset, case.rare_min_count));
    let (train_csv, full_csv, out_csv) = (
        dir.join("train.csv"),
        dir.join("full.csv"),
        dir.join("out.csv"),
    );
    write_csv(&train, &train_csv);
    write_csv(&full, &full_csv);
    let args = serde_json::json!({
        "train": train_csv, "full": full_csv, "out": out_csv,
        "order": full.schema().names().collect::<Vec<_>>(), "categorical": case.categorical,
        "min_frequency": if case.rare_min_count > 1 { Some(case.rare_min_count) } else { None },
        "indicator": case.indicator,
    });
    let run = Command::new(&python)
        .args(["-c", SCRIPT, &args.to_string()])
        .output()
        .expect("python runs");
    assert!(
        run.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    let mut rdr = csv::Reader::from_path(&out_csv).expect("oracle output");
    let names: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let want_names: Vec<String> = ours.feature_names.iter().map(|n| sklearn_name(n)).collect();
    assert_eq!(want_names, names, "feature names and order");
    let mut n_rows = 0;
    let mut worst = 0.0f64;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.expect("record");
        for (j, v) in rec.iter().enumerate() {
            let theirs: f64 = v.parse().expect("float");
            let diff = (ours.get(i, j) - theirs).abs();
            worst = worst.max(diff);
            assert!(
                diff <= 1e-12,
                "{}: row {i}, feature '{}': ours {} vs sklearn {theirs}",
                case.dataset,
                ours.feature_names[j],
                ours.get(i, j)
            );
        }
        n_rows += 1;
    }
    assert_eq!(n_rows, full.n_rows());
    eprintln!(
        "{}: {} rows x {} features match scikit-learn (max abs diff {worst:e})",
        case.dataset, n_rows, ours.n_cols
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn titanic_matches_sklearn_with_missing_indicators() {
    check_against_sklearn(Case {
        dataset: "titanic",
        numeric: &["pclass", "age", "sibsp", "parch", "fare"],
        categorical: &["sex", "embarked"],
        n_train: 600,
        rare_min_count: 1,
        indicator: true,
    });
}

#[test]
fn adult_matches_sklearn_with_nulls_and_unseen_categories() {
    check_against_sklearn(Case {
        dataset: "adult",
        numeric: &[
            "age",
            "fnlwgt",
            "education_num",
            "capital_gain",
            "capital_loss",
            "hours_per_week",
        ],
        categorical: &["workclass", "occupation", "native_country", "sex"],
        n_train: 2000,
        rare_min_count: 1,
        indicator: false,
    });
}

#[test]
fn adult_matches_sklearn_infrequent_categories() {
    check_against_sklearn(Case {
        dataset: "adult",
        numeric: &["age", "hours_per_week"],
        categorical: &["education", "marital_status", "relationship", "race"],
        n_train: 20000,
        rare_min_count: 300,
        indicator: false,
    });
}
