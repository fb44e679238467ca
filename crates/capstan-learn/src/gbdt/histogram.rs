//! Gradient statistics in exact fixed point, and per-leaf histograms over the bin matrix.
//!
//! Gradients and hessians are scaled to `i64` once per tree, so every sum is exact: the
//! subtraction trick loses nothing and sums do not depend on the order (or thread) of adds.

use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::Mutex;

use rayon::prelude::*;

use super::binning::{BinnedData, HIST_BLOCK, row_stride};

/// Leaves with fewer rows build their histogram on one thread.
pub(crate) const PARALLEL_MIN_ROWS: usize = 4096;

/// One row's gradient and hessian, or a sum of them, in fixed point: a histogram entry.
/// 16-byte aligned so one entry is one vector add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub(crate) struct GradPair {
    pub g: i64,
    pub h: i64,
}

impl Add for GradPair {
    type Output = GradPair;
    #[inline]
    fn add(self, o: GradPair) -> GradPair {
        GradPair {
            g: self.g + o.g,
            h: self.h + o.h,
        }
    }
}

impl Sub for GradPair {
    type Output = GradPair;
    #[inline]
    fn sub(self, o: GradPair) -> GradPair {
        GradPair {
            g: self.g - o.g,
            h: self.h - o.h,
        }
    }
}

impl AddAssign for GradPair {
    #[inline]
    fn add_assign(&mut self, o: GradPair) {
        *self = *self + o;
    }
}

impl std::iter::Sum for GradPair {
    fn sum<I: Iterator<Item = GradPair>>(iter: I) -> GradPair {
        iter.fold(GradPair::default(), |a, b| a + b)
    }
}

impl SubAssign for GradPair {
    #[inline]
    fn sub_assign(&mut self, o: GradPair) {
        *self = *self - o;
    }
}

/// Sums of gradient, hessian (fixed point) and row count of a leaf or one side of a split.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub g: i64,
    pub h: i64,
    pub n: i64,
}

impl Stats {
    pub(crate) fn new(sum: GradPair, n: i64) -> Stats {
        Stats {
            g: sum.g,
            h: sum.h,
            n,
        }
    }
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
    // The largest magnitude does not depend on the order of the scan.
    let max_abs = |v: &[f64]| {
        v.par_chunks(8192)
            .map(|c| c.iter().fold(0.0f64, |m, v| m.max(v.abs())))
            .reduce(|| 0.0, f64::max)
    };
    let (max_g, max_h) = rayon::join(|| max_abs(grad), || max_abs(hess));
    let (eg, eh) = (scale_exponent(max_g, n), scale_exponent(max_h, n));
    let (sg, sh) = (pow2(eg), pow2(eh));
    out.resize(n, GradPair::default());
    out.par_chunks_mut(8192)
        .zip(grad.par_chunks(8192).zip(hess.par_chunks(8192)))
        .for_each(|(o, (g, h))| {
            for ((o, g), h) in o.iter_mut().zip(g).zip(h) {
                *o = GradPair {
                    g: round_to_i64(g * sg),
                    h: round_to_i64(h * sh),
                };
            }
        });
    Scales {
        g_inv: pow2(-eg),
        h_inv: pow2(-eh),
    }
}

/// `x.round() as i64` (halves away from zero, saturating) without a libm call.
#[inline]
fn round_to_i64(x: f64) -> i64 {
    let t = x as i64;
    // exact: `t` is `x` truncated, so both are doubles
    let frac = x - t as f64;
    t.saturating_add(i64::from(frac >= 0.5))
        .saturating_sub(i64::from(frac <= -0.5))
}

/// Sum of the given rows' statistics.
pub(crate) fn sum_rows(rows: &[u32], grads: &[GradPair]) -> Stats {
    let sum = rows
        .iter()
        .fold(GradPair::default(), |s, &r| s + grads[r as usize]);
    Stats::new(sum, rows.len() as i64)
}

