//! The training job as a library call: data -> target -> split -> pipeline -> model ->
//! metrics -> bundle. The `train` command wraps it with the store and the terminal.

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;
use capstan_bundle::{Bundle, FORMAT_VERSION, Lineage, Manifest, TargetInfo};
use capstan_features::FittedPipeline;
use capstan_frame::{DataType, Frame, ReadOptions};
use capstan_io::{sha256_hex, utc_now_rfc3339};
use capstan_learn::Predictions;

mod constraints;
mod fairness;
mod fit;
mod split;

use crate::config::TrainConfig;
use crate::evaluation::{self, MetricMap};
use crate::exit::input_error;
use crate::source::DataSource;
use crate::target;
use fit::{cross_validate, fit_model, fit_pipeline};
use split::make_split;

/// Everything a training job produced.
#[derive(Debug)]
pub struct TrainOutcome {
    pub bundle: Bundle,
    /// Metrics per split ("train", "valid", "test", "cv_mean").
    pub metrics: BTreeMap<String, MetricMap>,
    /// Metrics of each cross-validation fold.
    pub cv_folds: Vec<MetricMap>,
    /// Rows of the input file (0-based, header excluded) in the test split.
    pub test_rows: Vec<usize>,
    /// The model's predictions on the test split, as made during evaluation.
    pub test_predictions: Predictions,
    /// Confusion matrix on the test split (classification), `[true][predicted]`.
    pub test_confusion: Option<Vec<Vec<u64>>>,
    pub warnings: Vec<String>,
    /// The content hash of the data as read (before rows without a target were dropped).
    pub dataset_version: capstan_quality::version::DatasetVersion,
    pub n_rows: usize,
    pub n_train: usize,
    pub n_test: usize,
    pub n_features: usize,
    pub best_iteration: Option<usize>,
    /// With early stopping: the validation value after each round.
    pub valid_curve: Option<ValidCurve>,
    /// What `features.clean` changed (duplicates, coerced and clipped columns).
    pub cleaning: capstan_features::CleaningReport,
    /// The bias check of the sensitive columns, before the split.
    pub bias: Option<capstan_quality::bias::BiasReport>,
    /// Fairness metrics on the test split per sensitive column (binary tasks).
    pub fairness: BTreeMap<String, capstan_eval::FairnessMetrics>,
}

/// Training progress, for a progress bar.
#[derive(Debug, Clone)]
pub enum Progress {
    Stage(String),
    /// A boosting round is done; `valid`: the validation value early stopping watches.
    Iteration {
        done: usize,
        total: usize,
        valid: Option<f64>,
    },
}

/// The validation value early stopping watched after each round: `metric` is the
/// `early_stopping_metric`, or `loss` (the objective's mean loss).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ValidCurve {
    pub metric: String,
    pub values: Vec<f64>,
}

impl ValidCurve {
    /// The name of what early stopping watches under `cfg`.
    pub fn metric_name(cfg: &TrainConfig) -> &str {
        cfg.gbdt.early_stopping_metric.as_deref().unwrap_or("loss")
    }
}

pub fn read_options(cfg: &TrainConfig) -> Result<ReadOptions> {
    crate::source::read_options(cfg.delimiter, cfg.schema.as_deref())
}

