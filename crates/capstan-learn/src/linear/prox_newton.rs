//! Proximal Newton for L1 / elastic-net logistic regression (glmnet, liblinear's newGLMNET).
//!
//! Outer step: quadratic model of the smooth part (full Hessian, softmax included) plus the
//! L1 term, minimized by coordinate descent (`cd_inner`) over the coefficients that are
//! non-zero or violate optimality; then Armijo backtracking on the composite objective.
//! Stops when the largest minimum-norm subgradient entry is at most `tol`.

use super::FitInfo;
use super::cd_inner::{Curvature, Model, violation};
use super::collinear::null_directions;
use super::hessian::full_hessian;
use super::logistic::Logistic;
use super::newton::{Point, backtrack, stalled};

/// Inner sweeps allowed, counted in data-pass equivalents.
const INNER_BUDGET_PASSES: usize = 200;

pub(super) fn minimize(prob: &Logistic, theta: &mut [f64], tol: f64, max_iter: usize) -> FitInfo {
    let gram = use_gram(prob.n(), prob.p(), prob.k);
    minimize_with(prob, theta, tol, max_iter, gram)
}

/// `gram`: track curvature with the explicit Hessian (else from the data).
fn minimize_with(
    prob: &Logistic,
    theta: &mut [f64],
    tol: f64,
    max_iter: usize,
    gram: bool,
) -> FitInfo {
    let (n, k, p, dim) = (prob.n(), prob.k, prob.p(), prob.dim());
    let kp = k * p;
    let flat = flat_directions(prob);
    let mut z = vec![0.0; k * n];
    let mut probs = vec![0.0; k * n];
    let mut scratch = vec![0.0; k * n];
    let mut dz = vec![0.0; k * n];
    let mut s_row = vec![0.0; if gram { 0 } else { n }];
    let mut hd = vec![0.0; if gram { dim } else { 0 }];
    let mut g = vec![0.0; dim];
    let mut diag = vec![0.0; dim];
    let mut delta = vec![0.0; dim];
    let mut theta_try = vec![0.0; dim];
    let max_sweeps = if gram {
        // A Gram sweep costs dim^2 against ~3 n dim for a data sweep.
        (INNER_BUDGET_PASSES * 3 * n / dim.max(1)).clamp(INNER_BUDGET_PASSES, 20_000)
    } else {
        INNER_BUDGET_PASSES
    };

    prob.predictor(theta, &mut z);
    let mut f = prob.loss(&z, Some(&mut probs)) + prob.penalty(theta);
    for iter in 0..=max_iter {
        prob.gradient(&probs, theta, &mut scratch, &mut g);
        let max_viol = (0..dim)
            .map(|i| {
                if i < kp {
                    violation(theta[i], g[i], prob.lam1)
                } else {
                    g[i].abs()
                }
            })
            .fold(0.0, f64::max);
        if max_viol <= tol {
            return FitInfo {
                n_iter: iter,
                converged: true,
            };
        }
        if iter == max_iter {
            return stalled(iter);
        }
        let hessian = if gram {
            let h = full_hessian(prob, &probs);
            for (i, d) in diag.iter_mut().enumerate() {
                *d = if i < kp || prob.fit_intercept {
                    h[i * dim + i]
                } else {
                    1.0
                };
            }
            h
        } else {
            prob.hess_diag(&probs, &mut scratch, &mut diag);
            Vec::new()
        };
        // Coordinates at zero that satisfy optimality sit this step out.
        let active: Vec<bool> = (0..dim)
            .map(|i| i >= kp || theta[i] != 0.0 || g[i].abs() > prob.lam1)
            .collect();
        let inner_tol = (max_viol.min(0.1) * max_viol).max(0.1 * tol);
        let model = Model {
            prob,
            probs: &probs,
            g: &g,
            diag: &diag,
            theta,
            active: &active,
            flat: &flat,
        };
        if gram {
            let mut curv = Curvature::Gram {
                h: &hessian,
                hd: &mut hd,
            };
            model.solve(&mut delta, &mut curv, inner_tol, max_sweeps);
            prob.predictor(&delta, &mut dz);
        } else {
            let mut curv = Curvature::Data {
                dz: &mut dz,
                s: &mut s_row,
            };
            model.solve(&mut delta, &mut curv, inner_tol, max_sweeps);
        }

        // Armijo on the composite objective; `decrease` is the model's first-order change.
        let l1_change: f64 = (0..kp)
            .map(|i| (theta[i] + delta[i]).abs() - theta[i].abs())
            .sum();
        let decrease = dot(&g, &delta) + prob.lam1 * l1_change;
        if decrease.is_nan() || decrease >= 0.0 {
            // No descent left at working precision.
            return stalled(iter);
        }
        let point = Point { theta, z: &z, f };
        let Some(f_new) = backtrack(
            prob,
            &point,
            (&delta, &dz),
            0.01 * decrease,
            (&mut theta_try, &mut scratch),
        ) else {
            return stalled(iter);
        };
        f = f_new;
        theta.copy_from_slice(&theta_try);
        std::mem::swap(&mut z, &mut scratch);
        prob.loss(&z, Some(&mut probs));
    }
    stalled(max_iter)
}

