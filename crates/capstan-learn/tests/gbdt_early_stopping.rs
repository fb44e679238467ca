//! Early stopping on a named validation metric: the same rounds and values as LightGBM's
//! `early_stopping` callback, a different kept round than the loss gives, metric values equal
//! to capstan-eval's maps, and bad settings refused by name.

mod support;

use capstan_eval::{MetricOptions, MetricTask, metric_by_name, metric_names};
use capstan_frame::Matrix;
use capstan_learn::gbdt::{self, GbdtModel, GbdtParams, Objective};
use capstan_learn::{LearnError, Task};
use serde_json::json;
use support::*;

/// Allowed relative difference between our per-round values and LightGBM's: counts and
/// ranks (accuracy, AUC) agree to rounding; values (losses, MAE) to the last digits in which
/// our trees' leaf values differ from LightGBM's (fixed-point vs floating gradient sums).
const RANK_TOL: f64 = 1e-12;
const VALUE_TOL: f64 = 1e-8;

struct Run {
    model: GbdtModel,
    /// The watched value after each round: the metric when set, else the loss.
    values: Vec<f64>,
}

fn fit_with_valid(
    train: (&Matrix, &[f64]),
    valid: (&Matrix, &[f64]),
    task: Task,
    p: &GbdtParams,
) -> Run {
    let mut values = Vec::new();
    let model = gbdt::fit(train, Some(valid), task, p, &mut |it| {
        let v = match p.early_stopping_metric {
            Some(_) => it.valid_metric.expect("valid metric"),
            None => it.valid_loss.expect("valid loss"),
        };
        values.push(v);
    })
    .expect("fit");
    Run { model, values }
}

/// Our run against LightGBM's: the same kept round, rounds run and values (LightGBM's
/// mapped by `theirs` onto our metric, e.g. `1 - binary_error`) within `tol`.
fn assert_same_stop(
    what: &str,
    ours: &Run,
    lgb: &LightgbmStopping,
    theirs: impl Fn(f64) -> f64,
    tol: f64,
) {
    let best = ours.model.best_iteration.expect("best iteration");
    let diff = ours
        .values
        .iter()
        .zip(&lgb.values)
        .map(|(&a, &b)| {
            let b = theirs(b);
            (a - b).abs() / b.abs().max(1e-12)
        })
        .fold(0.0, f64::max);
    eprintln!(
        "{what}: best iteration capstan {best}, lightgbm {}; rounds {} / {}; \
         largest relative metric difference {diff:.3e}",
        lgb.best_iteration,
        ours.values.len(),
        lgb.values.len()
    );
    assert_eq!(best, lgb.best_iteration, "{what}: best iteration");
    assert_eq!(ours.values.len(), lgb.values.len(), "{what}: rounds run");
    assert!(diff <= tol, "{what}: metric differs by {diff:e}");
}

/// The base LightGBM parameters of `p` (the settings under which our trees are LightGBM's).
fn lightgbm_params(x: &Matrix, p: &GbdtParams, objective: serde_json::Value) -> serde_json::Value {
    let mut lgb = json!({
        "num_iterations": p.n_trees, "learning_rate": p.learning_rate,
        "num_leaves": p.num_leaves, "num_threads": 1, "deterministic": true, "seed": 0,
        "verbose": -1, "categorical_feature": categorical_columns(x),
        "stopping_rounds": p.early_stopping_rounds,
    });
    if let (Some(l), Some(o)) = (lgb.as_object_mut(), objective.as_object()) {
        l.extend(o.clone());
    }
    lgb
}

/// Rows of a data set and their targets.
type Part = (Matrix, Vec<f64>);

/// 80/20 split of a data set: (task, train, validation).
fn train_valid(name: &str) -> (Task, Part, Part) {
    let d = load(name);
    let (train_rows, valid_rows) = split(d.x.n_rows, 0.2, 42);
    (d.task, subset(&d, &train_rows), subset(&d, &valid_rows))
}

