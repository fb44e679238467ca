//! One column's profile, plus the per-row views (numbers, codes) that the pairwise
//! measures reuse.

use std::borrow::Cow;

use capstan_frame::{Column, DataType};

use super::categorical::{self, Codes};
use super::numeric::{self, count_runs};
use super::target::{FeatureData, MAX_INTEGER_CLASSES};
use super::{ColumnProfile, ProfileOptions};

/// A profiled column and its reusable views.
#[derive(Debug)]
pub(crate) struct Analysis<'a> {
    pub profile: ColumnProfile,
    /// Integer, float, boolean: one value per row, NaN = missing.
    pub values: Option<Cow<'a, [f64]>>,
    /// String, boolean: dictionary codes.
    pub codes: Option<Codes>,
}

impl Analysis<'_> {
    /// The median, 0 without values (shifts the Pearson sums).
    pub fn median(&self) -> f64 {
        self.profile.numeric.as_ref().map_or(0.0, |s| s.q50)
    }

    /// The feature as the target measures see it: booleans and strings are categorical.
    pub fn feature_data(&self) -> FeatureData<'_> {
        if let Some(codes) = &self.codes {
            return FeatureData::Categorical(codes);
        }
        match &self.values {
            Some(values) => FeatureData::Numeric {
                values,
                median: self.median(),
            },
            None => FeatureData::Other,
        }
    }
}

pub(crate) fn analyze<'a>(name: &str, col: &'a Column, opts: &ProfileOptions) -> Analysis<'a> {
    let n = col.len();
    let dtype = col.dtype();
    let mut profile = ColumnProfile {
        name: name.to_string(),
        dtype,
        count: 0,
        missing: 0,
        distinct: 0,
        numeric: None,
        top_values: Vec::new(),
        time_range: None,
    };
    let mut values = None;
    let mut codes = None;
    match col {
        Column::Integer(_) | Column::Float(_) | Column::Boolean(_) => {
            let v = numeric::values_of(col).unwrap_or_default();
            let s = numeric::summarize(&v, dtype, opts.histogram_bins, opts.top_values);
            profile.count = s.count;
            profile.distinct = s.distinct;
            profile.numeric = s.stats;
            profile.top_values = s.top_values;
            if let Column::Boolean(a) = col {
                codes = Some(categorical::bool_codes(a));
            }
            values = Some(v);
        }
        Column::String(a) => {
            let c = categorical::string_codes(a);
            profile.count = c.count();
            profile.distinct = c.distinct();
            profile.top_values = c.top(opts.top_values);
            codes = Some(c);
        }
        Column::Date(_) | Column::Datetime(_) => {
            let (count, distinct, range) = temporal(col);
            profile.count = count;
            profile.distinct = distinct;
            profile.time_range = range;
        }
    }
    profile.missing = n - profile.count;
    Analysis {
        profile,
        values,
        codes,
    }
}

/// Count, distinct and (earliest, latest) of a date or datetime column.
fn temporal(col: &Column) -> (usize, usize, Option<(String, String)>) {
    let raw: Vec<(i64, usize)> = match col {
        Column::Date(a) => a
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|d| (i64::from(d), i)))
            .collect(),
        Column::Datetime(a) => a
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|t| (t, i)))
            .collect(),
        _ => Vec::new(),
    };
    let lo = raw.iter().min_by_key(|(v, _)| *v);
    let hi = raw.iter().max_by_key(|(v, _)| *v);
    let range = match (lo, hi) {
        (Some(&(_, a)), Some(&(_, b))) => Some((
            col.display_at(a).unwrap_or_default(),
            col.display_at(b).unwrap_or_default(),
        )),
        _ => None,
    };
    let mut sorted: Vec<i64> = raw.iter().map(|(v, _)| *v).collect();
    sorted.sort_unstable();
    (raw.len(), count_runs(&sorted), range)
}

/// The target's per-row view, owned where it had to be built.
#[derive(Debug)]
pub(crate) enum TargetValues<'a> {
    Classes(Cow<'a, Codes>),
    Numeric { values: Cow<'a, [f64]>, median: f64 },
}

/// Strings and booleans are classes; so are integers with at most `MAX_INTEGER_CLASSES`
/// distinct values (as training reads them). Floats, other integers and dates are numbers.
pub(crate) fn target_values<'a>(a: &'a Analysis<'_>, col: &Column) -> TargetValues<'a> {
    if let Some(codes) = &a.codes {
        return TargetValues::Classes(Cow::Borrowed(codes));
    }
    if let Some(values) = &a.values {
        if a.profile.dtype == DataType::Integer && a.profile.distinct <= MAX_INTEGER_CLASSES {
            let dtype = a.profile.dtype;
            return TargetValues::Classes(Cow::Owned(categorical::numeric_codes(values, |x| {
                numeric::value_text(x, dtype)
            })));
        }
        return TargetValues::Numeric {
            values: Cow::Borrowed(values),
            median: a.median(),
        };
    }
    // dates and datetimes: days or microseconds as numbers
    let values: Vec<f64> = (0..col.len())
        .map(|i| col.f64_at(i).unwrap_or(f64::NAN))
        .collect();
    let mut keys: Vec<u64> = values
        .iter()
        .filter(|x| !x.is_nan())
        .map(|&x| numeric::sort_key(x))
        .collect();
    keys.sort_unstable();
    let median = if keys.is_empty() {
        0.0
    } else {
        numeric::quantile(&keys, 0.5)
    };
    TargetValues::Numeric {
        values: Cow::Owned(values),
        median,
    }
}
