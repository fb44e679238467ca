//! Choosing the test rows: seeded (stratified) random holdout or a time-ordered holdout.

use anyhow::Result;
use capstan_frame::Frame;
use capstan_learn::Task;

use crate::config::{SplitMethod, TrainConfig};
use crate::exit::input_error;
use crate::target::Target;

pub(super) fn make_split(
    cfg: &TrainConfig,
    frame: &Frame,
    target: &Target,
    source: &str,
) -> Result<capstan_eval::Split> {
    let n = frame.n_rows();
    let test_fraction = cfg.split.test_fraction;
    if test_fraction == 0.0 {
        return Ok(capstan_eval::Split {
            train: (0..n).collect(),
            test: Vec::new(),
        });
    }
    let split = match cfg.split.method {
        SplitMethod::Random => {
            let strata = class_strata_of(target.task, &target.y);
            capstan_eval::holdout(n, test_fraction, cfg.seed, strata.as_deref())?
        }
        SplitMethod::Time => {
            let order = match &cfg.split.time_column {
                None => (0..n).collect(),
                Some(name) => {
                    let col = frame.column(name).ok_or_else(|| {
                        input_error(format!("{source}: split.time_column '{name}' not found"))
                    })?;
                    let mut order: Vec<usize> = (0..n).collect();
                    order.sort_by(|&a, &b| compare_cells(col, a, b));
                    order
                }
            };
            // Keep both parts in time order, so early stopping and CV can respect it too.
            let mut split = capstan_eval::time_ordered_holdout(&order, test_fraction)?;
            let mut rank = vec![0; n];
            for (r, &row) in order.iter().enumerate() {
                rank[row] = r;
            }
            split.train.sort_by_key(|&row| rank[row]);
            split.test.sort_by_key(|&row| rank[row]);
            split
        }
    };
    Ok(split)
}

/// Orders two cells of one column: text by text, anything else by its numeric view, nulls first.
fn compare_cells(col: &capstan_frame::Column, a: usize, b: usize) -> std::cmp::Ordering {
    match (col.str_at(a), col.str_at(b)) {
        (Some(x), Some(y)) => x.cmp(y),
        _ => {
            let key = |i| col.f64_at(i).unwrap_or(f64::NEG_INFINITY);
            key(a).total_cmp(&key(b))
        }
    }
}

/// Class labels to stratify by; none for regression.
pub(super) fn class_strata_of(task: Task, y: &[f64]) -> Option<Vec<usize>> {
    match task {
        Task::Regression => None,
        _ => Some(y.iter().map(|&v| v as usize).collect()),
    }
}
