//! `capstan data versions`: recorded dataset versions (content hashes of the typed data),
//! or the version of one table, computed and recorded.
//!
//! A file's version is remembered with its signature (absolute path, size, modification
//! time in nanoseconds, read options): asking again about an unchanged file answers from
//! the store without reading it. A changed size or modification time reads it again.

use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};
use capstan_frame::{Frame, ReadOptions, Schema};
use capstan_quality::Profile;
use capstan_quality::profile::{Correlations, ProfileOptions};
use capstan_quality::version::{
    ColumnChunks, DatasetVersion, VersionOptions, dataset_version, short,
};
use capstan_store::{DatasetVersionRecord, FileSignature, NewDatasetVersion, Store};
use serde::{Deserialize, Serialize};

use crate::source::DataSource;
use crate::store_location::StoreLocation;
use crate::table;

#[derive(Debug, clap::Args)]
pub struct VersionsArgs {
    #[arg(long, value_name = "SOURCE", help = concat!("Compute and record the version of this data: ", crate::source::data_help!()))]
    pub data: Option<PathBuf>,
    #[arg(long, value_name = "SQL", requires = "data", help = crate::source::QUERY_HELP)]
    pub query: Option<String>,
    /// The same rows in any order have the same version
    #[arg(long, requires = "data")]
    pub ignore_row_order: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &VersionsArgs, store: &StoreLocation) -> Result<()> {
    match &args.data {
        None => list(&store.open_existing()?, args.json),
        Some(data) => {
            let source = DataSource::new(data, args.query.as_deref())?;
            let opts = VersionOptions {
                ignore_row_order: args.ignore_row_order,
            };
            let store = store.open()?;
            let (record, reused) = record_source(&store, &source, &opts)?;
            show(&record, reused, args.json)
        }
    }
}

/// The version of `source`: from the file-signature cache when the file is unchanged and
/// its profile is known, else read, hashed, profiled and recorded. `true` when reused.
fn record_source(
    store: &Store,
    source: &DataSource,
    opts: &VersionOptions,
) -> Result<(DatasetVersionRecord, bool)> {
    let signature = file_signature(source, opts)?;
    if let Some(record) = cached(store, signature.as_ref())? {
        return Ok((record, true));
    }
    let frame = source.read(&ReadOptions::default())?;
    let version = dataset_version(&frame, opts);
    let name = source.describe();
    let profile = summary_profile(&frame, &name);
    store.put_dataset_version(&to_new(&version, &name, profile.as_ref(), None))?;
    if let Some(sig) = &signature {
        store.record_file_signature(sig, &version.version)?;
    }
    Ok((store.get_dataset_version(&version.version)?, false))
}

/// The recorded version of an unchanged file, when its profile is known too.
pub(crate) fn cached(
    store: &Store,
    signature: Option<&FileSignature>,
) -> Result<Option<DatasetVersionRecord>> {
    let Some(sig) = signature else {
        return Ok(None);
    };
    let Some(version) = store.find_file_signature(sig)? else {
        return Ok(None);
    };
    let record = store.get_dataset_version(&version)?;
    Ok(record.profile.is_some().then_some(record))
}

/// The signature of a file source (`None` for a directory or a query): absolute path, size,
/// modification time and the version options.
pub(crate) fn file_signature(
    source: &DataSource,
    opts: &VersionOptions,
) -> Result<Option<FileSignature>> {
    let DataSource::File(path) = source else {
        return Ok(None);
    };
    let Ok(meta) = std::fs::metadata(path) else {
        // Reading it reports the problem with the reader's message.
        return Ok(None);
    };
    let absolute = std::fs::canonicalize(path)
        .with_context(|| format!("{}: cannot resolve the path", path.display()))?;
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    Ok(Some(FileSignature {
        path: absolute.display().to_string(),
        size: meta.len(),
        mtime_ns,
        options: options_key(opts),
    }))
}

fn options_key(opts: &VersionOptions) -> String {
    if opts.ignore_row_order {
        "rows-unordered".to_string()
    } else {
        "rows-ordered".to_string()
    }
}

/// A profile small enough to keep with every version: columns and findings, without the
/// correlation matrices. `None` (with a warning) when profiling fails.
pub(crate) fn summary_profile(frame: &Frame, source: &str) -> Option<Profile> {
    match capstan_quality::profile::profile(frame, source, &ProfileOptions::default()) {
        Ok(mut p) => {
            p.correlations = Correlations {
                numeric_columns: Vec::new(),
                pearson: Vec::new(),
                categorical_columns: Vec::new(),
                cramers_v: Vec::new(),
            };
            Some(p)
        }
        Err(e) => {
            eprintln!("warning: {source}: no profile recorded with the version: {e}");
            None
        }
    }
}

/// What the store keeps of the chunk hashes.
#[derive(Debug, Serialize, Deserialize)]
struct StoredChunks {
    row_order_ignored: bool,
    columns: Vec<ColumnChunks>,
}

