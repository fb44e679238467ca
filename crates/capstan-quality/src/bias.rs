//! Bias checks before training: label balance and representation of sensitive groups.
//!
//! A classification target (by `crate::label`'s rule, as in training) gets class counts overall and the rate of each class per group; a numeric
//! target gets the mean per group. Classes are sorted as training sorts them (numerically
//! for numbers), so the positive class of a binary target is the second one. Rows with a
//! null target count in the representation of groups but not in any rate. A null
//! sensitive value is its own group, [`MISSING_GROUP`].

use std::collections::{BTreeMap, BTreeSet};

use capstan_frame::{Column, Frame};
use serde::{Deserialize, Serialize};

use crate::QualityError;

/// The group of rows whose sensitive value is null.
pub const MISSING_GROUP: &str = "(missing)";
/// A group with a smaller share of the rows is flagged.
pub const MIN_GROUP_SHARE: f64 = 0.05;
/// A class with a smaller share of the labelled rows is flagged.
pub const MIN_CLASS_SHARE: f64 = 0.10;
/// The four-fifths rule: the lowest group rate over the highest below this is flagged.
pub const FOUR_FIFTHS: f64 = 0.8;
/// Integer targets with at most this many distinct values are classes (as in training).
/// Sensitive columns with more groups get a finding suggesting to bin them.
const MAX_GROUPS: usize = 50;

/// How the target is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Classification,
    Regression,
}

/// One class of the target over the labelled rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassShare {
    pub class: String,
    pub count: usize,
    pub share: f64,
}

/// One group of a sensitive column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    pub group: String,
    /// Rows in the group (with or without a target).
    pub count: usize,
    /// `count` over all rows.
    pub share: f64,
    /// Rows of the group with a target.
    pub labelled: usize,
    /// Classification: the share of each class among the group's labelled rows.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub class_rates: BTreeMap<String, f64>,
    /// Binary target: the share of the positive class among the group's labelled rows.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub positive_rate: Option<f64>,
    /// Regression: the mean target of the group's labelled rows.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mean_target: Option<f64>,
}

/// The groups of one sensitive column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitiveColumn {
    pub column: String,
    /// Sorted by label; [`MISSING_GROUP`] sorts with the others.
    pub groups: Vec<GroupStats>,
    /// Binary target: lowest over highest positive rate among groups with labelled rows
    /// (the disparate impact ratio); `None` when no group has a positive.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub positive_rate_ratio: Option<f64>,
}

/// Everything `bias_report` found, serializable as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasReport {
    pub n_rows: usize,
    pub target: String,
    pub target_kind: TargetKind,
    /// Rows whose target is null (left out of every rate).
    pub missing_target: usize,
    /// Classification: every class, sorted as in training.
    pub classes: Vec<ClassShare>,
    /// Binary target: the second class, the one rates are given for.
    pub positive_class: Option<String>,
    /// Regression: mean target over the labelled rows.
    pub mean_target: Option<f64>,
    pub columns: Vec<SensitiveColumn>,
    /// Plain-language observations, in a fixed order.
    pub findings: Vec<String>,
}