fn with_metric(p: &GbdtParams, metric: Option<&str>) -> GbdtParams {
    GbdtParams {
        early_stopping_metric: metric.map(String::from),
        ..p.clone()
    }
}

#[test]
fn adult_stops_where_lightgbm_stops_on_auc_error_and_loss() {
    let Some(py) = python() else {
        return;
    };
    let (task, (xtr, ytr), (xva, yva)) = train_valid("adult");
    let p = GbdtParams {
        n_trees: 300,
        early_stopping_rounds: Some(5),
        ..GbdtParams::default()
    };
    let lgb = lightgbm_early_stopping(
        &py,
        "stop-adult",
        (&xtr, &ytr),
        (&xva, &yva),
        lightgbm_params(&xtr, &p, json!({"objective": "binary"})),
        &["auc", "binary_error", "binary_logloss"],
    );
    let fit = |m| fit_with_valid((&xtr, &ytr), (&xva, &yva), task, &with_metric(&p, m));
    let auc = fit(Some("roc_auc"));
    assert_same_stop("adult roc_auc", &auc, &lgb["auc"], |v| v, RANK_TOL);
    let accuracy = fit(Some("accuracy"));
    assert_same_stop(
        "adult accuracy",
        &accuracy,
        &lgb["binary_error"],
        |v| 1.0 - v,
        RANK_TOL,
    );
    let loss = fit(None);
    assert_same_stop(
        "adult log loss",
        &loss,
        &lgb["binary_logloss"],
        |v| v,
        VALUE_TOL,
    );

    // Each watched value keeps a different round: the metric matters.
    let best = |r: &Run| r.model.best_iteration.expect("best");
    let (b_auc, b_acc, b_loss) = (best(&auc), best(&accuracy), best(&loss));
    assert!(
        b_auc != b_loss && b_acc != b_loss && b_auc != b_acc,
        "kept rounds: auc {b_auc}, accuracy {b_acc}, loss {b_loss}"
    );
    // The kept model is the best round's: it scores the validation set with the best AUC.
    assert_eq!(auc.model.n_trees(), b_auc);
    let kept = metric_by_name(
        MetricTask::Binary,
        "roc_auc",
        &yva,
        &auc.model.predict(&xva).values,
        &MetricOptions::default(),
    )
    .expect("auc");
    let top = auc.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(kept, top);
    assert_eq!(kept, auc.values[b_auc - 1]);
    // The loss is still reported beside the metric.
    let mut losses = Vec::new();
    gbdt::fit(
        (&xtr, &ytr),
        Some((&xva, &yva)),
        task,
        &with_metric(
            &GbdtParams {
                n_trees: 3,
                ..p.clone()
            },
            Some("roc_auc"),
        ),
        &mut |it| losses.push(it.valid_loss),
    )
    .expect("fit");
    for (l, want) in losses.iter().zip(&loss.values) {
        assert_eq!(*l, Some(*want));
    }
}

#[test]
fn california_stops_where_lightgbm_stops_on_l1_and_l2() {
    let Some(py) = python() else {
        return;
    };
    let (task, (xtr, ytr), (xva, yva)) = train_valid("california_housing");
    let p = GbdtParams {
        n_trees: 400,
        early_stopping_rounds: Some(5),
        ..GbdtParams::default()
    };
    let lgb = lightgbm_early_stopping(
        &py,
        "stop-california",
        (&xtr, &ytr),
        (&xva, &yva),
        lightgbm_params(&xtr, &p, json!({"objective": "regression"})),
        &["l1", "l2"],
    );
    let fit = |m| fit_with_valid((&xtr, &ytr), (&xva, &yva), task, &with_metric(&p, m));
    let mae = fit(Some("mae"));
    assert_same_stop("california mae", &mae, &lgb["l1"], |v| v, VALUE_TOL);
    let loss = fit(None);
    assert_same_stop("california l2 loss", &loss, &lgb["l2"], |v| v, VALUE_TOL);
    assert_ne!(mae.model.best_iteration, loss.model.best_iteration);
}