/// Directions over `theta` along which the loss is constant: per feature, the softmax class
/// shift; per class, each exact dependency among the columns.
fn flat_directions(prob: &Logistic) -> Vec<Vec<(usize, f64)>> {
    let (k, p) = (prob.k, prob.p());
    let mut dirs = Vec::new();
    if k > 1 {
        dirs.extend((0..p).map(|j| (0..k).map(|c| (c * p + j, 1.0)).collect()));
    }
    for v in null_directions(prob.x) {
        dirs.extend((0..k).map(|c| v.iter().map(|&(j, w)| (c * p + j, w)).collect()));
    }
    dirs
}

/// Explicit Hessian when building it (`n q^2 k (k + 1) / 4`, `q = p + 1`) costs at most
/// ~50 data sweeps (`3 n q k` each) and it stays small.
fn use_gram(n: usize, p: usize, k: usize) -> bool {
    let q = p + 1;
    let dim = q * k;
    dim <= 1024 && dim <= n && q * (k + 1) <= 600
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use capstan_frame::Matrix;

    use super::*;
    use crate::linear::colmat::ColMatrix;

    #[test]
    fn gram_rule() {
        assert!(use_gram(40_000, 92, 1));
        assert!(!use_gram(50, 92, 1));
        assert!(!use_gram(2_000, 64, 10));
    }

    /// Letter features plus a full one-hot of `x_box` (exactly collinear once centered).
    fn letter_one_hot(n_rows: usize) -> (ColMatrix, Vec<usize>) {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/letter/letter.csv");
        let text = std::fs::read_to_string(path).expect("letter.csv");
        let (mut data, mut y) = (Vec::new(), Vec::new());
        for line in text.lines().skip(1).take(n_rows) {
            let fields: Vec<&str> = line.split(',').collect();
            let feats: Vec<f64> = fields[..16]
                .iter()
                .map(|v| v.parse().expect("num"))
                .collect();
            data.extend(&feats);
            data.extend((0..16).map(|level| f64::from(u8::from(feats[0] == f64::from(level)))));
            y.push(usize::from(fields[16].as_bytes()[0] < b'N'));
        }
        let names = (0..32).map(|j| format!("f{j}")).collect();
        let mut x = ColMatrix::from_rows(&Matrix::new(y.len(), names, data));
        x.center();
        (x, y)
    }

    #[test]
    fn data_and_gram_modes_reach_the_same_optimum_despite_collinearity() {
        let (x, y) = letter_one_hot(1500);
        let prob = Logistic {
            x: &x,
            y: &y,
            k: 1,
            binary: true,
            fit_intercept: true,
            lam1: 0.7 / 1500.0,
            lam2: 0.3 / 1500.0,
        };
        let mut results = Vec::new();
        for gram in [false, true] {
            let mut theta = vec![0.0; prob.dim()];
            let info = minimize_with(&prob, &mut theta, 1e-9, 200, gram);
            assert!(info.converged, "gram={gram}: {info:?}");
            let mut z = vec![0.0; x.n_rows];
            prob.predictor(&theta, &mut z);
            results.push((prob.loss(&z, None) + prob.penalty(&theta), z));
        }
        let (f_data, z_data) = &results[0];
        let (f_gram, z_gram) = &results[1];
        assert!((f_data - f_gram).abs() < 1e-12, "{f_data} vs {f_gram}");
        let dz = z_data
            .iter()
            .zip(z_gram)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(dz < 1e-5, "linear predictors differ by {dz}");
    }
}
