//! One regression tree in a flat layout: node arrays plus leaf arrays.
//! Children are node indices, or `!leaf` (negative) for leaves.

use serde::{Deserialize, Serialize};

/// A fitted tree. Node `i` sends a row left when, for numeric splits, `x <= threshold[i]`
/// (NaN follows `default_left[i]`), or for categorical splits when the category code is in the
/// node's bitset (NaN, negative and unseen codes go right).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub split_feature: Vec<u32>,
    pub threshold: Vec<f64>,
    pub default_left: Vec<bool>,
    /// `-1` for numeric splits, else `k`: the left categories are the set bits of
    /// `cat_bitset[cat_boundaries[k]..cat_boundaries[k + 1]]` (bit `c % 32` of word `c / 32`).
    pub cat_index: Vec<i32>,
    pub cat_boundaries: Vec<u32>,
    pub cat_bitset: Vec<u32>,
    pub left_child: Vec<i32>,
    pub right_child: Vec<i32>,
    /// Loss reduction of each split (for importance).
    pub split_gain: Vec<f64>,
    /// Training rows through each node (covers, for explanations).
    pub node_count: Vec<u64>,
    /// Shrunk leaf values (learning rate applied).
    pub leaf_value: Vec<f64>,
    pub leaf_count: Vec<u64>,
}

impl Tree {
    /// A tree with no split and one leaf.
    pub(crate) fn single_leaf(value: f64, count: u64) -> Tree {
        Tree {
            split_feature: Vec::new(),
            threshold: Vec::new(),
            default_left: Vec::new(),
            cat_index: Vec::new(),
            cat_boundaries: vec![0],
            cat_bitset: Vec::new(),
            left_child: Vec::new(),
            right_child: Vec::new(),
            split_gain: Vec::new(),
            node_count: Vec::new(),
            leaf_value: vec![value],
            leaf_count: vec![count],
        }
    }

    pub fn n_leaves(&self) -> usize {
        self.leaf_value.len()
    }

    pub fn n_nodes(&self) -> usize {
        self.split_feature.len()
    }

    /// Appends a split node; its children are set by the caller. Returns the node index.
    pub(crate) fn push_node(
        &mut self,
        feature: usize,
        threshold: f64,
        default_left: bool,
        categories: Option<&[u32]>,
        gain: f64,
        count: u64,
    ) -> usize {
        let cat_index = match categories {
            Some(codes) => {
                let words = codes
                    .iter()
                    .map(|&c| c as usize / 32 + 1)
                    .max()
                    .unwrap_or(0);
                let start = self.cat_bitset.len();
                self.cat_bitset.resize(start + words, 0);
                for &c in codes {
                    self.cat_bitset[start + c as usize / 32] |= 1 << (c % 32);
                }
                self.cat_boundaries.push(self.cat_bitset.len() as u32);
                (self.cat_boundaries.len() - 2) as i32
            }
            None => -1,
        };
        self.split_feature.push(feature as u32);
        // JSON has no infinity: "all values left" becomes `x <= f64::MAX`.
        self.threshold.push(threshold.clamp(f64::MIN, f64::MAX));
        self.default_left.push(default_left);
        self.cat_index.push(cat_index);
        self.left_child.push(0);
        self.right_child.push(0);
        self.split_gain.push(gain);
        self.node_count.push(count);
        self.split_feature.len() - 1
    }

    /// Whether node `i` sends value `x` left.
    #[inline]
    pub(crate) fn goes_left(&self, i: usize, x: f64) -> bool {
        let k = self.cat_index[i];
        if k < 0 {
            if x.is_nan() {
                self.default_left[i]
            } else {
                x <= self.threshold[i]
            }
        } else {
            let (lo, hi) = (
                self.cat_boundaries[k as usize] as usize,
                self.cat_boundaries[k as usize + 1] as usize,
            );
            category_in(self.cat_bitset.get(lo..hi).unwrap_or(&[]), x)
        }
    }

    /// The leaf reached by a row, given a value getter (missing columns read as NaN).
    #[inline]
    pub(crate) fn leaf_of(&self, value: impl Fn(usize) -> f64) -> usize {
        if self.split_feature.is_empty() {
            return 0;
        }
        let mut node = 0i32;
        while node >= 0 {
            let i = node as usize;
            node = if self.goes_left(i, value(self.split_feature[i] as usize)) {
                self.left_child[i]
            } else {
                self.right_child[i]
            };
        }
        !node as usize
    }

    /// Prediction for one raw row.
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        let leaf = self.leaf_of(|f| row.get(f).copied().unwrap_or(f64::NAN));
        self.leaf_value.get(leaf).copied().unwrap_or(0.0)
    }

    /// Checks the structure (children in range, acyclic order, bitsets) after loading.
    pub fn validate(&self, n_features: usize) -> Result<(), String> {
        let n = self.n_nodes();
        let same = [
            self.threshold.len(),
            self.default_left.len(),
            self.cat_index.len(),
            self.left_child.len(),
            self.right_child.len(),
            self.split_gain.len(),
            self.node_count.len(),
        ];
        if same.iter().any(|&l| l != n) {
            return Err("node arrays differ in length".into());
        }
        if self.leaf_value.len() != n + 1 || self.leaf_count.len() != n + 1 {
            return Err(format!("{} nodes need {} leaves", n, n + 1));
        }
        if self.cat_boundaries.first() != Some(&0)
            || self.cat_boundaries.windows(2).any(|w| w[0] > w[1])
            || self.cat_boundaries.last().map(|&b| b as usize) != Some(self.cat_bitset.len())
        {
            return Err("categorical boundaries are inconsistent".into());
        }
        for i in 0..n {
            if self.split_feature[i] as usize >= n_features {
                return Err(format!(
                    "node {i} splits on feature {} of {n_features}",
                    self.split_feature[i]
                ));
            }
            if self.cat_index[i] >= 0 && self.cat_index[i] as usize + 1 >= self.cat_boundaries.len()
            {
                return Err(format!("node {i} has no categorical bitset"));
            }
            for c in [self.left_child[i], self.right_child[i]] {
                let ok = if c >= 0 {
                    (c as usize) > i && (c as usize) < n
                } else {
                    (!c as usize) <= n
                };
                if !ok {
                    return Err(format!("node {i} has child {c} out of range"));
                }
            }
        }
        Ok(())
    }
}

/// Whether category code `x` is a set bit of `words` (bit `c % 32` of word `c / 32`); NaN,
/// negative and out-of-range codes are not.
#[inline]
pub(crate) fn category_in(words: &[u32], x: f64) -> bool {
    if x.is_nan() || x < 0.0 {
        return false;
    }
    let code = x as u64;
    usize::try_from(code / 32)
        .ok()
        .and_then(|w| words.get(w))
        .is_some_and(|&w| (w >> (code % 32)) & 1 == 1)
}
