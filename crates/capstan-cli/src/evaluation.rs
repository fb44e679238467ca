//! Scoring predictions for any task, with the metric names used across capstan.

use std::collections::BTreeMap;

use anyhow::Result;
use capstan_learn::{Predictions, Task};

pub type MetricMap = BTreeMap<String, f64>;

/// Default threshold on P(positive class) for binary decisions.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// Checks a binary decision threshold given by the user.
pub fn check_threshold(t: f64) -> Result<()> {
    if t > 0.0 && t < 1.0 {
        Ok(())
    } else {
        Err(crate::exit::input_error(format!(
            "threshold must be in (0, 1), found {t}"
        )))
    }
}

/// Metrics of one split, and the confusion matrix for classification
/// (`confusion[true class][predicted class]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub metrics: MetricMap,
    pub confusion: Option<Vec<Vec<u64>>>,
}

/// Scores predictions; binary decisions predict class 1 when P(1) >= `threshold`.
pub fn score(task: Task, y: &[f64], p: &Predictions, threshold: f64) -> Result<Score> {
    Ok(match task {
        Task::Regression => Score {
            metrics: capstan_eval::regression_metrics(y, &p.values)?.to_map(),
            confusion: None,
        },
        Task::Binary => {
            let m = capstan_eval::binary_metrics(y, &p.values, threshold)?;
            let c = &m.confusion;
            Score {
                metrics: m.to_map(),
                confusion: Some(vec![vec![c.tn, c.fp], vec![c.fn_, c.tp]]),
            }
        }
        Task::Multiclass { n_classes } => {
            let labels = capstan_eval::class_indices(y, n_classes)?;
            let m = capstan_eval::multiclass_metrics(&labels, &p.values, n_classes)?;
            Score {
                metrics: m.to_map(),
                confusion: Some(m.confusion.clone()),
            }
        }
    })
}

pub fn primary_metric(task: Task) -> &'static str {
    capstan_eval::primary_metric(task.name())
}

pub fn overfit_warning(task: Task, train: &MetricMap, test: &MetricMap) -> Option<String> {
    let name = primary_metric(task);
    capstan_eval::overfit_warning(name, *train.get(name)?, *test.get(name)?)
}

/// Mean of each metric over the folds that have it.
pub fn mean(folds: &[MetricMap]) -> MetricMap {
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for fold in folds {
        for (k, v) in fold {
            let e = sums.entry(k.clone()).or_default();
            e.0 += v;
            e.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(k, (sum, n))| (k, sum / n as f64))
        .collect()
}
