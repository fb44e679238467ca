//! Findings: what a reader should look at first, in plain words.
//!
//! - `duplicate_rows`: some rows repeat an earlier row exactly.
//! - `mostly_missing`: more than half of a column is missing (all of it: "empty").
//! - `constant`: one value in every non-missing row.
//! - `id_like`: a string or integer column with a different value in (almost) every row:
//!   distinct >= 95% of the non-missing rows, at least 20 of them, and no fewer than half
//!   the table's rows present.
//! - `leakage_suspect`: a feature that predicts the target almost perfectly on its own:
//!   single-feature AUC, |Pearson r|, correlation ratio or Cramér's V >= 0.99. ID-like
//!   columns are not suspects (they are reported as ID-like).
//! - `high_correlation`: two features (not the target) with |Pearson r| >= 0.95, or
//!   Cramér's V >= 0.95.

use capstan_frame::DataType;

use super::html::thousands;
use super::{ColumnProfile, Correlations, Finding, TargetProfile};

pub const MOSTLY_MISSING: f64 = 0.5;
pub const ID_LIKE_DISTINCT: f64 = 0.95;
pub const ID_LIKE_MIN_ROWS: usize = 20;
pub const LEAKAGE: f64 = 0.99;
pub const HIGH_CORRELATION: f64 = 0.95;

/// Whether a column looks like an identifier.
pub fn is_id_like(col: &ColumnProfile, n_rows: usize) -> bool {
    matches!(col.dtype, DataType::String | DataType::Integer)
        && col.count >= ID_LIKE_MIN_ROWS
        && col.count * 2 >= n_rows
        && col.distinct as f64 >= ID_LIKE_DISTINCT * col.count as f64
}

pub(crate) fn findings(
    n_rows: usize,
    duplicate_rows: usize,
    columns: &[ColumnProfile],
    correlations: &Correlations,
    target: Option<&TargetProfile>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if duplicate_rows > 0 {
        out.push(Finding {
            column: None,
            kind: "duplicate_rows".into(),
            message: format!(
                "{} of {} rows ({}) repeat an earlier row exactly",
                thousands(duplicate_rows),
                thousands(n_rows),
                percent(duplicate_rows, n_rows)
            ),
        });
    }
    let target_name = target.map(|t| t.name.as_str());
    for col in columns {
        let name = &col.name;
        if n_rows > 0 && col.count == 0 {
            out.push(finding(
                name,
                "mostly_missing",
                format!(
                    "'{name}' is empty: missing in all {} rows",
                    thousands(n_rows)
                ),
            ));
            continue;
        }
        if col.missing as f64 > MOSTLY_MISSING * n_rows as f64 {
            out.push(finding(
                name,
                "mostly_missing",
                format!(
                    "'{name}' is missing in {} of {} rows ({})",
                    thousands(col.missing),
                    thousands(n_rows),
                    percent(col.missing, n_rows)
                ),
            ));
        }
        if col.distinct == 1 {
            let value = col
                .top_values
                .first()
                .map(|v| format!(" ('{}')", v.value))
                .or_else(|| col.numeric.as_ref().map(|s| format!(" ({})", s.min)))
                .unwrap_or_default();
            out.push(finding(
                name,
                "constant",
                format!(
                    "'{name}' has the same value{value} in every row where it is present: it carries no information"
                ),
            ));
        }
        if Some(name.as_str()) != target_name && is_id_like(col, n_rows) {
            out.push(finding(
                name,
                "id_like",
                format!(
                    "'{name}' has a different value in almost every row ({} distinct in {} rows): it looks like an identifier, not a feature",
                    thousands(col.distinct),
                    thousands(col.count)
                ),
            ));
        }
    }
    if let Some(t) = target {
        for f in &t.features {
            let Some(v) = f.value else { continue };
            let id_like = columns
                .iter()
                .find(|c| c.name == f.column)
                .is_some_and(|c| is_id_like(c, n_rows));
            if v.abs() >= LEAKAGE && !id_like {
                out.push(finding(
                    &f.column,
                    "leakage_suspect",
                    format!(
                        "'{}' predicts the target '{}' almost perfectly on its own ({} = {:.4}): check that it is known before the outcome, or it leaks the answer",
                        f.column,
                        t.name,
                        measure_words(&f.measure),
                        v
                    ),
                ));
            }
        }
    }
    pairs(
        &mut out,
        &correlations.numeric_columns,
        &correlations.pearson,
        target_name,
        "Pearson r",
    );
    pairs(
        &mut out,
        &correlations.categorical_columns,
        &correlations.cramers_v,
        target_name,
        "Cramér's V",
    );
    out
}

fn pairs(
    out: &mut Vec<Finding>,
    names: &[String],
    matrix: &[Vec<Option<f64>>],
    target: Option<&str>,
    measure: &str,
) {
    for a in 0..names.len() {
        for b in a + 1..names.len() {
            if target == Some(names[a].as_str()) || target == Some(names[b].as_str()) {
                continue;
            }
            if let Some(v) = matrix[a][b].filter(|v| v.abs() >= HIGH_CORRELATION) {
                out.push(finding(
                    &names[a],
                    "high_correlation",
                    format!(
                        "'{}' and '{}' move together almost exactly ({measure} = {v:.3}): one of them adds little",
                        names[a], names[b]
                    ),
                ));
            }
        }
    }
}

fn finding(column: &str, kind: &str, message: String) -> Finding {
    Finding {
        column: Some(column.to_string()),
        kind: kind.to_string(),
        message,
    }
}

/// The measure's name for people.
pub fn measure_words(measure: &str) -> &str {
    match measure {
        "pearson" => "Pearson r",
        "single_feature_auc" => "single-feature AUC",
        "correlation_ratio" => "correlation ratio",
        "cramers_v" => "Cramér's V",
        other => other,
    }
}

/// `part` of `whole` as a percentage with one decimal.
pub fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "0%".into();
    }
    let p = 100.0 * part as f64 / whole as f64;
    if part > 0 && p < 0.05 {
        return "<0.1%".into();
    }
    format!("{p:.1}%")
}
