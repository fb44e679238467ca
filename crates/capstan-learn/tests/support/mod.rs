//! Shared helpers of the GBDT tests (included with `#[path]`): real data sets, splits,
//! metrics, and the LightGBM oracle through Python.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use capstan_frame::{FeatureKind, Matrix};
use capstan_learn::Task;
use capstan_learn::gbdt::GbdtParams;

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub x: Matrix,
    pub y: Vec<f64>,
    pub task: Task,
}

/// Loads `NAME/NAME.csv`: categorical columns (from META.json) become sorted codes, empty
/// cells NaN; the last column is the target (class labels sorted into indices).
pub fn load(name: &str) -> Dataset {
    let dir = data_dir().join(name);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("META.json")).expect("meta"))
            .expect("meta json");
    let cats: Vec<String> = meta["categorical_columns"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let task_name = meta["task"].as_str().expect("task").to_string();
    let mut reader = csv::Reader::from_path(dir.join(format!("{name}.csv"))).expect("csv");
    let headers: Vec<String> = reader
        .headers()
        .expect("headers")
        .iter()
        .map(String::from)
        .collect();
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    let n_cols = headers.len() - 1;
    let n_rows = records.len();
    let mut data = vec![0.0; n_rows * n_cols];
    let mut kinds = Vec::with_capacity(n_cols);
    for j in 0..n_cols {
        if cats.contains(&headers[j]) {
            let levels: BTreeMap<&str, usize> = {
                let mut set: Vec<&str> = records
                    .iter()
                    .map(|r| &r[j])
                    .filter(|s| !s.is_empty())
                    .collect();
                set.sort_unstable();
                set.dedup();
                set.into_iter().enumerate().map(|(i, s)| (s, i)).collect()
            };
            for (i, r) in records.iter().enumerate() {
                data[i * n_cols + j] = levels.get(&r[j]).map_or(f64::NAN, |&c| c as f64);
            }
            kinds.push(FeatureKind::Categorical {
                n_categories: levels.len() as u32,
            });
        } else {
            for (i, r) in records.iter().enumerate() {
                data[i * n_cols + j] = if r[j].is_empty() {
                    f64::NAN
                } else {
                    r[j].parse().expect("number")
                };
            }
            kinds.push(FeatureKind::Numeric);
        }
    }
    let labels: Vec<&str> = records.iter().map(|r| &r[n_cols]).collect();
    let (y, task) = if task_name.starts_with("regression") {
        (
            labels.iter().map(|s| s.parse().expect("target")).collect(),
            Task::Regression,
        )
    } else {
        let mut classes: Vec<&str> = labels.clone();
        classes.sort_unstable();
        classes.dedup();
        let y = labels
            .iter()
            .map(|s| classes.binary_search(s).expect("class") as f64)
            .collect();
        let task = if classes.len() == 2 {
            Task::Binary
        } else {
            Task::Multiclass {
                n_classes: classes.len(),
            }
        };
        (y, task)
    };
    let mut x = Matrix::new(n_rows, headers[..n_cols].to_vec(), data);
    x.feature_kinds = kinds;
    Dataset { x, y, task }
}

/// A deterministic shuffled split: `(train rows, test rows)` with `test_fraction` held out.
pub fn split(n: usize, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    let mut state = seed;
    for i in (1..n).rev() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        idx.swap(i, (z % (i as u64 + 1)) as usize);
    }
    let n_test = (n as f64 * test_fraction).round() as usize;
    let test = idx[..n_test].to_vec();
    let train = idx[n_test..].to_vec();
    (train, test)
}

pub fn subset(d: &Dataset, rows: &[usize]) -> (Matrix, Vec<f64>) {
    (d.x.take_rows(rows), rows.iter().map(|&i| d.y[i]).collect())
}

pub fn rmse(y: &[f64], p: &[f64]) -> f64 {
    (y.iter().zip(p).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / y.len() as f64).sqrt()
}

/// Area under the ROC curve (ties get half credit).
pub fn auc(y: &[f64], p: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&t| y[idx[t]] == 1.0).count() as f64 * avg;
        i = j + 1;
    }
    let pos = y.iter().filter(|&&v| v == 1.0).count() as f64;
    let neg = y.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Share of rows whose highest-probability class is the label (`k` columns).
