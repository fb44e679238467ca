//! Gradient statistics in exact fixed point, and per-leaf histograms over the bin matrix.
//!
//! Gradients and hessians are scaled to `i64` once per tree, so every sum is exact: the
//! subtraction trick loses nothing and sums do not depend on the order (or thread) of adds.

use std::ops::{Add, AddAssign, Sub, SubAssign};

use rayon::prelude::*;

use super::binning::{BinnedData, row_stride};

/// Leaves with fewer rows build their histogram on one thread.
pub(crate) const PARALLEL_MIN_ROWS: usize = 4096;

/// Sums of gradient, hessian (fixed point) and row count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub g: i64,
    pub h: i64,
    pub n: i64,
}

impl Add for Stats {
    type Output = Stats;
    fn add(self, o: Stats) -> Stats {
        Stats {
            g: self.g + o.g,
            h: self.h + o.h,
            n: self.n + o.n,
        }
    }
}

impl Sub for Stats {
    type Output = Stats;
    fn sub(self, o: Stats) -> Stats {
        Stats {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n - o.n,
        }
    }
}

impl AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        *self = *self + o;
    }
}

impl SubAssign for Stats {
    fn sub_assign(&mut self, o: Stats) {
        *self = *self - o;
    }
}

/// One row's gradient and hessian in fixed point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct GradPair {
    pub g: i64,
    pub h: i64,
}

/// Converts fixed-point sums back to reals: `real = int as f64 * inv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scales {
    pub g_inv: f64,
    pub h_inv: f64,
}

impl Scales {
    pub(crate) fn g(&self, s: &Stats) -> f64 {
        s.g as f64 * self.g_inv
    }
    pub(crate) fn h(&self, s: &Stats) -> f64 {
        s.h as f64 * self.h_inv
    }
}

/// `2^e` for `e` in the normal range.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((e.clamp(-1022, 1023) + 1023) as u64) << 52)
}

/// The power-of-two scale exponent so that `n` values up to `max_abs` sum below 2^61.
fn scale_exponent(max_abs: f64, n: usize) -> i32 {
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return 0;
    }
    let ratio = pow2(61) / (n.max(1) as f64 * max_abs);
    if !ratio.is_finite() {
        return 1022;
    }
    (ratio.log2().floor() as i32).clamp(-1022, 1022)
}

/// Scales `grad` and `hess` into exact fixed point (one power-of-two scale each).
pub(crate) fn quantize(grad: &[f64], hess: &[f64], out: &mut Vec<GradPair>) -> Scales {
    let n = grad.len();
    let max_g = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let max_h = hess.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (eg, eh) = (scale_exponent(max_g, n), scale_exponent(max_h, n));
    let (sg, sh) = (pow2(eg), pow2(eh));
    out.clear();
    out.resize(n, GradPair::default());
    out.par_chunks_mut(8192)
        .zip(grad.par_chunks(8192).zip(hess.par_chunks(8192)))
        .for_each(|(o, (g, h))| {
            for ((o, g), h) in o.iter_mut().zip(g).zip(h) {
                *o = GradPair {
                    g: (g * sg).round() as i64,
                    h: (h * sh).round() as i64,
                };
            }
        });
    Scales {
        g_inv: pow2(-eg),
        h_inv: pow2(-eh),
    }
}

/// Sum of the given rows' statistics.
pub(crate) fn sum_rows(rows: &[u32], grads: &[GradPair]) -> Stats {
    let mut s = Stats::default();
    for &r in rows {
        let p = grads[r as usize];
        s += Stats {
            g: p.g,
            h: p.h,
            n: 1,
        };
    }
    s
}

/// Splits a full histogram into one mutable slice per feature.
pub(crate) fn feature_slices<'a>(
    mut hist: &'a mut [Stats],
    offsets: &[usize],
) -> Vec<&'a mut [Stats]> {
    let mut out = Vec::with_capacity(offsets.len().saturating_sub(1));
    for w in offsets.windows(2) {
        let (head, tail) = hist.split_at_mut(w[1] - w[0]);
        out.push(head);
        hist = tail;
    }
    out
}

/// Builds the histogram of `rows` for the used features into `hist` (all features' bins;
/// others may be filled too).
pub(crate) fn build(
    data: &BinnedData,
    rows: &[u32],
    grads: &[GradPair],
    used: &[bool],
    hist: &mut [Stats],
) {
    let n_used = used.iter().filter(|&&u| u).count();
    if 2 * n_used >= data.n_features() {
        build_rows(data, rows, grads, hist);
    } else {
        build_columns(data, rows, grads, used, hist);
    }
}

