//! Histogram gradient-boosted decision trees (leaf-wise, LightGBM-style).

use capstan_frame::Matrix;
use serde::{Deserialize, Serialize};

use crate::{LearnError, Predictions, Task};

/// Hyperparameters; names and defaults follow LightGBM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GbdtParams {
    pub n_trees: usize,
    pub learning_rate: f64,
    pub num_leaves: usize,
    /// No limit when `None`.
    pub max_depth: Option<usize>,
    pub min_data_in_leaf: usize,
    pub min_sum_hessian_in_leaf: f64,
    pub lambda_l1: f64,
    pub lambda_l2: f64,
    pub min_gain_to_split: f64,
    pub max_bins: usize,
    pub feature_fraction: f64,
    pub bagging_fraction: f64,
    pub bagging_freq: usize,
    /// Stop when the validation loss has not improved for this many rounds.
    pub early_stopping_rounds: Option<usize>,
    pub seed: u64,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            n_trees: 100,
            learning_rate: 0.1,
            num_leaves: 31,
            max_depth: None,
            min_data_in_leaf: 20,
            min_sum_hessian_in_leaf: 1e-3,
            lambda_l1: 0.0,
            lambda_l2: 0.0,
            min_gain_to_split: 0.0,
            max_bins: 255,
            feature_fraction: 1.0,
            bagging_fraction: 1.0,
            bagging_freq: 0,
            early_stopping_rounds: None,
            seed: 0,
        }
    }
}

/// Reported after each boosting round.
#[derive(Debug, Clone, Copy)]
pub struct Iteration {
    pub iteration: usize,
    pub n_trees: usize,
    pub train_loss: f64,
    pub valid_loss: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtModel {
    pub task: Task,
}

impl GbdtModel {
    pub fn task(&self) -> Task {
        self.task
    }

    pub fn predict(&self, x: &Matrix) -> Predictions {
        let _ = x;
        unimplemented!("gbdt predict")
    }
}

/// Fits a GBDT; `valid` enables early stopping. Classification targets are class indices.
pub fn fit(
    train: (&Matrix, &[f64]),
    valid: Option<(&Matrix, &[f64])>,
    task: Task,
    params: &GbdtParams,
    on_iteration: &mut dyn FnMut(Iteration),
) -> Result<GbdtModel, LearnError> {
    let _ = (train, valid, task, params, on_iteration);
    Err(LearnError::InvalidData("not implemented".into()))
}
