//! How each feature relates to the target, one measure per pair of kinds:
//!
//! | feature \ target      | numeric             | binary               | 3+ classes          |
//! |-----------------------|---------------------|----------------------|---------------------|
//! | integer, float        | `pearson` r         | `single_feature_auc` | `correlation_ratio` |
//! | string, boolean       | `correlation_ratio` | `cramers_v`          | `cramers_v`         |
//!
//! A numeric target is a float (or date) column, or an integer column with more than
//! `MAX_INTEGER_CLASSES` distinct values; anything else is read as classes. The single-feature
//! AUC is the Mann-Whitney AUC of the raw feature value as a score, ties counted half, taken
//! as max(auc, 1 - auc) so that the direction does not matter. The correlation ratio (eta) is
//! sqrt(between-group sum of squares / total sum of squares) of the numeric side grouped by
//! the categorical side. Every measure uses the rows where both values are present. Date
//! features get no measure. Categorical features with more than `MAX_CATEGORIES` values, or
//! fewer than `MIN_ROWS_PER_CATEGORY` rows per value on average, get `None`: with (nearly)
//! one row per value, any grouping "explains" the target and the measure says nothing.
//!
//! Features are ranked by `strength`, which puts the AUC on the others' 0..1 scale.

use super::categorical::{Codes, MISSING};
use super::correlation::{cramers_v, pearson};
use super::numeric::sort_key;

pub use crate::label::MAX_INTEGER_CLASSES;
/// Categorical features with more distinct values get no measure.
pub const MAX_CATEGORIES: usize = 1000;
/// Categorical features need this many rows per distinct value on average.
pub const MIN_ROWS_PER_CATEGORY: usize = 5;

fn enough_rows(codes: &Codes) -> bool {
    codes.distinct() <= MAX_CATEGORIES && codes.distinct() * MIN_ROWS_PER_CATEGORY <= codes.count()
}

/// The target as the measures need it.
#[derive(Debug)]
pub(crate) enum TargetData<'a> {
    /// One value per row, NaN = missing; its median shifts the Pearson sums.
    Numeric {
        values: &'a [f64],
        median: f64,
    },
    Classes(&'a Codes),
}

/// A feature as the measures need it.
#[derive(Debug)]
pub(crate) enum FeatureData<'a> {
    Numeric {
        values: &'a [f64],
        median: f64,
    },
    Categorical(&'a Codes),
    /// Dates and datetimes: no measure.
    Other,
}

/// The measure name and value for one feature; `None` for features without a measure.
pub(crate) fn relate(
    feature: &FeatureData<'_>,
    target: &TargetData<'_>,
) -> Option<(&'static str, Option<f64>)> {
    match (feature, target) {
        (FeatureData::Other, _) => None,
        (
            FeatureData::Numeric { values, median },
            TargetData::Numeric {
                values: y,
                median: my,
            },
        ) => Some(("pearson", pearson(&[values, y], &[*median, *my])[0][1])),
        (FeatureData::Numeric { values, .. }, TargetData::Classes(classes)) => {
            if classes.distinct() == 2 {
                Some(("single_feature_auc", single_feature_auc(values, classes)))
            } else {
                Some(("correlation_ratio", correlation_ratio(classes, values)))
            }
        }
        (FeatureData::Categorical(codes), TargetData::Numeric { values, .. }) => Some((
            "correlation_ratio",
            enough_rows(codes)
                .then(|| correlation_ratio(codes, values))
                .flatten(),
        )),
        (FeatureData::Categorical(codes), TargetData::Classes(classes)) => Some((
            "cramers_v",
            enough_rows(codes)
                .then(|| cramers_v(codes, classes))
                .flatten(),
        )),
    }
}

/// A measure on a common 0..1 scale for ranking: the AUC's distance from chance,
/// 2 * (auc - 0.5) (Somers' D), and the size of the others.
pub fn strength(measure: &str, value: f64) -> f64 {
    if measure == "single_feature_auc" {
        (2.0 * (value - 0.5)).abs()
    } else {
        value.abs()
    }
}

