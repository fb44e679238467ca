//! `capstan-bench-gbdt`: times Capstan's GBDT `fit` and batch `predict` on a train/test pair
//! and prints one JSON line. Driven by `scripts/bench_gbdt.py`, which runs LightGBM and
//! XGBoost with the same settings, each in its own process, and prints the comparison.
//!
//! Only `gbdt::fit` (binning included, as LightGBM's `train` includes Dataset construction)
//! and `predict` on the test rows are timed; reading the files and building the matrix are not.
//! Memory: `peak_rss_mb` is the process's lifetime peak RSS (VmHWM, loading included);
//! `fit_peak_rss_mb` is the peak from just before the first fit (the high-water mark is reset
//! through `/proc/self/clear_refs`), and `rss_before_fit_mb` the resident size at that point,
//! so `fit_peak_rss_mb - rss_before_fit_mb` is what training and prediction added.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use capstan_frame::{Column, FeatureKind, Frame, Matrix, ReadOptions};
use capstan_learn::Task;
use capstan_learn::gbdt::{self, GbdtParams};
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TaskArg {
    Binary,
    Regression,
    Multiclass,
}

/// Time Capstan's GBDT fit and batch prediction; print one JSON line.
///
/// All feature columns must be numeric (integer, float or boolean; nulls become NaN).
/// Categorical features must be integer codes 0..k, named with --categorical.
#[derive(Debug, Parser)]
#[command(name = "capstan-bench-gbdt", version)]
struct Args {
    /// Training rows (CSV, TSV or Parquet; read with capstan_frame::read)
    #[arg(long, value_name = "FILE")]
    train: PathBuf,
    /// Test rows, same columns
    #[arg(long, value_name = "FILE")]
    test: PathBuf,
    /// Target column [default: the last column]
    #[arg(long, value_name = "COL")]
    target: Option<String>,
    #[arg(long, value_enum)]
    task: TaskArg,
    #[arg(long, default_value_t = 100)]
    n_trees: usize,
    #[arg(long, default_value_t = 0.1)]
    learning_rate: f64,
    #[arg(long, default_value_t = 31)]
    num_leaves: usize,
    #[arg(long, default_value_t = 255)]
    max_bins: usize,
    #[arg(long, default_value_t = 20)]
    min_data_in_leaf: usize,
    /// Worker threads (rayon pool) [default: all cores]
    #[arg(long)]
    threads: Option<usize>,
    /// Fit and predict this many times; the best time is reported
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Predict this many times instead of --repeat (prediction is short, so more runs
    /// give a steadier best time)
    #[arg(long)]
    predict_repeat: Option<usize>,
    /// Comma-separated feature columns holding integer category codes
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    categorical: Vec<String>,
}

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn run(args: &Args) -> Result<Value> {
    if args.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .with_context(|| format!("cannot start {n} threads"))?;
    }
    let (x_train, y_train, x_test, y_test, task) = load(args)?;

    let params = GbdtParams {
        n_trees: args.n_trees,
        learning_rate: args.learning_rate,
        num_leaves: args.num_leaves,
        max_bins: args.max_bins,
        min_data_in_leaf: args.min_data_in_leaf,
        ..GbdtParams::default()
    };

    let load_peak_mb = proc_status_mb("VmHWM:");
    let rss_before_fit_mb = proc_status_mb("VmRSS:");
    let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();

    let mut fit_times = Vec::with_capacity(args.repeat);
    let mut model = None;
    for _ in 0..args.repeat {
        drop(model.take());
        let t = Instant::now();
        let m = gbdt::fit((&x_train, &y_train), None, task, &params, &mut |_| {})
            .context("gbdt fit")?;
        fit_times.push(t.elapsed().as_secs_f64());
        model = Some(m);
    }
    let Some(model) = model else {
        bail!("no model was fitted");
    };

    let predict_repeat = args.predict_repeat.unwrap_or(args.repeat).max(1);
    let mut predict_times = Vec::with_capacity(predict_repeat);
    let mut preds = None;
    for _ in 0..predict_repeat {
        drop(preds.take());
        let t = Instant::now();
        let p = model.predict(&x_test);
        predict_times.push(t.elapsed().as_secs_f64());
        preds = Some(p);
    }
    let Some(preds) = preds else {
        bail!("no prediction was made");
    };
    let fit_peak_mb = proc_status_mb("VmHWM:");