pub fn accuracy(y: &[f64], p: &[f64], k: usize) -> f64 {
    let hits = y
        .iter()
        .enumerate()
        .filter(|&(i, &t)| {
            let row = &p[i * k..(i + 1) * k];
            let arg = (0..k).fold(0, |a, c| if row[c] > row[a] { c } else { a });
            arg == t as usize
        })
        .count();
    hits as f64 / y.len() as f64
}

/// The Python with LightGBM, or `None` (test skipped) when absent outside CI.
pub fn python() -> Option<PathBuf> {
    let py = std::env::var_os("CAPSTAN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import lightgbm, numpy, pandas"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(py)
    } else if std::env::var_os("CI").is_some() {
        panic!(
            "python with lightgbm not found at {} (set CAPSTAN_PYTHON)",
            py.display()
        );
    } else {
        eprintln!(
            "skipping: python with lightgbm not found at {}",
            py.display()
        );
        None
    }
}

fn write_csv(path: &Path, x: &Matrix, y: &[f64]) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create csv"));
    let names: Vec<String> = (0..x.n_cols).map(|j| format!("f{j}")).collect();
    writeln!(out, "{},y", names.join(",")).expect("write");
    for (i, yi) in y.iter().enumerate() {
        let row: Vec<String> = x
            .row(i)
            .iter()
            .map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    format!("{v:?}")
                }
            })
            .collect();
        writeln!(out, "{},{:?}", row.join(","), yi).expect("write");
    }
}

const ORACLE: &str = r#"
import sys, json, numpy as np, pandas as pd, lightgbm as lgb
train, test, params, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
tr, te = pd.read_csv(train), pd.read_csv(test)
cats = params.pop("categorical_feature")
rounds = params.pop("num_iterations")
wfile = params.pop("weight_file", None)
w = np.loadtxt(wfile) if wfile else None
init = params.pop("init_score", None)
leaf = params.pop("pred_leaf", False)
ds = lgb.Dataset(tr.iloc[:, :-1].to_numpy(), tr.iloc[:, -1].to_numpy(), weight=w,
                 init_score=None if init is None else np.full(len(tr), init), categorical_feature=cats)
booster = lgb.train(params, ds, num_boost_round=rounds)
if leaf:
    pred = booster.predict(te.iloc[:, :-1].to_numpy(), pred_leaf=True)
elif init is None:
    pred = booster.predict(te.iloc[:, :-1].to_numpy())
else:
    pred = booster.predict(te.iloc[:, :-1].to_numpy(), raw_score=True) + init
np.savetxt(out, np.asarray(pred).reshape(len(te), -1), delimiter=",", fmt="%.17g")
"#;

/// LightGBM's test-set predictions (probabilities for classification), row-major. With
/// `"init_score": c` in `params` (single-output objectives), every training row starts at raw
/// score `c` and the raw test scores plus `c` come back.
pub fn lightgbm_predict(
    py: &Path,
    tag: &str,
    train: (&Matrix, &[f64]),
    test: (&Matrix, &[f64]),
    params: serde_json::Value,
) -> Vec<f64> {
    lightgbm_predict_weighted(py, tag, train, None, test, params)
}

/// [`lightgbm_predict`] with a weight per training row.
pub fn lightgbm_predict_weighted(
    py: &Path,
    tag: &str,
    train: (&Matrix, &[f64]),
    weights: Option<&[f64]>,
    test: (&Matrix, &[f64]),
    mut params: serde_json::Value,
) -> Vec<f64> {
    let text = run_oracle(py, ORACLE, tag, train, test, |dir| {
        if let Some(w) = weights {
            let wfile = dir.join("weights.txt");
            let text: Vec<String> = w.iter().map(|v| format!("{v:?}")).collect();
            std::fs::write(&wfile, text.join("\n")).expect("write weights");
            params["weight_file"] = serde_json::json!(wfile.to_string_lossy());
        }
        params
    });
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("prediction"))
        .collect()
}

