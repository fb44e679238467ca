//! The boosting loop: gradients, one tree per score column per round, score updates,
//! bagging and feature sampling, losses and early stopping.

use capstan_frame::Matrix;
use rayon::prelude::*;

use super::binning::{BinConfig, BinnedData};
use super::colsample::{self, ByNode};
use super::constraints::Constraints;
use super::early_stop::{Best, ValidMetric};
use super::goss::{self, Goss};
use super::grow::{self, GrowBuffers, GrowParams, Grower};
use super::histogram;
use super::objective::{self, Loss};
use super::rng::{Rng, below};
use super::split::SplitParams;
use super::tree::Tree;
use super::{GbdtModel, GbdtParams, Iteration, SampleStrategy, TrainScores, validate, weights};
use crate::{LearnError, Task};

/// A fitted model and the training scores maintained while boosting (row-major `n x K`).
#[derive(Debug)]
pub(crate) struct Fitted {
    pub model: GbdtModel,
    #[cfg_attr(not(test), allow(dead_code))]
    pub train_scores: Vec<f64>,
}

pub(crate) fn grow_params(p: &GbdtParams, n_features: usize) -> GrowParams {
    GrowParams {
        constraints: Constraints::new(p, n_features),
        num_leaves: p.num_leaves,
        max_depth: p.max_depth,
        split: SplitParams {
            l1: p.lambda_l1,
            l2: p.lambda_l2,
            min_data_in_leaf: p.min_data_in_leaf as i64,
            min_sum_hessian: p.min_sum_hessian_in_leaf,
            min_gain_to_split: p.min_gain_to_split,
            max_cat_threshold: p.max_cat_threshold,
            cat_smooth: p.cat_smooth,
            cat_l2: p.cat_l2,
            min_data_per_group: p.min_data_per_group as i64,
        },
    }
}

/// Bernoulli row sample, as LightGBM's bagging; never empty.
fn sample_rows(rng: &mut Rng, n: usize, fraction: f64, bag: &mut Vec<u32>, in_bag: &mut [bool]) {
    bag.clear();
    for (i, b) in in_bag.iter_mut().enumerate() {
        *b = rng.next_f64() < fraction;
        if *b {
            bag.push(i as u32);
        }
    }
    if bag.is_empty() {
        let i = below(rng, n);
        in_bag[i] = true;
        bag.push(i as u32);
    }
}

/// Adds tree `tree` to column `c` of row-major scores of `x`.
fn add_tree(tree: &Tree, x: &Matrix, scores: &mut [f64], k: usize, c: usize) {
    scores.par_chunks_mut(k).enumerate().for_each(|(i, s)| {
        s[c] += tree.predict_row(x.row(i));
    });
}

/// Rows per task of the score update.
const SCORE_CHUNK: usize = 1 << 16;

/// Adds each leaf's value to column `c` of the row-major scores of the leaf's training rows.
/// Tasks own row ranges; a leaf's rows are sorted, so each task finds its part of a leaf by
/// binary search.
fn add_leaf_values(
    scores: &mut [f64],
    k: usize,
    c: usize,
    (rows, ranges): (&[u32], &[(usize, usize)]),
    values: &[f64],
) {
    scores
        .par_chunks_mut(SCORE_CHUNK * k)
        .enumerate()
        .for_each(|(i, chunk)| {
            let (lo, hi) = (i * SCORE_CHUNK, (i + 1) * SCORE_CHUNK);
            for (&(s, e), &v) in ranges.iter().zip(values) {
                let rows = &rows[s..e];
                let a = rows.partition_point(|&r| (r as usize) < lo);
                let b = rows.partition_point(|&r| (r as usize) < hi);
                for &r in &rows[a..b] {
                    chunk[(r as usize - lo) * k + c] += v;
                }
            }
        });
}

