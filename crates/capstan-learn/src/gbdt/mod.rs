//! Histogram gradient-boosted decision trees (leaf-wise, LightGBM-style).
//!
//! Pipeline: [`binning`] (u8 bins per feature) -> per round [`objective`] gradients, quantized
//! to exact fixed point ([`histogram`]) -> [`grow`] a leaf-wise tree from histograms with the
//! subtraction trick and [`split`] search -> shrink, update scores ([`boost`]). Prediction
//! ([`predict`]) walks a [`flat`] copy of the forest, built on first use.

mod awake;
mod binning;
mod boost;
mod colsample;
mod constraints;
mod early_stop;
mod flat;
mod goss;
mod grow;
mod histogram;
mod objective;
mod predict;
mod rng;
mod split;
#[cfg(test)]
mod tests;
mod tree;
mod validate;
mod weights;

use capstan_frame::Matrix;
use serde::{Deserialize, Serialize};

pub use tree::Tree;

use crate::{LearnError, Task};

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
    /// Share of the tree's features searched at each node (LightGBM
    /// `feature_fraction_bynode`): `max(round(n * fraction), min(2, n))` of the tree's `n`
    /// features, drawn per node from a stream seeded by (seed, tree, node); 1 searches all.
    #[serde(skip_serializing_if = "is_one")]
    pub feature_fraction_bynode: f64,
    pub bagging_fraction: f64,
    pub bagging_freq: usize,
    /// Stop when the validation loss (or `early_stopping_metric`) has not improved for this
    /// many rounds; the model keeps the best round.
    pub early_stopping_rounds: Option<usize>,
    /// Early stopping watches this metric of the validation predictions instead of the
    /// objective's loss: an unweighted name of `capstan_eval::metric_names` for the task
    /// (e.g. `roc_auc`; binary decisions at 0.5). The deviances need a log-link objective,
    /// `pinball_loss` the quantile objective (with `tweedie_variance_power` and `alpha`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping_metric: Option<String>,
    pub seed: u64,
    /// Fewest values in a numeric bin (LightGBM `min_data_in_bin`); 1 gives a bin per value.
    pub min_data_in_bin: usize,
    /// Rows sampled to find the bins of large data (LightGBM `bin_construct_sample_cnt`).
    pub bin_construct_sample_cnt: usize,
    /// Categorical features with at most this many bins split one-vs-rest.
    pub max_cat_to_onehot: usize,
    /// Most categories on the left of a categorical split.
    pub max_cat_threshold: usize,
    /// Smoothing of the per-category gradient ratio used to order categories.
    pub cat_smooth: f64,
    /// Extra L2 regularisation for many-category splits.
    pub cat_l2: f64,
    /// Fewest rows per group of categories in a many-category split.
    pub min_data_per_group: usize,
    /// Row counts checked against `min_data_in_leaf`, `min_data_per_group` and `cat_smooth`
    /// during the split search are estimated from hessians, `round(hess * n_leaf / H_leaf)`,
    /// exactly as LightGBM does (same trees as LightGBM). Only `true` is supported: the
    /// histograms hold gradient and hessian sums, not row counts (kept so older configs load).
    pub counts_from_hessian: bool,
    /// The loss minimised (regression only, besides `auto`).
    pub objective: Objective,
    /// Huber: the residual beyond which the loss is linear (> 0); quantile: the quantile in (0, 1).
    pub alpha: f64,
    /// Tweedie: the variance power, in [1, 2).
    pub tweedie_variance_power: f64,
    /// Poisson: added to the score in the hessian, which damps the first steps (> 0).
    pub poisson_max_delta_step: f64,
    /// Start from the loss's best constant (LightGBM `boost_from_average`: mean, median or
    /// quantile, log of the mean, log-odds, log class priors); `false` starts every raw score
    /// at 0.
    #[serde(skip_serializing_if = "is_true")]
    pub boost_from_average: bool,
    /// The initial prediction, in the target's scale (XGBoost `base_score`), in place of
    /// `boost_from_average`'s constant: a probability in (0, 1) for binary (raw score
    /// `ln(p / (1 - p))`), a value for regression (> 0 for the log-link objectives poisson,
    /// tweedie and gamma: raw score `ln(v)`). Not for multiclass, nor with
    /// `boost_from_average = false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_score: Option<f64>,
    /// Classification: per-class weights multiplied into the sample weights (training only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_weight: Option<ClassWeight>,
    /// One direction per feature: 1 the prediction never falls as the feature grows, -1 never
    /// rises, 0 free; empty for none. LightGBM's "basic" method: each leaf's output is kept in
    /// bounds set by the monotone splits above it. Numeric features only; not with the `l1`
    /// and `quantile` objectives (their leaves are refitted after growth).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub monotone_constraints: Vec<i8>,
    /// Damps monotone splits near the root: their gain is scaled by
    /// `1 - penalty / 2^depth` (penalty <= 1), `1 - 2^(penalty - 1 - depth)`, or ~0 from
    /// depth `penalty - 1` up (LightGBM `monotone_penalty`).
    #[serde(skip_serializing_if = "is_zero")]
    pub monotone_penalty: f64,
    /// Groups of feature indices; a branch of a tree only splits on features of one group
    /// (a feature in no group is never used). Empty for none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interaction_constraints: Vec<Vec<usize>>,
    /// How rows are sampled each round (LightGBM `data_sample_strategy`): `bagging` (by
    /// `bagging_fraction` every `bagging_freq` rounds) or `goss`.
    #[serde(skip_serializing_if = "SampleStrategy::is_bagging")]
    pub data_sample_strategy: SampleStrategy,
    /// GOSS: the share of rows with the largest `|gradient x hessian|`, always kept.
    #[serde(skip_serializing_if = "is_default_top_rate")]
    pub top_rate: f64,
    /// GOSS: the share of rows drawn from the others; their gradients and hessians are
    /// multiplied by `(1 - top_rate) / other_rate`. `top_rate + other_rate <= 1`.
    #[serde(skip_serializing_if = "is_default_other_rate")]
    pub other_rate: f64,
}

