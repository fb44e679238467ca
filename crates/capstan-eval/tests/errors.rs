//! Bad input gives an `EvalError` with a lowercase message, never a panic.

use capstan_eval::{
    EvalError, average_precision, binary_metrics, brier, class_indices, confusion, holdout, kfold,
    log_loss, multiclass_metrics, regression_metrics, roc_auc, time_ordered_holdout,
    time_series_folds, try_primary_metric,
};

fn message<T: std::fmt::Debug>(result: Result<T, EvalError>) -> String {
    let err = result.expect_err("expected an error");
    let text = err.to_string();
    assert!(
        text.chars().next().is_some_and(|c| !c.is_uppercase()),
        "message should start lowercase: {text}"
    );
    text
}

#[test]
fn binary_rejects_bad_input() {
    assert_eq!(
        message(binary_metrics(&[0.0, 1.0], &[0.5], 0.5)),
        "p_pos: expected 2 values, found 1"
    );
    assert_eq!(
        message(binary_metrics(&[], &[], 0.5)),
        "y_true is empty: expected at least one row"
    );
    assert_eq!(
        message(binary_metrics(&[0.0, 2.0], &[0.5, 0.5], 0.5)),
        "y_true[1] = 2: expected a binary label 0 or 1"
    );
    assert_eq!(
        message(binary_metrics(&[0.0, 1.0], &[0.5, 1.5], 0.5)),
        "p_pos[1] = 1.5: expected a probability in [0, 1]"
    );
    assert!(message(binary_metrics(&[0.0], &[f64::NAN], 0.5)).contains("p_pos[0] = NaN"));
    assert!(message(binary_metrics(&[0.0], &[-0.1], 0.5)).contains("[0, 1]"));
    assert_eq!(
        message(binary_metrics(&[0.0], &[0.1], f64::NAN)),
        "threshold = NaN: expected a number, found nan"
    );
    assert!(roc_auc(&[1.0], &[0.1, 0.2]).is_err());
    assert!(average_precision(&[], &[]).is_err());
    assert!(log_loss(&[0.5], &[0.1]).is_err());
    assert!(brier(&[1.0], &[7.0]).is_err());
    assert!(confusion(&[1.0], &[0.1], f64::NAN).is_err());
}

#[test]
fn binary_single_class_has_no_roc_auc() {
    let m = binary_metrics(&[1.0, 1.0], &[0.2, 0.9], 0.5).expect("valid");
    assert_eq!(m.roc_auc, None);
    assert!(!m.to_map().contains_key("roc_auc"));
    assert_eq!(m.pr_auc, 1.0);
    assert_eq!(roc_auc(&[0.0, 1.0], &[0.2, 0.9]), Ok(Some(1.0)));
}

#[test]
fn multiclass_rejects_bad_input() {
    assert_eq!(
        message(multiclass_metrics(&[0], &[1.0], 1)),
        "n_classes = 1: expected at least 2 classes"
    );
    assert_eq!(
        message(multiclass_metrics(&[0, 1], &[0.5, 0.5, 0.5], 2)),
        "proba (n_rows x n_classes): expected 4 values, found 3"
    );
    assert_eq!(
        message(multiclass_metrics(&[0, 3], &[0.5; 6], 3)),
        "y_true[1] = 3: expected a class index below n_classes = 3"
    );
    assert_eq!(
        message(multiclass_metrics(&[], &[], 3)),
        "y_true is empty: expected at least one row"
    );
    assert!(message(multiclass_metrics(&[0], &[0.5, f64::INFINITY], 2)).contains("[0, 1]"));
    assert_eq!(class_indices(&[0.0, 2.0, 1.0], 3), Ok(vec![0, 2, 1]));
    assert_eq!(
        message(class_indices(&[0.0, 1.5], 3)),
        "y[1] = 1.5: expected a class index below n_classes = 3"
    );
    assert!(class_indices(&[-1.0], 3).is_err());
    assert!(class_indices(&[f64::NAN], 3).is_err());
}

