//! Linear and logistic regression with L2, L1 and elastic-net penalties.
//!
//! Objectives equal scikit-learn's, so fitted coefficients match its estimators:
//! - logistic (binary: one row, P(class 1) = sigmoid; multiclass: full softmax with one row
//!   per class): `R(W) + C * sum_i logloss_i`, with `R` = `0.5 ||W||^2` (L2), `||W||_1` (L1),
//!   `l1_ratio ||W||_1 + (1 - l1_ratio) / 2 ||W||^2` (elastic net) or 0 (none); the
//!   intercepts are never penalized. L2 / none: Newton-CG; L1 / elastic net: proximal Newton
//!   with coordinate descent on the quadratic model (as glmnet / liblinear's newGLMNET).
//! - regression: least squares (none), `Ridge(alpha)` (L2) by centering + Cholesky,
//!   `Lasso` / `ElasticNet(alpha, l1_ratio)` (L1 / elastic net) by cyclic coordinate descent
//!   with scikit-learn's duality-gap stopping rule.
//!
//! Logistic fits with an intercept run on centered columns (same minimizer). Softmax is
//! invariant to a shift shared by all classes: reported intercepts sum to zero per model
//! (and, for L2 / none, each feature's coefficients sum to zero over classes), which is what
//! scikit-learn's solvers reach from their zero start.
//!
//! Fitting is deterministic and bit-identical whatever the thread count: parallel kernels
//! split work so that every output value is computed by one thread in a fixed order.

mod cd_inner;
mod cholesky;
mod collinear;
mod colmat;
mod enet;
mod hessian;
mod logistic;
mod newton;
mod predict;
mod prox_newton;
mod regression;
mod validate;

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
///
/// `tol`: logistic regression stops when the largest (minimum-norm sub)gradient entry of
/// `objective / (C * n_rows)` is at most `tol` (scikit-learn's lbfgs `gtol` for L2);
/// lasso / elastic net stop when the duality gap is at most `tol * ||y - mean(y)||^2`
/// (scikit-learn's rule). `max_iter` bounds the outer (Newton or coordinate-descent) iterations;
/// reaching it returns the current model, as scikit-learn does (see [`FitInfo`]).
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

/// A fitted linear model: one coefficient row per output (binary: the row of class 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub task: Task,
    /// `n_outputs x n_features`, row-major (binary and regression: one row).
    pub coefficients: Vec<f64>,
    pub intercepts: Vec<f64>,
    pub n_features: usize,
}

/// How a fit ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitInfo {
    /// Outer iterations run (0 for closed-form solutions).
    pub n_iter: usize,
    /// Whether the stopping rule was met (always true for closed forms).
    pub converged: bool,
}

impl LinearModel {
    pub fn task(&self) -> Task {
        self.task
    }

    /// Regression: the linear value; binary: P(class 1); multiclass: softmax probabilities.
    ///
    /// Callers guarantee `x.n_cols == self.n_features` (the feature pipeline fixes the
    /// shape). A mismatch is a bug: it trips a `debug_assert`, and in release builds every
    /// prediction is NaN rather than a silently wrong number.
    pub fn predict(&self, x: &Matrix) -> Predictions {
        let n_outputs = self.task.n_outputs();
        debug_assert_eq!(
            x.n_cols, self.n_features,
            "predict: wrong number of columns"
        );
        let shape_ok = x.n_cols == self.n_features
            && x.data.len() == x.n_rows * x.n_cols
            && self.coefficients.len() == n_outputs * self.n_features
            && self.intercepts.len() == n_outputs;
        let mut values = vec![f64::NAN; x.n_rows * n_outputs];
        if shape_ok {
            predict::predict_rows(self, x, &mut values);
        }
        Predictions {
            n_rows: x.n_rows,
            n_outputs,
            values,
        }
    }
}

/// Fits a linear model; classification targets are class indices stored as f64.
pub fn fit(
    x: &Matrix,
    y: &[f64],
    task: Task,
    params: &LinearParams,
) -> Result<LinearModel, LearnError> {
    fit_with_info(x, y, task, params).map(|(model, _)| model)
}

/// As [`fit`], also reporting iterations and convergence.
pub fn fit_with_info(
    x: &Matrix,
    y: &[f64],
    task: Task,
    params: &LinearParams,
) -> Result<(LinearModel, FitInfo), LearnError> {
    validate::check_params(task, params)?;
    validate::check_data(x, y)?;
    match task {
        Task::Regression => regression::fit(x, y, params),
        Task::Binary | Task::Multiclass { .. } => {
            let classes = validate::class_indices(y, task)?;
            logistic::fit(x, &classes, task, params)
        }
    }
}
