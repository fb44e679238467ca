//! Train/test splits and folds. Deterministic per seed (see [`crate::rng`]);
//! both parts of every split are sorted ascending.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::check::same_len;
use crate::rng::Rng;

/// Row indices of one split; disjoint, each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// Test size: `round(n_rows * fraction)` (half away from zero), clamped to `[1, n_rows - 1]`.
fn test_count(n_rows: usize, fraction: f64) -> Result<usize, EvalError> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(EvalError::FractionOutOfRange { found: fraction });
    }
    if n_rows < 2 {
        return Err(EvalError::TooFewRows {
            expected: 2,
            found: n_rows,
        });
    }
    let n_test = (n_rows as f64 * fraction).round() as usize;
    Ok(n_test.clamp(1, n_rows - 1))
}

/// Rows grouped by class label, classes in order of first appearance (as sklearn's
/// `StratifiedKFold` encodes them), rows ascending.
fn by_class(labels: &[usize]) -> Vec<Vec<usize>> {
    let mut group_of: BTreeMap<usize, usize> = BTreeMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (row, &c) in labels.iter().enumerate() {
        let g = *group_of.entry(c).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(row);
    }
    groups
}

fn sorted_split(mut train: Vec<usize>, mut test: Vec<usize>) -> Split {
    train.sort_unstable();
    test.sort_unstable();
    Split { train, test }
}

/// Seeded random holdout of `round(n_rows * test_fraction)` test rows (half away from
/// zero, clamped to `[1, n_rows - 1]`).
///
/// Stratified by `stratify` labels: each class gives `floor(size * fraction)` test rows,
/// and the rows still needed go one each to the classes with the largest remainders
/// (ties: the class seen first). So every class's test count is within 1 row of
/// `size * fraction`, and every class of 2+ rows keeps a row in train. Where that cannot
/// reach the total (high fractions with tiny classes) the test set is a little smaller.
/// A single-row class may land in test; sklearn refuses such classes instead.
pub fn holdout(
    n_rows: usize,
    test_fraction: f64,
    seed: u64,
    stratify: Option<&[usize]>,
) -> Result<Split, EvalError> {
    let n_test = test_count(n_rows, test_fraction)?;
    let mut rng = Rng::new(seed);
    let Some(labels) = stratify else {
        let mut rows: Vec<usize> = (0..n_rows).collect();
        rng.shuffle(&mut rows);
        let train = rows.split_off(n_test);
        return Ok(sorted_split(train, rows));
    };
    same_len("stratify labels", n_rows, labels.len())?;
    let classes = by_class(labels);
    let targets: Vec<f64> = classes
        .iter()
        .map(|c| c.len() as f64 * test_fraction)
        .collect();
    let mut counts: Vec<usize> = targets.iter().map(|t| t.floor() as usize).collect();
    let mut order: Vec<usize> = (0..classes.len()).collect();
    order.sort_by(|&a, &b| {
        let ra = targets[a] - targets[a].floor();
        let rb = targets[b] - targets[b].floor();
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    // One pass: a class gets floor or ceil of its target, so it stays within 1 row.
    // A class of 2+ rows keeps one row in train; a single-row class may go to test.
    let mut missing = n_test.saturating_sub(counts.iter().sum());
    for &c in &order {
        let cap = classes[c].len().saturating_sub(1).max(1);
        if missing > 0 && targets[c] > counts[c] as f64 && counts[c] < cap {
            counts[c] += 1;
            missing -= 1;
        }
    }
    let (mut train, mut test) = (Vec::with_capacity(n_rows), Vec::with_capacity(n_test));
    for (mut rows, &k) in classes.into_iter().zip(&counts) {
        rng.shuffle(&mut rows);
        let rest = rows.split_off(k);
        test.extend(rows);
        train.extend(rest);
    }
    Ok(sorted_split(train, test))
}

/// K folds; fold sizes differ by at most 1 (sklearn `KFold` / `StratifiedKFold` layout).
///
/// Without shuffle the folds are contiguous blocks (unstratified) or assigned in row
/// order per class (stratified), exactly as sklearn does. Stratified: each class is spread
/// so its count per fold differs by at most 1 between folds; a class with fewer than `k`
/// rows is missing from some test folds (sklearn warns); if every class has fewer than
/// `k` rows it is an error (as in sklearn).
pub fn kfold(
    n_rows: usize,
    k: usize,
    seed: u64,
    shuffle: bool,
    stratify: Option<&[usize]>,
) -> Result<Vec<Split>, EvalError> {
    if k < 2 {
        return Err(EvalError::TooFewFolds { found: k });
    }
    if k > n_rows {
        return Err(EvalError::TooManyFolds {
            what: "kfold",
            n_rows,
            found: k,
        });
    }
    let mut rng = Rng::new(seed);
    let mut fold_of = vec![0usize; n_rows];
    match stratify {
        None => {
            let mut rows: Vec<usize> = (0..n_rows).collect();
            if shuffle {
                rng.shuffle(&mut rows);
            }
            let mut start = 0;
            for fold in 0..k {
                let size = n_rows / k + usize::from(fold < n_rows % k);
                for &row in &rows[start..start + size] {
                    fold_of[row] = fold;
                }
                start += size;
            }
        }
        Some(labels) => {
            same_len("stratify labels", n_rows, labels.len())?;
            let classes = by_class(labels);
            let largest = classes.iter().map(Vec::len).max().unwrap_or(0);
            if largest < k {
                return Err(EvalError::ClassesSmallerThanFolds { k, largest });
            }
            // Deal the rows, sorted by class, round-robin: position p goes to fold p % k.
            let mut offset = 0;
            for rows in &classes {
                let mut folds: Vec<usize> = (0..k)
                    .flat_map(|fold| {
                        let start = (fold + k - offset % k) % k;
                        let count = rows.len().saturating_sub(start).div_ceil(k);
                        std::iter::repeat_n(fold, count)
                    })
                    .collect();
                if shuffle {
                    rng.shuffle(&mut folds);
                }
                for (&row, &fold) in rows.iter().zip(&folds) {
                    fold_of[row] = fold;
                }
                offset += rows.len();
            }
        }
    }
    Ok((0..k)
        .map(|fold| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..n_rows).partition(|&row| fold_of[row] == fold);
            Split { train, test }
        })
        .collect())
}

