//! String columns: a sorted dictionary of kept categories plus an optional rare slot,
//! encoded one-hot, as ordinal codes or as native categorical codes.

use std::collections::HashMap;

use capstan_frame::{Column, FeatureKind};
use serde::{Deserialize, Serialize};

use crate::source::str_at;
use crate::{CategoricalEncoding, FeatureError, PipelineMode, PipelineSpec};

/// Fitted state for one string column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalTransform {
    pub column: String,
    /// Resolved encoding: `one_hot`, `ordinal` or `native`, never `auto`.
    pub encoding: CategoricalEncoding,
    /// Kept categories, strictly increasing (byte order); code = index.
    pub categories: Vec<String>,
    /// Rare and unseen categories share one slot, coded `categories.len()`.
    pub rare_slot: bool,
    /// Nulls were seen in training; one-hot then gives them a `NAME=__missing__` column.
    pub nulls_seen: bool,
}

/// Where one value lands.
enum Slot {
    Code(usize),
    Null,
    Unknown,
}

impl CategoricalTransform {
    pub(crate) fn fit(
        name: &str,
        col: &Column,
        mode: PipelineMode,
        spec: &PipelineSpec,
    ) -> Result<CategoricalTransform, FeatureError> {
        let n_rows = col.len();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut nulls_seen = false;
        for i in 0..n_rows {
            match str_at(col, i) {
                Some(s) => *counts.entry(s).or_insert(0) += 1,
                None => nulls_seen = true,
            }
        }
        let is_rare = |count: usize| {
            count < spec.rare_min_count || (count as f64) < spec.rare_min_fraction * n_rows as f64
        };
        let mut categories: Vec<String> = counts
            .iter()
            .filter(|&(_, &c)| !is_rare(c))
            .map(|(&s, _)| s.to_string())
            .collect();
        categories.sort_unstable();
        let rare_slot = categories.len() < counts.len();
        let encoding = match (spec.categorical, mode) {
            (CategoricalEncoding::Auto, PipelineMode::Linear) => CategoricalEncoding::OneHot,
            (CategoricalEncoding::Auto, PipelineMode::Tree) => CategoricalEncoding::Native,
            (e, _) => e,
        };
        let t = CategoricalTransform {
            column: name.to_string(),
            encoding,
            categories,
            rare_slot,
            nulls_seen,
        };
        t.n_codes()?;
        Ok(t)
    }

    /// Kept categories plus the rare slot, as a `FeatureKind` count.
    fn n_codes(&self) -> Result<u32, FeatureError> {
        u32::try_from(self.categories.len() + usize::from(self.rare_slot)).map_err(|_| {
            FeatureError::BadColumn {
                column: self.column.clone(),
                message: format!(
                    "expected at most {} categories, found {}",
                    u32::MAX,
                    self.categories.len()
                ),
            }
        })
    }

    fn slot(&self, value: Option<&str>) -> Slot {
        let Some(s) = value else {
            return Slot::Null;
        };
        match self.categories.binary_search_by(|c| c.as_str().cmp(s)) {
            Ok(code) => Slot::Code(code),
            Err(_) if self.rare_slot => Slot::Code(self.categories.len()),
            Err(_) => Slot::Unknown,
        }
    }

    pub(crate) fn push_features(&self, names: &mut Vec<String>, kinds: &mut Vec<FeatureKind>) {
        match self.encoding {
            CategoricalEncoding::OneHot | CategoricalEncoding::Auto => {
                for c in &self.categories {
                    names.push(format!("{}={c}", self.column));
                }
                if self.rare_slot {
                    names.push(format!("{}=__rare__", self.column));
                }
                if self.nulls_seen {
                    names.push(format!("{}=__missing__", self.column));
                }
                kinds.resize(names.len(), FeatureKind::Numeric);
            }
            CategoricalEncoding::Ordinal => {
                names.push(self.column.clone());
                kinds.push(FeatureKind::Numeric);
            }
            CategoricalEncoding::Native => {
                names.push(self.column.clone());
                kinds.push(FeatureKind::Categorical {
                    n_categories: self.n_codes().unwrap_or(u32::MAX),
                });
            }
        }
    }

    /// Writes rows `start..start + n` into the zero-initialized `block` from column
    /// `offset`. Ordinal nulls and unknowns are -1 in linear mode, NaN in tree mode.
    pub(crate) fn write(
        &self,
        col: &Column,
        start: usize,
        block: &mut [f64],
        n_cols: usize,
        offset: usize,
        mode: PipelineMode,
    ) {
        let rows = block.chunks_exact_mut(n_cols).enumerate();
        match self.encoding {
            CategoricalEncoding::OneHot | CategoricalEncoding::Auto => {
                let null_col = self.categories.len() + usize::from(self.rare_slot);
                for (k, row) in rows {
                    match self.slot(str_at(col, start + k)) {
                        Slot::Code(c) => row[offset + c] = 1.0,
                        Slot::Null if self.nulls_seen => row[offset + null_col] = 1.0,
                        Slot::Null | Slot::Unknown => {}
                    }
                }
            }
            CategoricalEncoding::Ordinal | CategoricalEncoding::Native => {
                let missing = match (self.encoding, mode) {
                    (CategoricalEncoding::Ordinal, PipelineMode::Linear) => -1.0,
                    _ => f64::NAN,
                };
                for (k, row) in rows {
                    row[offset] = match self.slot(str_at(col, start + k)) {
                        Slot::Code(c) => c as f64,
                        Slot::Null | Slot::Unknown => missing,
                    };
                }
            }
        }
    }

    pub(crate) fn describe(&self) -> String {
        let encoding = match self.encoding {
            CategoricalEncoding::OneHot | CategoricalEncoding::Auto => "one-hot",
            CategoricalEncoding::Ordinal => "ordinal codes",
            CategoricalEncoding::Native => "native codes",
        };
        let mut s = format!(
            "{}: categorical, {encoding}, {} categories",
            self.column,
            self.categories.len()
        );
        if self.rare_slot {
            s.push_str(" + rare slot");
        }
        if self.nulls_seen {
            s.push_str(", nulls seen");
        }
        s
    }

    pub(crate) fn validate(&self) -> Result<(), FeatureError> {
        if self.encoding == CategoricalEncoding::Auto {
            return Err(FeatureError::Invalid(format!(
                "column '{}': expected a resolved encoding, found auto",
                self.column
            )));
        }
        if let Some(w) = self.categories.windows(2).find(|w| w[0] >= w[1]) {
            return Err(FeatureError::Invalid(format!(
                "column '{}': expected strictly sorted categories, found '{}' before '{}'",
                self.column, w[0], w[1]
            )));
        }
        self.n_codes().map(|_| ())
    }
}