/// Row-wise: one pass over the rows, each adding to every feature. Large leaves are cut into
/// row blocks summed on separate threads; integer sums make the result independent of that.
fn build_rows(data: &BinnedData, rows: &[u32], grads: &[GradPair], hist: &mut [Stats]) {
    let acc = |h: &mut [Stats], r: &[u32]| {
        h.fill(Stats::default());
        accumulate_rows(h, &data.row_bins, &data.offsets, r, grads);
    };
    let blocks = rayon::current_num_threads().min(rows.len() / MIN_BLOCK_ROWS);
    if blocks <= 1 {
        acc(hist, rows);
        return;
    }
    let len = hist.len();
    let mut parts = rows.chunks(rows.len().div_ceil(blocks));
    let first = parts.next().unwrap_or(&[]);
    let rest: Vec<&[u32]> = parts.collect();
    let (_, others) = rayon::join(
        || acc(hist, first),
        || {
            rest.into_par_iter()
                .map(|r| {
                    let mut h = vec![Stats::default(); len];
                    acc(&mut h, r);
                    h
                })
                .reduce_with(|mut a, b| {
                    add_into(&mut a, &b);
                    a
                })
        },
    );
    if let Some(o) = others {
        add_into(hist, &o);
    }
}

fn add_into(a: &mut [Stats], b: &[Stats]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += *y;
    }
}

/// Fewest rows per parallel block of the row-wise build.
const MIN_BLOCK_ROWS: usize = PARALLEL_MIN_ROWS / 2;

/// Rows gathered at a time by the row-wise kernel (their bins and gradients fit in L1).
const GATHER: usize = 128;

/// The row-wise kernel: `hist[offsets[f] + bin(row, f)] += (g, h, 1)` for every feature.
/// Rows are first gathered into small contiguous buffers: the short gather loop keeps many
/// cache misses in flight, the long add loop then runs on cached data.
fn accumulate_rows(
    hist: &mut [Stats],
    row_bins: &[u8],
    offsets: &[usize],
    rows: &[u32],
    grads: &[GradPair],
) {
    let nf = offsets.len() - 1;
    let offsets = &offsets[..nf];
    let stride = row_stride(nf);
    let mut bins = vec![0u8; GATHER * stride];
    let mut ordered = [GradPair::default(); GATHER];
    for chunk in rows.chunks(GATHER) {
        for ((&r, p), b) in chunk
            .iter()
            .zip(&mut ordered)
            .zip(bins.chunks_exact_mut(stride))
        {
            let r = r as usize;
            *p = grads[r];
            let src = &row_bins[r * stride..(r + 1) * stride];
            for (d, s) in b.chunks_exact_mut(8).zip(src.chunks_exact(8)) {
                d.copy_from_slice(s);
            }
        }
        for (row, p) in bins.chunks_exact(stride).zip(&ordered[..chunk.len()]) {
            for (&b, &o) in row.iter().zip(offsets) {
                let e = &mut hist[o + b as usize];
                e.g += p.g;
                e.h += p.h;
                e.n += 1;
            }
        }
    }
}

/// Column-wise (few features used): per feature over gathered gradients.
fn build_columns(
    data: &BinnedData,
    rows: &[u32],
    grads: &[GradPair],
    used: &[bool],
    hist: &mut [Stats],
) {
    let ordered: Vec<GradPair> = rows.iter().map(|&r| grads[r as usize]).collect();
    let work = |(f, h): (usize, &mut [Stats])| {
        if used[f] {
            h.fill(Stats::default());
            accumulate(h, data.column(f), rows, &ordered);
        }
    };
    let slices = feature_slices(hist, &data.offsets);
    // Threads only pay off for enough rows; the result is the same either way.
    if rows.len() >= PARALLEL_MIN_ROWS {
        slices.into_par_iter().enumerate().for_each(work);
    } else {
        slices.into_iter().enumerate().for_each(work);
    }
}

/// The column kernel: `hist[bin(row)] += (g, h, 1)` for each row of the leaf.
fn accumulate(hist: &mut [Stats], col: &[u8], rows: &[u32], ordered: &[GradPair]) {
    for (&r, p) in rows.iter().zip(ordered) {
        let e = &mut hist[col[r as usize] as usize];
        e.g += p.g;
        e.h += p.h;
        e.n += 1;
    }
}

/// Turns the parent's histogram into the sibling's, `parent -= child` (exact), for the
/// features in `features`.
pub(crate) fn subtract(
    parent: &mut [Stats],
    child: &[Stats],
    offsets: &[usize],
    features: &[bool],
) {
    for (f, w) in offsets.windows(2).enumerate() {
        if features[f] {
            for (p, c) in parent[w[0]..w[1]].iter_mut().zip(&child[w[0]..w[1]]) {
                *p -= *c;
            }
        }
    }
}