/// Checks label balance and group representation. `kind` overrides the inferred target
/// kind. Errors name a missing column and list the frame's columns.
pub fn bias_report(
    frame: &Frame,
    target: &str,
    sensitive: &[String],
    kind: Option<TargetKind>,
) -> Result<BiasReport, QualityError> {
    let y = require(frame, target, "target")?;
    if sensitive.is_empty() {
        return Err(QualityError::Input(
            "no sensitive column: expected at least one".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    for name in sensitive {
        require(frame, name, "sensitive")?;
        if name == target {
            return Err(QualityError::Input(format!(
                "sensitive column '{name}' is the target; expected a column describing the rows"
            )));
        }
        if !seen.insert(name) {
            return Err(QualityError::Input(format!(
                "sensitive column '{name}' is listed twice"
            )));
        }
    }
    let n = frame.n_rows();
    let labelled: Vec<usize> = (0..n).filter(|&i| !y.is_null(i)).collect();
    if labelled.is_empty() {
        return Err(QualityError::Input(format!(
            "target column '{target}' has no values"
        )));
    }
    let kind = kind.unwrap_or_else(|| infer_kind(y, &labelled));
    if kind == TargetKind::Regression && !y.dtype().is_numeric() {
        return Err(QualityError::Input(format!(
            "target column '{target}' is {}: expected a numeric target for regression",
            y.dtype()
        )));
    }
    let labels = TargetLabels::new(y, kind, &labelled);
    let mut report = BiasReport {
        n_rows: n,
        target: target.to_string(),
        target_kind: kind,
        missing_target: n - labelled.len(),
        classes: labels.class_shares(),
        positive_class: labels.positive_class().map(str::to_string),
        mean_target: labels.mean(&labelled),
        columns: Vec::new(),
        findings: Vec::new(),
    };
    for name in sensitive {
        let col = require(frame, name, "sensitive")?;
        report.columns.push(sensitive_column(name, col, &labels));
    }
    report.findings = findings(&report);
    Ok(report)
}

fn require<'a>(frame: &'a Frame, name: &str, role: &str) -> Result<&'a Column, QualityError> {
    frame.column(name).ok_or_else(|| {
        let names: Vec<&str> = frame.schema().names().collect();
        QualityError::Input(format!(
            "{role} column '{name}' not found; columns are: {}",
            names.join(", ")
        ))
    })
}

fn infer_kind(col: &Column, rows: &[usize]) -> TargetKind {
    if crate::label::is_classes(col, rows) {
        TargetKind::Classification
    } else {
        TargetKind::Regression
    }
}

/// The target per row: a class index or a number (`None` when null).
struct TargetLabels {
    classes: Vec<String>,
    /// Class index (classification) or value (regression) per row.
    values: Vec<Option<f64>>,
}

impl TargetLabels {
    fn new(col: &Column, kind: TargetKind, labelled: &[usize]) -> TargetLabels {
        let n = col.len();
        if kind == TargetKind::Regression {
            return TargetLabels {
                classes: Vec::new(),
                values: (0..n).map(|i| col.f64_at(i)).collect(),
            };
        }
        let classes = crate::label::class_labels(col, labelled);
        let index: BTreeMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(k, c)| (c.as_str(), k))
            .collect();
        let values = (0..n)
            .map(|i| {
                let label = col.display_at(i)?;
                index.get(label.as_str()).map(|&k| k as f64)
            })
            .collect();
        TargetLabels { classes, values }
    }

    fn is_binary(&self) -> bool {
        self.classes.len() == 2
    }

    fn positive_class(&self) -> Option<&str> {
        self.is_binary().then(|| self.classes[1].as_str())
    }

    fn class_counts(&self, rows: impl Iterator<Item = usize>) -> (Vec<usize>, usize) {
        let mut counts = vec![0; self.classes.len()];
        let mut total = 0;
        if self.classes.is_empty() {
            return (counts, total);
        }
        for i in rows {
            if let Some(k) = self.values[i] {
                counts[k as usize] += 1;
                total += 1;
            }
        }
        (counts, total)
    }

    fn class_shares(&self) -> Vec<ClassShare> {
        let (counts, total) = self.class_counts(0..self.values.len());
        self.classes
            .iter()
            .zip(counts)
            .map(|(c, count)| ClassShare {
                class: c.clone(),
                count,
                share: fraction(count, total),
            })
            .collect()
    }

    /// Mean of the labelled values of `rows` (regression only).
    fn mean(&self, rows: &[usize]) -> Option<f64> {
        if !self.classes.is_empty() {
            return None;
        }
        let values: Vec<f64> = rows.iter().filter_map(|&i| self.values[i]).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }
}

