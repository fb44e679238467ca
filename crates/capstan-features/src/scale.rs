//! Standard scaling, exactly as scikit-learn's StandardScaler.

use serde::{Deserialize, Serialize};

use crate::stats;

/// `(x - mean) / scale`, with `scale` the population std, or 1 for constant series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub mean: f64,
    pub scale: f64,
}

impl Scaler {
    /// Fits on a fully imputed series; `None` when it is empty.
    pub(crate) fn fit(values: &[f64]) -> Option<Scaler> {
        let (mean, var) = stats::mean_and_var(values)?;
        let scale = if stats::is_constant(var, mean, values.len()) {
            1.0
        } else {
            var.sqrt()
        };
        Some(Scaler { mean, scale })
    }

    #[inline]
    pub(crate) fn apply(&self, x: f64) -> f64 {
        (x - self.mean) / self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_std_and_constant() {
        let s = Scaler::fit(&[1.0, 2.0, 3.0, 4.0]).expect("non-empty");
        assert_eq!(s.mean, 2.5);
        assert_eq!(s.scale, 1.25f64.sqrt());
        assert_eq!(s.apply(2.5), 0.0);
        let c = Scaler::fit(&[0.1; 7]).expect("non-empty");
        assert_eq!(c.scale, 1.0);
        assert_eq!(c.apply(0.1), 0.1 - c.mean);
        assert!(Scaler::fit(&[]).is_none());
    }
}
