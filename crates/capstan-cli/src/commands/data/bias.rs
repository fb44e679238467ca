//! `capstan data bias`: label balance and representation of sensitive groups, before
//! training.

use anyhow::Result;
use capstan_quality::QualityError;
use capstan_quality::bias::{BiasReport, TargetKind, bias_report};

use crate::config::TaskName;
use crate::exit::input_error;
use crate::source::SourceArgs;
use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct BiasArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The label column
    #[arg(long, value_name = "COLUMN")]
    pub target: String,
    /// Sensitive columns (sex, race, age band...), comma separated
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS", required = true)]
    pub sensitive: Vec<String>,
    /// Read the target as classes or as numbers [default: inferred as in training]
    #[arg(long, value_enum)]
    pub task: Option<TaskName>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &BiasArgs, _store: &StoreLocation) -> Result<()> {
    let (source, frame) = args.source.read()?;
    let kind = args.task.map(|t| match t {
        TaskName::Regression => TargetKind::Regression,
        TaskName::Binary | TaskName::Multiclass => TargetKind::Classification,
    });
    let report = bias_report(&frame, &args.target, &args.sensitive, kind)
        .map_err(|e| quality_error(&source.describe(), e))?;
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        crate::output::out(&render(&source.describe(), &report));
    }
    Ok(())
}

/// Input errors exit with the bad-input code and name the source.
pub fn quality_error(source: &str, e: QualityError) -> anyhow::Error {
    match e {
        QualityError::Input(m) => input_error(format!("{source}: {m}")),
        other => anyhow::Error::new(other),
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// The terminal report: label balance, a table per sensitive column, the findings.
pub fn render(source: &str, r: &BiasReport) -> String {
    let mut out = format!("{source}: {} rows, target '{}'", r.n_rows, r.target);
    if r.missing_target > 0 {
        out.push_str(&format!(" ({} without a target)", r.missing_target));
    }
    out.push('\n');
    match r.target_kind {
        TargetKind::Classification => {
            out.push_str("\nlabel balance\n");
            let rows: Vec<Vec<String>> = r
                .classes
                .iter()
                .map(|c| vec![c.class.clone(), c.count.to_string(), pct(c.share)])
                .collect();
            out.push_str(&crate::table::render(&["class", "rows", "share"], &rows));
        }
        TargetKind::Regression => {
            if let Some(m) = r.mean_target {
                out.push_str(&format!("mean target {}\n", crate::table::metric(m)));
            }
        }
    }
    for col in &r.columns {
        let rate_header = match (&r.positive_class, r.target_kind) {
            (Some(p), _) => format!("rate of '{p}'"),
            (None, TargetKind::Regression) => "mean target".to_string(),
            (None, TargetKind::Classification) => "class rates".to_string(),
        };
        out.push_str(&format!("\nsensitive column '{}'\n", col.column));
        let rows: Vec<Vec<String>> = col
            .groups
            .iter()
            .map(|g| {
                let rate = if let Some(p) = g.positive_rate {
                    pct(p)
                } else if let Some(m) = g.mean_target {
                    crate::table::metric(m)
                } else {
                    g.class_rates
                        .iter()
                        .map(|(c, v)| format!("{c} {}", pct(*v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                vec![g.group.clone(), g.count.to_string(), pct(g.share), rate]
            })
            .collect();
        out.push_str(&crate::table::render(
            &["group", "rows", "share", &rate_header],
            &rows,
        ));
        if let Some(ratio) = col.positive_rate_ratio {
            out.push_str(&format!(
                "lowest / highest rate: {ratio:.3} (four-fifths rule: 0.8)\n"
            ));
        }
    }
    if r.findings.is_empty() {
        out.push_str("\nno findings\n");
    } else {
        out.push_str("\nfindings:\n");
        for f in &r.findings {
            out.push_str(&format!("  - {f}\n"));
        }
    }
    out
}
