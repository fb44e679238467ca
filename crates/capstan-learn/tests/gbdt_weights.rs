//! Sample and class weights: parity with LightGBM on real data, neutral all-ones weights,
//! determinism across thread counts, and bad weights refused.

mod support;

use std::collections::BTreeMap;

use capstan_learn::gbdt::{self, ClassWeight, ClassWeightMode, GbdtModel, GbdtParams, Objective};
use capstan_learn::{LearnError, Task};
use serde_json::json;
use support::*;

/// `1 + (row % 3)`: weights 1, 2, 3 in turn.
fn cyclic_weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| 1.0 + (i % 3) as f64).collect()
}

fn fit(
    x: &capstan_frame::Matrix,
    y: &[f64],
    w: Option<&[f64]>,
    task: Task,
    p: &GbdtParams,
) -> GbdtModel {
    match w {
        Some(w) => gbdt::fit_weighted((x, y), w, None, task, p, &mut |_| {}),
        None => gbdt::fit((x, y), None, task, p, &mut |_| {}),
    }
    .expect("fit")
}

/// Largest difference relative to `max(|lightgbm|, 1e-3)`.
fn max_relative_diff(ours: &[f64], theirs: &[f64]) -> f64 {
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1e-3))
        .fold(0.0, f64::max)
}

/// Fits both sides with weights `w(train rows)` and returns (ours, lightgbm, test targets).
fn against_lightgbm(
    name: &str,
    params: &GbdtParams,
    lgb_extra: serde_json::Value,
    weights: impl Fn(&[f64]) -> Vec<f64>,
) -> Option<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let py = python()?;
    let d = load(name);
    let (train_rows, test_rows) = split(d.x.n_rows, 0.2, 42);
    let (xtr, ytr) = subset(&d, &train_rows);
    let (xte, yte) = subset(&d, &test_rows);
    let w = weights(&ytr);
    let ours = fit(&xtr, &ytr, Some(&w), d.task, params)
        .predict(&xte)
        .values;
    let mut lgb = json!({
        "num_iterations": 100, "learning_rate": 0.1, "num_leaves": 31,
        "num_threads": 1, "deterministic": true, "seed": 0, "verbose": -1,
        "categorical_feature": categorical_columns(&xtr),
    });
    if let (Some(l), Some(o)) = (lgb.as_object_mut(), lgb_extra.as_object()) {
        l.extend(o.clone());
    }
    // Tests run in parallel: one scratch directory per data set and weighting.
    let tag = format!("weights-{name}-{}", params.class_weight.is_some());
    let theirs = lightgbm_predict_weighted(&py, &tag, (&xtr, &ytr), Some(&w), (&xte, &yte), lgb);
    assert_eq!(ours.len(), theirs.len());
    eprintln!(
        "{name} weighted: largest relative prediction difference {:.3e}",
        max_relative_diff(&ours, &theirs)
    );
    Some((ours, theirs, yte))
}

#[test]
fn weighted_california_housing_matches_lightgbm() {
    let Some((ours, theirs, y)) = against_lightgbm(
        "california_housing",
        &GbdtParams::default(),
        json!({"objective": "regression"}),
        |y| cyclic_weights(y.len()),
    ) else {
        return;
    };
    let (a, b) = (rmse(&y, &ours), rmse(&y, &theirs));
    eprintln!("california_housing weighted rmse: capstan {a:.3}, lightgbm {b:.3}");
    assert!((a - b).abs() / b <= 0.005, "rmse {a} vs lightgbm {b}");
}

#[test]
fn weighted_adult_matches_lightgbm() {
    let Some((ours, theirs, y)) = against_lightgbm(
        "adult",
        &GbdtParams::default(),
        json!({"objective": "binary"}),
        |y| cyclic_weights(y.len()),
    ) else {
        return;
    };
    let (a, b) = (auc(&y, &ours), auc(&y, &theirs));
    eprintln!("adult weighted auc: capstan {a:.6}, lightgbm {b:.6}");
    // Integer weights on adult reach LightGBM's trees: probabilities agree to 1e-6.
    let diff = max_relative_diff(&ours, &theirs);
    assert!(diff <= 1e-6, "largest relative difference {diff}");
    assert!((a - b).abs() <= 1e-5, "auc {a} vs lightgbm {b}");
}

/// `balanced` class weights equal LightGBM trained on scikit-learn's balanced sample weights.
#[test]
fn balanced_class_weight_on_adult_matches_lightgbm() {
    let params = GbdtParams {
        class_weight: Some(ClassWeight::Mode(ClassWeightMode::Balanced)),
        ..GbdtParams::default()
    };
    let Some((ours, theirs, y)) =
        against_lightgbm("adult", &params, json!({"objective": "binary"}), |y| {
            let pos = y.iter().filter(|&&v| v > 0.5).count() as f64;
            let n = y.len() as f64;
            y.iter()
                .map(|&v| {
                    if v > 0.5 {
                        n / (2.0 * pos)
                    } else {
                        n / (2.0 * (n - pos))
                    }
                })
                .collect()
        })
    else {
        return;
    };
    let (a, b) = (auc(&y, &ours), auc(&y, &theirs));
    eprintln!("adult balanced auc: capstan {a:.6}, lightgbm {b:.6}");
    assert!((a - b).abs() <= 0.002, "auc {a} vs lightgbm {b}");
}

