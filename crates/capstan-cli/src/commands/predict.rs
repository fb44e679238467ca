//! `capstan predict`: score a file with a bundle, through the bundle's own pipeline.

use std::path::PathBuf;

use anyhow::Result;
use arrow_array::{Float64Array, Int64Array, StringArray};
use capstan_bundle::Bundle;
use capstan_frame::{Column, Frame, ReadOptions};
use capstan_learn::{Predictions, Task};

use crate::evaluation;
use crate::exit::input_error;
use crate::model_source;
use crate::source::DataSource;
use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// A bundle file, or a run id (or unique prefix) from `capstan runs list`
    #[arg(long, value_name = "RUN_ID|PATH")]
    pub model: String,
    #[arg(long, value_name = "SOURCE", help = concat!("Rows to score, with the training columns: ", crate::source::data_help!()))]
    pub data: PathBuf,
    #[arg(long, value_name = "SQL", help = crate::source::QUERY_HELP)]
    pub query: Option<String>,
    /// Where to write predictions: .csv or .parquet
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Input columns copied into the output (ids), comma separated
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub keep: Vec<String>,
    /// Field delimiter for CSV input
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Binary models: predict the positive class when its probability is at least this
    #[arg(long, default_value_t = evaluation::DEFAULT_THRESHOLD)]
    pub threshold: f64,
    /// GBDT models: also write the leaf each row reaches in every tree (`leaf_0`, `leaf_1`,
    /// ...; LightGBM's pred_leaf)
    #[arg(long)]
    pub leaves: bool,
}

/// Reads rows for a bundle: the training columns are parsed with their training types.
pub fn read_for_bundle(
    bundle: &Bundle,
    source: &DataSource,
    delimiter: Option<char>,
) -> Result<Frame> {
    let mut opts = ReadOptions {
        schema: Some(bundle.manifest.input_schema.clone()),
        ..ReadOptions::default()
    };
    if let Some(d) = delimiter {
        opts.delimiter = u8::try_from(d).map_err(|_| {
            input_error(format!("delimiter '{d}' must be a single ASCII character"))
        })?;
    }
    source.read(&opts)
}

pub fn run(args: &PredictArgs, store: &StoreLocation) -> Result<()> {
    let source = DataSource::new(&args.data, args.query.as_deref())?;
    let bundle = model_source::load(&args.model, store)?;
    let frame = read_for_bundle(&bundle, &source, args.delimiter)?;
    let predictions = bundle.predict(&frame)?;
    evaluation::check_threshold(args.threshold)?;
    let mut columns = output_columns(&bundle, &frame, &predictions, &args.keep, args.threshold)?;
    if args.leaves {
        let (n_trees, leaves) = bundle
            .predict_leaves(&frame)
            .map_err(|e| input_error(format!("--leaves: {e}")))?;
        for t in 0..n_trees {
            let leaf: Vec<i64> = leaves
                .iter()
                .skip(t)
                .step_by(n_trees)
                .map(|&l| i64::from(l))
                .collect();
            columns.push((format!("leaf_{t}"), Column::Integer(Int64Array::from(leaf))));
        }
    }
    let out = Frame::from_columns(columns)?;
    capstan_frame::write(&out, &args.out)?;
    eprintln!(
        "wrote {} predictions to {}",
        predictions.n_rows,
        args.out.display()
    );
    Ok(())
}

/// Kept columns, then `prediction`, then one `proba_<class>` column per class.
fn output_columns(
    bundle: &Bundle,
    input: &Frame,
    p: &Predictions,
    keep: &[String],
    threshold: f64,
) -> Result<Vec<(String, Column)>> {
    let mut columns = Vec::new();
    for name in keep {
        let col = input
            .column(name)
            .ok_or_else(|| input_error(format!("--keep: column '{name}' is not in the input")))?;
        columns.push((name.clone(), col.clone()));
    }
    let target = &bundle.manifest.target;
    match target.task {
        Task::Regression => {
            columns.push((
                "prediction".into(),
                Column::Float(Float64Array::from(p.values.clone())),
            ));
        }
        Task::Binary | Task::Multiclass { .. } => {
            let labels: Vec<&str> = (0..p.n_rows)
                .map(|i| target.classes[predicted_class(target.task, p.row(i), threshold)].as_str())
                .collect();
            columns.push((
                "prediction".into(),
                Column::String(StringArray::from(labels)),
            ));
            for (k, class) in target.classes.iter().enumerate() {
                let proba: Vec<f64> = (0..p.n_rows)
                    .map(|i| class_probability(target.task, p.row(i), k))
                    .collect();
                columns.push((
                    format!("proba_{class}"),
                    Column::Float(Float64Array::from(proba)),
                ));
            }
        }
    }
    Ok(columns)
}

/// The predicted class index: P(1) >= threshold for binary, first argmax for multiclass.
pub fn predicted_class(task: Task, row: &[f64], threshold: f64) -> usize {
    match task {
        Task::Binary => usize::from(row[0] >= threshold),
        _ => capstan_eval::argmax(row),
    }
}

fn class_probability(task: Task, row: &[f64], k: usize) -> f64 {
    match task {
        Task::Binary if k == 0 => 1.0 - row[0],
        Task::Binary => row[0],
        _ => row[k],
    }
}
