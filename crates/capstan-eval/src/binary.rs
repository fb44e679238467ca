//! Binary classification metrics, matching scikit-learn.
//!
//! Inputs: `y_true` labels 0.0/1.0 and `p_pos` = P(class 1).
//! Threshold convention: a row is predicted positive when `p_pos >= threshold`
//! (the same rule as the points of sklearn's `roc_curve` / `precision_recall_curve`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::check::{mean, non_empty, probabilities, same_len};

/// Counts at one threshold; `fn_` because `fn` is a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BinaryConfusion {
    pub tn: u64,
    pub fp: u64,
    pub fn_: u64,
    pub tp: u64,
}

impl BinaryConfusion {
    pub fn n_rows(&self) -> u64 {
        self.tn + self.fp + self.fn_ + self.tp
    }
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.n_rows())
    }
    /// tp / (tp + fp); 0 when nothing is predicted positive (sklearn `zero_division=0`).
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    /// tp / (tp + fn); 0 when there are no positives.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// 2tp / (2tp + fp + fn), as sklearn computes it; 0 when the denominator is 0.
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// All binary metrics at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryMetrics {
    /// `None` when `y_true` holds one class only (sklearn returns nan).
    pub roc_auc: Option<f64>,
    /// sklearn `average_precision_score`; 0 when there are no positives.
    pub pr_auc: f64,
    pub log_loss: f64,
    pub brier: f64,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub threshold: f64,
    pub confusion: BinaryConfusion,
}

impl BinaryMetrics {
    /// Keys: roc_auc, pr_auc, log_loss, brier, accuracy, precision, recall, f1.
    /// An undefined metric (roc_auc on one class) is left out.
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        let mut map = BTreeMap::new();
        if let Some(v) = self.roc_auc {
            map.insert("roc_auc".to_string(), v);
        }
        for (k, v) in [
            ("pr_auc", self.pr_auc),
            ("log_loss", self.log_loss),
            ("brier", self.brier),
            ("accuracy", self.accuracy),
            ("precision", self.precision),
            ("recall", self.recall),
            ("f1", self.f1),
        ] {
            map.insert(k.to_string(), v);
        }
        map
    }
}

/// Validate inputs once and compute every binary metric.
pub fn binary_metrics(
    y_true: &[f64],
    p_pos: &[f64],
    threshold: f64,
) -> Result<BinaryMetrics, EvalError> {
    validate(y_true, p_pos)?;
    let confusion = confusion_unchecked(y_true, p_pos, threshold)?;
    Ok(BinaryMetrics {
        roc_auc: roc_auc_unchecked(y_true, p_pos),
        pr_auc: average_precision_unchecked(y_true, p_pos),
        log_loss: log_loss_unchecked(y_true, p_pos),
        brier: brier_unchecked(y_true, p_pos),
        accuracy: confusion.accuracy(),
        precision: confusion.precision(),
        recall: confusion.recall(),
        f1: confusion.f1(),
        threshold,
        confusion,
    })
}

/// ROC AUC with ties counted as half (sklearn's trapezoid); `None` on one class.
pub fn roc_auc(y_true: &[f64], p_pos: &[f64]) -> Result<Option<f64>, EvalError> {
    validate(y_true, p_pos)?;
    Ok(roc_auc_unchecked(y_true, p_pos))
}

/// sklearn `average_precision_score` (step-wise PR AUC, no interpolation).
pub fn average_precision(y_true: &[f64], p_pos: &[f64]) -> Result<f64, EvalError> {
    validate(y_true, p_pos)?;
    Ok(average_precision_unchecked(y_true, p_pos))
}

/// Mean negative log-likelihood; probabilities clipped to `[eps, 1 - eps]`, eps = f64::EPSILON.
pub fn log_loss(y_true: &[f64], p_pos: &[f64]) -> Result<f64, EvalError> {
    validate(y_true, p_pos)?;
    Ok(log_loss_unchecked(y_true, p_pos))
}

/// Mean of (y - p)^2.
pub fn brier(y_true: &[f64], p_pos: &[f64]) -> Result<f64, EvalError> {
    validate(y_true, p_pos)?;
    Ok(brier_unchecked(y_true, p_pos))
}

