//! Arrow arrays of any supported type to a [`Column`] (used by the Parquet reader).

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, Float64Array, StringArray, UInt32Array};
use arrow_schema::{DataType as ArrowType, TimeUnit};

use crate::Column;

const SUPPORTED: &str = "int8..int64, uint8..uint64, float32, float64, utf8, large utf8, \
    utf8 view, dictionary of utf8, boolean, date32, timestamp, null";

/// Converts one Arrow array; the error says why (the caller names file and column).
pub(crate) fn column_from_arrow(array: &dyn Array) -> Result<Column, String> {
    Ok(match array.data_type() {
        ArrowType::Int8 => int(array.as_primitive::<Int8Type>().unary(i64::from)),
        ArrowType::Int16 => int(array.as_primitive::<Int16Type>().unary(i64::from)),
        ArrowType::Int32 => int(array.as_primitive::<Int32Type>().unary(i64::from)),
        ArrowType::Int64 => int(array.as_primitive::<Int64Type>().clone()),
        ArrowType::UInt8 => int(array.as_primitive::<UInt8Type>().unary(i64::from)),
        ArrowType::UInt16 => int(array.as_primitive::<UInt16Type>().unary(i64::from)),
        ArrowType::UInt32 => int(array.as_primitive::<UInt32Type>().unary(i64::from)),
        ArrowType::UInt64 => int(array.as_primitive::<UInt64Type>().try_unary(|v| {
            i64::try_from(v).map_err(|_| format!("uint64 value {v} is above the integer range"))
        })?),
        ArrowType::Float32 => Column::Float(array.as_primitive::<Float32Type>().unary(f64::from)),
        ArrowType::Float64 => Column::Float(array.as_primitive().clone()),
        ArrowType::Boolean => Column::Boolean(array.as_boolean().clone()),
        ArrowType::Utf8 => Column::String(array.as_string::<i32>().clone()),
        ArrowType::LargeUtf8 => {
            let large = array.as_string::<i64>();
            check_text_size(large.iter().flatten().map(str::len))?;
            Column::String(large.iter().collect::<StringArray>())
        }
        ArrowType::Utf8View => {
            let view = array.as_string_view();
            check_text_size(view.iter().flatten().map(str::len))?;
            Column::String(view.iter().collect::<StringArray>())
        }
        ArrowType::Dictionary(_, values) if is_text(values) => dictionary_strings(array)?,
        ArrowType::Date32 => Column::Date(array.as_primitive().clone()),
        ArrowType::Timestamp(unit, _) => timestamp_micros(array, *unit)?,
        ArrowType::Null => Column::Float(Float64Array::new_null(array.len())),
        other => return Err(format!("unsupported type {other} (supported: {SUPPORTED})")),
    })
}

fn int(a: arrow_array::Int64Array) -> Column {
    Column::Integer(a)
}

fn is_text(t: &ArrowType) -> bool {
    matches!(
        t,
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View
    )
}

fn check_text_size(lengths: impl Iterator<Item = usize>) -> Result<(), String> {
    let total: usize = lengths.sum();
    if i32::try_from(total).is_err() {
        return Err(format!(
            "{total} bytes of text, above the 2 GiB limit for one string column"
        ));
    }
    Ok(())
}

/// Looks every key up in the dictionary.
fn dictionary_strings(array: &dyn Array) -> Result<Column, String> {
    let dict = array
        .as_any_dictionary_opt()
        .ok_or("a dictionary type without a dictionary array")?;
    if dict.values().is_empty() {
        return Ok(Column::String(StringArray::new_null(array.len())));
    }
    let keys: Vec<u32> = dict
        .normalized_keys()
        .into_iter()
        .map(|k| u32::try_from(k).map_err(|_| format!("dictionary key {k} is too large")))
        .collect::<Result<_, _>>()?;
    let indices = UInt32Array::new(keys.into(), array.nulls().cloned());
    let values = arrow_select::take::take(dict.values().as_ref(), &indices, None)
        .map_err(|e| format!("bad dictionary: {e}"))?;
    column_from_arrow(values.as_ref())
}

/// Any timestamp unit as microseconds; the time zone is dropped.
fn timestamp_micros(array: &dyn Array, unit: TimeUnit) -> Result<Column, String> {
    let overflow = |v: i64| format!("timestamp {v} is out of the microsecond range");
    let micros = match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .try_unary::<_, TimestampMicrosecondType, _>(|v| {
                v.checked_mul(1_000_000).ok_or_else(|| overflow(v))
            })?,
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .try_unary::<_, TimestampMicrosecondType, _>(|v| {
            v.checked_mul(1_000).ok_or_else(|| overflow(v))
        })?,
        TimeUnit::Microsecond => array
            .as_primitive::<TimestampMicrosecondType>()
            .unary::<_, TimestampMicrosecondType>(|v| v),
        TimeUnit::Nanosecond => array
            .as_primitive::<TimestampNanosecondType>()
            .unary::<_, TimestampMicrosecondType>(|v| v.div_euclid(1_000)),
    };
    Ok(Column::Datetime(micros))
}
