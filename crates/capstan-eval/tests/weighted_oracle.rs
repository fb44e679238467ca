//! Oracle test: the weighted metrics against scikit-learn's `sample_weight` on randomized
//! inputs (ties, zero weights, integer and fractional weights).
//!
//! Runs `$CAPSTAN_PYTHON`, else the workspace `.venv/bin/python`, else `python3`.
//! Without python + sklearn the test prints a skip note, or fails when `CI` is set.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use capstan_eval::rng::Rng;
use capstan_eval::{
    weighted_binary_metrics, weighted_mean_pinball_loss, weighted_mean_tweedie_deviance,
    weighted_multiclass_metrics, weighted_regression_metrics,
};

/// Allowed difference: 1e-9 absolute, or relative for values above 1 in magnitude.
const TOL: f64 = 1e-9;

const SCRIPT: &str = r#"
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from sklearn import metrics as M

def out(cid, key, v):
    print(cid, key, repr(float(v)))

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
        y = nums(lines[i]).astype(int); p = nums(lines[i + 1]); w = nums(lines[i + 2]); i += 3
        out(cid, "weighted_roc_auc", M.roc_auc_score(y, p, sample_weight=w))
        out(cid, "weighted_log_loss", M.log_loss(y, p, sample_weight=w, labels=[0, 1]))
        out(cid, "weighted_brier", M.brier_score_loss(y, p, sample_weight=w, pos_label=1))
        out(cid, "weighted_accuracy", M.accuracy_score(y, (p >= t).astype(int), sample_weight=w))
    elif kind == "M":
        k = int(head[2])
        y = nums(lines[i]).astype(int); P = nums(lines[i + 1]).reshape(-1, k); w = nums(lines[i + 2]); i += 3
        out(cid, "weighted_accuracy", M.accuracy_score(y, P.argmax(axis=1), sample_weight=w))
        out(cid, "weighted_log_loss", M.log_loss(y, P, sample_weight=w, labels=list(range(k))))
    elif kind == "R":
        y = nums(lines[i]); p = nums(lines[i + 1]); w = nums(lines[i + 2]); i += 3
        out(cid, "weighted_rmse", M.root_mean_squared_error(y, p, sample_weight=w))
        out(cid, "weighted_mae", M.mean_absolute_error(y, p, sample_weight=w))
        out(cid, "weighted_r2", M.r2_score(y, p, sample_weight=w))
    elif kind == "D":
        power, alpha = float(head[2]), float(head[3])
        y = nums(lines[i]); p = nums(lines[i + 1]); w = nums(lines[i + 2]); i += 3
        out(cid, "tweedie", M.mean_tweedie_deviance(y, p, sample_weight=w, power=power))
        out(cid, "pinball", M.mean_pinball_loss(y, p, sample_weight=w, alpha=alpha))
        if power == 1.0:
            out(cid, "poisson", M.mean_poisson_deviance(y, p, sample_weight=w))
        if power == 2.0:
            out(cid, "gamma", M.mean_gamma_deviance(y, p, sample_weight=w))
    else:
        raise SystemExit("unknown case kind " + kind)
"#;

#[derive(Default)]
struct Cases {
    input: String,
    ours: BTreeMap<(String, String), f64>,
}