/// Row sampling per round; names follow LightGBM's `data_sample_strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleStrategy {
    /// Bernoulli row samples (`bagging_fraction`, `bagging_freq`); none at their defaults.
    #[default]
    Bagging,
    /// Gradient-based one-side sampling (`top_rate`, `other_rate`): from round
    /// `1 / learning_rate` on (all rows before, as LightGBM), each round keeps the rows with
    /// the largest `|g * h|` and a seeded random share of the rest, scaled up. Not with
    /// bagging.
    Goss,
}

impl SampleStrategy {
    fn is_bagging(&self) -> bool {
        *self == SampleStrategy::Bagging
    }

    /// The configuration name.
    pub fn name(&self) -> &'static str {
        match self {
            SampleStrategy::Bagging => "bagging",
            SampleStrategy::Goss => "goss",
        }
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_one(v: &f64) -> bool {
    *v == 1.0
}

fn is_true(v: &bool) -> bool {
    *v
}

fn is_default_top_rate(v: &f64) -> bool {
    *v == 0.2
}

fn is_default_other_rate(v: &f64) -> bool {
    *v == 0.1
}

/// Class weights, as scikit-learn's and LightGBM's `class_weight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClassWeight {
    /// `"balanced"`: `n_samples / (n_classes * count(class))`.
    Mode(ClassWeightMode),
    /// A weight per class index (`"0"`, `"1"`, ...); classes not listed weigh 1.
    Table(std::collections::BTreeMap<String, f64>),
}

/// The named class-weight schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeightMode {
    Balanced,
}

/// The loss a GBDT minimises; names follow LightGBM's objectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// The task's standard loss: squared error, log loss, or softmax log loss.
    #[default]
    Auto,
    /// Squared error.
    #[serde(alias = "regression")]
    L2,
    /// Absolute error; leaves are renewed to the median residual.
    #[serde(alias = "regression_l1")]
    L1,
    /// Squared error near zero, absolute error beyond `alpha`.
    Huber,
    /// Pinball loss of quantile `alpha`; leaves are renewed to that quantile of the residuals.
    Quantile,
    /// Poisson log likelihood with a log link (counts).
    Poisson,
    /// Tweedie log likelihood with a log link (`tweedie_variance_power`).
    Tweedie,
    /// Gamma log likelihood with a log link (positive targets).
    Gamma,
}

impl Objective {
    pub fn is_auto(&self) -> bool {
        *self == Objective::Auto
    }

