//! Logistic loss (binary sigmoid or full softmax): value, gradient, Hessian products.
//!
//! Parameters `theta` are `[W (k x p, row-major), b (k)]`; `k` is 1 for binary (the row of
//! class 1) and `n_classes` for softmax. The solvers minimize
//! `mean_i logloss_i + lam2 / 2 ||W||^2 + lam1 ||W||_1`, i.e. scikit-learn's objective
//! divided by `C * n`, which has the same minimizer.

use capstan_frame::Matrix;

use super::colmat::ColMatrix;
use super::predict::{log1p_exp, softmax};
use super::{FitInfo, LinearModel, LinearParams, Penalty, newton, prox_newton};
use crate::{LearnError, Task};

#[derive(Debug)]
pub(super) struct Logistic<'a> {
    pub x: &'a ColMatrix,
    pub y: &'a [usize],
    /// Output rows: 1 for binary, `n_classes` for softmax.
    pub k: usize,
    pub binary: bool,
    pub fit_intercept: bool,
    pub lam1: f64,
    pub lam2: f64,
}

impl Logistic<'_> {
    pub fn n(&self) -> usize {
        self.x.n_rows
    }

    pub fn p(&self) -> usize {
        self.x.n_cols
    }

    pub fn dim(&self) -> usize {
        self.k * (self.p() + 1)
    }

    /// Whether row `i` belongs to output `c` (binary: output 0 is class 1).
    fn target(&self, i: usize, c: usize) -> bool {
        if self.binary {
            self.y[i] == 1
        } else {
            self.y[i] == c
        }
    }

    /// Linear predictors `z` (`k x n`, class-major) for `theta`.
    pub fn predictor(&self, theta: &[f64], z: &mut [f64]) {
        let kp = self.k * self.p();
        self.x
            .linear_predictor(&theta[..kp], &theta[kp..], self.k, z);
    }

    /// Mean log loss at predictors `z`; fills probabilities (`k x n`) when asked.
    pub fn loss(&self, z: &[f64], mut probs: Option<&mut [f64]>) -> f64 {
        let n = self.n();
        let mut total = 0.0;
        if self.binary {
            for i in 0..n {
                let zi = z[i];
                total += log1p_exp(zi) - if self.y[i] == 1 { zi } else { 0.0 };
                if let Some(pr) = probs.as_deref_mut() {
                    pr[i] = super::predict::sigmoid(zi);
                }
            }
            return total / n as f64;
        }
        let mut row = vec![0.0; self.k];
        for i in 0..n {
            for (c, v) in row.iter_mut().enumerate() {
                *v = z[c * n + i];
            }
            let z_true = row[self.y[i]];
            total += softmax(&mut row) - z_true;
            if let Some(pr) = probs.as_deref_mut() {
                for (c, v) in row.iter().enumerate() {
                    pr[c * n + i] = *v;
                }
            }
        }
        total / n as f64
    }

    /// `lam2 / 2 ||W||^2 + lam1 ||W||_1`.
    pub fn penalty(&self, theta: &[f64]) -> f64 {
        let w = &theta[..self.k * self.p()];
        let l2: f64 = w.iter().map(|v| v * v).sum();
        let l1: f64 = w.iter().map(|v| v.abs()).sum();
        0.5 * self.lam2 * l2 + self.lam1 * l1
    }

    /// Gradient of the smooth part (mean loss + L2 term) at `theta` with probabilities `probs`.
    pub fn gradient(&self, probs: &[f64], theta: &[f64], resid: &mut [f64], g: &mut [f64]) {
        let (n, kp) = (self.n(), self.k * self.p());
        for c in 0..self.k {
            for i in 0..n {
                let t = if self.target(i, c) { 1.0 } else { 0.0 };
                resid[c * n + i] = probs[c * n + i] - t;
            }
        }
        self.x.xt_mul(resid, self.k, &mut g[..kp]);
        let inv_n = 1.0 / n as f64;
        for (gv, wv) in g[..kp].iter_mut().zip(&theta[..kp]) {
            *gv = *gv * inv_n + self.lam2 * wv;
        }
        for c in 0..self.k {
            g[kp + c] = if self.fit_intercept {
                resid[c * n..(c + 1) * n].iter().sum::<f64>() * inv_n
            } else {
                0.0
            };
        }
    }

    /// `out = H v` for the smooth part; `u` (`k x n`) and `s` (`n`) are scratch.
    pub fn hess_vec(
        &self,
        probs: &[f64],
        v: &[f64],
        u: &mut [f64],
        s: &mut [f64],
        out: &mut [f64],
    ) {
        let (n, k, kp) = (self.n(), self.k, self.k * self.p());
        self.predictor(v, u);
        s.fill(0.0);
        for c in 0..k {
            for i in 0..n {
                s[i] += probs[c * n + i] * u[c * n + i];
            }
        }
        for c in 0..k {
            for i in 0..n {
                u[c * n + i] = probs[c * n + i] * (u[c * n + i] - s[i]);
            }
        }
        self.x.xt_mul(u, k, &mut out[..kp]);
        let inv_n = 1.0 / n as f64;
        for (o, vv) in out[..kp].iter_mut().zip(&v[..kp]) {
            *o = *o * inv_n + self.lam2 * vv;
        }
        for c in 0..k {
            out[kp + c] = if self.fit_intercept {
                u[c * n..(c + 1) * n].iter().sum::<f64>() * inv_n
            } else {
                0.0
            };
        }
    }

    /// Diagonal of the smooth part's Hessian; `wts` (`k x n`) is scratch.
    pub fn hess_diag(&self, probs: &[f64], wts: &mut [f64], out: &mut [f64]) {
        let (n, kp) = (self.n(), self.k * self.p());
        for (w, p) in wts.iter_mut().zip(probs) {
            *w = p * (1.0 - p);
        }
        self.x.xt_sq_mul(wts, self.k, &mut out[..kp]);
        let inv_n = 1.0 / n as f64;
        for o in out[..kp].iter_mut() {
            *o = *o * inv_n + self.lam2;
        }
        for c in 0..self.k {
            out[kp + c] = if self.fit_intercept {
                wts[c * n..(c + 1) * n].iter().sum::<f64>() * inv_n
            } else {
                1.0
            };
        }
    }
}

