//! Linear learners against scikit-learn on real data (Python oracle).
//!
//! Each case fits here and with scikit-learn on the same matrix (written to a temp CSV) and
//! compares coefficients, intercepts and predictions. Without Python + scikit-learn the
//! cases print a skip note, or fail when `CI` is set. Python: `$CAPSTAN_PYTHON`, else the
//! workspace `.venv`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use capstan_frame::Matrix;
use capstan_learn::Task;
use capstan_learn::linear::{self, LinearModel, LinearParams, Penalty};

// ---------- data ----------

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_table(name: &str) -> Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(name)
        .join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(String::from)
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    Table { header, rows }
}

impl Table {
    fn idx(&self, col: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == col)
            .unwrap_or_else(|| panic!("no column {col}"))
    }

    fn numeric(&self, col: &str) -> Vec<f64> {
        let j = self.idx(col);
        self.rows
            .iter()
            .map(|r| r[j].parse().unwrap_or(f64::NAN))
            .collect()
    }

    /// Indicator columns, one per level (missing is a level), levels sorted; without the
    /// first level when `drop_first` (no column collinear with the intercept).
    fn one_hot(&self, col: &str, drop_first: bool) -> Vec<(String, Vec<f64>)> {
        let j = self.idx(col);
        let mut levels: Vec<&str> = self.rows.iter().map(|r| r[j].as_str()).collect();
        levels.sort_unstable();
        levels.dedup();
        levels
            .iter()
            .skip(usize::from(drop_first))
            .map(|lv| {
                let v = self
                    .rows
                    .iter()
                    .map(|r| if r[j] == *lv { 1.0 } else { 0.0 })
                    .collect();
                (format!("{col}={lv}"), v)
            })
            .collect()
    }

    /// Class index per row, classes sorted by name.
    fn classes(&self, col: &str) -> (Vec<f64>, usize) {
        let j = self.idx(col);
        let mut levels: Vec<&str> = self.rows.iter().map(|r| r[j].as_str()).collect();
        levels.sort_unstable();
        levels.dedup();
        let y = self
            .rows
            .iter()
            .map(|r| levels.iter().position(|l| *l == r[j]).expect("level") as f64)
            .collect();
        (y, levels.len())
    }

    fn keep_rows(&mut self, keep: impl Fn(&[String]) -> bool) {
        self.rows.retain(|r| keep(r));
    }
}

fn standardize(cols: &mut [(String, Vec<f64>)]) {
    for (_, v) in cols.iter_mut() {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        let sd = if sd > 0.0 { sd } else { 1.0 };
        v.iter_mut().for_each(|x| *x = (*x - mean) / sd);
    }
}

fn matrix(cols: Vec<(String, Vec<f64>)>, n_rows: usize) -> Matrix {
    let names: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
    let mut data = Vec::with_capacity(n_rows * cols.len());
    for i in 0..n_rows {
        data.extend(cols.iter().map(|(_, v)| v[i]));
    }
    Matrix::new(n_rows, names, data)
}

fn diabetes() -> (Matrix, Vec<f64>) {
    let t = read_table("diabetes");
    let names = [
        "age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6",
    ];
    let cols = names
        .iter()
        .map(|c| (c.to_string(), t.numeric(c)))
        .collect();
    (matrix(cols, t.rows.len()), t.numeric("disease_progression"))
}

/// Standardized numerics + one-hot categoricals of adult, first `n_rows` rows.
fn adult(n_rows: usize, drop_first: bool) -> (Matrix, Vec<f64>) {
    adult_columns(n_rows, drop_first, true)
}

fn adult_columns(n_rows: usize, drop_first: bool, categorical: bool) -> (Matrix, Vec<f64>) {
    let mut t = read_table("adult");
    t.rows.truncate(n_rows);
    let mut cols: Vec<(String, Vec<f64>)> = [
        "age",
        "fnlwgt",
        "education_num",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
    ]
    .iter()
    .map(|c| (c.to_string(), t.numeric(c)))
    .collect();
    let categoricals: &[&str] = if categorical {
        &[
            "workclass",
            "marital_status",
            "occupation",
            "relationship",
            "race",
            "sex",
            "native_country",
        ]
    } else {
        &[]
    };
    for c in categoricals {
        cols.extend(t.one_hot(c, drop_first));
    }
    standardize(&mut cols);
    let n = t.rows.len();
    (matrix(cols, n), t.numeric("income_gt_50k"))
}

/// Standardized penguin measurements (complete rows), species as class.
fn penguins() -> (Matrix, Vec<f64>, usize) {
    let mut t = read_table("penguins");
    let num = [
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
    ];
    let idx: Vec<usize> = num.iter().map(|c| t.idx(c)).collect();
    t.keep_rows(|r| idx.iter().all(|&j| !r[j].is_empty()));
    let mut cols: Vec<(String, Vec<f64>)> =
        num.iter().map(|c| (c.to_string(), t.numeric(c))).collect();
    standardize(&mut cols);
    let (y, k) = t.classes("species");
    (matrix(cols, t.rows.len()), y, k)
}

