//! Explicit Hessian of the smooth logistic part, for the Gram-mode inner solver.

use rayon::prelude::*;

use super::colmat::dot;
use super::logistic::Logistic;

/// `dim x dim` Hessian (row-major, parameter order of `theta`) of the mean loss plus
/// `lam2 / 2 ||W||^2`. Block `(c, c')` is `X1^T diag(p_c (1[c = c'] - p_c')) X1 / n`
/// with `X1 = [X, 1]`; without an intercept its rows and columns are left at zero.
pub(super) fn full_hessian(prob: &Logistic, probs: &[f64]) -> Vec<f64> {
    let (n, k, p, dim) = (prob.n(), prob.k, prob.p(), prob.dim());
    let kp = k * p;
    let q = p + 1;
    let index = |c: usize, j: usize| if j < p { c * p + j } else { kp + c };
    let inv_n = 1.0 / n as f64;
    let mut h = vec![0.0; dim * dim];
    let mut wts = vec![0.0; n];
    for c in 0..k {
        for c2 in c..k {
            let (pc, pc2) = (&probs[c * n..(c + 1) * n], &probs[c2 * n..(c2 + 1) * n]);
            for i in 0..n {
                let same = if c == c2 { 1.0 } else { 0.0 };
                wts[i] = pc[i] * (same - pc2[i]) * inv_n;
            }
            let block = weighted_gram(prob, &wts);
            for j in 0..q {
                for l in 0..q {
                    let v = block[j * q + l];
                    h[index(c, j) * dim + index(c2, l)] = v;
                    h[index(c2, l) * dim + index(c, j)] = v;
                }
            }
        }
    }
    for i in 0..kp {
        h[i * dim + i] += prob.lam2;
    }
    if !prob.fit_intercept {
        for c in 0..k {
            let r = kp + c;
            for m in 0..dim {
                h[r * dim + m] = 0.0;
                h[m * dim + r] = 0.0;
            }
        }
    }
    h
}

/// Rows per cache-resident chunk of the Gram kernel.
const CHUNK: usize = 256;

/// `[X, 1]^T diag(w) [X, 1]`, `(p + 1) x (p + 1)`. Rows are split into at most 16 fixed
/// blocks (by `n` only) summed in order, so the result does not depend on the thread count.
fn weighted_gram(prob: &Logistic, w: &[f64]) -> Vec<f64> {
    let (n, p) = (prob.n(), prob.p());
    let q = p + 1;
    let block = n.div_ceil(16).max(4096);
    let partials: Vec<Vec<f64>> = (0..n.div_ceil(block))
        .into_par_iter()
        .map(|b| gram_rows(prob, w, b * block, ((b + 1) * block).min(n)))
        .collect();
    let mut g = vec![0.0; q * q];
    for part in &partials {
        for (a, v) in g.iter_mut().zip(part) {
            *a += v;
        }
    }
    for j in 0..q {
        for l in 0..j {
            g[j * q + l] = g[l * q + j];
        }
    }
    g
}

/// Upper triangle of the weighted Gram over rows `start..end`, chunk by chunk.
fn gram_rows(prob: &Logistic, w: &[f64], start: usize, end: usize) -> Vec<f64> {
    let p = prob.p();
    let q = p + 1;
    let mut acc = vec![0.0; q * q];
    let mut cols = vec![0.0; q * CHUNK];
    let mut wx = vec![0.0; CHUNK];
    let mut lo = start;
    while lo < end {
        let len = (end - lo).min(CHUNK);
        for j in 0..q {
            let dst = &mut cols[j * len..(j + 1) * len];
            if j < p {
                dst.copy_from_slice(&prob.x.col(j)[lo..lo + len]);
            } else {
                dst.fill(1.0);
            }
        }
        for j in 0..q {
            let xj = &cols[j * len..(j + 1) * len];
            for ((o, a), b) in wx.iter_mut().zip(xj).zip(&w[lo..lo + len]) {
                *o = a * b;
            }
            for l in j..q {
                acc[j * q + l] += dot(&wx[..len], &cols[l * len..(l + 1) * len]);
            }
        }
        lo += len;
    }
    acc
}