fn join<T: ToString>(xs: &[T]) -> String {
    xs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Cases {
    fn put_map(&mut self, id: &str, map: BTreeMap<String, f64>) {
        for (k, v) in map {
            self.ours.insert((id.to_string(), k), v);
        }
    }

    fn binary(&mut self, id: &str, y: &[f64], p: &[f64], w: &[f64], threshold: f64) {
        let m = weighted_binary_metrics(y, p, w, threshold).expect("valid binary input");
        writeln!(
            self.input,
            "B {id} {threshold}\n{}\n{}\n{}",
            join(y),
            join(p),
            join(w)
        )
        .ok();
        self.put_map(id, m.to_map());
    }

    fn multiclass(&mut self, id: &str, y: &[usize], proba: &[f64], k: usize, w: &[f64]) {
        let m = weighted_multiclass_metrics(y, proba, k, w).expect("valid multiclass input");
        writeln!(
            self.input,
            "M {id} {k}\n{}\n{}\n{}",
            join(y),
            join(proba),
            join(w)
        )
        .ok();
        self.put_map(id, m.to_map());
    }

    fn regression(&mut self, id: &str, y: &[f64], p: &[f64], w: &[f64]) {
        let m = weighted_regression_metrics(y, p, w).expect("valid regression input");
        writeln!(self.input, "R {id}\n{}\n{}\n{}", join(y), join(p), join(w)).ok();
        self.put_map(id, m.to_map());
    }

    fn deviance(&mut self, id: &str, y: &[f64], p: &[f64], w: &[f64], power: f64, alpha: f64) {
        writeln!(
            self.input,
            "D {id} {power} {alpha}\n{}\n{}\n{}",
            join(y),
            join(p),
            join(w)
        )
        .ok();
        let put = |cases: &mut Cases, key: &str, v: f64| {
            cases.ours.insert((id.to_string(), key.to_string()), v);
        };
        let tweedie = weighted_mean_tweedie_deviance(y, p, power, w).expect("valid deviance");
        put(self, "tweedie", tweedie);
        let pinball = weighted_mean_pinball_loss(y, p, alpha, w).expect("valid pinball");
        put(self, "pinball", pinball);
        if power == 1.0 {
            put(self, "poisson", tweedie);
        }
        if power == 2.0 {
            put(self, "gamma", tweedie);
        }
    }
}

/// Weights with zeros, whole numbers and fractions; never all zero.
fn weights(rng: &mut Rng, n: usize) -> Vec<f64> {
    let mut w: Vec<f64> = (0..n)
        .map(|_| match rng.below(4) {
            0 => 0.0,
            1 => (1 + rng.below(5)) as f64,
            _ => rng.next_f64() * 3.0,
        })
        .collect();
    w[0] = 0.5 + rng.next_f64();
    w
}

fn build_cases() -> Cases {
    let mut cases = Cases::default();
    for seed in 0..16u64 {
        let mut rng = Rng::new(7000 + seed);
        let n = 4 + rng.below(80) as usize;
        // Scores rounded to a tenth make ties.
        let mut y: Vec<f64> = (0..n)
            .map(|_| f64::from(u8::from(rng.next_f64() < 0.4)))
            .collect();
        (y[0], y[1]) = (0.0, 1.0);
        let p: Vec<f64> = (0..n)
            .map(|_| (rng.next_f64() * 10.0).round() / 10.0)
            .collect();
        let mut w = weights(&mut rng, n);
        w[1] = 1.0;
        cases.binary(&format!("binary_seed{seed}"), &y, &p, &w, 0.5);

        let k = 3 + rng.below(3) as usize;
        let labels: Vec<usize> = (0..n).map(|_| rng.below(k as u64) as usize).collect();
        let mut proba = Vec::with_capacity(n * k);
        for _ in 0..n {
            let raw: Vec<f64> = (0..k).map(|_| rng.next_f64() + 1e-3).collect();
            let total: f64 = raw.iter().sum();
            proba.extend(raw.iter().map(|v| v / total));
        }
        cases.multiclass(&format!("multiclass_seed{seed}"), &labels, &proba, k, &w);

        let y: Vec<f64> = (0..n).map(|_| rng.next_f64() * 100.0 - 20.0).collect();
        let p: Vec<f64> = y.iter().map(|v| v + rng.next_f64() * 30.0 - 15.0).collect();
        cases.regression(&format!("regression_seed{seed}"), &y, &p, &w);

        let power = [1.0, 1.5, 2.0, 3.0][seed as usize % 4];
        let counts: Vec<f64> = (0..n)
            .map(|_| {
                let v = (rng.next_f64() * 8.0).floor();
                if power >= 2.0 { v + 0.25 } else { v }
            })
            .collect();
        let mu: Vec<f64> = (0..n).map(|_| 0.05 + rng.next_f64() * 9.0).collect();
        let alpha = rng.next_f64();
        cases.deviance(
            &format!("deviance_seed{seed}"),
            &counts,
            &mu,
            &w,
            power,
            alpha,
        );
    }
    // Targets equal wherever the weight is positive: a zero r2 denominator.
    cases.regression(
        "regression_constant_weighted",
        &[3.0, 3.0, 9.0],
        &[2.0, 3.5, 1.0],
        &[1.0, 2.0, 0.0],
    );
    cases
}

#[test]
fn weighted_metrics_match_sklearn() {
    let Some((py, version)) = common::python("numpy, sklearn", "sklearn.__version__") else {
        return;
    };
    let cases = build_cases();
    let path =
        std::env::temp_dir().join(format!("capstan-eval-weighted-{}.txt", std::process::id()));
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
    let (mut compared, mut max_diff) = (0usize, 0.0f64);
    let mut failures = Vec::new();
    for line in stdout.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [id, key, value] = parts[..] else {
            continue;
        };
        let theirs: f64 = value.parse().expect("python float");
        let Some(&ours) = cases.ours.get(&(id.to_string(), key.to_string())) else {
            failures.push(format!(
                "{id} {key}: sklearn reported a value we did not compute"
            ));
            continue;
        };
        compared += 1;
        let diff = (ours - theirs).abs() / theirs.abs().max(1.0);
        max_diff = max_diff.max(diff);
        // nan on one side fails.
        if diff.is_nan() || diff > TOL {
            failures.push(format!("{id} {key}: ours {ours:e} vs sklearn {theirs:e}"));
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
    eprintln!("{compared} weighted metrics equal scikit-learn {version}'s (max diff {max_diff:e})");
}
