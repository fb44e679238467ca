//! Profiles: what a table holds, column by column, in numbers equal to pandas'.
//!
//! A profile is plain data (JSON). It is the reference for validation rules
//! (`distribution` rules), rule suggestion, dataset diffs and drift.

use capstan_frame::{DataType, Frame};
use serde::{Deserialize, Serialize};

use crate::QualityError;

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
    /// few distinct values. Values as text.
    pub top_values: Vec<ValueCount>,
    /// Date and datetime columns: earliest and latest value as ISO text.
    pub time_range: Option<(String, String)>,
}

/// pandas `describe()`: `std` has ddof = 1; quantiles interpolate linearly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericStats {
    pub mean: f64,
    /// `None` with fewer than two values.
    pub std: Option<f64>,
    pub min: f64,
    pub q25: f64,
    pub q50: f64,
    pub q75: f64,
    pub max: f64,
    pub zeros: usize,
    /// Equal-width bins between min and max (numpy `histogram` edges and counts).
    pub histogram: Histogram,
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
pub fn profile(
    frame: &Frame,
    source: &str,
    opts: &ProfileOptions,
) -> Result<Profile, QualityError> {
    let _ = (frame, source, opts);
    Err(QualityError::Input("profiling is not built yet".into()))
}
