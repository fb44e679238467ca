//! Input validation shared by the metric modules.

use crate::EvalError;

pub(crate) fn same_len(what: &'static str, expected: usize, found: usize) -> Result<(), EvalError> {
    if expected != found {
        return Err(EvalError::LengthMismatch {
            what,
            expected,
            found,
        });
    }
    Ok(())
}

pub(crate) fn non_empty(what: &'static str, n: usize) -> Result<(), EvalError> {
    if n == 0 {
        return Err(EvalError::Empty { what });
    }
    Ok(())
}

/// Every value in `[0, 1]` (nan and infinities rejected).
pub(crate) fn probabilities(what: &'static str, p: &[f64]) -> Result<(), EvalError> {
    match p.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(index) => Err(EvalError::ProbabilityOutOfRange {
            what,
            index,
            value: p[index],
        }),
        None => Ok(()),
    }
}

pub(crate) fn finite(what: &'static str, x: &[f64]) -> Result<(), EvalError> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(EvalError::NonFinite {
            what,
            index,
            value: x[index],
        }),
        None => Ok(()),
    }
}

/// Mean of a non-empty slice (callers check emptiness).
pub(crate) fn mean(values: impl Iterator<Item = f64>, n: usize) -> f64 {
    values.sum::<f64>() / n as f64
}

/// Row weights: one per row, finite, >= 0 and not all zero.
pub(crate) fn weights(w: &[f64], n: usize) -> Result<(), EvalError> {
    same_len("sample_weight", n, w.len())?;
    finite("sample_weight", w)?;
    if let Some(index) = w.iter().position(|&v| v < 0.0) {
        return Err(EvalError::OutOfDomain {
            what: "sample_weight",
            index,
            value: w[index],
            expected: "a weight >= 0",
        });
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(EvalError::ZeroWeights);
    }
    Ok(())
}

/// `sum(w * v) / sum(w)` (numpy's `average` with weights); callers check the weights.
pub(crate) fn weighted_mean(values: impl Iterator<Item = f64>, w: &[f64]) -> f64 {
    let total: f64 = values.zip(w).map(|(v, &w)| v * w).sum();
    total / w.iter().sum::<f64>()
}
