//! Oracle test: every metric against scikit-learn on randomized and edge-case inputs.
//!
//! Runs `$CAPSTAN_PYTHON`, else the workspace `.venv/bin/python`, else `python3`.
//! Without python + sklearn the test prints a skip note, or fails when `CI` is set.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use capstan_eval::rng::Rng;
use capstan_eval::{
    binary_metrics, holdout, kfold, mean_gamma_deviance, mean_pinball_loss, mean_poisson_deviance,
    mean_tweedie_deviance, multiclass_metrics, regression_metrics, time_series_folds,
};

/// Allowed difference: 1e-9 absolute, or relative for values above 1 in magnitude
/// (MAPE on zero targets is ~1e15).
const TOL: f64 = 1e-9;

const SCRIPT: &str = r#"
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from sklearn import metrics as M
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

def out(cid, key, vals):
    print(cid, key, *[repr(float(v)) for v in vals])

def nums(line):
    return np.array(line.split(), dtype=float)

lines = open(sys.argv[1]).read().split("\n")
i = 0
while i < len(lines):
    head = lines[i].split()
    i += 1
    if not head:
        continue
    kind, cid = head[0], head[1]
    if kind == "B":
        t = float(head[2])
        y = nums(lines[i]).astype(int); p = nums(lines[i + 1]); i += 2
        pred = (p >= t).astype(int)
        out(cid, "roc_auc", [M.roc_auc_score(y, p)])
        out(cid, "pr_auc", [M.average_precision_score(y, p)])
        out(cid, "log_loss", [M.log_loss(y, p, labels=[0, 1])])
        out(cid, "brier", [M.brier_score_loss(y, p, pos_label=1)])
        out(cid, "accuracy", [M.accuracy_score(y, pred)])
        out(cid, "precision", [M.precision_score(y, pred, zero_division=0)])
        out(cid, "recall", [M.recall_score(y, pred, zero_division=0)])
        out(cid, "f1", [M.f1_score(y, pred, zero_division=0)])
        out(cid, "confusion", M.confusion_matrix(y, pred, labels=[0, 1]).ravel())
    elif kind == "M":
        k = int(head[2])
        y = nums(lines[i]).astype(int); P = nums(lines[i + 1]).reshape(-1, k); i += 2
        pred = P.argmax(axis=1)
        labels = list(range(k))
        out(cid, "accuracy", [M.accuracy_score(y, pred)])
        out(cid, "f1_macro", [M.f1_score(y, pred, average="macro", labels=labels, zero_division=0)])
        out(cid, "f1_weighted", [M.f1_score(y, pred, average="weighted", labels=labels, zero_division=0)])
        out(cid, "log_loss", [M.log_loss(y, P, labels=labels)])
        out(cid, "confusion", M.confusion_matrix(y, pred, labels=labels).ravel())
    elif kind == "R":
        y = nums(lines[i]); p = nums(lines[i + 1]); i += 2
        out(cid, "rmse", [M.root_mean_squared_error(y, p)])
        out(cid, "mae", [M.mean_absolute_error(y, p)])
        out(cid, "r2", [M.r2_score(y, p)])
        out(cid, "mape", [M.mean_absolute_percentage_error(y, p)])
    elif kind == "D":
        power, alpha = float(head[2]), float(head[3])
        y = nums(lines[i]); p = nums(lines[i + 1]); i += 2
        out(cid, "tweedie", [M.mean_tweedie_deviance(y, p, power=power)])
        out(cid, "pinball", [M.mean_pinball_loss(y, p, alpha=alpha)])
        if power == 1.0:
            out(cid, "poisson", [M.mean_poisson_deviance(y, p)])
        if power == 2.0:
            out(cid, "gamma", [M.mean_gamma_deviance(y, p)])
    elif kind in ("K", "S", "T"):
        n, k = int(head[2]), int(head[3])
        X = np.zeros((n, 1))
        if kind == "K":
            folds = KFold(n_splits=k).split(X)
        elif kind == "T":
            folds = TimeSeriesSplit(n_splits=k).split(X)
        else:
            y = nums(lines[i]).astype(int); i += 1
            folds = StratifiedKFold(n_splits=k).split(X, y)
        for f, (tr, te) in enumerate(folds):
            out(cid, "fold%d_train" % f, tr)
            out(cid, "fold%d_test" % f, te)
    else:
        raise SystemExit("unknown case kind " + kind)
"#;

/// Inputs for python plus our own values, keyed by (case id, metric key).
#[derive(Default)]
struct Cases {
    input: String,
    ours: BTreeMap<(String, String), Vec<f64>>,
}

