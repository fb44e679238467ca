//! Losses: initial scores, gradients/hessians, the reported loss, and the output transform.

use rayon::prelude::*;

use super::{GbdtParams, Objective};
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

/// A training loss with its parameters, resolved from the task and [`GbdtParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Loss {
    L2,
    L1,
    Huber { alpha: f64 },
    Quantile { alpha: f64 },
    Poisson { max_delta_step: f64 },
    Tweedie { power: f64 },
    Gamma,
    Binary,
    Multiclass { n_classes: usize },
}

impl Loss {
    /// The loss of `objective` for `task`; parameters are checked by `validate::params`.
    pub(crate) fn new(task: Task, p: &GbdtParams) -> Loss {
        match (task, p.objective) {
            (Task::Binary, _) => Loss::Binary,
            (Task::Multiclass { n_classes }, _) => Loss::Multiclass { n_classes },
            (Task::Regression, Objective::Auto | Objective::L2) => Loss::L2,
            (Task::Regression, Objective::L1) => Loss::L1,
            (Task::Regression, Objective::Huber) => Loss::Huber { alpha: p.alpha },
            // LightGBM keeps the quantile's alpha as a 32-bit float.
            (Task::Regression, Objective::Quantile) => Loss::Quantile {
                alpha: p.alpha as f32 as f64,
            },
            (Task::Regression, Objective::Poisson) => Loss::Poisson {
                max_delta_step: p.poisson_max_delta_step,
            },
            (Task::Regression, Objective::Tweedie) => Loss::Tweedie {
                power: p.tweedie_variance_power,
            },
            (Task::Regression, Objective::Gamma) => Loss::Gamma,
        }
    }

    /// The percentile each leaf is renewed to after growth (LightGBM `RenewTreeOutput`).
    pub(crate) fn renew_percentile(&self) -> Option<f64> {
        match *self {
            Loss::L1 => Some(0.5),
            Loss::Quantile { alpha } => Some(alpha),
            _ => None,
        }
    }
}

/// The raw scores boosting starts from: `base_score` through the loss's link, else the
/// `boost_from_average` constants, else 0 for every output (`validate::base_score` ran).
pub(crate) fn start_scores(loss: Loss, p: &GbdtParams, y: &[f64], w: Option<&[f64]>) -> Vec<f64> {
    if let Some(v) = p.base_score {
        return vec![link(loss, v)];
    }
    if !p.boost_from_average {
        let k = match loss {
            Loss::Multiclass { n_classes } => n_classes,
            _ => 1,
        };
        return vec![0.0; k];
    }
    init_scores(loss, y, w)
}

/// The raw score of prediction `v`: log-odds (binary), log (log-link losses), else `v`.
fn link(loss: Loss, v: f64) -> f64 {
    match loss {
        Loss::Binary => (v / (1.0 - v)).ln(),
        Loss::Poisson { .. } | Loss::Tweedie { .. } | Loss::Gamma => v.ln(),
        _ => v,
    }
}

