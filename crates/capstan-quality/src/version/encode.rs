//! The canonical byte encoding of cells: what a dataset version hashes.
//!
//! A cell is `0x00` (null) or `0x01` followed by its value: integers, dates (days) and
//! datetimes (microseconds) as i64 little-endian; floats as their IEEE bits little-endian
//! with -0.0 written as 0.0 and every NaN as one NaN; booleans as one byte; strings as
//! their UTF-8 length (u64 little-endian) and bytes. Nothing depends on the file format.

use capstan_frame::{Column, DataType, Schema};

/// One byte per logical type; part of every column chunk and of the schema encoding.
pub(crate) fn type_tag(dtype: DataType) -> u8 {
    match dtype {
        DataType::Integer => 1,
        DataType::Float => 2,
        DataType::Boolean => 3,
        DataType::String => 4,
        DataType::Date => 5,
        DataType::Datetime => 6,
    }
}

/// The bits of `x` with -0.0 and all NaNs canonicalized.
pub(crate) fn canonical_f64_bits(x: f64) -> u64 {
    if x.is_nan() {
        f64::NAN.to_bits()
    } else if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

/// Appends the encoding of row `i` of `col` to `out`.
pub(crate) fn encode_cell(col: &Column, i: usize, out: &mut Vec<u8>) {
    if col.is_null(i) {
        out.push(0);
        return;
    }
    out.push(1);
    match col {
        Column::Integer(a) => out.extend_from_slice(&a.value(i).to_le_bytes()),
        Column::Float(a) => out.extend_from_slice(&canonical_f64_bits(a.value(i)).to_le_bytes()),
        Column::Boolean(a) => out.push(u8::from(a.value(i))),
        Column::String(a) => {
            let s = a.value(i).as_bytes();
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s);
        }
        Column::Date(a) => out.extend_from_slice(&i64::from(a.value(i)).to_le_bytes()),
        Column::Datetime(a) => out.extend_from_slice(&a.value(i).to_le_bytes()),
    }
}

/// Column names (length-prefixed UTF-8) and type tags, in order; nullability is left out
/// (it is inferred from the data by some readers and stored by others).
pub(crate) fn encode_schema(schema: &Schema, out: &mut Vec<u8>) {
    out.extend_from_slice(&(schema.fields.len() as u64).to_le_bytes());
    for field in &schema.fields {
        out.extend_from_slice(&(field.name.len() as u64).to_le_bytes());
        out.extend_from_slice(field.name.as_bytes());
        out.push(type_tag(field.dtype));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_and_nans_are_canonical() {
        assert_eq!(canonical_f64_bits(-0.0), canonical_f64_bits(0.0));
        let other_nan = f64::from_bits(0x7ff8_0000_0000_0001);
        assert!(other_nan.is_nan());
        assert_eq!(canonical_f64_bits(other_nan), canonical_f64_bits(f64::NAN));
        assert_eq!(canonical_f64_bits(-f64::NAN), canonical_f64_bits(f64::NAN));
        assert_ne!(canonical_f64_bits(1.0), canonical_f64_bits(-1.0));
    }
}
