//! Clipping numeric columns (`clean.clip`) to bounds fitted on the training rows.

use serde::{Deserialize, Serialize};

use crate::spec::ClipSpec;
use crate::{FeatureError, describe::num};

/// Fitted bounds of one column; values outside are set to the nearer bound, missing
/// values stay missing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClipBounds {
    pub lower: f64,
    pub upper: f64,
}

impl ClipBounds {
    /// Fits on training values (NaN = missing, infinities ignored); `None` when the
    /// column has no finite value or the bounds collapse to one value (an IQR of 0, as in
    /// a 0/1 flag or a mostly-zero amount): clipping would make the column constant.
    pub(crate) fn fit(values: &[f64], spec: &ClipSpec) -> Option<ClipBounds> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let (lower, upper) = match *spec {
            ClipSpec::Quantile { lower, upper, .. } => {
                (quantile(&sorted, lower), quantile(&sorted, upper))
            }
            ClipSpec::Iqr { k, .. } => {
                let (q1, q3) = (quantile(&sorted, 0.25), quantile(&sorted, 0.75));
                let iqr = q3 - q1;
                (q1 - k * iqr, q3 + k * iqr)
            }
        };
        (lower < upper).then_some(ClipBounds { lower, upper })
    }

    #[inline]
    pub(crate) fn apply(&self, v: f64) -> f64 {
        // NaN compares false both ways and stays NaN.
        if v < self.lower {
            self.lower
        } else if v > self.upper {
            self.upper
        } else {
            v
        }
    }

    /// Values below and above the bounds.
    pub(crate) fn count_outside(&self, values: &[f64]) -> (usize, usize) {
        let below = values.iter().filter(|&&v| v < self.lower).count();
        let above = values.iter().filter(|&&v| v > self.upper).count();
        (below, above)
    }

    pub(crate) fn validate(&self, column: &str) -> Result<(), FeatureError> {
        if self.lower.is_finite() && self.upper.is_finite() && self.lower <= self.upper {
            Ok(())
        } else {
            Err(FeatureError::Invalid(format!(
                "column '{column}': expected finite clip bounds with lower <= upper, found \
                 [{}, {}]",
                self.lower, self.upper
            )))
        }
    }

    pub(crate) fn describe(&self) -> String {
        format!("clipped to [{}, {}]", num(self.lower), num(self.upper))
    }
}

/// The `q` quantile of sorted values, interpolated linearly as numpy's default method
/// (including its two-sided interpolation formula).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let t = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// Settings that cannot give bounds.
pub(crate) fn check(spec: &ClipSpec) -> Result<(), FeatureError> {
    match *spec {
        ClipSpec::Quantile { lower, upper, .. } => {
            if !(0.0..=1.0).contains(&lower) || !(0.0..=1.0).contains(&upper) || lower >= upper {
                return Err(FeatureError::Invalid(format!(
                    "clean.clip: expected quantiles 0 <= lower < upper <= 1, found lower = \
                     {lower}, upper = {upper}"
                )));
            }
        }
        ClipSpec::Iqr { k, .. } => {
            if !(k.is_finite() && k >= 0.0) {
                return Err(FeatureError::Invalid(format!(
                    "clean.clip: expected k >= 0 for the iqr method, found {k}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 8.0);
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&[5.0], 0.3), 5.0);
    }

    #[test]
    fn iqr_fences_and_apply() {
        let values = [1.0, 2.0, 3.0, 4.0, 100.0, f64::NAN, f64::INFINITY];
        let spec = ClipSpec::Iqr {
            k: 1.5,
            columns: None,
        };
        let b = ClipBounds::fit(&values, &spec).expect("values");
        // q1 = 2, q3 = 4 over the five finite values.
        assert_eq!((b.lower, b.upper), (-1.0, 7.0));
        assert_eq!(b.apply(100.0), 7.0);
        assert_eq!(b.apply(f64::INFINITY), 7.0);
        assert!(b.apply(f64::NAN).is_nan());
        assert_eq!(b.count_outside(&values), (0, 2));
        assert!(ClipBounds::fit(&[f64::NAN], &spec).is_none());
        let flag = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        assert!(ClipBounds::fit(&flag, &spec).is_none(), "q1 = q3 = 0");
    }
}
