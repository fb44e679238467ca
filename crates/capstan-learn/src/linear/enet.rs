//! Lasso / elastic net by cyclic coordinate descent, as scikit-learn's `cd_fast`:
//! minimizes `1/(2n) ||y - X w||^2 + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio) / 2 ||w||^2`
//! on centered data. After a sweep whose largest update is at most `tol * max |w|`, the
//! duality gap is checked; the fit stops once `gap <= tol * ||y||^2` (n-scaled units).

use super::FitInfo;
use super::colmat::{ColMatrix, axpy, dot};

pub(super) fn fit(
    cols: &ColMatrix,
    y: &[f64],
    alpha: f64,
    l1_ratio: f64,
    tol: f64,
    max_iter: usize,
) -> (Vec<f64>, FitInfo) {
    let (n, p) = (cols.n_rows as f64, cols.n_cols);
    let l1 = alpha * l1_ratio * n;
    let l2 = alpha * (1.0 - l1_ratio) * n;
    let norms: Vec<f64> = (0..p).map(|j| dot(cols.col(j), cols.col(j))).collect();
    let mut w = vec![0.0; p];
    let mut resid = y.to_vec();
    let gap_tol = tol * dot(y, y);
    if duality_gap(cols, y, &resid, &w, l1, l2) <= gap_tol {
        return (w, done(0, true));
    }
    for iter in 0..max_iter {
        let (mut w_max, mut dw_max) = (0.0f64, 0.0f64);
        for j in 0..p {
            if norms[j] == 0.0 {
                continue;
            }
            let w_old = w[j];
            let x = cols.col(j);
            let tmp = dot(x, &resid) + w_old * norms[j];
            let w_new = tmp.signum() * (tmp.abs() - l1).max(0.0) / (norms[j] + l2);
            if w_new != w_old {
                axpy(w_old - w_new, x, &mut resid);
                w[j] = w_new;
            }
            dw_max = dw_max.max((w_new - w_old).abs());
            w_max = w_max.max(w_new.abs());
        }
        let check = w_max == 0.0 || dw_max / w_max <= tol || iter + 1 == max_iter;
        if check && duality_gap(cols, y, &resid, &w, l1, l2) <= gap_tol {
            return (w, done(iter + 1, true));
        }
    }
    (w, done(max_iter, false))
}

fn done(n_iter: usize, converged: bool) -> FitInfo {
    FitInfo { n_iter, converged }
}

/// scikit-learn's gap (formulation A; B for ridge; squared gradient for plain OLS).
fn duality_gap(cols: &ColMatrix, y: &[f64], resid: &[f64], w: &[f64], l1: f64, l2: f64) -> f64 {
    let p = cols.n_cols;
    let mut xta = vec![0.0; p];
    cols.xt_mul(resid, 1, &mut xta);
    let r_norm2 = dot(resid, resid);
    let w_norm2 = dot(w, w);
    let ry = dot(resid, y);
    if l1 == 0.0 {
        let grad2 = dot(&xta, &xta);
        if l2 == 0.0 {
            return grad2;
        }
        return r_norm2 + 0.5 * l2 * w_norm2 - ry + grad2 / (2.0 * l2);
    }
    for (a, wj) in xta.iter_mut().zip(w) {
        *a -= l2 * wj;
    }
    let dual_norm = xta.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let w_l1: f64 = w.iter().map(|v| v.abs()).sum();
    let primal = 0.5 * (r_norm2 + l2 * w_norm2) + l1 * w_l1;
    let scale = if dual_norm > l1 { l1 / dual_norm } else { 1.0 };
    let dual = -0.5 * scale * scale * (r_norm2 + l2 * w_norm2) + scale * ry;
    primal - dual
}
