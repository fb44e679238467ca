//! Checks of hyperparameters and training data, done once before any numeric work.

use capstan_frame::{FeatureKind, Matrix};

use super::early_stop::{ValidMetric, metric_task};
use super::objective::Loss;
use super::{GbdtParams, Objective, SampleStrategy};
use crate::{LearnError, Task};

/// A value for a message: non-finite values in lowercase (`nan`, `inf`, `-inf`).
fn show(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{v}")
    }
}

fn param(name: &'static str, message: String) -> LearnError {
    LearnError::InvalidParam { name, message }
}

fn non_negative(name: &'static str, v: f64) -> Result<(), LearnError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(param(
            name,
            format!("must be finite and >= 0, found {}", show(v)),
        ))
    }
}

fn fraction(name: &'static str, v: f64) -> Result<(), LearnError> {
    if v > 0.0 && v <= 1.0 {
        Ok(())
    } else {
        Err(param(name, format!("must be in (0, 1], found {}", show(v))))
    }
}

fn at_least(name: &'static str, v: usize, min: usize) -> Result<(), LearnError> {
    if v >= min {
        Ok(())
    } else {
        Err(param(name, format!("must be at least {min}, found {v}")))
    }
}

pub(crate) fn params(p: &GbdtParams, has_valid: bool) -> Result<(), LearnError> {
    if !(p.learning_rate.is_finite() && p.learning_rate > 0.0) {
        return Err(param(
            "learning_rate",
            format!("must be finite and > 0, found {}", show(p.learning_rate)),
        ));
    }
    at_least("num_leaves", p.num_leaves, 2)?;
    if p.num_leaves > 131_072 {
        return Err(param(
            "num_leaves",
            format!("must be at most 131072, found {}", p.num_leaves),
        ));
    }
    if let Some(d) = p.max_depth {
        at_least("max_depth", d, 1)?;
    }
    non_negative("min_sum_hessian_in_leaf", p.min_sum_hessian_in_leaf)?;
    non_negative("lambda_l1", p.lambda_l1)?;
    non_negative("lambda_l2", p.lambda_l2)?;
    non_negative("min_gain_to_split", p.min_gain_to_split)?;
    non_negative("cat_smooth", p.cat_smooth)?;
    non_negative("cat_l2", p.cat_l2)?;
    if !(2..=255).contains(&p.max_bins) {
        return Err(param(
            "max_bins",
            format!("must be in 2..=255, found {}", p.max_bins),
        ));
    }
    if !p.counts_from_hessian {
        return Err(param(
            "counts_from_hessian",
            "only `true` is supported (histograms keep no row counts)".into(),
        ));
    }
    fraction("feature_fraction", p.feature_fraction)?;
    fraction("feature_fraction_bynode", p.feature_fraction_bynode)?;
    fraction("bagging_fraction", p.bagging_fraction)?;
    at_least("min_data_in_bin", p.min_data_in_bin, 1)?;
    at_least("bin_construct_sample_cnt", p.bin_construct_sample_cnt, 1)?;
    at_least("max_cat_to_onehot", p.max_cat_to_onehot, 1)?;
    at_least("max_cat_threshold", p.max_cat_threshold, 1)?;
    at_least("min_data_per_group", p.min_data_per_group, 1)?;
    if p.early_stopping_metric.is_some() {
        if p.early_stopping_rounds.is_none() {
            return Err(param(
                "early_stopping_metric",
                "needs early_stopping_rounds (rounds without improvement before stopping)".into(),
            ));
        }
        if !has_valid {
            return Err(param(
                "early_stopping_metric",
                "needs a validation set".into(),
            ));
        }
    }
    if let Some(r) = p.early_stopping_rounds {
        at_least("early_stopping_rounds", r, 1)?;
        if !has_valid {
            return Err(param(
                "early_stopping_rounds",
                "needs a validation set".into(),
            ));
        }
    }
    Ok(())
}

