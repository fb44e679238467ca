//! Row rules compiled once (regexes built, allowed sets hashed) and checked one value at a
//! time: `capstan data validate`, training and serving all judge rows with this code.

use std::collections::HashSet;

use capstan_frame::{Column, DataType, Frame};
use chrono::{NaiveDate, NaiveDateTime};
use regex::Regex;
use serde::Serialize;

use super::spec::{RuleSet, Severity};
use crate::QualityError;

/// The rules that judge a single row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowRuleKind {
    Type,
    NotNull,
    Min,
    Max,
    Allowed,
    Regex,
}

impl RowRuleKind {
    pub fn name(self) -> &'static str {
        match self {
            RowRuleKind::Type => "type",
            RowRuleKind::NotNull => "not_null",
            RowRuleKind::Min => "min",
            RowRuleKind::Max => "max",
            RowRuleKind::Allowed => "allowed",
            RowRuleKind::Regex => "regex",
        }
    }
}

/// One compiled row rule of one column.
#[derive(Debug, Clone)]
pub struct RowRule {
    pub kind: RowRuleKind,
    pub severity: Severity,
    check: RowCheck,
}

#[derive(Debug, Clone)]
enum RowCheck {
    Type(DataType),
    NotNull,
    Min(f64),
    Max(f64),
    Allowed(HashSet<String>),
    Regex(Regex),
}

impl RowRule {
    /// What the rule expects, for reports.
    pub fn expected(&self) -> String {
        match &self.check {
            RowCheck::Type(t) => format!("type {t}"),
            RowCheck::NotNull => "not null".into(),
            RowCheck::Min(v) => format!(">= {v}"),
            RowCheck::Max(v) => format!("<= {v}"),
            RowCheck::Allowed(set) => format!("one of {} allowed values", set.len()),
            RowCheck::Regex(re) => format!("matches {:?}", re.as_str()),
        }
    }

    /// Whether row `i` of `column` breaks this rule. Nulls (and NaN) break only `not_null`.
    pub fn breaks(&self, column: &Column, i: usize) -> bool {
        if is_missing(column, i) {
            return matches!(self.check, RowCheck::NotNull);
        }
        match &self.check {
            RowCheck::NotNull => false,
            RowCheck::Type(t) => !conforms(column, i, *t),
            RowCheck::Min(lo) => number_at(column, i).is_none_or(|v| v < *lo),
            RowCheck::Max(hi) => number_at(column, i).is_none_or(|v| v > *hi),
            RowCheck::Allowed(set) => !with_text(column, i, |s| set.contains(s)),
            RowCheck::Regex(re) => !with_text(column, i, |s| re.is_match(s)),
        }
    }
}

/// The row rules of one column, in a fixed order (type, not_null, min, max, allowed, regex).
#[derive(Debug, Clone)]
pub struct ColumnRowRules {
    pub column: String,
    pub rules: Vec<RowRule>,
}

/// Every column's row rules, columns by name.
#[derive(Debug, Clone, Default)]
pub struct RowRules {
    pub columns: Vec<ColumnRowRules>,
}

