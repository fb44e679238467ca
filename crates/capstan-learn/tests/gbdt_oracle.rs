//! Accuracy against LightGBM on real data (80/20 split, 100 rounds, lr 0.1, 31 leaves).

mod support;

use std::time::Instant;

use capstan_learn::Task;
use capstan_learn::gbdt::{self, GbdtParams};
use serde_json::json;
use support::*;

struct Outcome {
    ours: Vec<f64>,
    lightgbm: Vec<f64>,
    y_test: Vec<f64>,
}

fn run(name: &str, objective: serde_json::Value) -> Option<Outcome> {
    let py = python()?;
    let d = load(name);
    let (train_rows, test_rows) = split(d.x.n_rows, 0.2, 42);
    let (xtr, ytr) = subset(&d, &train_rows);
    let (xte, yte) = subset(&d, &test_rows);
    let params = GbdtParams::default();
    let t = Instant::now();
    let model = gbdt::fit((&xtr, &ytr), None, d.task, &params, &mut |_| {}).expect("fit");
    eprintln!(
        "{name}: capstan fit {:.2} s, {} trees",
        t.elapsed().as_secs_f64(),
        model.n_trees()
    );
    let ours = model.predict(&xte).values;
    let mut lgb = json!({
        "num_iterations": 100, "learning_rate": 0.1, "num_leaves": 31,
        "num_threads": 1, "deterministic": true, "seed": 0, "verbose": -1,
        "categorical_feature": categorical_columns(&xtr),
    });
    if let (Some(l), Some(o)) = (lgb.as_object_mut(), objective.as_object()) {
        l.extend(o.clone());
    }
    let t = Instant::now();
    let lightgbm = lightgbm_predict(&py, name, (&xtr, &ytr), (&xte, &yte), lgb);
    eprintln!(
        "{name}: lightgbm (python, incl. start) {:.2} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(lightgbm.len(), ours.len());
    let max_diff = ours
        .iter()
        .zip(&lightgbm)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    eprintln!("{name}: largest prediction difference {max_diff:.3e}");
    Some(Outcome {
        ours,
        lightgbm,
        y_test: yte,
    })
}

#[test]
fn california_housing_rmse_matches_lightgbm() {
    let Some(o) = run("california_housing", json!({"objective": "regression"})) else {
        return;
    };
    let (ours, theirs) = (rmse(&o.y_test, &o.ours), rmse(&o.y_test, &o.lightgbm));
    eprintln!("california_housing rmse: capstan {ours:.1}, lightgbm {theirs:.1}");
    assert!(
        (ours - theirs).abs() / theirs <= 0.02,
        "rmse {ours} vs lightgbm {theirs}"
    );
}

#[test]
fn adult_auc_matches_lightgbm() {
    let Some(o) = run("adult", json!({"objective": "binary"})) else {
        return;
    };
    let (ours, theirs) = (auc(&o.y_test, &o.ours), auc(&o.y_test, &o.lightgbm));
    eprintln!("adult auc: capstan {ours:.5}, lightgbm {theirs:.5}");
    assert!(
        (ours - theirs).abs() <= 0.005,
        "auc {ours} vs lightgbm {theirs}"
    );
}

#[test]
fn letter_accuracy_matches_lightgbm() {
    let Some(o) = run(
        "letter",
        json!({"objective": "multiclass", "num_class": 26}),
    ) else {
        return;
    };
    let k = 26;
    assert_eq!(load("letter").task, Task::Multiclass { n_classes: k });
    let (ours, theirs) = (
        accuracy(&o.y_test, &o.ours, k),
        accuracy(&o.y_test, &o.lightgbm, k),
    );
    eprintln!("letter accuracy: capstan {ours:.4}, lightgbm {theirs:.4}");
    assert!(
        (ours - theirs).abs() <= 0.005,
        "accuracy {ours} vs lightgbm {theirs}"
    );
}