/// Letter features (raw or standardized), first `n_rows` rows.
fn letter(n_rows: usize, scaled: bool) -> (Matrix, Vec<f64>, usize) {
    let mut t = read_table("letter");
    let (y_all, k) = t.classes("letter");
    t.rows.truncate(n_rows);
    let names: Vec<String> = t.header[..t.header.len() - 1].to_vec();
    let mut cols: Vec<(String, Vec<f64>)> =
        names.iter().map(|c| (c.clone(), t.numeric(c))).collect();
    if scaled {
        standardize(&mut cols);
    }
    let n = t.rows.len();
    (matrix(cols, n), y_all[..n].to_vec(), k)
}

fn digits() -> (Matrix, Vec<f64>, usize) {
    let t = read_table("digits");
    let names: Vec<String> = t.header[..t.header.len() - 1].to_vec();
    let mut cols: Vec<(String, Vec<f64>)> =
        names.iter().map(|c| (c.clone(), t.numeric(c))).collect();
    for (_, v) in cols.iter_mut() {
        v.iter_mut().for_each(|x| *x /= 16.0);
    }
    (matrix(cols, t.rows.len()), t.numeric("digit"), 10)
}

// ---------- oracle ----------

const SCRIPT: &str = r#"
import sys, warnings
import numpy as np
from sklearn.linear_model import *
warnings.simplefilter("ignore")
d = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
X, y = d[:, :-1], d[:, -1]
est = eval(sys.argv[2])
if hasattr(est, "predict_proba"):
    y = y.astype(int)
est.fit(X, y)
coef = np.atleast_2d(est.coef_)
icpt = np.atleast_1d(est.intercept_)
if hasattr(est, "predict_proba"):
    pred = est.predict_proba(X)
    if pred.shape[1] == 2:
        pred = pred[:, 1:]
else:
    pred = est.predict(X)[:, None]
out = sys.stdout
out.write("coef " + " ".join(repr(float(v)) for v in coef.ravel()) + "\n")
out.write("intercept " + " ".join(repr(float(v)) for v in icpt.ravel()) + "\n")
out.write("pred " + " ".join(repr(float(v)) for v in pred.ravel()) + "\n")
"#;

struct Oracle {
    coef: Vec<f64>,
    intercept: Vec<f64>,
    pred: Vec<f64>,
}

fn python() -> Option<PathBuf> {
    let py = std::env::var_os("CAPSTAN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import sklearn, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return Some(py);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but python with scikit-learn is not available at {py:?}"
    );
    eprintln!("skip: no python with scikit-learn at {py:?} (set CAPSTAN_PYTHON)");
    None
}

fn sklearn(py: &Path, x: &Matrix, y: &[f64], estimator: &str) -> Oracle {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "capstan_linear_{}_{}.csv",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut text = String::with_capacity(x.data.len() * 20);
    for (i, target) in y.iter().enumerate() {
        for v in x.row(i) {
            text.push_str(&format!("{v:?},"));
        }
        text.push_str(&format!("{target:?}\n"));
    }
    std::fs::write(&path, text).expect("write temp csv");
    let out = Command::new(py)
        .args(["-c", SCRIPT])
        .arg(&path)
        .arg(estimator)
        .output()
        .expect("run python");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> Vec<f64> {
        let line = stdout
            .lines()
            .find(|l| l.split(' ').next() == Some(name))
            .unwrap_or_else(|| panic!("no '{name}' in oracle output"));
        line.split(' ')
            .skip(1)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("float"))
            .collect()
    };
    Oracle {
        coef: field("coef"),
        intercept: field("intercept"),
        pred: field("pred"),
    }
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