impl RowRules {
    pub fn compile(rules: &RuleSet) -> Result<RowRules, QualityError> {
        let mut columns = Vec::new();
        for (name, col) in &rules.columns {
            let mut out = Vec::new();
            let mut push = |kind, severity, check| {
                out.push(RowRule {
                    kind,
                    severity,
                    check,
                })
            };
            if let Some(r) = &col.dtype {
                push(RowRuleKind::Type, r.severity, RowCheck::Type(r.value));
            }
            if let Some(r) = col.not_null.as_ref().filter(|r| r.value) {
                push(RowRuleKind::NotNull, r.severity, RowCheck::NotNull);
            }
            if let Some(r) = &col.min {
                push(RowRuleKind::Min, r.severity, RowCheck::Min(r.value));
            }
            if let Some(r) = &col.max {
                push(RowRuleKind::Max, r.severity, RowCheck::Max(r.value));
            }
            if let Some(r) = &col.allowed {
                let set = r.value.iter().map(|t| t.0.clone()).collect();
                push(RowRuleKind::Allowed, r.severity, RowCheck::Allowed(set));
            }
            if let Some(r) = &col.regex {
                let re = Regex::new(&r.value).map_err(|e| {
                    QualityError::Input(format!(
                        "column '{name}': regex {:?} does not compile: {}",
                        r.value,
                        super::spec::regex_error(&e)
                    ))
                })?;
                push(RowRuleKind::Regex, r.severity, RowCheck::Regex(re));
            }
            if !out.is_empty() {
                columns.push(ColumnRowRules {
                    column: name.clone(),
                    rules: out,
                });
            }
        }
        Ok(RowRules { columns })
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Rows broken per (column, rule) over a whole frame, for live traffic; columns the
    /// frame lacks are skipped. Only non-zero counts are returned.
    pub fn count_violations(&self, frame: &Frame) -> Vec<(&str, RowRuleKind, u64)> {
        let mut out = Vec::new();
        for col_rules in &self.columns {
            let Some(column) = frame.column(&col_rules.column) else {
                continue;
            };
            for rule in &col_rules.rules {
                let n = (0..column.len())
                    .filter(|&i| rule.breaks(column, i))
                    .count() as u64;
                if n > 0 {
                    out.push((col_rules.column.as_str(), rule.kind, n));
                }
            }
        }
        out
    }
}

/// Null, or NaN in a float column.
pub(crate) fn is_missing(column: &Column, i: usize) -> bool {
    column.is_null(i)
        || matches!(column, Column::Float(_)) && column.f64_at(i).is_some_and(f64::is_nan)
}

/// A number: the numeric view of numeric columns, the parsed text of string columns;
/// `None` for dates and text that is not a number.
pub(crate) fn number_at(column: &Column, i: usize) -> Option<f64> {
    match column.dtype() {
        DataType::Integer | DataType::Float | DataType::Boolean => column.f64_at(i),
        DataType::String => column.str_at(i)?.trim().parse().ok(),
        DataType::Date | DataType::Datetime => None,
    }
}

/// Calls `f` with the value's text (borrowed for strings, formatted otherwise).
fn with_text(column: &Column, i: usize, f: impl FnOnce(&str) -> bool) -> bool {
    match column.str_at(i) {
        Some(s) => f(s),
        None => column.display_at(i).is_some_and(|s| f(&s)),
    }
}

/// Whether a non-null value reads as `expected`: same type, an integer as a float, an
/// integral float as an integer, a date as a datetime, anything as a string, or text
/// that parses as the type.
fn conforms(column: &Column, i: usize, expected: DataType) -> bool {
    let actual = column.dtype();
    if actual == expected || expected == DataType::String {
        return true;
    }
    match (actual, expected) {
        (DataType::Integer, DataType::Float) | (DataType::Date, DataType::Datetime) => true,
        (DataType::Float, DataType::Integer) => column
            .f64_at(i)
            .is_some_and(|v| v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15),
        (DataType::String, t) => column.str_at(i).is_some_and(|s| text_is(s, t)),
        _ => false,
    }
}

fn text_is(text: &str, dtype: DataType) -> bool {
    let text = text.trim();
    match dtype {
        DataType::Integer => text.parse::<i64>().is_ok(),
        DataType::Float => text.parse::<f64>().is_ok(),
        DataType::Boolean => {
            text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false")
        }
        DataType::String => true,
        DataType::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
        DataType::Datetime => parse_datetime(text).is_some(),
    }
}

/// `YYYY-MM-DD[(T| )HH:MM:SS[.f]]`, as the CSV reader reads datetimes.
pub(crate) fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use capstan_frame::ReadOptions;

    use super::*;

    fn frame() -> Frame {
        let csv = "age,x,s\n20,1.0,a\n,NaN,b\n150,2.5,12\n5,3.0,\n";
        capstan_frame::read_csv_bytes(
            csv.as_bytes(),
            Path::new("t.csv"),
            &ReadOptions::default(),
            None,
        )
        .expect("frame")
    }

    #[test]
    fn counts_each_rule_on_its_rows() {
        let rules = RuleSet::parse(
            "[columns.age]\nnot_null = true\nmin = 17\nmax = 90\n\
             [columns.x]\nnot_null = true\ntype = \"integer\"\n\
             [columns.s]\nallowed = [\"a\", \"12\"]\nregex = \"^[a-z]$\"\ntype = \"integer\"\n\
             [columns.gone]\nnot_null = true\n",
            "t.toml",
        )
        .expect("parse");
        let compiled = RowRules::compile(&rules).expect("compile");
        let got: Vec<(String, &str, u64)> = compiled
            .count_violations(&frame())
            .into_iter()
            .map(|(c, k, n)| (c.to_string(), k.name(), n))
            .collect();
        let want = [
            ("age", "not_null", 1),
            ("age", "min", 1),
            ("age", "max", 1),
            ("s", "type", 2),
            ("s", "allowed", 1),
            ("s", "regex", 1),
            ("x", "type", 1),
            ("x", "not_null", 1),
        ];
        let want: Vec<(String, &str, u64)> = want
            .iter()
            .map(|(c, k, n)| (c.to_string(), *k, *n))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn text_types_parse_like_the_reader() {
        assert!(text_is(" 42 ", DataType::Integer));
        assert!(!text_is("4.2", DataType::Integer));
        assert!(text_is("TRUE", DataType::Boolean));
        assert!(text_is("2024-02-29", DataType::Date));
        assert!(!text_is("2023-02-29", DataType::Date));
        assert!(text_is("2024-02-29 10:11:12.5", DataType::Datetime));
    }
}