pub fn train(cfg: &TrainConfig, progress: &mut dyn FnMut(Progress)) -> Result<TrainOutcome> {
    let started_at = utc_now_rfc3339();
    let data_path = cfg.data.as_deref().ok_or_else(|| {
        input_error("no training data: pass --data FILE or set `data` in the config")
    })?;
    let target_name = cfg.target.as_deref().ok_or_else(|| {
        input_error("no target: pass --target COLUMN or set `target` in the config")
    })?;
    let data_source = DataSource::new(data_path, cfg.query.as_deref())?;
    let source = data_source.describe();
    validate_config(cfg)?;

    progress(Progress::Stage("reading data".into()));
    let frame = data_source.read(&read_options(cfg)?)?;
    // The version of the data as read, before any row is dropped.
    let dataset_version = capstan_quality::version::dataset_version(&frame, &Default::default());
    // A query has no bytes: its hash is the content hash of its result.
    let dataset_sha256 = match data_source.bytes_sha256()? {
        Some(sha256) => sha256,
        None => dataset_version.version.clone(),
    };
    let mut warnings = Vec::new();
    let rules = match &cfg.rules {
        Some(path) => Some(crate::commands::data::validate::gate_training(
            &frame,
            &source,
            path,
            &mut warnings,
        )?),
        None => None,
    };

    let target = target::encode(&frame, target_name, cfg.task, &source)?;
    if target.rows.len() < frame.n_rows() {
        warnings.push(format!(
            "dropped {} rows whose target '{target_name}' is empty",
            frame.n_rows() - target.rows.len()
        ));
    }
    let frame = if target.rows.len() < frame.n_rows() {
        frame.take(&target.rows)
    } else {
        frame
    };
    let (frame, target, duplicates_dropped) = drop_duplicates(cfg, frame, target);
    let weights = match &cfg.weight_column {
        Some(name) => Some(crate::weights::read(&frame, name, &target.rows, &source)?),
        None => None,
    };
    let min_rows = 10;
    if frame.n_rows() < min_rows {
        return Err(input_error(format!(
            "{source}: only {} rows with a target; training needs at least {min_rows}",
            frame.n_rows()
        )));
    }

    let bias = fairness::bias_check(
        cfg,
        &frame,
        target_name,
        target.task,
        &source,
        &mut warnings,
    )?;

    let split = make_split(cfg, &frame, &target, &source)?;
    let train_frame = frame.take(&split.train);
    let test_frame = frame.take(&split.test);
    let y_train: Vec<f64> = split.train.iter().map(|&i| target.y[i]).collect();
    let y_test: Vec<f64> = split.test.iter().map(|&i| target.y[i]).collect();
    let w_train = crate::weights::take(weights.as_deref(), &split.train);
    let w_test = crate::weights::take(weights.as_deref(), &split.test);

    let mut cv_folds = Vec::new();
    if cfg.split.cv_folds > 0 {
        cv_folds = cross_validate(
            cfg,
            &train_frame,
            &y_train,
            w_train.as_deref(),
            &target,
            progress,
        )?;
    }

    progress(Progress::Stage("fitting features".into()));
    let (pipeline, mut cleaning) = fit_pipeline(cfg, &train_frame, target_name)?;
    cleaning.duplicates_dropped = duplicates_dropped;
    warnings.extend(identifier_warnings(&pipeline, &train_frame));
    let x_train = pipeline.transform(&train_frame)?;
    let x_test = pipeline.transform(&test_frame)?;

    progress(Progress::Stage("training".into()));
    let fitted = fit_model(
        cfg,
        target.task,
        &x_train,
        &y_train,
        w_train.as_deref(),
        progress,
    )?;

    progress(Progress::Stage("evaluating".into()));
    let objective = objective_metric(cfg);
    let mut metrics = BTreeMap::new();
    let p_train = fitted.model.predict(&x_train);
    let train_score = evaluation::split_score(
        target.task,
        &y_train,
        &p_train,
        cfg.threshold,
        objective,
        w_train.as_deref(),
    )?;
    metrics.insert("train".to_string(), train_score.metrics);
    if let Some(valid) = fitted.valid_metrics {
        metrics.insert("valid".to_string(), valid);
    }
    let p_test = fitted.model.predict(&x_test);
    let mut test_confusion = None;
    if !y_test.is_empty() {
        let test = evaluation::split_score(
            target.task,
            &y_test,
            &p_test,
            cfg.threshold,
            objective,
            w_test.as_deref(),
        )?;
        if let Some(w) = evaluation::overfit_warning(target.task, &metrics["train"], &test.metrics)
        {
            warnings.push(w);
        }
        if w_test.as_ref().is_some_and(|w| w.iter().all(|&v| v == 0.0)) {
            warnings.push(
                "every test row has weight zero: the test split has no weighted metrics".into(),
            );
        }
        metrics.insert("test".to_string(), test.metrics);
        test_confusion = test.confusion;
    }
    if !cv_folds.is_empty() {
        metrics.insert("cv_mean".to_string(), evaluation::mean(&cv_folds));
    }
    let fairness = fairness::test_fairness(
        cfg,
        target.task,
        &test_frame,
        &y_test,
        &p_test,
        &source,
        &mut warnings,
    )?;

    let config_json = cfg.to_json();
    let config_sha256 = sha256_hex(&serde_json::to_vec(&config_json)?);
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        capstan_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: utc_now_rfc3339(),
        input_schema: pipeline.input_schema.clone(),
        target: TargetInfo {
            name: target.name.clone(),
            task: target.task,
            classes: target.classes.clone(),
        },
        metrics: metrics.clone(),
        lineage: Lineage {
            dataset_path: source.clone(),
            dataset_sha256,
            query: data_source.query().map(str::to_string),
            dataset_version: Some(dataset_version.version.clone()),
            config: config_json,
            config_sha256,
            seed: cfg.seed,
            git_commit: git_commit(),
            started_at,
            finished_at: utc_now_rfc3339(),
        },
        rules,
    };
    let n_features = x_train.n_cols;
    let test_rows = split.test.iter().map(|&i| target.rows[i]).collect();
    Ok(TrainOutcome {
        bundle: Bundle {
            manifest,
            pipeline,
            model: fitted.model,
        },
        metrics,
        cv_folds,
        test_rows,
        test_predictions: p_test,
        test_confusion,
        warnings,
        dataset_version,
        n_rows: frame.n_rows(),
        n_train: split.train.len(),
        n_test: split.test.len(),
        n_features,
        best_iteration: fitted.best_iteration,
        valid_curve: fitted.valid_curve,
        cleaning,
        bias,
        fairness,
    })
}

