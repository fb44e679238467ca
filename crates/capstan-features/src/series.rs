//! Linear-mode treatment of one numeric series: fill missing values, then standardize.

use serde::{Deserialize, Serialize};

use crate::scale::Scaler;
use crate::{FeatureError, PipelineSpec, impute};

/// Fitted imputation and optional scaling of one numeric series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesFit {
    /// Replaces null (and NaN) values.
    pub fill: f64,
    /// Applied after filling; `None` when `spec.scale` is off.
    pub scaler: Option<Scaler>,
}

impl SeriesFit {
    /// Fits on training values (NaN = missing). Infinite values are refused: they would
    /// make the statistics meaningless. `feature` names the series in errors.
    pub(crate) fn fit(
        feature: &str,
        values: &[f64],
        spec: &PipelineSpec,
    ) -> Result<SeriesFit, FeatureError> {
        if let Some(row) = values.iter().position(|v| v.is_infinite()) {
            return Err(FeatureError::BadColumn {
                column: feature.to_string(),
                message: format!(
                    "expected finite numbers in linear mode, found {} at row {row}",
                    values[row]
                ),
            });
        }
        let mut observed: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        let fill = impute::fill_value(spec.impute, spec.impute_value, &mut observed);
        let scaler = if spec.scale {
            let imputed: Vec<f64> = values.iter().map(|&v| fill_nan(v, fill)).collect();
            Scaler::fit(&imputed)
        } else {
            None
        };
        Ok(SeriesFit { fill, scaler })
    }

    #[inline]
    pub(crate) fn apply(&self, v: f64) -> f64 {
        let x = fill_nan(v, self.fill);
        match &self.scaler {
            Some(s) => s.apply(x),
            None => x,
        }
    }

    /// Checks the state read back from a bundle: every number finite, scale positive.
    pub(crate) fn validate(&self, feature: &str) -> Result<(), FeatureError> {
        let ok = self.fill.is_finite()
            && self
                .scaler
                .is_none_or(|s| s.mean.is_finite() && s.scale.is_finite() && s.scale > 0.0);
        if ok {
            Ok(())
        } else {
            Err(FeatureError::Invalid(format!(
                "feature '{feature}': expected finite statistics and a positive scale, found {self:?}"
            )))
        }
    }

    /// Short text such as "nulls -> 37, scaled (mean 38.6, std 13.6)".
    pub(crate) fn describe(&self, impute: &str) -> String {
        let mut s = format!("nulls -> {} {}", impute, crate::describe::num(self.fill));
        if let Some(sc) = &self.scaler {
            s.push_str(&format!(
                ", scaled (mean {}, std {})",
                crate::describe::num(sc.mean),
                crate::describe::num(sc.scale)
            ));
        }
        s
    }
}

#[inline]
fn fill_nan(v: f64, fill: f64) -> f64 {
    if v.is_nan() { fill } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Imputation;

    #[test]
    fn fills_then_scales() {
        let spec = PipelineSpec::default();
        let f = SeriesFit::fit("x", &[1.0, f64::NAN, 3.0, 5.0], &spec).expect("fits");
        assert_eq!(f.fill, 3.0);
        let s = f.scaler.expect("scaled");
        assert_eq!(s.mean, 3.0);
        assert_eq!(s.scale, 2.0f64.sqrt());
        assert_eq!(f.apply(f64::NAN), 0.0);
        assert_eq!(f.apply(5.0), 2.0 / 2.0f64.sqrt());
    }

    #[test]
    fn no_scale_and_constant() {
        let spec = PipelineSpec {
            scale: false,
            impute: Imputation::Constant,
            impute_value: -1.0,
            ..PipelineSpec::default()
        };
        let f = SeriesFit::fit("x", &[f64::NAN, 2.0], &spec).expect("fits");
        assert_eq!(f.scaler, None);
        assert_eq!(f.apply(f64::NAN), -1.0);
        assert_eq!(f.apply(2.0), 2.0);
    }

    #[test]
    fn refuses_infinity() {
        let err = SeriesFit::fit("x", &[1.0, f64::INFINITY], &PipelineSpec::default())
            .expect_err("infinite");
        assert!(err.to_string().contains("column 'x'"), "{err}");
        assert!(err.to_string().contains("row 1"), "{err}");
    }
}
