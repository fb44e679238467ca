//! `capstan log`: read the prediction log written by `capstan serve`, or export it.

use std::path::PathBuf;

use anyhow::Result;
use arrow_array::{Int64Array, StringArray};
use capstan_frame::{Column, Frame};
use capstan_store::{LogQuery, PredictionRecord};

use crate::exit::input_error;
use crate::store_location::StoreLocation;
use crate::table;

/// Records printed when --limit is not given.
const DEFAULT_SHOWN: usize = 20;
/// Characters of a prediction shown in the table.
const SUMMARY_CHARS: usize = 60;

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// Only this registered model
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Only this version (with --model)
    #[arg(long, value_name = "V", requires = "model")]
    pub version: Option<u32>,
    /// Only records answered (or shadowed) in this role
    #[arg(long, value_parser = ["champion", "canary", "shadow", "direct"])]
    pub role: Option<String>,
    /// Only records at or after this time (RFC 3339, e.g. 2024-05-01T12:00:00Z, or a date)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// The newest N records [default: 20 when printing, all when exporting]
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Write the matching records to a file (.parquet, .csv or .jsonl) instead of printing
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    #[arg(long, conflicts_with = "export")]
    pub json: bool,
}

pub fn run(args: &LogArgs, location: &StoreLocation) -> Result<()> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let store = location.open_existing()?;
    if let Some(model) = &args.model {
        store.get_model(model)?;
    }
    let query = LogQuery {
        model: args.model.clone(),
        version: args.version,
        role: args.role.clone(),
        since,
        limit: None,
    };
    let mut records = store.query_predictions(&query)?;
    let keep = match (&args.export, args.limit) {
        (_, Some(n)) => n,
        (Some(_), None) => records.len(),
        (None, None) => DEFAULT_SHOWN,
    };
    // Oldest first from the store: keep the newest `keep`, still oldest first.
    records.drain(..records.len().saturating_sub(keep));

    if let Some(path) = &args.export {
        capstan_frame::write(&records_frame(&records)?, path)?;
        eprintln!("wrote {} records to {}", records.len(), path.display());
    } else if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&records)?);
    } else if records.is_empty() {
        eprintln!("no predictions logged{}", filter_note(args));
    } else {
        let rows: Vec<Vec<String>> = records
            .iter()
            .map(|r| {
                vec![
                    r.id.clone(),
                    r.at.clone(),
                    r.model.clone(),
                    r.version.to_string(),
                    r.role.clone(),
                    format!("{:.2} ms", r.latency_us as f64 / 1000.0),
                    summary(&r.outputs),
                ]
            })
            .collect();
        crate::output::out(&table::render(
            &[
                "id",
                "at",
                "model",
                "version",
                "role",
                "latency",
                "prediction",
            ],
            &rows,
        ));
    }
    Ok(())
}

fn filter_note(args: &LogArgs) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &args.model {
        parts.push(format!("model {m}"));
    }
    if let Some(v) = args.version {
        parts.push(format!("version {v}"));
    }
    if let Some(r) = &args.role {
        parts.push(format!("role {r}"));
    }
    if let Some(s) = &args.since {
        parts.push(format!("since {s}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" for {}", parts.join(", "))
    }
}

/// `--since` as the log's own fixed-width UTC form, so text order is time order.
pub fn parse_since(text: &str) -> Result<String> {
    let micros = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        t.timestamp_micros()
    } else if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        d.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_micros()
    } else {
        return Err(input_error(format!(
            "--since '{text}': expected an RFC 3339 time such as 2024-05-01T12:00:00Z, or a date such as 2024-05-01"
        )));
    };
    let micros = u64::try_from(micros)
        .map_err(|_| input_error(format!("--since '{text}': expected a time after 1970")))?;
    Ok(capstan_io::format_unix_micros(micros))
}

/// A prediction's outputs for a table cell: "Yes (p 0.823)" for a class with its
/// probability, the value for a regression, else the JSON cut to fit.
fn summary(outputs: &serde_json::Value) -> String {
    if let Some(prediction) = outputs.get("prediction") {
        let label = match prediction {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let proba = outputs
            .get("probabilities")
            .and_then(|p| p.get(&label))
            .and_then(serde_json::Value::as_f64);
        return match proba {
            Some(p) => format!("{label} (p {p:.3})"),
            None => label,
        };
    }
    let text = outputs.to_string();
    if text.chars().count() <= SUMMARY_CHARS {
        text
    } else {
        let cut: String = text.chars().take(SUMMARY_CHARS - 3).collect();
        format!("{cut}...")
    }
}

/// One row per record: id, at, model, version, role, latency_us, inputs and outputs as
/// JSON text.
fn records_frame(records: &[PredictionRecord]) -> Result<Frame> {
    let strings = |f: &dyn Fn(&PredictionRecord) -> String| {
        Column::String(StringArray::from(
            records.iter().map(f).collect::<Vec<String>>(),
        ))
    };
    let ints = |f: &dyn Fn(&PredictionRecord) -> i64| {
        Column::Integer(Int64Array::from(
            records.iter().map(f).collect::<Vec<i64>>(),
        ))
    };
    Ok(Frame::from_columns(vec![
        ("id".into(), strings(&|r| r.id.clone())),
        ("at".into(), strings(&|r| r.at.clone())),
        ("model".into(), strings(&|r| r.model.clone())),
        ("version".into(), ints(&|r| i64::from(r.version))),
        ("role".into(), strings(&|r| r.role.clone())),
        (
            "latency_us".into(),
            ints(&|r| i64::try_from(r.latency_us).unwrap_or(i64::MAX)),
        ),
        ("inputs".into(), strings(&|r| r.inputs.to_string())),
        ("outputs".into(), strings(&|r| r.outputs.to_string())),
    ])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_normalized_to_the_log_format() {
        assert_eq!(
            parse_since("2024-05-01T14:00:00+02:00").expect("rfc 3339"),
            "2024-05-01T12:00:00.000000Z"
        );
        assert_eq!(
            parse_since("2024-05-01").expect("date"),
            "2024-05-01T00:00:00.000000Z"
        );
        assert!(parse_since("yesterday").is_err());
    }

    #[test]
    fn records_export_as_a_frame() {
        let record = PredictionRecord {
            id: "p1".into(),
            at: "2024-05-01T12:00:00.000000Z".into(),
            model: "churn".into(),
            version: 3,
            role: "champion".into(),
            inputs: serde_json::json!({"tenure": 3}),
            outputs: serde_json::json!({"prediction": "Yes"}),
            latency_us: 420,
        };
        let frame = records_frame(&[record]).expect("frame");
        assert_eq!(frame.n_rows(), 1);
        assert_eq!(frame.schema().fields.len(), 8);
        assert!(records_frame(&[]).expect("empty frame").n_rows() == 0);
    }

    #[test]
    fn summaries_show_the_prediction() {
        let binary =
            serde_json::json!({"prediction": "1", "probabilities": {"0": 0.25, "1": 0.75}});
        assert_eq!(summary(&binary), "1 (p 0.750)");
        assert_eq!(summary(&serde_json::json!({"prediction": 12.5})), "12.5");
        let long = serde_json::json!({"values": vec![1.0; 40]});
        assert!(summary(&long).ends_with("...") && summary(&long).chars().count() == SUMMARY_CHARS);
    }
}
