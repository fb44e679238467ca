//! `capstan data profile`: what a table holds, column by column, with findings, the target
//! relationship, a JSON profile and an HTML report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use capstan_quality::profile::html::{num, thousands};
use capstan_quality::profile::{self, ColumnProfile, Profile, ProfileOptions};

use crate::source::SourceArgs;
use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Label column: adds how each feature relates to it and leakage suspects
    #[arg(long, value_name = "COLUMN")]
    pub target: Option<String>,
    /// Write the profile here (JSON)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write a self-contained HTML report here
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Print the profile as JSON instead of the summary
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ProfileArgs, _store: &StoreLocation) -> Result<()> {
    let started = Instant::now();
    let (source, frame) = args.source.read()?;
    let name = source.describe();
    let read_s = started.elapsed().as_secs_f64();
    if let Some(target) = &args.target {
        crate::target::require_column(&frame, target, &name)?;
    }
    let opts = ProfileOptions {
        target: args.target.clone(),
        ..ProfileOptions::default()
    };
    let started = Instant::now();
    let p = profile::profile(&frame, &name, &opts)?;
    let profile_s = started.elapsed().as_secs_f64();
    eprintln!(
        "read {} rows x {} columns in {read_s:.2} s, profiled in {profile_s:.2} s",
        thousands(p.n_rows),
        p.n_cols
    );
    if let Some(path) = &args.out {
        write_file(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &p)?;
            w.write_all(b"\n")?;
            Ok(())
        })?;
        eprintln!("profile written to {}", path.display());
    }
    if let Some(path) = &args.html {
        let page = profile::html::render(&p);
        write_file(path, |w| Ok(w.write_all(page.as_bytes())?))?;
        eprintln!("report written to {}", path.display());
    }
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        crate::output::out(&summary(&p));
    }
    Ok(())
}

/// Writes `path` atomically; the error names the file.
fn write_file(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<()> {
    capstan_io::write_atomic(path, write, anyhow::Error::new)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The terminal summary: overview, findings, one row per column, the target ranking.
pub fn summary(p: &Profile) -> String {
    let mut out = String::new();
    let cells = p.n_rows * p.n_cols;
    let missing: usize = p.columns.iter().map(|c| c.missing).sum();
    let missing = if missing == 0 {
        "no missing cells".to_string()
    } else {
        format!(
            "{} missing cells ({})",
            thousands(missing),
            pct(missing, cells)
        )
    };
    out.push_str(&format!(
        "{}: {} rows, {} columns, {missing}, {} duplicate rows\n",
        p.source,
        thousands(p.n_rows),
        p.n_cols,
        thousands(p.duplicate_rows)
    ));
    if !p.findings.is_empty() {
        out.push_str("\nfindings:\n");
        for f in &p.findings {
            out.push_str(&format!("  {:<17} {}\n", f.kind, f.message));
        }
    }
    out.push('\n');
    let header = [
        "column", "type", "missing", "distinct", "mean", "std", "min", "median", "max", "top",
    ];
    let rows: Vec<Vec<String>> = p.columns.iter().map(|c| column_row(c, p.n_rows)).collect();
    out.push_str(&crate::table::render(&header, &rows));
    if let Some(t) = &p.target {
        out.push('\n');
        if t.classes.is_empty() {
            out.push_str(&format!("target {} (numeric)\n", t.name));
        } else {
            let classes: Vec<String> = t
                .classes
                .iter()
                .take(10)
                .map(|c| format!("{} {}", c.value, thousands(c.count)))
                .collect();
            out.push_str(&format!(
                "target {} ({} classes: {})\n",
                t.name,
                t.classes.len(),
                classes.join(", ")
            ));
        }
        let rows: Vec<Vec<String>> = t
            .features
            .iter()
            .map(|f| {
                vec![
                    f.column.clone(),
                    f.measure.clone(),
                    f.value.map_or("n/a".into(), |v| format!("{v:.4}")),
                ]
            })
            .collect();
        out.push_str(&crate::table::render(
            &["feature", "measure", "value"],
            &rows,
        ));
    }
    out
}

fn column_row(c: &ColumnProfile, n_rows: usize) -> Vec<String> {
    let missing = if c.missing == 0 {
        "0".to_string()
    } else {
        format!("{} ({})", thousands(c.missing), pct(c.missing, n_rows))
    };
    let mut row = vec![
        c.name.clone(),
        c.dtype.to_string(),
        missing,
        thousands(c.distinct),
    ];
    match (&c.numeric, &c.time_range) {
        (Some(s), _) => row.extend([
            num(s.mean),
            s.std.map_or(String::new(), num),
            num(s.min),
            num(s.q50),
            num(s.max),
        ]),
        (None, Some((lo, hi))) => row.extend([
            String::new(),
            String::new(),
            lo.clone(),
            String::new(),
            hi.clone(),
        ]),
        (None, None) => row.extend(std::iter::repeat_n(String::new(), 5)),
    }
    row.push(
        c.top_values
            .first()
            .map(|v| format!("{} ({})", truncate(&v.value, 24), thousands(v.count)))
            .unwrap_or_default(),
    );
    row
}

fn pct(part: usize, whole: usize) -> String {
    capstan_quality::profile::findings::percent(part, whole)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).chain(['…']).collect()
    }
}
