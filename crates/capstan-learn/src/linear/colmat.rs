//! Column-major copy of the design matrix and the dense kernels the solvers share.
//!
//! Parallel kernels split rows into fixed blocks or split columns; each output value is
//! summed by one thread in a fixed order, so results are identical for any thread count.

use capstan_frame::Matrix;
use rayon::prelude::*;

/// Rows per parallel task in row-blocked kernels.
pub(super) const ROW_BLOCK: usize = 2048;
/// Below this many multiply-adds a kernel stays on the calling thread.
const PAR_MIN_WORK: usize = 1 << 17;

#[derive(Debug, Clone)]
pub(super) struct ColMatrix {
    pub n_rows: usize,
    pub n_cols: usize,
    data: Vec<f64>,
}

impl ColMatrix {
    pub fn from_rows(x: &Matrix) -> Self {
        let (n, p) = (x.n_rows, x.n_cols);
        let mut data = vec![0.0; n * p];
        if p > 0 {
            for (i, row) in x.data.chunks_exact(p).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    data[j * n + i] = v;
                }
            }
        }
        ColMatrix {
            n_rows: n,
            n_cols: p,
            data,
        }
    }

    pub fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.n_rows..(j + 1) * self.n_rows]
    }

    /// Subtracts each column's mean; returns the means.
    pub fn center(&mut self) -> Vec<f64> {
        let n = self.n_rows;
        let mut means = Vec::with_capacity(self.n_cols);
        if n == 0 {
            return vec![0.0; self.n_cols];
        }
        for col in self.data.chunks_exact_mut(n) {
            let mean = col.iter().sum::<f64>() / n as f64;
            col.iter_mut().for_each(|v| *v -= mean);
            means.push(mean);
        }
        means
    }

    fn parallel(&self, k: usize) -> bool {
        self.n_rows * self.n_cols * k >= PAR_MIN_WORK
    }

    /// `out[c * n + i] = b[c] + sum_j w[c * p + j] * x[i, j]` for `k` outputs.
    pub fn linear_predictor(&self, w: &[f64], b: &[f64], k: usize, out: &mut [f64]) {
        let n = self.n_rows;
        let block = |start: usize, end: usize, dst: &mut [f64]| {
            let len = end - start;
            for c in 0..k {
                dst[c * len..(c + 1) * len].fill(b[c]);
            }
            for j in 0..self.n_cols {
                let xj = &self.col(j)[start..end];
                for c in 0..k {
                    axpy(w[c * self.n_cols + j], xj, &mut dst[c * len..(c + 1) * len]);
                }
            }
        };
        if !self.parallel(k) {
            block(0, n, out);
            return;
        }
        let n_blocks = n.div_ceil(ROW_BLOCK);
        let parts: Vec<Vec<f64>> = (0..n_blocks)
            .into_par_iter()
            .map(|bi| {
                let (start, end) = (bi * ROW_BLOCK, ((bi + 1) * ROW_BLOCK).min(n));
                let mut dst = vec![0.0; k * (end - start)];
                block(start, end, &mut dst);
                dst
            })
            .collect();
        for (bi, part) in parts.iter().enumerate() {
            let start = bi * ROW_BLOCK;
            let len = part.len() / k;
            for c in 0..k {
                out[c * n + start..c * n + start + len]
                    .copy_from_slice(&part[c * len..(c + 1) * len]);
            }
        }
    }

    /// `X^T X`, row-major `p x p`; rows computed in parallel, each entry by one thread.
    pub fn gram(&self) -> Vec<f64> {
        let p = self.n_cols;
        let rows: Vec<Vec<f64>> = (0..p)
            .into_par_iter()
            .map(|i| (i..p).map(|j| dot(self.col(i), self.col(j))).collect())
            .collect();
        let mut g = vec![0.0; p * p];
        for (i, row) in rows.iter().enumerate() {
            for (off, &v) in row.iter().enumerate() {
                g[i * p + i + off] = v;
                g[(i + off) * p + i] = v;
            }
        }
        g
    }

    /// `out[c * p + j] = sum_i x[i, j] * r[c * n + i]` (`X^T r` for `k` stacked vectors).
    pub fn xt_mul(&self, r: &[f64], k: usize, out: &mut [f64]) {
        let n = self.n_rows;
        self.per_column(k, out, |j, c| dot(self.col(j), &r[c * n..(c + 1) * n]));
    }

    /// `out[c * p + j] = sum_i x[i, j]^2 * wts[c * n + i]`.
    pub fn xt_sq_mul(&self, wts: &[f64], k: usize, out: &mut [f64]) {
        let n = self.n_rows;
        self.per_column(k, out, |j, c| dot_sq(self.col(j), &wts[c * n..(c + 1) * n]));
    }

    fn per_column(&self, k: usize, out: &mut [f64], f: impl Fn(usize, usize) -> f64 + Sync) {
        let p = self.n_cols;
        if !self.parallel(k) {
            for j in 0..p {
                for c in 0..k {
                    out[c * p + j] = f(j, c);
                }
            }
            return;
        }
        let cols: Vec<Vec<f64>> = (0..p)
            .into_par_iter()
            .map(|j| (0..k).map(|c| f(j, c)).collect())
            .collect();
        for (j, vals) in cols.iter().enumerate() {
            for (c, &v) in vals.iter().enumerate() {
                out[c * p + j] = v;
            }
        }
    }
}

/// `sum_i a_i b_i` with eight accumulators (fixed order).
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    reduce8(&acc) + tail
}

/// `sum_i a_i^2 w_i`.
pub(super) fn dot_sq(a: &[f64], w: &[f64]) -> f64 {
    let n = a.len().min(w.len());
    let (a, w) = (&a[..n], &w[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cw) = (a.chunks_exact(8), w.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cw.remainder())
        .map(|(x, y)| x * x * y)
        .sum();
    for (x, y) in ca.zip(cw) {
        for l in 0..8 {
            acc[l] += x[l] * x[l] * y[l];
        }
    }
    reduce8(&acc) + tail
}

fn reduce8(acc: &[f64; 8]) -> f64 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// `y += a * x`.
pub(super) fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    if a == 0.0 {
        return;
    }
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}