/// The store row for a computed version.
pub(crate) fn to_new(
    v: &DatasetVersion,
    source: &str,
    profile: Option<&Profile>,
    run_id: Option<&str>,
) -> NewDatasetVersion {
    let chunks = StoredChunks {
        row_order_ignored: v.row_order_ignored,
        columns: v.columns.clone(),
    };
    NewDatasetVersion {
        version: v.version.clone(),
        source: source.to_string(),
        n_rows: v.n_rows as u64,
        n_cols: v.n_cols() as u64,
        schema: serde_json::to_value(&v.schema).expect("a schema is plain data"),
        chunk_hashes: serde_json::to_value(&chunks).expect("hashes are plain data"),
        profile: profile.and_then(|p| serde_json::to_value(p).ok()),
        run_id: run_id.map(str::to_string),
    }
}

/// A recorded version back as the hashes and the profile (a profile that no longer parses,
/// from another capstan, is left out).
pub(crate) fn from_record(r: &DatasetVersionRecord) -> Result<(DatasetVersion, Option<Profile>)> {
    let bad = |what: &str| {
        format!(
            "dataset version {}: stored {what} does not parse",
            r.version
        )
    };
    let schema: Schema = serde_json::from_value(r.schema.clone()).with_context(|| bad("schema"))?;
    let chunks: StoredChunks =
        serde_json::from_value(r.chunk_hashes.clone()).with_context(|| bad("chunk hashes"))?;
    let profile = r
        .profile
        .as_ref()
        .and_then(|p| serde_json::from_value(p.clone()).ok());
    let version = DatasetVersion {
        version: r.version.clone(),
        n_rows: usize::try_from(r.n_rows).unwrap_or(usize::MAX),
        schema,
        columns: chunks.columns,
        row_order_ignored: chunks.row_order_ignored,
    };
    Ok((version, profile))
}

/// Records the version a training run read, linked to the run.
pub fn record_for_run(
    store: &Store,
    version: &DatasetVersion,
    source: &str,
    run_id: &str,
) -> Result<()> {
    Ok(store.put_dataset_version(&to_new(version, source, None, Some(run_id)))?)
}

fn list(store: &Store, json: bool) -> Result<()> {
    let versions = store.list_dataset_versions()?;
    if json {
        let rows: Vec<serde_json::Value> = versions
            .iter()
            .map(|v| {
                serde_json::json!({
                    "version": v.version,
                    "source": v.source,
                    "n_rows": v.n_rows,
                    "n_cols": v.n_cols,
                    "created_at": v.created_at,
                    "run_ids": v.run_ids,
                    "row_order_ignored": row_order_ignored(v),
                    "has_profile": v.profile.is_some(),
                })
            })
            .collect();
        crate::outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if versions.is_empty() {
        crate::outln!(
            "no dataset versions recorded yet (train a model, or run `capstan data versions --data FILE`)"
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            vec![
                short(&v.version).to_string(),
                v.n_rows.to_string(),
                v.n_cols.to_string(),
                if row_order_ignored(v) {
                    "ignored"
                } else {
                    "kept"
                }
                .to_string(),
                v.created_at.clone(),
                runs_cell(&v.run_ids),
                v.source.clone(),
            ]
        })
        .collect();
    crate::output::out(&table::render(
        &[
            "version",
            "rows",
            "cols",
            "row order",
            "created",
            "runs",
            "source",
        ],
        &rows,
    ));
    Ok(())
}

fn row_order_ignored(v: &DatasetVersionRecord) -> bool {
    v.chunk_hashes["row_order_ignored"].as_bool() == Some(true)
}

fn runs_cell(run_ids: &[String]) -> String {
    if run_ids.is_empty() {
        "-".to_string()
    } else {
        run_ids.join(",")
    }
}

fn show(record: &DatasetVersionRecord, reused: bool, json: bool) -> Result<()> {
    let (version, _) = from_record(record)?;
    if json {
        let out = serde_json::json!({
            "version": record.version,
            "source": record.source,
            "n_rows": record.n_rows,
            "n_cols": record.n_cols,
            "row_order_ignored": version.row_order_ignored,
            "created_at": record.created_at,
            "run_ids": record.run_ids,
            "reused": reused,
            "has_profile": record.profile.is_some(),
            "columns": version.schema.fields.iter().zip(&version.columns).map(|(f, c)| {
                serde_json::json!({"name": f.name, "type": f.dtype, "chunks": c.chunks})
            }).collect::<Vec<_>>(),
        });
        crate::outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    crate::outln!("dataset version {}", record.version);
    crate::outln!(
        "{} rows x {} columns; row order {}",
        record.n_rows,
        record.n_cols,
        if version.row_order_ignored {
            "ignored"
        } else {
            "kept"
        }
    );
    crate::outln!(
        "first recorded {} from {}",
        record.created_at,
        record.source
    );
    crate::outln!("runs using it: {}", runs_cell(&record.run_ids));
    if reused {
        crate::outln!("(file unchanged since it was last hashed: not read again)");
    }
    Ok(())
}
