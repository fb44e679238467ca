//! Per-feature bin mappers (LightGBM's `BinMapper`) and the `u8` bin matrix.

use capstan_frame::{FeatureKind, Matrix};
use rayon::prelude::*;

use super::histogram::{FeatureHist, GradPair};

use super::rng::{Rng, sample};

/// Values with `|x| <= K_ZERO` count as zero, which always gets a bin of its own.
const K_ZERO: f64 = 1e-35;

/// How one feature's raw values map to bins `0..n_bins` (at most 255).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BinMapper {
    /// Bin `b` holds values `x <= upper[b]` (and above `upper[b - 1]`); the last upper bound is
    /// `+inf`. When `has_nan`, NaN gets one more bin at the end, `upper.len()`.
    Numeric { upper: Vec<f64>, has_nan: bool },
    /// One bin per kept category code (most frequent first), then one `other` bin for NaN and
    /// codes too rare to keep. `code_to_bin` is sorted by code. `onehot` picks one-vs-rest
    /// splits.
    Categorical {
        code_to_bin: Vec<(u32, u8)>,
        bin_to_code: Vec<u32>,
        onehot: bool,
    },
}

/// Knobs that shape the bins.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BinConfig {
    pub max_bins: usize,
    pub min_data_in_bin: usize,
    pub max_cat_to_onehot: usize,
    pub sample_cnt: usize,
    pub seed: u64,
}

impl BinMapper {
    pub(crate) fn n_bins(&self) -> usize {
        match self {
            BinMapper::Numeric { upper, has_nan } => upper.len() + usize::from(*has_nan),
            BinMapper::Categorical { bin_to_code, .. } => bin_to_code.len() + 1,
        }
    }

    /// The bin that missing values fall in, if the feature has one.
    pub(crate) fn nan_bin(&self) -> Option<usize> {
        match self {
            BinMapper::Numeric {
                upper,
                has_nan: true,
            } => Some(upper.len()),
            BinMapper::Numeric { .. } => None,
            BinMapper::Categorical { bin_to_code, .. } => Some(bin_to_code.len()),
        }
    }

    /// The bin of a raw value; values seen in training always map consistently.
    pub(crate) fn bin_of(&self, x: f64) -> u8 {
        match self {
            BinMapper::Numeric { upper, has_nan } => {
                if x.is_nan() {
                    return if *has_nan { upper.len() as u8 } else { 0 };
                }
                // first bin whose upper bound is >= x
                upper.partition_point(|&u| u < x).min(upper.len() - 1) as u8
            }
            BinMapper::Categorical {
                code_to_bin,
                bin_to_code,
                ..
            } => {
                let other = bin_to_code.len() as u8;
                if x.is_nan() || x < 0.0 || x > u32::MAX as f64 {
                    return other;
                }
                let code = x as u32;
                code_to_bin
                    .binary_search_by_key(&code, |&(c, _)| c)
                    .map_or(other, |i| code_to_bin[i].1)
            }
        }
    }

    /// Raw threshold of numeric bin `b`: `x <= threshold` iff `bin_of(x) <= b` (finite `x`).
    pub(crate) fn upper_bound(&self, b: usize) -> f64 {
        match self {
            BinMapper::Numeric { upper, .. } => upper.get(b).copied().unwrap_or(f64::INFINITY),
            BinMapper::Categorical { .. } => f64::INFINITY,
        }
    }
}

/// The training rows as a column-major `u8` bin matrix.
#[derive(Debug, Clone)]
pub(crate) struct BinnedData {
    pub n_rows: usize,
    pub mappers: Vec<BinMapper>,
    /// `bins[f * n_rows + row]`.
    pub bins: Vec<u8>,
    /// The same bins row-major, `row_bins[row * row_stride + f]` (for row-wise histograms);
    /// the padding bytes are zero.
    pub row_bins: Vec<u8>,
}

