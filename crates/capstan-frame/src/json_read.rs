//! JSON lines reader: one object per line, columns in first-seen key order.

use std::collections::HashMap;
use std::fmt::Write;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::build::{ColumnPlan, build_columns};
use crate::json_object::{Object, Scalar};
use crate::raw::{NullMatcher, RawColumn, RawTable, TooLarge};
use crate::{DataType, Frame, FrameError, ReadOptions};

const NUMBER_CANDIDATES: &[DataType] = &[DataType::Integer, DataType::Float];
const BOOLEAN_CANDIDATES: &[DataType] = &[DataType::Boolean];
const STRING_CANDIDATES: &[DataType] = &[DataType::Date, DataType::Datetime, DataType::String];
const MIXED_CANDIDATES: &[DataType] = &[DataType::String];

/// Kinds of JSON values seen in a column, as bits.
const SAW_NUMBER: u8 = 1;
const SAW_BOOLEAN: u8 = 2;
const SAW_STRING: u8 = 4;

pub(crate) fn read_json_lines(path: &Path, opts: &ReadOptions) -> Result<Frame, FrameError> {
    let file = File::open(path).map_err(|e| FrameError::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut table = JsonTable::new(path, &opts.null_values);
    let mut line = Vec::new();
    let mut line_no: u64 = 0;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| FrameError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if !line.trim_ascii().is_empty() {
            table.push_line(&line, line_no)?;
        }
    }
    if table.lines.is_empty() {
        return Err(FrameError::Empty {
            path: path.to_path_buf(),
        });
    }
    let plans: Vec<ColumnPlan> = table
        .columns
        .iter()
        .zip(&table.kinds)
        .map(|(c, &kind)| ColumnPlan {
            forced: opts.forced_type(&c.name),
            candidates: candidates(kind),
        })
        .collect();
    let raw = RawTable {
        columns: table.columns,
        lines: table.lines,
    };
    Frame::from_columns(build_columns(raw, &plans, path, 8)?)
}

fn candidates(kind: u8) -> &'static [DataType] {
    match kind {
        SAW_NUMBER => NUMBER_CANDIDATES,
        SAW_BOOLEAN => BOOLEAN_CANDIDATES,
        SAW_STRING => STRING_CANDIDATES,
        _ => MIXED_CANDIDATES,
    }
}

/// Columns gathered so far, with the kinds of values each has seen.
struct JsonTable<'p> {
    path: &'p Path,
    nulls: NullMatcher,
    columns: Vec<RawColumn>,
    kinds: Vec<u8>,
    index: HashMap<String, usize>,
    lines: Vec<u64>,
    /// Which columns the current line has set.
    seen: Vec<bool>,
    text: String,
}

impl<'p> JsonTable<'p> {
    fn new(path: &'p Path, null_values: &[String]) -> JsonTable<'p> {
        JsonTable {
            path,
            nulls: NullMatcher::new(null_values),
            columns: Vec::new(),
            kinds: Vec::new(),
            index: HashMap::new(),
            lines: Vec::new(),
            seen: Vec::new(),
            text: String::new(),
        }
    }

    fn push_line(&mut self, line: &[u8], line_no: u64) -> Result<(), FrameError> {
        let object = parse_object(line, self.path, line_no)?;
        self.seen.iter_mut().for_each(|s| *s = false);
        for (position, (key, value)) in object.0.into_iter().enumerate() {
            let j = self.column_index(&key, position)?;
            if std::mem::replace(&mut self.seen[j], true) {
                return Err(self.error(format!("line {line_no}: duplicate key '{key}'")));
            }
            self.push_value(j, value)
                .map_err(|why| self.error(format!("line {line_no}, column '{key}': {why}")))?;
        }
        for j in 0..self.columns.len() {
            if !self.seen[j] {
                self.columns[j]
                    .push_null()
                    .map_err(|_| TooLarge::error(self.path, &self.columns[j].name))?;
            }
        }
        self.lines.push(line_no);
        Ok(())
    }

    /// The column for `key`; most files repeat the key order, so `position` is tried first.
    fn column_index(&mut self, key: &str, position: usize) -> Result<usize, FrameError> {
        if self.columns.get(position).is_some_and(|c| c.name == key) {
            return Ok(position);
        }
        if let Some(&j) = self.index.get(key) {
            return Ok(j);
        }
        let mut column = RawColumn::new(key.to_string());
        for _ in 0..self.lines.len() {
            column
                .push_null()
                .map_err(|_| TooLarge::error(self.path, key))?;
        }
        self.index.insert(key.to_string(), self.columns.len());
        self.columns.push(column);
        self.kinds.push(0);
        self.seen.push(false);
        Ok(self.columns.len() - 1)
    }

    /// Appends one value as text; `Err` says why it cannot be a column value.
    fn push_value(&mut self, j: usize, value: Scalar<'_>) -> Result<(), String> {
        let text = &mut self.text;
        text.clear();
        // Writing to a String cannot fail.
        let kind = match value {
            Scalar::Null => 0,
            Scalar::Bool(b) => {
                text.push_str(if b { "true" } else { "false" });
                SAW_BOOLEAN
            }
            Scalar::Int(i) => {
                let _ = write!(text, "{i}");
                SAW_NUMBER
            }
            Scalar::UInt(u) => {
                let _ = write!(text, "{u}");
                SAW_NUMBER
            }
            Scalar::Float(f) => {
                let _ = write!(text, "{f:?}");
                SAW_NUMBER
            }
            Scalar::Str(s) if self.nulls.matches(s.as_bytes()) => 0,
            Scalar::Str(s) => {
                text.push_str(&s);
                SAW_STRING
            }
            Scalar::Nested(found) => {
                return Err(format!(
                    "expected a number, string, boolean or null, found {found}"
                ));
            }
        };
        let column = &mut self.columns[j];
        let pushed = if kind == 0 {
            column.push_null()
        } else {
            self.kinds[j] |= kind;
            column.push(text.as_bytes())
        };
        pushed.map_err(|_| "more than 2 GiB of text (the limit for one string column)".into())
    }

    fn error(&self, message: String) -> FrameError {
        FrameError::format(self.path, message)
    }
}

fn parse_object<'a>(line: &'a [u8], path: &Path, line_no: u64) -> Result<Object<'a>, FrameError> {
    if line.trim_ascii_start().starts_with(b"[") {
        return Err(FrameError::format(
            path,
            format!(
                "line {line_no}: expected one json object per line (json lines), found an array"
            ),
        ));
    }
    serde_json::from_slice(line)
        .map_err(|e| FrameError::format(path, format!("line {line_no}: invalid json: {e}")))
}
