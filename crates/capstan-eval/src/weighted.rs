//! Metrics with a weight per row, matching scikit-learn's `sample_weight`: a row counts `w`
//! times (`np.average(term, weights=w)`). Weights must be finite, >= 0 and not all zero.
//! Map keys carry a `weighted_` prefix, next to the unweighted metrics of the same rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::check::{finite, non_empty, same_len, weighted_mean, weights};
use crate::multiclass::argmax;

/// Weighted regression metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedRegressionMetrics {
    pub rmse: f64,
    pub mae: f64,
    /// `None` with fewer than 2 rows (sklearn returns nan). When the positively weighted
    /// targets are all equal it is 1.0 for perfect predictions, else 0.0 (`force_finite`).
    pub r2: Option<f64>,
}

impl WeightedRegressionMetrics {
    /// Keys: weighted_rmse, weighted_mae, weighted_r2 (left out when undefined).
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        let mut map = BTreeMap::new();
        map.insert("weighted_rmse".to_string(), self.rmse);
        map.insert("weighted_mae".to_string(), self.mae);
        if let Some(r2) = self.r2 {
            map.insert("weighted_r2".to_string(), r2);
        }
        map
    }
}

pub fn weighted_regression_metrics(
    y_true: &[f64],
    y_pred: &[f64],
    weight: &[f64],
) -> Result<WeightedRegressionMetrics, EvalError> {
    same_len("y_pred", y_true.len(), y_pred.len())?;
    non_empty("y_true", y_true.len())?;
    finite("y_true", y_true)?;
    finite("y_pred", y_pred)?;
    weights(weight, y_true.len())?;
    let pairs = || y_true.iter().zip(y_pred);
    let mse = weighted_mean(pairs().map(|(&y, &p)| (y - p) * (y - p)), weight);
    let mae = weighted_mean(pairs().map(|(&y, &p)| (y - p).abs()), weight);
    Ok(WeightedRegressionMetrics {
        rmse: mse.sqrt(),
        mae,
        r2: weighted_r2(y_true, y_pred, weight),
    })
}

/// `1 - sum(w (y - p)^2) / sum(w (y - avg_w(y))^2)`.
fn weighted_r2(y_true: &[f64], y_pred: &[f64], w: &[f64]) -> Option<f64> {
    if y_true.len() < 2 {
        return None;
    }
    let sse: f64 = y_true
        .iter()
        .zip(y_pred)
        .zip(w)
        .map(|((&y, &p), &w)| w * (y - p) * (y - p))
        .sum();
    // Equal targets (where weights are positive) give a zero denominator exactly.
    let mut weighted = y_true.iter().zip(w).filter(|&(_, &w)| w > 0.0);
    let first = weighted.next().map(|(&y, _)| y);
    let sst = if weighted.all(|(&y, _)| Some(y) == first) {
        0.0
    } else {
        let m = weighted_mean(y_true.iter().copied(), w);
        y_true
            .iter()
            .zip(w)
            .map(|(&y, &w)| w * (y - m) * (y - m))
            .sum()
    };
    Some(match (sse == 0.0, sst == 0.0) {
        (true, _) => 1.0,
        (false, true) => 0.0,
        (false, false) => 1.0 - sse / sst,
    })
}

/// Weighted binary metrics; `y_true` labels 0/1, `p_pos` = P(class 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedBinaryMetrics {
    /// `None` when either class has no positive weight (sklearn returns nan).
    pub roc_auc: Option<f64>,
    pub log_loss: f64,
    pub brier: f64,
    /// Positive when `p_pos >= threshold`.
    pub accuracy: f64,
}

impl WeightedBinaryMetrics {
    /// Keys: weighted_roc_auc (left out when undefined), weighted_log_loss,
    /// weighted_brier, weighted_accuracy.
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        let mut map = BTreeMap::new();
        if let Some(v) = self.roc_auc {
            map.insert("weighted_roc_auc".to_string(), v);
        }
        map.insert("weighted_log_loss".to_string(), self.log_loss);
        map.insert("weighted_brier".to_string(), self.brier);
        map.insert("weighted_accuracy".to_string(), self.accuracy);
        map
    }
}

pub fn weighted_binary_metrics(
    y_true: &[f64],
    p_pos: &[f64],
    weight: &[f64],
    threshold: f64,
) -> Result<WeightedBinaryMetrics, EvalError> {
    crate::binary::validate(y_true, p_pos)?;
    weights(weight, y_true.len())?;
    if threshold.is_nan() {
        return Err(EvalError::InvalidThreshold { found: threshold });
    }
    let pairs = || y_true.iter().zip(p_pos);
    let correct = |(&y, &p): (&f64, &f64)| f64::from(u8::from((p >= threshold) == (y == 1.0)));
    Ok(WeightedBinaryMetrics {
        roc_auc: weighted_roc_auc(y_true, p_pos, weight),
        log_loss: weighted_mean(
            pairs().map(|(&y, &p)| crate::binary::row_log_loss(y, p)),
            weight,
        ),
        brier: weighted_mean(pairs().map(|(&y, &p)| (y - p) * (y - p)), weight),
        accuracy: weighted_mean(pairs().map(correct), weight),
    })
}

