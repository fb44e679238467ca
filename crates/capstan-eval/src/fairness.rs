//! Group fairness metrics of a binary classifier, matching Fairlearn 0.15.
//!
//! Inputs: one group label per row (the sensitive feature), `y_true` and `y_pred` as 0/1.
//! Rates of a group follow Fairlearn (a normalized sklearn confusion matrix): a group
//! without actual positives has a true positive rate of 0, one without actual negatives a
//! false positive rate of 0. `n_positive` / `n_negative` say when that happened.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::EvalError;
use crate::check::{non_empty, same_len};

/// Counts and rates of one group. Groups are sorted by label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRates {
    pub group: String,
    /// Rows in the group.
    pub n: u64,
    /// Rows whose true label is 1.
    pub n_positive: u64,
    /// Rows whose true label is 0.
    pub n_negative: u64,
    /// Share of rows predicted 1.
    pub selection_rate: f64,
    /// Predicted 1 among true 1; 0 when the group has no true 1 (as Fairlearn).
    pub true_positive_rate: f64,
    /// Predicted 1 among true 0; 0 when the group has no true 0 (as Fairlearn).
    pub false_positive_rate: f64,
    pub accuracy: f64,
}

/// Per-group rates and the disparities between groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessMetrics {
    pub groups: Vec<GroupRates>,
    /// Largest minus smallest selection rate.
    pub demographic_parity_difference: f64,
    /// Smallest over largest selection rate (the disparate impact ratio); `None` when no
    /// row is predicted positive (Fairlearn gives nan).
    pub demographic_parity_ratio: Option<f64>,
    /// Largest minus smallest true positive rate.
    pub equal_opportunity_difference: f64,
    /// The larger of the true positive rate and false positive rate differences.
    pub equalized_odds_difference: f64,
}

/// Summary names of [`FairnessMetrics::to_map`], in output order.
pub const FAIRNESS_METRICS: &[&str] = &[
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equalized_odds_difference",
];

impl FairnessMetrics {
    /// The summary metrics by name; an undefined ratio is left out.
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        let mut map = BTreeMap::new();
        map.insert(
            "demographic_parity_difference".to_string(),
            self.demographic_parity_difference,
        );
        if let Some(r) = self.demographic_parity_ratio {
            map.insert("demographic_parity_ratio".to_string(), r);
        }
        map.insert(
            "equal_opportunity_difference".to_string(),
            self.equal_opportunity_difference,
        );
        map.insert(
            "equalized_odds_difference".to_string(),
            self.equalized_odds_difference,
        );
        map
    }
}

#[derive(Default)]
struct Counts {
    tn: u64,
    fp: u64,
    fn_: u64,
    tp: u64,
}

/// Fairness metrics of 0/1 predictions across the groups of one sensitive feature.
pub fn fairness_metrics<S: AsRef<str>>(
    groups: &[S],
    y_true: &[f64],
    y_pred: &[f64],
) -> Result<FairnessMetrics, EvalError> {
    same_len("y_true", groups.len(), y_true.len())?;
    same_len("y_pred", groups.len(), y_pred.len())?;
    non_empty("groups", groups.len())?;
    let mut by_group: BTreeMap<&str, Counts> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        let t = label("y_true", i, y_true[i])?;
        let p = label("y_pred", i, y_pred[i])?;
        let c = by_group.entry(g.as_ref()).or_default();
        match (t, p) {
            (false, false) => c.tn += 1,
            (false, true) => c.fp += 1,
            (true, false) => c.fn_ += 1,
            (true, true) => c.tp += 1,
        }
    }
    let groups: Vec<GroupRates> = by_group
        .into_iter()
        .map(|(g, c)| {
            let n = c.tn + c.fp + c.fn_ + c.tp;
            GroupRates {
                group: g.to_string(),
                n,
                n_positive: c.tp + c.fn_,
                n_negative: c.tn + c.fp,
                selection_rate: rate(c.tp + c.fp, n),
                true_positive_rate: rate(c.tp, c.tp + c.fn_),
                false_positive_rate: rate(c.fp, c.fp + c.tn),
                accuracy: rate(c.tp + c.tn, n),
            }
        })
        .collect();
    let (sr_min, sr_max) = min_max(groups.iter().map(|g| g.selection_rate));
    let tpr_diff = spread(groups.iter().map(|g| g.true_positive_rate));
    let fpr_diff = spread(groups.iter().map(|g| g.false_positive_rate));
    Ok(FairnessMetrics {
        demographic_parity_difference: sr_max - sr_min,
        demographic_parity_ratio: (sr_max > 0.0).then(|| sr_min / sr_max),
        equal_opportunity_difference: tpr_diff,
        equalized_odds_difference: tpr_diff.max(fpr_diff),
        groups,
    })
}

fn label(what: &'static str, index: usize, value: f64) -> Result<bool, EvalError> {
    if value == 1.0 {
        Ok(true)
    } else if value == 0.0 {
        Ok(false)
    } else {
        Err(EvalError::NotBinaryLabel { what, index, value })
    }
}

fn rate(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn min_max(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

fn spread(values: impl Iterator<Item = f64>) -> f64 {
    let (lo, hi) = min_max(values);
    hi - lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_disparities_by_hand() {
        let g = ["a", "a", "b", "b", "c", "c"];
        let y = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let p = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let m = fairness_metrics(&g, &y, &p).expect("valid input");
        let names: Vec<&str> = m.groups.iter().map(|r| r.group.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(m.groups[0].selection_rate, 0.5);
        assert_eq!(m.groups[0].true_positive_rate, 0.0);
        assert_eq!(m.groups[1].true_positive_rate, 0.5);
        assert_eq!(m.groups[2].false_positive_rate, 1.0);
        assert_eq!(m.demographic_parity_difference, 0.5);
        assert_eq!(m.demographic_parity_ratio, Some(0.5));
        assert_eq!(m.equal_opportunity_difference, 0.5);
        assert_eq!(m.equalized_odds_difference, 1.0);
        assert_eq!(m.to_map().len(), 4);
    }

    #[test]
    fn no_positive_prediction_has_no_ratio() {
        let m = fairness_metrics(&["a", "b"], &[1.0, 0.0], &[0.0, 0.0]).expect("valid input");
        assert_eq!(m.demographic_parity_ratio, None);
        assert!(!m.to_map().contains_key("demographic_parity_ratio"));
    }

    #[test]
    fn bad_input_is_an_error() {
        let err = fairness_metrics(&["a"], &[2.0], &[0.0]).expect_err("label 2");
        assert!(err.to_string().contains("y_true[0] = 2"), "{err}");
        let err = fairness_metrics(&["a", "b"], &[1.0], &[0.0]).expect_err("lengths");
        assert!(
            err.to_string().contains("expected 2 values, found 1"),
            "{err}"
        );
        let empty: [&str; 0] = [];
        assert!(fairness_metrics(&empty, &[], &[]).is_err());
    }
}