/// `early_stopping_metric` is an unweighted metric of the task that the objective's
/// predictions can be scored by.
pub(crate) fn stopping_metric(p: &GbdtParams, task: Task) -> Result<(), LearnError> {
    const NAME: &str = "early_stopping_metric";
    let Some(metric) = p.early_stopping_metric.as_deref() else {
        return Ok(());
    };
    let names = capstan_eval::metric_names(metric_task(task));
    if let Some(plain) = metric.strip_prefix("weighted_")
        && names.contains(&plain)
    {
        return Err(param(
            NAME,
            format!(
                "'{metric}' needs validation weights, which early stopping does not take; \
                 use '{plain}'"
            ),
        ));
    }
    if !names.contains(&metric) {
        let found = if capstan_eval::KNOWN_METRICS.contains(&metric) {
            format!("'{metric}' is not a {} metric", task.name())
        } else {
            format!("unknown metric '{metric}'")
        };
        return Err(param(
            NAME,
            format!(
                "{found}; expected one of {} for a {} task",
                names.join(", "),
                task.name()
            ),
        ));
    }
    let objective = p.objective.name();
    match metric {
        "poisson_deviance" | "gamma_deviance" | "tweedie_deviance" if !p.objective.log_link() => {
            Err(param(
                NAME,
                format!(
                    "'{metric}' needs predictions > 0: use it with the poisson, tweedie or \
                     gamma objective, found '{objective}'"
                ),
            ))
        }
        "pinball_loss" if p.objective != Objective::Quantile => Err(param(
            NAME,
            format!(
                "'pinball_loss' scores a quantile: use it with the quantile objective, \
                 found '{objective}'"
            ),
        )),
        _ => Ok(()),
    }
}

/// The validation rows can give `metric` (a metric undefined on them, such as roc_auc on
/// one class, or targets outside a deviance's domain, would never improve).
pub(crate) fn stopping_metric_defined(
    metric: &mut ValidMetric,
    y: &[f64],
    scores: &[f64],
) -> Result<(), LearnError> {
    metric.try_value(y, scores).map(|_| ()).map_err(|e| {
        data(format!(
            "validation set cannot give early_stopping_metric '{}': {e}",
            metric.name()
        ))
    })
}

/// Monotone and interaction constraints fit the features of `x` and the loss.
pub(crate) fn constraints(p: &GbdtParams, x: &Matrix, loss: Loss) -> Result<(), LearnError> {
    let n = x.n_cols;
    let name = |j: usize| {
        x.feature_names
            .get(j)
            .map_or_else(|| format!("#{j}"), |s| format!("'{s}'"))
    };
    non_negative("monotone_penalty", p.monotone_penalty)?;
    let mc = &p.monotone_constraints;
    if !mc.is_empty() && mc.len() != n {
        return Err(param(
            "monotone_constraints",
            format!(
                "has {} values for {n} features; give one per feature (-1, 0 or 1), or none",
                mc.len()
            ),
        ));
    }
    for (j, &d) in mc.iter().enumerate() {
        if !(-1..=1).contains(&d) {
            return Err(param(
                "monotone_constraints",
                format!("value {d} for feature {j} ({}) is not -1, 0 or 1", name(j)),
            ));
        }
        if d != 0 && matches!(x.feature_kinds[j], FeatureKind::Categorical { .. }) {
            return Err(param(
                "monotone_constraints",
                format!(
                    "feature {j} ({}) is categorical; only numeric features can be monotone",
                    name(j)
                ),
            ));
        }
    }
    if mc.iter().any(|&d| d != 0) && loss.renew_percentile().is_some() {
        return Err(param(
            "monotone_constraints",
            format!(
                "cannot be used with the '{}' objective: its leaves are refitted to \
                 percentiles after growth, which breaks monotonicity (LightGBM refuses it too)",
                p.objective.name()
            ),
        ));
    }
    for (k, group) in p.interaction_constraints.iter().enumerate() {
        if group.is_empty() {
            return Err(param(
                "interaction_constraints",
                format!("group {k} is empty"),
            ));
        }
        if let Some(&f) = group.iter().find(|&&f| f >= n) {
            return Err(param(
                "interaction_constraints",
                format!("group {k} names feature {f}, but the features are 0..{n}"),
            ));
        }
    }
    Ok(())
}

