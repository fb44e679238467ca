//! `capstan train`: fit a model, evaluate it, record the run and its bundle.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use capstan_store::{MetricRecord, NewRun};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{ModelKind, SplitMethod, TaskName, TrainConfig};
use crate::evaluation;
use crate::store_location::StoreLocation;
use crate::table;
use crate::training::{self, Progress, TrainOutcome, ValidCurve};

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    #[arg(long, value_name = "SOURCE", help = concat!("Training data: ", crate::source::data_help!()))]
    pub data: Option<PathBuf>,
    #[arg(long, value_name = "SQL", help = crate::source::QUERY_HELP)]
    pub query: Option<String>,
    /// The column to predict
    #[arg(long, value_name = "COLUMN")]
    pub target: Option<String>,
    /// Learner: gradient-boosted trees or a (logistic) linear model [default: gbdt]
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// Override the task inferred from the target
    #[arg(long, value_enum)]
    pub task: Option<TaskName>,
    /// A TOML file with any of these settings plus [split], [features], [gbdt], [linear]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seed for splits, sampling and the learner [default: 42]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Columns to leave out, comma separated (ids, leaky columns)
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub drop: Vec<String>,
    /// Fraction of rows held out for test metrics [default: 0.2]
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// How the test rows are chosen [default: random, stratified for classification]
    #[arg(long, value_enum)]
    pub split: Option<SplitMethod>,
    /// Sort by this column before a time split
    #[arg(long, value_name = "COLUMN")]
    pub time_column: Option<String>,
    /// Also run k-fold cross-validation on the training rows
    #[arg(long, value_name = "K")]
    pub cv: Option<usize>,
    /// Number of boosting rounds (gbdt)
    #[arg(long)]
    pub n_trees: Option<usize>,
    /// Learning rate (gbdt)
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Maximum leaves per tree (gbdt)
    #[arg(long)]
    pub num_leaves: Option<usize>,
    /// Stop when the validation loss has not improved for N rounds (gbdt)
    #[arg(long, value_name = "N")]
    pub early_stopping: Option<usize>,
    /// Watch this validation metric instead of the loss for --early-stopping (gbdt), e.g.
    /// roc_auc, accuracy, f1_macro, mae
    #[arg(long, value_name = "NAME")]
    pub early_stopping_metric: Option<String>,
    /// With --early-stopping: print the validation value every N rounds to stderr
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub log_every: Option<u64>,
    /// A schema file (from `capstan schema infer`) forcing column types
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Validation rules (TOML) the training data must pass; their row rules go into the
    /// bundle and are counted on live traffic
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Field delimiter for CSV input [default: ',' or tab for .tsv]
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Binary classification: predict the positive class when P(positive) >= this [default: 0.5]
    #[arg(long)]
    pub threshold: Option<f64>,
    /// A name for the run
    #[arg(long)]
    pub name: Option<String>,
    /// Sensitive columns, comma separated: bias check before training, fairness metrics
    /// on the test split (binary tasks); they need not be features (--drop them)
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub sensitive: Vec<String>,
    /// A numeric column of row weights (finite, >= 0): gbdt training and weighted metrics;
    /// not a feature, so predictions do not need it
    #[arg(long, value_name = "COLUMN")]
    pub weight_column: Option<String>,
    /// Also write the model bundle to this file
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
    /// The config file (if any) with the flags laid over it.
    pub fn resolve(&self) -> Result<TrainConfig> {
        let mut cfg = match &self.config {
            Some(path) => TrainConfig::from_file(path)?,
            None => TrainConfig::default(),
        };
        macro_rules! set {
            ($flag:expr => $field:expr) => {
                if let Some(v) = $flag.clone() {
                    $field = v;
                }
            };
        }
        set!(self.data.clone().map(Some) => cfg.data);
        set!(self.query.clone().map(Some) => cfg.query);
        set!(self.target.clone().map(Some) => cfg.target);
        set!(self.model => cfg.model);
        set!(self.task.map(Some) => cfg.task);
        set!(self.seed => cfg.seed);
        set!(self.threshold => cfg.threshold);
        set!(self.test_fraction => cfg.split.test_fraction);
        set!(self.split => cfg.split.method);
        set!(self.time_column.clone().map(Some) => cfg.split.time_column);
        set!(self.cv => cfg.split.cv_folds);
        set!(self.n_trees => cfg.gbdt.n_trees);
        set!(self.learning_rate => cfg.gbdt.learning_rate);
        set!(self.num_leaves => cfg.gbdt.num_leaves);
        set!(self.early_stopping.map(Some) => cfg.gbdt.early_stopping_rounds);
        set!(self.early_stopping_metric.clone().map(Some) => cfg.gbdt.early_stopping_metric);
        set!(self.schema.clone().map(Some) => cfg.schema);
        set!(self.rules.clone().map(Some) => cfg.rules);
        set!(self.delimiter.map(Some) => cfg.delimiter);
        set!(self.name.clone().map(Some) => cfg.name);
        set!(self.weight_column.clone().map(Some) => cfg.weight_column);
        if !self.sensitive.is_empty() {
            cfg.sensitive = self.sensitive.clone();
        }
        cfg.features.drop.extend(self.drop.iter().cloned());
        Ok(cfg)
    }
}