impl BinnedData {
    /// Finds each feature's bins (from a row sample when large) and bins every row.
    pub(crate) fn build(x: &Matrix, cfg: &BinConfig) -> Self {
        let n_rows = x.n_rows;
        let sample: Option<Vec<usize>> = (n_rows > cfg.sample_cnt).then(|| {
            let mut rows = sample(&mut Rng::stream(cfg.seed, 3), n_rows, cfg.sample_cnt);
            // in memory order: the mappers do not depend on the order of values
            rows.sort_unstable();
            rows
        });
        let any_nan = nan_columns(x);
        let columns = sample_columns(x, sample.as_deref());
        let mappers: Vec<BinMapper> = columns
            .into_par_iter()
            .enumerate()
            .map(|(f, values)| match x.feature_kinds[f] {
                FeatureKind::Numeric => numeric_mapper(values, any_nan[f], cfg),
                FeatureKind::Categorical { n_categories } => {
                    categorical_mapper(&values, n_categories as usize, cfg)
                }
            })
            .collect();
        let stride = row_stride(x.n_cols);
        let mut row_bins = vec![0u8; n_rows * stride];
        row_bins
            .par_chunks_mut(ROW_BLOCK * stride)
            .zip(x.data.par_chunks(ROW_BLOCK * x.n_cols.max(1)))
            .for_each(|(out, rows)| {
                for (o, row) in out
                    .chunks_exact_mut(stride)
                    .zip(rows.chunks(x.n_cols.max(1)))
                {
                    for ((b, m), &v) in o.iter_mut().zip(&mappers).zip(row) {
                        *b = m.bin_of(v);
                    }
                }
            });
        let mut bins = vec![0u8; n_rows * x.n_cols];
        if n_rows > 0 {
            bins.par_chunks_mut(n_rows)
                .enumerate()
                .for_each(|(f, col)| {
                    for (b, row) in col.iter_mut().zip(row_bins.chunks_exact(stride)) {
                        *b = row[f];
                    }
                });
        }
        BinnedData {
            n_rows,
            mappers,
            bins,
            row_bins,
        }
    }

    pub(crate) fn n_features(&self) -> usize {
        self.mappers.len()
    }

    pub(crate) fn column(&self, f: usize) -> &[u8] {
        &self.bins[f * self.n_rows..(f + 1) * self.n_rows]
    }

    /// Bins over all features.
    pub(crate) fn total_bins(&self) -> usize {
        self.mappers.iter().map(BinMapper::n_bins).sum()
    }

    /// Feature `f`'s bins in its histogram block.
    pub(crate) fn feature_hist<'a>(&self, hist: &'a [FeatureHist], f: usize) -> &'a [GradPair] {
        &hist[f][..self.mappers[f].n_bins()]
    }
}

/// Histogram entries per feature (every `u8` bin).
pub(crate) const HIST_BLOCK: usize = 256;

/// The values of the sampled rows (all rows when `None`), column by column, in one pass.
fn sample_columns(x: &Matrix, rows: Option<&[usize]>) -> Vec<Vec<f64>> {
    let n = rows.map_or(x.n_rows, <[usize]>::len);
    let mut columns = vec![Vec::with_capacity(n); x.n_cols];
    let mut push = |i: usize| {
        for (c, &v) in columns.iter_mut().zip(x.row(i)) {
            c.push(v);
        }
    };
    match rows {
        Some(rows) => rows.iter().for_each(|&i| push(i)),
        None => (0..x.n_rows).for_each(push),
    }
    columns
}

/// Rows per parallel block when binning.
const ROW_BLOCK: usize = 4096;

/// Bytes per row of the row-major bins: the features rounded up to whole 8-byte words.
pub(crate) fn row_stride(n_features: usize) -> usize {
    n_features.next_multiple_of(8).max(8)
}

/// Which columns hold a NaN, in one pass over the row-major values.
fn nan_columns(x: &Matrix) -> Vec<bool> {
    let width = x.n_cols.max(1);
    x.data
        .par_chunks(ROW_BLOCK * width)
        .map(|rows| {
            let mut nan = vec![false; x.n_cols];
            for row in rows.chunks(width) {
                for (n, v) in nan.iter_mut().zip(row) {
                    *n |= v.is_nan();
                }
            }
            nan
        })
        .reduce(
            || vec![false; x.n_cols],
            |a, b| a.iter().zip(&b).map(|(x, y)| *x || *y).collect(),
        )
}

/// The next representable double above `a` (finite `a`).
fn next_up(a: f64) -> f64 {
    if a.is_nan() || a == f64::INFINITY {
        return a;
    }
    if a == 0.0 {
        return f64::from_bits(1);
    }
    let bits = a.to_bits();
    f64::from_bits(if a > 0.0 { bits + 1 } else { bits - 1 })
}