pub(crate) fn fit(
    train: (&Matrix, &[f64]),
    weights: Option<&[f64]>,
    valid: Option<(&Matrix, &[f64])>,
    task: Task,
    p: &GbdtParams,
    on_iteration: &mut dyn FnMut(Iteration),
) -> Result<Fitted, LearnError> {
    let (x, y) = train;
    validate::params(p, valid.is_some())?;
    validate::objective(p, task)?;
    validate::stopping_metric(p, task)?;
    let loss = Loss::new(task, p);
    validate::base_score(p, loss)?;
    validate::row_sampling(p)?;
    validate::dataset(x, y, task, "training")?;
    validate::objective_targets(y, loss, "training")?;
    if let Some((vx, vy)) = valid {
        validate::dataset(vx, vy, task, "validation")?;
        validate::objective_targets(vy, loss, "validation")?;
        validate::same_features(x, vx)?;
    }
    validate::constraints(p, x, loss)?;
    let w = weights::resolve(weights, p.class_weight.as_ref(), y, task, loss)?;
    let data = BinnedData::build(
        x,
        &BinConfig {
            max_bins: p.max_bins,
            min_data_in_bin: p.min_data_in_bin,
            max_cat_to_onehot: p.max_cat_to_onehot,
            sample_cnt: p.bin_construct_sample_cnt,
            seed: p.seed,
        },
    );
    let (n, k) = (x.n_rows, objective::n_scores(task));
    let init = objective::start_scores(loss, p, y, w.as_deref());
    let mut scores: Vec<f64> = (0..n * k).map(|i| init[i % k]).collect();
    let mut valid_scores: Option<Vec<f64>> =
        valid.map(|(vx, _)| (0..vx.n_rows * k).map(|i| init[i % k]).collect());
    let gp = grow_params(p, x.n_cols);
    let (mut grad, mut hess) = (vec![0.0; n * k], vec![0.0; n * k]);
    let mut quantized = Vec::new();
    let mut bufs = GrowBuffers::new(&data);
    let bagging = p.bagging_freq > 0 && p.bagging_fraction < 1.0;
    let goss = (p.data_sample_strategy == SampleStrategy::Goss).then_some(Goss {
        top_rate: p.top_rate,
        other_rate: p.other_rate,
        seed: p.seed,
    });
    let mut bag: Vec<u32> = (0..n as u32).collect();
    let mut in_bag = vec![true; n];
    let (mut bag_rng, mut feature_rng) = (Rng::stream(p.seed, 1), Rng::stream(p.seed, 2));
    let mut trees: Vec<Tree> = Vec::new();
    let mut valid_metric = match (p.early_stopping_metric.as_deref(), valid, &valid_scores) {
        (Some(name), Some((_, vy)), Some(vs)) => {
            let mut m = ValidMetric::new(name, p, task);
            validate::stopping_metric_defined(&mut m, vy, vs)?;
            Some(m)
        }
        _ => None,
    };
    let mut best = Best::new(valid_metric.as_ref().is_some_and(|m| m.higher_is_better()));

    for round in 0..p.n_trees {
        if bagging && round % p.bagging_freq == 0 {
            sample_rows(&mut bag_rng, n, p.bagging_fraction, &mut bag, &mut in_bag);
        }
        // Gradients of all columns come from the scores at the start of the round.
        objective::gradients(loss, y, &scores, &mut grad, &mut hess);
        if let Some(w) = &w {
            weights::apply(w, &mut grad, &mut hess);
        }
        // Rows out of this round's sample still get the round's trees (below).
        let mut sampled = bagging;
        if let Some(goss) = goss.filter(|_| round >= goss::first_round(p.learning_rate)) {
            goss.sample(round, &mut grad, &mut hess, &mut bag, &mut in_bag);
            sampled = true;
        }
        let mut round_trees = Vec::with_capacity(k);
        for c in 0..k {
            let used = colsample::by_tree(&mut feature_rng, data.n_features(), p.feature_fraction);
            let by_node = ByNode::new(p.seed, round * k + c, &used, p.feature_fraction_bynode);
            let cols = c * n..(c + 1) * n;
            let scales = histogram::quantize(&grad[cols.clone()], &hess[cols], &mut quantized);
            let grower = Grower {
                data: &data,
                grads: &quantized,
                scales,
                used: &used,
                params: &gp,
                by_node: by_node.as_ref(),
            };
            let grown = grower.grow(&bag, &mut bufs);
            let mut tree = grown.tree;
            if tree.n_nodes() == 0 {
                // LightGBM: a tree without a split adds nothing.
                round_trees.push(Tree::single_leaf(0.0, bag.len() as u64));
                continue;
            }
            if let Some(alpha) = loss.renew_percentile() {
                // LightGBM: each leaf becomes a percentile of its rows' residuals (in-bag rows,
                // scores before this tree), then shrinks.
                for (leaf, &(s, e)) in grown.ranges.iter().enumerate() {
                    let residuals = grown.rows[s..e]
                        .iter()
                        .map(|&r| y[r as usize] as f32 as f64 - scores[r as usize * k + c])
                        .collect();
                    tree.leaf_value[leaf] = objective::percentile(residuals, alpha);
                }
            }
            tree.leaf_value
                .iter_mut()
                .for_each(|v| *v *= p.learning_rate);
            add_leaf_values(
                &mut scores,
                k,
                c,
                (&grown.rows, &grown.ranges),
                &tree.leaf_value,
            );
            if sampled {
                for (r, _) in in_bag.iter().enumerate().filter(|(_, b)| !**b) {
                    let leaf = grow::binned_leaf(&tree, &grown.rules, &data, r);
                    scores[r * k + c] += tree.leaf_value[leaf];
                }
            }
            if let (Some(vs), Some((vx, _))) = (valid_scores.as_mut(), valid) {
                add_tree(&tree, vx, vs, k, c);
            }
            bufs.rows = grown.rows;
            round_trees.push(tree);
        }
        if round_trees.iter().all(|t| t.n_nodes() == 0) {
            break; // no leaf meets the split requirements any more
        }
        trees.extend(round_trees);
        let valid_loss = valid
            .zip(valid_scores.as_ref())
            .map(|((_, vy), vs)| objective::loss(loss, vy, vs));
        let metric = match (valid_metric.as_mut(), valid, &valid_scores) {
            (Some(m), Some((_, vy)), Some(vs)) => Some(m.value(vy, vs)),
            _ => None,
        };
        on_iteration(Iteration {
            iteration: round,
            n_trees: trees.len(),
            valid_loss,
            valid_metric: metric,
            train: TrainScores {
                loss,
                y,
                scores: &scores,
            },
        });
        // The metric when one is set, else the loss.
        if let (Some(patience), Some(v)) = (p.early_stopping_rounds, metric.or(valid_loss))
            && best.update(round, v, patience)
        {
            break;
        }
    }
    let best_iteration = p.early_stopping_rounds.map(|_| best.rounds());
    if let Some(rounds) = best_iteration {
        trees.truncate(rounds * k);
    }
    Ok(Fitted {
        model: GbdtModel {
            task,
            objective: p.objective,
            n_features: x.n_cols,
            feature_names: x.feature_names.clone(),
            init_scores: init,
            trees,
            best_iteration,
            checked: Default::default(),
        },
        train_scores: scores,
    })
}