    /// The configuration name.
    pub fn name(&self) -> &'static str {
        match self {
            Objective::Auto => "auto",
            Objective::L2 => "l2",
            Objective::L1 => "l1",
            Objective::Huber => "huber",
            Objective::Quantile => "quantile",
            Objective::Poisson => "poisson",
            Objective::Tweedie => "tweedie",
            Objective::Gamma => "gamma",
        }
    }

    /// Whether predictions are `exp(raw score)`.
    pub fn log_link(&self) -> bool {
        matches!(
            self,
            Objective::Poisson | Objective::Tweedie | Objective::Gamma
        )
    }
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
            feature_fraction_bynode: 1.0,
            bagging_fraction: 1.0,
            bagging_freq: 0,
            early_stopping_rounds: None,
            early_stopping_metric: None,
            seed: 0,
            min_data_in_bin: 3,
            bin_construct_sample_cnt: 200_000,
            max_cat_to_onehot: 4,
            max_cat_threshold: 32,
            cat_smooth: 10.0,
            cat_l2: 10.0,
            min_data_per_group: 100,
            counts_from_hessian: true,
            objective: Objective::Auto,
            alpha: 0.9,
            tweedie_variance_power: 1.5,
            poisson_max_delta_step: 0.7,
            boost_from_average: true,
            base_score: None,
            class_weight: None,
            monotone_constraints: Vec::new(),
            monotone_penalty: 0.0,
            interaction_constraints: Vec::new(),
            data_sample_strategy: SampleStrategy::Bagging,
            top_rate: 0.2,
            other_rate: 0.1,
        }
    }
}

/// Reported after each boosting round.
#[derive(Debug, Clone, Copy)]
pub struct Iteration<'a> {
    /// Round index, from 0.
    pub iteration: usize,
    /// Trees in the model so far.
    pub n_trees: usize,
    /// The objective's mean loss on the validation rows.
    pub valid_loss: Option<f64>,
    /// `early_stopping_metric` on the validation rows, when set (NaN if the predictions
    /// cannot give it).
    pub valid_metric: Option<f64>,
    train: TrainScores<'a>,
}

/// What the training loss is computed from, on demand.
#[derive(Debug, Clone, Copy)]
struct TrainScores<'a> {
    loss: objective::Loss,
    y: &'a [f64],
    scores: &'a [f64],
}

impl Iteration<'_> {
    /// The objective's mean loss on the training rows after this round (a pass over them,
    /// so only computed when asked).
    pub fn train_loss(&self) -> f64 {
        objective::loss(self.train.loss, self.train.y, self.train.scores)
    }
}

/// What [`GbdtModel::feature_importance`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportanceKind {
    /// Total loss reduction of the splits on the feature.
    Gain,
    /// Number of splits on the feature.
    Split,
}

/// A fitted ensemble. Raw score of output `k` = `init_scores[k]` + sum of the leaf values of
/// trees `k, k + K, k + 2K, ...` (`K` = trees per round: classes for multiclass, else 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtModel {
    pub task: Task,
    /// The training objective; models saved before objectives existed read as `auto`.
    #[serde(default, skip_serializing_if = "Objective::is_auto")]
    pub objective: Objective,
    pub n_features: usize,
    pub feature_names: Vec<String>,
    pub init_scores: Vec<f64>,
    /// Round-major: tree `round * K + k`.
    pub trees: Vec<Tree>,
    /// With early stopping: the number of rounds kept (the best round, counted from 1).
    pub best_iteration: Option<usize>,
    /// Whether `validate` passed and, if so, the flattened forest that predicts; computed on
    /// the first prediction (not serialized).
    #[serde(skip)]
    pub(crate) checked: CheckedOnce,
}

/// A validation result, with the [`flat::Forest`] of a valid model, cached on first use;
/// invisible to equality, so two models with the same trees compare equal whether or not
/// either has predicted yet. Changing a model's trees after its first prediction is not
/// supported (fit and load build models whole).
#[derive(Debug, Clone, Default)]
pub(crate) struct CheckedOnce(std::sync::OnceLock<Checked>);

/// What the first prediction found.
#[derive(Debug, Clone)]
pub(crate) enum Checked {
    /// `validate` failed: predictions are NaN.
    Invalid,
    /// Valid but not flattened (too large, or a NaN threshold): trees are walked one at a
    /// time.
    Trees,
    Flat(Box<flat::Forest>),
}

impl PartialEq for CheckedOnce {
    fn eq(&self, _: &Self) -> bool {
        true
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
    boost::fit(train, None, valid, task, params, on_iteration).map(|f| f.model)
}

/// [`fit`] with a non-negative weight per training row, multiplied into the gradients and
/// hessians and used by the initial score, as LightGBM does. Weights are not kept in the
/// model; the reported losses stay unweighted.
pub fn fit_weighted(
    train: (&Matrix, &[f64]),
    weights: &[f64],
    valid: Option<(&Matrix, &[f64])>,
    task: Task,
    params: &GbdtParams,
    on_iteration: &mut dyn FnMut(Iteration),
) -> Result<GbdtModel, LearnError> {
    boost::fit(train, Some(weights), valid, task, params, on_iteration).map(|f| f.model)
}