#[test]
fn all_ones_weights_give_the_unweighted_model() {
    for (name, objective) in [
        ("adult", Objective::Auto),
        ("california_housing", Objective::L2),
        ("california_housing", Objective::Gamma),
        ("letter", Objective::Auto),
    ] {
        let d = load(name);
        let (rows, _) = split(d.x.n_rows, 0.7, 1);
        let (x, y) = subset(&d, &rows);
        let p = GbdtParams {
            n_trees: 10,
            objective,
            ..GbdtParams::default()
        };
        let plain = fit(&x, &y, None, d.task, &p);
        let ones = fit(&x, &y, Some(&vec![1.0; y.len()]), d.task, &p);
        assert_eq!(
            plain,
            ones,
            "{name} {}: all-ones weights changed the model",
            objective.name()
        );
        if d.task != Task::Regression {
            let table = GbdtParams {
                class_weight: Some(ClassWeight::Table(BTreeMap::from([("1".into(), 1.0)]))),
                ..p.clone()
            };
            assert_eq!(
                plain,
                fit(&x, &y, None, d.task, &table),
                "{name}: unit class weights"
            );
        }
    }
}

#[test]
fn weights_change_the_model() {
    let d = load("adult");
    let (rows, _) = split(d.x.n_rows, 0.7, 1);
    let (x, y) = subset(&d, &rows);
    let p = GbdtParams {
        n_trees: 10,
        ..GbdtParams::default()
    };
    let plain = fit(&x, &y, None, d.task, &p);
    let weighted = fit(&x, &y, Some(&cyclic_weights(y.len())), d.task, &p);
    assert_ne!(plain.init_scores, weighted.init_scores);
    assert_ne!(plain, weighted);
}

#[test]
fn weighted_model_is_bit_identical_for_1_and_2_threads() {
    let d = load("adult");
    let (rows, _) = split(d.x.n_rows, 0.6, 1);
    let (x, y) = subset(&d, &rows);
    let w = cyclic_weights(y.len());
    let p = GbdtParams {
        n_trees: 20,
        num_leaves: 63,
        bagging_fraction: 0.7,
        bagging_freq: 1,
        class_weight: Some(ClassWeight::Mode(ClassWeightMode::Balanced)),
        seed: 5,
        ..GbdtParams::default()
    };
    let json: Vec<String> = [1, 2]
        .iter()
        .map(|&t| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .expect("pool");
            let m = pool.install(|| fit(&x, &y, Some(&w), d.task, &p));
            serde_json::to_string(&m).expect("json")
        })
        .collect();
    assert_eq!(json[0], json[1], "1 vs 2 threads");
}

#[test]
fn bad_weights_are_refused() {
    let d = load("california_housing");
    let (rows, _) = split(d.x.n_rows, 0.9, 1);
    let (x, y) = subset(&d, &rows);
    let p = GbdtParams {
        n_trees: 2,
        ..GbdtParams::default()
    };
    let err = |w: &[f64], p: &GbdtParams| {
        gbdt::fit_weighted((&x, &y), w, None, d.task, p, &mut |_| {})
            .expect_err("bad weights")
            .to_string()
    };
    let mut w = vec![1.0; y.len()];
    w[7] = -1.0;
    let e = err(&w, &p);
    assert!(e.contains("row 7") && e.contains("-1"), "{e}");
    w[7] = f64::NAN;
    assert!(err(&w, &p).contains("row 7"));
    assert!(err(&w[1..], &p).contains("weights"));
    let e = err(&vec![0.0; y.len()], &p);
    assert!(e.contains("sum to zero"), "{e}");
    let l1 = GbdtParams {
        objective: Objective::L1,
        ..p.clone()
    };
    assert!(err(&vec![1.0; y.len()], &l1).contains("l1"));
    let cw = GbdtParams {
        class_weight: Some(ClassWeight::Mode(ClassWeightMode::Balanced)),
        ..p
    };
    let r = gbdt::fit((&x, &y), None, d.task, &cw, &mut |_| {});
    assert!(
        matches!(
            r,
            Err(LearnError::InvalidParam {
                name: "class_weight",
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn class_weight_reads_from_toml_shapes() {
    let p: GbdtParams =
        serde_json::from_value(json!({"class_weight": "balanced"})).expect("balanced");
    assert_eq!(
        p.class_weight,
        Some(ClassWeight::Mode(ClassWeightMode::Balanced))
    );
    let p: GbdtParams =
        serde_json::from_value(json!({"class_weight": {"0": 1.0, "1": 5.0}})).expect("table");
    let Some(ClassWeight::Table(t)) = p.class_weight else {
        panic!("expected a table, found {:?}", p.class_weight);
    };
    assert_eq!(t.get("1"), Some(&5.0));
    assert!(serde_json::from_value::<GbdtParams>(json!({"class_weight": "heavy"})).is_err());
    // Unset, it is not written (configs and their hashes stay as before).
    let text = serde_json::to_string(&GbdtParams::default()).expect("json");
    assert!(!text.contains("class_weight"));
}