fn join<T: ToString>(xs: &[T]) -> String {
    xs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn as_f64(xs: &[usize]) -> Vec<f64> {
    xs.iter().map(|&x| x as f64).collect()
}

impl Cases {
    fn put(&mut self, id: &str, key: &str, values: Vec<f64>) {
        self.ours.insert((id.to_string(), key.to_string()), values);
    }

    fn binary(&mut self, id: &str, y: &[f64], p: &[f64], threshold: f64) {
        let m = binary_metrics(y, p, threshold).expect("valid binary input");
        writeln!(self.input, "B {id} {threshold}\n{}\n{}", join(y), join(p)).ok();
        self.put(id, "roc_auc", vec![m.roc_auc.unwrap_or(f64::NAN)]);
        for (k, v) in [
            ("pr_auc", m.pr_auc),
            ("log_loss", m.log_loss),
            ("brier", m.brier),
            ("accuracy", m.accuracy),
            ("precision", m.precision),
            ("recall", m.recall),
            ("f1", m.f1),
        ] {
            self.put(id, k, vec![v]);
        }
        let c = m.confusion;
        self.put(
            id,
            "confusion",
            [c.tn, c.fp, c.fn_, c.tp].map(|v| v as f64).to_vec(),
        );
        assert_eq!(m.to_map().len(), if m.roc_auc.is_some() { 8 } else { 7 });
    }

    fn multiclass(&mut self, id: &str, y: &[usize], proba: &[f64], k: usize) {
        let m = multiclass_metrics(y, proba, k).expect("valid multiclass input");
        writeln!(self.input, "M {id} {k}\n{}\n{}", join(y), join(proba)).ok();
        for (key, v) in m.to_map() {
            self.put(id, &key, vec![v]);
        }
        let flat: Vec<f64> = m.confusion.iter().flatten().map(|&v| v as f64).collect();
        self.put(id, "confusion", flat);
    }

    fn regression(&mut self, id: &str, y: &[f64], p: &[f64]) {
        let m = regression_metrics(y, p).expect("valid regression input");
        writeln!(self.input, "R {id}\n{}\n{}", join(y), join(p)).ok();
        self.put(id, "rmse", vec![m.rmse]);
        self.put(id, "mae", vec![m.mae]);
        self.put(id, "r2", vec![m.r2.unwrap_or(f64::NAN)]);
        self.put(id, "mape", vec![m.mape]);
    }

    fn deviance(&mut self, id: &str, y: &[f64], p: &[f64], power: f64, alpha: f64) {
        writeln!(
            self.input,
            "D {id} {power} {alpha}\n{}\n{}",
            join(y),
            join(p)
        )
        .ok();
        let tweedie = mean_tweedie_deviance(y, p, power).expect("valid deviance input");
        self.put(id, "tweedie", vec![tweedie]);
        let pinball = mean_pinball_loss(y, p, alpha).expect("valid pinball input");
        self.put(id, "pinball", vec![pinball]);
        if power == 1.0 {
            let v = mean_poisson_deviance(y, p).expect("valid poisson input");
            self.put(id, "poisson", vec![v]);
        }
        if power == 2.0 {
            let v = mean_gamma_deviance(y, p).expect("valid gamma input");
            self.put(id, "gamma", vec![v]);
        }
    }

    /// Unshuffled folds have no RNG, so they must equal sklearn's exactly.
    fn folds(&mut self, id: &str, kind: char, n: usize, k: usize, labels: Option<&[usize]>) {
        let folds = match kind {
            'T' => time_series_folds(n, k),
            _ => kfold(n, k, 0, false, labels),
        }
        .expect("valid fold input");
        writeln!(self.input, "{kind} {id} {n} {k}").ok();
        if let Some(labels) = labels {
            writeln!(self.input, "{}", join(labels)).ok();
        }
        for (f, split) in folds.iter().enumerate() {
            self.put(id, &format!("fold{f}_train"), as_f64(&split.train));
            self.put(id, &format!("fold{f}_test"), as_f64(&split.test));
        }
    }
}

fn bernoulli(rng: &mut Rng, n: usize, rate: f64) -> Vec<f64> {
    (0..n)
        .map(|_| if rng.next_f64() < rate { 1.0 } else { 0.0 })
        .collect()
}

fn build_cases() -> Cases {
    let mut cases = Cases::default();
    let thresholds = [0.5, 0.3, 0.75, 0.0, 1.0, 0.25];
    for seed in 0..60u64 {
        let mut rng = Rng::new(seed);
        let n = 1 + rng.below(300) as usize;
        let rate = 0.05 + 0.9 * rng.next_f64();
        let y = bernoulli(&mut rng, n, rate);
        let p: Vec<f64> = y
            .iter()
            .map(|&yi| {
                let u = rng.next_f64();
                match seed % 5 {
                    0 => u,
                    1 => (u * 10.0).round() / 10.0,
                    2 if u < 0.15 => 0.0,
                    2 if u > 0.85 => 1.0,
                    2 => u,
                    3 => 0.3 * yi + 0.7 * u,
                    _ => (u * 4.0).floor() / 4.0,
                }
            })
            .collect();
        let t = thresholds[seed as usize % thresholds.len()];
        cases.binary(&format!("binary_seed{seed}"), &y, &p, t);
    }
    let y = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
    cases.binary("binary_perfect", &y, &[0.0, 1.0, 1.0, 0.0, 1.0, 0.0], 0.5);
    cases.binary("binary_inverted", &y, &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0], 0.5);
    cases.binary("binary_all_tied", &y, &[0.5; 6], 0.5);
    cases.binary(
        "binary_signed_zero_ties",
        &y,
        &[-0.0, 0.0, 0.0, -0.0, 0.3, 0.3],
        0.3,
    );
    cases.binary(
        "binary_all_negative",
        &[0.0; 5],
        &[0.1, 0.9, 0.5, 0.0, 1.0],
        0.5,
    );
    cases.binary(
        "binary_all_positive",
        &[1.0; 5],
        &[0.1, 0.9, 0.5, 0.0, 1.0],
        0.5,
    );
    cases.binary("binary_one_row_pos", &[1.0], &[0.2], 0.5);
    cases.binary("binary_one_row_neg", &[0.0], &[0.7], 0.5);
    cases.binary(
        "binary_none_predicted",
        &y,
        &[0.1, 0.4, 0.2, 0.3, 0.1, 0.0],
        0.5,
    );
    cases.binary(
        "binary_near_eps",
        &[1.0, 0.0, 1.0, 0.0],
        &[1e-17, 1.0 - 1e-17, 1e-300, 1.0],
        0.5,
    );

    for seed in 0..40u64 {
        let mut rng = Rng::new(1000 + seed);
        let k = 2 + rng.below(5) as usize;
        let n = 1 + rng.below(200) as usize;
        let y: Vec<usize> = (0..n).map(|_| rng.below(k as u64) as usize).collect();
        let mut proba = Vec::with_capacity(n * k);
        for &yi in &y {
            let mut row: Vec<f64> = (0..k).map(|_| rng.next_f64()).collect();
            match rng.below(6) {
                0 => row.iter_mut().for_each(|v| *v = 1.0),
                1 => row[yi] = 0.0,
                2 => row[yi] += 1.5,
                3 => row[(yi + 1) % k] = row[yi],
                _ => {}
            }
            let s: f64 = row.iter().sum();
            proba.extend(row.iter().map(|v| v / s));
        }
        cases.multiclass(&format!("multiclass_seed{seed}"), &y, &proba, k);
    }
    let y = [0, 1, 2, 2, 1, 0];
    let one_hot: Vec<f64> = y
        .iter()
        .flat_map(|&c| (0..3).map(move |j| if j == c { 1.0 } else { 0.0 }))
        .collect();
    cases.multiclass("multiclass_perfect", &y, &one_hot, 3);
    cases.multiclass("multiclass_absent_class", &y, &[0.25; 24], 4);
    let wrong: Vec<f64> = y
        .iter()
        .flat_map(|&c| (0..3).map(move |j| if j == (c + 1) % 3 { 1.0 } else { 0.0 }))
        .collect();
    cases.multiclass("multiclass_all_wrong", &y, &wrong, 3);
    cases.multiclass("multiclass_one_row", &[1], &[0.2, 0.5, 0.3], 3);

    for seed in 0..40u64 {
        let mut rng = Rng::new(2000 + seed);
        let n = 1 + rng.below(250) as usize;
        let scale = [1.0, 1e-3, 1e4][seed as usize % 3];
        let y: Vec<f64> = (0..n)
            .map(|_| {
                let v = (rng.next_f64() - 0.3) * scale;
                if seed % 4 == 0 && rng.below(10) == 0 {
                    0.0
                } else {
                    v
                }
            })
            .collect();
        let p: Vec<f64> = y
            .iter()
            .map(|&v| v + (rng.next_f64() - 0.5) * scale * 0.4)
            .collect();
        cases.regression(&format!("regression_seed{seed}"), &y, &p);
    }
    cases.regression("regression_perfect", &[1.5, -2.0, 3.25], &[1.5, -2.0, 3.25]);
    cases.regression("regression_constant_exact", &[3.0; 4], &[3.0; 4]);
    cases.regression("regression_constant_off", &[3.0; 4], &[3.0, 2.0, 4.0, 3.5]);
    cases.regression("regression_one_row", &[2.0], &[1.0]);
    cases.regression("regression_two_rows", &[2.0, 0.0], &[1.0, 0.5]);
    cases.regression(
        "regression_zero_targets",
        &[0.0, 0.0, 1.0],
        &[0.5, 0.0, 2.0],
    );

    // Counts (with zeros) and positive amounts against positive predictions.
    for seed in 0..12u64 {
        let mut rng = Rng::new(4000 + seed);
        let n = 1 + rng.below(60) as usize;
        let power = [1.0, 1.5, 2.0, 3.0, 0.0, -0.5][seed as usize % 6];
        let alpha = rng.next_f64();
        let y: Vec<f64> = (0..n)
            .map(|_| {
                let v = (rng.next_f64() * 8.0).floor();
                if power >= 2.0 { v + 0.25 } else { v }
            })
            .collect();
        let p: Vec<f64> = (0..n).map(|_| 0.05 + rng.next_f64() * 9.0).collect();
        cases.deviance(&format!("deviance_seed{seed}"), &y, &p, power, alpha);
    }
    cases.deviance(
        "deviance_perfect",
        &[1.0, 2.5, 7.0],
        &[1.0, 2.5, 7.0],
        1.5,
        0.5,
    );
    cases.deviance(
        "deviance_zero_counts",
        &[0.0, 0.0, 3.0],
        &[0.5, 1e-3, 2.0],
        1.0,
        0.9,
    );

    for (n, k) in [(10, 3), (7, 7), (100, 5), (11, 2)] {
        cases.folds(&format!("kfold_{n}_{k}"), 'K', n, k, None);
    }
    for (n, k) in [(10, 2), (7, 6), (100, 4), (11, 3)] {
        cases.folds(&format!("timeseries_{n}_{k}"), 'T', n, k, None);
    }
    for seed in 0..8u64 {
        let mut rng = Rng::new(3000 + seed);
        let n = 20 + rng.below(80) as usize;
        let n_classes = 2 + rng.below(4) as usize;
        // Skewed labels, high labels most frequent, so first appearance is not label order.
        let labels: Vec<usize> = (0..n)
            .map(|_| {
                let u = rng.next_f64();
                n_classes - 1 - (n_classes as f64 * u * u) as usize
            })
            .collect();
        let k = 2 + rng.below(4) as usize;
        cases.folds(&format!("stratified_seed{seed}"), 'S', n, k, Some(&labels));
    }
    // A class smaller than k: sklearn warns and leaves it out of some test folds.
    let small = [2, 0, 0, 1, 0, 0, 1, 0, 0, 0, 2, 1, 0];
    cases.folds("stratified_small_class", 'S', small.len(), 3, Some(&small));
    // Holdout is seeded with our PRNG, so only check it runs here; properties live in splits.rs.
    holdout(10, 0.3, 1, None).expect("valid holdout");
    cases
}

