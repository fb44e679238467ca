//! Oracle test: fairness metrics against Fairlearn on randomized and edge-case inputs.
//!
//! Runs `$CAPSTAN_PYTHON`, else the workspace `.venv/bin/python`, else `python3`.
//! Without python + fairlearn the test prints a skip note, or fails when `CI` is set.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use capstan_eval::fairness_metrics;
use capstan_eval::rng::Rng;

const TOL: f64 = 1e-12;

const SCRIPT: &str = r#"
import sys, warnings
import numpy as np
warnings.simplefilter("ignore")
import fairlearn.metrics as F

def out(cid, key, vals):
    print(cid, key, *[repr(float(v)) for v in vals])

lines = open(sys.argv[1]).read().split("\n")
i = 0
while i < len(lines):
    head = lines[i].split()
    i += 1
    if not head:
        continue
    cid = head[0]
    g = np.array(lines[i].split(), dtype=object)
    y = np.array(lines[i + 1].split(), dtype=int)
    p = np.array(lines[i + 2].split(), dtype=int)
    i += 3
    kw = dict(sensitive_features=g)
    out(cid, "demographic_parity_difference", [F.demographic_parity_difference(y, p, **kw)])
    out(cid, "demographic_parity_ratio", [F.demographic_parity_ratio(y, p, **kw)])
    out(cid, "equal_opportunity_difference", [F.equal_opportunity_difference(y, p, **kw)])
    out(cid, "equalized_odds_difference", [F.equalized_odds_difference(y, p, **kw)])
    mf = F.MetricFrame(
        metrics={
            "selection_rate": F.selection_rate,
            "true_positive_rate": F.true_positive_rate,
            "false_positive_rate": F.false_positive_rate,
            "count": F.count,
        },
        y_true=y, y_pred=p, sensitive_features=g,
    )
    by = mf.by_group.sort_index()
    print(cid, "groups", *[str(k) for k in by.index])
    for col in ["selection_rate", "true_positive_rate", "false_positive_rate", "count"]:
        out(cid, col, by[col].to_numpy())
"#;

#[derive(Default)]
struct Cases {
    input: String,
    ours: BTreeMap<(String, String), Vec<f64>>,
    groups: BTreeMap<String, Vec<String>>,
}

