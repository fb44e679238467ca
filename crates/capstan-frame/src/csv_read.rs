//! CSV reader: header row, quoting, any one-byte delimiter, per-column type inference.

use std::fs::File;
use std::path::Path;

use csv::ByteRecord;

use crate::build::{ColumnPlan, TEXT_CANDIDATES, build_columns};
use crate::raw::{NullMatcher, RawColumn, RawTable, TooLarge};
use crate::{Frame, FrameError, ReadOptions};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub(crate) fn read_csv(
    path: &Path,
    delimiter: u8,
    opts: &ReadOptions,
) -> Result<Frame, FrameError> {
    let file = File::open(path).map_err(|e| FrameError::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(file);
    let mut record = ByteRecord::new();
    if !next_record(&mut reader, &mut record, path)? {
        return Err(FrameError::Empty {
            path: path.to_path_buf(),
        });
    }
    let names = header_names(&record, path)?;
    let mut columns: Vec<RawColumn> = names.into_iter().map(RawColumn::new).collect();
    let nulls = NullMatcher::new(&opts.null_values);
    let mut lines = Vec::new();
    while next_record(&mut reader, &mut record, path)? {
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != columns.len() {
            return Err(FrameError::Ragged {
                path: path.to_path_buf(),
                row: usize::try_from(line).unwrap_or(usize::MAX),
                expected: columns.len(),
                found: record.len(),
            });
        }
        for (column, field) in columns.iter_mut().zip(record.iter()) {
            let pushed = if nulls.matches(field) {
                column.push_null()
            } else {
                column.push(field)
            };
            pushed.map_err(|_| TooLarge::error(path, &column.name))?;
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(FrameError::Empty {
            path: path.to_path_buf(),
        });
    }
    let plans: Vec<ColumnPlan> = columns
        .iter()
        .map(|c| ColumnPlan {
            forced: opts.forced_type(&c.name),
            candidates: TEXT_CANDIDATES,
        })
        .collect();
    let built = build_columns(RawTable { columns, lines }, &plans, path)?;
    Frame::from_columns(built)
}

fn next_record(
    reader: &mut csv::Reader<File>,
    record: &mut ByteRecord,
    path: &Path,
) -> Result<bool, FrameError> {
    reader.read_byte_record(record).map_err(|e| {
        let at = e
            .position()
            .map_or(String::new(), |p| format!("line {}: ", p.line()));
        FrameError::format(path, format!("{at}cannot read csv: {e}"))
    })
}

/// Header names as UTF-8, without a byte-order mark, each name once.
fn header_names(record: &ByteRecord, path: &Path) -> Result<Vec<String>, FrameError> {
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let field = if i == 0 {
            field.strip_prefix(UTF8_BOM).unwrap_or(field)
        } else {
            field
        };
        let name = std::str::from_utf8(field).map_err(|_| {
            FrameError::format(
                path,
                format!(
                    "header column {}: expected utf-8 text, found '{}'",
                    i + 1,
                    String::from_utf8_lossy(field)
                ),
            )
        })?;
        if let Some(first) = names.iter().position(|n| n == name) {
            return Err(FrameError::format(
                path,
                format!(
                    "header: duplicate column name '{name}' (columns {} and {})",
                    first + 1,
                    i + 1
                ),
            ));
        }
        names.push(name.to_string());
    }
    Ok(names)
}