/// The objective fits the task, and its own parameters are in range.
pub(crate) fn objective(p: &GbdtParams, task: Task) -> Result<(), LearnError> {
    let name = p.objective.name();
    if task != Task::Regression && !matches!(p.objective, Objective::Auto) {
        return Err(param(
            "objective",
            format!(
                "'{name}' is a regression objective, the task is {}; use 'auto'",
                task.name()
            ),
        ));
    }
    match p.objective {
        Objective::Huber if !(p.alpha.is_finite() && p.alpha > 0.0) => Err(param(
            "alpha",
            format!("must be finite and > 0 for huber, found {}", show(p.alpha)),
        )),
        Objective::Quantile if !(p.alpha > 0.0 && p.alpha < 1.0) => Err(param(
            "alpha",
            format!("must be in (0, 1) for quantile, found {}", show(p.alpha)),
        )),
        Objective::Tweedie
            if !(p.tweedie_variance_power >= 1.0 && p.tweedie_variance_power < 2.0) =>
        {
            Err(param(
                "tweedie_variance_power",
                format!(
                    "must be in [1, 2), found {}",
                    show(p.tweedie_variance_power)
                ),
            ))
        }
        Objective::Poisson
            if !(p.poisson_max_delta_step.is_finite() && p.poisson_max_delta_step > 0.0) =>
        {
            Err(param(
                "poisson_max_delta_step",
                format!(
                    "must be finite and > 0, found {}",
                    show(p.poisson_max_delta_step)
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// GOSS rates in range, and GOSS not mixed with bagging.
pub(crate) fn row_sampling(p: &GbdtParams) -> Result<(), LearnError> {
    if p.data_sample_strategy != SampleStrategy::Goss {
        return Ok(());
    }
    fraction("top_rate", p.top_rate)?;
    fraction("other_rate", p.other_rate)?;
    if p.top_rate + p.other_rate > 1.0 {
        return Err(param(
            "other_rate",
            format!(
                "top_rate + other_rate must be at most 1, found {} + {}",
                p.top_rate, p.other_rate
            ),
        ));
    }
    if p.bagging_freq > 0 && p.bagging_fraction < 1.0 {
        return Err(param(
            "data_sample_strategy",
            format!(
                "'goss' cannot be combined with bagging (bagging_fraction {} every {} rounds); \
                 set bagging_fraction = 1 or bagging_freq = 0",
                p.bagging_fraction, p.bagging_freq
            ),
        ));
    }
    Ok(())
}

/// `base_score` is a prediction the loss's link can take, and is not mixed with
/// `boost_from_average = false`.
pub(crate) fn base_score(p: &GbdtParams, loss: Loss) -> Result<(), LearnError> {
    let Some(v) = p.base_score else {
        return Ok(());
    };
    let fail = |message: String| Err(param("base_score", message));
    if !p.boost_from_average {
        return fail(
            "cannot be set with boost_from_average = false (that starts from a raw score of 0); \
             remove one of them"
                .into(),
        );
    }
    match loss {
        Loss::Multiclass { .. } => fail(
            "is not supported for multiclass (one score per class); leave it unset, or set \
             boost_from_average = false to start every class at 0"
                .into(),
        ),
        Loss::Binary if !(v > 0.0 && v < 1.0) => fail(format!(
            "must be a probability in (0, 1) for binary classification, found {}",
            show(v)
        )),
        Loss::Poisson { .. } | Loss::Tweedie { .. } | Loss::Gamma
            if !(v.is_finite() && v > 0.0) =>
        {
            fail(format!(
                "must be finite and > 0 for the '{}' objective (log link), found {}",
                p.objective.name(),
                show(v)
            ))
        }
        _ if !v.is_finite() => fail(format!("must be finite, found {}", show(v))),
        _ => Ok(()),
    }
}

/// Targets the loss can take: >= 0 and not all zero for Poisson and Tweedie, > 0 for gamma.
pub(crate) fn objective_targets(y: &[f64], loss: Loss, what: &str) -> Result<(), LearnError> {
    let (name, positive) = match loss {
        Loss::Poisson { .. } => ("poisson", false),
        Loss::Tweedie { .. } => ("tweedie", false),
        Loss::Gamma => ("gamma", true),
        _ => return Ok(()),
    };
    // Targets are finite here (checked by `dataset`).
    let bad = |v: f64| if positive { v <= 0.0 } else { v < 0.0 };
    if let Some((i, &v)) = y.iter().enumerate().find(|&(_, &v)| bad(v)) {
        let expected = if positive { "> 0" } else { ">= 0" };
        return Err(data(format!(
            "{what} target at row {i} is {}: the {name} objective needs targets {expected}",
            show(v)
        )));
    }
    if !positive && y.iter().all(|&v| v == 0.0) {
        return Err(data(format!(
            "{what} targets are all zero: the {name} objective needs a positive mean"
        )));
    }
    Ok(())
}

fn data(msg: String) -> LearnError {
    LearnError::InvalidData(msg)
}

/// Shape, finiteness and category codes of `x`, and targets `y` for `task`.
pub(crate) fn dataset(x: &Matrix, y: &[f64], task: Task, what: &str) -> Result<(), LearnError> {
    if x.n_rows == 0 {
        return Err(data(format!("{what} set has zero rows")));
    }
    if x.n_rows > u32::MAX as usize {
        return Err(data(format!(
            "{what} set has {} rows, at most {} are supported",
            x.n_rows,
            u32::MAX
        )));
    }
    if x.data.len() != x.n_rows * x.n_cols || x.feature_kinds.len() != x.n_cols {
        return Err(data(format!(
            "{what} matrix is inconsistent: {} values, {} kinds for {} x {}",
            x.data.len(),
            x.feature_kinds.len(),
            x.n_rows,
            x.n_cols
        )));
    }
    if y.len() != x.n_rows {
        return Err(data(format!(
            "{what} set has {} rows but {} targets",
            x.n_rows,
            y.len()
        )));
    }
    let name = |j: usize| {
        x.feature_names
            .get(j)
            .cloned()
            .unwrap_or_else(|| format!("#{j}"))
    };
    for (i, row) in x.data.chunks(x.n_cols.max(1)).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if v.is_infinite() {
                return Err(data(format!(
                    "{what} feature '{}' is infinite at row {i}",
                    name(j)
                )));
            }
            if let FeatureKind::Categorical { n_categories } = x.feature_kinds[j] {
                let valid_code = v >= 0.0 && v.fract() == 0.0 && v < n_categories as f64;
                if !v.is_nan() && !valid_code {
                    return Err(data(format!(
                        "{what} feature '{}' at row {i}: category code {} is not an integer in 0..{n_categories}",
                        name(j),
                        show(v)
                    )));
                }
            }
        }
    }
    targets(y, task, what)
}

fn targets(y: &[f64], task: Task, what: &str) -> Result<(), LearnError> {
    let n_classes = match task {
        Task::Regression => 0,
        Task::Binary => 2,
        Task::Multiclass { n_classes } => {
            if n_classes < 2 {
                return Err(data(format!(
                    "multiclass needs at least 2 classes, found {n_classes}"
                )));
            }
            n_classes
        }
    };
    for (i, &v) in y.iter().enumerate() {
        if !v.is_finite() {
            return Err(data(format!(
                "{what} target is not finite at row {i}: {}",
                show(v)
            )));
        }
        if n_classes > 0 && !(v >= 0.0 && v.fract() == 0.0 && v < n_classes as f64) {
            return Err(data(format!(
                "{what} target at row {i}: class index {} is out of range 0..{n_classes}",
                show(v)
            )));
        }
    }
    Ok(())
}

/// The validation matrix must have the training matrix's features.
pub(crate) fn same_features(train: &Matrix, valid: &Matrix) -> Result<(), LearnError> {
    if train.n_cols != valid.n_cols || train.feature_kinds != valid.feature_kinds {
        return Err(data(format!(
            "validation set has {} features of other kinds than the {} training features",
            valid.n_cols, train.n_cols
        )));
    }
    Ok(())
}