#[test]
fn regression_rejects_bad_input() {
    assert_eq!(
        message(regression_metrics(&[1.0], &[1.0, 2.0])),
        "y_pred: expected 1 values, found 2"
    );
    assert!(message(regression_metrics(&[], &[])).contains("empty"));
    assert_eq!(
        message(regression_metrics(&[1.0, f64::NAN], &[1.0, 2.0])),
        "y_true[1] = NaN: expected a finite number"
    );
    assert!(message(regression_metrics(&[1.0], &[f64::INFINITY])).contains("y_pred[0] = inf"));
    let one = regression_metrics(&[2.0], &[1.0]).expect("valid");
    assert_eq!(one.r2, None);
    assert!(!one.to_map().contains_key("r2"));
}

#[test]
fn splits_reject_bad_input() {
    for fraction in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        assert!(message(holdout(10, fraction, 0, None)).contains("strictly between 0 and 1"));
        assert!(time_ordered_holdout(&[0, 1, 2], fraction).is_err());
    }
    assert_eq!(
        message(holdout(1, 0.5, 0, None)),
        "n_rows = 1: expected at least 2 rows to split"
    );
    assert_eq!(
        message(holdout(3, 0.5, 0, Some(&[0, 1]))),
        "stratify labels: expected 3 values, found 2"
    );
    assert_eq!(
        message(kfold(10, 1, 0, true, None)),
        "k = 1: expected at least 2 folds"
    );
    assert_eq!(
        message(kfold(3, 4, 0, true, None)),
        "kfold: expected at most n_rows = 3 folds, found 4"
    );
    assert_eq!(
        message(kfold(6, 3, 0, true, Some(&[0, 0, 1, 1, 2, 2]))),
        "stratified 3-fold: expected at least one class with 3 or more members, \
         the largest class has 2"
    );
    assert!(kfold(4, 2, 0, true, Some(&[0, 1])).is_err());
    assert_eq!(
        message(time_ordered_holdout(&[0, 2, 2], 0.5)),
        "order lists row 2 twice: expected distinct row indices"
    );
    assert!(time_series_folds(10, 1).is_err());
    assert!(message(time_series_folds(3, 3)).contains("found 4"));
    assert!(try_primary_metric("").is_err());
}

#[test]
fn metric_structs_round_trip_keys() {
    let m = binary_metrics(&[0.0, 1.0, 1.0], &[0.2, 0.6, 0.4], 0.5).expect("valid");
    let keys: Vec<String> = m.to_map().into_keys().collect();
    assert_eq!(
        keys,
        [
            "accuracy",
            "brier",
            "f1",
            "log_loss",
            "pr_auc",
            "precision",
            "recall",
            "roc_auc"
        ]
    );
    for k in &keys {
        assert!(capstan_eval::KNOWN_METRICS.contains(&k.as_str()));
    }
    let r = regression_metrics(&[1.0, 2.0], &[1.0, 3.0]).expect("valid");
    assert_eq!(
        r.to_map().into_keys().collect::<Vec<_>>(),
        ["mae", "mape", "r2", "rmse"]
    );
}

#[test]
fn deviances_reject_values_outside_their_domain() {
    use capstan_eval::{
        EvalError, mean_gamma_deviance, mean_pinball_loss, mean_poisson_deviance,
        mean_tweedie_deviance,
    };
    let err = mean_poisson_deviance(&[1.0, -1.0], &[1.0, 1.0]).expect_err("negative count");
    assert!(matches!(
        err,
        EvalError::OutOfDomain {
            what: "y_true",
            index: 1,
            ..
        }
    ));
    let err = mean_poisson_deviance(&[1.0, 1.0], &[1.0, 0.0]).expect_err("zero prediction");
    assert_eq!(err.to_string(), "y_pred[1] = 0: expected a value > 0");
    let err = mean_gamma_deviance(&[0.0], &[1.0]).expect_err("zero amount");
    assert!(matches!(err, EvalError::OutOfDomain { what: "y_true", .. }));
    let err = mean_tweedie_deviance(&[1.0], &[1.0], 0.5).expect_err("power in (0, 1)");
    assert!(matches!(
        err,
        EvalError::InvalidParameter { name: "power", .. }
    ));
    let err = mean_pinball_loss(&[1.0], &[1.0], 1.5).expect_err("alpha above 1");
    assert!(matches!(
        err,
        EvalError::InvalidParameter { name: "alpha", .. }
    ));
    assert_eq!(mean_tweedie_deviance(&[-2.0], &[1.0], 0.0), Ok(9.0));
}
