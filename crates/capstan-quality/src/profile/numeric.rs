//! Numeric columns: pandas `describe()` numbers, zeros, numpy `histogram`, distinct values
//! and, for columns with few distinct values, the most frequent ones.
//!
//! Sums follow numpy's pairwise summation over the whole column with missing values as 0,
//! the way pandas' `nanmean`/`nanvar` compute them (two passes for the variance, ddof = 1).
//! Quantiles are numpy's `linear` method on the sorted non-missing values.

use std::borrow::Cow;

use arrow_array::Array;
use capstan_frame::{Column, DataType};

use super::{Histogram, NumericStats, ValueCount};

/// Numeric columns with at most this many distinct values also get top values.
pub(crate) const TOP_VALUES_MAX_DISTINCT: usize = 50;

/// One value per row, NaN for missing; `None` for non-numeric columns. Float columns
/// without nulls are borrowed.
pub(crate) fn values_of(col: &Column) -> Option<Cow<'_, [f64]>> {
    match col {
        Column::Float(a) => {
            if a.null_count() == 0 {
                Some(Cow::Borrowed(a.values().as_ref()))
            } else {
                Some(Cow::Owned(
                    a.iter().map(|v| v.unwrap_or(f64::NAN)).collect(),
                ))
            }
        }
        Column::Integer(a) => Some(Cow::Owned(
            a.iter().map(|v| v.map_or(f64::NAN, |x| x as f64)).collect(),
        )),
        Column::Boolean(a) => Some(Cow::Owned(
            a.iter()
                .map(|v| v.map_or(f64::NAN, |b| if b { 1.0 } else { 0.0 }))
                .collect(),
        )),
        Column::String(_) | Column::Date(_) | Column::Datetime(_) => None,
    }
}

/// What a numeric column holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumericSummary {
    pub count: usize,
    pub distinct: usize,
    pub stats: Option<NumericStats>,
    pub top_values: Vec<ValueCount>,
}

/// Summarizes `values` (NaN = missing).
pub(crate) fn summarize(
    values: &[f64],
    dtype: DataType,
    bins: usize,
    top_k: usize,
) -> NumericSummary {
    let mut keys: Vec<u64> = values
        .iter()
        .filter(|x| !x.is_nan())
        .map(|&x| sort_key(x))
        .collect();
    super::radix::sort(&mut keys);
    let count = keys.len();
    let distinct = count_runs(&keys);
    if count == 0 {
        return NumericSummary {
            count,
            distinct,
            stats: None,
            top_values: Vec::new(),
        };
    }
    let sum = pairwise_sum(values, |x| if x.is_nan() { 0.0 } else { x });
    let mean = sum / count as f64;
    let std = (count > 1).then(|| {
        let ss = pairwise_sum(values, |x| {
            if x.is_nan() {
                0.0
            } else {
                let d = mean - x;
                d * d
            }
        });
        (ss / (count - 1) as f64).sqrt()
    });
    let zeros = values.iter().filter(|&&x| x == 0.0).count();
    let stats = NumericStats {
        mean,
        std,
        min: from_key(keys[0]),
        q25: quantile(&keys, 0.25),
        q50: quantile(&keys, 0.5),
        q75: quantile(&keys, 0.75),
        max: from_key(keys[count - 1]),
        zeros,
        histogram: histogram(&keys, bins),
    };
    let top_values = if distinct <= TOP_VALUES_MAX_DISTINCT {
        top_from_sorted(&keys, dtype, top_k)
    } else {
        Vec::new()
    };
    NumericSummary {
        count,
        distinct,
        stats: Some(stats),
        top_values,
    }
}

/// An order-preserving integer key of a non-NaN float; -0.0 and 0.0 share one key.
#[inline]
pub(crate) fn sort_key(x: f64) -> u64 {
    let bits = (x + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

#[inline]
pub(crate) fn from_key(key: u64) -> f64 {
    let bits = if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    };
    f64::from_bits(bits)
}

/// Distinct values of a sorted slice.
pub(crate) fn count_runs<T: PartialEq>(sorted: &[T]) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    1 + sorted.windows(2).filter(|w| w[0] != w[1]).count()
}