    let (metric_name, metric) = test_metric(task, &y_test, &preds.values)?;
    let fit_s = min(&fit_times);
    let predict_s = min(&predict_times);
    let peak_rss_mb = match (load_peak_mb, fit_peak_mb) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    Ok(json!({
        "engine": "capstan",
        "fit_s": fit_s,
        "fit_s_all": fit_times,
        "predict_s": predict_s,
        "predict_s_all": predict_times,
        "predict_rows_per_s": x_test.n_rows as f64 / predict_s.max(1e-12),
        "metric_name": metric_name,
        "metric": metric,
        "n_trees": model.trees.len(),
        "n_rounds": model.trees.len() / model.trees_per_round().max(1),
        "peak_rss_mb": peak_rss_mb,
        "fit_peak_rss_mb": if hwm_reset { fit_peak_mb } else { None },
        "rss_before_fit_mb": rss_before_fit_mb,
        "rows_train": x_train.n_rows,
        "rows_test": x_test.n_rows,
        "n_features": x_train.n_cols,
        "threads": rayon::current_num_threads(),
        "task": task.name(),
    }))
}

type Loaded = (Matrix, Vec<f64>, Matrix, Vec<f64>, Task);

/// Reads the files one at a time, building each matrix and target and dropping its frame
/// before the next read (so loading peaks at one frame plus the matrices).
fn load(args: &Args) -> Result<Loaded> {
    let train = read(&args.train)?;
    let target = match &args.target {
        Some(t) => t.clone(),
        None => train
            .schema()
            .names()
            .last()
            .map(str::to_string)
            .context("the training file has no columns")?,
    };
    let features: Vec<String> = train
        .schema()
        .names()
        .filter(|n| *n != target)
        .map(str::to_string)
        .collect();
    if features.is_empty() {
        bail!(
            "{}: no feature columns besides the target '{target}'",
            args.train.display()
        );
    }
    for c in &args.categorical {
        if !features.contains(c) {
            bail!("--categorical names '{c}', which is not a feature column");
        }
    }
    let (mut x_train, y_train, train_codes) =
        matrix_and_target(&train, &args.train, &features, &target, &args.categorical)?;
    drop(train);
    let test = read(&args.test)?;
    let (mut x_test, y_test, test_codes) =
        matrix_and_target(&test, &args.test, &features, &target, &args.categorical)?;
    drop(test);
    let kinds: Vec<FeatureKind> = train_codes
        .iter()
        .zip(&test_codes)
        .map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) => FeatureKind::Categorical {
                n_categories: (*a).max(*b),
            },
            _ => FeatureKind::Numeric,
        })
        .collect();
    x_train.feature_kinds = kinds.clone();
    x_test.feature_kinds = kinds;
    let task = task_of(args.task, &y_train, &y_test)?;
    Ok((x_train, y_train, x_test, y_test, task))
}