/// max(auc, 1 - auc) of `values` as a score for class code 1 against code 0.
pub(crate) fn single_feature_auc(values: &[f64], classes: &Codes) -> Option<f64> {
    let mut pos: Vec<u64> = Vec::new();
    let mut neg: Vec<u64> = Vec::new();
    for (&x, &c) in values.iter().zip(&classes.codes) {
        if x.is_nan() || c == MISSING {
            continue;
        }
        if c == 1 {
            pos.push(sort_key(x));
        } else {
            neg.push(sort_key(x));
        }
    }
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    super::radix::sort(&mut pos);
    super::radix::sort(&mut neg);
    // twice the Mann-Whitney U: 2 per (pos > neg) pair, 1 per tie
    let mut twice_u: u128 = 0;
    let (mut i, mut j) = (0, 0);
    while i < pos.len() {
        let v = pos[i];
        let mut p = 0u128;
        while i < pos.len() && pos[i] == v {
            p += 1;
            i += 1;
        }
        while j < neg.len() && neg[j] < v {
            j += 1;
        }
        let below = j as u128;
        let mut ties = 0u128;
        let mut k = j;
        while k < neg.len() && neg[k] == v {
            ties += 1;
            k += 1;
        }
        twice_u += p * (2 * below + ties);
    }
    let auc = twice_u as f64 / (2.0 * pos.len() as f64 * neg.len() as f64);
    Some(auc.max(1.0 - auc))
}

/// eta of `values` grouped by `groups`, on rows where both are present.
pub(crate) fn correlation_ratio(groups: &Codes, values: &[f64]) -> Option<f64> {
    let k = groups.distinct();
    let mut sums = vec![0.0f64; k];
    let mut counts = vec![0usize; k];
    for (&x, &g) in values.iter().zip(&groups.codes) {
        if g != MISSING && !x.is_nan() {
            sums[g as usize] += x;
            counts[g as usize] += 1;
        }
    }
    let n: usize = counts.iter().sum();
    if n < 2 {
        return None;
    }
    let mean = sums.iter().sum::<f64>() / n as f64;
    let mut total = 0.0;
    for (&x, &g) in values.iter().zip(&groups.codes) {
        if g != MISSING && !x.is_nan() {
            total += (x - mean) * (x - mean);
        }
    }
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let between: f64 = sums
        .iter()
        .zip(&counts)
        .filter(|(_, c)| **c > 0)
        .map(|(s, &c)| {
            let d = s / c as f64 - mean;
            c as f64 * d * d
        })
        .sum();
    Some((between / total).sqrt().min(1.0))
}

#[cfg(test)]
mod tests {
    use super::super::categorical::numeric_codes;
    use super::*;

    #[test]
    fn auc_counts_ties_half_and_ignores_direction() {
        let classes = numeric_codes(&[0.0, 0.0, 1.0, 1.0], |x| x.to_string());
        // scores: neg 1, 2; pos 2, 3 -> pairs: (2>1) (2=2 half) (3>1) (3>2) = 3.5 / 4
        assert_eq!(
            single_feature_auc(&[1.0, 2.0, 2.0, 3.0], &classes),
            Some(0.875)
        );
        assert_eq!(
            single_feature_auc(&[3.0, 2.0, 2.0, 1.0], &classes),
            Some(0.875)
        );
    }

    #[test]
    fn eta_is_one_when_groups_explain_everything() {
        let groups = numeric_codes(&[0.0, 0.0, 1.0, 1.0], |x| x.to_string());
        assert_eq!(correlation_ratio(&groups, &[5.0, 5.0, 7.0, 7.0]), Some(1.0));
        assert_eq!(correlation_ratio(&groups, &[5.0, 7.0, 5.0, 7.0]), Some(0.0));
    }
}