/// The metric of the GBDT objective reported next to the task's, if it has one.
fn objective_metric(cfg: &TrainConfig) -> Option<evaluation::ObjectiveMetric> {
    match cfg.model {
        crate::config::ModelKind::Gbdt => evaluation::ObjectiveMetric::of_params(&cfg.gbdt),
        crate::config::ModelKind::Linear => None,
    }
}

/// With `features.clean.dedup`, keeps the first of every set of identical rows (target
/// included) before the split, so no row is in both train and test.
fn drop_duplicates(
    cfg: &TrainConfig,
    frame: Frame,
    mut target: target::Target,
) -> (Frame, target::Target, usize) {
    if !cfg.features.clean.dedup {
        return (frame, target, 0);
    }
    let columns: Vec<&capstan_frame::Column> = frame.columns().iter().collect();
    let keep = capstan_frame::unique_rows(&columns, frame.n_rows());
    let dropped = frame.n_rows() - keep.len();
    if dropped == 0 {
        return (frame, target, 0);
    }
    target.y = keep.iter().map(|&i| target.y[i]).collect();
    target.rows = keep.iter().map(|&i| target.rows[i]).collect();
    (frame.take(&keep), target, dropped)
}

fn validate_config(cfg: &TrainConfig) -> Result<()> {
    let f = cfg.split.test_fraction;
    if !(0.0..1.0).contains(&f) {
        return Err(input_error(format!(
            "split.test_fraction must be in [0, 1), found {f}"
        )));
    }
    let v = cfg.split.valid_fraction;
    if !(v > 0.0 && v < 1.0) {
        return Err(input_error(format!(
            "split.valid_fraction must be in (0, 1), found {v}"
        )));
    }
    evaluation::check_threshold(cfg.threshold)?;
    check_weight_column(cfg)?;
    if cfg.split.cv_folds == 1 {
        return Err(input_error(
            "split.cv_folds must be 0 (off) or at least 2, found 1",
        ));
    }
    constraints::check(cfg)
}

/// A weight column needs a learner that takes weights and cannot be an input or the target.
fn check_weight_column(cfg: &TrainConfig) -> Result<()> {
    let Some(name) = &cfg.weight_column else {
        return Ok(());
    };
    if cfg.model == crate::config::ModelKind::Linear {
        return Err(input_error(format!(
            "weight column '{name}': the linear model does not take row weights; \
             use --model gbdt or leave out the weight column"
        )));
    }
    let objective = cfg.gbdt.objective;
    if matches!(
        objective,
        capstan_learn::gbdt::Objective::L1 | capstan_learn::gbdt::Objective::Quantile
    ) {
        return Err(input_error(format!(
            "weight column '{name}': the gbdt objective '{}' does not take row weights \
             (l1 and quantile do not)",
            objective.name()
        )));
    }
    if cfg.target.as_deref() == Some(name.as_str()) {
        return Err(input_error(format!(
            "weight column '{name}' is also the target"
        )));
    }
    if let Some(include) = &cfg.features.include
        && include.contains(name)
    {
        return Err(input_error(format!(
            "weight column '{name}' is listed in features.include; weights cannot be an input"
        )));
    }
    Ok(())
}

/// Text columns with a distinct value in (almost) every row cannot generalize to new rows.
fn identifier_warnings(pipeline: &FittedPipeline, frame: &Frame) -> Vec<String> {
    let n = frame.n_rows();
    if n < 50 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (field, t) in pipeline.input_schema.fields.iter().zip(&pipeline.columns) {
        // Text read as numbers (`clean.coerce`) is a numeric feature.
        let categorical = matches!(t, capstan_features::ColumnTransform::Categorical(_));
        let Some(col) = frame
            .column(&field.name)
            .filter(|c| categorical && c.dtype() == DataType::String)
        else {
            continue;
        };
        let distinct: HashSet<&str> = (0..n).filter_map(|i| col.str_at(i)).collect();
        if distinct.len() as f64 > 0.9 * n as f64 {
            out.push(format!(
                "column '{}' looks like an identifier ({} distinct values in {n} training rows) and cannot generalize to new rows; consider --drop {}",
                field.name,
                distinct.len(),
                field.name
            ));
        }
    }
    out
}

/// The commit of the capstan source tree, when built from a git checkout.
fn git_commit() -> Option<String> {
    option_env!("CAPSTAN_GIT_COMMIT").map(str::to_string)
}
