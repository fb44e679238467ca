//! `capstan data diff A B`: what changed between two datasets, each a data file or
//! directory, or a recorded dataset version (a hash prefix).

use std::path::Path;

use anyhow::Result;
use capstan_frame::ReadOptions;
use capstan_quality::Profile;
use capstan_quality::diff::{Content, DatasetDiff, DiffInput, Pair, StatShift, diff};
use capstan_quality::version::{DatasetVersion, VersionOptions, dataset_version, short};
use capstan_store::Store;

use super::versions::{cached, file_signature, from_record, summary_profile};
use crate::exit::input_error;
use crate::source::DataSource;
use crate::store_location::StoreLocation;
use crate::table;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The first dataset: a data file or directory, or a recorded version (hash prefix)
    pub a: String,
    /// The second dataset, compared against the first
    pub b: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// One side, resolved.
struct Resolved {
    label: String,
    version: DatasetVersion,
    profile: Option<Profile>,
}

pub fn run(args: &DiffArgs, store: &StoreLocation) -> Result<()> {
    let store = if store.exists() {
        Some(store.open()?)
    } else {
        None
    };
    let a = resolve(&args.a, store.as_ref(), store_name(store.as_ref()))?;
    let b = resolve(&args.b, store.as_ref(), store_name(store.as_ref()))?;
    let d = diff(&a.input(), &b.input());
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&d)?);
    } else {
        crate::output::out(&render(&d));
    }
    Ok(())
}

fn store_name(store: Option<&Store>) -> &str {
    store.map_or("", Store::location)
}

impl Resolved {
    fn input(&self) -> DiffInput<'_> {
        DiffInput {
            label: &self.label,
            version: &self.version,
            profile: self.profile.as_ref(),
        }
    }
}

/// A path on disk is data; else a hex prefix is a recorded version.
fn resolve(arg: &str, store: Option<&Store>, location: &str) -> Result<Resolved> {
    let path = Path::new(arg);
    if path.exists() || arg.contains("://") {
        let source = DataSource::new(path, None)?;
        let opts = VersionOptions::default();
        if let Some(store) = store
            && let Some(record) = cached(store, file_signature(&source, &opts)?.as_ref())?
        {
            let (version, profile) = from_record(&record)?;
            return Ok(Resolved {
                label: arg.to_string(),
                version,
                profile,
            });
        }
        let frame = source.read(&ReadOptions::default())?;
        return Ok(Resolved {
            label: arg.to_string(),
            version: dataset_version(&frame, &opts),
            profile: summary_profile(&frame, &source.describe()),
        });
    }
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(input_error(format!(
            "{arg}: no such file or directory, and not a dataset version (a hex hash prefix)"
        )));
    }
    let Some(store) = store else {
        return Err(input_error(format!(
            "{arg}: no such file or directory, and no capstan store to look up a dataset version in (pass --store)"
        )));
    };
    let record = store.get_dataset_version(arg).map_err(|e| {
        anyhow::Error::new(e).context(format!("{arg}: not a file, nor a version in {location}"))
    })?;
    let (version, profile) = from_record(&record)?;
    Ok(Resolved {
        label: format!("recorded from {}", record.source),
        version,
        profile,
    })
}

/// The human report: sides, schema changes, content, then one line per shared column.
fn render(d: &DatasetDiff) -> String {
    let mut out = String::new();
    for (tag, s) in [("A", &d.a), ("B", &d.b)] {
        out.push_str(&format!(
            "{tag}: {} (version {}, {} rows, {} columns)\n",
            s.label,
            short(&s.version),
            s.n_rows,
            s.n_cols
        ));
    }
    if d.same_content {
        out.push_str("same content: the versions are equal\n");
        return out;
    }
    let delta = d.b.n_rows as i64 - d.a.n_rows as i64;
    out.push_str(&format!(
        "rows: {} -> {} ({delta:+})\n",
        d.a.n_rows, d.b.n_rows
    ));
    let list = |items: Vec<String>| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items.join(", ")
        }
    };
    out.push_str(&format!(
        "removed columns: {}\n",
        list(
            d.removed_columns
                .iter()
                .map(|c| format!("{} ({})", c.name, c.dtype))
                .collect()
        )
    ));
    out.push_str(&format!(
        "added columns: {}\n",
        list(
            d.added_columns
                .iter()
                .map(|c| format!("{} ({})", c.name, c.dtype))
                .collect()
        )
    ));
    out.push_str(&format!(
        "type changes: {}\n",
        list(
            d.type_changes
                .iter()
                .map(|c| format!("{} ({} -> {})", c.name, c.from, c.to))
                .collect()
        )
    ));
    let changed: Vec<String> = d
        .columns
        .iter()
        .filter(|c| c.content == Content::Changed)
        .map(|c| c.name.clone())
        .collect();
    out.push_str(&format!(
        "content changed in {} of {} shared columns: {}\n",
        changed.len(),
        d.columns.len(),
        list(changed)
    ));
    for note in &d.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    let rows: Vec<Vec<String>> = d
        .columns
        .iter()
        .map(|c| {
            let content = match c.content {
                Content::Same => "same",
                Content::Changed => "changed",
                Content::Unknown => "?",
            };
            let mut row = vec![c.name.clone(), content.to_string()];
            row.extend(stat_cells(c.stats.as_ref()));
            row
        })
        .collect();
    out.push('\n');
    out.push_str(&table::render(
        &[
            "column",
            "content",
            "missing %",
            "mean",
            "std",
            "median",
            "distinct",
            "psi",
        ],
        &rows,
    ));
    out
}

fn stat_cells(s: Option<&StatShift>) -> Vec<String> {
    let Some(s) = s else {
        return vec![String::new(); 6];
    };
    vec![
        pair(&s.missing_pct),
        pair(&s.mean),
        pair(&s.std),
        pair(&s.q50),
        pair(&s.distinct),
        s.psi.map_or(String::new(), |p| format!("{p:.4}")),
    ]
}

/// `a -> b`, or one value when equal; empty when neither is known.
fn pair(p: &Pair) -> String {
    let text = |v: Option<f64>| v.map_or("-".to_string(), num);
    match (p.a, p.b) {
        (None, None) => String::new(),
        (a, b) if a == b => text(a),
        (a, b) => format!("{} -> {}", text(a), text(b)),
    }
}

/// Up to 4 significant decimals, no trailing zeros.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let digits = if v.abs() >= 100.0 { 2 } else { 4 };
    let s = format!("{v:.digits$}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
