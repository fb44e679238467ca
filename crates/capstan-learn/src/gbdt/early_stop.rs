//! Early stopping: a named metric of the validation predictions, and the best round so far.

use capstan_eval::{EvalError, MetricOptions, MetricTask};

use super::{GbdtParams, Objective, objective};
use crate::Task;

/// The metric names of capstan-eval for a task.
pub(crate) fn metric_task(task: Task) -> MetricTask {
    match task {
        Task::Binary => MetricTask::Binary,
        Task::Multiclass { n_classes } => MetricTask::Multiclass { n_classes },
        Task::Regression => MetricTask::Regression,
    }
}

/// `early_stopping_metric` of the validation predictions as [`super::GbdtModel::predict`]
/// gives them (probabilities, or values after the link).
#[derive(Debug)]
pub(crate) struct ValidMetric<'a> {
    name: &'a str,
    task: Task,
    objective: Objective,
    options: MetricOptions,
    /// The transformed predictions, reused each round.
    predictions: Vec<f64>,
}

impl<'a> ValidMetric<'a> {
    /// The metric of `p` (checked by `validate::stopping_metric`).
    pub(crate) fn new(name: &'a str, p: &GbdtParams, task: Task) -> Self {
        ValidMetric {
            name,
            task,
            objective: p.objective,
            options: MetricOptions {
                tweedie_power: p.tweedie_variance_power,
                alpha: p.alpha,
                ..MetricOptions::default()
            },
            predictions: Vec::new(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.name
    }

    pub(crate) fn higher_is_better(&self) -> bool {
        capstan_eval::higher_is_better(self.name)
    }

    /// The metric of raw validation scores (`n_rows x K` row-major).
    pub(crate) fn try_value(&mut self, y: &[f64], scores: &[f64]) -> Result<f64, EvalError> {
        self.predictions.clear();
        self.predictions.extend_from_slice(scores);
        objective::transform(self.task, self.objective, &mut self.predictions);
        capstan_eval::metric_by_name(
            metric_task(self.task),
            self.name,
            y,
            &self.predictions,
            &self.options,
        )
    }

    /// [`Self::try_value`], NaN (never an improvement) when the scores cannot give it, e.g.
    /// a log-link prediction that overflowed.
    pub(crate) fn value(&mut self, y: &[f64], scores: &[f64]) -> f64 {
        self.try_value(y, scores).unwrap_or(f64::NAN)
    }
}

/// The best round so far: only a strictly better value replaces it, NaN never does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Best {
    higher_is_better: bool,
    best: Option<(usize, f64)>,
}

impl Best {
    pub(crate) fn new(higher_is_better: bool) -> Self {
        Best {
            higher_is_better,
            best: None,
        }
    }

    /// Records the value of `round`; true once `patience` rounds passed without improvement.
    pub(crate) fn update(&mut self, round: usize, value: f64, patience: usize) -> bool {
        let better = match self.best {
            None => true,
            Some((_, b)) if b.is_nan() => !value.is_nan(),
            Some((_, b)) if self.higher_is_better => value > b,
            Some((_, b)) => value < b,
        };
        if better {
            self.best = Some((round, value));
        }
        self.best.is_some_and(|(b, _)| round - b >= patience)
    }

    /// Rounds to keep: the best round counted from 1 (0 before any round).
    pub(crate) fn rounds(&self) -> usize {
        self.best.map_or(0, |(r, _)| r + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(higher: bool, values: &[f64], patience: usize) -> (usize, usize) {
        let mut best = Best::new(higher);
        for (round, &v) in values.iter().enumerate() {
            if best.update(round, v, patience) {
                return (best.rounds(), round);
            }
        }
        (best.rounds(), values.len())
    }

    #[test]
    fn strictly_better_only_in_the_metric_direction() {
        // A tie keeps the earlier round; two rounds without improvement stop.
        assert_eq!(run(true, &[0.5, 0.7, 0.7, 0.6, 0.9], 2), (2, 3));
        assert_eq!(run(false, &[0.5, 0.3, 0.3, 0.4, 0.1], 2), (2, 3));
        // NaN never improves, but a first NaN is replaced by any number.
        assert_eq!(run(false, &[f64::NAN, 0.4, f64::NAN, 0.3], 5), (4, 4));
        assert_eq!(run(true, &[0.1, f64::NAN, f64::NAN], 2), (1, 2));
    }
}
