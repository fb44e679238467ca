//! Scoring predictions for any task, with the metric names used across capstan.

use std::collections::BTreeMap;

use anyhow::Result;
use capstan_learn::gbdt::{GbdtParams, Objective};
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

/// Every metric of one split: the task's, the GBDT objective's own (see
/// [`ObjectiveMetric`]), and with row weights the weighted versions (`weighted_*`, as
/// scikit-learn's `sample_weight`). Weighted metrics are left out when the split's weights
/// sum to zero.
pub fn split_score(
    task: Task,
    y: &[f64],
    p: &Predictions,
    threshold: f64,
    objective: Option<ObjectiveMetric>,
    weights: Option<&[f64]>,
) -> Result<Score> {
    let mut score = score(task, y, p, threshold)?;
    let weights = weights.filter(|w| w.iter().sum::<f64>() > 0.0);
    if let Some(w) = weights {
        score.metrics.extend(weighted(task, y, p, w, threshold)?);
    }
    if let Some(objective) = objective {
        score
            .metrics
            .extend(objective.metrics(y, &p.values, weights));
    }
    Ok(score)
}

/// The weighted metrics of a task (`weighted_*` keys).
fn weighted(
    task: Task,
    y: &[f64],
    p: &Predictions,
    w: &[f64],
    threshold: f64,
) -> Result<MetricMap> {
    Ok(match task {
        Task::Regression => capstan_eval::weighted_regression_metrics(y, &p.values, w)?.to_map(),
        Task::Binary => capstan_eval::weighted_binary_metrics(y, &p.values, w, threshold)?.to_map(),
        Task::Multiclass { n_classes } => {
            let labels = capstan_eval::class_indices(y, n_classes)?;
            capstan_eval::weighted_multiclass_metrics(&labels, &p.values, n_classes, w)?.to_map()
        }
    })
}

/// The metric of a GBDT's training objective beyond the task's own: the mean deviance of
/// Poisson, gamma and Tweedie models, the pinball loss of quantile models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ObjectiveMetric {
    Poisson,
    Gamma,
    Tweedie { power: f64 },
    Pinball { alpha: f64 },
}

impl ObjectiveMetric {
    /// The metric of a training config's objective; `None` for objectives without one.
    pub fn of_params(params: &GbdtParams) -> Option<ObjectiveMetric> {
        Self::of(
            params.objective,
            Some(params.alpha),
            Some(params.tweedie_variance_power),
        )
    }

    /// The metric of a bundle's model: the objective its GBDT was trained with (kept in
    /// the model), with `alpha` or `tweedie_variance_power` from the training config kept
    /// in the bundle's lineage. `None` for linear models, objectives without a metric, or
    /// a lineage that lacks the parameter.
    pub fn of_bundle(bundle: &capstan_bundle::Bundle) -> Option<ObjectiveMetric> {
        let capstan_learn::Model::Gbdt(model) = &bundle.model else {
            return None;
        };
        let gbdt = bundle.manifest.lineage.config.get("gbdt");
        let param = |key: &str| gbdt?.get(key)?.as_f64();
        Self::of(
            model.objective,
            param("alpha"),
            param("tweedie_variance_power"),
        )
    }

    fn of(objective: Objective, alpha: Option<f64>, power: Option<f64>) -> Option<Self> {
        match objective {
            Objective::Poisson => Some(ObjectiveMetric::Poisson),
            Objective::Gamma => Some(ObjectiveMetric::Gamma),
            Objective::Tweedie => power.map(|power| ObjectiveMetric::Tweedie { power }),
            Objective::Quantile => alpha.map(|alpha| ObjectiveMetric::Pinball { alpha }),
            _ => None,
        }
    }

    /// The metric's key: poisson_deviance, gamma_deviance, tweedie_deviance, pinball_loss.
    pub fn name(self) -> &'static str {
        match self {
            ObjectiveMetric::Poisson => "poisson_deviance",
            ObjectiveMetric::Gamma => "gamma_deviance",
            ObjectiveMetric::Tweedie { .. } => "tweedie_deviance",
            ObjectiveMetric::Pinball { .. } => "pinball_loss",
        }
    }

    /// The metric on these rows, and its weighted version (`weighted_<name>`) with weights.
    /// A value the rows cannot give (e.g. a zero target for the gamma deviance) is left out.
    pub fn metrics(self, y: &[f64], p: &[f64], weights: Option<&[f64]>) -> MetricMap {
        let mut out = MetricMap::new();
        if let Ok(v) = self.value(y, p, None) {
            out.insert(self.name().to_string(), v);
        }
        if let Some(Ok(v)) = weights.map(|w| self.value(y, p, Some(w))) {
            out.insert(format!("weighted_{}", self.name()), v);
        }
        out
    }

    fn value(
        self,
        y: &[f64],
        p: &[f64],
        w: Option<&[f64]>,
    ) -> Result<f64, capstan_eval::EvalError> {
        use capstan_eval::{
            mean_pinball_loss, mean_tweedie_deviance, weighted_mean_pinball_loss,
            weighted_mean_tweedie_deviance,
        };
        match (self, w) {
            (ObjectiveMetric::Pinball { alpha }, None) => mean_pinball_loss(y, p, alpha),
            (ObjectiveMetric::Pinball { alpha }, Some(w)) => {
                weighted_mean_pinball_loss(y, p, alpha, w)
            }
            (_, None) => mean_tweedie_deviance(y, p, self.power()),
            (_, Some(w)) => weighted_mean_tweedie_deviance(y, p, self.power(), w),
        }
    }

    /// The Tweedie power of a deviance (Poisson 1, gamma 2).
    fn power(self) -> f64 {
        match self {
            ObjectiveMetric::Poisson => 1.0,
            ObjectiveMetric::Gamma => 2.0,
            ObjectiveMetric::Tweedie { power } => power,
            ObjectiveMetric::Pinball { .. } => f64::NAN,
        }
    }
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