pub fn run(args: &TrainArgs, store: &StoreLocation) -> Result<()> {
    let cfg = args.resolve()?;
    if args.log_every.is_some() && cfg.gbdt.early_stopping_rounds.is_none() {
        return Err(crate::exit::input_error(
            "--log-every prints validation values: it needs --early-stopping (or \
             early_stopping_rounds in [gbdt])",
        ));
    }
    let bar = ProgressBar::new(0);
    if args.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let stage_style =
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("static template");
    bar.set_style(stage_style.clone());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let trees_style =
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} trees {elapsed}")
            .expect("static template")
            .progress_chars("=> ");
    let watched = ValidCurve::metric_name(&cfg);
    let outcome = training::train(&cfg, &mut |p| match p {
        Progress::Stage(s) => {
            bar.set_style(stage_style.clone());
            bar.set_length(0);
            bar.set_message(s);
        }
        Progress::Iteration { done, total, valid } => {
            if bar.length() != Some(total as u64) {
                bar.set_style(trees_style.clone());
                bar.set_length(total as u64);
            }
            bar.set_position(done as u64);
            if let Some(v) = valid {
                let line = format!("valid {watched} {v:.6}");
                if args.log_every.is_some_and(|n| done as u64 % n == 0) {
                    bar.suspend(|| eprintln!("[{done}/{total}] {line}"));
                }
                bar.set_message(format!("training, {line}"));
            }
        }
    });
    bar.finish_and_clear();
    let outcome = outcome?;

    let bundle_bytes = outcome.bundle.to_bytes()?;
    let store = store.open()?;
    let artifact = store.put_artifact(&bundle_bytes)?;
    let run_id = store.record_run(&new_run(&cfg, &outcome, artifact.clone()))?;
    crate::commands::data::versions::record_for_run(
        &store,
        &outcome.dataset_version,
        &outcome.bundle.manifest.lineage.dataset_path,
        &run_id,
    )?;
    if let Some(out) = &args.out {
        outcome.bundle.write(out)?;
    }

    if args.json {
        let report = serde_json::json!({
            "run_id": run_id,
            "task": outcome.bundle.manifest.target.task.name(),
            "model": cfg.model.name(),
            "weight_column": cfg.weight_column,
            "rows": outcome.n_rows,
            "train_rows": outcome.n_train,
            "test_rows": outcome.n_test,
            "features": outcome.n_features,
            "best_iteration": outcome.best_iteration,
            "valid_curve": outcome.valid_curve,
            "metrics": outcome.metrics,
            "cv_folds": outcome.cv_folds,
            "test_confusion": outcome.test_confusion,
            "model_sha256": artifact.sha256,
            "warnings": outcome.warnings,
            "cleaning": outcome.cleaning,
            "bias": outcome.bias,
            "fairness": outcome.fairness,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&cfg, &outcome, &run_id);
        if let Some(out) = &args.out {
            crate::outln!("bundle written to {}", out.display());
        }
    }
    Ok(())
}

