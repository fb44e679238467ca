//! What cleaning changed, for the training report.

use serde::{Deserialize, Serialize};

use crate::describe::num;

/// A text column read as numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoercedColumn {
    pub column: String,
    /// Non-null values in the training rows.
    pub n_values: usize,
    /// Values that were not numbers and became missing.
    pub n_changed: usize,
    /// Up to three of those values with their counts, most frequent first.
    pub examples: Vec<(String, usize)>,
}

/// A clipped column and how many training values its bounds changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClippedColumn {
    pub column: String,
    pub lower: f64,
    pub upper: f64,
    pub n_below: usize,
    pub n_above: usize,
}

/// Everything cleaning changed in the training data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CleaningReport {
    /// Exact duplicate rows dropped before the split (set by the training job).
    pub duplicates_dropped: usize,
    pub coerced: Vec<CoercedColumn>,
    pub clipped: Vec<ClippedColumn>,
}

impl CleaningReport {
    pub fn is_empty(&self) -> bool {
        self.duplicates_dropped == 0 && self.coerced.is_empty() && self.clipped.is_empty()
    }

    /// One plain sentence per change, for example
    /// `column 'total_charges': 11 values not numbers set to missing (' ' x11)`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.duplicates_dropped > 0 {
            out.push(format!(
                "dropped {} exact duplicate rows",
                self.duplicates_dropped
            ));
        }
        for c in &self.coerced {
            let mut line = format!(
                "column '{}': read as numbers; {} of {} values not numbers set to missing",
                c.column, c.n_changed, c.n_values
            );
            if !c.examples.is_empty() {
                let shown: Vec<String> = c
                    .examples
                    .iter()
                    .map(|(text, n)| format!("'{text}' x{n}"))
                    .collect();
                line.push_str(&format!(" ({})", shown.join(", ")));
            }
            out.push(line);
        }
        let within: Vec<&str> = self
            .clipped
            .iter()
            .filter(|c| c.n_below + c.n_above == 0)
            .map(|c| c.column.as_str())
            .collect();
        for c in self.clipped.iter().filter(|c| c.n_below + c.n_above > 0) {
            out.push(format!(
                "column '{}': {} values clipped to [{}, {}] ({} below, {} above)",
                c.column,
                c.n_below + c.n_above,
                num(c.lower),
                num(c.upper),
                c.n_below,
                c.n_above
            ));
        }
        if !within.is_empty() {
            out.push(format!("within their clip bounds: {}", within.join(", ")));
        }
        out
    }
}
