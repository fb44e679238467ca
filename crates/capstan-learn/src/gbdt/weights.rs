//! Row weights: sample weights times class weights, checked, and applied to gradients.

use rayon::prelude::*;

use super::objective::Loss;
use super::{ClassWeight, ClassWeightMode};
use crate::{LearnError, Task};

/// The training row weights, or `None` when every row weighs the same (no sample or class
/// weights given), which keeps the unweighted arithmetic exactly.
pub(crate) fn resolve(
    sample: Option<&[f64]>,
    class_weight: Option<&ClassWeight>,
    y: &[f64],
    task: Task,
    loss: Loss,
) -> Result<Option<Vec<f64>>, LearnError> {
    if sample.is_none() && class_weight.is_none() {
        return Ok(None);
    }
    if matches!(loss, Loss::L1 | Loss::Quantile { .. }) {
        return Err(LearnError::InvalidParam {
            name: "objective",
            message:
                "sample and class weights are not supported with the l1 and quantile objectives"
                    .into(),
        });
    }
    let mut w = match sample {
        Some(s) => {
            check(s, y.len())?;
            s.to_vec()
        }
        None => vec![1.0; y.len()],
    };
    if let Some(cw) = class_weight {
        let per_class = class_weights(cw, y, task)?;
        for (wi, &yi) in w.iter_mut().zip(y) {
            *wi *= per_class[yi as usize];
        }
    }
    // LightGBM keeps weights as 32-bit floats.
    w.iter_mut().for_each(|v| *v = *v as f32 as f64);
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(LearnError::InvalidData(
            "training weights sum to zero: at least one row needs a positive weight".into(),
        ));
    }
    Ok(Some(w))
}

fn check(w: &[f64], n: usize) -> Result<(), LearnError> {
    if w.len() != n {
        return Err(LearnError::InvalidData(format!(
            "training set has {n} rows but {} weights",
            w.len()
        )));
    }
    if let Some((i, v)) = w
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
    {
        return Err(LearnError::InvalidData(format!(
            "training weight at row {i} is {v}: weights must be finite and >= 0"
        )));
    }
    Ok(())
}

/// A weight per class index: `n / (n_classes * count)` for `balanced`, else the table's.
fn class_weights(cw: &ClassWeight, y: &[f64], task: Task) -> Result<Vec<f64>, LearnError> {
    let bad = |message: String| LearnError::InvalidParam {
        name: "class_weight",
        message,
    };
    let k = match task {
        Task::Binary => 2,
        Task::Multiclass { n_classes } => n_classes,
        Task::Regression => {
            return Err(bad(
                "applies to classification, the task is regression".into()
            ));
        }
    };
    match cw {
        ClassWeight::Mode(ClassWeightMode::Balanced) => {
            let mut counts = vec![0usize; k];
            for &v in y {
                counts[v as usize] += 1;
            }
            // scikit-learn counts the classes present in `y`.
            let (n, present) = (y.len() as f64, counts.iter().filter(|&&c| c > 0).count());
            Ok(counts
                .iter()
                .map(|&c| {
                    if c == 0 {
                        1.0
                    } else {
                        n / (present as f64 * c as f64)
                    }
                })
                .collect())
        }
        ClassWeight::Table(table) => {
            let mut out = vec![1.0; k];
            for (key, &v) in table {
                let c = key
                    .parse::<usize>()
                    .ok()
                    .filter(|&c| c < k)
                    .ok_or_else(|| bad(format!("key '{key}' is not a class index in 0..{k}")))?;
                if !(v.is_finite() && v >= 0.0) {
                    return Err(bad(format!(
                        "weight of class {key} must be finite and >= 0, found {v}"
                    )));
                }
                out[c] = v;
            }
            Ok(out)
        }
    }
}

/// Multiplies each row's gradients and hessians (class-major, `n` per column) by its weight.
pub(crate) fn apply(w: &[f64], grad: &mut [f64], hess: &mut [f64]) {
    let n = w.len();
    grad.par_chunks_mut(n)
        .zip(hess.par_chunks_mut(n))
        .for_each(|(g, h)| {
            for ((g, h), &wi) in g.iter_mut().zip(h.iter_mut()).zip(w) {
                *g *= wi;
                *h *= wi;
            }
        });
}