/// The matrix, the target and, per feature, `Some(largest category code + 1)` for the
/// categorical features.
fn matrix_and_target(
    frame: &Frame,
    path: &Path,
    features: &[String],
    target: &str,
    categorical: &[String],
) -> Result<(Matrix, Vec<f64>, Vec<Option<u32>>)> {
    let x = matrix(frame, path, features)?;
    let y = target_values(frame, path, target)?;
    let codes = features
        .iter()
        .enumerate()
        .map(|(j, name)| {
            if !categorical.contains(name) {
                return Ok(None);
            }
            let mut n_categories = 0u32;
            for (i, row) in x.data.chunks_exact(x.n_cols).enumerate() {
                let v = row[j];
                if v.is_nan() {
                    continue;
                }
                if v < 0.0 || v.fract() != 0.0 || v > f64::from(u32::MAX - 1) {
                    bail!(
                        "{}: categorical column '{name}' row {i}: {v} is not a category code \
                         (a non-negative integer)",
                        path.display()
                    );
                }
                n_categories = n_categories.max(v as u32 + 1);
            }
            Ok(Some(n_categories.max(1)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((x, y, codes))
}

fn read(path: &Path) -> Result<Frame> {
    capstan_frame::read(path, &ReadOptions::default())
        .with_context(|| format!("reading {}", path.display()))
}

/// Row-major f64 matrix of the feature columns; nulls become NaN.
fn matrix(frame: &Frame, path: &Path, features: &[String]) -> Result<Matrix> {
    let n = frame.n_rows();
    let p = features.len();
    let mut data = vec![f64::NAN; n * p];
    for (j, name) in features.iter().enumerate() {
        let col = frame
            .require(name)
            .with_context(|| format!("{}", path.display()))?;
        numeric(col, name, path)?;
        for (i, row) in data.chunks_exact_mut(p).enumerate() {
            if let Some(v) = col.f64_at(i) {
                row[j] = v;
            }
        }
    }
    Ok(Matrix::new(n, features.to_vec(), data))
}

fn numeric(col: &Column, name: &str, path: &Path) -> Result<()> {
    if !col.dtype().is_numeric() {
        bail!(
            "{}: column '{name}' is {}; the benchmark takes numeric columns only \
             (encode categories as integer codes and name them with --categorical)",
            path.display(),
            col.dtype()
        );
    }
    Ok(())
}

fn target_values(frame: &Frame, path: &Path, target: &str) -> Result<Vec<f64>> {
    let col = frame
        .require(target)
        .with_context(|| format!("{}: target", path.display()))?;
    numeric(col, target, path)?;
    (0..col.len())
        .map(|i| {
            col.f64_at(i).filter(|v| v.is_finite()).with_context(|| {
                format!("{}: target '{target}' row {i} is missing", path.display())
            })
        })
        .collect()
}

fn task_of(arg: TaskArg, y_train: &[f64], y_test: &[f64]) -> Result<Task> {
    let all = || y_train.iter().chain(y_test);
    match arg {
        TaskArg::Regression => Ok(Task::Regression),
        TaskArg::Binary => {
            if let Some(v) = all().find(|&&v| v != 0.0 && v != 1.0) {
                bail!("binary target must be 0 or 1, found {v}");
            }
            Ok(Task::Binary)
        }
        TaskArg::Multiclass => {
            if let Some(v) = all().find(|&&v| v < 0.0 || v.fract() != 0.0) {
                bail!("multiclass target must be class indices 0..k, found {v}");
            }
            let n_classes = all().fold(0.0f64, |m, &v| m.max(v)) as usize + 1;
            if n_classes < 2 {
                bail!("multiclass target has fewer than 2 classes");
            }
            Ok(Task::Multiclass { n_classes })
        }
    }
}

/// Binary: ROC AUC; multiclass: accuracy; regression: RMSE (`capstan_eval::primary_metric`).
fn test_metric(task: Task, y: &[f64], pred: &[f64]) -> Result<(&'static str, f64)> {
    let name = capstan_eval::primary_metric(task.name());
    let map: BTreeMap<String, f64> = match task {
        Task::Binary => capstan_eval::binary_metrics(y, pred, 0.5)?.to_map(),
        Task::Regression => capstan_eval::regression_metrics(y, pred)?.to_map(),
        Task::Multiclass { n_classes } => {
            let classes = capstan_eval::class_indices(y, n_classes)?;
            capstan_eval::multiclass_metrics(&classes, pred, n_classes)?.to_map()
        }
    };
    let value = map
        .get(name)
        .copied()
        .with_context(|| format!("metric '{name}' was not computed"))?;
    Ok((name, value))
}

fn min(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::INFINITY, f64::min)
}

/// A `kB` field of `/proc/self/status` in MiB (Linux); `None` elsewhere.
fn proc_status_mb(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line
        .trim_start_matches(key)
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_checks_targets() {
        assert!(task_of(TaskArg::Binary, &[0.0, 1.0], &[1.0]).is_ok());
        assert!(task_of(TaskArg::Binary, &[0.0, 2.0], &[1.0]).is_err());
        assert_eq!(
            task_of(TaskArg::Multiclass, &[0.0, 2.0], &[1.0]).ok(),
            Some(Task::Multiclass { n_classes: 3 })
        );
        assert!(task_of(TaskArg::Multiclass, &[0.5], &[1.0]).is_err());
    }

    #[test]
    fn reads_status_fields() {
        if cfg!(target_os = "linux") {
            assert!(proc_status_mb("VmRSS:").is_some_and(|mb| mb > 0.0));
        }
    }
}
