use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray, UInt32Array,
};

use crate::DataType;

/// One typed column; nulls are explicit (Arrow validity bitmap).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Integer(Int64Array),
    Float(Float64Array),
    Boolean(BooleanArray),
    String(StringArray),
    /// Days since 1970-01-01.
    Date(Date32Array),
    /// Microseconds since 1970-01-01T00:00:00, no time zone.
    Datetime(TimestampMicrosecondArray),
}

impl Column {
    pub fn dtype(&self) -> DataType {
        match self {
            Column::Integer(_) => DataType::Integer,
            Column::Float(_) => DataType::Float,
            Column::Boolean(_) => DataType::Boolean,
            Column::String(_) => DataType::String,
            Column::Date(_) => DataType::Date,
            Column::Datetime(_) => DataType::Datetime,
        }
    }

    fn array(&self) -> &dyn Array {
        match self {
            Column::Integer(a) => a,
            Column::Float(a) => a,
            Column::Boolean(a) => a,
            Column::String(a) => a,
            Column::Date(a) => a,
            Column::Datetime(a) => a,
        }
    }

    pub fn len(&self) -> usize {
        self.array().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn null_count(&self) -> usize {
        self.array().null_count()
    }

    pub fn is_null(&self, i: usize) -> bool {
        self.array().is_null(i)
    }

    /// Numeric view: integer, float, boolean (0/1), date (days) and datetime (microseconds).
    /// `None` for nulls and for string columns.
    pub fn f64_at(&self, i: usize) -> Option<f64> {
        if self.is_null(i) {
            return None;
        }
        match self {
            Column::Integer(a) => Some(a.value(i) as f64),
            Column::Float(a) => Some(a.value(i)),
            Column::Boolean(a) => Some(if a.value(i) { 1.0 } else { 0.0 }),
            Column::String(_) => None,
            Column::Date(a) => Some(a.value(i) as f64),
            Column::Datetime(a) => Some(a.value(i) as f64),
        }
    }

    /// Text of a string column; `None` for nulls and other types.
    pub fn str_at(&self, i: usize) -> Option<&str> {
        match self {
            Column::String(a) if !a.is_null(i) => Some(a.value(i)),
            _ => None,
        }
    }

    /// The value as text, as a CSV writer would print it; `None` for nulls.
    pub fn display_at(&self, i: usize) -> Option<String> {
        if self.is_null(i) {
            return None;
        }
        Some(match self {
            Column::Integer(a) => a.value(i).to_string(),
            Column::Float(a) => a.value(i).to_string(),
            Column::Boolean(a) => a.value(i).to_string(),
            Column::String(a) => a.value(i).to_string(),
            Column::Date(a) => a
                .value_as_date(i)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            Column::Datetime(a) => a
                .value_as_datetime(i)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
                .unwrap_or_default(),
        })
    }

    /// Rows picked by index, in the given order.
    pub fn take(&self, idx: &[usize]) -> Column {
        let indices = UInt32Array::from_iter_values(idx.iter().map(|&i| i as u32));
        macro_rules! take {
            ($variant:ident, $a:expr, $ty:ty) => {{
                let out = arrow_select_take(&*$a as &dyn Array, &indices);
                Column::$variant(
                    out.as_any()
                        .downcast_ref::<$ty>()
                        .expect("take keeps the array type")
                        .clone(),
                )
            }};
        }
        match self {
            Column::Integer(a) => take!(Integer, a, Int64Array),
            Column::Float(a) => take!(Float, a, Float64Array),
            Column::Boolean(a) => take!(Boolean, a, BooleanArray),
            Column::String(a) => take!(String, a, StringArray),
            Column::Date(a) => take!(Date, a, Date32Array),
            Column::Datetime(a) => take!(Datetime, a, TimestampMicrosecondArray),
        }
    }

    pub fn to_arrow(&self) -> ArrayRef {
        match self {
            Column::Integer(a) => Arc::new(a.clone()),
            Column::Float(a) => Arc::new(a.clone()),
            Column::Boolean(a) => Arc::new(a.clone()),
            Column::String(a) => Arc::new(a.clone()),
            Column::Date(a) => Arc::new(a.clone()),
            Column::Datetime(a) => Arc::new(a.clone()),
        }
    }
}

fn arrow_select_take(array: &dyn Array, indices: &UInt32Array) -> ArrayRef {
    arrow_select::take::take(array, indices, None).expect("indices are in bounds")
}
