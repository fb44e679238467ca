//! Missing values, unseen categories, early stopping, importance, and bad input.

mod support;

use capstan_frame::{FeatureKind, Matrix};
use capstan_learn::gbdt::{self, GbdtModel, GbdtParams, ImportanceKind, Objective};
use capstan_learn::{LearnError, Task};
use support::*;

fn params(n_trees: usize) -> GbdtParams {
    GbdtParams {
        n_trees,
        ..GbdtParams::default()
    }
}

#[test]
fn missing_values_follow_the_learned_direction() {
    // total_bedrooms has missing values in california_housing.
    let d = load("california_housing");
    let f =
        d.x.feature_names
            .iter()
            .position(|n| n == "total_bedrooms")
            .expect("column");
    let model = gbdt::fit((&d.x, &d.y), None, d.task, &params(30), &mut |_| {}).expect("fit");
    let used_nan_feature = model
        .trees
        .iter()
        .any(|t| t.split_feature.contains(&(f as u32)));
    assert!(used_nan_feature);
    // A row of all-missing values still reaches a leaf in every tree.
    let mut blank = Matrix::new(1, d.x.feature_names.clone(), vec![f64::NAN; d.x.n_cols]);
    blank.feature_kinds = d.x.feature_kinds.clone();
    let p = model.predict(&blank).values[0];
    assert!(p.is_finite());
    // Rows with a missing total_bedrooms predict like the training scores say.
    let missing: Vec<usize> = (0..d.x.n_rows)
        .filter(|&i| d.x.get(i, f).is_nan())
        .collect();
    assert!(!missing.is_empty());
    let (xm, ym) = subset(&d, &missing);
    let rmse_missing = rmse(&ym, &model.predict(&xm).values);
    let rmse_all = rmse(&d.y, &model.predict(&d.x).values);
    assert!(
        rmse_missing < 2.0 * rmse_all,
        "missing rows {rmse_missing} vs all {rmse_all}"
    );
}

fn nan_row_except(n: usize, j: usize, v: f64) -> Vec<f64> {
    let mut row = vec![f64::NAN; n];
    row[j] = v;
    row
}

#[test]
fn unseen_negative_and_missing_categories_go_right() {
    let d = load("adult");
    let (train, test) = split(d.x.n_rows, 0.5, 9);
    let (xtr, ytr) = subset(&d, &train);
    let model = gbdt::fit((&xtr, &ytr), None, d.task, &params(20), &mut |_| {}).expect("fit");
    let mut cat_splits = 0;
    for tree in &model.trees {
        for i in 0..tree.n_nodes() {
            if tree.cat_index[i] >= 0 {
                cat_splits += 1;
                for code in [f64::NAN, -1.0, 1e9, 4096.0] {
                    let row = nan_row_except(d.x.n_cols, tree.split_feature[i] as usize, code);
                    assert!(!tree_goes_left(tree, i, &row), "code {code} went left");
                }
            }
        }
    }
    assert!(cat_splits > 0);
    // Replacing a categorical column by unseen codes gives the same predictions as NaN.
    let (mut unseen, _) = subset(&d, &test);
    let mut missing = unseen.clone();
    let occupation =
        d.x.feature_names
            .iter()
            .position(|n| n == "occupation")
            .expect("column");
    let FeatureKind::Categorical { n_categories } = d.x.feature_kinds[occupation] else {
        panic!("occupation is categorical")
    };
    for i in 0..unseen.n_rows {
        unseen.data[i * unseen.n_cols + occupation] = f64::from(n_categories + 7);
        missing.data[i * missing.n_cols + occupation] = f64::NAN;
    }
    assert_eq!(model.predict(&unseen), model.predict(&missing));
}

/// Whether node `i` sends `row` left, by comparing the children's leaf sets.
fn tree_goes_left(tree: &gbdt::Tree, i: usize, row: &[f64]) -> bool {
    let x = row[tree.split_feature[i] as usize];
    if tree.cat_index[i] < 0 {
        return if x.is_nan() {
            tree.default_left[i]
        } else {
            x <= tree.threshold[i]
        };
    }
    let k = tree.cat_index[i] as usize;
    let words =
        &tree.cat_bitset[tree.cat_boundaries[k] as usize..tree.cat_boundaries[k + 1] as usize];
    if x.is_nan() || x < 0.0 {
        return false;
    }
    let code = x as usize;
    words
        .get(code / 32)
        .is_some_and(|w| (w >> (code % 32)) & 1 == 1)
}

