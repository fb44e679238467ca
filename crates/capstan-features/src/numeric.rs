//! Numeric columns (integer, float, boolean): NaN for trees; imputed, flagged and
//! scaled for linear learners.

use capstan_frame::{Column, FeatureKind};
use serde::{Deserialize, Serialize};

use crate::clip::ClipBounds;
use crate::coerce::read_numbers;
use crate::report::ClippedColumn;
use crate::series::SeriesFit;
use crate::source::read_numeric;
use crate::spec::ClipSpec;
use crate::{FeatureError, PipelineMode, PipelineSpec};

/// Fitted state for one numeric column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericTransform {
    pub column: String,
    /// Imputation and scaling; `None` in tree mode (values pass through, null -> NaN).
    pub linear: Option<SeriesFit>,
    /// Emit `NAME__missing` (1 for null) after the value; linear mode only.
    pub missing_indicator: bool,
    /// A text column read as numbers (`clean.coerce`); text that is not a number is missing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_text: bool,
    /// Bounds the values are clipped to before anything else (`clean.clip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<ClipBounds>,
}

impl NumericTransform {
    /// Fits the column; `from_text` reads text as numbers, `clip` fits bounds first. Also
    /// returns what clipping changed in the training values.
    pub(crate) fn fit(
        name: &str,
        col: &Column,
        mode: PipelineMode,
        spec: &PipelineSpec,
        from_text: bool,
        clip: Option<&ClipSpec>,
    ) -> Result<(NumericTransform, Option<ClippedColumn>), FeatureError> {
        let mut t = NumericTransform {
            column: name.to_string(),
            linear: None,
            missing_indicator: false,
            from_text,
            clip: None,
        };
        if mode == PipelineMode::Tree && clip.is_none() {
            return Ok((t, None));
        }
        let mut values = vec![0.0; col.len()];
        read_numbers(col, 0, &mut values);
        let mut clipped = None;
        if let Some(bounds) = clip.and_then(|c| ClipBounds::fit(&values, c)) {
            let (n_below, n_above) = bounds.count_outside(&values);
            values.iter_mut().for_each(|v| *v = bounds.apply(*v));
            t.clip = Some(bounds);
            clipped = Some(ClippedColumn {
                column: name.to_string(),
                lower: bounds.lower,
                upper: bounds.upper,
                n_below,
                n_above,
            });
        }
        if mode == PipelineMode::Linear {
            let had_missing = values.iter().any(|v| v.is_nan());
            t.linear = Some(SeriesFit::fit(name, &values, spec)?);
            t.missing_indicator = spec.missing_indicator && had_missing;
        }
        Ok((t, clipped))
    }

    /// Reads rows `start..start + out.len()` as the fitted values before imputation:
    /// parsed from text when coerced, clipped when bounds were fitted.
    fn read(&self, col: &Column, start: usize, out: &mut [f64]) {
        if self.from_text {
            read_numbers(col, start, out);
        } else {
            read_numeric(col, start, out);
        }
        if let Some(b) = &self.clip {
            out.iter_mut().for_each(|v| *v = b.apply(*v));
        }
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
        self.read(col, start, scratch);
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
        let mut s = format!("{}: numeric ({dtype}", self.column);
        if self.from_text {
            s.push_str(", read as numbers");
        }
        s.push(')');
        if let Some(b) = &self.clip {
            s.push_str(&format!(", {}", b.describe()));
        }
        match &self.linear {
            None => s.push_str(", nulls kept as NaN"),
            Some(fit) => {
                s.push_str(&format!(", {}", fit.describe(impute)));
                if self.missing_indicator {
                    s.push_str(", missing indicator");
                }
            }
        }
        s
    }

    pub(crate) fn validate(&self) -> Result<(), FeatureError> {
        if let Some(b) = &self.clip {
            b.validate(&self.column)?;
        }
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