/// Runs `script` with arguments: train csv, second csv, params JSON, output path; returns
/// what it wrote. `params` may add files to the scratch directory it is given.
fn run_oracle(
    py: &Path,
    script: &str,
    tag: &str,
    train: (&Matrix, &[f64]),
    other: (&Matrix, &[f64]),
    params: impl FnOnce(&Path) -> serde_json::Value,
) -> String {
    let dir = std::env::temp_dir().join(format!("capstan-gbdt-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (tr, te, out) = (
        dir.join("train.csv"),
        dir.join("test.csv"),
        dir.join("out.txt"),
    );
    write_csv(&tr, train.0, train.1);
    write_csv(&te, other.0, other.1);
    let params = params(&dir);
    let status = Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(&tr)
        .arg(&te)
        .arg(params.to_string())
        .arg(&out)
        .env("OMP_WAIT_POLICY", "PASSIVE")
        .status()
        .expect("run python");
    assert!(status.success(), "lightgbm oracle failed");
    let text = std::fs::read_to_string(&out).expect("oracle output");
    let _ = std::fs::remove_dir_all(&dir);
    text
}

const EARLY_STOPPING: &str = r#"
import sys, json, pandas as pd, lightgbm as lgb
train, valid, params, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
tr, va = pd.read_csv(train), pd.read_csv(valid)
cats = params.pop("categorical_feature")
rounds = params.pop("num_iterations")
patience = params.pop("stopping_rounds")
result = {}
for metric in params.pop("metrics"):
    ds = lgb.Dataset(tr.iloc[:, :-1].to_numpy(), tr.iloc[:, -1].to_numpy(), categorical_feature=cats)
    dv = lgb.Dataset(va.iloc[:, :-1].to_numpy(), va.iloc[:, -1].to_numpy(), reference=ds)
    seen = {}
    booster = lgb.train(dict(params, metric=metric), ds, num_boost_round=rounds,
        valid_sets=[dv], valid_names=["valid"],
        callbacks=[lgb.early_stopping(patience, first_metric_only=True, verbose=False),
                   lgb.record_evaluation(seen)])
    result[metric] = {"best_iteration": booster.best_iteration, "values": seen["valid"][metric]}
json.dump(result, open(out, "w"))
"#;

/// What LightGBM's `early_stopping` callback did with one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct LightgbmStopping {
    /// The round kept, counted from 1.
    pub best_iteration: usize,
    /// The metric on the validation set after each round run.
    pub values: Vec<f64>,
}

/// LightGBM trained on `train` with `valid` as its validation set and the `early_stopping`
/// callback (`stopping_rounds` in `params`), once per LightGBM metric name in `metrics`.
pub fn lightgbm_early_stopping(
    py: &Path,
    tag: &str,
    train: (&Matrix, &[f64]),
    valid: (&Matrix, &[f64]),
    mut params: serde_json::Value,
    metrics: &[&str],
) -> BTreeMap<String, LightgbmStopping> {
    params["metrics"] = serde_json::json!(metrics);
    let text = run_oracle(py, EARLY_STOPPING, tag, train, valid, |_| params);
    let json: serde_json::Value = serde_json::from_str(&text).expect("oracle json");
    metrics
        .iter()
        .map(|&m| {
            let r = &json[m];
            let values = r["values"].as_array().expect("values");
            let run = LightgbmStopping {
                best_iteration: r["best_iteration"].as_u64().expect("best_iteration") as usize,
                values: values.iter().map(|v| v.as_f64().expect("value")).collect(),
            };
            (m.to_string(), run)
        })
        .collect()
}

/// Indices of the categorical columns.
pub fn categorical_columns(x: &Matrix) -> Vec<usize> {
    (0..x.n_cols)
        .filter(|&j| matches!(x.feature_kinds[j], FeatureKind::Categorical { .. }))
        .collect()
}

/// LightGBM parameters with `params`' rounds, learning rate and leaves, one thread,
/// deterministic, seed 0, `x`'s categorical columns, and `extra` on top.
pub fn lightgbm_params(
    params: &GbdtParams,
    x: &Matrix,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut lgb = serde_json::json!({
        "num_iterations": params.n_trees, "learning_rate": params.learning_rate,
        "num_leaves": params.num_leaves, "num_threads": 1, "deterministic": true,
        "seed": 0, "verbose": -1, "categorical_feature": categorical_columns(x),
    });
    if let (Some(l), Some(o)) = (lgb.as_object_mut(), extra.as_object()) {
        l.extend(o.clone());
    }
    lgb
}

/// `x` without its first column (bike_sharing_hourly's `dteday`, whose 731 levels bin
/// differently from LightGBM's).
pub fn without_first_column(x: &Matrix) -> Matrix {
    let data = (0..x.n_rows).flat_map(|i| x.row(i)[1..].to_vec()).collect();
    let mut out = Matrix::new(x.n_rows, x.feature_names[1..].to_vec(), data);
    out.feature_kinds = x.feature_kinds[1..].to_vec();
    out
}
