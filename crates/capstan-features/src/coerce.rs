//! Reading text columns that hold numbers (`clean.coerce`): a value that does not parse as
//! a finite number becomes missing, at fit and at transform alike.

use std::collections::BTreeMap;

use capstan_frame::Column;

use crate::report::CoercedColumn;
use crate::source::{read_numeric, str_at};

/// A text column is read as numbers when at least this share of its values parse.
pub const MIN_NUMBER_SHARE: f64 = 0.95;
/// Examples of unparseable values kept for the report.
const MAX_EXAMPLES: usize = 3;

/// The text as a finite number (surrounding ASCII whitespace ignored), else `None`.
#[inline]
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    text.trim_ascii()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// Writes rows `start..start + out.len()` as numbers: text is parsed, null and
/// unparseable text read as NaN; numeric columns read as they are.
pub(crate) fn read_numbers(col: &Column, start: usize, out: &mut [f64]) {
    match col {
        Column::String(_) => {
            for (k, o) in out.iter_mut().enumerate() {
                *o = str_at(col, start + k)
                    .and_then(parse_number)
                    .unwrap_or(f64::NAN);
            }
        }
        _ => read_numeric(col, start, out),
    }
}

/// Whether a text column is mostly numbers; `Some` with what coercion changes when it is.
/// A column without values is left alone.
pub(crate) fn detect(name: &str, col: &Column) -> Option<CoercedColumn> {
    let mut n_values = 0usize;
    let mut bad: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..col.len() {
        let Some(text) = str_at(col, i) else {
            continue;
        };
        n_values += 1;
        if parse_number(text).is_none() {
            *bad.entry(text).or_default() += 1;
        }
    }
    let n_changed: usize = bad.values().sum();
    if n_values == 0 || ((n_values - n_changed) as f64) < MIN_NUMBER_SHARE * n_values as f64 {
        return None;
    }
    // Most frequent first, then by text: the same examples every run.
    let mut examples: Vec<(&str, usize)> = bad.into_iter().collect();
    examples.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Some(CoercedColumn {
        column: name.to_string(),
        n_values,
        n_changed,
        examples: examples
            .into_iter()
            .take(MAX_EXAMPLES)
            .map(|(t, n)| (t.to_string(), n))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::StringArray;

    #[test]
    fn parses_finite_numbers_only() {
        assert_eq!(parse_number(" 12.5 "), Some(12.5));
        assert_eq!(parse_number("-3"), Some(-3.0));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        for bad in ["", " ", "n/a", "inf", "NaN", "1,234"] {
            assert_eq!(parse_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn detects_mostly_numeric_text() {
        let mut values: Vec<Option<&str>> = vec![Some("1.5"); 38];
        values.extend([Some(" "), Some(" "), None]);
        let col = Column::String(StringArray::from(values.clone()));
        let c = detect("x", &col).expect("95 % numbers");
        assert_eq!((c.n_values, c.n_changed), (40, 2));
        assert_eq!(c.examples, vec![(" ".to_string(), 2)]);
        values.push(Some("?"));
        let col = Column::String(StringArray::from(values));
        assert!(detect("x", &col).is_none(), "38 of 41 is under 95 %");
        let mut out = [0.0; 2];
        read_numbers(&col, 37, &mut out);
        assert_eq!(out[0], 1.5);
        assert!(out[1].is_nan());
    }
}
