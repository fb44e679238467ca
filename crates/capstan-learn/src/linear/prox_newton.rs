//! Proximal Newton for L1 / elastic-net logistic regression (glmnet, liblinear's newGLMNET).
//!
//! Outer step: quadratic model of the smooth part (full Hessian, softmax included) plus the
//! L1 term, minimized by cyclic coordinate descent over the coefficients that are non-zero
//! or violate optimality; then an Armijo backtracking on the composite objective. Stops
//! when the largest minimum-norm subgradient entry is at most `tol`.

use super::FitInfo;
use super::logistic::Logistic;
use super::newton::max_abs;

const MAX_INNER_SWEEPS: usize = 200;
/// Relative slack on objective comparisons, above the summation round-off of the loss.
const F_SLACK: f64 = 1e-13;
/// Curvature floor, keeps coordinate steps finite on all-zero columns.
const NU: f64 = 1e-12;

pub(super) fn minimize(prob: &Logistic, theta: &mut [f64], tol: f64, max_iter: usize) -> FitInfo {
    let (n, k, p, dim) = (prob.n(), prob.k, prob.p(), prob.dim());
    let kp = k * p;
    let mut z = vec![0.0; k * n];
    let mut probs = vec![0.0; k * n];
    let mut scratch = vec![0.0; k * n];
    let mut dz = vec![0.0; k * n];
    let mut s_row = vec![0.0; n];
    let mut g = vec![0.0; dim];
    let mut diag = vec![0.0; dim];
    let mut delta = vec![0.0; dim];
    let mut theta_try = vec![0.0; dim];
    let mut viol = vec![0.0; dim];

    prob.predictor(theta, &mut z);
    let mut f = prob.loss(&z, Some(&mut probs)) + prob.penalty(theta);
    for iter in 0..=max_iter {
        prob.gradient(&probs, theta, &mut scratch, &mut g);
        for i in 0..dim {
            viol[i] = if i < kp {
                violation(theta[i], g[i], prob.lam1)
            } else {
                g[i].abs()
            };
        }
        let max_viol = max_abs(&viol);
        if max_viol <= tol {
            return FitInfo {
                n_iter: iter,
                converged: true,
            };
        }
        if iter == max_iter {
            break;
        }
        prob.hess_diag(&probs, &mut scratch, &mut diag);
        // Coordinates at zero that satisfy optimality sit this step out.
        let active: Vec<bool> = (0..dim)
            .map(|i| i >= kp || theta[i] != 0.0 || g[i].abs() > prob.lam1)
            .collect();
        let inner_tol = (max_viol.min(0.1) * max_viol).max(0.1 * tol);
        let ctx = Inner {
            prob,
            probs: &probs,
            g: &g,
            diag: &diag,
            theta,
            active: &active,
        };
        ctx.solve(&mut delta, &mut dz, &mut s_row, inner_tol);

        // Armijo on the composite objective; D is the model's predicted decrease.
        let l1_now: f64 = theta[..kp].iter().map(|v| v.abs()).sum();
        let l1_next: f64 = (0..kp).map(|i| (theta[i] + delta[i]).abs()).sum();
        let decrease = dot(&g, &delta) + prob.lam1 * (l1_next - l1_now);
        if !(decrease < 0.0) {
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

/// Minimum-norm subgradient magnitude of `g + lam1 * d|w|` for one coefficient.
fn violation(w: f64, g: f64, lam1: f64) -> f64 {
    if w > 0.0 {
        (g + lam1).abs()
    } else if w < 0.0 {
        (g - lam1).abs()
    } else {
        (g.abs() - lam1).max(0.0)
    }
}

/// Coordinate descent on `g.d + 1/2 d'Hd + lam1 ||w + d||_1` for one outer step.
struct Inner<'a> {
    prob: &'a Logistic<'a>,
    probs: &'a [f64],
    g: &'a [f64],
    diag: &'a [f64],
    theta: &'a [f64],
    active: &'a [bool],
}

impl Inner<'_> {
    /// Fills `delta` (the step), `dz` (`X delta`, `k x n`) and `s_row` (`sum_c p_c dz_c`).
    fn solve(&self, delta: &mut [f64], dz: &mut [f64], s_row: &mut [f64], inner_tol: f64) {
        let prob = self.prob;
        let (n, k, p) = (prob.n(), prob.k, prob.p());
        let kp = k * p;
        let inv_n = 1.0 / n as f64;
        delta.fill(0.0);
        dz.fill(0.0);
        s_row.fill(0.0);
        for _ in 0..MAX_INNER_SWEEPS {
            let mut sweep_viol: f64 = 0.0;
            // Column j = p stands for the intercept (a column of ones).
            let last = if prob.fit_intercept { p + 1 } else { p };
            for j in 0..last {
                let x = if j < p { Some(prob.x.col(j)) } else { None };
                for c in 0..k {
                    let idx = if j < p { c * p + j } else { kp + c };
                    if !self.active[idx] {
                        continue;
                    }
                    let pc = &self.probs[c * n..(c + 1) * n];
                    let dzc = &dz[c * n..(c + 1) * n];
                    // (H_loss delta) at this coordinate: mean_i x_ij p_ic (dz_ic - s_i).
                    let hx = match x {
                        Some(x) => quad_dot(x, pc, dzc, s_row),
                        None => quad_sum(pc, dzc, s_row),
                    } * inv_n;
                    let a = self.diag[idx] + NU;
                    let cur = self.theta[idx] + delta[idx];
                    let next = if j < p {
                        let gq = self.g[idx] + hx + prob.lam2 * delta[idx];
                        sweep_viol = sweep_viol.max(violation(cur, gq, prob.lam1));
                        soft_threshold(cur - gq / a, prob.lam1 / a)
                    } else {
                        let gq = self.g[idx] + hx;
                        sweep_viol = sweep_viol.max(gq.abs());
                        cur - gq / a
                    };
                    let change = next - cur;
                    if change == 0.0 {
                        continue;
                    }
                    delta[idx] += change;
                    let dzc = &mut dz[c * n..(c + 1) * n];
                    match x {
                        Some(x) => {
                            for i in 0..n {
                                let step = change * x[i];
                                dzc[i] += step;
                                s_row[i] += pc[i] * step;
                            }
                        }
                        None => {
                            for i in 0..n {
                                dzc[i] += change;
                                s_row[i] += pc[i] * change;
                            }
                        }
                    }
                }
            }
            if sweep_viol <= inner_tol {
                break;
            }
        }
    }
}

fn quad_dot(x: &[f64], pc: &[f64], dzc: &[f64], s: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let n = x.len();
    let chunks = n / 4;
    for b in 0..chunks {
        for l in 0..4 {
            let i = 4 * b + l;
            acc[l] += x[i] * pc[i] * (dzc[i] - s[i]);
        }
    }
    let mut tail = 0.0;
    for i in 4 * chunks..n {
        tail += x[i] * pc[i] * (dzc[i] - s[i]);
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

fn quad_sum(pc: &[f64], dzc: &[f64], s: &[f64]) -> f64 {
    pc.iter()
        .zip(dzc)
        .zip(s)
        .map(|((p, d), s)| p * (d - s))
        .sum()
}

fn soft_threshold(v: f64, t: f64) -> f64 {
    if v > t {
        v - t
    } else if v < -t {
        v + t
    } else {
        0.0
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
