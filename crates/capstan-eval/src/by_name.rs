//! One metric by its stable name (the keys of the `to_map` methods), computed alone: early
//! stopping reads one metric a round, and the curve metrics (AUC) sort the rows.

use crate::EvalError;
use crate::{
    average_precision, brier, class_indices, confusion, log_loss, mean_gamma_deviance,
    mean_pinball_loss, mean_poisson_deviance, mean_tweedie_deviance, multiclass_metrics,
    regression_metrics, roc_auc,
};

/// What a metric reads: `y_true` and the predictions of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricTask {
    /// Labels 0/1 and P(class 1) per row.
    Binary,
    /// Class indices (as f64) and `n_rows x n_classes` row-major probabilities.
    Multiclass { n_classes: usize },
    /// Targets and predicted values.
    Regression,
}

impl MetricTask {
    pub fn name(self) -> &'static str {
        match self {
            MetricTask::Binary => "binary",
            MetricTask::Multiclass { .. } => "multiclass",
            MetricTask::Regression => "regression",
        }
    }
}

/// The parameters some metrics take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricOptions {
    /// Binary decisions (accuracy, precision, recall, f1): positive when `p >= threshold`.
    pub threshold: f64,
    /// The power of `tweedie_deviance`.
    pub tweedie_power: f64,
    /// The quantile of `pinball_loss`.
    pub alpha: f64,
}

impl Default for MetricOptions {
    /// Threshold 0.5; power 1.5 and alpha 0.9, the GBDT's `tweedie_variance_power` and
    /// `alpha` defaults.
    fn default() -> Self {
        MetricOptions {
            threshold: 0.5,
            tweedie_power: 1.5,
            alpha: 0.9,
        }
    }
}

const BINARY: &[&str] = &[
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "accuracy",
    "precision",
    "recall",
    "f1",
];
const MULTICLASS: &[&str] = &["accuracy", "f1_macro", "f1_weighted", "log_loss"];
const REGRESSION: &[&str] = &[
    "rmse",
    "mae",
    "r2",
    "mape",
    "poisson_deviance",
    "gamma_deviance",
    "tweedie_deviance",
    "pinball_loss",
];

/// The unweighted metric names [`metric_by_name`] computes for `task`.
pub fn metric_names(task: MetricTask) -> &'static [&'static str] {
    match task {
        MetricTask::Binary => BINARY,
        MetricTask::Multiclass { .. } => MULTICLASS,
        MetricTask::Regression => REGRESSION,
    }
}

