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

/// Relative slack on objective comparisons, above the summation round-off of the loss.
const F_SLACK: f64 = 1e-13;
/// Inner sweeps allowed, counted in data-pass equivalents.
const INNER_BUDGET_PASSES: usize = 200;

pub(super) fn minimize(prob: &Logistic, theta: &mut [f64], tol: f64, max_iter: usize) -> FitInfo {
    let (n, k, p, dim) = (prob.n(), prob.k, prob.p(), prob.dim());
    let kp = k * p;
    let gram = use_gram(n, p, k);
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
            break;
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
        let sweeps = if gram {
            let mut curv = Curvature::Gram {
                h: &hessian,
                hd: &mut hd,
            };
            let sweeps = model.solve(&mut delta, &mut curv, inner_tol, max_sweeps);
            prob.predictor(&delta, &mut dz);
            sweeps
        } else {
            let mut curv = Curvature::Data {
                dz: &mut dz,
                s: &mut s_row,
            };
            model.solve(&mut delta, &mut curv, inner_tol, max_sweeps)
        };

        // Armijo on the composite objective; `decrease` is the model's first-order change.
        let l1_now: f64 = theta[..kp].iter().map(|v| v.abs()).sum();
        let l1_next: f64 = (0..kp).map(|i| (theta[i] + delta[i]).abs()).sum();
        let decrease = dot(&g, &delta) + prob.lam1 * (l1_next - l1_now);
        if !(decrease < 0.0) {
            if std::env::var_os("CAPSTAN_DEBUG_LINEAR").is_some() {
                eprintln!("stop {iter}: viol {max_viol:.3e} decrease {decrease:e} sweeps {sweeps} delta {:?} g {:?} theta {:?}", delta, g, theta);
            }
            break;
        }
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            for (i, zt) in scratch.iter_mut().enumerate() {
                *zt = z[i] + t * dz[i];
            }
            for (i, th) in theta_try.iter_mut().enumerate() {
                *th = theta[i] + t * delta[i];
            }
            let f_try = prob.loss(&scratch, None) + prob.penalty(&theta_try);
            if f_try <= f + 0.01 * t * decrease + F_SLACK * f.abs() {
                f = f_try;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if std::env::var_os("CAPSTAN_DEBUG_LINEAR").is_some() {
            let act = active.iter().filter(|a| **a).count();
            eprintln!(
                "outer {iter}: viol {max_viol:.3e} inner_tol {inner_tol:.2e} sweeps {sweeps} active {act} t {t} f {f:.15} gram {gram}"
            );
        }
        if !accepted {
            break;
        }
        theta.copy_from_slice(&theta_try);
        std::mem::swap(&mut z, &mut scratch);
        prob.loss(&z, Some(&mut probs));
    }
    FitInfo {
        n_iter: max_iter,
        converged: false,
    }
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
    if let Ok(v) = std::env::var("CAPSTAN_LINEAR_GRAM") {
        return v == "1";
    }
    let q = p + 1;
    let dim = q * k;
    dim <= 1024 && dim <= n && q * (k + 1) <= 600
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn gram_rule() {
        assert!(super::use_gram(40_000, 92, 1));
        assert!(!super::use_gram(50, 92, 1));
    }
}