/// Confusion counts with positive = `p_pos >= threshold`.
pub fn confusion(
    y_true: &[f64],
    p_pos: &[f64],
    threshold: f64,
) -> Result<BinaryConfusion, EvalError> {
    validate(y_true, p_pos)?;
    confusion_unchecked(y_true, p_pos, threshold)
}

pub(crate) fn validate(y_true: &[f64], p_pos: &[f64]) -> Result<(), EvalError> {
    same_len("p_pos", y_true.len(), p_pos.len())?;
    non_empty("y_true", y_true.len())?;
    if let Some(index) = y_true.iter().position(|&y| y != 0.0 && y != 1.0) {
        return Err(EvalError::NotBinaryLabel {
            what: "y_true",
            index,
            value: y_true[index],
        });
    }
    probabilities("p_pos", p_pos)
}

fn confusion_unchecked(
    y_true: &[f64],
    p_pos: &[f64],
    threshold: f64,
) -> Result<BinaryConfusion, EvalError> {
    if threshold.is_nan() {
        return Err(EvalError::InvalidThreshold { found: threshold });
    }
    let mut c = BinaryConfusion::default();
    for (&y, &p) in y_true.iter().zip(p_pos) {
        match (y == 1.0, p >= threshold) {
            (false, false) => c.tn += 1,
            (false, true) => c.fp += 1,
            (true, false) => c.fn_ += 1,
            (true, true) => c.tp += 1,
        }
    }
    Ok(c)
}

/// Cumulative (tp, fp) at each distinct score, highest score first.
fn curve(y_true: &[f64], p_pos: &[f64]) -> Vec<(u64, u64)> {
    let mut order: Vec<usize> = (0..p_pos.len()).collect();
    order.sort_by(|&a, &b| p_pos[b].total_cmp(&p_pos[a]));
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for (pos, &i) in order.iter().enumerate() {
        if y_true[i] == 1.0 {
            tp += 1;
        } else {
            fp += 1;
        }
        // Group by `==` so that -0.0 and 0.0 tie, as in numpy.
        let last_of_group = order
            .get(pos + 1)
            .is_none_or(|&next| p_pos[next] != p_pos[i]);
        if last_of_group {
            points.push((tp, fp));
        }
    }
    points
}

fn roc_auc_unchecked(y_true: &[f64], p_pos: &[f64]) -> Option<f64> {
    let points = curve(y_true, p_pos);
    let &(n_pos, n_neg) = points.last()?;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    // Twice the trapezoid area in count units, exact in integers.
    let (mut area2, mut prev_tp, mut prev_fp) = (0u128, 0u64, 0u64);
    for &(tp, fp) in &points {
        area2 += u128::from(fp - prev_fp) * u128::from(tp + prev_tp);
        (prev_tp, prev_fp) = (tp, fp);
    }
    Some(area2 as f64 / (2.0 * n_pos as f64 * n_neg as f64))
}

fn average_precision_unchecked(y_true: &[f64], p_pos: &[f64]) -> f64 {
    let points = curve(y_true, p_pos);
    let n_pos = points.last().map_or(0, |p| p.0);
    if n_pos == 0 {
        // sklearn sets recall to 1 everywhere; the sum reduces to the top precision, 0.
        return 0.0;
    }
    let mut ap = 0.0;
    let mut prev_tp = 0u64;
    for &(tp, fp) in &points {
        if tp > prev_tp {
            ap += (tp - prev_tp) as f64 / n_pos as f64 * (tp as f64 / (tp + fp) as f64);
        }
        prev_tp = tp;
    }
    ap
}

/// One row's log loss, the probability clipped to `[eps, 1 - eps]`, eps = f64::EPSILON.
pub(crate) fn row_log_loss(y: f64, p: f64) -> f64 {
    let eps = f64::EPSILON;
    if y == 1.0 {
        -p.clamp(eps, 1.0 - eps).ln()
    } else {
        -(1.0 - p).clamp(eps, 1.0 - eps).ln()
    }
}

fn log_loss_unchecked(y_true: &[f64], p_pos: &[f64]) -> f64 {
    let losses = y_true.iter().zip(p_pos).map(|(&y, &p)| row_log_loss(y, p));
    mean(losses, y_true.len())
}

fn brier_unchecked(y_true: &[f64], p_pos: &[f64]) -> f64 {
    let sq = y_true.iter().zip(p_pos).map(|(&y, &p)| (y - p) * (y - p));
    mean(sq, y_true.len())
}
