//! CSV columns typed while a chunk is read, then joined in chunk order. The result is the
//! one `build.rs` gives for the whole column: the forced type, or the first of
//! integer, float, boolean, date, datetime that every non-null cell parses as, else
//! string (an all-null column is float). Integers and floats, dates and datetimes nest
//! (every integer text is a float text, every date text a datetime text) and the groups
//! are disjoint, so a chunk only moves up within its group or to text, and chunks join
//! the same way.

use arrow_array::{BooleanArray, Date32Array, Float64Array, Int64Array, TimestampMicrosecondArray};
use arrow_buffer::{BooleanBuffer, BooleanBufferBuilder, Buffer, NullBuffer, OffsetBuffer};

use crate::build::{TEXT_CANDIDATES, string_column};
use crate::parse::{date_micros, parse_bool, parse_date, parse_datetime, parse_float, parse_int};
use crate::raw::{NullMatcher, TooLarge};
use crate::{Column, DataType, FrameError};

/// One column's cells from one chunk, typed so far.
#[derive(Debug)]
pub(crate) struct ChunkColumn {
    values: Values,
    forced: Option<DataType>,
    /// Rows expected in the chunk (room reserved up front).
    capacity: usize,
    len: usize,
    /// Rows whose cell is null.
    nulls: Vec<usize>,
    /// Bytes of the non-null cells (the reader's text limit counts them).
    pub text_bytes: u64,
    /// Integer rows written as a negative zero (`-0`), which as floats are -0.0.
    neg_zero: Vec<usize>,
}

#[derive(Debug)]
enum Values {
    /// Only nulls so far (inferred columns).
    Nulls,
    Integer(Vec<i64>),
    Float(Vec<f64>),
    Boolean(Vec<bool>),
    Date(Vec<i32>),
    Datetime(Vec<i64>),
    /// Texts of rows `from..`: row `from + k` is `data[offsets[k]..offsets[k + 1]]`. The
    /// rows before `from` were typed before a cell turned the column to text.
    Text {
        from: usize,
        data: Vec<u8>,
        offsets: Vec<usize>,
    },
    /// The forced type failed at `row` on cell `text`; later cells are ignored.
    Failed {
        row: usize,
        text: Vec<u8>,
    },
}

/// The type a chunk's column has reached, for joining chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Nulls,
    Typed(DataType),
}