/// Fairness metrics of a binary model per sensitive column, from labelled rows: `frame`
/// row `i` has label `y[i]` and prediction row `i` of `p`. Null group values are the group
/// "(missing)". Errors name a sensitive column that `frame` lacks.
pub fn fairness(
    frame: &capstan_frame::Frame,
    columns: &[String],
    y: &[f64],
    p: &Predictions,
    threshold: f64,
    source: &str,
) -> Result<BTreeMap<String, capstan_eval::FairnessMetrics>> {
    let y_pred: Vec<f64> = p
        .values
        .iter()
        .map(|&v| if v >= threshold { 1.0 } else { 0.0 })
        .collect();
    let mut out = BTreeMap::new();
    for name in columns {
        let col = frame.column(name).ok_or_else(|| {
            let names: Vec<&str> = frame.schema().names().collect();
            crate::exit::input_error(format!(
                "{source}: sensitive column '{name}' not found; columns are: {}",
                names.join(", ")
            ))
        })?;
        let groups: Vec<String> = (0..frame.n_rows())
            .map(|i| {
                col.display_at(i)
                    .unwrap_or_else(|| capstan_quality::bias::MISSING_GROUP.to_string())
            })
            .collect();
        out.insert(
            name.clone(),
            capstan_eval::fairness_metrics(&groups, y, &y_pred)?,
        );
    }
    Ok(out)
}

/// Run-record metric names: `fairness.<column>.<metric>`.
pub fn fairness_metric_map(
    fairness: &BTreeMap<String, capstan_eval::FairnessMetrics>,
) -> MetricMap {
    let mut out = MetricMap::new();
    for (column, m) in fairness {
        for (name, v) in m.to_map() {
            out.insert(format!("fairness.{column}.{name}"), v);
        }
    }
    out
}

/// One table per sensitive column (groups with their rates) and its disparities.
pub fn render_fairness(fairness: &BTreeMap<String, capstan_eval::FairnessMetrics>) -> String {
    use crate::table::metric;
    let mut out = String::new();
    for (column, m) in fairness {
        out.push_str(&format!("fairness by '{column}':\n"));
        let rows: Vec<Vec<String>> = m
            .groups
            .iter()
            .map(|g| {
                vec![
                    g.group.clone(),
                    g.n.to_string(),
                    metric(g.selection_rate),
                    metric(g.true_positive_rate),
                    metric(g.false_positive_rate),
                    metric(g.accuracy),
                ]
            })
            .collect();
        out.push_str(&crate::table::render(
            &["group", "rows", "selection", "tpr", "fpr", "accuracy"],
            &rows,
        ));
        let ratio = m
            .demographic_parity_ratio
            .map_or_else(|| "n/a".to_string(), metric);
        out.push_str(&format!(
            "demographic parity difference {}, ratio {ratio}; equal opportunity difference {}; \
             equalized odds difference {}\n",
            metric(m.demographic_parity_difference),
            metric(m.equal_opportunity_difference),
            metric(m.equalized_odds_difference)
        ));
        let no_positives: Vec<&str> = m
            .groups
            .iter()
            .filter(|g| g.n_positive == 0)
            .map(|g| g.group.as_str())
            .collect();
        if !no_positives.is_empty() {
            out.push_str(&format!(
                "note: no actual positives in group(s) {}: their tpr is reported as 0 \
                 (as Fairlearn)\n",
                no_positives.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_metrics_need_their_parameter() {
        let of = ObjectiveMetric::of;
        assert_eq!(
            of(Objective::Poisson, None, None),
            Some(ObjectiveMetric::Poisson)
        );
        assert_eq!(
            of(Objective::Gamma, None, None),
            Some(ObjectiveMetric::Gamma)
        );
        assert_eq!(of(Objective::Tweedie, Some(0.9), None), None);
        assert_eq!(
            of(Objective::Tweedie, None, Some(1.2)),
            Some(ObjectiveMetric::Tweedie { power: 1.2 })
        );
        assert_eq!(of(Objective::Quantile, None, Some(1.2)), None);
        for plain in [
            Objective::Auto,
            Objective::L2,
            Objective::L1,
            Objective::Huber,
        ] {
            assert_eq!(of(plain, Some(0.5), Some(1.5)), None);
        }
    }

    #[test]
    fn objective_metrics_with_and_without_weights() {
        let (y, p) = ([0.0, 2.0, 5.0], [0.5, 1.5, 4.0]);
        let m = ObjectiveMetric::Poisson.metrics(&y, &p, None);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["poisson_deviance"]);
        let w = [1.0, 0.0, 2.0];
        let m = ObjectiveMetric::Poisson.metrics(&y, &p, Some(&w));
        let twice =
            capstan_eval::mean_poisson_deviance(&[0.0, 5.0, 5.0], &[0.5, 4.0, 4.0]).expect("valid");
        let weighted = m["weighted_poisson_deviance"];
        assert!((weighted - twice).abs() < 1e-15, "{weighted} vs {twice}");
        // A zero target has no gamma deviance: left out, not an error.
        assert!(ObjectiveMetric::Gamma.metrics(&y, &p, Some(&w)).is_empty());
    }
}