/// Fits here and in scikit-learn; asserts coefficient / intercept / prediction agreement
/// (absolute, or relative to the largest coefficient for coefficients).
fn check(
    label: &str,
    x: &Matrix,
    y: &[f64],
    task: Task,
    params: &LinearParams,
    estimator: &str,
    tol: f64,
) -> Option<LinearModel> {
    let py = python()?;
    let start = Instant::now();
    let (model, info) = linear::fit_with_info(x, y, task, params).expect("fit");
    let secs = start.elapsed().as_secs_f64();
    assert!(info.converged, "{label}: not converged ({info:?})");
    let oracle = sklearn(&py, x, y, estimator);
    let pred = model.predict(x).values;
    let scale = oracle.coef.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let d_coef = max_abs_diff(&model.coefficients, &oracle.coef);
    let d_icpt = max_abs_diff(&model.intercepts, &oracle.intercept);
    let d_pred = max_abs_diff(&pred, &oracle.pred);
    let pred_scale = oracle.pred.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    eprintln!(
        "{label}: max|coef diff| {d_coef:.2e} (max|coef| {scale:.2e}), max|intercept diff| \
         {d_icpt:.2e}, max|pred diff| {d_pred:.2e}; {} iters in {secs:.3}s",
        info.n_iter
    );
    assert!(
        d_coef <= tol * scale,
        "{label}: coefficients differ by {d_coef:e}"
    );
    assert!(
        d_icpt <= tol * scale.max(oracle.intercept.iter().fold(0.0f64, |m, v| m.max(v.abs()))),
        "{label}: intercepts differ by {d_icpt:e}"
    );
    assert!(
        d_pred <= tol * pred_scale,
        "{label}: predictions differ by {d_pred:e}"
    );
    Some(model)
}

fn params(penalty: Penalty) -> LinearParams {
    LinearParams {
        penalty,
        tol: 1e-10,
        max_iter: 10_000,
        ..LinearParams::default()
    }
}

// ---------- regression ----------

#[test]
fn diabetes_least_squares_and_ridge_match_sklearn() {
    let (x, y) = diabetes();
    let none = params(Penalty::None);
    check(
        "ols",
        &x,
        &y,
        Task::Regression,
        &none,
        "LinearRegression()",
        1e-8,
    );
    let ridge = LinearParams {
        alpha: 10.0,
        ..params(Penalty::L2)
    };
    check(
        "ridge",
        &x,
        &y,
        Task::Regression,
        &ridge,
        "Ridge(alpha=10.0)",
        1e-8,
    );
    let ridge_no_icpt = LinearParams {
        fit_intercept: false,
        ..ridge
    };
    check(
        "ridge no intercept",
        &x,
        &y,
        Task::Regression,
        &ridge_no_icpt,
        "Ridge(alpha=10.0, fit_intercept=False)",
        1e-8,
    );
}

#[test]
fn diabetes_lasso_and_elastic_net_match_sklearn() {
    let (x, y) = diabetes();
    let lasso = LinearParams {
        alpha: 5.0,
        tol: 1e-12,
        max_iter: 1_000_000,
        ..params(Penalty::L1)
    };
    let est = "Lasso(alpha=5.0, tol=1e-12, max_iter=1000000)";
    let model = check("lasso", &x, &y, Task::Regression, &lasso, est, 1e-6);
    if let Some(m) = model {
        let zeros = m.coefficients.iter().filter(|v| **v == 0.0).count();
        assert!(zeros > 0, "alpha=5 should zero some coefficients");
    }
    let enet = LinearParams {
        penalty: Penalty::ElasticNet,
        alpha: 0.05,
        l1_ratio: 0.7,
        ..lasso
    };
    let est = "ElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-12, max_iter=1000000)";
    check("elastic net", &x, &y, Task::Regression, &enet, est, 1e-6);
}

// ---------- binary ----------

#[test]
fn adult_binary_l2_and_none_match_sklearn() {
    let (x, y) = adult(4000, false);
    let est = "LogisticRegression(C=0.5, l1_ratio=0, solver='newton-cholesky', tol=1e-12, \
               max_iter=1000)";
    let l2 = LinearParams {
        c: 0.5,
        ..params(Penalty::L2)
    };
    check("adult l2", &x, &y, Task::Binary, &l2, est, 1e-6);
    let est = "LogisticRegression(C=0.5, l1_ratio=0, solver='newton-cholesky', tol=1e-12, \
               max_iter=1000, fit_intercept=False)";
    let no_icpt = LinearParams {
        fit_intercept: false,
        ..l2
    };
    check(
        "adult l2 no intercept",
        &x,
        &y,
        Task::Binary,
        &no_icpt,
        est,
        1e-6,
    );
    // No penalty: numeric columns only (a rare one-hot level would make the data separable).
    let (x, y) = adult_columns(4000, true, false);
    let est = "LogisticRegression(C=np.inf, solver='newton-cholesky', tol=1e-12, max_iter=1000)";
    let none = params(Penalty::None);
    check("adult none", &x, &y, Task::Binary, &none, est, 1e-6);
}

#[test]
fn adult_binary_l1_and_elastic_net_match_sklearn() {
    // Reference coding: with every level kept the L1 solution is not unique.
    let (x, y) = adult(2000, true);
    let est = "LogisticRegression(C=0.1, l1_ratio=1, solver='saga', tol=1e-12, \
               max_iter=100000)";
    let l1 = LinearParams {
        c: 0.1,
        ..params(Penalty::L1)
    };
    check("adult l1", &x, &y, Task::Binary, &l1, est, 1e-4);
    let est = "LogisticRegression(C=0.1, l1_ratio=0.5, solver='saga', tol=1e-12, \
               max_iter=100000)";
    let en = LinearParams {
        c: 0.1,
        l1_ratio: 0.5,
        ..params(Penalty::ElasticNet)
    };
    check("adult elastic net", &x, &y, Task::Binary, &en, est, 1e-4);
}

