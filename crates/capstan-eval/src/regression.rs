//! Regression metrics, matching scikit-learn.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::check::{finite, mean, non_empty, same_len};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    pub rmse: f64,
    pub mae: f64,
    /// `None` with fewer than 2 rows (sklearn returns nan). With constant `y_true`
    /// it is 1.0 for perfect predictions, else 0.0 (sklearn `force_finite=True`).
    pub r2: Option<f64>,
    /// Mean of |y - yhat| / max(|y|, eps), eps = f64::EPSILON: huge, not infinite,
    /// when `y_true` holds zeros.
    pub mape: f64,
}

impl RegressionMetrics {
    /// Keys: rmse, mae, r2, mape; r2 left out when undefined.
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        let mut map = BTreeMap::new();
        map.insert("rmse".to_string(), self.rmse);
        map.insert("mae".to_string(), self.mae);
        if let Some(r2) = self.r2 {
            map.insert("r2".to_string(), r2);
        }
        map.insert("mape".to_string(), self.mape);
        map
    }
}

pub fn regression_metrics(y_true: &[f64], y_pred: &[f64]) -> Result<RegressionMetrics, EvalError> {
    same_len("y_pred", y_true.len(), y_pred.len())?;
    non_empty("y_true", y_true.len())?;
    finite("y_true", y_true)?;
    finite("y_pred", y_pred)?;
    let n = y_true.len();
    let pairs = || y_true.iter().zip(y_pred);
    let sse: f64 = pairs().map(|(&y, &p)| (y - p) * (y - p)).sum();
    let mae = mean(pairs().map(|(&y, &p)| (y - p).abs()), n);
    let mape = mean(
        pairs().map(|(&y, &p)| (p - y).abs() / y.abs().max(f64::EPSILON)),
        n,
    );
    Ok(RegressionMetrics {
        rmse: (sse / n as f64).sqrt(),
        mae,
        r2: r2(y_true, sse),
        mape,
    })
}

fn r2(y_true: &[f64], sse: f64) -> Option<f64> {
    if y_true.len() < 2 {
        return None;
    }
    // Constant y_true gives a zero denominator exactly (sklearn may see rounding noise
    // from its mean there; we take the exact value).
    let first = y_true[0];
    let sst = if y_true.iter().all(|&y| y == first) {
        0.0
    } else {
        let m = mean(y_true.iter().copied(), y_true.len());
        y_true.iter().map(|&y| (y - m) * (y - m)).sum()
    };
    Some(match (sse == 0.0, sst == 0.0) {
        (true, _) => 1.0,
        (false, true) => 0.0,
        (false, false) => 1.0 - sse / sst,
    })
}
