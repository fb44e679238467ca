//! The population stability index, one definition for validation rules and dataset diffs:
//! PSI = sum over bins i of (a_i - r_i) * ln(a_i / r_i), where r_i and a_i are the shares of
//! the reference and the compared rows in bin i, each raised to at least `PSI_EPSILON` so
//! that empty bins stay finite. Every term is >= 0. Rule of thumb: below 0.1 stable, 0.1 to
//! 0.25 a moderate shift, above 0.25 a major one.

/// Floor of a bin's share in the PSI sum.
pub const PSI_EPSILON: f64 = 1e-4;

/// One PSI term, shares floored at `PSI_EPSILON`.
pub fn psi_term(reference: f64, actual: f64) -> f64 {
    let r = reference.max(PSI_EPSILON);
    let a = actual.max(PSI_EPSILON);
    (a - r) * (a / r).ln()
}

/// Shares of a count vector (all zero when the total is zero).
pub fn shares(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    if total == 0.0 {
        return vec![0.0; counts.len()];
    }
    counts.iter().map(|c| c / total).collect()
}

/// PSI of two count vectors over the same bins; `None` when either side is empty.
pub fn psi(reference: &[f64], actual: &[f64]) -> Option<f64> {
    let (tr, ta): (f64, f64) = (reference.iter().sum(), actual.iter().sum());
    if tr <= 0.0 || ta <= 0.0 {
        return None;
    }
    Some(
        reference
            .iter()
            .zip(actual)
            .map(|(&r, &a)| psi_term(r / tr, a / ta))
            .sum(),
    )
}