impl ChunkColumn {
    /// An empty column; `capacity`: rows expected.
    pub fn new(forced: Option<DataType>, capacity: usize) -> ChunkColumn {
        let values = match forced {
            None => Values::Nulls,
            Some(DataType::Integer) => Values::Integer(Vec::with_capacity(capacity)),
            Some(DataType::Float) => Values::Float(Vec::with_capacity(capacity)),
            Some(DataType::Boolean) => Values::Boolean(Vec::with_capacity(capacity)),
            Some(DataType::Date) => Values::Date(Vec::with_capacity(capacity)),
            Some(DataType::Datetime) => Values::Datetime(Vec::with_capacity(capacity)),
            Some(DataType::String) => empty_text(0),
        };
        ChunkColumn {
            values,
            forced,
            capacity,
            len: 0,
            nulls: Vec::new(),
            text_bytes: 0,
            neg_zero: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends one cell.
    #[inline]
    pub fn push(&mut self, field: &[u8], nulls: &NullMatcher) {
        let row = self.len;
        self.len += 1;
        if nulls.matches(field) {
            self.nulls.push(row);
            match &mut self.values {
                Values::Integer(v) | Values::Datetime(v) => v.push(0),
                Values::Float(v) => v.push(0.0),
                Values::Boolean(v) => v.push(false),
                Values::Date(v) => v.push(0),
                Values::Text { data, offsets, .. } => offsets.push(data.len()),
                Values::Nulls | Values::Failed { .. } => {}
            }
            return;
        }
        self.text_bytes += field.len() as u64;
        let fits = match &mut self.values {
            Values::Float(v) => parse_float(field).map(|x| v.push(x)).is_some(),
            Values::Integer(v) => match parse_int(field) {
                Some(x) => {
                    if x == 0 && is_negative(field) {
                        self.neg_zero.push(row);
                    }
                    v.push(x);
                    true
                }
                None => false,
            },
            Values::Boolean(v) => parse_bool(field).map(|x| v.push(x)).is_some(),
            Values::Date(v) => parse_date(field).map(|x| v.push(x)).is_some(),
            Values::Datetime(v) => parse_datetime(field).map(|x| v.push(x)).is_some(),
            Values::Text { data, offsets, .. } => {
                data.extend_from_slice(field);
                offsets.push(data.len());
                true
            }
            Values::Nulls => false,
            Values::Failed { .. } => true,
        };
        if !fits {
            self.settle(field, row);
        }
    }

    /// A cell that does not fit the values so far: the next type up, text, or (forced) a
    /// failure.
    #[cold]
    #[inline(never)]
    fn settle(&mut self, bytes: &[u8], row: usize) {
        if self.forced.is_some() {
            self.values = Values::Failed {
                row,
                text: bytes.to_vec(),
            };
            return;
        }
        let previous = std::mem::replace(&mut self.values, Values::Nulls);
        self.values = match previous {
            Values::Nulls => self.first_type(bytes, row),
            Values::Integer(v) => match parse_float(bytes) {
                Some(x) => {
                    let mut floats = ints_to_floats(&v, &self.neg_zero);
                    floats.push(x);
                    Values::Float(floats)
                }
                None => text_from(row, bytes),
            },
            Values::Date(v) => match parse_datetime(bytes) {
                Some(x) => {
                    let mut micros: Vec<i64> = v.into_iter().map(date_micros).collect();
                    micros.push(x);
                    Values::Datetime(micros)
                }
                None => text_from(row, bytes),
            },
            _ => text_from(row, bytes),
        };
    }

    /// Values for the first non-null cell, at `row` (the rows before are null): the first
    /// inference candidate it parses as.
    fn first_type(&mut self, bytes: &[u8], row: usize) -> Values {
        for &dtype in TEXT_CANDIDATES {
            let values =
                match dtype {
                    DataType::Integer => parse_int(bytes).map(|x| {
                        if x == 0 && is_negative(bytes) {
                            self.neg_zero.push(row);
                        }
                        Values::Integer(after_defaults(self.capacity, row, x))
                    }),
                    DataType::Float => parse_float(bytes)
                        .map(|x| Values::Float(after_defaults(self.capacity, row, x))),
                    DataType::Boolean => parse_bool(bytes)
                        .map(|x| Values::Boolean(after_defaults(self.capacity, row, x))),
                    DataType::Date => parse_date(bytes)
                        .map(|x| Values::Date(after_defaults(self.capacity, row, x))),
                    DataType::Datetime => parse_datetime(bytes)
                        .map(|x| Values::Datetime(after_defaults(self.capacity, row, x))),
                    DataType::String => None,
                };
            if let Some(values) = values {
                return values;
            }
        }
        let mut text = empty_text(row);
        if let Values::Text { data, offsets, .. } = &mut text {
            data.extend_from_slice(bytes);
            offsets.push(data.len());
        }
        text
    }

    fn kind(&self) -> Kind {
        match &self.values {
            Values::Nulls => Kind::Nulls,
            Values::Integer(_) => Kind::Typed(DataType::Integer),
            Values::Float(_) => Kind::Typed(DataType::Float),
            Values::Boolean(_) => Kind::Typed(DataType::Boolean),
            Values::Date(_) => Kind::Typed(DataType::Date),
            Values::Datetime(_) => Kind::Typed(DataType::Datetime),
            Values::Text { .. } | Values::Failed { .. } => Kind::Typed(DataType::String),
        }
    }

    /// The forced type's first failure: row and cell text.
    pub fn failure(&self) -> Option<(usize, &[u8])> {
        match &self.values {
            Values::Failed { row, text } => Some((*row, text)),
            _ => None,
        }
    }

    /// How many leading rows lack their text when the column ends up as `dtype` (they were
    /// typed before the column turned to text, or the column is text in another chunk).
    pub fn missing_text(&self, dtype: DataType) -> usize {
        match &self.values {
            Values::Text { from, .. } => *from,
            Values::Failed { .. } => 0,
            // All null: empty texts, no reading needed.
            Values::Nulls => 0,
            _ if dtype == DataType::String => self.len,
            _ => 0,
        }
    }

    /// Puts the texts of the first rows in front (`offsets` starts at 0 and has one entry
    /// per row after it).
    pub fn prepend_text(&mut self, prefix: Vec<u8>, prefix_offsets: Vec<usize>) {
        let rows = prefix_offsets.len() - 1;
        let (data, offsets) = match std::mem::replace(&mut self.values, Values::Nulls) {
            Values::Text {
                from,
                data: rest,
                offsets: rest_offsets,
            } if from == rows => {
                let shift = prefix.len();
                let mut data = prefix;
                data.extend_from_slice(&rest);
                let mut offsets = prefix_offsets;
                offsets.extend(rest_offsets[1..].iter().map(|o| o + shift));
                (data, offsets)
            }
            _ => (prefix, prefix_offsets),
        };
        self.values = Values::Text {
            from: 0,
            data,
            offsets,
        };
    }
}

/// The column's final type over all chunks (`None`: every cell is null).
pub(crate) fn final_type<'a>(
    parts: impl IntoIterator<Item = &'a ChunkColumn>,
    forced: Option<DataType>,
) -> Option<DataType> {
    if forced.is_some() {
        return forced;
    }
    let mut kind = Kind::Nulls;
    for part in parts {
        kind = join(kind, part.kind());
    }
    match kind {
        Kind::Nulls => None,
        Kind::Typed(t) => Some(t),
    }
}

fn join(a: Kind, b: Kind) -> Kind {
    use DataType::{Date, Datetime, Float, Integer, String};
    match (a, b) {
        (Kind::Nulls, k) | (k, Kind::Nulls) => k,
        (Kind::Typed(x), Kind::Typed(y)) if x == y => a,
        (Kind::Typed(Integer | Float), Kind::Typed(Integer | Float)) => Kind::Typed(Float),
        (Kind::Typed(Date | Datetime), Kind::Typed(Date | Datetime)) => Kind::Typed(Datetime),
        _ => Kind::Typed(String),
    }
}

/// The whole column from its chunks, typed `dtype` (`None`: all null, float). Every part
/// has its text when `dtype` is string, and no part failed; `lines` (row to line in the
/// file) name the row of a cell that is not UTF-8.
pub(crate) fn join_column(
    name: String,
    parts: Vec<ChunkColumn>,
    dtype: Option<DataType>,
    lines: &[u64],
    path: &std::path::Path,
) -> Result<(String, Column), FrameError> {
    let n: usize = parts.iter().map(ChunkColumn::len).sum();
    let nulls = null_buffer(&parts, n);
    let column = match dtype {
        None => Column::Float(Float64Array::new(vec![0.0; n].into(), nulls)),
        Some(DataType::Integer) => {
            Column::Integer(Int64Array::new(concat(parts, n, ints)?.into(), nulls))
        }
        Some(DataType::Float) => {
            Column::Float(Float64Array::new(concat(parts, n, floats)?.into(), nulls))
        }
        Some(DataType::Boolean) => {
            let values = BooleanBuffer::from(concat(parts, n, bools)?);
            Column::Boolean(BooleanArray::new(values, nulls))
        }
        Some(DataType::Date) => {
            Column::Date(Date32Array::new(concat(parts, n, dates)?.into(), nulls))
        }
        Some(DataType::Datetime) => Column::Datetime(TimestampMicrosecondArray::new(
            concat(parts, n, datetimes)?.into(),
            nulls,
        )),
        Some(DataType::String) => return join_text(name, parts, n, nulls, lines, path),
    };
    Ok((name, column))
}

/// Values of `n` rows, chunk after chunk; `take` gives one part's values, or `Err(())`
/// for a part that cannot hold the type (a bug, reported as an error).
fn concat<T: Copy + Default>(
    parts: Vec<ChunkColumn>,
    n: usize,
    take: impl Fn(ChunkColumn) -> Result<Vec<T>, ()>,
) -> Result<Vec<T>, FrameError> {
    let mut out = Vec::with_capacity(n);
    for part in parts {
        let len = part.len;
        if matches!(part.values, Values::Nulls) {
            out.resize(out.len() + len, T::default());
        } else {
            let values = take(part).map_err(|()| mixed())?;
            out.extend_from_slice(&values);
        }
    }
    Ok(out)
}

fn mixed() -> FrameError {
    FrameError::Invalid("csv reader: chunks of one column disagree on its type".to_string())
}

fn ints(part: ChunkColumn) -> Result<Vec<i64>, ()> {
    match part.values {
        Values::Integer(v) => Ok(v),
        _ => Err(()),
    }
}

fn floats(part: ChunkColumn) -> Result<Vec<f64>, ()> {
    match part.values {
        Values::Float(v) => Ok(v),
        Values::Integer(v) => Ok(ints_to_floats(&v, &part.neg_zero)),
        _ => Err(()),
    }
}

fn bools(part: ChunkColumn) -> Result<Vec<bool>, ()> {
    match part.values {
        Values::Boolean(v) => Ok(v),
        _ => Err(()),
    }
}

fn dates(part: ChunkColumn) -> Result<Vec<i32>, ()> {
    match part.values {
        Values::Date(v) => Ok(v),
        _ => Err(()),
    }
}

fn datetimes(part: ChunkColumn) -> Result<Vec<i64>, ()> {
    match part.values {
        Values::Datetime(v) => Ok(v),
        Values::Date(v) => Ok(v.into_iter().map(date_micros).collect()),
        _ => Err(()),
    }
}

/// The texts of all chunks as one string array; an error names the first cell that is not
/// UTF-8.
fn join_text(
    name: String,
    parts: Vec<ChunkColumn>,
    n: usize,
    nulls: Option<NullBuffer>,
    lines: &[u64],
    path: &std::path::Path,
) -> Result<(String, Column), FrameError> {
    let total: usize = parts
        .iter()
        .map(|p| match &p.values {
            Values::Text { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    let mut data: Vec<u8> = Vec::with_capacity(total);
    let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
    offsets.push(0);
    let too_large = || TooLarge::error(path, &name);
    for part in parts {
        match part.values {
            Values::Text {
                from: 0,
                data: d,
                offsets: o,
            } => {
                let shift = data.len();
                data.extend_from_slice(&d);
                for &e in &o[1..] {
                    offsets.push(i32::try_from(e + shift).map_err(|_| too_large())?);
                }
            }
            Values::Nulls => {
                let end = i32::try_from(data.len()).map_err(|_| too_large())?;
                offsets.resize(offsets.len() + part.len, end);
            }
            _ => return Err(mixed()),
        }
    }
    let offsets = OffsetBuffer::new(offsets.into());
    string_column(name, offsets, Buffer::from_vec(data), nulls, path, lines)
}

fn null_buffer(parts: &[ChunkColumn], n: usize) -> Option<NullBuffer> {
    if parts.iter().all(|p| p.nulls.is_empty()) {
        return None;
    }
    let mut valid = BooleanBufferBuilder::new(n);
    valid.append_n(n, true);
    let mut start = 0;
    for part in parts {
        for &row in &part.nulls {
            valid.set_bit(start + row, false);
        }
        start += part.len;
    }
    Some(NullBuffer::new(valid.finish()))
}

fn is_negative(bytes: &[u8]) -> bool {
    bytes.trim_ascii().first() == Some(&b'-')
}

/// Integers as the floats their texts parse to: the nearest float (as `as` rounds), and
/// -0.0 for a negative zero.
fn ints_to_floats(ints: &[i64], neg_zero: &[usize]) -> Vec<f64> {
    let mut floats: Vec<f64> = ints.iter().map(|&x| x as f64).collect();
    for &row in neg_zero {
        floats[row] = -0.0;
    }
    floats
}

/// `rows` defaults, then `value`, with room for `capacity` values.
fn after_defaults<T: Copy + Default>(capacity: usize, rows: usize, value: T) -> Vec<T> {
    let mut v = Vec::with_capacity(capacity.max(rows + 1));
    v.resize(rows, T::default());
    v.push(value);
    v
}

/// Text values for `rows` null rows.
fn empty_text(rows: usize) -> Values {
    Values::Text {
        from: 0,
        data: Vec::new(),
        offsets: vec![0; rows + 1],
    }
}

/// Text from `row` on, starting with `cell`.
fn text_from(row: usize, cell: &[u8]) -> Values {
    Values::Text {
        from: row,
        data: cell.to_vec(),
        offsets: vec![0, cell.len()],
    }
}