#[test]
fn early_stopping_keeps_the_best_iteration() {
    let d = load("adult");
    let (train, valid) = split(d.x.n_rows, 0.3, 4);
    let (xtr, ytr) = subset(&d, &train);
    let (xva, yva) = subset(&d, &valid);
    let p = GbdtParams {
        n_trees: 400,
        learning_rate: 0.5,
        early_stopping_rounds: Some(5),
        ..GbdtParams::default()
    };
    // (round, trees so far, validation loss, training loss)
    let mut seen: Vec<(usize, usize, Option<f64>, f64)> = Vec::new();
    let model = gbdt::fit((&xtr, &ytr), Some((&xva, &yva)), d.task, &p, &mut |it| {
        seen.push((it.iteration, it.n_trees, it.valid_loss, it.train_loss()))
    })
    .expect("fit");
    let best = model.best_iteration.expect("best iteration");
    assert!(seen.len() < 400, "should stop early, ran {}", seen.len());
    assert_eq!(seen.len(), best + 5, "stops 5 rounds after the best");
    let losses: Vec<f64> = seen.iter().map(|it| it.2.expect("valid loss")).collect();
    let argmin = (0..losses.len()).fold(0, |a, i| if losses[i] < losses[a] { i } else { a });
    assert_eq!(best, argmin + 1);
    assert_eq!(model.n_trees(), best);
    // The kept model scores the validation set with the best loss.
    let p1: Vec<f64> = model.predict(&xva).values;
    let logloss = yva
        .iter()
        .zip(&p1)
        .map(|(&y, &p)| -(y * p.ln() + (1.0 - y) * (1.0 - p).ln()))
        .sum::<f64>()
        / yva.len() as f64;
    assert!(
        (logloss - losses[argmin]).abs() < 1e-9,
        "{logloss} vs {}",
        losses[argmin]
    );
    // Iterations are reported in order with a training loss that keeps falling.
    assert!(
        seen.iter()
            .enumerate()
            .all(|(i, it)| it.0 == i && it.1 == i + 1)
    );
    assert!(seen[seen.len() - 1].3 < seen[0].3);
}

