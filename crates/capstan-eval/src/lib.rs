//! Metrics, splits and cross-validation; no IO.
//!
//! Metrics equal scikit-learn's (checked by `tests/oracle.rs`). Binary predictions are
//! positive when `p >= threshold`. Splits use the shared seeded PRNG ([`rng::Rng`], from capstan-io):
//! same seed, same split on every platform, though not sklearn's shuffles.

mod binary;
mod by_name;
mod check;
mod deviance;
mod error;
mod fairness;
mod multiclass;
mod overfit;
mod regression;
mod split;
mod weighted;

pub use binary::{
    BinaryConfusion, BinaryMetrics, average_precision, binary_metrics, brier, confusion, log_loss,
    roc_auc,
};
pub use by_name::{MetricOptions, MetricTask, metric_by_name, metric_names};
pub use capstan_io::rng;
pub use deviance::{
    mean_gamma_deviance, mean_pinball_loss, mean_poisson_deviance, mean_tweedie_deviance,
    weighted_mean_pinball_loss, weighted_mean_tweedie_deviance,
};
pub use error::EvalError;
pub use fairness::{FAIRNESS_METRICS, FairnessMetrics, GroupRates, fairness_metrics};
pub use multiclass::{MulticlassMetrics, argmax, class_indices, multiclass_metrics};
pub use overfit::{MAX_ERROR_RATIO, MAX_SCORE_GAP, overfit_warning};
pub use regression::{RegressionMetrics, regression_metrics};
pub use split::{Split, holdout, kfold, time_ordered_holdout, time_series_folds};
pub use weighted::{
    WeightedBinaryMetrics, WeightedMulticlassMetrics, WeightedRegressionMetrics,
    weighted_binary_metrics, weighted_multiclass_metrics, weighted_regression_metrics,
};

/// Every metric key produced by the `to_map` methods.
pub const KNOWN_METRICS: &[&str] = &[
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "f1_weighted",
    "rmse",
    "mae",
    "r2",
    "mape",
    "poisson_deviance",
    "gamma_deviance",
    "tweedie_deviance",
    "pinball_loss",
    "weighted_roc_auc",
    "weighted_log_loss",
    "weighted_brier",
    "weighted_accuracy",
    "weighted_rmse",
    "weighted_mae",
    "weighted_r2",
    "weighted_poisson_deviance",
    "weighted_gamma_deviance",
    "weighted_tweedie_deviance",
    "weighted_pinball_loss",
];

/// True for scores (AUC, accuracy, F1, R^2...), false for losses and errors.
/// Unknown names give false; check [`KNOWN_METRICS`] first when the name is user input.
pub fn higher_is_better(metric: &str) -> bool {
    matches!(
        metric,
        "roc_auc"
            | "pr_auc"
            | "accuracy"
            | "precision"
            | "recall"
            | "f1"
            | "f1_macro"
            | "f1_weighted"
            | "r2"
            | "weighted_roc_auc"
            | "weighted_accuracy"
            | "weighted_r2"
    )
}

/// The metric a task is ranked by: binary -> roc_auc, multiclass -> accuracy,
/// regression -> rmse. An unknown task name gives `""` (no metric map has that key);
/// use [`try_primary_metric`] to get an error instead.
pub fn primary_metric(task_name: &str) -> &'static str {
    try_primary_metric(task_name).unwrap_or("")
}

/// [`primary_metric`] that reports an unknown task name as an error.
pub fn try_primary_metric(task_name: &str) -> Result<&'static str, EvalError> {
    match task_name {
        "binary" => Ok("roc_auc"),
        "multiclass" => Ok("accuracy"),
        "regression" => Ok("rmse"),
        _ => Err(EvalError::UnknownTask {
            found: task_name.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_metrics_and_directions() {
        assert_eq!(primary_metric("binary"), "roc_auc");
        assert_eq!(primary_metric("multiclass"), "accuracy");
        assert_eq!(primary_metric("regression"), "rmse");
        assert_eq!(primary_metric("ranking"), "");
        assert_eq!(try_primary_metric("binary"), Ok("roc_auc"));
        let err = try_primary_metric("ranking").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown task 'ranking': expected binary, multiclass or regression")
        );
        for m in ["roc_auc", "pr_auc", "accuracy", "f1_macro", "r2"] {
            assert!(higher_is_better(m), "{m}");
        }
        for m in ["log_loss", "brier", "rmse", "mae", "mape", "unknown"] {
            assert!(!higher_is_better(m), "{m}");
        }
    }
}
