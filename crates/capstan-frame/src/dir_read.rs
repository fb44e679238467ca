//! A directory of data files (a partitioned dataset, as Spark, Hive or pyarrow write it)
//! read as one frame.
//!
//! Every data file below the directory is read, in path order; names starting with `.` or
//! `_` (`_SUCCESS`, `_metadata`, `.part-0.crc`, `_temporary/`) are skipped, and symbolic
//! links to directories are not followed. All files must have one format. Columns are
//! unified by name: a column missing from a file is null there, a column that is all null
//! in a file takes the type it has elsewhere, integer and float widen to float; CSV files,
//! typed per file by inference, get the type inference gives on all their cells (files
//! that inferred another type are read again with it forced); any other difference
//! (between Parquet or JSON lines files) is an error. `key=value` directories add a column `key` after the
//! files' columns.

use std::path::{Path, PathBuf};

use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use sha2::{Digest, Sha256};

use crate::arrow_convert::column_from_arrow;
use crate::cast::cast_lossless;
use crate::format::FileFormat;
use crate::partition::{PartitionValue, partition_column, partition_type, partition_values};
use crate::{Column, DataType, Field, Frame, FrameError, ReadOptions};

/// One data file: its partition values and its rows (`None`: a file without data rows).
#[derive(Debug)]
struct Part {
    path: PathBuf,
    partitions: Vec<PartitionValue>,
    frame: Option<Frame>,
}

impl Part {
    fn n_rows(&self) -> usize {
        self.frame.as_ref().map_or(0, Frame::n_rows)
    }
}

/// A column of the result: its name, its type so far and the file that fixed the type.
#[derive(Debug)]
struct Unified<'a> {
    name: String,
    /// `None` while the column was all null in every file so far.
    dtype: Option<DataType>,
    /// The type of the first file's (all null) column, used when no file has a value.
    fallback: DataType,
    typed_in: &'a Path,
}

pub(crate) fn read_dir(dir: &Path, opts: &ReadOptions) -> Result<Frame, FrameError> {
    let files = data_files(dir)?;
    let mut parts = Vec::with_capacity(files.len());
    for path in files {
        let partitions = partition_values(dir, &path)?;
        let frame = match crate::read::read_file(&path, opts) {
            Ok(frame) => Some(frame),
            Err(FrameError::Empty { .. }) => None,
            Err(e) => return Err(e),
        };
        parts.push(Part {
            path,
            partitions,
            frame,
        });
    }
    if parts.iter().all(|p| p.frame.is_none()) {
        return Err(FrameError::format(
            dir,
            "no data: every file in the directory is empty",
        ));
    }
    check_partition_keys(&parts)?;
    let text = matches!(
        FileFormat::from_path(&parts[0].path)?,
        FileFormat::Csv { .. }
    );
    let unified = unify_columns(&parts, text)?;
    let unified: Vec<(String, DataType)> = unified
        .into_iter()
        .map(|u| (u.name, u.dtype.unwrap_or(u.fallback)))
        .collect();
    if text {
        reread_with_common_types(&mut parts, &unified, opts)?;
    }
    let mut columns = Vec::with_capacity(unified.len() + parts[0].partitions.len());
    for (name, dtype) in &unified {
        columns.push((name.clone(), gather(name, *dtype, &parts, dir)?));
    }
    for (k, first) in parts[0].partitions.iter().enumerate() {
        let values: Vec<Option<&str>> = parts
            .iter()
            .map(|p| p.partitions[k].value.as_deref())
            .collect();
        let dtype = partition_type(&values, opts.forced_type(&first.key));
        let pieces: Vec<(&Path, &PartitionValue, usize)> = parts
            .iter()
            .map(|p| (p.path.as_path(), &p.partitions[k], p.n_rows()))
            .collect();
        columns.push((
            first.key.clone(),
            partition_column(&first.key, dtype, &pieces)?,
        ));
    }
    Frame::from_columns(columns).map_err(|e| FrameError::format(dir, e.to_string()))
}

