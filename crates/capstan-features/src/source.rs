//! Reading a block of rows from a column as numbers, with NaN for missing values.

use arrow_array::Array;
use arrow_array::PrimitiveArray;
use arrow_array::types::ArrowPrimitiveType;
use capstan_frame::Column;

/// Writes rows `start..start + out.len()` of a numeric column into `out`; null and NaN
/// read as NaN. Non-numeric columns (rejected earlier by type checks) read as NaN.
pub(crate) fn read_numeric(col: &Column, start: usize, out: &mut [f64]) {
    match col {
        Column::Integer(a) => read_primitive(a, start, out, |v| v as f64),
        Column::Float(a) => read_primitive(a, start, out, |v| v),
        Column::Boolean(a) => {
            for (k, o) in out.iter_mut().enumerate() {
                let i = start + k;
                *o = if a.is_null(i) {
                    f64::NAN
                } else if a.value(i) {
                    1.0
                } else {
                    0.0
                };
            }
        }
        Column::String(_) | Column::Date(_) | Column::Datetime(_) => out.fill(f64::NAN),
    }
}

fn read_primitive<T: ArrowPrimitiveType>(
    a: &PrimitiveArray<T>,
    start: usize,
    out: &mut [f64],
    to_f64: impl Fn(T::Native) -> f64,
) {
    let values = &a.values()[start..start + out.len()];
    match a.nulls() {
        None => {
            for (o, &v) in out.iter_mut().zip(values) {
                *o = to_f64(v);
            }
        }
        Some(nulls) => {
            for (k, (o, &v)) in out.iter_mut().zip(values).enumerate() {
                *o = if nulls.is_null(start + k) {
                    f64::NAN
                } else {
                    to_f64(v)
                };
            }
        }
    }
}

/// The text at row `i` of a string column; `None` for nulls and other types.
#[inline]
pub(crate) fn str_at(col: &Column, i: usize) -> Option<&str> {
    match col {
        Column::String(a) if !a.is_null(i) => Some(a.value(i)),
        _ => None,
    }
}