fn new_run(
    cfg: &TrainConfig,
    outcome: &TrainOutcome,
    artifact: capstan_store::ArtifactRef,
) -> NewRun {
    let manifest = &outcome.bundle.manifest;
    let mut metrics = Vec::new();
    for (split, values) in &outcome.metrics {
        for (name, value) in values {
            metrics.push(MetricRecord {
                split: split.clone(),
                fold: None,
                name: name.clone(),
                value: *value,
            });
        }
    }
    for (name, value) in evaluation::fairness_metric_map(&outcome.fairness) {
        metrics.push(MetricRecord {
            split: "test".into(),
            fold: None,
            name,
            value,
        });
    }
    for (fold, values) in outcome.cv_folds.iter().enumerate() {
        for (name, value) in values {
            metrics.push(MetricRecord {
                split: "cv".into(),
                fold: Some(fold as u32),
                name: name.clone(),
                value: *value,
            });
        }
    }
    let mut tags = BTreeMap::new();
    tags.insert("target".to_string(), manifest.target.name.clone());
    if let Some(best) = outcome.best_iteration {
        tags.insert("best_iteration".to_string(), best.to_string());
    }
    if let Some(weight) = &cfg.weight_column {
        tags.insert("weight_column".to_string(), weight.clone());
    }
    NewRun {
        name: cfg.name.clone(),
        task: manifest.target.task.name().to_string(),
        model_kind: cfg.model.name().to_string(),
        dataset_sha256: manifest.lineage.dataset_sha256.clone(),
        params: cfg.to_json(),
        lineage: serde_json::to_value(&manifest.lineage).expect("lineage is plain data"),
        metrics,
        tags,
        artifacts: vec![("model".to_string(), artifact)],
        started_at: manifest.lineage.started_at.clone(),
        finished_at: manifest.lineage.finished_at.clone(),
    }
}

fn print_report(cfg: &TrainConfig, outcome: &TrainOutcome, run_id: &str) {
    let target = &outcome.bundle.manifest.target;
    crate::outln!(
        "trained {} ({}) on {} rows ({} train, {} test), {} features; target '{}'{}{}",
        cfg.model.name(),
        target.task.name(),
        outcome.n_rows,
        outcome.n_train,
        outcome.n_test,
        outcome.n_features,
        target.name,
        match &cfg.weight_column {
            Some(w) => format!("; row weights '{w}'"),
            None => String::new(),
        },
        match (outcome.best_iteration, &outcome.valid_curve) {
            // `best_iteration` counts rounds from 1 already.
            (Some(b), Some(curve)) => match curve.values.get(b.wrapping_sub(1)) {
                Some(v) => format!(
                    "; best iteration {b} of {} (validation {} {v:.6})",
                    curve.values.len(),
                    curve.metric
                ),
                None => format!("; best iteration {b}"),
            },
            (Some(b), None) => format!("; best iteration {b}"),
            _ => String::new(),
        }
    );
    let splits: Vec<&str> = ["train", "valid", "test", "cv_mean"]
        .into_iter()
        .filter(|s| outcome.metrics.contains_key(*s))
        .collect();
    let names: Vec<&String> = outcome
        .metrics
        .values()
        .next()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    let mut header = vec!["metric"];
    header.extend(&splits);
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|name| {
            let mut row = vec![name.to_string()];
            row.extend(splits.iter().map(|s| {
                outcome.metrics[*s]
                    .get(*name)
                    .map(|v| table::metric(*v))
                    .unwrap_or_default()
            }));
            row
        })
        .collect();
    crate::output::out(&table::render(&header, &rows));
    // Large class counts make an unreadable matrix; `capstan evaluate` always prints it.
    if let Some(matrix) = outcome.test_confusion.as_ref().filter(|m| m.len() <= 10) {
        crate::outln!("test confusion matrix (threshold {}):", cfg.threshold);
        crate::output::out(&table::confusion(&target.classes, matrix));
    }
    if !outcome.fairness.is_empty() {
        crate::outln!("test split, threshold {}:", cfg.threshold);
        crate::output::out(&evaluation::render_fairness(&outcome.fairness));
    }
    let cleaning = outcome.cleaning.lines();
    if !cleaning.is_empty() {
        crate::outln!("cleaning:");
        for line in &cleaning {
            crate::outln!("  {line}");
        }
    }
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    let primary = evaluation::primary_metric(target.task);
    if let Some(test) = outcome.metrics.get("test").and_then(|m| m.get(primary)) {
        crate::outln!("test {primary}: {}", table::metric(*test));
    }
    crate::outln!("run id: {run_id}");
}
