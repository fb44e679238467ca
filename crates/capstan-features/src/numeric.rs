//! Numeric columns (integer, float, boolean): NaN for trees; imputed, flagged and
//! scaled for linear learners.

use capstan_frame::{Column, FeatureKind};
use serde::{Deserialize, Serialize};

use crate::series::SeriesFit;
use crate::source::read_numeric;
use crate::{FeatureError, PipelineMode, PipelineSpec};

/// Fitted state for one numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericTransform {
    pub column: String,
    /// Imputation and scaling; `None` in tree mode (values pass through, null -> NaN).
    pub linear: Option<SeriesFit>,
    /// Emit `NAME__missing` (1 for null) after the value; linear mode only.
    pub missing_indicator: bool,
}

impl NumericTransform {
    pub(crate) fn fit(
        name: &str,
        col: &Column,
        mode: PipelineMode,
        spec: &PipelineSpec,
    ) -> Result<NumericTransform, FeatureError> {
        if mode == PipelineMode::Tree {
            return Ok(NumericTransform {
                column: name.to_string(),
                linear: None,
                missing_indicator: false,
            });
        }
        let mut values = vec![0.0; col.len()];
        read_numeric(col, 0, &mut values);
        let had_missing = values.iter().any(|v| v.is_nan());
        Ok(NumericTransform {
            column: name.to_string(),
            linear: Some(SeriesFit::fit(name, &values, spec)?),
            missing_indicator: spec.missing_indicator && had_missing,
        })
    }

    pub(crate) fn push_features(&self, names: &mut Vec<String>, kinds: &mut Vec<FeatureKind>) {
        names.push(self.column.clone());
        kinds.push(FeatureKind::Numeric);
        if self.missing_indicator {
            names.push(format!("{}__missing", self.column));
            kinds.push(FeatureKind::Numeric);
        }
    }

    /// Writes rows `start..start + n` into `block` (row-major, `n_cols` wide) from
    /// column `offset`; `scratch` holds at least `n` values.
    pub(crate) fn write(
        &self,
        col: &Column,
        start: usize,
        block: &mut [f64],
        n_cols: usize,
        offset: usize,
        scratch: &mut [f64],
    ) {
        read_numeric(col, start, scratch);
        let rows = block.chunks_exact_mut(n_cols);
        match &self.linear {
            None => {
                for (row, &v) in rows.zip(scratch.iter()) {
                    row[offset] = v;
                }
            }
            Some(fit) => {
                for (row, &v) in rows.zip(scratch.iter()) {
                    row[offset] = fit.apply(v);
                    if self.missing_indicator {
                        row[offset + 1] = if v.is_nan() { 1.0 } else { 0.0 };
                    }
                }
            }
        }
    }

    pub(crate) fn describe(&self, dtype: &str, impute: &str) -> String {
        match &self.linear {
            None => format!("{}: numeric ({dtype}), nulls kept as NaN", self.column),
            Some(fit) => {
                let mut s = format!(
                    "{}: numeric ({dtype}), {}",
                    self.column,
                    fit.describe(impute)
                );
                if self.missing_indicator {
                    s.push_str(", missing indicator");
                }
                s
            }
        }
    }

    pub(crate) fn validate(&self) -> Result<(), FeatureError> {
        match &self.linear {
            Some(fit) => fit.validate(&self.column),
            None if self.missing_indicator => Err(FeatureError::Invalid(format!(
                "column '{}': a missing indicator needs the linear-mode state",
                self.column
            ))),
            None => Ok(()),
        }
    }
}
