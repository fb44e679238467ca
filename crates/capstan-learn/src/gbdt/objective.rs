//! Losses: initial scores, gradients/hessians, the reported loss, and the output transform.

use rayon::prelude::*;

use crate::Task;

const CHUNK: usize = 4096;
/// LightGBM's `kEpsilon`, the clamp of the average label for the initial score.
const K_EPSILON: f64 = 1e-15;

/// Number of trees (and raw scores) per round.
pub(crate) fn n_scores(task: Task) -> usize {
    match task {
        Task::Multiclass { n_classes } => n_classes,
        _ => 1,
    }
}

/// LightGBM's `boost_from_average`: mean (L2), log-odds (binary), log class prior (softmax).
pub(crate) fn init_scores(task: Task, y: &[f64]) -> Vec<f64> {
    let n = y.len().max(1) as f64;
    match task {
        Task::Regression => vec![fixed_sum(y, |v| v) / n],
        Task::Binary => {
            let p = (fixed_sum(y, |v| v) / n).clamp(K_EPSILON, 1.0 - K_EPSILON);
            vec![(p / (1.0 - p)).ln()]
        }
        Task::Multiclass { n_classes } => {
            let mut counts = vec![0usize; n_classes];
            for &v in y {
                if let Some(c) = counts.get_mut(v as usize) {
                    *c += 1;
                }
            }
            counts
                .iter()
                .map(|&c| (c as f64 / n).max(K_EPSILON).ln())
                .collect()
        }
    }
}

/// Sum in fixed chunks, so the result does not depend on the thread count.
pub(crate) fn fixed_sum(values: &[f64], f: impl Fn(f64) -> f64 + Sync) -> f64 {
    let partial: Vec<f64> = values
        .par_chunks(CHUNK)
        .map(|c| c.iter().map(|&v| f(v)).sum::<f64>())
        .collect();
    partial.iter().sum()
}

fn sigmoid(s: f64) -> f64 {
    1.0 / (1.0 + (-s).exp())
}

/// `log(1 + e^s)` without overflow.
fn softplus(s: f64) -> f64 {
    if s > 0.0 {
        s + (-s).exp().ln_1p()
    } else {
        s.exp().ln_1p()
    }
}

/// Gradients and hessians of every score column. `scores` is row-major `n x k`; the outputs are
/// class-major (`grad[c * n + i]`).
pub(crate) fn gradients(task: Task, y: &[f64], scores: &[f64], grad: &mut [f64], hess: &mut [f64]) {
    match task {
        Task::Regression => {
            grad.par_iter_mut()
                .zip(hess.par_iter_mut())
                .zip(y.par_iter().zip(scores.par_iter()))
                .for_each(|((g, h), (&y, &s))| {
                    *g = s - y;
                    *h = 1.0;
                });
        }
        Task::Binary => {
            grad.par_iter_mut()
                .zip(hess.par_iter_mut())
                .zip(y.par_iter().zip(scores.par_iter()))
                .for_each(|((g, h), (&y, &s))| {
                    let p = sigmoid(s);
                    *g = p - y;
                    *h = p * (1.0 - p);
                });
        }
        Task::Multiclass { n_classes: k } => {
            let n = y.len();
            let mut prob = scores.to_vec();
            prob.par_chunks_mut(k).for_each(softmax_in_place);
            // LightGBM scales the softmax hessian by k / (k - 1).
            let factor = k as f64 / (k as f64 - 1.0);
            grad.par_chunks_mut(n)
                .zip(hess.par_chunks_mut(n))
                .enumerate()
                .for_each(|(c, (gc, hc))| {
                    for i in 0..n {
                        let p = prob[i * k + c];
                        gc[i] = if y[i] as usize == c { p - 1.0 } else { p };
                        hc[i] = factor * p * (1.0 - p);
                    }
                });
        }
    }
}

pub(crate) fn softmax_in_place(row: &mut [f64]) {
    let m = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - m).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// Mean loss: squared error (regression), log loss (binary), multi log loss (multiclass).
pub(crate) fn loss(task: Task, y: &[f64], scores: &[f64]) -> f64 {
    let n = y.len().max(1) as f64;
    let k = n_scores(task);
    let partial: Vec<f64> = y
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, ys)| {
            ys.iter()
                .enumerate()
                .map(|(j, &yi)| {
                    let i = c * CHUNK + j;
                    let s = &scores[i * k..(i + 1) * k];
                    match task {
                        Task::Regression => (s[0] - yi) * (s[0] - yi),
                        Task::Binary => softplus(s[0]) - yi * s[0],
                        Task::Multiclass { .. } => {
                            let m = s.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                            let lse = m + s.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                            lse - s.get(yi as usize).copied().unwrap_or(m)
                        }
                    }
                })
                .sum::<f64>()
        })
        .collect();
    partial.iter().sum::<f64>() / n
}

/// Raw scores to predictions, in place: identity, sigmoid, or softmax per row.
pub(crate) fn transform(task: Task, values: &mut [f64]) {
    match task {
        Task::Regression => {}
        Task::Binary => values.iter_mut().for_each(|v| *v = sigmoid(*v)),
        Task::Multiclass { n_classes } => values
            .chunks_mut(n_classes.max(1))
            .for_each(softmax_in_place),
    }
}
