//! Pairwise association: Pearson on pairwise-complete rows (pandas `corr()`), and
//! Cramér's V between categorical columns.
//!
//! Pearson is computed in one pass over row blocks from sums of values shifted by each
//! column's median (so that a constant column gives exactly zero variance and large
//! offsets do not cancel): r = Sxy / sqrt(Sxx Syy) with S the centered sums over the rows
//! where both values are finite (pandas masks with `isfinite`). `None` where fewer than two
//! rows or a zero variance. Blocks are summed in a fixed order: the result does not depend
//! on the thread count.
//!
//! Cramér's V (bias-uncorrected): chi2 = sum over the contingency table of
//! (observed - expected)^2 / expected, expected = row total * column total / n, on rows
//! where both values are present; V = sqrt(chi2 / (n * (min(r, c) - 1))) with r and c the
//! number of values present in those rows. `None` when min(r, c) < 2.

use rayon::prelude::*;

use super::categorical::{Codes, MISSING};

/// Rows summed together before moving to the next block (fits in L2 for ~30 columns).
const BLOCK_ROWS: usize = 1024;
/// Rows per parallel task; fixed so the summation order is the same on any machine.
const TASK_ROWS: usize = 64 * BLOCK_ROWS;

/// Sums of one pair over its complete rows (values shifted).
#[derive(Debug, Clone, Copy, Default)]
struct PairSums {
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

impl PairSums {
    fn add(&mut self, o: &PairSums) {
        self.n += o.n;
        self.sx += o.sx;
        self.sy += o.sy;
        self.sxx += o.sxx;
        self.syy += o.syy;
        self.sxy += o.sxy;
    }

