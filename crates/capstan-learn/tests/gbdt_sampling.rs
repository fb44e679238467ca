//! Row and column sampling beyond bagging: per-node feature sampling
//! (`feature_fraction_bynode`). LightGBM draws from other random streams, so models are
//! compared by test metric, not tree by tree.

mod support;

use capstan_learn::gbdt::{self, GbdtModel, GbdtParams};
use capstan_learn::{LearnError, Task};
use serde_json::json;
use support::*;

fn fit(x: &capstan_frame::Matrix, y: &[f64], task: Task, p: &GbdtParams) -> GbdtModel {
    gbdt::fit((x, y), None, task, p, &mut |_| {}).expect("fit")
}

/// Test metric of ours and LightGBM's on an 80/20 split (AUC for binary, RMSE otherwise).
fn against_lightgbm(
    name: &str,
    tag: &str,
    params: &GbdtParams,
    extra: serde_json::Value,
) -> Option<(f64, f64)> {
    let py = python()?;
    let d = load(name);
    let (train_rows, test_rows) = split(d.x.n_rows, 0.2, 42);
    let (xtr, ytr) = subset(&d, &train_rows);
    let (xte, yte) = subset(&d, &test_rows);
    let ours = fit(&xtr, &ytr, d.task, params).predict(&xte).values;
    let objective = if d.task == Task::Binary {
        "binary"
    } else {
        "regression"
    };
    let mut lgb = lightgbm_params(params, &xtr, extra.clone());
    lgb["objective"] = json!(objective);
    // Tests run in parallel: one scratch directory per data set and sampling.
    let tag = format!("sampling-{name}-{tag}");
    let theirs = lightgbm_predict(&py, &tag, (&xtr, &ytr), (&xte, &yte), lgb);
    let metric = |p: &[f64]| {
        if d.task == Task::Binary {
            auc(&yte, p)
        } else {
            rmse(&yte, p)
        }
    };
    Some((metric(&ours), metric(&theirs)))
}

#[test]
fn per_node_sampling_matches_lightgbm_accuracy() {
    let params = GbdtParams {
        feature_fraction_bynode: 0.5,
        ..GbdtParams::default()
    };
    let extra = json!({"feature_fraction_bynode": 0.5});
    if let Some((ours, theirs)) = against_lightgbm("adult", "bynode", &params, extra.clone()) {
        eprintln!("adult bynode 0.5 auc: capstan {ours:.5}, lightgbm {theirs:.5}");
        assert!((ours - theirs).abs() <= 0.003, "auc {ours} vs {theirs}");
    }
    if let Some((ours, theirs)) = against_lightgbm("california_housing", "bynode", &params, extra) {
        eprintln!("california bynode 0.5 rmse: capstan {ours:.1}, lightgbm {theirs:.1}");
        assert!(
            (ours - theirs).abs() / theirs <= 0.02,
            "rmse {ours} vs {theirs}"
        );
    }
}

/// Distinct features at the roots of a model's trees.
fn root_features(m: &GbdtModel) -> Vec<u32> {
    let mut roots: Vec<u32> = m
        .trees
        .iter()
        .filter_map(|t| t.split_feature.first().copied())
        .collect();
    roots.sort_unstable();
    roots.dedup();
    roots
}

#[test]
fn per_node_sampling_draws_the_root_features() {
    let d = load("adult");
    let base = GbdtParams {
        n_trees: 30,
        ..GbdtParams::default()
    };
    let all = fit(&d.x, &d.y, d.task, &base);
    // 14 features, 0.1: 2 searched per node
    let few = fit(
        &d.x,
        &d.y,
        d.task,
        &GbdtParams {
            feature_fraction_bynode: 0.1,
            ..base.clone()
        },
    );
    let (r_all, r_few) = (root_features(&all), root_features(&few));
    eprintln!("root features: all {r_all:?}, 2 per node {r_few:?}");
    assert!(r_all.len() <= 3, "{r_all:?}");
    assert!(r_few.len() >= 6, "{r_few:?}");
    // a fraction that keeps every feature (round(14 * 0.97) = 14) changes nothing
    let keep_all = fit(
        &d.x,
        &d.y,
        d.task,
        &GbdtParams {
            feature_fraction_bynode: 0.97,
            ..base
        },
    );
    assert_eq!(keep_all, all);
}

fn param_error(p: GbdtParams) -> (&'static str, String) {
    let d = load("diabetes");
    match gbdt::fit((&d.x, &d.y), None, d.task, &p, &mut |_| {}) {
        Err(LearnError::InvalidParam { name, message }) => {
            assert_eq!(message, message.to_lowercase());
            (name, message)
        }
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[test]
fn bad_sampling_parameters_are_refused() {
    for v in [0.0, -0.5, 1.5, f64::NAN] {
        let (name, message) = param_error(GbdtParams {
            feature_fraction_bynode: v,
            ..GbdtParams::default()
        });
        assert_eq!(name, "feature_fraction_bynode");
        assert!(message.contains("(0, 1]"), "{message}");
    }
}

#[test]
fn sampling_keys_are_optional_and_not_written_at_their_defaults() {
    let text = serde_json::to_string(&GbdtParams::default()).expect("json");
    assert!(!text.contains("bynode"), "{text}");
    let old: GbdtParams = serde_json::from_value(json!({"n_trees": 5})).expect("old config");
    assert_eq!(old.feature_fraction_bynode, 1.0);
    let p: GbdtParams =
        serde_json::from_value(json!({"feature_fraction_bynode": 0.5})).expect("config");
    assert_eq!(p.feature_fraction_bynode, 0.5);
    let back: GbdtParams =
        serde_json::from_str(&serde_json::to_string(&p).expect("json")).expect("round trip");
    assert_eq!(back, p);
}