/// One feature's histogram: any `u8` bin indexes it without a bounds check; entries past the
/// feature's bin count are unused.
pub(crate) type FeatureHist = [GradPair; HIST_BLOCK];

/// Reusable histograms of one feature count (a tree keeps a histogram per open leaf); shared
/// by the threads growing a tree.
#[derive(Debug, Default)]
pub(crate) struct HistPool {
    len: usize,
    free: Mutex<Vec<Vec<FeatureHist>>>,
}

impl HistPool {
    pub(crate) fn new(len: usize) -> HistPool {
        HistPool {
            len,
            free: Mutex::new(Vec::new()),
        }
    }

    fn free(&self) -> std::sync::MutexGuard<'_, Vec<Vec<FeatureHist>>> {
        // a panic elsewhere cannot leave the list half-changed: use it as it is
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A histogram of the pool's feature count; its contents are unspecified.
    pub(crate) fn take(&self) -> Vec<FeatureHist> {
        let free = self.free().pop();
        free.unwrap_or_else(|| vec![[GradPair::default(); HIST_BLOCK]; self.len])
    }

    pub(crate) fn give(&self, hist: Vec<FeatureHist>) {
        debug_assert_eq!(hist.len(), self.len);
        self.free().push(hist);
    }
}

/// Builds the histogram of `rows` (sorted) for the used features into `hist` (all features'
/// bins; others may be filled too). `pool` lends per-thread buffers.
pub(crate) fn build(
    data: &BinnedData,
    rows: &[u32],
    grads: &[GradPair],
    used: &[bool],
    hist: &mut [FeatureHist],
    pool: &HistPool,
) {
    assert_eq!(hist.len(), data.n_features(), "histogram length");
    let n_used = used.iter().filter(|&&u| u).count();
    if 2 * n_used >= data.n_features() {
        build_rows(data, rows, grads, hist, pool);
    } else {
        build_columns(data, rows, grads, used, hist);
    }
}

/// Row-wise: one pass over the rows, each adding to every feature. Large leaves are cut into
/// one row block per thread, each summed into its own buffer; integer sums make the result
/// independent of that.
fn build_rows(
    data: &BinnedData,
    rows: &[u32],
    grads: &[GradPair],
    hist: &mut [FeatureHist],
    pool: &HistPool,
) {
    let acc = |h: &mut [FeatureHist], first_feature: usize, r: &[u32]| {
        h.fill([GradPair::default(); HIST_BLOCK]);
        accumulate_rows(h, first_feature, data, r, grads);
    };
    let threads = rayon::current_num_threads();
    let blocks = threads.min(rows.len() / MIN_BLOCK_ROWS);
    if blocks <= 1 {
        if threads > 1 && rows.len() >= MIN_SPLIT_ROWS {
            // Too few rows for row blocks: two threads take half the features each.
            let half = hist.len() / 2;
            let (a, b) = hist.split_at_mut(half);
            rayon::join(|| acc(a, 0, rows), || acc(b, half, rows));
        } else {
            acc(hist, 0, rows);
        }
        return;
    }
    let chunk = rows.len().div_ceil(blocks);
    let (first, rest) = rows.split_at(chunk);
    let mut extra: Vec<Vec<FeatureHist>> = rest.chunks(chunk).map(|_| pool.take()).collect();
    rayon::join(
        || acc(hist, 0, first),
        || {
            rest.par_chunks(chunk)
                .zip(extra.par_iter_mut())
                .for_each(|(r, h)| acc(h, 0, r))
        },
    );
    for e in extra {
        for (x, y) in hist.iter_mut().flatten().zip(e.iter().flatten()) {
            *x += *y;
        }
        pool.give(e);
    }
}

/// Fewest rows per parallel block of the row-wise build.
const MIN_BLOCK_ROWS: usize = PARALLEL_MIN_ROWS / 2;

/// Fewest rows for which two threads share a leaf's features.
const MIN_SPLIT_ROWS: usize = 512;

/// Rows gathered at a time by the row-wise kernel (their bins and gradients fit in L1).
const GATHER: usize = 128;