/// LightGBM's `boost_from_average`: mean (L2, Huber), median (L1), the alpha-quantile
/// (quantile), log of the mean (Poisson, Tweedie, gamma), log-odds (binary), log class prior
/// (softmax).
/// With row weights `w`, the means and class priors are weighted (L1 and quantile take none).
pub(crate) fn init_scores(loss: Loss, y: &[f64], w: Option<&[f64]>) -> Vec<f64> {
    if let Some(w) = w {
        return weighted_init_scores(loss, y, w);
    }
    let n = y.len().max(1) as f64;
    match loss {
        Loss::L2 | Loss::Huber { .. } => vec![fixed_sum(y, |v| v) / n],
        // LightGBM's labels and this percentile are 32-bit floats.
        Loss::L1 => vec![label_percentile(y, 0.5)],
        Loss::Quantile { alpha } => vec![label_percentile(y, alpha)],
        Loss::Poisson { .. } | Loss::Tweedie { .. } | Loss::Gamma => {
            vec![(fixed_sum(y, |v| v) / n).ln()]
        }
        Loss::Binary => {
            let p = (fixed_sum(y, |v| v) / n).clamp(K_EPSILON, 1.0 - K_EPSILON);
            vec![(p / (1.0 - p)).ln()]
        }
        Loss::Multiclass { n_classes } => {
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

/// LightGBM's weighted `BoostFromScore`: `sum(w y) / sum(w)` in place of the mean.
fn weighted_init_scores(loss: Loss, y: &[f64], w: &[f64]) -> Vec<f64> {
    let sum_w = fixed_sum(w, |v| v);
    let mean = || fixed_dot(y, w) / sum_w;
    match loss {
        Loss::Poisson { .. } | Loss::Tweedie { .. } | Loss::Gamma => vec![mean().ln()],
        Loss::Binary => {
            let p = mean().clamp(K_EPSILON, 1.0 - K_EPSILON);
            vec![(p / (1.0 - p)).ln()]
        }
        Loss::Multiclass { n_classes } => {
            let mut sums = vec![0.0; n_classes];
            for (&v, &wi) in y.iter().zip(w) {
                if let Some(s) = sums.get_mut(v as usize) {
                    *s += wi;
                }
            }
            sums.iter()
                .map(|&s| (s / sum_w).max(K_EPSILON).ln())
                .collect()
        }
        // L1 and quantile refuse weights (`weights::resolve`).
        _ => vec![mean()],
    }
}

/// `sum(a * b)` in fixed chunks.
fn fixed_dot(a: &[f64], b: &[f64]) -> f64 {
    let partial: Vec<f64> = a
        .par_chunks(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>())
        .collect();
    partial.iter().sum()
}

fn label_percentile(y: &[f64], alpha: f64) -> f64 {
    percentile(y.iter().map(|&v| v as f32 as f64).collect(), alpha) as f32 as f64
}

/// LightGBM's `PercentileFun`: the `alpha` percentile of `data`, interpolated between the
/// order statistics around position `(1 - alpha) * n` counted from the largest.
pub(crate) fn percentile(mut data: Vec<f64>, alpha: f64) -> f64 {
    let n = data.len();
    if n == 0 {
        return 0.0;
    }
    let float_pos = (1.0 - alpha) * n as f64;
    let pos = float_pos as usize;
    if pos < 1 {
        return data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    }
    if pos >= n {
        return data.iter().copied().fold(f64::INFINITY, f64::min);
    }
    let bias = float_pos - pos as f64;
    // Descending order: v1 is the pos-th largest value, v2 the next one.
    data.sort_unstable_by(|a, b| b.total_cmp(a));
    let (v1, v2) = (data[pos - 1], data[pos]);
    v1 - (v1 - v2) * bias
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

/// Gradient and hessian of one row's loss at raw score `s` (single-output losses).
pub(crate) fn point_gradient(loss: Loss, y: f64, s: f64) -> (f64, f64) {
    match loss {
        Loss::L2 => (s - y, 1.0),
        Loss::L1 => (sign(s - y), 1.0),
        Loss::Huber { alpha } => {
            let d = s - y;
            (if d.abs() <= alpha { d } else { sign(d) * alpha }, 1.0)
        }
        Loss::Quantile { alpha } => (if s - y >= 0.0 { 1.0 - alpha } else { -alpha }, 1.0),
        Loss::Poisson { max_delta_step } => (s.exp() - y, (s + max_delta_step).exp()),
        Loss::Tweedie { power: rho } => {
            let (a, b) = (((1.0 - rho) * s).exp(), ((2.0 - rho) * s).exp());
            (-y * a + b, -y * (1.0 - rho) * a + (2.0 - rho) * b)
        }
        Loss::Gamma => {
            let r = y * (-s).exp();
            (1.0 - r, r)
        }
        Loss::Binary => {
            let p = sigmoid(s);
            (p - y, p * (1.0 - p))
        }
        Loss::Multiclass { .. } => (f64::NAN, f64::NAN),
    }
}

/// LightGBM's `Common::Sign`: -1, 0 or 1.
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Gradients and hessians of every score column. `scores` is row-major `n x k`; the outputs are
/// class-major (`grad[c * n + i]`).
pub(crate) fn gradients(loss: Loss, y: &[f64], scores: &[f64], grad: &mut [f64], hess: &mut [f64]) {
    match loss {
        Loss::Multiclass { n_classes: k } => {
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
        _ => {
            grad.par_iter_mut()
                .zip(hess.par_iter_mut())
                .zip(y.par_iter().zip(scores.par_iter()))
                .for_each(|((g, h), (&y, &s))| (*g, *h) = point_gradient(loss, y, s));
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

/// Loss of one row with prediction `mu` (after the output transform) for the log-link losses,
/// or raw score `s` otherwise: squared error, absolute error, Huber loss, pinball loss, and the
/// unit deviances of Poisson, Tweedie and gamma (as scikit-learn's `mean_*_deviance`).
pub(crate) fn point_loss(loss: Loss, y: f64, s: f64) -> f64 {
    match loss {
        Loss::L2 => (s - y) * (s - y),
        Loss::L1 => (s - y).abs(),
        Loss::Huber { alpha } => {
            let d = (s - y).abs();
            if d <= alpha {
                0.5 * d * d
            } else {
                alpha * (d - 0.5 * alpha)
            }
        }
        Loss::Quantile { alpha } => pinball(y, s, alpha),
        Loss::Poisson { .. } => tweedie_deviance(y, s.exp(), 1.0),
        Loss::Tweedie { power } => tweedie_deviance(y, s.exp(), power),
        Loss::Gamma => tweedie_deviance(y, s.exp(), 2.0),
        Loss::Binary => softplus(s) - y * s,
        Loss::Multiclass { .. } => f64::NAN,
    }
}

/// Pinball loss of quantile `alpha` for prediction `p`.
pub(crate) fn pinball(y: f64, p: f64, alpha: f64) -> f64 {
    let d = y - p;
    if d >= 0.0 {
        alpha * d
    } else {
        (alpha - 1.0) * d
    }
}

/// Unit Tweedie deviance of prediction `mu > 0` (power 1: Poisson, 2: gamma).
pub(crate) fn tweedie_deviance(y: f64, mu: f64, power: f64) -> f64 {
    if power == 1.0 {
        let t = if y > 0.0 { y * (y / mu).ln() } else { 0.0 };
        2.0 * (t - y + mu)
    } else if power == 2.0 {
        2.0 * ((mu / y).ln() + y / mu - 1.0)
    } else {
        let (a, b) = (1.0 - power, 2.0 - power);
        2.0 * (y.max(0.0).powf(b) / (a * b) - y * mu.powf(a) / a + mu.powf(b) / b)
    }
}

/// Mean training loss of raw scores (see `point_loss`; multi log loss for multiclass).
pub(crate) fn loss(loss: Loss, y: &[f64], scores: &[f64]) -> f64 {
    let n = y.len().max(1) as f64;
    let k = match loss {
        Loss::Multiclass { n_classes } => n_classes,
        _ => 1,
    };
    let partial: Vec<f64> = y
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, ys)| {
            ys.iter()
                .enumerate()
                .map(|(j, &yi)| {
                    let i = c * CHUNK + j;
                    let s = &scores[i * k..(i + 1) * k];
                    match loss {
                        Loss::Multiclass { .. } => {
                            let m = s.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                            let lse = m + s.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                            lse - s.get(yi as usize).copied().unwrap_or(m)
                        }
                        _ => point_loss(loss, yi, s[0]),
                    }
                })
                .sum::<f64>()
        })
        .collect();
    partial.iter().sum::<f64>() / n
}

/// Raw scores to predictions, in place: identity, exp (log-link objectives), sigmoid, or
/// softmax per row.
pub(crate) fn transform(task: Task, objective: Objective, values: &mut [f64]) {
    match task {
        Task::Regression if objective.log_link() => values.iter_mut().for_each(|v| *v = v.exp()),
        Task::Regression => {}
        Task::Binary => values.iter_mut().for_each(|v| *v = sigmoid(*v)),
        Task::Multiclass { n_classes } => values
            .chunks_mut(n_classes.max(1))
            .for_each(softmax_in_place),
    }
}