/// The data files below `dir`, sorted by path, all of one format.
pub(crate) fn data_files(dir: &Path) -> Result<Vec<PathBuf>, FrameError> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    let Some(first) = files.first() else {
        return Err(FrameError::format(
            dir,
            "no data files in the directory (expected .csv, .tsv, .parquet, .pq or .jsonl \
             files, possibly in key=value subdirectories)",
        ));
    };
    let first_format = FileFormat::from_path(first)?;
    for file in &files[1..] {
        let format = FileFormat::from_path(file)?;
        if format != first_format {
            return Err(FrameError::format(
                dir,
                format!(
                    "files of different formats: {} is {} but {} is {}; a directory must \
                     hold one format",
                    first.display(),
                    format_name(first_format),
                    file.display(),
                    format_name(format)
                ),
            ));
        }
    }
    Ok(files)
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FrameError> {
    let entries = std::fs::read_dir(dir).map_err(|e| FrameError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| FrameError::io(dir, e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(['.', '_']) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| FrameError::io(&path, e))?;
        if kind.is_dir() {
            collect_files(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

fn format_name(format: FileFormat) -> &'static str {
    match format {
        FileFormat::Csv { delimiter: None } => "csv",
        FileFormat::Csv { delimiter: Some(_) } => "tsv",
        FileFormat::Parquet => "parquet",
        FileFormat::JsonLines => "json lines",
    }
}

/// Every file sits under the same partition keys, in the same order, and no file has a
/// column of a partition key's name.
fn check_partition_keys(parts: &[Part]) -> Result<(), FrameError> {
    let keys = |p: &Part| {
        p.partitions
            .iter()
            .map(|v| v.key.clone())
            .collect::<Vec<_>>()
    };
    let first = &parts[0];
    let first_keys = keys(first);
    for part in parts {
        let these = keys(part);
        if these != first_keys {
            return Err(FrameError::format(
                &part.path,
                format!(
                    "partition keys [{}] differ from [{}] of {}",
                    these.join(", "),
                    first_keys.join(", "),
                    first.path.display()
                ),
            ));
        }
        let Some(frame) = &part.frame else { continue };
        if let Some(clash) = part
            .partitions
            .iter()
            .find(|v| frame.column(&v.key).is_some())
        {
            return Err(FrameError::format(
                &part.path,
                format!(
                    "column '{}' is both in the file and a partition directory '{}'",
                    clash.key, clash.dir_name
                ),
            ));
        }
    }
    Ok(())
}

/// The result's columns in first-seen order, with their common types. For typed formats
/// only integer and float mix (as float); for `text` formats (CSV, typed per file by
/// inference) two types give what inference gives on the values of both.
fn unify_columns(parts: &[Part], text: bool) -> Result<Vec<Unified<'_>>, FrameError> {
    let mut unified: Vec<Unified<'_>> = Vec::new();
    for part in parts {
        let Some(frame) = &part.frame else { continue };
        for (field, column) in frame.schema().fields.iter().zip(frame.columns()) {
            let has_values = column.null_count() < column.len();
            let dtype = field.dtype;
            let Some(u) = unified.iter_mut().find(|u| u.name == field.name) else {
                unified.push(Unified {
                    name: field.name.clone(),
                    dtype: has_values.then_some(dtype),
                    fallback: dtype,
                    typed_in: &part.path,
                });
                continue;
            };
            if !has_values {
                continue;
            }
            u.dtype = match u.dtype {
                None => {
                    u.typed_in = &part.path;
                    Some(dtype)
                }
                Some(t) if t == dtype => Some(t),
                Some(DataType::Integer | DataType::Float)
                    if matches!(dtype, DataType::Integer | DataType::Float) =>
                {
                    Some(DataType::Float)
                }
                Some(t) if text => Some(common_text_type(t, dtype)),
                Some(t) => {
                    return Err(FrameError::format(
                        &part.path,
                        format!(
                            "column '{}' is {dtype} here but {t} in {}",
                            field.name,
                            u.typed_in.display()
                        ),
                    ));
                }
            };
        }
    }
    Ok(unified)
}

/// The type inference gives a text column whose cells infer as `a` in one file and `b` in
/// another: the first candidate (integer, float, boolean, date, datetime, string) that
/// both sets of cells parse as.
fn common_text_type(a: DataType, b: DataType) -> DataType {
    use DataType::{Date, Datetime, Float, Integer};
    match (a, b) {
        _ if a == b => a,
        (Integer, Float) | (Float, Integer) => Float,
        (Date, Datetime) | (Datetime, Date) => Datetime,
        _ => DataType::String,
    }
}

/// Reads again, with the common types forced, the text files whose cells inferred another
/// type, so their cells are parsed from the text (`007` stays `007` in a string column).
fn reread_with_common_types(
    parts: &mut [Part],
    unified: &[(String, DataType)],
    opts: &ReadOptions,
) -> Result<(), FrameError> {
    for part in parts {
        let Some(frame) = &part.frame else { continue };
        let differing: Vec<Field> = unified
            .iter()
            .filter(|(name, dtype)| {
                frame
                    .column(name)
                    .is_some_and(|c| c.null_count() < c.len() && c.dtype() != *dtype)
            })
            .map(|(name, dtype)| Field {
                name: name.clone(),
                dtype: *dtype,
                nullable: true,
            })
            .collect();
        if differing.is_empty() {
            continue;
        }
        let mut forced = opts.schema.clone().unwrap_or_default();
        forced.fields.extend(differing);
        let opts = ReadOptions {
            schema: Some(forced),
            ..opts.clone()
        };
        part.frame = Some(crate::read::read_file(&part.path, &opts)?);
    }
    Ok(())
}

/// One result column: each file's values as the common type, nulls where it lacks them.
fn gather(name: &str, dtype: DataType, parts: &[Part], dir: &Path) -> Result<Column, FrameError> {
    let mut pieces = Vec::with_capacity(parts.len());
    for part in parts {
        let Some(frame) = &part.frame else { continue };
        let piece = match frame.column(name) {
            Some(c) if c.null_count() < c.len() => cast_lossless(c.clone(), dtype)
                .map_err(|why| FrameError::format(&part.path, format!("column '{name}': {why}")))?,
            _ => null_column(dtype, frame.n_rows()),
        };
        pieces.push(piece);
    }
    concat(pieces).map_err(|why| FrameError::format(dir, format!("column '{name}': {why}")))
}

fn null_column(dtype: DataType, n: usize) -> Column {
    match dtype {
        DataType::Integer => Column::Integer(Int64Array::new_null(n)),
        DataType::Float => Column::Float(Float64Array::new_null(n)),
        DataType::Boolean => Column::Boolean(BooleanArray::new_null(n)),
        DataType::String => Column::String(StringArray::new_null(n)),
        DataType::Date => Column::Date(Date32Array::new_null(n)),
        DataType::Datetime => Column::Datetime(TimestampMicrosecondArray::new_null(n)),
    }
}

fn concat(mut pieces: Vec<Column>) -> Result<Column, String> {
    if pieces.len() == 1 {
        return Ok(pieces.remove(0));
    }
    let arrays: Vec<ArrayRef> = pieces.iter().map(Column::to_arrow).collect();
    let refs: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
    let joined = arrow_select::concat::concat(&refs).map_err(|e| e.to_string())?;
    column_from_arrow(joined.as_ref())
}

/// A content hash of a directory's data files: SHA-256 over one line per file, in read
/// order, of its path relative to `dir` (with `/`), a tab and its own SHA-256.
pub fn dir_sha256(dir: &Path) -> Result<String, FrameError> {
    let mut hasher = Sha256::new();
    for file in data_files(dir)? {
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        let name: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let line = format!("{}\t{}\n", name.join("/"), crate::file_sha256(&file)?);
        hasher.update(line.as_bytes());
    }
    Ok(capstan_io::hex(&hasher.finalize()))
}