fn fraction(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn sensitive_column(name: &str, col: &Column, labels: &TargetLabels) -> SensitiveColumn {
    let n = col.len();
    let mut rows_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let group = col
            .display_at(i)
            .unwrap_or_else(|| MISSING_GROUP.to_string());
        rows_of.entry(group).or_default().push(i);
    }
    let groups: Vec<GroupStats> = rows_of
        .into_iter()
        .map(|(group, rows)| {
            let (counts, labelled) = labels.class_counts(rows.iter().copied());
            let class_rates: BTreeMap<String, f64> = if labelled == 0 {
                BTreeMap::new()
            } else {
                labels
                    .classes
                    .iter()
                    .zip(&counts)
                    .map(|(c, &k)| (c.clone(), fraction(k, labelled)))
                    .collect()
            };
            let labelled = if labels.classes.is_empty() {
                rows.iter().filter(|&&i| labels.values[i].is_some()).count()
            } else {
                labelled
            };
            GroupStats {
                count: rows.len(),
                share: fraction(rows.len(), n),
                labelled,
                positive_rate: labels
                    .positive_class()
                    .and_then(|p| class_rates.get(p).copied()),
                class_rates,
                mean_target: labels.mean(&rows),
                group,
            }
        })
        .collect();
    let positive_rate_ratio = if labels.is_binary() {
        rate_ratio(groups.iter().filter_map(|g| g.positive_rate))
    } else {
        None
    };
    SensitiveColumn {
        column: name.to_string(),
        groups,
        positive_rate_ratio,
    }
}

/// Lowest over highest rate; `None` when the highest is 0 or there are no rates.
fn rate_ratio(rates: impl Iterator<Item = f64>) -> Option<f64> {
    let (lo, hi) = rates.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
        (lo.min(r), hi.max(r))
    });
    (hi > 0.0).then(|| lo / hi)
}

