//! Checks at the edge: parameters and training data, with errors naming the culprit.

use capstan_frame::Matrix;

use super::{LinearParams, Penalty};
use crate::{LearnError, Task};

fn invalid(name: &'static str, message: String) -> LearnError {
    LearnError::InvalidParam { name, message }
}

pub(super) fn check_params(task: Task, p: &LinearParams) -> Result<(), LearnError> {
    let logistic = !matches!(task, Task::Regression);
    if logistic && p.penalty != Penalty::None && !(p.c.is_finite() && p.c > 0.0) {
        return Err(invalid(
            "c",
            format!("expected a finite value > 0, found {}", p.c),
        ));
    }
    if !logistic && p.penalty != Penalty::None && !(p.alpha.is_finite() && p.alpha >= 0.0) {
        return Err(invalid(
            "alpha",
            format!("expected a finite value >= 0, found {}", p.alpha),
        ));
    }
    if p.penalty == Penalty::ElasticNet && !(0.0..=1.0).contains(&p.l1_ratio) {
        return Err(invalid(
            "l1_ratio",
            format!("expected a value in [0, 1], found {}", p.l1_ratio),
        ));
    }
    if !(p.tol.is_finite() && p.tol >= 0.0) {
        return Err(invalid(
            "tol",
            format!("expected a finite value >= 0, found {}", p.tol),
        ));
    }
    if p.max_iter == 0 {
        return Err(invalid("max_iter", "expected at least 1, found 0".into()));
    }
    match task {
        Task::Multiclass { n_classes } if n_classes < 2 => Err(invalid(
            "n_classes",
            format!("multiclass needs at least 2 classes, found {n_classes}"),
        )),
        _ => Ok(()),
    }
}

pub(super) fn check_data(x: &Matrix, y: &[f64]) -> Result<(), LearnError> {
    let bad = |m: String| Err(LearnError::InvalidData(m));
    if x.n_rows == 0 {
        return bad("x has zero rows".into());
    }
    if x.data.len() != x.n_rows * x.n_cols {
        return bad(format!(
            "x holds {} values, expected n_rows * n_cols = {} * {}",
            x.data.len(),
            x.n_rows,
            x.n_cols
        ));
    }
    if y.len() != x.n_rows {
        return bad(format!(
            "y has {} values, expected one per row of x ({})",
            y.len(),
            x.n_rows
        ));
    }
    if let Some(pos) = x.data.iter().position(|v| !v.is_finite()) {
        let (row, col) = (pos / x.n_cols, pos % x.n_cols);
        let name = x.feature_names.get(col).map_or("?", String::as_str);
        return bad(format!(
            "x has a non-finite value ({}) at row {row}, column {col} ('{name}')",
            x.data[pos]
        ));
    }
    if let Some(row) = y.iter().position(|v| !v.is_finite()) {
        return bad(format!(
            "y has a non-finite value ({}) at row {row}",
            y[row]
        ));
    }
    Ok(())
}

/// Class index per row; every class in `0..n_classes` must occur.
pub(super) fn class_indices(y: &[f64], task: Task) -> Result<Vec<usize>, LearnError> {
    let n_classes = match task {
        Task::Multiclass { n_classes } => n_classes,
        _ => 2,
    };
    let mut counts = vec![0usize; n_classes];
    let mut classes = Vec::with_capacity(y.len());
    for (row, &v) in y.iter().enumerate() {
        if v.fract() != 0.0 || v < 0.0 || v >= n_classes as f64 {
            return Err(LearnError::InvalidData(format!(
                "y[{row}] = {v} is not a class index in 0..{n_classes}"
            )));
        }
        let c = v as usize;
        counts[c] += 1;
        classes.push(c);
    }
    let present = counts.iter().filter(|&&n| n > 0).count();
    if present < 2 {
        return Err(LearnError::InvalidData(format!(
            "y holds fewer than 2 classes ({present} of {n_classes} present)"
        )));
    }
    if let Some(c) = counts.iter().position(|&n| n == 0) {
        return Err(LearnError::InvalidData(format!(
            "class {c} has no rows in y (n_classes = {n_classes}); \
             its intercept would diverge"
        )));
    }
    Ok(classes)
}
