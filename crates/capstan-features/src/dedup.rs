//! Exact duplicate rows (`clean.dedup`): rows equal to an earlier row in every column, as
//! pandas `drop_duplicates()`: missing values equal each other (null and NaN alike) and
//! -0.0 equals 0.0.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use capstan_frame::{Column, Frame};

/// Rows to keep: the first occurrence of every distinct row, in frame order.
pub fn unique_rows(frame: &Frame) -> Vec<usize> {
    let columns = frame.columns();
    let mut first_by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut keep = Vec::with_capacity(frame.n_rows());
    for row in 0..frame.n_rows() {
        // DefaultHasher::new() has fixed keys: the same hashes on every run.
        let mut h = DefaultHasher::new();
        for col in columns {
            hash_cell(col, row, &mut h);
        }
        let seen = first_by_hash.entry(h.finish()).or_default();
        if seen
            .iter()
            .any(|&earlier| columns.iter().all(|c| cells_equal(c, earlier, row)))
        {
            continue;
        }
        seen.push(row);
        keep.push(row);
    }
    keep
}

fn hash_cell(col: &Column, i: usize, h: &mut DefaultHasher) {
    if is_missing(col, i) {
        0u8.hash(h);
        return;
    }
    1u8.hash(h);
    match col {
        Column::Integer(a) => a.value(i).hash(h),
        // + 0.0 turns -0.0 into 0.0.
        Column::Float(a) => (a.value(i) + 0.0).to_bits().hash(h),
        Column::Boolean(a) => a.value(i).hash(h),
        Column::String(a) => a.value(i).hash(h),
        Column::Date(a) => a.value(i).hash(h),
        Column::Datetime(a) => a.value(i).hash(h),
    }
}

fn cells_equal(col: &Column, a: usize, b: usize) -> bool {
    match (is_missing(col, a), is_missing(col, b)) {
        (true, true) => return true,
        (false, false) => {}
        _ => return false,
    }
    match col {
        Column::Integer(x) => x.value(a) == x.value(b),
        Column::Float(x) => x.value(a) == x.value(b),
        Column::Boolean(x) => x.value(a) == x.value(b),
        Column::String(x) => x.value(a) == x.value(b),
        Column::Date(x) => x.value(a) == x.value(b),
        Column::Datetime(x) => x.value(a) == x.value(b),
    }
}

fn is_missing(col: &Column, i: usize) -> bool {
    col.is_null(i) || matches!(col, Column::Float(a) if a.value(i).is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, StringArray};

    #[test]
    fn keeps_first_occurrences() {
        let f = Frame::from_columns(vec![
            (
                "x".to_string(),
                Column::Float(Float64Array::from(vec![
                    Some(1.0),
                    Some(1.0),
                    None,
                    Some(f64::NAN),
                    Some(-0.0),
                    Some(0.0),
                ])),
            ),
            (
                "s".to_string(),
                Column::String(StringArray::from(vec![
                    Some("a"),
                    Some("a"),
                    Some("b"),
                    Some("b"),
                    None,
                    None,
                ])),
            ),
        ])
        .expect("frame");
        // Rows 1, 3 and 5 repeat rows 0, 2 and 4 (null = NaN, -0.0 = 0.0).
        assert_eq!(unique_rows(&f), vec![0, 2, 4]);
    }
}
