//! Multiclass metrics, matching scikit-learn with `labels = 0..n_classes`.
//!
//! Inputs: `y_true` class indices and `proba`, `n_rows x n_classes` row-major.
//! The predicted class is the argmax of a row; the first maximum wins (numpy).
//! Rows are not required to sum to 1 (sklearn only warns).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::check::{mean, non_empty, probabilities, same_len};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassMetrics {
    pub accuracy: f64,
    /// Unweighted mean of per-class F1 over all `n_classes` classes, absent ones included
    /// (a class never true nor predicted scores 0, sklearn `zero_division=0`).
    pub f1_macro: f64,
    /// Per-class F1 weighted by the class's count in `y_true`.
    pub f1_weighted: f64,
    /// Mean of -ln(p[true class]) with p clipped to `[eps, 1 - eps]`, eps = f64::EPSILON.
    pub log_loss: f64,
    /// `confusion[true][predicted]`, `n_classes x n_classes` (sklearn layout).
    pub confusion: Vec<Vec<u64>>,
}

impl MulticlassMetrics {
    /// Keys: accuracy, f1_macro, f1_weighted, log_loss.
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        [
            ("accuracy", self.accuracy),
            ("f1_macro", self.f1_macro),
            ("f1_weighted", self.f1_weighted),
            ("log_loss", self.log_loss),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// Validate inputs once and compute every multiclass metric.
pub fn multiclass_metrics(
    y_true: &[usize],
    proba: &[f64],
    n_classes: usize,
) -> Result<MulticlassMetrics, EvalError> {
    validate(y_true, proba, n_classes)?;

    let mut confusion = vec![vec![0u64; n_classes]; n_classes];
    for (&y, row) in y_true.iter().zip(proba.chunks_exact(n_classes)) {
        confusion[y][argmax(row)] += 1;
    }
    let n = y_true.len();
    let correct: u64 = (0..n_classes).map(|c| confusion[c][c]).sum();
    let true_counts: Vec<u64> = confusion.iter().map(|r| r.iter().sum()).collect();
    let f1: Vec<f64> = (0..n_classes)
        .map(|c| {
            let pred_count: u64 = confusion.iter().map(|r| r[c]).sum();
            let den = true_counts[c] + pred_count;
            if den == 0 {
                0.0
            } else {
                2.0 * confusion[c][c] as f64 / den as f64
            }
        })
        .collect();
    let f1_weighted = f1
        .iter()
        .zip(&true_counts)
        .map(|(f, &w)| f * w as f64)
        .sum::<f64>()
        / n as f64;
    let losses = y_true
        .iter()
        .zip(proba.chunks_exact(n_classes))
        .map(|(&y, row)| row_log_loss(row, y));
    Ok(MulticlassMetrics {
        accuracy: correct as f64 / n as f64,
        f1_macro: mean(f1.iter().copied(), n_classes),
        f1_weighted,
        log_loss: mean(losses, n),
        confusion,
    })
}

/// Checks labels against `n_classes` and the probability matrix's shape and values.
pub(crate) fn validate(y_true: &[usize], proba: &[f64], n_classes: usize) -> Result<(), EvalError> {
    if n_classes < 2 {
        return Err(EvalError::TooFewClasses { found: n_classes });
    }
    non_empty("y_true", y_true.len())?;
    let expected = y_true.len().saturating_mul(n_classes);
    same_len("proba (n_rows x n_classes)", expected, proba.len())?;
    if let Some(index) = y_true.iter().position(|&c| c >= n_classes) {
        return Err(EvalError::ClassOutOfRange {
            what: "y_true",
            index,
            value: y_true[index].to_string(),
            n_classes,
        });
    }
    probabilities("proba", proba)
}

/// One row's log loss: -ln(p[true class]), p clipped to `[eps, 1 - eps]`, eps = f64::EPSILON.
pub(crate) fn row_log_loss(row: &[f64], y: usize) -> f64 {
    let eps = f64::EPSILON;
    -row[y].clamp(eps, 1.0 - eps).ln()
}

/// Index of the first maximum of a non-empty row.
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Convert class indices stored as f64 (capstan-learn's target layout) to `usize`.
pub fn class_indices(y: &[f64], n_classes: usize) -> Result<Vec<usize>, EvalError> {
    y.iter()
        .enumerate()
        .map(|(index, &v)| {
            if v >= 0.0 && v.fract() == 0.0 && v < n_classes as f64 {
                Ok(v as usize)
            } else {
                Err(EvalError::ClassOutOfRange {
                    what: "y",
                    index,
                    value: v.to_string(),
                    n_classes,
                })
            }
        })
        .collect()
}
