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

/// Metrics of a GBDT's training objective beyond the task's own: the mean deviance of
/// Poisson, gamma and Tweedie models, the pinball loss of quantile models. A metric the rows
/// cannot give (e.g. a zero target for the gamma deviance) is left out.
pub fn objective_metrics(params: &GbdtParams, y: &[f64], p: &Predictions) -> MetricMap {
    let v = &p.values;
    let metric = match params.objective {
        Objective::Poisson => Some((
            "poisson_deviance",
            capstan_eval::mean_poisson_deviance(y, v),
        )),
        Objective::Gamma => Some(("gamma_deviance", capstan_eval::mean_gamma_deviance(y, v))),
        Objective::Tweedie => Some((
            "tweedie_deviance",
            capstan_eval::mean_tweedie_deviance(y, v, params.tweedie_variance_power),
        )),
        Objective::Quantile => Some((
            "pinball_loss",
            capstan_eval::mean_pinball_loss(y, v, params.alpha),
        )),
        _ => None,
    };
    metric
        .and_then(|(name, value)| Some((name.to_string(), value.ok()?)))
        .into_iter()
        .collect()
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