/// The last `round(n * test_fraction)` rows of `order` (row indices sorted by time) are
/// the test set; clamped so both parts are non-empty. Rows not in `order` are in neither.
pub fn time_ordered_holdout(order: &[usize], test_fraction: f64) -> Result<Split, EvalError> {
    let n_test = test_count(order.len(), test_fraction)?;
    let mut seen = order.to_vec();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(EvalError::DuplicateRow {
            what: "order",
            row: w[0],
        });
    }
    let cut = order.len() - n_test;
    Ok(sorted_split(order[..cut].to_vec(), order[cut..].to_vec()))
}

/// Expanding-window folds over rows `0..n_rows` already in time order, like sklearn
/// `TimeSeriesSplit(n_splits=k)`: test blocks of `n_rows / (k + 1)` rows at the end,
/// each trained on every row before it.
pub fn time_series_folds(n_rows: usize, k: usize) -> Result<Vec<Split>, EvalError> {
    if k < 2 {
        return Err(EvalError::TooFewFolds { found: k });
    }
    if k + 1 > n_rows {
        return Err(EvalError::TooManyFolds {
            what: "time_series_folds (needs k + 1 blocks)",
            n_rows,
            found: k + 1,
        });
    }
    let test_size = n_rows / (k + 1);
    Ok((0..k)
        .map(|i| {
            let start = n_rows - (k - i) * test_size;
            Split {
                train: (0..start).collect(),
                test: (start..start + test_size).collect(),
            }
        })
        .collect())
}