fn percent(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn findings(r: &BiasReport) -> Vec<String> {
    let mut out = Vec::new();
    let labelled = r.n_rows - r.missing_target;
    for c in &r.classes {
        if c.share < MIN_CLASS_SHARE {
            out.push(format!(
                "target '{}': class '{}' is {} of labelled rows ({} of {labelled}), under 10 %: \
                 the model may neglect it; watch recall and PR AUC rather than accuracy",
                r.target,
                c.class,
                percent(c.share),
                c.count
            ));
        }
    }
    for col in &r.columns {
        if col.groups.len() > MAX_GROUPS {
            out.push(format!(
                "column '{}' has {} groups: expected a categorical attribute; bin it into \
                 ranges for a readable check",
                col.column,
                col.groups.len()
            ));
        }
        for g in &col.groups {
            if g.share < MIN_GROUP_SHARE {
                out.push(format!(
                    "column '{}': group '{}' is {} of rows ({} of {}), under 5 %: \
                     the model sees few examples of it and its metrics will be noisy",
                    col.column,
                    g.group,
                    percent(g.share),
                    g.count,
                    r.n_rows
                ));
            }
        }
        out.extend(rate_findings(r, col));
    }
    out
}

/// The four-fifths rule on the positive class (binary) or on each class (multiclass).
fn rate_findings(r: &BiasReport, col: &SensitiveColumn) -> Vec<String> {
    let classes: Vec<&str> = match &r.positive_class {
        Some(p) => vec![p.as_str()],
        None => r.classes.iter().map(|c| c.class.as_str()).collect(),
    };
    let mut out = Vec::new();
    for class in classes {
        let rates: Vec<(&str, f64)> = col
            .groups
            .iter()
            .filter_map(|g| Some((g.group.as_str(), *g.class_rates.get(class)?)))
            .collect();
        if rates.len() < 2 {
            continue;
        }
        // First lowest and first highest in group order, so ties read the same every run.
        let low = rates
            .iter()
            .fold(rates[0], |a, &b| if b.1 < a.1 { b } else { a });
        let high = rates
            .iter()
            .fold(rates[0], |a, &b| if b.1 > a.1 { b } else { a });
        if high.1 > 0.0 && low.1 / high.1 < FOUR_FIFTHS {
            out.push(format!(
                "column '{}': rate of class '{class}' is {} for group '{}' vs {} for group \
                 '{}' (ratio {:.3}), below the four-fifths rule (0.8)",
                col.column,
                percent(low.1),
                low.0,
                percent(high.1),
                high.0,
                low.1 / high.1
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_frame::Column;

    fn frame(cols: Vec<(&str, Column)>) -> Frame {
        Frame::from_columns(cols.into_iter().map(|(n, c)| (n.to_string(), c)).collect())
            .expect("valid frame")
    }

    fn strings(v: &[Option<&str>]) -> Column {
        Column::String(v.iter().copied().collect())
    }

    #[test]
    fn rates_groups_and_findings() {
        // 21 rows: group "a" 13 rows with 6 positives, "b" 7 rows with 1, one null group.
        let mut g = vec![Some("a"); 13];
        g.extend(vec![Some("b"); 7]);
        g.push(None);
        let mut y = vec![Some("yes"); 6];
        y.extend(vec![Some("no"); 7]);
        y.push(Some("yes"));
        y.extend(vec![Some("no"); 6]);
        y.push(None);
        let f = frame(vec![("g", strings(&g)), ("y", strings(&y))]);
        let r = bias_report(&f, "y", &["g".to_string()], None).expect("report");
        assert_eq!(r.target_kind, TargetKind::Classification);
        assert_eq!(r.missing_target, 1);
        assert_eq!(r.positive_class.as_deref(), Some("yes"));
        assert_eq!(r.classes[1].count, 7);
        let groups = &r.columns[0].groups;
        let names: Vec<&str> = groups.iter().map(|g| g.group.as_str()).collect();
        assert_eq!(names, ["(missing)", "a", "b"]);
        assert_eq!(groups[0].labelled, 0);
        assert_eq!(groups[0].positive_rate, None);
        assert_eq!(groups[1].positive_rate, Some(6.0 / 13.0));
        assert_eq!(groups[2].positive_rate, Some(1.0 / 7.0));
        let ratio = r.columns[0].positive_rate_ratio.expect("ratio");
        assert!((ratio - 13.0 / 42.0).abs() < 1e-15);
        let text = r.findings.join("\n");
        assert!(
            text.contains("group '(missing)' is 4.8 % of rows (1 of 21)"),
            "{text}"
        );
        assert!(text.contains("below the four-fifths rule"), "{text}");
    }

    #[test]
    fn missing_columns_are_named() {
        let f = frame(vec![("y", strings(&[Some("a"), Some("b")]))]);
        let err = bias_report(&f, "label", &["y".into()], None).expect_err("no target");
        assert!(
            err.to_string().contains("target column 'label' not found"),
            "{err}"
        );
        let err = bias_report(&f, "y", &["sex".into()], None).expect_err("no sensitive");
        assert!(
            err.to_string()
                .contains("sensitive column 'sex' not found; columns are: y")
        );
    }
}

#[cfg(test)]
mod real_data {
    use std::path::Path;

    use super::*;

    #[test]
    fn adult_sex_and_race() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/adult/adult.csv");
        let frame = capstan_frame::read(&path, &Default::default()).expect("read adult.csv");
        let sensitive = ["sex".to_string(), "race".to_string()];
        let r = bias_report(&frame, "income_gt_50k", &sensitive, None).expect("report");
        assert_eq!(r.n_rows, 48842);
        assert_eq!(r.positive_class.as_deref(), Some("1"));
        let total: usize = r.classes.iter().map(|c| c.count).sum();
        assert_eq!(total, 48842);
        let sex = &r.columns[0];
        let female = &sex.groups[0];
        assert_eq!(female.group, "Female");
        // Rates recomputed from the rows directly.
        let (sex_col, y) = (
            frame.column("sex").expect("sex"),
            frame.column("income_gt_50k").expect("y"),
        );
        let rows: Vec<usize> = (0..frame.n_rows())
            .filter(|&i| sex_col.str_at(i) == Some("Female"))
            .collect();
        let pos = rows.iter().filter(|&&i| y.f64_at(i) == Some(1.0)).count();
        assert_eq!(female.count, rows.len());
        assert_eq!(female.positive_rate, Some(pos as f64 / rows.len() as f64));
        let ratio = sex.positive_rate_ratio.expect("ratio");
        assert!(
            ratio < 0.8,
            "adult's income gap by sex fails the four-fifths rule: {ratio}"
        );
        let text = r.findings.join("\n");
        assert!(text.contains("column 'sex': rate of class '1'"), "{text}");
        assert!(text.contains("column 'race': group 'Other'"), "{text}");
        let json = serde_json::to_string(&r).expect("serialize");
        let back: BiasReport = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, r);
    }
}
