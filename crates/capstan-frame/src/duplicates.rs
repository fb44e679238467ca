//! Repeated rows, as pandas `duplicated()`: rows equal to an earlier row on the given
//! columns, missing values equal to each other (null and NaN alike), -0.0 equal to 0.0.
//! The one implementation behind profiles, `unique`/duplicate rules and `clean.dedup`.
//!
//! Each row gets a 64-bit hash (columns mixed in order, rows hashed in parallel); rows with
//! the same hash are then compared cell by cell, so a hash collision never counts as a
//! duplicate.

use crate::Column;
use arrow_array::Array;
use rayon::prelude::*;

use crate::fxhash::{FxMap, avalanche, hash_bytes, mix};

const CHUNK_ROWS: usize = 16 * 1024;
/// The hash word of a missing cell.
const MISSING_WORD: u64 = 0x9e37_79b9_7f4a_7c15;

/// Every row equal (on `columns`) to an earlier row, in row order, with the first row it
/// repeats: `(row, earlier)`.
pub fn repeated_rows(columns: &[&Column], n_rows: usize) -> Vec<(usize, usize)> {
    if n_rows < 2 || columns.is_empty() {
        return Vec::new();
    }
    let mut hashes = vec![0u64; n_rows];
    hashes
        .par_chunks_mut(CHUNK_ROWS)
        .enumerate()
        .for_each(|(chunk, out)| {
            let start = chunk * CHUNK_ROWS;
            for col in columns {
                mix_column(col, start, out);
            }
            for h in out.iter_mut() {
                *h = avalanche(*h);
            }
        });
    // first row of each hash; later rows with that hash but other values go to `others`
    let mut first: FxMap<u64, u32> = FxMap::default();
    first.reserve(n_rows);
    let mut others: FxMap<u64, Vec<u32>> = FxMap::default();
    let mut repeats = Vec::new();
    for (row, &h) in hashes.iter().enumerate() {
        match first.get(&h) {
            None => {
                first.insert(h, row as u32);
            }
            Some(&earlier) => {
                if rows_equal(columns, earlier as usize, row) {
                    repeats.push((row, earlier as usize));
                    continue;
                }
                let list = others.entry(h).or_default();
                match list.iter().find(|&&e| rows_equal(columns, e as usize, row)) {
                    Some(&e) => repeats.push((row, e as usize)),
                    None => list.push(row as u32),
                }
            }
        }
    }
    repeats
}

/// Rows to keep when dropping repeats: the first occurrence of every distinct row, in order.
pub fn unique_rows(columns: &[&Column], n_rows: usize) -> Vec<usize> {
    let mut repeated = repeated_rows(columns, n_rows)
        .into_iter()
        .map(|(r, _)| r)
        .peekable();
    (0..n_rows)
        .filter(|&i| {
            if repeated.peek() == Some(&i) {
                repeated.next();
                false
            } else {
                true
            }
        })
        .collect()
}

/// Mixes the cells of rows `start..start + out.len()` of `col` into `out`.
fn mix_column(col: &Column, start: usize, out: &mut [u64]) {
    macro_rules! primitive {
        ($a:expr, $word:expr) => {{
            let a = $a;
            let values = &a.values()[start..start + out.len()];
            match a.nulls() {
                None => {
                    for (h, &v) in out.iter_mut().zip(values) {
                        *h = mix(*h, $word(v));
                    }
                }
                Some(nulls) => {
                    for (i, (h, &v)) in out.iter_mut().zip(values).enumerate() {
                        let w = if nulls.is_null(start + i) {
                            MISSING_WORD
                        } else {
                            $word(v)
                        };
                        *h = mix(*h, w);
                    }
                }
            }
        }};
    }
    match col {
        Column::Integer(a) => primitive!(a, |v: i64| v as u64),
        Column::Float(a) => primitive!(a, float_word),
        Column::Date(a) => primitive!(a, |v: i32| v as u64),
        Column::Datetime(a) => primitive!(a, |v: i64| v as u64),
        Column::Boolean(a) => {
            for (i, h) in out.iter_mut().enumerate() {
                let w = if a.is_null(start + i) {
                    MISSING_WORD
                } else {
                    u64::from(a.value(start + i))
                };
                *h = mix(*h, w);
            }
        }
        Column::String(a) => {
            for (i, h) in out.iter_mut().enumerate() {
                let w = if a.is_null(start + i) {
                    MISSING_WORD
                } else {
                    hash_bytes(a.value(start + i).as_bytes())
                };
                *h = mix(*h, w);
            }
        }
    }
}

#[inline]
fn float_word(x: f64) -> u64 {
    if x.is_nan() {
        MISSING_WORD
    } else {
        (x + 0.0).to_bits()
    }
}

fn rows_equal(columns: &[&Column], a: usize, b: usize) -> bool {
    columns.iter().all(|col| cells_equal(col, a, b))
}

fn cells_equal(col: &Column, a: usize, b: usize) -> bool {
    let (na, nb) = (missing(col, a), missing(col, b));
    if na || nb {
        return na && nb;
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

fn missing(col: &Column, i: usize) -> bool {
    match col {
        Column::Float(x) => x.is_null(i) || x.value(i).is_nan(),
        _ => col.is_null(i),
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Float64Array, StringArray};

    use super::*;
    use crate::Frame;

    #[test]
    fn counts_repeats_with_missing_equal() {
        let frame = Frame::from_columns(vec![
            (
                "x".into(),
                Column::Float(Float64Array::from(vec![
                    Some(1.0),
                    None,
                    Some(1.0),
                    Some(f64::NAN),
                    Some(-0.0),
                    Some(0.0),
                ])),
            ),
            (
                "s".into(),
                Column::String(StringArray::from(vec!["a", "b", "a", "b", "c", "c"])),
            ),
        ])
        .expect("frame");
        let columns: Vec<&Column> = frame.columns().iter().collect();
        // row 2 repeats row 0, row 3 repeats row 1 (NaN = null), row 5 repeats row 4 (-0 = 0)
        assert_eq!(repeated_rows(&columns, 6), vec![(2, 0), (3, 1), (5, 4)]);
        assert_eq!(unique_rows(&columns, 6), vec![0, 1, 4]);
        // on `s` alone rows 2..5 repeat an earlier value
        assert_eq!(
            repeated_rows(&columns[1..], 6),
            vec![(2, 0), (3, 1), (5, 4)]
        );
    }
}
