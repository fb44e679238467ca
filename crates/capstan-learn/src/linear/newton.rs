//! Inexact Newton (Newton-CG) for the smooth logistic objectives (L2 or no penalty).
//!
//! Each step solves `H s = -g` by conjugate gradients preconditioned with diag(H), to a
//! relative residual `min(0.5, sqrt(||g||))` (superlinear convergence), then backtracks
//! (Armijo) along `s`. Stops when `max |g| <= tol`.

use super::FitInfo;
use super::logistic::Logistic;

/// Relative slack on objective comparisons, above the summation round-off of the loss.
const F_SLACK: f64 = 1e-13;

/// The current iterate: coefficients, their predictors and the objective there.
pub(super) struct Point<'a> {
    pub theta: &'a [f64],
    pub z: &'a [f64],
    pub f: f64,
}

/// Armijo backtracking along `(step, dz)` (coefficients, predictors) from `at`, halving
/// `t` from 1 up to 40 times; `sufficient` is the required first-order decrease at t = 1.
/// On success the accepted point is left in `out` and its objective is returned.
pub(super) fn backtrack(
    prob: &Logistic,
    at: &Point<'_>,
    (step, dz): (&[f64], &[f64]),
    sufficient: f64,
    (theta_try, z_try): (&mut [f64], &mut [f64]),
) -> Option<f64> {
    let mut t = 1.0;
    for _ in 0..40 {
        for (i, zt) in z_try.iter_mut().enumerate() {
            *zt = at.z[i] + t * dz[i];
        }
        for (i, th) in theta_try.iter_mut().enumerate() {
            *th = at.theta[i] + t * step[i];
        }
        let f_try = prob.loss(z_try, None) + prob.penalty(theta_try);
        if f_try <= at.f + t * sufficient + F_SLACK * at.f.abs() {
            return Some(f_try);
        }
        t *= 0.5;
    }
    None
}

pub(super) fn minimize(prob: &Logistic, theta: &mut [f64], tol: f64, max_iter: usize) -> FitInfo {
    let (n, k, dim) = (prob.n(), prob.k, prob.dim());
    let mut z = vec![0.0; k * n];
    let mut probs = vec![0.0; k * n];
    let mut scratch = vec![0.0; k * n];
    let mut z_try = vec![0.0; k * n];
    let mut u = vec![0.0; k * n];
    let mut s_row = vec![0.0; n];
    let mut g = vec![0.0; dim];
    let mut diag = vec![0.0; dim];
    let mut theta_try = vec![0.0; dim];

    prob.predictor(theta, &mut z);
    let mut f = prob.loss(&z, Some(&mut probs)) + prob.penalty(theta);
    for iter in 0..=max_iter {
        prob.gradient(&probs, theta, &mut scratch, &mut g);
        if max_abs(&g) <= tol {
            return FitInfo {
                n_iter: iter,
                converged: true,
            };
        }
        if iter == max_iter {
            return stalled(iter);
        }
        prob.hess_diag(&probs, &mut scratch, &mut diag);
        let step = conjugate_gradient(prob, &probs, &g, &diag, &mut scratch, &mut s_row);
        let slope: f64 = g.iter().zip(&step).map(|(a, b)| a * b).sum();

        if slope.is_nan() || slope >= 0.0 {
            return stalled(iter);
        }
        // Predictors move linearly along the step: z(t) = z + t * X step.
        prob.predictor(&step, &mut u);
        let point = Point { theta, z: &z, f };
        let Some(f_new) = backtrack(
            prob,
            &point,
            (&step, &u),
            1e-4 * slope,
            (&mut theta_try, &mut z_try),
        ) else {
            return stalled(iter);
        };
        f = f_new;
        theta.copy_from_slice(&theta_try);
        std::mem::swap(&mut z, &mut z_try);
        prob.loss(&z, Some(&mut probs));
    }
    stalled(max_iter)
}

pub(super) fn stalled(n_iter: usize) -> FitInfo {
    FitInfo {
        n_iter,
        converged: false,
    }
}

/// Approximately solves `H s = -g`; `scratch` (`k x n`) and `s_row` (`n`) are work space.
fn conjugate_gradient(
    prob: &Logistic,
    probs: &[f64],
    g: &[f64],
    diag: &[f64],
    scratch: &mut [f64],
    s_row: &mut [f64],
) -> Vec<f64> {
    let dim = g.len();
    let g_norm = norm2(g);
    let target = g_norm.sqrt().min(0.5) * g_norm;
    let max_steps = (2 * dim).clamp(50, 1000);
    let precondition = |r: &[f64]| -> Vec<f64> {
        r.iter()
            .zip(diag)
            .map(|(r, d)| if *d > 0.0 { r / d } else { *r })
            .collect()
    };
    let mut r: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut zv = precondition(&r);
    let mut d = zv.clone();
    let mut rz: f64 = dot(&r, &zv);
    let mut s = vec![0.0; dim];
    let mut hd = vec![0.0; dim];
    for step in 0..max_steps {
        prob.hess_vec(probs, &d, scratch, s_row, &mut hd);
        let curvature = dot(&d, &hd);
        let d_scale: f64 = d.iter().zip(diag).map(|(a, b)| a * a * b.max(0.0)).sum();
        if curvature.is_nan() || curvature <= 1e-12 * d_scale {
            // Flat or negative direction (no penalty, collinear columns): stop here.
            if step == 0 {
                s = zv;
            }
            break;
        }
        let alpha = rz / curvature;
        for i in 0..dim {
            s[i] += alpha * d[i];
            r[i] -= alpha * hd[i];
        }
        if norm2(&r) <= target {
            break;
        }
        zv = precondition(&r);
        let rz_next = dot(&r, &zv);
        let beta = rz_next / rz;
        rz = rz_next;
        for i in 0..dim {
            d[i] = zv[i] + beta * d[i];
        }
    }
    s
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

pub(super) fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}
