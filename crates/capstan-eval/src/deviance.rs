//! Deviances of log-link regression (Poisson, gamma, Tweedie) and the pinball loss, matching
//! scikit-learn's `mean_tweedie_deviance` family and `mean_pinball_loss`.

use crate::EvalError;
use crate::check::{finite, mean, non_empty, same_len, weighted_mean, weights};

fn domain(
    what: &'static str,
    values: &[f64],
    ok: impl Fn(f64) -> bool,
    expected: &'static str,
) -> Result<(), EvalError> {
    match values.iter().position(|&v| !ok(v)) {
        Some(index) => Err(EvalError::OutOfDomain {
            what,
            index,
            value: values[index],
            expected,
        }),
        None => Ok(()),
    }
}

fn inputs(y_true: &[f64], y_pred: &[f64]) -> Result<(), EvalError> {
    same_len("y_pred", y_true.len(), y_pred.len())?;
    non_empty("y_true", y_true.len())?;
    finite("y_true", y_true)?;
    finite("y_pred", y_pred)
}

/// Unit deviance of prediction `mu` at `power` (checked by the caller).
fn unit_deviance(y: f64, mu: f64, power: f64) -> f64 {
    if power == 0.0 {
        (y - mu) * (y - mu)
    } else if power == 1.0 {
        let ylogy = if y == 0.0 { 0.0 } else { y * (y / mu).ln() };
        2.0 * (ylogy - y + mu)
    } else if power == 2.0 {
        2.0 * ((mu / y).ln() + y / mu - 1.0)
    } else {
        let (a, b) = (1.0 - power, 2.0 - power);
        2.0 * (y.max(0.0).powf(b) / (a * b) - y * mu.powf(a) / a + mu.powf(b) / b)
    }
}

/// Mean Tweedie deviance. `power` 0: squared error (any values); < 0: `y_pred > 0`;
/// [1, 2): `y_true >= 0`, `y_pred > 0`; >= 2: both > 0; (0, 1) is undefined.
pub fn mean_tweedie_deviance(y_true: &[f64], y_pred: &[f64], power: f64) -> Result<f64, EvalError> {
    tweedie_inputs(y_true, y_pred, power)?;
    let n = y_true.len();
    Ok(mean(tweedie_terms(y_true, y_pred, power), n))
}

/// [`mean_tweedie_deviance`] with a weight per row (scikit-learn's `sample_weight`):
/// `sum(w * d) / sum(w)`. Weights must be finite, >= 0 and not all zero.
pub fn weighted_mean_tweedie_deviance(
    y_true: &[f64],
    y_pred: &[f64],
    power: f64,
    weight: &[f64],
) -> Result<f64, EvalError> {
    tweedie_inputs(y_true, y_pred, power)?;
    weights(weight, y_true.len())?;
    Ok(weighted_mean(tweedie_terms(y_true, y_pred, power), weight))
}

fn tweedie_inputs(y_true: &[f64], y_pred: &[f64], power: f64) -> Result<(), EvalError> {
    inputs(y_true, y_pred)?;
    if !power.is_finite() || (power > 0.0 && power < 1.0) {
        return Err(EvalError::InvalidParameter {
            name: "power",
            value: power,
            expected: "a number <= 0 or >= 1",
        });
    }
    if !(0.0..1.0).contains(&power) {
        domain("y_pred", y_pred, |v| v > 0.0, "a value > 0")?;
    }
    if (1.0..2.0).contains(&power) {
        domain("y_true", y_true, |v| v >= 0.0, "a value >= 0")?;
    } else if power >= 2.0 {
        domain("y_true", y_true, |v| v > 0.0, "a value > 0")?;
    }
    Ok(())
}

fn tweedie_terms<'a>(
    y_true: &'a [f64],
    y_pred: &'a [f64],
    power: f64,
) -> impl Iterator<Item = f64> + 'a {
    y_true
        .iter()
        .zip(y_pred)
        .map(move |(&y, &p)| unit_deviance(y, p, power))
}

/// Mean Poisson deviance (`y_true >= 0`, `y_pred > 0`).
pub fn mean_poisson_deviance(y_true: &[f64], y_pred: &[f64]) -> Result<f64, EvalError> {
    mean_tweedie_deviance(y_true, y_pred, 1.0)
}

/// Mean gamma deviance (`y_true > 0`, `y_pred > 0`).
pub fn mean_gamma_deviance(y_true: &[f64], y_pred: &[f64]) -> Result<f64, EvalError> {
    mean_tweedie_deviance(y_true, y_pred, 2.0)
}

/// Mean pinball loss of quantile `alpha` in [0, 1]: `alpha * (y - p)` above the prediction,
/// `(1 - alpha) * (p - y)` below.
pub fn mean_pinball_loss(y_true: &[f64], y_pred: &[f64], alpha: f64) -> Result<f64, EvalError> {
    pinball_inputs(y_true, y_pred, alpha)?;
    let n = y_true.len();
    Ok(mean(pinball_terms(y_true, y_pred, alpha), n))
}

/// [`mean_pinball_loss`] with a weight per row (scikit-learn's `sample_weight`).
pub fn weighted_mean_pinball_loss(
    y_true: &[f64],
    y_pred: &[f64],
    alpha: f64,
    weight: &[f64],
) -> Result<f64, EvalError> {
    pinball_inputs(y_true, y_pred, alpha)?;
    weights(weight, y_true.len())?;
    Ok(weighted_mean(pinball_terms(y_true, y_pred, alpha), weight))
}

fn pinball_inputs(y_true: &[f64], y_pred: &[f64], alpha: f64) -> Result<(), EvalError> {
    inputs(y_true, y_pred)?;
    if !(0.0..=1.0).contains(&alpha) {
        return Err(EvalError::InvalidParameter {
            name: "alpha",
            value: alpha,
            expected: "a number in [0, 1]",
        });
    }
    Ok(())
}

fn pinball_terms<'a>(
    y_true: &'a [f64],
    y_pred: &'a [f64],
    alpha: f64,
) -> impl Iterator<Item = f64> + 'a {
    y_true.iter().zip(y_pred).map(move |(&y, &p)| {
        let d = y - p;
        if d >= 0.0 {
            alpha * d
        } else {
            (alpha - 1.0) * d
        }
    })
}
