//! `capstan data validate`: check a table against a rules file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use capstan_frame::Frame;
use capstan_quality::rules::{CompiledRules, Report};
use chrono::NaiveDateTime;

use crate::exit::{InvalidData, input_error};
use crate::outln;
use crate::source::SourceArgs;
use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The rules file (TOML; start from `capstan data suggest`)
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    /// The time freshness rules measure from (RFC 3339) [default: the current time]
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
}

/// Exit 0 when every error-severity rule passed (warnings allowed), `INVALID_DATA` when one
/// failed, 3 when the rules file or the data cannot be read.
pub fn run(args: &ValidateArgs, _store: &StoreLocation) -> Result<()> {
    let rules = load_rules(&args.rules)?;
    let now = parse_now(args.now.as_deref())?;
    let (source, frame) = args.source.read()?;
    let report = rules.check(&frame, &source.describe(), now);
    if args.json {
        let json = serde_json::to_string_pretty(&report).context("cannot write the report")?;
        outln!("{json}");
    } else {
        crate::output::out(&report.to_text());
    }
    fail_on_errors(&report)
}

/// Reads and compiles a rules file (exit 3 on any problem with it).
pub fn load_rules(path: &Path) -> Result<CompiledRules> {
    Ok(CompiledRules::load(path)?)
}

/// Training's gate: checks the training rows against the rules at `path`. Fails with
/// `InvalidData` and the report when a rule of severity `error` failed; adds a warning per
/// failed `warn` rule. Returns the row rules as JSON, for the bundle.
pub fn gate_training(
    frame: &Frame,
    source: &str,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<serde_json::Value> {
    let rules = load_rules(path)?;
    let report = rules.check(frame, source, parse_now(None)?);
    if !report.passed {
        return Err(anyhow::Error::new(InvalidData(format!(
            "training data {source} failed the rules in {} ({} failed with severity error):\n{}",
            path.display(),
            report.errors,
            report.to_text().trim_end()
        ))));
    }
    for f in &report.failures {
        warnings.push(format!(
            "rule {} on {} failed (severity warn): expected {}, found {}",
            f.rule,
            f.column.as_deref().unwrap_or("the table"),
            f.expected,
            f.found
        ));
    }
    Ok(serde_json::to_value(rules.spec.row_rules())?)
}

/// `InvalidData` when a rule of severity `error` failed.
pub fn fail_on_errors(report: &Report) -> Result<()> {
    if report.passed {
        return Ok(());
    }
    Err(anyhow::Error::new(InvalidData(format!(
        "{} failed validation: {} rules failed with severity error",
        report.source, report.errors
    ))))
}

/// `--now` as UTC, or the current time.
fn parse_now(now: Option<&str>) -> Result<NaiveDateTime> {
    match now {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.naive_utc())
            .map_err(|e| {
                input_error(format!(
                    "--now {text:?} is not an RFC 3339 time (e.g. 2024-05-01T00:00:00Z): {e}"
                ))
            }),
        None => {
            let micros = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the system clock is before 1970")?
                .as_micros();
            chrono::DateTime::from_timestamp_micros(micros as i64)
                .map(|t| t.naive_utc())
                .context("the system clock is out of range")
        }
    }
}
