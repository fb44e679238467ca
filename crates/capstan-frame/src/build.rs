//! Typed columns from raw text cells: a forced type, or the first candidate type that fits.

use std::path::Path;

use arrow_array::{
    BooleanArray, Date32Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};

use crate::parse::{parse_bool, parse_date, parse_datetime, parse_float, parse_int};
use crate::raw::{RawColumn, RawTable};
use crate::{Column, DataType, FrameError};

/// Inference order for text cells: the first type that every non-null cell parses as wins.
pub(crate) const TEXT_CANDIDATES: &[DataType] = &[
    DataType::Integer,
    DataType::Float,
    DataType::Boolean,
    DataType::Date,
    DataType::Datetime,
    DataType::String,
];

/// How to type one column: a type the caller's schema forces, else inference candidates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnPlan {
    pub forced: Option<DataType>,
    pub candidates: &'static [DataType],
}

/// A typed, named column or why it could not be typed.
type Built = Result<(String, Column), FrameError>;

/// Types every column of `table`; columns are built on up to `max_threads` threads (same
/// result for any count; 1 builds on the calling thread).
pub(crate) fn build_columns(
    table: RawTable,
    plans: &[ColumnPlan],
    path: &Path,
    max_threads: usize,
) -> Result<Vec<(String, Column)>, FrameError> {
    let lines = &table.lines;
    if max_threads <= 1 {
        return table
            .columns
            .into_iter()
            .enumerate()
            .map(|(i, raw)| build_column(raw, plans[i], path, lines))
            .collect();
    }
    let n_threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, max_threads)
        .min(table.columns.len().max(1));
    let mut groups: Vec<Vec<(usize, RawColumn)>> = (0..n_threads).map(|_| Vec::new()).collect();
    for (i, raw) in table.columns.into_iter().enumerate() {
        groups[i % n_threads].push((i, raw));
    }
    let mut built: Vec<(usize, Built)> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                scope.spawn(move || {
                    group
                        .into_iter()
                        .map(|(i, raw)| (i, build_column(raw, plans[i], path, lines)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("column builder does not panic"))
            .collect()
    });
    built.sort_by_key(|(i, _)| *i);
    built.into_iter().map(|(_, r)| r).collect()
}

fn build_column(mut raw: RawColumn, plan: ColumnPlan, path: &Path, lines: &[u64]) -> Built {
    let nulls = raw.take_nulls();
    if let Some(dtype) = plan.forced {
        if dtype == DataType::String {
            return build_string(raw, nulls, path, lines);
        }
        return match try_build(&raw, &nulls, dtype) {
            Ok(Some(col)) => Ok((raw.name, col)),
            Ok(None) => build_string(raw, nulls, path, lines),
            Err(i) => Err(bad_value(&raw, i, dtype.name(), path, lines)),
        };
    }
    let n_nulls = nulls.as_ref().map_or(0, NullBuffer::null_count);
    if n_nulls == raw.len() {
        let col = Column::Float(Float64Array::new(vec![0.0; raw.len()].into(), nulls));
        return Ok((raw.name, col));
    }
    for &dtype in plan.candidates {
        if let Ok(Some(col)) = try_build(&raw, &nulls, dtype) {
            return Ok((raw.name, col));
        }
    }
    build_string(raw, nulls, path, lines)
}

/// The column as `dtype`, `Err(first bad cell)`, or `Ok(None)` for string (built apart).
fn try_build(
    raw: &RawColumn,
    nulls: &Option<NullBuffer>,
    dtype: DataType,
) -> Result<Option<Column>, usize> {
    let n = nulls.clone();
    let nr = nulls.as_ref();
    Ok(Some(match dtype {
        DataType::Integer => {
            Column::Integer(Int64Array::new(parse_all(raw, nr, parse_int)?.into(), n))
        }
        DataType::Float => Column::Float(Float64Array::new(
            parse_all(raw, nr, parse_float)?.into(),
            n,
        )),
        DataType::Boolean => {
            let values = BooleanBuffer::from(parse_all(raw, nr, parse_bool)?);
            Column::Boolean(BooleanArray::new(values, n))
        }
        DataType::Date => Column::Date(Date32Array::new(parse_all(raw, nr, parse_date)?.into(), n)),
        DataType::Datetime => Column::Datetime(TimestampMicrosecondArray::new(
            parse_all(raw, nr, parse_datetime)?.into(),
            n,
        )),
        DataType::String => return Ok(None),
    }))
}

/// Parses every non-null cell; `Err(i)` for the first cell that does not parse.
fn parse_all<T: Default + Copy>(
    raw: &RawColumn,
    nulls: Option<&NullBuffer>,
    parse: impl Fn(&[u8]) -> Option<T>,
) -> Result<Vec<T>, usize> {
    let mut out = Vec::with_capacity(raw.len());
    for i in 0..raw.len() {
        if nulls.is_some_and(|n| n.is_null(i)) {
            out.push(T::default());
        } else {
            out.push(parse(raw.cell(i)).ok_or(i)?);
        }
    }
    Ok(out)
}

/// Moves the text buffer into a string array; errors on the first cell that is not UTF-8.
fn build_string(
    raw: RawColumn,
    nulls: Option<NullBuffer>,
    path: &Path,
    lines: &[u64],
) -> Result<(String, Column), FrameError> {
    let RawColumn {
        name,
        data,
        offsets,
        ..
    } = raw;
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    string_column(name, offsets, Buffer::from_vec(data), nulls, path, lines)
}

/// A string column over `values`; errors on the first cell that is not UTF-8.
pub(crate) fn string_column(
    name: String,
    offsets: OffsetBuffer<i32>,
    values: Buffer,
    nulls: Option<NullBuffer>,
    path: &Path,
    lines: &[u64],
) -> Result<(String, Column), FrameError> {
    // Buffers are reference counted: the clones keep the cells for the error message.
    match StringArray::try_new(offsets.clone(), values.clone(), nulls) {
        Ok(a) => Ok((name, Column::String(a))),
        Err(_) => {
            let cell = |i: usize| &values[offsets[i] as usize..offsets[i + 1] as usize];
            let i = (0..offsets.len() - 1)
                .find(|&i| std::str::from_utf8(cell(i)).is_err())
                .unwrap_or(0);
            Err(FrameError::BadValue {
                path: path.to_path_buf(),
                row: row_of(lines, i),
                column: name,
                expected: "utf-8 text".to_string(),
                value: shorten(&String::from_utf8_lossy(cell(i))),
            })
        }
    }
}

fn bad_value(raw: &RawColumn, i: usize, expected: &str, path: &Path, lines: &[u64]) -> FrameError {
    FrameError::BadValue {
        path: path.to_path_buf(),
        row: row_of(lines, i),
        column: raw.name.clone(),
        expected: expected.to_string(),
        value: shorten(&String::from_utf8_lossy(raw.cell(i))),
    }
}

/// Line in the file of row `i`.
pub(crate) fn row_of(lines: &[u64], i: usize) -> usize {
    lines
        .get(i)
        .map_or(0, |&l| usize::try_from(l).unwrap_or(usize::MAX))
}

/// A cell's text cut to a readable length for error messages.
pub(crate) fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    if text.chars().count() <= MAX_CHARS {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX_CHARS).collect();
        format!("{head}...")
    }
}
