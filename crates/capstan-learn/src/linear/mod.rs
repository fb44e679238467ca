//! Linear and logistic regression with L2, L1 and elastic-net penalties.

use capstan_frame::Matrix;
use serde::{Deserialize, Serialize};

use crate::{LearnError, Predictions, Task};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Penalty {
    None,
    #[default]
    L2,
    L1,
    ElasticNet,
}

/// Hyperparameters. Semantics follow scikit-learn exactly:
/// logistic regression uses `c` (inverse strength, as `LogisticRegression(C=...)`);
/// regression uses `alpha` (`Ridge(alpha)` for L2, `Lasso(alpha)` / `ElasticNet(alpha, l1_ratio)`
/// for L1 / elastic net, plain least squares for `none`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearParams {
    pub penalty: Penalty,
    pub c: f64,
    pub alpha: f64,
    pub l1_ratio: f64,
    pub max_iter: usize,
    pub tol: f64,
    pub fit_intercept: bool,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams {
            penalty: Penalty::L2,
            c: 1.0,
            alpha: 1.0,
            l1_ratio: 0.5,
            max_iter: 1000,
            tol: 1e-6,
            fit_intercept: true,
        }
    }
}

/// A fitted linear model: one coefficient row per output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub task: Task,
    /// `n_outputs x n_features`, row-major (binary and regression: one row).
    pub coefficients: Vec<f64>,
    pub intercepts: Vec<f64>,
    pub n_features: usize,
}

impl LinearModel {
    pub fn task(&self) -> Task {
        self.task
    }

    pub fn predict(&self, x: &Matrix) -> Predictions {
        let _ = x;
        unimplemented!("linear predict")
    }
}

/// Fits a linear model; classification targets are class indices stored as f64.
pub fn fit(
    x: &Matrix,
    y: &[f64],
    task: Task,
    params: &LinearParams,
) -> Result<LinearModel, LearnError> {
    let _ = (x, y, task, params);
    Err(LearnError::InvalidData("not implemented".into()))
}
