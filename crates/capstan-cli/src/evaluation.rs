//! Scoring predictions for any task, with the metric names used across capstan.

use std::collections::BTreeMap;

use anyhow::Result;
use capstan_learn::{Predictions, Task};

pub type MetricMap = BTreeMap<String, f64>;

/// Threshold on P(positive class) for binary decisions.
pub const BINARY_THRESHOLD: f64 = 0.5;

pub fn score(task: Task, y: &[f64], p: &Predictions) -> Result<MetricMap> {
    Ok(match task {
        Task::Regression => capstan_eval::regression_metrics(y, &p.values)?.to_map(),
        Task::Binary => capstan_eval::binary_metrics(y, &p.values, BINARY_THRESHOLD)?.to_map(),
        Task::Multiclass { n_classes } => {
            let labels = capstan_eval::class_indices(y, n_classes)?;
            capstan_eval::multiclass_metrics(&labels, &p.values, n_classes)?.to_map()
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