/// LightGBM's `CheckDoubleEqualOrdered`: `b` is within one ulp above `a`.
fn equal_ordered(a: f64, b: f64) -> bool {
    b <= next_up(a)
}

fn numeric_mapper(mut values: Vec<f64>, any_nan: bool, cfg: &BinConfig) -> BinMapper {
    values.retain(|v| !v.is_nan());
    for v in values.iter_mut() {
        if v.abs() <= K_ZERO {
            *v = 0.0;
        }
    }
    values.sort_unstable_by(f64::total_cmp);
    let mut distinct: Vec<f64> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for &v in &values {
        match distinct.last_mut() {
            Some(last) if equal_ordered(*last, v) => {
                *last = v;
                if let Some(c) = counts.last_mut() {
                    *c += 1;
                }
            }
            _ => {
                distinct.push(v);
                counts.push(1);
            }
        }
    }
    let max_bin = cfg.max_bins - usize::from(any_nan);
    let upper = find_bin_zero_as_one_bin(
        &distinct,
        &counts,
        max_bin,
        values.len(),
        cfg.min_data_in_bin,
    );
    BinMapper::Numeric {
        upper,
        has_nan: any_nan,
    }
}

/// LightGBM's `FindBinWithZeroAsOneBin`: negatives and positives binned apart, zero alone.
pub(crate) fn find_bin_zero_as_one_bin(
    distinct: &[f64],
    counts: &[usize],
    max_bin: usize,
    total_cnt: usize,
    min_data_in_bin: usize,
) -> Vec<f64> {
    let (mut left_cnt_data, mut cnt_zero, mut right_cnt_data) = (0usize, 0usize, 0usize);
    for (&v, &c) in distinct.iter().zip(counts) {
        if v <= -K_ZERO {
            left_cnt_data += c;
        } else if v > K_ZERO {
            right_cnt_data += c;
        } else {
            cnt_zero += c;
        }
    }
    let left_cnt = distinct
        .iter()
        .position(|&v| v > -K_ZERO)
        .unwrap_or(distinct.len());
    let mut upper = Vec::new();
    if left_cnt > 0 && max_bin > 1 {
        let denom = total_cnt.saturating_sub(cnt_zero).max(1) as f64;
        let left_max_bin = ((left_cnt_data as f64 / denom) * (max_bin - 1) as f64) as usize;
        upper = greedy_find_bin(
            &distinct[..left_cnt],
            &counts[..left_cnt],
            left_max_bin.max(1),
            left_cnt_data,
            min_data_in_bin,
        );
        if let Some(last) = upper.last_mut() {
            *last = -K_ZERO;
        }
    }
    let right_start = distinct[left_cnt..]
        .iter()
        .position(|&v| v > K_ZERO)
        .map(|p| p + left_cnt);
    let right_max_bin = (max_bin - 1).saturating_sub(upper.len());
    match right_start {
        Some(start) if right_max_bin > 0 => {
            let right = greedy_find_bin(
                &distinct[start..],
                &counts[start..],
                right_max_bin,
                right_cnt_data,
                min_data_in_bin,
            );
            upper.push(K_ZERO);
            upper.extend(right);
        }
        _ => upper.push(f64::INFINITY),
    }
    upper
}