#[test]
fn metrics_and_folds_match_sklearn() {
    let Some((py, version)) = common::python("numpy, sklearn", "sklearn.__version__") else {
        return;
    };
    let cases = build_cases();
    let path = std::env::temp_dir().join(format!("capstan-eval-oracle-{}.txt", std::process::id()));
    std::fs::write(&path, &cases.input).expect("write oracle input");
    let output = Command::new(&py).arg("-c").arg(SCRIPT).arg(&path).output();
    std::fs::remove_file(&path).ok();
    let output = output.expect("run python");
    assert!(
        output.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (mut compared, mut max_abs, mut max_rel) = (0usize, 0.0f64, 0.0f64);
    let mut failures = Vec::new();
    for line in stdout.lines() {
        let mut parts = line.split_whitespace();
        let (Some(id), Some(key)) = (parts.next(), parts.next()) else {
            continue;
        };
        let theirs: Vec<f64> = parts.map(|v| v.parse().expect("python float")).collect();
        let Some(ours) = cases.ours.get(&(id.to_string(), key.to_string())) else {
            failures.push(format!(
                "{id} {key}: sklearn reported a value we did not compute"
            ));
            continue;
        };
        compared += 1;
        if ours.len() != theirs.len() {
            failures.push(format!("{id} {key}: ours {ours:?} vs sklearn {theirs:?}"));
            continue;
        }
        for (&a, &b) in ours.iter().zip(&theirs) {
            if a.is_nan() && b.is_nan() {
                continue;
            }
            let diff = (a - b).abs();
            max_abs = max_abs.max(if b.abs() <= 1.0 { diff } else { 0.0 });
            max_rel = max_rel.max(if b.abs() > 1.0 { diff / b.abs() } else { 0.0 });
            // Written so that nan on one side only fails.
            let close = diff <= TOL * b.abs().max(1.0);
            if !close {
                failures.push(format!(
                    "{id} {key}: ours {a:e} vs sklearn {b:e} (diff {diff:e})"
                ));
            }
        }
    }
    assert_eq!(
        compared,
        cases.ours.len(),
        "sklearn answered {compared} of {} metrics",
        cases.ours.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "sklearn {version}: {compared} values agree; max abs diff {max_abs:e} (|v| <= 1), \
         max rel diff {max_rel:e} (|v| > 1)"
    );
}
