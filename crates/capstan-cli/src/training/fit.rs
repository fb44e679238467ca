//! Fitting the pipeline and the learner, with early stopping and cross-validation.

use anyhow::{Context, Result};
use capstan_features::{CleaningReport, FittedPipeline, PipelineMode};
use capstan_frame::{Frame, Matrix};
use capstan_learn::{Model, Task, gbdt, linear};

use super::split::class_strata_of;
use super::{Progress, ValidCurve};
use crate::config::{ModelKind, SplitMethod, TrainConfig};
use crate::evaluation::{self, MetricMap};
use crate::target::Target;

/// The fitted pipeline and what its cleaning changed in `frame`.
pub(super) fn fit_pipeline(
    cfg: &TrainConfig,
    frame: &Frame,
    target: &str,
) -> Result<(FittedPipeline, CleaningReport)> {
    let mode = match cfg.model {
        ModelKind::Gbdt => PipelineMode::Tree,
        ModelKind::Linear => PipelineMode::Linear,
    };
    // The target and the weights are not inputs: predictions need neither.
    let mut exclude = vec![target];
    exclude.extend(cfg.weight_column.as_deref());
    Ok(FittedPipeline::fit_with_report(
        &cfg.features,
        mode,
        frame,
        &exclude,
    )?)
}

pub(super) struct Fitted {
    pub model: Model,
    pub valid_metrics: Option<MetricMap>,
    pub valid_curve: Option<ValidCurve>,
    pub best_iteration: Option<usize>,
}

/// Fits the configured learner; `weights` (one per row of `x`) need the GBDT, which
/// `validate_config` checks.
pub(super) fn fit_model(
    cfg: &TrainConfig,
    task: Task,
    x: &Matrix,
    y: &[f64],
    weights: Option<&[f64]>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Fitted> {
    match cfg.model {
        ModelKind::Linear => {
            if weights.is_some() {
                return Err(crate::exit::input_error(
                    "the linear model does not take row weights",
                ));
            }
            let model = linear::fit(x, y, task, &cfg.linear).context("linear model")?;
            Ok(Fitted {
                model: Model::Linear(model),
                valid_metrics: None,
                valid_curve: None,
                best_iteration: None,
            })
        }
        ModelKind::Gbdt => {
            let mut params = cfg.gbdt.clone();
            params.seed = cfg.seed;
            super::constraints::apply(&cfg.constraints, &x.feature_names, &mut params)?;
            let total = params.n_trees;
            let mut curve = Vec::new();
            let mut report = |it: gbdt::Iteration| {
                let valid = it.valid_metric.or(it.valid_loss);
                curve.extend(valid);
                progress(Progress::Iteration {
                    done: it.iteration + 1,
                    total,
                    valid,
                })
            };
            let objective = super::objective_metric(cfg);
            if params.early_stopping_rounds.is_none() {
                let model = fit_gbdt((x, y), weights, None, task, &params, &mut report)?;
                return Ok(Fitted {
                    model: Model::Gbdt(model),
                    valid_metrics: None,
                    valid_curve: None,
                    best_iteration: None,
                });
            }
            // Early stopping watches a validation part carved out of the training rows:
            // the latest rows for a time split (rows arrive in time order), else a random part.
            let split = match cfg.split.method {
                SplitMethod::Time => {
                    let order: Vec<usize> = (0..x.n_rows).collect();
                    capstan_eval::time_ordered_holdout(&order, cfg.split.valid_fraction)?
                }
                SplitMethod::Random => {
                    let strata = class_strata_of(task, y);
                    capstan_eval::holdout(
                        x.n_rows,
                        cfg.split.valid_fraction,
                        cfg.seed.wrapping_add(1),
                        strata.as_deref(),
                    )?
                }
            };
            let x_fit = x.take_rows(&split.train);
            let y_fit: Vec<f64> = split.train.iter().map(|&i| y[i]).collect();
            let x_valid = x.take_rows(&split.test);
            let y_valid: Vec<f64> = split.test.iter().map(|&i| y[i]).collect();
            let w_fit = crate::weights::take(weights, &split.train);
            let w_valid = crate::weights::take(weights, &split.test);
            // Early stopping watches the unweighted validation loss (the library's), or the
            // unweighted `early_stopping_metric`.
            let model = fit_gbdt(
                (&x_fit, &y_fit),
                w_fit.as_deref(),
                Some((&x_valid, &y_valid)),
                task,
                &params,
                &mut report,
            )?;
            let valid = evaluation::split_score(
                task,
                &y_valid,
                &model.predict(&x_valid),
                cfg.threshold,
                objective,
                w_valid.as_deref(),
            )?
            .metrics;
            let best = model.best_iteration;
            Ok(Fitted {
                model: Model::Gbdt(model),
                valid_metrics: Some(valid),
                valid_curve: Some(ValidCurve {
                    metric: ValidCurve::metric_name(cfg).to_string(),
                    values: curve,
                }),
                best_iteration: best,
            })
        }
    }
}

/// [`gbdt::fit`], or [`gbdt::fit_weighted`] with weights.
fn fit_gbdt(
    train: (&Matrix, &[f64]),
    weights: Option<&[f64]>,
    valid: Option<(&Matrix, &[f64])>,
    task: Task,
    params: &gbdt::GbdtParams,
    report: &mut dyn FnMut(gbdt::Iteration),
) -> Result<gbdt::GbdtModel> {
    match weights {
        Some(w) => gbdt::fit_weighted(train, w, valid, task, params, report),
        None => gbdt::fit(train, valid, task, params, report),
    }
    .context("gbdt")
}

pub(super) fn cross_validate(
    cfg: &TrainConfig,
    frame: &Frame,
    y: &[f64],
    weights: Option<&[f64]>,
    target: &Target,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<MetricMap>> {
    // Time splits validate on expanding windows: each fold is tested on later rows only.
    let folds = match cfg.split.method {
        SplitMethod::Time => capstan_eval::time_series_folds(frame.n_rows(), cfg.split.cv_folds)?,
        SplitMethod::Random => {
            let strata = class_strata_of(target.task, y);
            capstan_eval::kfold(
                frame.n_rows(),
                cfg.split.cv_folds,
                cfg.seed,
                true,
                strata.as_deref(),
            )?
        }
    };
    let mut out = Vec::with_capacity(folds.len());
    for (i, fold) in folds.iter().enumerate() {
        progress(Progress::Stage(format!(
            "cross-validating, fold {}/{}",
            i + 1,
            folds.len()
        )));
        let fit_frame = frame.take(&fold.train);
        let held_frame = frame.take(&fold.test);
        let (pipeline, _) = fit_pipeline(cfg, &fit_frame, &target.name)?;
        let x_fit = pipeline.transform(&fit_frame)?;
        let x_held = pipeline.transform(&held_frame)?;
        let y_fit: Vec<f64> = fold.train.iter().map(|&i| y[i]).collect();
        let y_held: Vec<f64> = fold.test.iter().map(|&i| y[i]).collect();
        let w_fit = crate::weights::take(weights, &fold.train);
        let w_held = crate::weights::take(weights, &fold.test);
        let fitted = fit_model(cfg, target.task, &x_fit, &y_fit, w_fit.as_deref(), progress)?;
        let held = fitted.model.predict(&x_held);
        let score = evaluation::split_score(
            target.task,
            &y_held,
            &held,
            cfg.threshold,
            super::objective_metric(cfg),
            w_held.as_deref(),
        )?;
        out.push(score.metrics);
    }
    Ok(out)
}