/// The row-wise kernel: `hist[f][bin(row, first_feature + f)] += grad(row)` for the features
/// that `hist` holds.
/// Scattered rows are first gathered into small contiguous buffers: the short gather loop
/// keeps many cache misses in flight, the long add loop then runs on cached data. A run of
/// consecutive rows (the root) is read in place.
fn accumulate_rows(
    hist: &mut [FeatureHist],
    first_feature: usize,
    data: &BinnedData,
    rows: &[u32],
    grads: &[GradPair],
) {
    let stride = row_stride(data.n_features());
    // A u8 bin always indexes a 256-entry block: no bounds checks in the hot loop.
    let mut add_row = |row: &[u8], p: GradPair| {
        for (h, &b) in hist.iter_mut().zip(&row[first_feature..]) {
            h[b as usize] += p;
        }
    };
    if let (Some(&first), Some(&last)) = (rows.first(), rows.last()) {
        if (last - first) as usize + 1 == rows.len() {
            let (first, last) = (first as usize, last as usize + 1);
            let bins = &data.row_bins[first * stride..last * stride];
            for (row, &p) in bins.chunks_exact(stride).zip(&grads[first..last]) {
                add_row(row, p);
            }
            return;
        }
    }
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
            let src = &data.row_bins[r * stride..(r + 1) * stride];
            // word copies (a slice copy of unknown length would call memmove)
            for (d, s) in b.chunks_exact_mut(8).zip(src.chunks_exact(8)) {
                let w: [u8; 8] = s.try_into().expect("8-byte chunk");
                d.copy_from_slice(&w);
            }
        }
        for (row, &p) in bins.chunks_exact(stride).zip(&ordered[..chunk.len()]) {
            add_row(row, p);
        }
    }
}

/// Column-wise (few features used): per feature over gathered gradients.
fn build_columns(
    data: &BinnedData,
    rows: &[u32],
    grads: &[GradPair],
    used: &[bool],
    hist: &mut [FeatureHist],
) {
    let ordered: Vec<GradPair> = rows.iter().map(|&r| grads[r as usize]).collect();
    let work = |(f, h): (usize, &mut FeatureHist)| {
        if used[f] {
            h.fill(GradPair::default());
            accumulate(h, data.column(f), rows, &ordered);
        }
    };
    // Threads only pay off for enough rows; the result is the same either way.
    if rows.len() >= PARALLEL_MIN_ROWS {
        hist.par_iter_mut().enumerate().for_each(work);
    } else {
        hist.iter_mut().enumerate().for_each(work);
    }
}

/// The column kernel: `hist[bin(row)] += grad(row)` for each row of the leaf.
fn accumulate(hist: &mut FeatureHist, col: &[u8], rows: &[u32], ordered: &[GradPair]) {
    for (&r, &p) in rows.iter().zip(ordered) {
        hist[col[r as usize] as usize] += p;
    }
}

/// Turns the parent's histogram into the sibling's, `parent -= child` (exact), for the
/// features in `features`.
pub(crate) fn subtract(
    parent: &mut [FeatureHist],
    child: &[FeatureHist],
    data: &BinnedData,
    features: &[bool],
) {
    for (f, _) in features.iter().enumerate().filter(|(_, u)| **u) {
        let n = data.mappers[f].n_bins();
        for (p, c) in parent[f][..n].iter_mut().zip(&child[f][..n]) {
            *p -= *c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::round_to_i64;

    #[test]
    fn rounding_matches_f64_round() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            -4503599627370495.5,
            4503599627370497.0,
            2f64.powi(61),
            -(2f64.powi(61)),
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut x = 0.123_456_789f64;
        for _ in 0..10_000 {
            x = (x * 3.7 + 0.31).fract();
            values.push((x - 0.5) * 2f64.powi((x * 62.0) as i32));
        }
        for v in values {
            assert_eq!(round_to_i64(v), v.round() as i64, "{v:e}");
        }
    }
}