/// Multiclass trees differ from LightGBM's from the first round (letter accuracy 0.7955 vs
/// 0.79575 after one round), so LightGBM cannot say which round to keep here. Instead: each
/// reported value equals capstan-eval's map (checked against scikit-learn in capstan-eval)
/// on the predictions of the model cut to that round, and the kept round is the first best
/// in the metric's direction, `early_stopping_rounds` before the last (LightGBM's rule,
/// checked on adult and california above).
#[test]
fn letter_keeps_the_best_round_of_accuracy_and_of_log_loss() {
    let (task, (xtr, ytr), (xva, yva)) = train_valid("letter");
    let Task::Multiclass { n_classes } = task else {
        panic!("letter is multiclass");
    };
    let p = GbdtParams {
        n_trees: 200,
        learning_rate: 0.2,
        early_stopping_rounds: Some(5),
        ..GbdtParams::default()
    };
    let fit = |m| fit_with_valid((&xtr, &ytr), (&xva, &yva), task, &with_metric(&p, m));
    let accuracy = fit(Some("accuracy"));
    let log_loss = fit(Some("log_loss"));
    let first_best = |values: &[f64], higher: bool| {
        let better = |a: f64, b: f64| if higher { a > b } else { a < b };
        (0..values.len()).fold(0, |b, i| if better(values[i], values[b]) { i } else { b }) + 1
    };
    for (run, higher) in [(&accuracy, true), (&log_loss, false)] {
        let best = run.model.best_iteration.expect("best");
        assert_eq!(best, first_best(&run.values, higher));
        assert_eq!(run.values.len(), best + 5, "stops 5 rounds after the best");
        assert_eq!(run.model.n_trees(), best * n_classes);
    }
    let (b_acc, b_loss) = (accuracy.model.best_iteration, log_loss.model.best_iteration);
    eprintln!("letter: best iteration accuracy {b_acc:?}, log_loss {b_loss:?}");
    assert_ne!(b_acc, b_loss, "accuracy and log loss keep different rounds");

    let rounds = accuracy.values.len().max(log_loss.values.len());
    let full = gbdt::fit(
        (&xtr, &ytr),
        None,
        task,
        &GbdtParams {
            n_trees: rounds,
            early_stopping_rounds: None,
            ..p.clone()
        },
        &mut |_| {},
    )
    .expect("fit");
    let labels = capstan_eval::class_indices(&yva, n_classes).expect("labels");
    for r in 1..=rounds {
        let mut cut = full.clone();
        cut.trees.truncate(r * n_classes);
        let m = capstan_eval::multiclass_metrics(&labels, &cut.predict(&xva).values, n_classes)
            .expect("metrics")
            .to_map();
        if let Some(&v) = accuracy.values.get(r - 1) {
            assert_eq!(v, m["accuracy"], "accuracy after round {r}");
        }
        if let Some(&v) = log_loss.values.get(r - 1) {
            assert_eq!(v, m["log_loss"], "log_loss after round {r}");
        }
    }
}

