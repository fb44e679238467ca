//! CSV reader: header row, quoting, any one-byte delimiter, per-column type inference.

use std::fs::File;
use std::io::Read;
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
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(file);
    read_records(reader, path, opts, None, MAX_THREADS).map_err(|e| match e {
        ReadBytesError::Frame(e) => e,
        // Unreachable: no row limit was given.
        ReadBytesError::TooManyRows { max } => FrameError::Invalid(format!("more than {max} rows")),
    })
}

/// Columns typed on at most this many threads.
const MAX_THREADS: usize = 8;

/// CSV text in memory (an HTTP body), read exactly as a `.csv` file is read by
/// [`read`](crate::read) with the same options: header row, quoting, null values, the types
/// `opts.schema` forces, inference for the other columns. `label` stands in for the path in
/// errors (row numbers are line numbers, the header being line 1). More than `max_rows`
/// data rows stop the read with [`ReadBytesError::TooManyRows`].
pub fn read_csv_bytes(
    bytes: &[u8],
    label: &Path,
    opts: &ReadOptions,
    max_rows: Option<usize>,
) -> Result<Frame, ReadBytesError> {
    let delimiter = opts.delimiter;
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    // Small tables are typed on the calling thread: spawning costs more than it saves.
    let threads = if bytes.len() < (1 << 20) {
        1
    } else {
        MAX_THREADS
    };
    read_records(reader, label, opts, max_rows, threads)
}

/// Why in-memory text did not become a frame.
#[derive(Debug, thiserror::Error)]
pub enum ReadBytesError {
    /// More data rows than the caller allows.
    #[error("more than {max} rows")]
    TooManyRows { max: usize },
    #[error(transparent)]
    Frame(#[from] FrameError),
}

fn read_records<R: Read>(
    mut reader: csv::Reader<R>,
    path: &Path,
    opts: &ReadOptions,
    max_rows: Option<usize>,
    max_threads: usize,
) -> Result<Frame, ReadBytesError> {
    let mut record = ByteRecord::new();
    if !next_record(&mut reader, &mut record, path)? {
        return Err(FrameError::Empty {
            path: path.to_path_buf(),
        }
        .into());
    }
    let names = header_names(&record, path)?;
    let mut columns: Vec<RawColumn> = names.into_iter().map(RawColumn::new).collect();
    let nulls = NullMatcher::new(&opts.null_values);
    let mut lines = Vec::new();
    while next_record(&mut reader, &mut record, path)? {
        if max_rows.is_some_and(|max| lines.len() >= max) {
            return Err(ReadBytesError::TooManyRows { max: lines.len() });
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != columns.len() {
            return Err(FrameError::Ragged {
                path: path.to_path_buf(),
                row: usize::try_from(line).unwrap_or(usize::MAX),
                expected: columns.len(),
                found: record.len(),
            }
            .into());
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
        }
        .into());
    }
    let plans: Vec<ColumnPlan> = columns
        .iter()
        .map(|c| ColumnPlan {
            forced: opts.forced_type(&c.name),
            candidates: TEXT_CANDIDATES,
        })
        .collect();
    let built = build_columns(RawTable { columns, lines }, &plans, path, max_threads)?;
    Frame::from_columns(built).map_err(ReadBytesError::from)
}

fn next_record<R: Read>(
    reader: &mut csv::Reader<R>,
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
