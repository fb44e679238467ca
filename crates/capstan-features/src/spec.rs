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
        }
    }
}
