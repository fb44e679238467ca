//! Categorical columns (strings, booleans, and integer targets): dictionary codes per row,
//! counts per value, distinct values and the most frequent values.

use arrow_array::{Array, BooleanArray, StringArray};

use super::ValueCount;
use capstan_frame::fxhash::FxMap;

/// The code of a missing value.
pub(crate) const MISSING: u32 = u32::MAX;

/// A column as codes into its sorted distinct values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Codes {
    /// One code per row; `MISSING` for nulls.
    pub codes: Vec<u32>,
    /// Distinct values, ascending (by text, or by number for integer codes).
    pub labels: Vec<String>,
    /// Rows per code.
    pub counts: Vec<usize>,
}

impl Codes {
    pub fn distinct(&self) -> usize {
        self.labels.len()
    }

    /// Non-missing rows.
    pub fn count(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Most frequent values: count descending, ties by value ascending.
    pub fn top(&self, k: usize) -> Vec<ValueCount> {
        let mut order: Vec<usize> = (0..self.labels.len()).collect();
        order.sort_by(|&a, &b| self.counts[b].cmp(&self.counts[a]).then(a.cmp(&b)));
        order
            .into_iter()
            .take(k)
            .map(|i| ValueCount {
                value: self.labels[i].clone(),
                count: self.counts[i],
            })
            .collect()
    }
}

/// Codes of a string column, labels in byte order.
pub(crate) fn string_codes(array: &StringArray) -> Codes {
    let mut index: FxMap<&str, u32> = FxMap::default();
    let mut first: Vec<&str> = Vec::new();
    let mut codes: Vec<u32> = Vec::with_capacity(array.len());
    for value in array.iter() {
        let code = match value {
            None => MISSING,
            Some(s) => *index.entry(s).or_insert_with(|| {
                first.push(s);
                (first.len() - 1) as u32
            }),
        };
        codes.push(code);
    }
    let mut order: Vec<u32> = (0..first.len() as u32).collect();
    order.sort_by(|&a, &b| first[a as usize].cmp(first[b as usize]));
    let labels = order
        .iter()
        .map(|&i| first[i as usize].to_string())
        .collect();
    remap(codes, &order, labels)
}

/// Codes of a boolean column: only the values present, `false` before `true`.
pub(crate) fn bool_codes(array: &BooleanArray) -> Codes {
    let mut seen = [false; 2];
    for b in array.iter().flatten() {
        seen[usize::from(b)] = true;
    }
    let present: Vec<bool> = [false, true]
        .into_iter()
        .filter(|&b| seen[usize::from(b)])
        .collect();
    let code_of = |b: bool| present.iter().position(|&p| p == b).unwrap_or(0) as u32;
    let codes: Vec<u32> = array.iter().map(|v| v.map_or(MISSING, code_of)).collect();
    let labels: Vec<String> = present.iter().map(ToString::to_string).collect();
    with_counts(codes, labels)
}

/// Codes of a numeric column read as classes (NaN = missing), labels ascending by value.
pub(crate) fn numeric_codes(values: &[f64], text: impl Fn(f64) -> String) -> Codes {
    let mut distinct: Vec<u64> = values
        .iter()
        .filter(|x| !x.is_nan())
        .map(|&x| super::numeric::sort_key(x))
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let codes: Vec<u32> = values
        .iter()
        .map(|&x| {
            if x.is_nan() {
                MISSING
            } else {
                distinct
                    .binary_search(&super::numeric::sort_key(x))
                    .map_or(MISSING, |i| i as u32)
            }
        })
        .collect();
    let labels = distinct
        .iter()
        .map(|&k| text(super::numeric::from_key(k)))
        .collect();
    with_counts(codes, labels)
}

/// Renumbers first-appearance codes so that code i is `order[i]`'s value.
fn remap(mut codes: Vec<u32>, order: &[u32], labels: Vec<String>) -> Codes {
    let mut new_code = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_code[old as usize] = new as u32;
    }
    for c in &mut codes {
        if *c != MISSING {
            *c = new_code[*c as usize];
        }
    }
    with_counts(codes, labels)
}

fn with_counts(codes: Vec<u32>, labels: Vec<String>) -> Codes {
    let mut counts = vec![0usize; labels.len()];
    for &c in &codes {
        if c != MISSING {
            counts[c as usize] += 1;
        }
    }
    Codes {
        codes,
        labels,
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_codes_sort_labels_and_count() {
        let a = StringArray::from(vec![Some("b"), None, Some("a"), Some("b")]);
        let c = string_codes(&a);
        assert_eq!(c.labels, vec!["a", "b"]);
        assert_eq!(c.codes, vec![1, MISSING, 0, 1]);
        assert_eq!(c.counts, vec![1, 2]);
        assert_eq!(c.top(1)[0].value, "b");
    }

    #[test]
    fn ties_go_to_the_smaller_value() {
        let a = StringArray::from(vec!["z", "y", "x", "y", "x"]);
        let top: Vec<String> = string_codes(&a)
            .top(3)
            .into_iter()
            .map(|v| v.value)
            .collect();
        assert_eq!(top, vec!["x", "y", "z"]);
    }

    #[test]
    fn bool_codes_keep_present_values() {
        let a = BooleanArray::from(vec![Some(true), None, Some(true)]);
        let c = bool_codes(&a);
        assert_eq!(c.labels, vec!["true"]);
        assert_eq!(c.codes, vec![0, MISSING, 0]);
    }
}