/// LightGBM's `GreedyFindBin`: one bin per distinct value when they fit (merging bins with
/// fewer than `min_data_in_bin` values), else roughly equal-count bins, frequent values alone.
pub(crate) fn greedy_find_bin(
    distinct: &[f64],
    counts: &[usize],
    max_bin: usize,
    total_cnt: usize,
    min_data_in_bin: usize,
) -> Vec<f64> {
    let n = distinct.len();
    let mut upper: Vec<f64> = Vec::new();
    let adjusted = total_cnt
        .checked_div(min_data_in_bin)
        .map_or(max_bin, |cap| max_bin.min(cap).max(1));
    if n <= max_bin {
        let mut cur = 0usize;
        for i in 0..n.saturating_sub(1) {
            cur += counts[i];
            if cur >= min_data_in_bin
                && push(&mut upper, next_up((distinct[i] + distinct[i + 1]) / 2.0))
            {
                cur = 0;
            }
        }
    } else if adjusted > 1 {
        let max_bin = adjusted;
        let mut mean_bin_size = total_cnt as f64 / max_bin as f64;
        let mut rest_bin_cnt = max_bin as i64;
        let mut rest_sample_cnt = total_cnt as i64;
        let is_big: Vec<bool> = counts.iter().map(|&c| c as f64 >= mean_bin_size).collect();
        for (&big, &c) in is_big.iter().zip(counts) {
            if big {
                rest_bin_cnt -= 1;
                rest_sample_cnt -= c as i64;
            }
        }
        mean_bin_size = rest_sample_cnt as f64 / rest_bin_cnt as f64;
        let mut upper_bounds = vec![f64::INFINITY; max_bin];
        let mut lower_bounds = vec![f64::INFINITY; max_bin];
        let mut bin_cnt = 0usize;
        lower_bounds[0] = distinct[0];
        let mut cur = 0usize;
        for i in 0..n - 1 {
            if !is_big[i] {
                rest_sample_cnt -= counts[i] as i64;
            }
            cur += counts[i];
            let cur_f = cur as f64;
            if is_big[i]
                || cur_f >= mean_bin_size
                || (is_big[i + 1] && cur_f >= f64::max(1.0, mean_bin_size * 0.5))
            {
                upper_bounds[bin_cnt] = distinct[i];
                bin_cnt += 1;
                lower_bounds[bin_cnt] = distinct[i + 1];
                if bin_cnt >= max_bin - 1 {
                    break;
                }
                cur = 0;
                if !is_big[i] {
                    rest_bin_cnt -= 1;
                    mean_bin_size = rest_sample_cnt as f64 / rest_bin_cnt as f64;
                }
            }
        }
        bin_cnt += 1;
        for i in 0..bin_cnt - 1 {
            push(
                &mut upper,
                next_up((upper_bounds[i] + lower_bounds[i + 1]) / 2.0),
            );
        }
    }
    upper.push(f64::INFINITY);
    upper
}

/// Appends a bin bound unless it equals the previous one.
fn push(upper: &mut Vec<f64>, val: f64) -> bool {
    if upper.last().is_none_or(|&b| !equal_ordered(b, val)) {
        upper.push(val);
        true
    } else {
        false
    }
}

/// LightGBM's categorical bins: categories by count (descending), keeping the first two and
/// then those with `min_data_in_bin` rows, until they cover 99% of the rows and the bins (with
/// the missing bin) reach `min(distinct + has_nan, max_bins)`. The rest go to `other`.
fn categorical_mapper(values: &[f64], n_categories: usize, cfg: &BinConfig) -> BinMapper {
    let mut codes: Vec<u32> = values
        .iter()
        .filter(|&&v| v >= 0.0 && v < n_categories as f64)
        .map(|&v| v as u32)
        .collect();
    let na_cnt = values.len() - codes.len();
    codes.sort_unstable();
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for c in codes {
        match counts.last_mut() {
            Some((last, n)) if *last == c => *n += 1,
            _ => counts.push((c, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rest = values.len() - na_cnt;
    let cut_cnt = (f64::from(rest as f32 * 0.99f32) + 0.5) as usize;
    let max_bin = (counts.len() + usize::from(na_cnt > 0)).min(cfg.max_bins);
    let mut bin_to_code: Vec<u32> = Vec::new();
    let mut used_cnt = 0usize;
    for &(code, count) in &counts {
        let n_bins = bin_to_code.len() + 1;
        let more = used_cnt < cut_cnt || n_bins < max_bin;
        if !more || n_bins >= cfg.max_bins || (count < cfg.min_data_in_bin && bin_to_code.len() > 1)
        {
            break;
        }
        bin_to_code.push(code);
        used_cnt += count;
    }
    let mut code_to_bin: Vec<(u32, u8)> = bin_to_code
        .iter()
        .enumerate()
        .map(|(b, &code)| (code, b as u8))
        .collect();
    code_to_bin.sort_unstable();
    // LightGBM counts its missing bin too: one-vs-rest below max_cat_to_onehot bins.
    BinMapper::Categorical {
        onehot: bin_to_code.len() < cfg.max_cat_to_onehot,
        code_to_bin,
        bin_to_code,
    }
}
