//! Linear regression: least squares and ridge in closed form, lasso / elastic net by
//! coordinate descent (see `enet`). With an intercept, `x` and `y` are centered first and
//! `intercept = mean(y) - mean(x) . w`, as scikit-learn does.

use super::cholesky::Cholesky;
use super::colmat::{ColMatrix, dot};
use super::{FitInfo, LinearModel, LinearParams, Penalty, enet};
use crate::{LearnError, Task};
use capstan_frame::Matrix;

/// A pivot this small relative to its diagonal entry counts as singular.
const REL_PIVOT: f64 = 1e-11;

pub(super) fn fit(
    x: &Matrix,
    y: &[f64],
    params: &LinearParams,
) -> Result<(LinearModel, FitInfo), LearnError> {
    let mut cols = ColMatrix::from_rows(x);
    let n = x.n_rows as f64;
    let (x_means, y_mean) = if params.fit_intercept {
        (cols.center(), y.iter().sum::<f64>() / n)
    } else {
        (vec![0.0; x.n_cols], 0.0)
    };
    let yc: Vec<f64> = y.iter().map(|v| v - y_mean).collect();
    let (w, info) = match params.penalty {
        Penalty::None => (ridge(&cols, &yc, 0.0)?, closed_form()),
        Penalty::L2 => (ridge(&cols, &yc, params.alpha)?, closed_form()),
        Penalty::L1 => enet::fit(&cols, &yc, params.alpha, 1.0, params.tol, params.max_iter),
        Penalty::ElasticNet => enet::fit(
            &cols,
            &yc,
            params.alpha,
            params.l1_ratio,
            params.tol,
            params.max_iter,
        ),
    };
    let intercept = if params.fit_intercept {
        y_mean - dot(&x_means, &w)
    } else {
        0.0
    };
    let model = LinearModel {
        task: Task::Regression,
        n_features: x.n_cols,
        coefficients: w,
        intercepts: vec![intercept],
    };
    Ok((model, info))
}

fn closed_form() -> FitInfo {
    FitInfo {
        n_iter: 0,
        converged: true,
    }
}

/// Minimizes `||y - X w||^2 + alpha ||w||^2` via the normal equations, with columns scaled
/// to unit norm for conditioning and one step of iterative refinement.
///
/// When `X^T X + alpha I` is numerically singular (collinear or constant columns with
/// `alpha` ~ 0), the least-squares solution is not unique: we then solve with a tiny ridge
/// `1e-10 * mean(diag(X^T X))` (grown 100x until the factorization succeeds), which
/// approximates the minimum-norm solution that scikit-learn's `LinearRegression` returns.
fn ridge(cols: &ColMatrix, y: &[f64], alpha: f64) -> Result<Vec<f64>, LearnError> {
    let p = cols.n_cols;
    if p == 0 {
        return Ok(Vec::new());
    }
    let gram = cols.gram();
    let mut rhs = vec![0.0; p];
    cols.xt_mul(y, 1, &mut rhs);
    let scale: Vec<f64> = (0..p)
        .map(|j| {
            let d = gram[j * p + j];
            if d > 0.0 { 1.0 / d.sqrt() } else { 1.0 }
        })
        .collect();
    let mut a = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            a[i * p + j] = scale[i] * gram[i * p + j] * scale[j];
        }
        a[i * p + i] += alpha * scale[i] * scale[i];
    }
    let b: Vec<f64> = (0..p).map(|j| scale[j] * rhs[j]).collect();
    if let Some(chol) = Cholesky::factor(&a, p, REL_PIVOT) {
        let u = refined_solve(&chol, &a, &b);
        return Ok(u.iter().zip(&scale).map(|(u, s)| u * s).collect());
    }
    let mean_diag = (0..p).map(|j| gram[j * p + j]).sum::<f64>() / p as f64;
    if mean_diag == 0.0 {
        return Ok(vec![0.0; p]);
    }
    let mut eps = 1e-10 * mean_diag;
    for _ in 0..4 {
        let mut a = gram.clone();
        for j in 0..p {
            a[j * p + j] += alpha + eps;
        }
        if let Some(chol) = Cholesky::factor(&a, p, 0.0) {
            return Ok(refined_solve(&chol, &a, &rhs));
        }
        eps *= 100.0;
    }
    Err(LearnError::InvalidData(
        "x is numerically singular: least squares has no stable solution".into(),
    ))
}

fn refined_solve(chol: &Cholesky, a: &[f64], b: &[f64]) -> Vec<f64> {
    let p = b.len();
    let mut u = chol.solve(b);
    let resid: Vec<f64> = (0..p)
        .map(|i| b[i] - dot(&a[i * p..(i + 1) * p], &u))
        .collect();
    let du = chol.solve(&resid);
    u.iter_mut().zip(du).for_each(|(u, d)| *u += d);
    u
}