fn join<T: ToString>(xs: &[T]) -> String {
    xs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Cases {
    fn add(&mut self, id: &str, g: &[String], y: &[f64], p: &[f64]) {
        let m = fairness_metrics(g, y, p).expect("valid fairness input");
        let as_int = |v: &[f64]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
        writeln!(
            self.input,
            "{id}\n{}\n{}\n{}",
            join(g),
            join(&as_int(y)),
            join(&as_int(p))
        )
        .ok();
        let mut put = |key: &str, v: Vec<f64>| {
            self.ours.insert((id.to_string(), key.to_string()), v);
        };
        put(
            "demographic_parity_difference",
            vec![m.demographic_parity_difference],
        );
        put(
            "demographic_parity_ratio",
            vec![m.demographic_parity_ratio.unwrap_or(f64::NAN)],
        );
        put(
            "equal_opportunity_difference",
            vec![m.equal_opportunity_difference],
        );
        put(
            "equalized_odds_difference",
            vec![m.equalized_odds_difference],
        );
        let col = |f: &dyn Fn(&capstan_eval::GroupRates) -> f64| m.groups.iter().map(f).collect();
        put("selection_rate", col(&|r| r.selection_rate));
        put("true_positive_rate", col(&|r| r.true_positive_rate));
        put("false_positive_rate", col(&|r| r.false_positive_rate));
        put("count", col(&|r| r.n as f64));
        self.groups.insert(
            id.to_string(),
            m.groups.iter().map(|r| r.group.clone()).collect(),
        );
    }
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

fn build_cases() -> Cases {
    let mut cases = Cases::default();
    let names = ["female", "male", "other", "Amer-Indian-Eskimo", "White"];
    for seed in 0..80u64 {
        let mut rng = Rng::new(7000 + seed);
        let k = 2 + rng.below(4) as usize;
        let n = k + rng.below(400) as usize;
        // Uneven group sizes and per-group base and selection rates.
        let weights: Vec<f64> = (0..k).map(|_| 0.05 + rng.next_f64()).collect();
        let total: f64 = weights.iter().sum();
        let base: Vec<f64> = (0..k).map(|_| rng.next_f64()).collect();
        let lift: Vec<f64> = (0..k).map(|_| rng.next_f64()).collect();
        let mut g = Vec::with_capacity(n);
        let (mut y, mut p) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let mut u = rng.next_f64() * total;
            let mut j = 0;
            while j + 1 < k && u >= weights[j] {
                u -= weights[j];
                j += 1;
            }
            let yi = f64::from(u8::from(rng.next_f64() < base[j]));
            let agree = rng.next_f64() < 0.5 + 0.5 * lift[j];
            let pi = if agree { yi } else { 1.0 - yi };
            g.push(names[j].to_string());
            y.push(yi);
            p.push(pi);
        }
        cases.add(&format!("random_seed{seed}"), &g, &y, &p);
    }
    let g = strings(&["a", "a", "b", "b", "c", "c"]);
    cases.add(
        "group_without_positives",
        &g,
        &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0],
        &[0.0, 1.0, 1.0, 0.0, 1.0, 1.0],
    );
    cases.add(
        "group_without_negatives",
        &g,
        &[1.0, 1.0, 0.0, 1.0, 0.0, 1.0],
        &[1.0, 0.0, 0.0, 0.0, 1.0, 1.0],
    );
    cases.add(
        "nothing_predicted",
        &g,
        &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
        &[0.0; 6],
    );
    cases.add(
        "everything_predicted",
        &g,
        &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
        &[1.0; 6],
    );
    cases.add(
        "all_negative_labels",
        &g,
        &[0.0; 6],
        &[0.0, 1.0, 0.0, 0.0, 1.0, 1.0],
    );
    cases.add(
        "one_group",
        &strings(&["x", "x", "x", "x"]),
        &[1.0, 0.0, 1.0, 0.0],
        &[1.0, 1.0, 0.0, 0.0],
    );
    cases.add(
        "singleton_groups",
        &strings(&["b", "a", "c"]),
        &[1.0, 0.0, 1.0],
        &[1.0, 1.0, 0.0],
    );
    cases.add(
        "one_group_never_selected",
        &strings(&["a", "a", "b", "b", "b"]),
        &[1.0, 0.0, 1.0, 0.0, 1.0],
        &[0.0, 0.0, 1.0, 0.0, 1.0],
    );
    cases
}

#[test]
fn fairness_metrics_match_fairlearn() {
    let Some((py, version)) = common::python("fairlearn", "fairlearn.__version__") else {
        return;
    };
    let cases = build_cases();
    let path = std::env::temp_dir().join(format!(
        "capstan-fairness-oracle-{}.txt",
        std::process::id()
    ));
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
        let mut parts = line.split_whitespace();
        let (Some(id), Some(key)) = (parts.next(), parts.next()) else {
            continue;
        };
        if key == "groups" {
            let theirs: Vec<String> = parts.map(str::to_string).collect();
            if cases.groups.get(id) != Some(&theirs) {
                failures.push(format!(
                    "{id}: groups {:?} vs fairlearn {theirs:?}",
                    cases.groups.get(id)
                ));
            }
            continue;
        }
        let theirs: Vec<f64> = parts.map(|v| v.parse().expect("python float")).collect();
        let Some(ours) = cases.ours.get(&(id.to_string(), key.to_string())) else {
            failures.push(format!(
                "{id} {key}: fairlearn reported a value we did not compute"
            ));
            continue;
        };
        compared += 1;
        if ours.len() != theirs.len() {
            failures.push(format!("{id} {key}: ours {ours:?} vs fairlearn {theirs:?}"));
            continue;
        }
        for (&a, &b) in ours.iter().zip(&theirs) {
            if a.is_nan() && b.is_nan() {
                continue;
            }
            let diff = (a - b).abs();
            max_diff = max_diff.max(diff);
            // nan on one side only gives a nan difference, which fails too.
            if diff.is_nan() || diff > TOL {
                failures.push(format!("{id} {key}: ours {a:e} vs fairlearn {b:e}"));
            }
        }
    }
    assert_eq!(
        compared,
        cases.ours.len(),
        "fairlearn answered {compared} of {} values",
        cases.ours.len()
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("fairlearn {version}: {compared} values agree; max abs diff {max_diff:e}");
}
