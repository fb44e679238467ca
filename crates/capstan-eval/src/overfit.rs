//! A plain-English warning when validation is much worse than train.

use crate::higher_is_better;

/// Largest allowed train - valid gap for scores in [0, 1] (AUC, accuracy, F1, R^2, ...).
pub const MAX_SCORE_GAP: f64 = 0.05;
/// Largest allowed valid / train ratio for error metrics (log loss, RMSE, ...).
pub const MAX_ERROR_RATIO: f64 = 1.25;

/// `Some(message)` when `valid` is much worse than `train`: a score more than
/// [`MAX_SCORE_GAP`] below train, or an error more than [`MAX_ERROR_RATIO`] times train.
/// `None` for unknown metric names and non-finite values.
pub fn overfit_warning(metric: &str, train: f64, valid: f64) -> Option<String> {
    if !crate::KNOWN_METRICS.contains(&metric) || !train.is_finite() || !valid.is_finite() {
        return None;
    }
    if higher_is_better(metric) {
        let gap = train - valid;
        (gap > MAX_SCORE_GAP).then(|| {
            format!(
                "possible overfitting: {metric} is {} on train but {} held out \
                 (gap {}, warning above {MAX_SCORE_GAP})",
                num(train),
                num(valid),
                num(gap)
            )
        })
    } else {
        (valid > MAX_ERROR_RATIO * train && valid > train).then(|| {
            let ratio = if train > 0.0 {
                format!("{:.2}x the train value", valid / train)
            } else {
                "train is a perfect 0".to_string()
            };
            format!(
                "possible overfitting: {metric} is {} on train but {} held out \
                 ({ratio}, warning above {MAX_ERROR_RATIO}x; lower is better)",
                num(train),
                num(valid)
            )
        })
    }
}

/// Four decimals in the usual range, scientific notation outside it.
fn num(v: f64) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_score_gap() {
        let msg = overfit_warning("roc_auc", 0.99, 0.90);
        assert_eq!(
            msg.as_deref(),
            Some(
                "possible overfitting: roc_auc is 0.9900 on train but 0.9000 held out \
                 (gap 0.0900, warning above 0.05)"
            )
        );
        assert_eq!(overfit_warning("accuracy", 0.90, 0.86), None);
        // Validation better than train is never flagged.
        assert_eq!(overfit_warning("f1", 0.7, 0.9), None);
    }

    #[test]
    fn flags_error_ratio() {
        let msg = overfit_warning("rmse", 1.0, 1.5);
        assert_eq!(
            msg.as_deref(),
            Some(
                "possible overfitting: rmse is 1.0000 on train but 1.5000 held out \
                 (1.50x the train value, warning above 1.25x; lower is better)"
            )
        );
        assert_eq!(overfit_warning("log_loss", 0.4, 0.45), None);
        let zero = overfit_warning("mae", 0.0, 2e-7);
        assert!(zero.is_some_and(|m| m.contains("train is a perfect 0") && m.contains("2.000e-7")));
        assert_eq!(overfit_warning("mae", 0.0, 0.0), None);
    }

    #[test]
    fn ignores_unknown_and_non_finite() {
        assert_eq!(overfit_warning("speed", 1.0, 100.0), None);
        assert_eq!(overfit_warning("rmse", f64::NAN, 1.0), None);
        assert_eq!(overfit_warning("roc_auc", 0.9, f64::INFINITY), None);
    }
}
