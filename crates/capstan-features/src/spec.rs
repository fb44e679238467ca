use serde::{Deserialize, Serialize};

/// Linear learners need imputed, one-hot, scaled inputs; trees take NaN and category codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineMode {
    Linear,
    Tree,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Imputation {
    #[default]
    Median,
    Mean,
    Constant,
}

/// `auto` means one-hot for linear mode and native codes for tree mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CategoricalEncoding {
    #[default]
    Auto,
    OneHot,
    Ordinal,
    Native,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePart {
    Year,
    Month,
    Day,
    DayOfWeek,
    DayOfYear,
    Hour,
    Minute,
}

/// What the pipeline does; every field has a sensible default. Held in the training config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSpec {
    /// Use only these input columns (all but the target when `None`).
    pub include: Option<Vec<String>>,
    /// Never use these columns.
    pub drop: Vec<String>,
    /// How numeric nulls are filled in linear mode (trees keep them as missing).
    pub impute: Imputation,
    /// The fill value when `impute = "constant"`.
    pub impute_value: f64,
    /// Add a 0/1 column per numeric input that had nulls in training.
    pub missing_indicator: bool,
    pub categorical: CategoricalEncoding,
    /// Categories seen in fewer than this fraction of training rows share one "rare" slot.
    pub rare_min_fraction: f64,
    /// Categories seen fewer than this many times share the "rare" slot.
    pub rare_min_count: usize,
    /// Standardize numeric features (linear mode only).
    pub scale: bool,
    /// Parts extracted from date and datetime columns.
    pub date_parts: Vec<DatePart>,
    /// Cleaning before the transforms; left out of the JSON when off, so older configs
    /// and bundles keep their bytes and hashes.
    #[serde(skip_serializing_if = "CleanSpec::is_off")]
    pub clean: CleanSpec,
}

impl Default for PipelineSpec {
    fn default() -> Self {
        PipelineSpec {
            include: None,
            drop: Vec::new(),
            impute: Imputation::Median,
            impute_value: 0.0,
            missing_indicator: false,
            categorical: CategoricalEncoding::Auto,
            rare_min_fraction: 0.0,
            rare_min_count: 1,
            scale: true,
            date_parts: vec![
                DatePart::Year,
                DatePart::Month,
                DatePart::Day,
                DatePart::DayOfWeek,
                DatePart::Hour,
            ],
            clean: CleanSpec::default(),
        }
    }
}

/// Cleaning steps (all off by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CleanSpec {
    /// Drop exact duplicate rows before the train/test split (done by the training job).
    pub dedup: bool,
    /// Clip numeric columns to bounds fitted on the training rows.
    pub clip: Option<ClipSpec>,
    /// Read text columns whose values are mostly numbers (>= 95 %) as numbers; other
    /// values become missing.
    pub coerce: bool,
}

impl CleanSpec {
    pub fn is_off(&self) -> bool {
        *self == CleanSpec::default()
    }
}

/// How clipping bounds are fitted; `columns` limits it to these numeric inputs (all
/// integer, float and coerced columns when absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClipSpec {
    /// Bounds at two quantiles (linear interpolation, as numpy's default).
    Quantile {
        #[serde(default = "default_lower")]
        lower: f64,
        #[serde(default = "default_upper")]
        upper: f64,
        #[serde(default)]
        columns: Option<Vec<String>>,
    },
    /// Bounds at Q1 - k IQR and Q3 + k IQR (Tukey's fences).
    Iqr {
        #[serde(default = "default_k")]
        k: f64,
        #[serde(default)]
        columns: Option<Vec<String>>,
    },
}

impl ClipSpec {
    pub fn columns(&self) -> Option<&[String]> {
        match self {
            ClipSpec::Quantile { columns, .. } | ClipSpec::Iqr { columns, .. } => {
                columns.as_deref()
            }
        }
    }
}

fn default_lower() -> f64 {
    0.01
}

fn default_upper() -> f64 {
    0.99
}

fn default_k() -> f64 {
    1.5
}
