//! Lossless conversions between column types (a schema forcing a type on typed data).

use arrow_array::{Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};

use crate::{Column, DataType};

/// Largest integer magnitude a float holds exactly.
const MAX_EXACT_FLOAT_INT: i64 = 1 << 53;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// `column` as `to` when no value changes; otherwise why not (rows are 1-based).
pub(crate) fn cast_lossless(column: Column, to: DataType) -> Result<Column, String> {
    let from = column.dtype();
    if from == to {
        return Ok(column);
    }
    let nulls = column.to_arrow().nulls().cloned();
    let n = column.len();
    let valid = |i: usize| !column.is_null(i);
    match (&column, to) {
        (Column::Integer(a), DataType::Float) => {
            if let Some(i) = (0..n).find(|&i| valid(i) && a.value(i).abs() > MAX_EXACT_FLOAT_INT) {
                return Err(format!(
                    "integer {} at row {} has no exact float",
                    a.value(i),
                    i + 1
                ));
            }
            Ok(Column::Float(Float64Array::new(
                a.values().iter().map(|&v| v as f64).collect(),
                nulls,
            )))
        }
        (Column::Float(a), DataType::Integer) => {
            let whole = |v: f64| v.fract() == 0.0 && v.abs() <= MAX_EXACT_FLOAT_INT as f64;
            if let Some(i) = (0..n).find(|&i| valid(i) && !whole(a.value(i))) {
                return Err(format!(
                    "float {} at row {} is not a whole number",
                    a.value(i),
                    i + 1
                ));
            }
            Ok(Column::Integer(Int64Array::new(
                a.values().iter().map(|&v| v as i64).collect(),
                nulls,
            )))
        }
        (Column::Boolean(a), DataType::Integer) => Ok(Column::Integer(Int64Array::new(
            (0..n).map(|i| i64::from(a.value(i))).collect(),
            nulls,
        ))),
        (Column::Boolean(a), DataType::Float) => Ok(Column::Float(Float64Array::new(
            (0..n).map(|i| f64::from(u8::from(a.value(i)))).collect(),
            nulls,
        ))),
        (Column::Date(a), DataType::Datetime) => {
            let micros: Option<Vec<i64>> = a
                .values()
                .iter()
                .map(|&d| i64::from(d).checked_mul(MICROS_PER_DAY))
                .collect();
            let micros = micros.ok_or("a date is out of the datetime range")?;
            Ok(Column::Datetime(TimestampMicrosecondArray::new(
                micros.into(),
                nulls,
            )))
        }
        (_, DataType::String) => Ok(Column::String(
            (0..n)
                .map(|i| column.display_at(i))
                .collect::<StringArray>(),
        )),
        _ => Err(format!("cannot convert {from} to {to} without loss")),
    }
}
