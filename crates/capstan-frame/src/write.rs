//! Writers: CSV, Parquet and JSON lines, each file written atomically.

use std::io::Write;
use std::path::Path;

use capstan_io::write_atomic;

use crate::cell_text::{is_quoted_in_json, push_cell};
use crate::format::FileFormat;
use crate::{Frame, FrameError};

/// Writes `frame` to `path` in the format its extension names (see [`crate::read`]).
pub fn write(frame: &Frame, path: &Path) -> Result<(), FrameError> {
    match FileFormat::from_path(path)? {
        FileFormat::Csv { delimiter } => write_delimited(frame, path, delimiter.unwrap_or(b',')),
        FileFormat::Parquet => write_parquet(frame, path),
        FileFormat::JsonLines => write_json_lines(frame, path),
    }
}

/// Writes a CSV file with a header row; tab separated when `path` ends in `.tsv`.
/// Nulls are empty fields, floats use the shortest text that reads back to the same value.
pub fn write_csv(frame: &Frame, path: &Path) -> Result<(), FrameError> {
    let delimiter = match FileFormat::from_path(path) {
        Ok(FileFormat::Csv {
            delimiter: Some(tab),
        }) => tab,
        _ => b',',
    };
    write_delimited(frame, path, delimiter)
}

/// Writes a Parquet file (snappy compressed).
pub fn write_parquet(frame: &Frame, path: &Path) -> Result<(), FrameError> {
    let io = |e| FrameError::io(path, e);
    write_atomic(
        path,
        |out| {
            crate::parquet_write::write_parquet_to(frame, out)
                .map_err(|e| FrameError::format(path, format!("cannot write parquet: {e}")))
        },
        io,
    )
}

/// Writes JSON lines: one object per row, keys in column order, null for nulls.
/// Non-finite floats (NaN, infinities) have no JSON form and are written as null.
pub fn write_json_lines(frame: &Frame, path: &Path) -> Result<(), FrameError> {
    let io = |e| FrameError::io(path, e);
    let keys: Vec<String> = frame
        .schema()
        .names()
        .map(|n| serde_json::to_string(n).expect("a string serializes to json"))
        .collect();
    write_atomic(
        path,
        |out| {
            let mut cell = String::new();
            let mut line = String::new();
            for i in 0..frame.n_rows() {
                line.clear();
                line.push('{');
                for (j, (key, column)) in keys.iter().zip(frame.columns()).enumerate() {
                    if j > 0 {
                        line.push(',');
                    }
                    line.push_str(key);
                    line.push(':');
                    cell.clear();
                    push_cell(column, i, &mut cell);
                    let non_finite = column.f64_at(i).is_some_and(|v| !v.is_finite());
                    if column.is_null(i) || non_finite {
                        line.push_str("null");
                    } else if is_quoted_in_json(column) {
                        line.push_str(
                            &serde_json::to_string(&cell).expect("a string serializes to json"),
                        );
                    } else {
                        line.push_str(&cell);
                    }
                }
                line.push_str("}\n");
                out.write_all(line.as_bytes()).map_err(io)?;
            }
            Ok(())
        },
        io,
    )
}

fn write_delimited(frame: &Frame, path: &Path, delimiter: u8) -> Result<(), FrameError> {
    let csv_error = |e: csv::Error| FrameError::format(path, format!("cannot write csv: {e}"));
    write_atomic(
        path,
        |out| {
            let mut writer = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(out);
            writer
                .write_record(frame.schema().names())
                .map_err(csv_error)?;
            let mut cell = String::new();
            for i in 0..frame.n_rows() {
                for column in frame.columns() {
                    cell.clear();
                    push_cell(column, i, &mut cell);
                    writer.write_field(&cell).map_err(csv_error)?;
                }
                writer.write_record(None::<&[u8]>).map_err(csv_error)?;
            }
            writer.flush().map_err(|e| FrameError::io(path, e))
        },
        |e| FrameError::io(path, e),
    )
}