    fn r(&self) -> Option<f64> {
        if self.n < 2.0 {
            return None;
        }
        let cxx = self.sxx - self.sx * self.sx / self.n;
        let cyy = self.syy - self.sy * self.sy / self.n;
        let cxy = self.sxy - self.sx * self.sy / self.n;
        let div = (cxx * cyy).sqrt();
        (cxx > 0.0 && cyy > 0.0 && div > 0.0 && div.is_finite()).then(|| cxy / div)
    }
}

/// Pearson matrix of `columns` (one value per row, NaN = missing), each shifted by `shift`.
pub(crate) fn pearson(columns: &[&[f64]], shift: &[f64]) -> Vec<Vec<Option<f64>>> {
    let k = columns.len();
    let n_rows = columns.first().map_or(0, |c| c.len());
    let n_pairs = k * (k + 1) / 2;
    let starts: Vec<usize> = (0..n_rows).step_by(TASK_ROWS).collect();
    let partials: Vec<Vec<PairSums>> = starts
        .par_iter()
        .map(|&start| {
            let end = (start + TASK_ROWS).min(n_rows);
            task_sums(columns, shift, start, end, n_pairs)
        })
        .collect();
    let mut total = vec![PairSums::default(); n_pairs];
    for part in &partials {
        for (t, p) in total.iter_mut().zip(part) {
            t.add(p);
        }
    }
    let mut out = vec![vec![None; k]; k];
    let pairs = (0..k).flat_map(|a| (a..k).map(move |b| (a, b)));
    for ((a, b), sums) in pairs.zip(&total) {
        let r = sums.r();
        out[a][b] = r;
        out[b][a] = r;
    }
    out
}

fn task_sums(
    columns: &[&[f64]],
    shift: &[f64],
    start: usize,
    end: usize,
    n_pairs: usize,
) -> Vec<PairSums> {
    let k = columns.len();
    let mut sums = vec![PairSums::default(); n_pairs];
    // shifted values (0 where missing) and 1/0 presence, column after column
    let mut vals = vec![0.0f64; k * BLOCK_ROWS];
    let mut present = vec![0.0f64; k * BLOCK_ROWS];
    let mut complete = vec![false; k];
    let mut col_sum = vec![0.0f64; k];
    let mut col_sq = vec![0.0f64; k];
    let mut block = start;
    while block < end {
        let len = (end - block).min(BLOCK_ROWS);
        for c in 0..k {
            let src = &columns[c][block..block + len];
            let v = &mut vals[c * BLOCK_ROWS..c * BLOCK_ROWS + len];
            let m = &mut present[c * BLOCK_ROWS..c * BLOCK_ROWS + len];
            let mut all = true;
            for ((x, vo), mo) in src.iter().zip(v.iter_mut()).zip(m.iter_mut()) {
                if x.is_finite() {
                    *vo = x - shift[c];
                    *mo = 1.0;
                } else {
                    *vo = 0.0;
                    *mo = 0.0;
                    all = false;
                }
            }
            complete[c] = all;
            col_sum[c] = v.iter().sum();
            col_sq[c] = dot(v, v);
        }
        let mut p = 0;
        for a in 0..k {
            let va = &vals[a * BLOCK_ROWS..a * BLOCK_ROWS + len];
            let ma = &present[a * BLOCK_ROWS..a * BLOCK_ROWS + len];
            for b in a..k {
                let vb = &vals[b * BLOCK_ROWS..b * BLOCK_ROWS + len];
                let mb = &present[b * BLOCK_ROWS..b * BLOCK_ROWS + len];
                let s = &mut sums[p];
                if complete[a] && complete[b] {
                    s.n += len as f64;
                    s.sx += col_sum[a];
                    s.sy += col_sum[b];
                    s.sxx += col_sq[a];
                    s.syy += col_sq[b];
                    s.sxy += dot(va, vb);
                } else {
                    masked(s, va, ma, vb, mb);
                }
                p += 1;
            }
        }
        block += len;
    }
    sums
}

/// Dot product with four accumulators (vectorizes).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..4 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Sums over the rows where both are present (values are 0 where missing).
fn masked(s: &mut PairSums, va: &[f64], ma: &[f64], vb: &[f64], mb: &[f64]) {
    let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..va.len() {
        let x = va[i] * mb[i];
        let y = vb[i] * ma[i];
        n += ma[i] * mb[i];
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    s.n += n;
    s.sx += sx;
    s.sy += sy;
    s.sxx += sxx;
    s.syy += syy;
    s.sxy += sxy;
}

/// Cramér's V matrix of categorical columns (symmetric, `None` where undefined).
pub(crate) fn cramers_v_matrix(columns: &[&Codes]) -> Vec<Vec<Option<f64>>> {
    let k = columns.len();
    let pairs: Vec<(usize, usize)> = (0..k).flat_map(|a| (a..k).map(move |b| (a, b))).collect();
    let values: Vec<Option<f64>> = pairs
        .par_iter()
        .map(|&(a, b)| cramers_v(columns[a], columns[b]))
        .collect();
    let mut out = vec![vec![None; k]; k];
    for (&(a, b), v) in pairs.iter().zip(values) {
        out[a][b] = v;
        out[b][a] = v;
    }
    out
}

/// Cramér's V of two coded columns on the rows where both are present.
pub(crate) fn cramers_v(x: &Codes, y: &Codes) -> Option<f64> {
    let (r, c) = (x.distinct(), y.distinct());
    if r < 2 || c < 2 {
        return None;
    }
    let mut table = vec![0u64; r * c];
    for (&a, &b) in x.codes.iter().zip(&y.codes) {
        if a != MISSING && b != MISSING {
            table[a as usize * c + b as usize] += 1;
        }
    }
    chi2_v(&table, r, c)
}

/// V of an r x c table of counts; empty rows and columns do not count as levels.
pub(crate) fn chi2_v(table: &[u64], r: usize, c: usize) -> Option<f64> {
    let mut row = vec![0u64; r];
    let mut col = vec![0u64; c];
    for i in 0..r {
        for j in 0..c {
            row[i] += table[i * c + j];
            col[j] += table[i * c + j];
        }
    }
    let n: u64 = row.iter().sum();
    let levels = row
        .iter()
        .filter(|&&v| v > 0)
        .count()
        .min(col.iter().filter(|&&v| v > 0).count());
    if n == 0 || levels < 2 {
        return None;
    }
    let n = n as f64;
    let mut chi2 = 0.0;
    for i in 0..r {
        if row[i] == 0 {
            continue;
        }
        for j in 0..c {
            if col[j] == 0 {
                continue;
            }
            let expected = row[i] as f64 * col[j] as f64 / n;
            let d = table[i * c + j] as f64 - expected;
            chi2 += d * d / expected;
        }
    }
    Some((chi2 / (n * (levels - 1) as f64)).sqrt().min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_of_a_line_is_one_and_constant_is_none() {
        let x: Vec<f64> = (0..3000).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        let z = vec![5.0; 3000];
        let m = pearson(&[&x, &y, &z], &[1500.0, 3001.0, 5.0]);
        assert!((m[0][1].expect("defined") - 1.0).abs() < 1e-12);
        assert_eq!(m[0][2], None);
        assert_eq!(m[2][2], None);
    }

    #[test]
    fn pearson_skips_missing_pairwise() {
        let x = [1.0, 2.0, f64::NAN, 4.0];
        let y = [2.0, 4.0, 100.0, 8.0];
        let m = pearson(&[&x, &y], &[2.0, 4.0]);
        assert!((m[0][1].expect("defined") - 1.0).abs() < 1e-12);
    }

    #[test]
    fn perfect_association_has_v_one() {
        let table = [10, 0, 0, 5];
        assert_eq!(chi2_v(&table, 2, 2), Some(1.0));
        let independent = [10, 10, 5, 5];
        assert_eq!(chi2_v(&independent, 2, 2), Some(0.0));
    }
}
