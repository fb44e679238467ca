//! Profiles: what a table holds, column by column, in numbers equal to pandas'.
//!
//! A profile is plain data (JSON). It is the reference for validation rules
//! (`distribution` rules), rule suggestion, dataset diffs and drift.

mod analyze;
mod categorical;
mod correlation;
pub mod findings;
pub mod html;
mod numeric;
mod radix;
pub mod target;

use capstan_frame::{Column, DataType, Frame};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::QualityError;
use analyze::Analysis;

/// What to compute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileOptions {
    /// The label column: adds the target relationship and leakage suspects.
    pub target: Option<String>,
    /// Bins of numeric histograms.
    pub histogram_bins: usize,
    /// Most frequent values kept per column.
    pub top_values: usize,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            target: None,
            histogram_bins: 20,
            top_values: 10,
        }
    }
}

/// The profile of a whole table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Where the rows came from (path, or a redacted URL and query).
    pub source: String,
    pub n_rows: usize,
    pub n_cols: usize,
    /// Rows equal to an earlier row in every column (pandas `duplicated().sum()`).
    pub duplicate_rows: usize,
    pub columns: Vec<ColumnProfile>,
    pub correlations: Correlations,
    pub target: Option<TargetProfile>,
    /// Findings worth a look: constant, ID-like, mostly missing, leakage suspects.
    pub findings: Vec<Finding>,
}

