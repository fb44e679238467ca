//! A frame built cell by cell against a schema, for values that arrive one at a time
//! (a JSON request body, a typed tensor) instead of as a text file.
//!
//! Each column gets exactly the type its schema field names. Text cells go through the
//! same cell parsers and null values as the CSV reader with that schema forced, and
//! numbers are taken as the value the CSV reader would parse from their decimal text, so
//! a row sent as JSON gives the same typed values, bit for bit, as the same row in a file.

use std::fmt::Write;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};

use crate::parse::{parse_bool, parse_date, parse_datetime, parse_float, parse_int};
use crate::raw::NullMatcher;
use crate::{Column, DataType, Frame, FrameError, Schema};

/// Largest integer magnitude a float holds exactly (2^53).
const MAX_EXACT_FLOAT_INT: f64 = 9_007_199_254_740_992.0;

/// One incoming value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    /// Text, parsed as the CSV reader parses a cell of the column's type.
    Text(&'a str),
    /// A value that cannot be a cell (a JSON array or object): always refused.
    Nested,
}

/// A cell that does not fit its column's type; `expected` says what would, e.g.
/// "an integer". The caller names the row, the column and the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellError {
    pub expected: &'static str,
}

/// What a column of `dtype` accepts, in words ("an integer", "a date (YYYY-MM-DD)", ...).
pub fn expected_cell(dtype: DataType) -> &'static str {
    match dtype {
        DataType::Integer => "an integer",
        DataType::Float => "a number",
        DataType::Boolean => "a boolean (true or false)",
        DataType::String => "a string",
        DataType::Date => "a date (YYYY-MM-DD)",
        DataType::Datetime => "a datetime (YYYY-MM-DD[THH:MM:SS[.ffffff]])",
    }
}

/// Typed values of one column so far.
#[derive(Debug)]
enum Values {
    Integer(Int64Builder),
    Float(Float64Builder),
    Boolean(BooleanBuilder),
    String(StringBuilder),
    Date(Date32Builder),
    Datetime(TimestampMicrosecondBuilder),
}

/// Builds a frame with the columns of a schema, in its order, typed as it says.
///
/// Cells are pushed column by column or row by row; [`FrameBuilder::finish`] checks that
/// every column got the same number of cells. Nullability is not enforced (as in the
/// readers): a null in a non-nullable field is kept and left to the consumer.
pub struct FrameBuilder {
    names: Vec<String>,
    dtypes: Vec<DataType>,
    columns: Vec<Values>,
    nulls: NullMatcher,
    /// Scratch text for numbers written into string columns.
    text: String,
}

impl std::fmt::Debug for FrameBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameBuilder")
            .field("names", &self.names)
            .field("dtypes", &self.dtypes)
            .finish_non_exhaustive()
    }
}

impl FrameBuilder {
    /// An empty builder for `schema`. `null_values` are the texts read as null, as in
    /// [`ReadOptions::null_values`](crate::ReadOptions) (`[""]`: an empty string is null).
    pub fn new(schema: &Schema, null_values: &[String], capacity: usize) -> FrameBuilder {
        let columns = schema
            .fields
            .iter()
            .map(|f| match f.dtype {
                DataType::Integer => Values::Integer(Int64Builder::with_capacity(capacity)),
                DataType::Float => Values::Float(Float64Builder::with_capacity(capacity)),
                DataType::Boolean => Values::Boolean(BooleanBuilder::with_capacity(capacity)),
                DataType::String => {
                    Values::String(StringBuilder::with_capacity(capacity, capacity * 8))
                }
                DataType::Date => Values::Date(Date32Builder::with_capacity(capacity)),
                DataType::Datetime => {
                    Values::Datetime(TimestampMicrosecondBuilder::with_capacity(capacity))
                }
            })
            .collect();
        FrameBuilder {
            names: schema.fields.iter().map(|f| f.name.clone()).collect(),
            dtypes: schema.fields.iter().map(|f| f.dtype).collect(),
            columns,
            nulls: NullMatcher::new(null_values),
            text: String::new(),
        }
    }

    /// The number of columns (the schema's fields).
    pub fn n_cols(&self) -> usize {
        self.columns.len()
    }

