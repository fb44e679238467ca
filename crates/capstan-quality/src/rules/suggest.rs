//! A starting rules file from a profile: rules the profiled data passes, with comments.

use std::fmt::Write as _;

use capstan_frame::{DataType, Frame};

use crate::QualityError;
use crate::profile::{ColumnProfile, Profile, ProfileOptions};

/// String columns with at most this many distinct values get an `allowed` set.
pub const MAX_ALLOWED_VALUES: usize = 50;

/// Profiles `frame` and writes rules it passes (TOML with comments).
pub fn suggest(frame: &Frame, source: &str) -> Result<String, QualityError> {
    let opts = ProfileOptions {
        top_values: MAX_ALLOWED_VALUES + 1,
        ..ProfileOptions::default()
    };
    let profile = crate::profile::profile(frame, source, &opts)?;
    Ok(suggest_from_profile(&profile))
}

/// Rules from a profile whose `top_values` hold more than `MAX_ALLOWED_VALUES` entries
/// where a column has more distinct values (as `suggest` asks for).
pub fn suggest_from_profile(p: &Profile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Validation rules suggested from {} ({} rows).",
        p.source, p.n_rows
    );
    out.push_str(
        "# Every rule passes on that data. Edit freely; add `severity = \"warn\"` to a rule by\n\
         # writing it as `key = { value = ..., severity = \"warn\" }` to report without failing.\n\
         # Check with: capstan data validate --data FILE --rules THIS_FILE\n\n",
    );
    out.push_str("[table]\n");
    let min_rows = (p.n_rows / 2).max(1);
    let _ = writeln!(
        out,
        "# half the rows profiled: a much smaller table is probably a broken extract\nmin_rows = {min_rows}"
    );
    out.push_str(
        "# every profiled column must be present (other columns are allowed)\ncolumns = [",
    );
    for (i, c) in p.columns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&quote(&c.name));
    }
    out.push_str("]\n");
    let unique: Vec<&ColumnProfile> = p.columns.iter().filter(|c| id_like(c, p.n_rows)).collect();
    if !unique.is_empty() {
        out.push_str("# ID-like columns: every value was distinct\nunique = [");
        for (i, c) in unique.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "[{}]", quote(&c.name));
        }
        out.push_str("]\n");
    }
    let _ = writeln!(
        out,
        "# rows repeating an earlier row, as observed\nmax_duplicate_rows = {}",
        p.duplicate_rows
    );
    for c in &p.columns {
        out.push('\n');
        column_rules(&mut out, c, p.n_rows);
    }
    out
}

fn column_rules(out: &mut String, c: &ColumnProfile, n_rows: usize) {
    let _ = writeln!(out, "[columns.{}]", key(&c.name));
    let _ = writeln!(out, "type = {}", quote(c.dtype.name()));
    if c.missing == 0 {
        out.push_str("not_null = true\n");
    } else {
        let fraction = c.missing as f64 / n_rows.max(1) as f64;
        let _ = writeln!(
            out,
            "# {} of {n_rows} rows were missing\nmax_missing_fraction = {}",
            c.missing,
            float(fraction)
        );
    }
    if matches!(c.dtype, DataType::Integer | DataType::Float) {
        if let Some(stats) = &c.numeric {
            let _ = writeln!(
                out,
                "# observed range\nmin = {}\nmax = {}",
                number(c.dtype, stats.min),
                number(c.dtype, stats.max)
            );
        }
    }
    let covered: usize = c.top_values.iter().map(|v| v.count).sum();
    if c.dtype == DataType::String
        && c.distinct <= MAX_ALLOWED_VALUES
        && c.count > 0
        && covered == c.count
    {
        let _ = writeln!(
            out,
            "# the {} values seen, most frequent first (with counts)",
            c.distinct
        );
        out.push_str("allowed = [\n");
        for v in &c.top_values {
            let _ = writeln!(out, "    {}, # {}", quote(&v.value), v.count);
        }
        out.push_str("]\n");
    }
}

