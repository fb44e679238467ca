//! What a validation found: every failed rule with its failing rows and a few examples.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::spec::Severity;

/// Example rows kept per failed rule.
pub const MAX_EXAMPLES: usize = 5;

/// The outcome of checking one table against one rules file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Where the rows came from.
    pub source: String,
    pub n_rows: usize,
    pub n_cols: usize,
    /// Rules evaluated (each column rule and each table rule counts once).
    pub rules_checked: usize,
    /// Failed rules of severity `error`.
    pub errors: usize,
    /// Failed rules of severity `warn`.
    pub warnings: usize,
    /// No rule of severity `error` failed.
    pub passed: bool,
    /// Failed rules: table rules first, then columns in the data's order.
    pub failures: Vec<Failure>,
}

/// One failed rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The rule's key in the rules file (`min`, `not_null`, `max_duplicate_rows`, ...), or
    /// `missing_column` for rules about a column the data lacks.
    pub rule: String,
    /// The column (or `a, b` for a unique combination); `None` for table rules.
    pub column: Option<String>,
    pub severity: Severity,
    /// Rows that break the rule; `None` for rules about the table or column as a whole
    /// (row count, columns present, freshness, distribution).
    pub failing_rows: Option<usize>,
    /// What the rule asks for, in words.
    pub expected: String,
    /// What was found, in words.
    pub found: String,
    /// The first failing rows.
    pub examples: Vec<Example>,
    /// Distribution rules: the PSI and the bins that moved most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<DistributionShift>,
}

/// A failing row: 0-based data row index (the header is not a row) and its value as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub row: usize,
    /// `None` for a null.
    pub value: Option<String>,
}

/// Population stability of one column against a reference profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionShift {
    pub psi: f64,
    pub max_psi: f64,
    /// Bins by absolute PSI contribution, largest first (at most five).
    pub top_bins: Vec<BinShift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinShift {
    /// `[a, b)`, a category, `other`, `missing`, `below a` or `above b`.
    pub bin: String,
    /// Share of reference rows in the bin.
    pub reference: f64,
    /// Share of checked rows in the bin.
    pub actual: f64,
    /// This bin's term of the PSI sum.
    pub contribution: f64,
}

impl Report {
    /// A readable table: one line per failed rule, then a summary line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.failures.is_empty() {
            let _ = writeln!(
                out,
                "{}: {} rows, {} rules checked, all passed",
                self.source, self.n_rows, self.rules_checked
            );
            return out;
        }
        let headers = [
            "severity",
            "rule",
            "column",
            "failing rows",
            "expected",
            "found",
            "examples",
        ];
        let rows: Vec<[String; 7]> = self
            .failures
            .iter()
            .map(|f| {
                [
                    f.severity.name().to_string(),
                    f.rule.clone(),
                    f.column.clone().unwrap_or_else(|| "-".into()),
                    f.failing_rows.map_or_else(|| "-".into(), |n| n.to_string()),
                    f.expected.clone(),
                    f.found.clone(),
                    examples_text(&f.examples),
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(cell);
                } else {
                    let _ = write!(s, "{cell:<w$}  ");
                }
            }
            s.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&headers.map(String::from)));
        for row in &rows {
            let _ = writeln!(out, "{}", line(row));
        }
        let _ = writeln!(
            out,
            "{}: {} rows, {} rules checked, {} failed with errors, {} with warnings: {}",
            self.source,
            self.n_rows,
            self.rules_checked,
            self.errors,
            self.warnings,
            if self.passed { "passed" } else { "FAILED" }
        );
        out
    }
}

fn examples_text(examples: &[Example]) -> String {
    examples
        .iter()
        .map(|e| match &e.value {
            Some(v) => format!("row {}: {v:?}", e.row),
            None => format!("row {}: null", e.row),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