/// The metric `name` of `predictions` against `y_true`: the value the task's `to_map` (or,
/// for deviances and the pinball loss, the `mean_*` function) gives. A metric undefined on
/// these rows (roc_auc on one class, r2 on one row) is an error.
pub fn metric_by_name(
    task: MetricTask,
    name: &str,
    y_true: &[f64],
    predictions: &[f64],
    options: &MetricOptions,
) -> Result<f64, EvalError> {
    let (y, p) = (y_true, predictions);
    let unknown = || EvalError::UnknownMetric {
        name: name.to_string(),
        task: task.name(),
        expected: metric_names(task).join(", "),
    };
    match task {
        MetricTask::Binary => match name {
            "roc_auc" => roc_auc(y, p)?.ok_or(EvalError::UndefinedMetric {
                name: "roc_auc",
                expected: "both classes in y_true",
            }),
            "pr_auc" => average_precision(y, p),
            "log_loss" => log_loss(y, p),
            "brier" => brier(y, p),
            "accuracy" => Ok(confusion(y, p, options.threshold)?.accuracy()),
            "precision" => Ok(confusion(y, p, options.threshold)?.precision()),
            "recall" => Ok(confusion(y, p, options.threshold)?.recall()),
            "f1" => Ok(confusion(y, p, options.threshold)?.f1()),
            _ => Err(unknown()),
        },
        MetricTask::Multiclass { n_classes } => {
            if !MULTICLASS.contains(&name) {
                return Err(unknown());
            }
            // One linear pass: the whole map costs no more than one of its metrics.
            let labels = class_indices(y, n_classes)?;
            let m = multiclass_metrics(&labels, p, n_classes)?;
            Ok(match name {
                "accuracy" => m.accuracy,
                "f1_macro" => m.f1_macro,
                "f1_weighted" => m.f1_weighted,
                _ => m.log_loss,
            })
        }
        MetricTask::Regression => match name {
            "rmse" => Ok(regression_metrics(y, p)?.rmse),
            "mae" => Ok(regression_metrics(y, p)?.mae),
            "r2" => regression_metrics(y, p)?
                .r2
                .ok_or(EvalError::UndefinedMetric {
                    name: "r2",
                    expected: "at least 2 rows",
                }),
            "mape" => Ok(regression_metrics(y, p)?.mape),
            "poisson_deviance" => mean_poisson_deviance(y, p),
            "gamma_deviance" => mean_gamma_deviance(y, p),
            "tweedie_deviance" => mean_tweedie_deviance(y, p, options.tweedie_power),
            "pinball_loss" => mean_pinball_loss(y, p, options.alpha),
            _ => Err(unknown()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KNOWN_METRICS, binary_metrics};

    #[test]
    fn names_are_known_unweighted_and_have_a_direction() {
        for task in [
            MetricTask::Binary,
            MetricTask::Multiclass { n_classes: 3 },
            MetricTask::Regression,
        ] {
            for name in metric_names(task) {
                assert!(KNOWN_METRICS.contains(name), "{name}");
                assert!(!name.starts_with("weighted_"), "{name}");
            }
        }
        let all: Vec<&str> = [BINARY, MULTICLASS, REGRESSION].concat();
        for name in KNOWN_METRICS.iter().filter(|n| !n.starts_with("weighted_")) {
            assert!(all.contains(name), "{name} has no task");
        }
    }

    #[test]
    fn binary_by_name_equals_the_map() {
        let y = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
        let p = [0.1, 0.7, 0.4, 0.6, 0.9, 0.5];
        let o = MetricOptions {
            threshold: 0.45,
            ..MetricOptions::default()
        };
        let map = binary_metrics(&y, &p, o.threshold).expect("valid").to_map();
        for name in metric_names(MetricTask::Binary) {
            let v = metric_by_name(MetricTask::Binary, name, &y, &p, &o).expect("defined");
            assert_eq!(v, map[*name], "{name}");
        }
    }

    #[test]
    fn unknown_and_undefined_metrics_are_errors() {
        let o = MetricOptions::default();
        let err = metric_by_name(MetricTask::Binary, "rmse", &[0.0, 1.0], &[0.2, 0.8], &o)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "unknown metric 'rmse' for a binary task: expected one of roc_auc, pr_auc, \
                 log_loss, brier, accuracy, precision, recall, f1"
            )
        );
        let weighted = metric_by_name(MetricTask::Regression, "weighted_rmse", &[1.0], &[1.0], &o);
        assert!(matches!(weighted, Err(EvalError::UnknownMetric { .. })));
        let multi = MetricTask::Multiclass { n_classes: 3 };
        let roc = metric_by_name(multi, "roc_auc", &[0.0], &[1.0, 0.0, 0.0], &o);
        assert!(matches!(roc, Err(EvalError::UnknownMetric { .. })));
        let one_class = metric_by_name(MetricTask::Binary, "roc_auc", &[1.0, 1.0], &[0.2, 0.8], &o)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            one_class.as_deref(),
            Some("roc_auc is undefined on these rows: expected both classes in y_true")
        );
        let one_row = metric_by_name(MetricTask::Regression, "r2", &[1.0], &[2.0], &o);
        assert!(matches!(
            one_row,
            Err(EvalError::UndefinedMetric { name: "r2", .. })
        ));
        let zero = metric_by_name(MetricTask::Regression, "gamma_deviance", &[0.0], &[1.0], &o);
        assert!(matches!(zero, Err(EvalError::OutOfDomain { .. })));
    }

    #[test]
    fn parameters_reach_their_metrics() {
        let (y, p) = ([1.0, 3.0, 0.0], [2.0, 2.5, 0.5]);
        let o = MetricOptions {
            threshold: 0.5,
            tweedie_power: 1.2,
            alpha: 0.3,
        };
        let r = MetricTask::Regression;
        assert_eq!(
            metric_by_name(r, "tweedie_deviance", &y, &p, &o),
            mean_tweedie_deviance(&y, &p, 1.2)
        );
        assert_eq!(
            metric_by_name(r, "pinball_loss", &y, &p, &o),
            mean_pinball_loss(&y, &p, 0.3)
        );
    }
}
