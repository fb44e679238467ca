//! Summary statistics used by imputation and scaling, in a fixed summation order.

/// Neumaier-compensated sum: deterministic and accurate to about one rounding.
pub(crate) fn sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut total = 0.0f64;
    let mut comp = 0.0f64;
    for v in values {
        let t = total + v;
        if total.abs() >= v.abs() {
            comp += (total - t) + v;
        } else {
            comp += (v - t) + total;
        }
        total = t;
    }
    total + comp
}

/// Arithmetic mean; `None` when empty.
pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(sum(values.iter().copied()) / values.len() as f64)
}

/// Median like numpy: the middle value, or the mean of the two middle values for even
/// counts. Reorders `values`, which must hold no NaN; `None` when empty.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (_, &mut high, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        return Some(high);
    }
    // The lower middle is the largest value left of `mid` after selection.
    let low = values[..mid]
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(high);
    Some((low + high) / 2.0)
}

/// Mean and population variance as scikit-learn's StandardScaler computes them:
/// `var = (sum(d^2) - sum(d)^2 / n) / n` with `d = x - mean`. `None` when empty.
pub(crate) fn mean_and_var(values: &[f64]) -> Option<(f64, f64)> {
    let m = mean(values)?;
    let n = values.len() as f64;
    let correction = sum(values.iter().map(|&x| x - m));
    let squares = sum(values.iter().map(|&x| (x - m) * (x - m)));
    let var = (squares - correction * correction / n) / n;
    Some((m, var.max(0.0)))
}

/// scikit-learn's `_is_constant_feature`: the variance is within the rounding error of
/// the two-pass algorithm, so the column is treated as constant.
pub(crate) fn is_constant(var: f64, mean: f64, n: usize) -> bool {
    let n = n as f64;
    let eps = f64::EPSILON;
    let bound = n * eps * var + (n * mean * eps) * (n * mean * eps);
    var <= bound
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut [5.0]), Some(5.0));
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [1.0, 1.0, 7.0, 7.0]), Some(4.0));
    }

    #[test]
    fn compensated_sum_is_accurate() {
        let v = [1e16, 1.0, -1e16, 1.0];
        assert_eq!(sum(v), 2.0);
    }

    #[test]
    fn variance_matches_definition() {
        let (m, v) = mean_and_var(&[1.0, 2.0, 3.0, 4.0]).unwrap_or((0.0, 0.0));
        assert_eq!(m, 2.5);
        assert_eq!(v, 1.25);
        assert!(is_constant(0.0, 3.0, 10));
        assert!(!is_constant(1.25, 2.5, 4));
    }
}