/// Every metric name of a task, by name, equals the value of capstan-eval's map (or the
/// `mean_*` function for deviances and the pinball loss) on real GBDT predictions.
#[test]
fn metric_by_name_equals_the_metric_maps_on_real_predictions() {
    let options = MetricOptions::default();
    let predict = |name: &str, n_trees: usize, objective: Objective| {
        let (task, (xtr, ytr), (xva, yva)) = train_valid(name);
        let p = GbdtParams {
            n_trees,
            objective,
            ..GbdtParams::default()
        };
        let model = gbdt::fit((&xtr, &ytr), None, task, &p, &mut |_| {}).expect("fit");
        (task, yva, model.predict(&xva).values)
    };

    let (_, y, p) = predict("adult", 20, Objective::Auto);
    let map = capstan_eval::binary_metrics(&y, &p, options.threshold)
        .expect("binary")
        .to_map();
    for name in metric_names(MetricTask::Binary) {
        let v = metric_by_name(MetricTask::Binary, name, &y, &p, &options).expect(name);
        assert_eq!(v, map[*name], "adult {name}");
    }

    let (task, y, p) = predict("letter", 3, Objective::Auto);
    let Task::Multiclass { n_classes } = task else {
        panic!("letter is multiclass");
    };
    let labels = capstan_eval::class_indices(&y, n_classes).expect("labels");
    let map = capstan_eval::multiclass_metrics(&labels, &p, n_classes)
        .expect("multiclass")
        .to_map();
    let multi = MetricTask::Multiclass { n_classes };
    for name in metric_names(multi) {
        let v = metric_by_name(multi, name, &y, &p, &options).expect(name);
        assert_eq!(v, map[*name], "letter {name}");
    }

    // Deviances need positive predictions: a gamma model's on california.
    let (_, y, p) = predict("california_housing", 20, Objective::Gamma);
    let mut map = capstan_eval::regression_metrics(&y, &p)
        .expect("regression")
        .to_map();
    let deviances = [
        (
            "poisson_deviance",
            capstan_eval::mean_poisson_deviance(&y, &p),
        ),
        ("gamma_deviance", capstan_eval::mean_gamma_deviance(&y, &p)),
        (
            "tweedie_deviance",
            capstan_eval::mean_tweedie_deviance(&y, &p, options.tweedie_power),
        ),
        (
            "pinball_loss",
            capstan_eval::mean_pinball_loss(&y, &p, options.alpha),
        ),
    ];
    for (name, v) in deviances {
        map.insert(name.to_string(), v.expect(name));
    }
    for name in metric_names(MetricTask::Regression) {
        let v = metric_by_name(MetricTask::Regression, name, &y, &p, &options).expect(name);
        assert_eq!(v, map[*name], "california {name}");
    }
}

/// The first rows of a data set as (train, validation) halves.
fn halves(name: &str, n: usize) -> (Task, Part, Part) {
    let d = load(name);
    let first: Vec<usize> = (0..n).collect();
    let second: Vec<usize> = (n..2 * n).collect();
    (d.task, subset(&d, &first), subset(&d, &second))
}

fn stopping(metric: &str, objective: Objective) -> GbdtParams {
    GbdtParams {
        n_trees: 3,
        objective,
        early_stopping_rounds: Some(2),
        early_stopping_metric: Some(metric.to_string()),
        ..GbdtParams::default()
    }
}

/// The message of the `early_stopping_metric` parameter error `p` gives.
fn metric_error(name: &str, p: &GbdtParams, with_valid: bool) -> String {
    let (task, (x, y), (vx, vy)) = halves(name, 300);
    let valid = with_valid.then_some((&vx, vy.as_slice()));
    match gbdt::fit((&x, &y), valid, task, p, &mut |_| {}) {
        Err(LearnError::InvalidParam {
            name: "early_stopping_metric",
            message,
        }) => {
            assert_eq!(message, message.to_lowercase());
            message
        }
        other => panic!("expected an early_stopping_metric error, got {other:?}"),
    }
}