    /// Appends `cell` to column `column` (the schema field's index); on error nothing is
    /// appended.
    ///
    /// Panics if `column` is not a field index.
    pub fn push(&mut self, column: usize, cell: Cell<'_>) -> Result<(), CellError> {
        let refuse = CellError {
            expected: expected_cell(self.dtypes[column]),
        };
        if let Cell::Text(t) = cell {
            if self.nulls.matches(t.as_bytes()) {
                self.push_null(column);
                return Ok(());
            }
        }
        if cell == Cell::Null {
            self.push_null(column);
            return Ok(());
        }
        match &mut self.columns[column] {
            Values::Integer(b) => b.append_value(integer(cell).ok_or(refuse)?),
            Values::Float(b) => b.append_value(float(cell).ok_or(refuse)?),
            Values::Boolean(b) => b.append_value(match cell {
                Cell::Bool(v) => v,
                Cell::Text(t) => parse_bool(t.as_bytes()).ok_or(refuse)?,
                _ => return Err(refuse),
            }),
            Values::String(b) => {
                // Numbers and booleans become the text the JSON lines reader gives them.
                let text = &mut self.text;
                text.clear();
                match cell {
                    Cell::Text(t) => b.append_value(t),
                    Cell::Bool(v) => b.append_value(if v { "true" } else { "false" }),
                    // Writing to a String cannot fail.
                    Cell::Int(v) => {
                        let _ = write!(text, "{v}");
                        b.append_value(text.as_str());
                    }
                    Cell::UInt(v) => {
                        let _ = write!(text, "{v}");
                        b.append_value(text.as_str());
                    }
                    Cell::Float(v) => {
                        let _ = write!(text, "{v:?}");
                        b.append_value(text.as_str());
                    }
                    Cell::Null | Cell::Nested => return Err(refuse),
                }
            }
            Values::Date(b) => match cell {
                Cell::Text(t) => b.append_value(parse_date(t.as_bytes()).ok_or(refuse)?),
                _ => return Err(refuse),
            },
            Values::Datetime(b) => match cell {
                Cell::Text(t) => b.append_value(parse_datetime(t.as_bytes()).ok_or(refuse)?),
                _ => return Err(refuse),
            },
        }
        Ok(())
    }

    /// Appends a null to column `column`.
    pub fn push_null(&mut self, column: usize) {
        match &mut self.columns[column] {
            Values::Integer(b) => b.append_null(),
            Values::Float(b) => b.append_null(),
            Values::Boolean(b) => b.append_null(),
            Values::String(b) => b.append_null(),
            Values::Date(b) => b.append_null(),
            Values::Datetime(b) => b.append_null(),
        }
    }

    /// The frame; fails when the columns got different numbers of cells.
    pub fn finish(self) -> Result<Frame, FrameError> {
        let columns = self
            .names
            .into_iter()
            .zip(self.columns)
            .map(|(name, values)| {
                let column = match values {
                    Values::Integer(mut b) => Column::Integer(b.finish()),
                    Values::Float(mut b) => Column::Float(b.finish()),
                    Values::Boolean(mut b) => Column::Boolean(b.finish()),
                    Values::String(mut b) => Column::String(b.finish()),
                    Values::Date(mut b) => Column::Date(b.finish()),
                    Values::Datetime(mut b) => Column::Datetime(b.finish()),
                };
                (name, column)
            })
            .collect();
        Frame::from_columns(columns)
    }
}

/// An integer cell: integers, whole floats within 2^53, or integer text.
fn integer(cell: Cell<'_>) -> Option<i64> {
    match cell {
        Cell::Int(v) => Some(v),
        Cell::UInt(v) => i64::try_from(v).ok(),
        Cell::Float(v) if v.fract() == 0.0 && v.abs() <= MAX_EXACT_FLOAT_INT => Some(v as i64),
        Cell::Text(t) => parse_int(t.as_bytes()),
        _ => None,
    }
}

