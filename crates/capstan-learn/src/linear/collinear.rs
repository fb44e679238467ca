//! Exact linear dependencies among the columns (e.g. a full one-hot group after centering).
//!
//! Along a null direction `v` (`X v = 0`) the loss is flat and only the penalty changes;
//! coordinate descent crosses such a direction by tiny zig-zag steps, so the L1 solver
//! moves along each one exactly (see `cd_inner`).

use super::colmat::{ColMatrix, axpy, dot};

/// Squared residual (unit-norm columns) below which a column counts as dependent.
const DEPENDENT: f64 = 1e-12;
/// Skip the search when the Gram matrix would cost more multiply-adds than this.
const MAX_WORK: usize = 4_000_000_000;

/// A basis of exact null directions of the (centered) columns, as sparse `(column, weight)`.
pub(super) fn null_directions(x: &ColMatrix) -> Vec<Vec<(usize, f64)>> {
    let (n, p) = (x.n_rows, x.n_cols);
    if p < 2 || n.saturating_mul(p).saturating_mul(p) / 2 > MAX_WORK {
        return Vec::new();
    }
    let gram = x.gram();
    let max_diag = (0..p).map(|j| gram[j * p + j]).fold(0.0, f64::max);
    // Columns that are (numerically) zero are not part of any useful direction.
    let cols: Vec<usize> = (0..p)
        .filter(|&j| gram[j * p + j] > 1e-20 * max_diag)
        .collect();
    let m = cols.len();
    let norm: Vec<f64> = cols.iter().map(|&j| gram[j * p + j].sqrt()).collect();
    let a = |i: usize, j: usize| gram[cols[i] * p + cols[j]] / (norm[i] * norm[j]);

    // Cholesky with complete pivoting; `perm[..rank]` spans the columns.
    let mut perm: Vec<usize> = (0..m).collect();
    let mut l = vec![0.0; m * m];
    let mut resid = vec![1.0f64; m];
    let mut rank = 0;
    while rank < m {
        let best = (rank..m)
            .max_by(|&i, &j| resid[perm[i]].total_cmp(&resid[perm[j]]))
            .unwrap_or(rank);
        if resid[perm[best]] <= DEPENDENT {
            break;
        }
        perm.swap(rank, best);
        for t in 0..rank {
            l.swap(rank * m + t, best * m + t);
        }
        let piv = resid[perm[rank]].sqrt();
        l[rank * m + rank] = piv;
        for i in rank + 1..m {
            let mut v = a(perm[i], perm[rank]);
            for t in 0..rank {
                v -= l[i * m + t] * l[rank * m + t];
            }
            v /= piv;
            l[i * m + rank] = v;
            resid[perm[i]] -= v * v;
        }
        rank += 1;
    }

    // Dependent column d: x_d = sum_t coef_t x_{perm[t]}, coef = L_BB^-T L[d, ..rank].
    let mut dirs = Vec::new();
    for i in rank..m {
        let mut coef: Vec<f64> = l[i * m..i * m + rank].to_vec();
        for t in (0..rank).rev() {
            let mut v = coef[t];
            for s in t + 1..rank {
                v -= l[s * m + t] * coef[s];
            }
            coef[t] = v / l[t * m + t];
        }
        let mut dir = vec![(cols[perm[i]], 1.0 / norm[perm[i]])];
        for (t, c) in coef.iter().enumerate() {
            if c.abs() > 1e-12 {
                dir.push((cols[perm[t]], -c / norm[perm[t]]));
            }
        }
        dir.sort_by_key(|e| e.0);
        if is_exact(x, &dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// `||X v|| <= EXACT ||v||` in unit-column units: the loss is flat along `v` to round-off.
fn is_exact(x: &ColMatrix, dir: &[(usize, f64)]) -> bool {
    const EXACT: f64 = 1e-9;
    let mut xv = vec![0.0; x.n_rows];
    let mut v_norm2 = 0.0;
    for &(j, w) in dir {
        axpy(w, x.col(j), &mut xv);
        v_norm2 += w * w * dot(x.col(j), x.col(j));
    }
    dot(&xv, &xv) <= EXACT * EXACT * v_norm2
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_frame::Matrix;

    #[test]
    fn finds_one_hot_dependency() {
        // Three one-hot levels plus a free column; centered, the levels sum to zero.
        let rows = [
            [1.0, 0.0, 0.0, 0.3],
            [0.0, 1.0, 0.0, -1.0],
            [0.0, 0.0, 1.0, 2.0],
            [1.0, 0.0, 0.0, 0.5],
            [0.0, 1.0, 0.0, 0.1],
        ];
        let data: Vec<f64> = rows.iter().flatten().copied().collect();
        let names = (0..4).map(|j| format!("x{j}")).collect();
        let mut x = ColMatrix::from_rows(&Matrix::new(5, names, data));
        x.center();
        let dirs = null_directions(&x);
        assert_eq!(dirs.len(), 1);
        let dir = &dirs[0];
        assert!(dir.iter().all(|&(j, _)| j < 3), "{dir:?}");
        for i in 0..5 {
            let xv: f64 = dir.iter().map(|&(j, w)| x.col(j)[i] * w).sum();
            assert!(xv.abs() < 1e-12);
        }
    }
}