/// The trapezoid under the weighted ROC curve: ties at one score are one step, so a
/// positive and a negative with equal scores count half (sklearn's `roc_auc_score`).
fn weighted_roc_auc(y_true: &[f64], p_pos: &[f64], w: &[f64]) -> Option<f64> {
    let mut order: Vec<usize> = (0..p_pos.len()).filter(|&i| w[i] > 0.0).collect();
    order.sort_by(|&a, &b| p_pos[b].total_cmp(&p_pos[a]));
    let (mut tp, mut fp, mut prev_tp, mut prev_fp, mut area2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (pos, &i) in order.iter().enumerate() {
        if y_true[i] == 1.0 {
            tp += w[i];
        } else {
            fp += w[i];
        }
        // Group by `==` so that -0.0 and 0.0 tie, as in numpy.
        let last_of_group = order
            .get(pos + 1)
            .is_none_or(|&next| p_pos[next] != p_pos[i]);
        if last_of_group {
            area2 += (fp - prev_fp) * (tp + prev_tp);
            (prev_tp, prev_fp) = (tp, fp);
        }
    }
    (tp > 0.0 && fp > 0.0).then(|| area2 / (2.0 * tp * fp))
}

/// Weighted multiclass metrics; `proba` is `n_rows x n_classes` row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedMulticlassMetrics {
    /// The predicted class is the first argmax of a row.
    pub accuracy: f64,
    pub log_loss: f64,
}

impl WeightedMulticlassMetrics {
    /// Keys: weighted_accuracy, weighted_log_loss.
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        let mut map = BTreeMap::new();
        map.insert("weighted_accuracy".to_string(), self.accuracy);
        map.insert("weighted_log_loss".to_string(), self.log_loss);
        map
    }
}

pub fn weighted_multiclass_metrics(
    y_true: &[usize],
    proba: &[f64],
    n_classes: usize,
    weight: &[f64],
) -> Result<WeightedMulticlassMetrics, EvalError> {
    crate::multiclass::validate(y_true, proba, n_classes)?;
    weights(weight, y_true.len())?;
    let rows = || y_true.iter().zip(proba.chunks_exact(n_classes));
    let correct = |(&y, row): (&usize, &[f64])| f64::from(u8::from(argmax(row) == y));
    Ok(WeightedMulticlassMetrics {
        accuracy: weighted_mean(rows().map(correct), weight),
        log_loss: weighted_mean(
            rows().map(|(&y, row)| crate::multiclass::row_log_loss(row, y)),
            weight,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_weights_give_the_unweighted_metrics() {
        let y = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
        let p = [0.1, 0.8, 0.4, 0.4, 0.9, 0.7];
        let w = [1.0; 6];
        let ours = weighted_binary_metrics(&y, &p, &w, 0.5).expect("valid");
        let plain = crate::binary_metrics(&y, &p, 0.5).expect("valid");
        assert_eq!(ours.roc_auc, plain.roc_auc);
        assert!((ours.log_loss - plain.log_loss).abs() < 1e-15);
        assert!((ours.brier - plain.brier).abs() < 1e-15);
        assert_eq!(ours.accuracy, plain.accuracy);
        let r = weighted_regression_metrics(&y, &p, &w).expect("valid");
        let plain = crate::regression_metrics(&y, &p).expect("valid");
        assert!((r.rmse - plain.rmse).abs() < 1e-15);
        assert!((r.r2.expect("r2") - plain.r2.expect("r2")).abs() < 1e-15);
    }

    #[test]
    fn a_weight_of_two_counts_a_row_twice() {
        let (y, p) = ([1.0, 2.0, 4.0], [1.5, 2.0, 3.0]);
        let twice = weighted_regression_metrics(&y, &p, &[2.0, 1.0, 1.0]).expect("valid");
        let plain =
            crate::regression_metrics(&[1.0, 1.0, 2.0, 4.0], &[1.5, 1.5, 2.0, 3.0]).expect("ok");
        assert!((twice.rmse - plain.rmse).abs() < 1e-15);
        assert!((twice.mae - plain.mae).abs() < 1e-15);
        assert!((twice.r2.expect("r2") - plain.r2.expect("r2")).abs() < 1e-15);
    }

    #[test]
    fn bad_weights_are_errors() {
        let (y, p) = ([1.0, 2.0], [1.0, 2.0]);
        let err = |w: &[f64]| weighted_regression_metrics(&y, &p, w).err();
        assert_eq!(err(&[0.0, 0.0]), Some(EvalError::ZeroWeights));
        assert!(matches!(
            err(&[1.0, -1.0]),
            Some(EvalError::OutOfDomain { index: 1, .. })
        ));
        assert!(matches!(
            err(&[f64::NAN, 1.0]),
            Some(EvalError::NonFinite { index: 0, .. })
        ));
        assert!(matches!(
            err(&[1.0]),
            Some(EvalError::LengthMismatch { .. })
        ));
    }
}
