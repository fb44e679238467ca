use serde::{Deserialize, Serialize};

/// How a learner should treat one column of a [`Matrix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FeatureKind {
    Numeric,
    /// Values are category codes `0..n_categories` stored as f64; NaN is missing.
    Categorical {
        n_categories: u32,
    },
}

/// Dense row-major f64 matrix produced by the feature pipeline; NaN marks a missing value.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub n_rows: usize,
    pub n_cols: usize,
    /// Row-major values, `n_rows * n_cols`.
    pub data: Vec<f64>,
    pub feature_names: Vec<String>,
    pub feature_kinds: Vec<FeatureKind>,
}

impl Matrix {
    /// A matrix of numeric features; panics if `data.len() != n_rows * names.len()`.
    pub fn new(n_rows: usize, feature_names: Vec<String>, data: Vec<f64>) -> Self {
        let n_cols = feature_names.len();
        assert_eq!(data.len(), n_rows * n_cols, "matrix data length");
        Matrix {
            n_rows,
            n_cols,
            data,
            feature_kinds: vec![FeatureKind::Numeric; n_cols],
            feature_names,
        }
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.n_cols..(i + 1) * self.n_cols]
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n_cols + j]
    }

    /// Rows picked by index, in the given order.
    pub fn take_rows(&self, idx: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(idx.len() * self.n_cols);
        for &i in idx {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            n_rows: idx.len(),
            n_cols: self.n_cols,
            data,
            feature_names: self.feature_names.clone(),
            feature_kinds: self.feature_kinds.clone(),
        }
    }
}
