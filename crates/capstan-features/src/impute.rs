//! Imputation: the fill value for nulls of one numeric series (linear mode).

use crate::{Imputation, stats};

/// The fill value for a series whose non-null training values are `observed`
/// (reordered). With no observed value, the constant fill, else 0.
pub(crate) fn fill_value(method: Imputation, constant: f64, observed: &mut [f64]) -> f64 {
    let fill = match method {
        Imputation::Median => stats::median(observed),
        Imputation::Mean => stats::mean(observed),
        Imputation::Constant => Some(constant),
    };
    fill.unwrap_or(match method {
        Imputation::Constant => constant,
        _ => 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods() {
        let mut v = vec![1.0, 10.0, 2.0, 3.0];
        assert_eq!(fill_value(Imputation::Median, 0.0, &mut v), 2.5);
        assert_eq!(fill_value(Imputation::Mean, 0.0, &mut v), 4.0);
        assert_eq!(fill_value(Imputation::Constant, -7.5, &mut v), -7.5);
        assert_eq!(fill_value(Imputation::Median, 0.0, &mut []), 0.0);
        assert_eq!(fill_value(Imputation::Constant, 3.0, &mut []), 3.0);
    }
}
