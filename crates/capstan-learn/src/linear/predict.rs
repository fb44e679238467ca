//! Prediction and the numerically stable link functions.

use capstan_frame::Matrix;
use rayon::prelude::*;

use super::LinearModel;
use super::colmat::{ROW_BLOCK, dot};
use crate::Task;

/// Fills `values` (`n_rows x n_outputs`); shapes were checked by the caller.
pub(super) fn predict_rows(model: &LinearModel, x: &Matrix, values: &mut [f64]) {
    let k = model.task.n_outputs();
    let p = model.n_features;
    if k == 0 {
        return;
    }
    let fill = |block: usize, out: &mut [f64]| {
        for (r, o) in out.chunks_exact_mut(k).enumerate() {
            let i = block * ROW_BLOCK + r;
            let row = &x.data[i * p..(i + 1) * p];
            for (c, oc) in o.iter_mut().enumerate() {
                *oc = model.intercepts[c] + dot(&model.coefficients[c * p..(c + 1) * p], row);
            }
            match model.task {
                Task::Regression => {}
                Task::Binary => o[0] = sigmoid(o[0]),
                Task::Multiclass { .. } => {
                    softmax(o);
                }
            }
        }
    };
    values
        .par_chunks_mut(ROW_BLOCK * k)
        .enumerate()
        .for_each(|(block, out)| fill(block, out));
}

pub(super) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)` without overflow.
pub(super) fn log1p_exp(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// In-place softmax; returns `ln(sum_c e^{z_c})` of the input.
pub(super) fn softmax(z: &mut [f64]) -> f64 {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
    max + sum.ln()
}