// ---------- multiclass ----------

#[test]
fn penguins_multinomial_all_penalties_match_sklearn() {
    let (x, y, k) = penguins();
    let task = Task::Multiclass { n_classes: k };
    let cases = [
        ("l2", Penalty::L2, 0.0, "l1_ratio=0, solver='lbfgs'"),
        ("l1", Penalty::L1, 1.0, "l1_ratio=1, solver='saga'"),
        (
            "elastic net",
            Penalty::ElasticNet,
            0.3,
            "l1_ratio=0.3, solver='saga'",
        ),
    ];
    for (label, penalty, l1_ratio, extra) in cases {
        let p = LinearParams {
            c: 0.2,
            l1_ratio,
            ..params(penalty)
        };
        let est = format!("LogisticRegression(C=0.2, {extra}, tol=1e-12, max_iter=100000)");
        check(&format!("penguins {label}"), &x, &y, task, &p, &est, 1e-5);
    }
}

#[test]
fn digits_and_letter_multinomial_match_sklearn() {
    let (x, y, k) = digits();
    let est = "LogisticRegression(C=0.1, l1_ratio=0, solver='newton-cholesky', tol=1e-12, \
               max_iter=1000)";
    let p = LinearParams {
        c: 0.1,
        ..params(Penalty::L2)
    };
    check(
        "digits l2",
        &x,
        &y,
        Task::Multiclass { n_classes: k },
        &p,
        est,
        1e-6,
    );
    // 65 x 10 parameters: the L1 solver tracks curvature from the data, not a Gram matrix.
    let est = "LogisticRegression(C=0.1, l1_ratio=1, solver='saga', tol=1e-10, max_iter=100000)";
    let p = LinearParams {
        c: 0.1,
        ..params(Penalty::L1)
    };
    check(
        "digits l1",
        &x,
        &y,
        Task::Multiclass { n_classes: k },
        &p,
        est,
        1e-4,
    );

    let (x, y, k) = letter(3000, false);
    let est = "LogisticRegression(C=1.0, l1_ratio=0, solver='newton-cholesky', tol=1e-12, \
               max_iter=1000)";
    let p = params(Penalty::L2);
    check(
        "letter l2",
        &x,
        &y,
        Task::Multiclass { n_classes: k },
        &p,
        est,
        1e-6,
    );
    let est = "LogisticRegression(C=np.inf, solver='newton-cholesky', tol=1e-12, max_iter=1000)";
    let p = params(Penalty::None);
    check(
        "letter none",
        &x,
        &y,
        Task::Multiclass { n_classes: k },
        &p,
        est,
        1e-5,
    );
}

/// Full-size timings (run with `--ignored --nocapture`, ideally `--release`).
#[test]
#[ignore]
fn full_size_fit_times() {
    let (x, y) = adult(48842, false);
    let n_train = 40_000;
    let idx: Vec<usize> = (0..n_train).collect();
    let (x, y) = (x.take_rows(&idx), y[..n_train].to_vec());
    let only = std::env::var("CAPSTAN_ONLY").unwrap_or_default();
    for penalty in [Penalty::L2, Penalty::L1, Penalty::ElasticNet, Penalty::None] {
        if !only.is_empty() && !format!("adult {penalty:?}").contains(&only) {
            continue;
        }
        let p = LinearParams {
            penalty,
            ..LinearParams::default()
        };
        let start = Instant::now();
        let (_, info) = linear::fit_with_info(&x, &y, Task::Binary, &p).expect("fit");
        eprintln!(
            "adult {}x{} {penalty:?}: {:.3}s, {info:?}",
            x.n_rows,
            x.n_cols,
            start.elapsed().as_secs_f64()
        );
    }
    for scaled in [true, false] {
        let (x, y, k) = letter(16_000, scaled);
        for penalty in [Penalty::L2, Penalty::L1, Penalty::ElasticNet] {
            if !only.is_empty() && !format!("letter {scaled} {penalty:?}").contains(&only) {
                continue;
            }
            let p = LinearParams {
                penalty,
                ..LinearParams::default()
            };
            let start = Instant::now();
            let task = Task::Multiclass { n_classes: k };
            let (_, info) = linear::fit_with_info(&x, &y, task, &p).expect("fit");
            eprintln!(
                "letter {}x{} scaled={scaled} {penalty:?}: {:.3}s, {info:?}",
                x.n_rows,
                x.n_cols,
                start.elapsed().as_secs_f64()
            );
        }
    }
}
