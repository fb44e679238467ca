//! One cell as text, the way the CSV and JSON lines writers print it.

use std::fmt::Write;

use crate::Column;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Appends cell `i` of `column` to `out`; nothing for null. Floats use Rust's shortest
/// round-trip form with a decimal point or exponent (`1.0`, `0.1`, `1e-7`), so they read
/// back as floats.
pub(crate) fn push_cell(column: &Column, i: usize, out: &mut String) {
    if column.is_null(i) {
        return;
    }
    // Writing to a String cannot fail.
    let _ = match column {
        Column::Integer(a) => write!(out, "{}", a.value(i)),
        Column::Float(a) => write!(out, "{:?}", a.value(i)),
        Column::Boolean(a) => write!(out, "{}", a.value(i)),
        Column::String(a) => out.write_str(a.value(i)),
        Column::Date(a) => match a.value_as_date(i) {
            Some(d) => write!(out, "{d}"),
            None => write!(out, "{}", a.value(i)),
        },
        Column::Datetime(a) => push_datetime(a.value(i), out),
    };
}

/// `YYYY-MM-DDTHH:MM:SS` with `.fff` or `.ffffff` when the fraction is not zero.
fn push_datetime(micros: i64, out: &mut String) -> std::fmt::Result {
    let secs = micros.div_euclid(MICROS_PER_SECOND);
    let frac = micros.rem_euclid(MICROS_PER_SECOND);
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(dt) => write!(out, "{}", dt.naive_utc().format("%Y-%m-%dT%H:%M:%S"))?,
        None => return write!(out, "{micros}"),
    }
    if frac == 0 {
        Ok(())
    } else if frac % 1000 == 0 {
        write!(out, ".{:03}", frac / 1000)
    } else {
        write!(out, ".{frac:06}")
    }
}

/// True when the column's text needs JSON quotes (strings, dates, datetimes).
pub(crate) fn is_quoted_in_json(column: &Column) -> bool {
    matches!(
        column,
        Column::String(_) | Column::Date(_) | Column::Datetime(_)
    )
}