/// numpy's pairwise summation (blocks of 128 summed with 8 accumulators) of `f(x)`.
pub(crate) fn pairwise_sum(values: &[f64], f: impl Fn(f64) -> f64 + Copy) -> f64 {
    let n = values.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in values {
            res += f(x);
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        for (acc, &x) in r.iter_mut().zip(values) {
            *acc = f(x);
        }
        let mut i = 8;
        while i < n - n % 8 {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += f(values[i + j]);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &values[i..] {
            res += f(x);
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&values[..n2], f) + pairwise_sum(&values[n2..], f)
    }
}

/// numpy's `percentile(method="linear")` of sorted keys (non-empty), `q` in [0, 1].
pub(crate) fn quantile(sorted: &[u64], q: f64) -> f64 {
    let n = sorted.len();
    let h = (n - 1) as f64 * q;
    let lo = h.floor();
    let t = h - lo;
    let lo = (lo as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    lerp(from_key(sorted[lo]), from_key(sorted[hi]), t)
}

/// numpy's `_lerp`: from the nearer end, so the result stays inside [a, b].
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// numpy `histogram(values, bins)` over the finite values (sorted keys): equal-width bins
/// from min to max (min - 0.5 to max + 0.5 when they are equal), the last bin closed.
pub(crate) fn histogram(sorted: &[u64], bins: usize) -> Histogram {
    let finite: Vec<f64> = sorted
        .iter()
        .map(|&k| from_key(k))
        .filter(|x| x.is_finite())
        .collect();
    let bins = bins.max(1);
    let (Some(&lo), Some(&hi)) = (finite.first(), finite.last()) else {
        return Histogram {
            edges: Vec::new(),
            counts: Vec::new(),
        };
    };
    let (first, last) = if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let edges = linspace(first, last, bins + 1);
    let mut counts = vec![0u64; bins];
    let denom = last - first;
    for &x in &finite {
        let f = (x - first) / denom * bins as f64;
        let mut idx = (f as usize).min(bins);
        if idx == bins {
            idx -= 1;
        }
        if x < edges[idx] && idx > 0 {
            idx -= 1;
        }
        if x >= edges[idx + 1] && idx != bins - 1 {
            idx += 1;
        }
        counts[idx] += 1;
    }
    Histogram { edges, counts }
}

/// numpy `linspace(start, stop, num)` with the endpoint.
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let div = (num - 1) as f64;
    let delta = stop - start;
    let step = delta / div;
    let mut out: Vec<f64> = (0..num)
        .map(|i| {
            if step == 0.0 {
                i as f64 / div * delta + start
            } else {
                i as f64 * step + start
            }
        })
        .collect();
    if let Some(last) = out.last_mut() {
        *last = stop;
    }
    out
}

/// Most frequent values of sorted keys: count descending, ties by value ascending.
fn top_from_sorted(sorted: &[u64], dtype: DataType, top_k: usize) -> Vec<ValueCount> {
    let mut runs: Vec<(u64, usize)> = Vec::new();
    for &k in sorted {
        match runs.last_mut() {
            Some((key, n)) if *key == k => *n += 1,
            _ => runs.push((k, 1)),
        }
    }
    runs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    runs.truncate(top_k);
    runs.into_iter()
        .map(|(k, count)| ValueCount {
            value: value_text(from_key(k), dtype),
            count,
        })
        .collect()
}

/// A numeric value as the column's CSV writer prints it.
pub(crate) fn value_text(x: f64, dtype: DataType) -> String {
    match dtype {
        DataType::Integer => format!("{}", x as i64),
        DataType::Boolean => (x != 0.0).to_string(),
        _ => x.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_order_and_merge_zeros() {
        let xs = [
            -3.5,
            -0.0,
            0.0,
            1e-300,
            2.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut keys: Vec<u64> = xs.iter().map(|&x| sort_key(x)).collect();
        keys.sort_unstable();
        let back: Vec<f64> = keys.iter().map(|&k| from_key(k)).collect();
        assert_eq!(
            back,
            vec![
                f64::NEG_INFINITY,
                -3.5,
                0.0,
                0.0,
                1e-300,
                2.0,
                f64::INFINITY
            ]
        );
        assert_eq!(sort_key(-0.0), sort_key(0.0));
    }

    #[test]
    fn pairwise_matches_plain_sum_on_integers() {
        let xs: Vec<f64> = (0..1000).map(f64::from).collect();
        assert_eq!(pairwise_sum(&xs, |x| x), 499_500.0);
    }

    #[test]
    fn quantiles_interpolate_linearly() {
        let keys: Vec<u64> = [1.0, 2.0, 3.0, 4.0].iter().map(|&x| sort_key(x)).collect();
        assert_eq!(quantile(&keys, 0.25), 1.75);
        assert_eq!(quantile(&keys, 0.5), 2.5);
        assert_eq!(quantile(&keys, 0.75), 3.25);
    }

    #[test]
    fn histogram_of_one_value_is_centered() {
        let keys = vec![sort_key(3.0); 4];
        let h = histogram(&keys, 2);
        assert_eq!(h.edges, vec![2.5, 3.0, 3.5]);
        assert_eq!(h.counts, vec![0, 4]);
    }
}
