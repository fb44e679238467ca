//! `capstan evaluate`: metrics of a bundle on labelled rows.

use std::path::PathBuf;

use anyhow::Result;
use capstan_learn::Task;

use crate::commands::predict::read_for_bundle;
use crate::evaluation;
use crate::exit::input_error;
use crate::source::DataSource;
use crate::store_location::StoreLocation;
use crate::{model_source, table, target};

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// A bundle file, or a run id (or unique prefix)
    #[arg(long, value_name = "RUN_ID|PATH")]
    pub model: String,
    #[arg(long, value_name = "SOURCE", help = concat!("Labelled rows (the training columns plus the target): ", crate::source::data_help!()))]
    pub data: PathBuf,
    #[arg(long, value_name = "SQL", help = crate::source::QUERY_HELP)]
    pub query: Option<String>,
    /// Field delimiter for CSV input
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Binary models: predict the positive class when its probability is at least this
    #[arg(long, default_value_t = evaluation::DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// Sensitive columns, comma separated: fairness metrics by group (binary models)
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub sensitive: Vec<String>,
    /// A numeric column of row weights: also report weighted metrics (`weighted_*`)
    #[arg(long, value_name = "COLUMN")]
    pub weight_column: Option<String>,
    /// Print the metrics as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &EvaluateArgs, store: &StoreLocation) -> Result<()> {
    evaluation::check_threshold(args.threshold)?;
    let data_source = DataSource::new(&args.data, args.query.as_deref())?;
    let bundle = model_source::load(&args.model, store)?;
    let frame = read_for_bundle(&bundle, &data_source, args.delimiter)?;
    let source = data_source.describe();
    let info = &bundle.manifest.target;
    let col = target::require_column(&frame, &info.name, &source)?;
    let rows: Vec<usize> = (0..col.len()).filter(|&i| !col.is_null(i)).collect();
    if rows.is_empty() {
        return Err(input_error(format!(
            "{source}: target column '{}' has no values",
            info.name
        )));
    }
    let y = match info.task {
        Task::Regression => rows
            .iter()
            .map(|&i| col.f64_at(i).unwrap_or(f64::NAN))
            .collect(),
        _ => target::encode_labels(col, &rows, &info.classes, &info.name, &source)?,
    };
    let frame = if rows.len() < frame.n_rows() {
        frame.take(&rows)
    } else {
        frame
    };
    let weights = match &args.weight_column {
        Some(name) => Some(crate::weights::read(&frame, name, &rows, &source)?),
        None => None,
    };
    let predictions = bundle.predict(&frame)?;
    let score = evaluation::split_score(
        info.task,
        &y,
        &predictions,
        args.threshold,
        evaluation::ObjectiveMetric::of_bundle(&bundle),
        weights.as_deref(),
    )?;
    let metrics = &score.metrics;
    let fairness = if args.sensitive.is_empty() {
        Default::default()
    } else if info.task != Task::Binary {
        eprintln!(
            "note: fairness metrics need a binary model; skipped for this {} model",
            info.task.name()
        );
        Default::default()
    } else {
        evaluation::fairness(
            &frame,
            &args.sensitive,
            &y,
            &predictions,
            args.threshold,
            &source,
        )?
    };
    if args.json {
        let report = serde_json::json!({
            "rows": rows.len(),
            "task": info.task.name(),
            "metrics": metrics,
            "confusion": score.confusion,
            "classes": info.classes,
            "fairness": fairness,
        });
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let body: Vec<Vec<String>> = metrics
            .iter()
            .map(|(k, v)| vec![k.clone(), table::metric(*v)])
            .collect();
        crate::outln!("{} rows, task {}", rows.len(), info.task.name());
        crate::output::out(&table::render(&["metric", "value"], &body));
        if let Some(matrix) = &score.confusion {
            crate::output::out(&table::confusion(&info.classes, matrix));
        }
        crate::output::out(&evaluation::render_fairness(&fairness));
    }
    Ok(())
}