#[test]
fn multiclass_grows_one_tree_per_class_per_round_and_reports_importance() {
    let d = load("letter");
    let (train, _) = split(d.x.n_rows, 0.75, 2);
    let (x, y) = subset(&d, &train);
    let model = gbdt::fit((&x, &y), None, d.task, &params(3), &mut |_| {}).expect("fit");
    assert_eq!(model.n_trees(), 3 * 26);
    let p = model.predict(&x);
    assert_eq!(p.n_outputs, 26);
    assert!((p.row(0).iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let splits = model.feature_importance(ImportanceKind::Split);
    let n_nodes: usize = model.trees.iter().map(|t| t.n_nodes()).sum();
    assert_eq!(splits.iter().sum::<f64>(), n_nodes as f64);
    assert!(
        model
            .feature_importance(ImportanceKind::Gain)
            .iter()
            .all(|&g| g >= 0.0)
    );
}

fn small() -> (Matrix, Vec<f64>) {
    let d = load("california_housing");
    let rows: Vec<usize> = (0..200).collect();
    subset(&d, &rows)
}

fn param_error(p: GbdtParams) -> &'static str {
    let (x, y) = small();
    match gbdt::fit((&x, &y), None, Task::Regression, &p, &mut |_| {}) {
        Err(LearnError::InvalidParam { name, message }) => {
            assert!(!message.is_empty() && message == message.to_lowercase());
            name
        }
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[test]
fn bad_params_are_rejected_by_name() {
    let d = GbdtParams::default;
    assert_eq!(
        param_error(GbdtParams {
            learning_rate: 0.0,
            ..d()
        }),
        "learning_rate"
    );
    assert_eq!(
        param_error(GbdtParams {
            learning_rate: f64::NAN,
            ..d()
        }),
        "learning_rate"
    );
    assert_eq!(
        param_error(GbdtParams {
            num_leaves: 1,
            ..d()
        }),
        "num_leaves"
    );
    assert_eq!(param_error(GbdtParams { max_bins: 1, ..d() }), "max_bins");
    assert_eq!(
        param_error(GbdtParams {
            counts_from_hessian: false,
            ..d()
        }),
        "counts_from_hessian"
    );
    assert_eq!(
        param_error(GbdtParams {
            max_bins: 256,
            ..d()
        }),
        "max_bins"
    );
    assert_eq!(
        param_error(GbdtParams {
            feature_fraction: 0.0,
            ..d()
        }),
        "feature_fraction"
    );
    assert_eq!(
        param_error(GbdtParams {
            bagging_fraction: 1.5,
            ..d()
        }),
        "bagging_fraction"
    );
    assert_eq!(
        param_error(GbdtParams {
            lambda_l2: -1.0,
            ..d()
        }),
        "lambda_l2"
    );
    assert_eq!(
        param_error(GbdtParams {
            max_depth: Some(0),
            ..d()
        }),
        "max_depth"
    );
    assert_eq!(
        param_error(GbdtParams {
            early_stopping_rounds: Some(3),
            ..d()
        }),
        "early_stopping_rounds"
    );
}

fn data_error(x: &Matrix, y: &[f64], task: Task) -> String {
    match gbdt::fit((x, y), None, task, &params(2), &mut |_| {}) {
        Err(LearnError::InvalidData(m)) => {
            assert_eq!(m, m.to_lowercase());
            m
        }
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn bad_data_is_rejected_with_a_clear_message() {
    let (x, y) = small();
    let empty = Matrix::new(0, x.feature_names.clone(), Vec::new());
    assert!(data_error(&empty, &[], Task::Regression).contains("zero rows"));
    let mut bad_y = y.clone();
    bad_y[3] = f64::NAN;
    assert!(data_error(&x, &bad_y, Task::Regression).contains("row 3"));
    let classes: Vec<f64> = (0..x.n_rows).map(|i| (i % 3) as f64).collect();
    assert!(data_error(&x, &classes, Task::Binary).contains("out of range"));
    assert!(data_error(&x, &classes, Task::Multiclass { n_classes: 2 }).contains("out of range"));
    let mut inf_x = x.clone();
    inf_x.data[5 * x.n_cols + 1] = f64::INFINITY;
    let m = data_error(&inf_x, &y, Task::Regression);
    assert!(m.contains("infinite") && m.contains("row 5"), "{m}");
    assert!(data_error(&x, &y[1..], Task::Regression).contains("targets"));
    let mut bad_code = x.clone();
    let cat = bad_code
        .feature_kinds
        .iter()
        .position(|k| matches!(k, FeatureKind::Categorical { .. }))
        .expect("a categorical column");
    bad_code.data[cat] = 99.0;
    assert!(data_error(&bad_code, &y, Task::Regression).contains("category code"));
}

#[test]
fn predicting_with_fewer_columns_reads_missing_instead_of_panicking() {
    let (x, y) = small();
    let model = gbdt::fit((&x, &y), None, Task::Regression, &params(5), &mut |_| {}).expect("fit");
    let narrow = Matrix::new(2, vec!["a".into()], vec![1.0, 2.0]);
    assert!(model.predict(&narrow).values.iter().all(|v| v.is_finite()));
    let zero = gbdt::fit((&x, &y), None, Task::Regression, &params(0), &mut |_| {}).expect("fit");
    assert_eq!(zero.n_trees(), 0);
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    assert!((zero.predict(&x).values[0] - mean).abs() < 1e-6);
}

#[test]
fn a_corrupted_model_predicts_nan_instead_of_panicking() {
    let (x, y) = small();
    let model = gbdt::fit((&x, &y), None, Task::Regression, &params(3), &mut |_| {}).expect("fit");
    let mut broken = model.clone();
    broken.trees[0].left_child[0] = 1_000;
    assert!(broken.validate().is_err());
    assert!(broken.predict(&x).values.iter().all(|v| v.is_nan()));
    let mut broken = model.clone();
    broken.trees[1].split_feature[0] = 999;
    assert!(broken.validate().is_err());
    let mut broken = model;
    broken.init_scores.push(0.0);
    assert!(broken.validate().is_err());
}

#[test]
fn bad_objective_params_are_rejected_by_name() {
    let with = |objective, alpha, power| GbdtParams {
        objective,
        alpha,
        tweedie_variance_power: power,
        n_trees: 2,
        ..GbdtParams::default()
    };
    assert_eq!(
        param_error(with(Objective::Tweedie, 0.9, 2.0)),
        "tweedie_variance_power"
    );
    assert_eq!(
        param_error(with(Objective::Tweedie, 0.9, 0.5)),
        "tweedie_variance_power"
    );
    assert_eq!(param_error(with(Objective::Quantile, 1.0, 1.5)), "alpha");
    assert_eq!(param_error(with(Objective::Quantile, 0.0, 1.5)), "alpha");
    assert_eq!(param_error(with(Objective::Huber, 0.0, 1.5)), "alpha");
    assert_eq!(param_error(with(Objective::Huber, f64::NAN, 1.5)), "alpha");
    // Parameters of other objectives are not checked.
    let (x, y) = small();
    gbdt::fit(
        (&x, &y),
        None,
        Task::Regression,
        &with(Objective::L1, 7.0, 9.0),
        &mut |_| {},
    )
    .expect("l1 ignores alpha and the tweedie power");
    // A regression objective with a classification task.
    let yb: Vec<f64> = y.iter().map(|&v| f64::from(v > 200_000.0)).collect();
    match gbdt::fit(
        (&x, &yb),
        None,
        Task::Binary,
        &with(Objective::Poisson, 0.9, 1.5),
        &mut |_| {},
    ) {
        Err(LearnError::InvalidParam { name, message }) => {
            assert_eq!(name, "objective");
            assert!(
                message.contains("poisson") && message.contains("binary"),
                "{message}"
            );
        }
        other => panic!("expected an objective error, got {other:?}"),
    }
}

#[test]
fn log_link_objectives_reject_targets_out_of_range() {
    let (x, mut y) = small();
    let fit = |objective, y: &[f64]| {
        let p = GbdtParams {
            objective,
            n_trees: 2,
            ..GbdtParams::default()
        };
        gbdt::fit((&x, y), None, Task::Regression, &p, &mut |_| {})
    };
    y[17] = -1.0;
    for objective in [Objective::Poisson, Objective::Tweedie, Objective::Gamma] {
        match fit(objective, &y) {
            Err(LearnError::InvalidData(m)) => {
                assert!(m.contains("row 17") && m.contains(objective.name()), "{m}")
            }
            other => panic!("expected a target error, got {other:?}"),
        }
    }
    y[17] = 0.0;
    fit(Objective::Poisson, &y).expect("poisson takes zero counts");
    assert!(
        matches!(fit(Objective::Gamma, &y), Err(LearnError::InvalidData(m)) if m.contains("> 0"))
    );
    let zeros = vec![0.0; y.len()];
    assert!(
        matches!(fit(Objective::Tweedie, &zeros), Err(LearnError::InvalidData(m)) if m.contains("all zero"))
    );
}

#[test]
fn objective_survives_serialization_and_old_models_read_as_l2() {
    let d = load("bike_sharing_hourly");
    let rows: Vec<usize> = (0..2000).collect();
    let (x, y) = subset(&d, &rows);
    let p = GbdtParams {
        objective: Objective::Poisson,
        n_trees: 20,
        ..GbdtParams::default()
    };
    let model = gbdt::fit((&x, &y), None, Task::Regression, &p, &mut |_| {}).expect("fit");
    let raw = model.predict_raw(&x).values;
    let pred = model.predict(&x).values;
    for (r, p) in raw.iter().zip(&pred) {
        assert!((r.exp() - p).abs() <= 1e-9 * p, "exp link: {r} -> {p}");
    }
    let json = serde_json::to_string(&model).expect("serialize");
    let back: GbdtModel = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back.objective, Objective::Poisson);
    assert_eq!(back.predict(&x).values, pred);
    // A model written before objectives existed has no field: plain L2, identity output.
    let mut old: serde_json::Value = serde_json::from_str(&json).expect("json");
    old.as_object_mut().expect("object").remove("objective");
    let old: GbdtModel = serde_json::from_value(old).expect("old model");
    assert_eq!(old.objective, Objective::Auto);
    assert_eq!(old.predict(&x).values, raw);
    // Default-objective models serialize as before (no field).
    let l2 = gbdt::fit((&x, &y), None, Task::Regression, &params(3), &mut |_| {}).expect("fit");
    assert!(
        !serde_json::to_string(&l2)
            .expect("serialize")
            .contains("objective")
    );
}