/// A float cell. An integer converts to the float nearest to it, which is what parsing
/// its decimal text gives (both round to nearest, ties to even).
fn float(cell: Cell<'_>) -> Option<f64> {
    match cell {
        Cell::Int(v) => Some(v as f64),
        Cell::UInt(v) => Some(v as f64),
        Cell::Float(v) => Some(v),
        Cell::Text(t) => parse_float(t.as_bytes()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Field, ReadOptions};

    fn schema() -> Schema {
        let f = |name: &str, dtype| Field {
            name: name.to_string(),
            dtype,
            nullable: true,
        };
        Schema::new(vec![
            f("i", DataType::Integer),
            f("x", DataType::Float),
            f("b", DataType::Boolean),
            f("s", DataType::String),
            f("d", DataType::Date),
            f("t", DataType::Datetime),
        ])
    }

    fn nulls() -> Vec<String> {
        vec![String::new()]
    }

    #[test]
    fn cells_match_the_csv_reader() {
        let csv = "i,x,b,s,d,t\n\
                   42,0.1,true,a,2024-02-29,2024-02-29T10:11:12.5\n\
                   -7,1e300,FALSE,42,1970-01-01,1970-01-01\n\
                   ,,,,,\n\
                   9007199254740993,9007199254740993, True ,1.5,1969-12-31,1970-01-01 00:00:01\n";
        let opts = ReadOptions {
            schema: Some(schema()),
            ..ReadOptions::default()
        };
        let from_csv =
            crate::read_csv_bytes(csv.as_bytes(), std::path::Path::new("body"), &opts, None)
                .expect("csv reads");
        let rows: [[Cell<'_>; 6]; 4] = [
            [
                Cell::Int(42),
                Cell::Float(0.1),
                Cell::Bool(true),
                Cell::Text("a"),
                Cell::Text("2024-02-29"),
                Cell::Text("2024-02-29T10:11:12.5"),
            ],
            [
                Cell::Float(-7.0),
                Cell::Text("1e300"),
                Cell::Text("FALSE"),
                Cell::Int(42),
                Cell::Text("1970-01-01"),
                Cell::Text("1970-01-01"),
            ],
            [
                Cell::Null,
                Cell::Text(""),
                Cell::Null,
                Cell::Text(""),
                Cell::Null,
                Cell::Text(""),
            ],
            [
                Cell::UInt(9_007_199_254_740_993),
                Cell::Int(9_007_199_254_740_993),
                Cell::Text(" True "),
                Cell::Float(1.5),
                Cell::Text("1969-12-31"),
                Cell::Text("1970-01-01 00:00:01"),
            ],
        ];
        let mut b = FrameBuilder::new(&schema(), &nulls(), 4);
        for row in rows {
            for (j, cell) in row.into_iter().enumerate() {
                b.push(j, cell).expect("cell fits");
            }
        }
        let built = b.finish().expect("frame");
        assert_eq!(built.schema(), from_csv.schema());
        for (a, c) in built.columns().iter().zip(from_csv.columns()) {
            assert_eq!(a.to_arrow().as_ref(), c.to_arrow().as_ref());
        }
        assert_eq!(built, from_csv);
    }

    #[test]
    fn refused_cells_name_what_was_expected() {
        let mut b = FrameBuilder::new(&schema(), &nulls(), 1);
        let cases: &[(usize, Cell<'_>, &str)] = &[
            (0, Cell::Float(3.5), "an integer"),
            (0, Cell::Text("abc"), "an integer"),
            (0, Cell::UInt(u64::MAX), "an integer"),
            (0, Cell::Float(1e300), "an integer"),
            (0, Cell::Bool(true), "an integer"),
            (1, Cell::Text("x"), "a number"),
            (1, Cell::Nested, "a number"),
            (2, Cell::Int(1), "a boolean (true or false)"),
            (3, Cell::Nested, "a string"),
            (4, Cell::Text("2023-02-29"), "a date (YYYY-MM-DD)"),
            (4, Cell::Int(0), "a date (YYYY-MM-DD)"),
            (
                5,
                Cell::Text("1970-01-01T24:00:00"),
                "a datetime (YYYY-MM-DD[THH:MM:SS[.ffffff]])",
            ),
        ];
        for &(j, cell, expected) in cases {
            assert_eq!(b.push(j, cell), Err(CellError { expected }), "{cell:?}");
        }
        // Nothing was appended.
        for j in 0..b.n_cols() {
            b.push_null(j);
        }
        assert_eq!(b.finish().expect("one row").n_rows(), 1);
    }

    #[test]
    fn uneven_columns_are_an_error() {
        let mut b = FrameBuilder::new(&schema(), &nulls(), 1);
        b.push(0, Cell::Int(1)).expect("fits");
        assert!(b.finish().is_err());
    }

    #[test]
    fn csv_bytes_row_limit() {
        let opts = ReadOptions::default();
        let label = std::path::Path::new("body");
        let csv = b"a,b\n1,2\n3,4\n";
        let frame = crate::read_csv_bytes(csv, label, &opts, Some(2)).expect("two rows fit");
        assert_eq!(frame.n_rows(), 2);
        let err = crate::read_csv_bytes(csv, label, &opts, Some(1)).expect_err("too many");
        assert!(matches!(err, crate::ReadBytesError::TooManyRows { max: 1 }));
        let err = crate::read_csv_bytes(b"a,b\n", label, &opts, None).expect_err("empty");
        assert!(matches!(
            err,
            crate::ReadBytesError::Frame(FrameError::Empty { .. })
        ));
    }
}