impl Profile {
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One column. Counts follow pandas: `count` excludes nulls, `distinct` is `nunique()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    pub dtype: DataType,
    /// Non-null values (pandas `count()`).
    pub count: usize,
    /// Nulls (pandas `isna().sum()`; NaN in a float column counts as missing).
    pub missing: usize,
    /// Distinct non-null values (pandas `nunique()`).
    pub distinct: usize,
    /// Integer, float, boolean-as-0/1: pandas `describe()` numbers. `None` for others.
    pub numeric: Option<NumericStats>,
    /// Most frequent values with their counts, most frequent first, ties by value
    /// (pandas `value_counts()` head). Strings and booleans; also numeric columns with
    /// at most 50 distinct values. Values as text (as the CSV writer prints them).
    pub top_values: Vec<ValueCount>,
    /// Date and datetime columns: earliest and latest value as ISO text.
    pub time_range: Option<(String, String)>,
}

/// pandas `describe()`: `std` has ddof = 1; quantiles interpolate linearly.
///
/// Infinite values take part as in pandas (the mean of a column holding `inf` is `inf`);
/// JSON has no infinities, so they are written as `null` and read back as NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    #[serde(deserialize_with = "null_as_nan")]
    pub mean: f64,
    /// `None` with fewer than two values.
    pub std: Option<f64>,
    #[serde(deserialize_with = "null_as_nan")]
    pub min: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub q25: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub q50: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub q75: f64,
    #[serde(deserialize_with = "null_as_nan")]
    pub max: f64,
    pub zeros: usize,
    /// Equal-width bins between min and max (numpy `histogram` edges and counts).
    pub histogram: Histogram,
}

/// A number that JSON wrote as `null` (a NaN or an infinity) reads back as NaN.
fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `counts.len() + 1` increasing edges; the last bin includes its right edge.
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueCount {
    pub value: String,
    pub count: usize,
}

/// Pairwise association.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlations {
    /// Numeric columns in table order.
    pub numeric_columns: Vec<String>,
    /// Pearson on pairwise-complete rows (pandas `corr()`); `None` where undefined.
    pub pearson: Vec<Vec<Option<f64>>>,
    /// String and boolean columns with at most a few hundred distinct values.
    pub categorical_columns: Vec<String>,
    /// Cramér's V (bias-uncorrected) on rows where both are present.
    pub cramers_v: Vec<Vec<Option<f64>>>,
}

/// How each feature relates to the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetProfile {
    pub name: String,
    /// Classes with counts for a categorical target; empty for a numeric one.
    pub classes: Vec<ValueCount>,
    pub features: Vec<FeatureTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureTarget {
    pub column: String,
    /// The association measure used (`"pearson"`, `"cramers_v"`, `"correlation_ratio"`,
    /// `"single_feature_auc"`) and its value.
    pub measure: String,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub column: Option<String>,
    /// `constant`, `id_like`, `mostly_missing`, `leakage_suspect`, `duplicate_rows`, ...
    pub kind: String,
    pub message: String,
}

/// Profiles a frame. `source` names it in the profile and in errors.
///
/// Columns are profiled in parallel (rayon); the result does not depend on the thread
/// count. Every number follows pandas on the same data (see the submodules for how).
pub fn profile(
    frame: &Frame,
    source: &str,
    opts: &ProfileOptions,
) -> Result<Profile, QualityError> {
    if let Some(name) = opts.target.as_ref().filter(|n| frame.column(n).is_none()) {
        let names: Vec<&str> = frame.schema().names().collect();
        return Err(QualityError::Input(format!(
            "{source}: target column '{name}' not found; columns are: {}",
            names.join(", ")
        )));
    }
    let names: Vec<&str> = frame.schema().names().collect();
    let (analyses, duplicate_rows) = rayon::join(
        || {
            frame
                .columns()
                .par_iter()
                .zip(names.par_iter())
                .map(|(col, name)| analyze::analyze(name, col, opts))
                .collect::<Vec<Analysis<'_>>>()
        },
        || {
            let columns: Vec<&Column> = frame.columns().iter().collect();
            capstan_frame::repeated_rows(&columns, frame.n_rows()).len()
        },
    );
    let correlations = correlations(&analyses);
    let target = opts
        .target
        .as_ref()
        .map(|name| target_profile(frame, name, &analyses));
    let columns: Vec<ColumnProfile> = analyses.into_iter().map(|a| a.profile).collect();
    let findings = findings::findings(
        frame.n_rows(),
        duplicate_rows,
        &columns,
        &correlations,
        target.as_ref(),
    );
    Ok(Profile {
        source: source.to_string(),
        n_rows: frame.n_rows(),
        n_cols: frame.n_cols(),
        duplicate_rows,
        columns,
        correlations,
        target,
        findings,
    })
}

/// Categorical columns with more distinct values stay out of the Cramér's V matrix.
pub const MAX_CRAMERS_V_DISTINCT: usize = 200;

fn correlations(analyses: &[Analysis<'_>]) -> Correlations {
    let numeric: Vec<&Analysis<'_>> = analyses.iter().filter(|a| a.values.is_some()).collect();
    let values: Vec<&[f64]> = numeric.iter().filter_map(|a| a.values.as_deref()).collect();
    let shift: Vec<f64> = numeric.iter().map(|a| a.median()).collect();
    let categorical: Vec<&Analysis<'_>> = analyses
        .iter()
        .filter(|a| {
            a.codes
                .as_ref()
                .is_some_and(|c| c.distinct() <= MAX_CRAMERS_V_DISTINCT)
        })
        .collect();
    let codes: Vec<&categorical::Codes> = categorical
        .iter()
        .filter_map(|a| a.codes.as_ref())
        .collect();
    let (pearson, cramers_v) = rayon::join(
        || correlation::pearson(&values, &shift),
        || correlation::cramers_v_matrix(&codes),
    );
    Correlations {
        numeric_columns: numeric.iter().map(|a| a.profile.name.clone()).collect(),
        pearson,
        categorical_columns: categorical.iter().map(|a| a.profile.name.clone()).collect(),
        cramers_v,
    }
}

fn target_profile(frame: &Frame, name: &str, analyses: &[Analysis<'_>]) -> TargetProfile {
    let idx = frame.schema().index_of(name).unwrap_or(0);
    let t = &analyses[idx];
    let owned = analyze::target_values(t, &frame.columns()[idx]);
    let data = match &owned {
        analyze::TargetValues::Classes(codes) => target::TargetData::Classes(codes),
        analyze::TargetValues::Numeric { values, median } => target::TargetData::Numeric {
            values,
            median: *median,
        },
    };
    let classes = match &data {
        target::TargetData::Classes(codes) => codes.top(usize::MAX),
        target::TargetData::Numeric { .. } => Vec::new(),
    };
    let mut features: Vec<FeatureTarget> = analyses
        .par_iter()
        .enumerate()
        .filter(|(i, _)| *i != idx)
        .filter_map(|(_, a)| {
            let (measure, value) = target::relate(&a.feature_data(), &data)?;
            Some(FeatureTarget {
                column: a.profile.name.clone(),
                measure: measure.to_string(),
                value,
            })
        })
        .collect();
    // strongest first; undefined last; ties keep table order
    features.sort_by(|a, b| {
        let key = |f: &FeatureTarget| f.value.map_or(-1.0, |v| target::strength(&f.measure, v));
        key(b).total_cmp(&key(a))
    });
    TargetProfile {
        name: name.to_string(),
        classes,
        features,
    }
}