/// Fits binary or softmax logistic regression; `classes` were validated.
pub(super) fn fit(
    x: &Matrix,
    classes: &[usize],
    task: Task,
    params: &LinearParams,
) -> Result<(LinearModel, FitInfo), LearnError> {
    // With an intercept, fit on centered columns (same minimizer, W unchanged; the
    // intercept absorbs W . mean): decouples the intercept and speeds both solvers.
    let mut cols = ColMatrix::from_rows(x);
    let means = if params.fit_intercept {
        cols.center()
    } else {
        vec![0.0; x.n_cols]
    };
    let (binary, k) = match task {
        Task::Multiclass { n_classes } => (false, n_classes),
        _ => (true, 1),
    };
    let scale = 1.0 / (params.c * x.n_rows as f64);
    let (lam1, lam2) = match params.penalty {
        Penalty::None => (0.0, 0.0),
        Penalty::L2 => (0.0, scale),
        Penalty::L1 => (scale, 0.0),
        Penalty::ElasticNet => (params.l1_ratio * scale, (1.0 - params.l1_ratio) * scale),
    };
    let problem = Logistic {
        x: &cols,
        y: classes,
        k,
        binary,
        fit_intercept: params.fit_intercept,
        lam1,
        lam2,
    };
    let mut theta = vec![0.0; problem.dim()];
    let info = if lam1 > 0.0 {
        prox_newton::minimize(&problem, &mut theta, params.tol, params.max_iter)
    } else {
        newton::minimize(&problem, &mut theta, params.tol, params.max_iter)
    };
    let p = x.n_cols;
    let (mut coefficients, mut intercepts) = (theta[..k * p].to_vec(), theta[k * p..].to_vec());
    for (c, b) in intercepts.iter_mut().enumerate() {
        *b -= super::colmat::dot(&coefficients[c * p..(c + 1) * p], &means);
    }
    if !binary {
        // Softmax is invariant to a shift shared by all classes: report the centered
        // representative (what scikit-learn's solvers reach from zero).
        center(&mut intercepts);
        if lam1 == 0.0 {
            for j in 0..p {
                let mut column: Vec<f64> = (0..k).map(|c| coefficients[c * p + j]).collect();
                center(&mut column);
                for (c, v) in column.into_iter().enumerate() {
                    coefficients[c * p + j] = v;
                }
            }
        }
    }
    let model = LinearModel {
        task,
        coefficients,
        intercepts,
        n_features: p,
    };
    Ok((model, info))
}

fn center(v: &mut [f64]) {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    v.iter_mut().for_each(|x| *x -= mean);
}
