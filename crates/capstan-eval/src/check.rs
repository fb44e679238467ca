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