/// Every value distinct and none missing, in a column of integers or text.
fn id_like(c: &ColumnProfile, n_rows: usize) -> bool {
    n_rows > 1
        && c.missing == 0
        && c.distinct == n_rows
        && matches!(c.dtype, DataType::Integer | DataType::String)
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare where possible.
fn key(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { s.to_string() } else { quote(s) }
}

/// A bound as TOML: integers without a fraction; floats round-trip exactly.
fn number(dtype: DataType, v: f64) -> String {
    if dtype == DataType::Integer && v.fract() == 0.0 && v.abs() < 9.0e15 {
        format!("{}", v as i64)
    } else {
        float(v)
    }
}

/// A float as TOML (always with a `.` or exponent so it reads back as a float).
fn float(v: f64) -> String {
    let text = format!("{v:?}");
    if text.contains(['.', 'e', 'E']) || !v.is_finite() {
        text
    } else {
        format!("{text}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Correlations, Histogram, NumericStats, ValueCount};
    use crate::rules::RuleSet;

    fn profile() -> Profile {
        let numeric = |min: f64, max: f64| NumericStats {
            mean: 0.0,
            std: None,
            min,
            q25: min,
            q50: min,
            q75: max,
            max,
            zeros: 0,
            histogram: Histogram {
                edges: vec![min, max],
                counts: vec![4],
            },
        };
        let col = |name: &str, dtype, missing, distinct| ColumnProfile {
            name: name.into(),
            dtype,
            count: 4 - missing,
            missing,
            distinct,
            numeric: None,
            top_values: vec![],
            time_range: None,
        };
        let mut id = col("id", DataType::Integer, 0, 4);
        id.numeric = Some(numeric(1.0, 4.0));
        let mut x = col("x value", DataType::Float, 1, 3);
        x.numeric = Some(numeric(-0.5, 2.25));
        let mut c = col("c", DataType::String, 0, 2);
        c.top_values = vec![
            ValueCount {
                value: "a \"q\"".into(),
                count: 3,
            },
            ValueCount {
                value: "b".into(),
                count: 1,
            },
        ];
        Profile {
            source: "t.csv".into(),
            n_rows: 4,
            n_cols: 3,
            duplicate_rows: 0,
            columns: vec![id, x, c],
            correlations: Correlations {
                numeric_columns: vec![],
                pearson: vec![],
                categorical_columns: vec![],
                cramers_v: vec![],
            },
            target: None,
            findings: vec![],
        }
    }

    #[test]
    fn suggested_rules_parse_back_with_the_observed_values() {
        let text = suggest_from_profile(&profile());
        let rules = RuleSet::parse(&text, "suggested.toml").expect(&text);
        assert_eq!(rules.table.min_rows.as_ref().map(|r| r.value), Some(2));
        assert_eq!(
            rules.table.unique.as_ref().map(|r| r.value.clone()),
            Some(vec![vec!["id".to_string()]])
        );
        assert_eq!(
            rules.table.max_duplicate_rows.as_ref().map(|r| r.value),
            Some(0)
        );
        let x = &rules.columns["x value"];
        assert_eq!(x.min.as_ref().map(|r| r.value), Some(-0.5));
        assert_eq!(x.max.as_ref().map(|r| r.value), Some(2.25));
        assert_eq!(x.max_missing_fraction.as_ref().map(|r| r.value), Some(0.25));
        assert!(x.not_null.is_none());
        let c = &rules.columns["c"];
        let allowed: Vec<&str> = c
            .allowed
            .as_ref()
            .expect("allowed")
            .value
            .iter()
            .map(|t| t.0.as_str())
            .collect();
        assert_eq!(allowed, ["a \"q\"", "b"]);
        assert_eq!(c.not_null.as_ref().map(|r| r.value), Some(true));
        assert_eq!(
            rules.columns["id"].dtype.as_ref().map(|r| r.value),
            Some(DataType::Integer)
        );
    }
}
