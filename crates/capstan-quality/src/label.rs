//! What a label column holds, by one rule for training's target encoding, bias checks and
//! profiles: floats are numbers; integers are classes up to `MAX_INTEGER_CLASSES` distinct
//! values and numbers beyond; text, booleans and dates are classes.

use std::collections::BTreeSet;

use capstan_frame::{Column, DataType};

/// Integer labels with at most this many distinct values are classes.
pub const MAX_INTEGER_CLASSES: usize = 20;

/// Whether the non-null values of `col` at `rows` are classes (else numbers).
pub fn is_classes(col: &Column, rows: &[usize]) -> bool {
    match col.dtype() {
        DataType::Float => false,
        DataType::Integer => {
            let distinct: BTreeSet<i64> = rows
                .iter()
                .filter_map(|&i| col.f64_at(i))
                .map(|v| v as i64)
                .collect();
            distinct.len() <= MAX_INTEGER_CLASSES
        }
        DataType::String | DataType::Boolean | DataType::Date | DataType::Datetime => true,
    }
}

/// Sorted distinct labels of the non-null values at `rows`: numerically for numeric
/// columns, as text otherwise.
pub fn class_labels(col: &Column, rows: &[usize]) -> Vec<String> {
    if col.dtype().is_numeric() {
        let mut labelled: Vec<(f64, String)> = rows
            .iter()
            .filter_map(|&i| Some((col.f64_at(i)?, col.display_at(i)?)))
            .collect();
        labelled.sort_by(|a, b| a.0.total_cmp(&b.0));
        labelled.dedup_by(|a, b| a.0 == b.0);
        labelled.into_iter().map(|(_, label)| label).collect()
    } else {
        let set: BTreeSet<String> = rows.iter().filter_map(|&i| col.display_at(i)).collect();
        set.into_iter().collect()
    }
}
