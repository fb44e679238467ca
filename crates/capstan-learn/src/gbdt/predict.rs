//! Prediction from raw rows, and model summaries.

use capstan_frame::Matrix;
use rayon::prelude::*;

use super::flat::Forest;
use super::{Checked, GbdtModel, ImportanceKind, objective};
use crate::{Predictions, Task};

/// Below this many rows prediction stays on the calling thread.
const PARALLEL_ROWS: usize = 64;

impl GbdtModel {
    pub fn task(&self) -> Task {
        self.task
    }

    /// Number of trees (rounds x trees per round).
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Trees per round: the number of classes for multiclass, else 1.
    pub fn trees_per_round(&self) -> usize {
        objective::n_scores(self.task)
    }

    /// Checks that the model is well formed (after loading it from outside).
    pub fn validate(&self) -> Result<(), String> {
        let k = self.trees_per_round();
        if self.init_scores.len() != k {
            return Err(format!(
                "{} initial scores for {k} outputs",
                self.init_scores.len()
            ));
        }
        if self.trees.len() % k != 0 {
            return Err(format!(
                "{} trees is not a multiple of {k}",
                self.trees.len()
            ));
        }
        for (i, t) in self.trees.iter().enumerate() {
            t.validate(self.n_features)
                .map_err(|e| format!("tree {i}: {e}"))?;
        }
        Ok(())
    }

    /// Raw scores (margins), `n_rows x K` row-major: values for regression, log-odds for
    /// binary, per-class scores before softmax for multiclass. Missing trailing columns read
    /// as NaN; an invalid model gives NaN everywhere.
    pub fn predict_raw(&self, x: &Matrix) -> Predictions {
        let k = self.trees_per_round();
        let n = x.n_rows;
        let mut values = vec![f64::NAN; n * k];
        match self.checked() {
            Checked::Invalid => {}
            Checked::Trees => self.predict_by_tree(x, &mut values),
            // A few rows (a serving request) are cheaper than a hand-off to the pool.
            Checked::Flat(forest) => forest.predict(x, &mut values, n >= PARALLEL_ROWS),
        }
        Predictions {
            n_rows: n,
            n_outputs: k,
            values,
        }
    }

    /// Validates the model and flattens its forest, once.
    fn checked(&self) -> &Checked {
        self.checked.0.get_or_init(|| {
            if self.validate().is_err() {
                Checked::Invalid
            } else {
                Forest::new(&self.trees, &self.init_scores, self.n_features)
                    .map_or(Checked::Trees, |f| Checked::Flat(Box::new(f)))
            }
        })
    }

    /// Raw scores into `values` by walking each tree for each row: the reference the flat
    /// forest matches bit for bit (used for forests too large to flatten).
    pub(crate) fn predict_by_tree(&self, x: &Matrix, values: &mut [f64]) {
        let k = self.trees_per_round();
        for_each_row(x, values, k, |row, out| {
            out.copy_from_slice(&self.init_scores);
            for (t, tree) in self.trees.iter().enumerate() {
                out[t % k] += tree.predict_row(row);
            }
        });
    }

    /// The leaf each row reaches in every tree, `n_rows x n_trees` row-major in model tree
    /// order (LightGBM's `pred_leaf`: leaves numbered as the tree grew, the left child
    /// keeping its parent's number). Missing trailing columns read as NaN; a malformed model
    /// is an error.
    pub fn predict_leaves(&self, x: &Matrix) -> Result<Vec<u32>, String> {
        self.validate()?;
        let n_trees = self.trees.len();
        let mut leaves = vec![0u32; x.n_rows * n_trees];
        for_each_row(x, &mut leaves, n_trees, |row, out| {
            for (o, tree) in out.iter_mut().zip(&self.trees) {
                // Trees have at most u32::MAX leaves (validated node indices are i32).
                *o = tree.leaf_of(|f| row.get(f).copied().unwrap_or(f64::NAN)) as u32;
            }
        });
        Ok(leaves)
    }

    /// Regression: the value (`exp` of the raw score for Poisson, Tweedie, gamma); binary: P(class 1); multiclass: class probabilities.
    pub fn predict(&self, x: &Matrix) -> Predictions {
        let mut p = self.predict_raw(x);
        objective::transform(self.task, self.objective, &mut p.values);
        p
    }

    /// Per-feature total split gain or split count over all trees.
    pub fn feature_importance(&self, kind: ImportanceKind) -> Vec<f64> {
        let mut out = vec![0.0; self.n_features];
        for t in &self.trees {
            for (&f, &g) in t.split_feature.iter().zip(&t.split_gain) {
                if let Some(o) = out.get_mut(f as usize) {
                    *o += match kind {
                        ImportanceKind::Gain => g,
                        ImportanceKind::Split => 1.0,
                    };
                }
            }
        }
        out
    }
}

/// Calls `f` with each row of `x` (missing rows and columns short) and its `per_row` outputs,
/// in parallel unless the request is small.
fn for_each_row<T: Send>(
    x: &Matrix,
    out: &mut [T],
    per_row: usize,
    f: impl Fn(&[f64], &mut [T]) + Sync,
) {
    if per_row == 0 {
        return;
    }
    let width = x.n_cols;
    let each = |(i, o): (usize, &mut [T])| {
        f(x.data.get(i * width..(i + 1) * width).unwrap_or(&[]), o);
    };
    if x.n_rows < PARALLEL_ROWS {
        out.chunks_mut(per_row).enumerate().for_each(each);
    } else {
        out.par_chunks_mut(per_row).enumerate().for_each(each);
    }
}