#[test]
fn bad_stopping_metrics_are_refused_by_name() {
    let auto = Objective::Auto;
    let unknown = metric_error("adult", &stopping("auc", auto), true);
    assert_eq!(
        unknown,
        "unknown metric 'auc'; expected one of roc_auc, pr_auc, log_loss, brier, accuracy, \
         precision, recall, f1 for a binary task"
    );
    let wrong_task = metric_error("adult", &stopping("rmse", auto), true);
    assert!(
        wrong_task.starts_with("'rmse' is not a binary metric; expected one of roc_auc"),
        "{wrong_task}"
    );
    let multiclass = metric_error("letter", &stopping("roc_auc", auto), true);
    assert!(
        multiclass.ends_with(
            "expected one of accuracy, f1_macro, f1_weighted, log_loss for a multiclass task"
        ),
        "{multiclass}"
    );
    let weighted = metric_error("adult", &stopping("weighted_roc_auc", auto), true);
    assert!(weighted.contains("use 'roc_auc'"), "{weighted}");
    let deviance = metric_error(
        "california_housing",
        &stopping("poisson_deviance", auto),
        true,
    );
    assert!(deviance.contains("found 'auto'"), "{deviance}");
    let pinball = metric_error(
        "california_housing",
        &stopping("pinball_loss", Objective::L1),
        true,
    );
    assert!(pinball.contains("quantile objective"), "{pinball}");
    let no_valid = metric_error("adult", &stopping("roc_auc", auto), false);
    assert_eq!(no_valid, "needs a validation set");
    let no_rounds = GbdtParams {
        early_stopping_rounds: None,
        ..stopping("roc_auc", auto)
    };
    let message = metric_error("adult", &no_rounds, true);
    assert!(
        message.starts_with("needs early_stopping_rounds"),
        "{message}"
    );
}

#[test]
fn metrics_fitting_their_objective_are_accepted() {
    let (task, train, valid) = halves("california_housing", 300);
    for (metric, objective) in [
        ("poisson_deviance", Objective::Poisson),
        ("tweedie_deviance", Objective::Gamma),
        ("gamma_deviance", Objective::Gamma),
        ("pinball_loss", Objective::Quantile),
        ("mape", Objective::L1),
        ("r2", Objective::Auto),
    ] {
        let p = stopping(metric, objective);
        let mut reported = Vec::new();
        let model = gbdt::fit(
            (&train.0, &train.1),
            Some((&valid.0, &valid.1)),
            task,
            &p,
            &mut |it| reported.push(it.valid_metric),
        )
        .unwrap_or_else(|e| panic!("{metric} with {}: {e}", objective.name()));
        assert!(model.best_iteration.is_some());
        assert!(
            reported.iter().all(|v| v.is_some_and(f64::is_finite)),
            "{metric}: {reported:?}"
        );
    }
}

#[test]
fn a_metric_the_validation_rows_cannot_give_is_refused() {
    let (task, (x, y), (vx, _)) = halves("adult", 300);
    let one_class = vec![0.0; vx.n_rows];
    let err = gbdt::fit(
        (&x, &y),
        Some((&vx, &one_class)),
        task,
        &stopping("roc_auc", Objective::Auto),
        &mut |_| {},
    );
    match err {
        Err(LearnError::InvalidData(m)) => assert_eq!(
            m,
            "validation set cannot give early_stopping_metric 'roc_auc': roc_auc is undefined \
             on these rows: expected both classes in y_true"
        ),
        other => panic!("expected a data error, got {other:?}"),
    }
    // Gamma deviance needs targets > 0; the Poisson objective allows zeros.
    let (task, (x, y), (vx, mut vy)) = halves("california_housing", 300);
    vy[7] = 0.0;
    let err = gbdt::fit(
        (&x, &y),
        Some((&vx, &vy)),
        task,
        &stopping("gamma_deviance", Objective::Poisson),
        &mut |_| {},
    );
    assert!(
        matches!(&err, Err(LearnError::InvalidData(m)) if m.contains("y_true[7] = 0")),
        "{err:?}"
    );
}

#[test]
fn params_without_a_metric_serialize_as_before() {
    let p = GbdtParams::default();
    let json = serde_json::to_string(&p).expect("json");
    assert!(!json.contains("early_stopping_metric"), "{json}");
    // Saved before the field existed: loads as None.
    let old: GbdtParams = serde_json::from_str(r#"{"n_trees": 7}"#).expect("old params");
    assert_eq!(old.early_stopping_metric, None);
    let with = GbdtParams {
        early_stopping_metric: Some("roc_auc".into()),
        ..GbdtParams::default()
    };
    let json = serde_json::to_string(&with).expect("json");
    let back: GbdtParams = serde_json::from_str(&json).expect("round trip");
    assert_eq!(back, with);
}
