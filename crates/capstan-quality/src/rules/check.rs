//! Checking a frame against compiled rules: every rule runs, every failure is collected.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use capstan_frame::{Column, Frame};
use chrono::{NaiveDate, NaiveDateTime};

use super::distribution::ReferenceBins;
use super::report::{DistributionShift, Example, Failure, MAX_EXAMPLES, Report};
use super::row::{ColumnRowRules, RowRule, RowRules, is_missing, parse_datetime};
use super::spec::{ColumnRules, Rule, RuleSet, Severity};
use crate::{Profile, QualityError};

/// Rules ready to check: regexes compiled, reference profiles loaded.
#[derive(Debug, Clone)]
pub struct CompiledRules {
    pub spec: RuleSet,
    pub rows: RowRules,
    /// Distribution bins per column, from the reference profiles.
    references: BTreeMap<String, ReferenceBins>,
}

impl CompiledRules {
    /// Compiles `spec`; reference profile paths are relative to `base_dir` (the rules
    /// file's folder).
    pub fn compile(spec: RuleSet, base_dir: &Path) -> Result<CompiledRules, QualityError> {
        let rows = RowRules::compile(&spec)?;
        let mut profiles: HashMap<PathBuf, Profile> = HashMap::new();
        let mut references = BTreeMap::new();
        for (name, col) in &spec.columns {
            let Some(dist) = &col.distribution else {
                continue;
            };
            let path = base_dir.join(&dist.reference);
            if !profiles.contains_key(&path) {
                profiles.insert(path.clone(), load_profile(&path)?);
            }
            let profile = &profiles[&path];
            let reference = profile.column(name).ok_or_else(|| {
                QualityError::Input(format!(
                    "reference profile {} has no column '{name}'",
                    path.display()
                ))
            })?;
            references.insert(name.clone(), ReferenceBins::from_profile(reference)?);
        }
        Ok(CompiledRules {
            spec,
            rows,
            references,
        })
    }

    /// Reads, parses and compiles a rules file.
    pub fn load(path: &Path) -> Result<CompiledRules, QualityError> {
        let spec = RuleSet::load(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        CompiledRules::compile(spec, base)
    }

    /// Checks every rule on `frame`; `now` is the reference time of freshness rules (UTC).
    pub fn check(&self, frame: &Frame, source: &str, now: NaiveDateTime) -> Report {
        let mut failures = Vec::new();
        let mut checked = 0;
        let table_missing = self.check_table(frame, &mut failures, &mut checked);

        let names: Vec<&str> = frame.schema().names().collect();
        let mut order: Vec<&String> = self.spec.columns.keys().collect();
        // columns in the data's order, then missing ones by name
        order.sort_by_key(|name| names.iter().position(|n| n == name).unwrap_or(usize::MAX));
        for name in order {
            let rules = &self.spec.columns[name];
            let n_rules = count_column_rules(rules);
            checked += n_rules;
            let Some(column) = frame.column(name) else {
                if !table_missing.contains(name) {
                    failures.push(missing_column(name, rules));
                }
                continue;
            };
            if let Some(row_rules) = self.rows.columns.iter().find(|c| c.column == *name) {
                check_rows(row_rules, column, &mut failures);
            }
            if let Some(rule) = &rules.max_missing_fraction {
                check_missing_fraction(name, column, rule, &mut failures);
            }
            if let Some(rule) = &rules.fresh_within_days {
                check_freshness(name, column, rule, now, &mut failures);
            }
            if let (Some(dist), Some(bins)) = (&rules.distribution, self.references.get(name)) {
                let shift = bins.shift(&bins.count(column), dist.max_psi);
                if shift.psi > dist.max_psi {
                    failures.push(Failure {
                        rule: "distribution".into(),
                        column: Some(name.clone()),
                        severity: dist.severity,
                        failing_rows: None,
                        expected: format!("psi <= {}", dist.max_psi),
                        found: psi_found(&shift),
                        examples: vec![],
                        distribution: Some(shift),
                    });
                }
            }
        }
        let errors = failures.iter().filter(|f| f.severity.is_error()).count();
        Report {
            source: source.to_string(),
            n_rows: frame.n_rows(),
            n_cols: frame.n_cols(),
            rules_checked: checked,
            errors,
            warnings: failures.len() - errors,
            passed: errors == 0,
            failures,
        }
    }

    /// Table rules; returns the required columns found missing (reported here once).
    fn check_table(
        &self,
        frame: &Frame,
        failures: &mut Vec<Failure>,
        checked: &mut usize,
    ) -> Vec<String> {
        let t = &self.spec.table;
        let n = frame.n_rows() as u64;
        let table_failure = |rule: &str, severity, expected: String, found: String| Failure {
            rule: rule.into(),
            column: None,
            severity,
            failing_rows: None,
            expected,
            found,
            examples: vec![],
            distribution: None,
        };
        if let Some(r) = &t.min_rows {
            *checked += 1;
            if n < r.value {
                failures.push(table_failure(
                    "min_rows",
                    r.severity,
                    format!(">= {} rows", r.value),
                    format!("{n} rows"),
                ));
            }
        }
        if let Some(r) = &t.max_rows {
            *checked += 1;
            if n > r.value {
                failures.push(table_failure(
                    "max_rows",
                    r.severity,
                    format!("<= {} rows", r.value),
                    format!("{n} rows"),
                ));
            }
        }
        let mut missing = Vec::new();
        if let Some(r) = &t.columns {
            *checked += 1;
            missing = r
                .value
                .iter()
                .filter(|c| frame.column(c).is_none())
                .cloned()
                .collect();
            if !missing.is_empty() {
                failures.push(table_failure(
                    "columns",
                    r.severity,
                    format!("{} required columns present", r.value.len()),
                    format!("missing: {}", missing.join(", ")),
                ));
            }
            if t.exact_columns {
                *checked += 1;
                let extra: Vec<&str> = frame
                    .schema()
                    .names()
                    .filter(|n| !r.value.iter().any(|c| c == n))
                    .collect();
                if !extra.is_empty() {
                    failures.push(table_failure(
                        "exact_columns",
                        r.severity,
                        "no columns but the required ones".into(),
                        format!("extra: {}", extra.join(", ")),
                    ));
                }
            }
        }
        if let Some(r) = &t.unique {
            for combo in &r.value {
                *checked += 1;
                check_unique(frame, combo, r.severity, failures);
            }
        }
        if let Some(r) = &t.max_duplicate_rows {
            *checked += 1;
            let all: Vec<&Column> = frame.columns().iter().collect();
            let (count, examples) = repeated_rows(&all, frame.n_rows());
            if count as u64 > r.value {
                failures.push(Failure {
                    rule: "max_duplicate_rows".into(),
                    column: None,
                    severity: r.severity,
                    failing_rows: Some(count),
                    expected: format!("<= {} duplicate rows", r.value),
                    found: format!("{count} duplicate rows"),
                    examples,
                    distribution: None,
                });
            }
        }
        missing
    }
}

/// The PSI and the bin that moved most, in words.
fn psi_found(shift: &DistributionShift) -> String {
    match shift.top_bins.first() {
        Some(b) => format!(
            "psi {:.4}; most moved: {} {:.1}% -> {:.1}%",
            shift.psi,
            b.bin,
            100.0 * b.reference,
            100.0 * b.actual
        ),
        None => format!("psi {:.4}", shift.psi),
    }
}

fn load_profile(path: &Path) -> Result<Profile, QualityError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        QualityError::Input(format!(
            "cannot read reference profile {}: {e}",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        QualityError::Input(format!(
            "reference profile {} is not a profile JSON: {e}",
            path.display()
        ))
    })
}

fn count_column_rules(c: &ColumnRules) -> usize {
    [
        c.dtype.is_some(),
        c.not_null.is_some(),
        c.max_missing_fraction.is_some(),
        c.min.is_some(),
        c.max.is_some(),
        c.allowed.is_some(),
        c.regex.is_some(),
        c.fresh_within_days.is_some(),
        c.distribution.is_some(),
    ]
    .iter()
    .filter(|&&b| b)
    .count()
}

/// The worst severity among a column's rules.
fn column_severity(c: &ColumnRules) -> Severity {
    let severities = [
        c.dtype.as_ref().map(|r| r.severity),
        c.not_null.as_ref().map(|r| r.severity),
        c.max_missing_fraction.as_ref().map(|r| r.severity),
        c.min.as_ref().map(|r| r.severity),
        c.max.as_ref().map(|r| r.severity),
        c.allowed.as_ref().map(|r| r.severity),
        c.regex.as_ref().map(|r| r.severity),
        c.fresh_within_days.as_ref().map(|r| r.severity),
        c.distribution.as_ref().map(|d| d.severity),
    ];
    if severities.iter().flatten().all(|s| *s == Severity::Warn)
        && severities.iter().any(Option::is_some)
    {
        Severity::Warn
    } else {
        Severity::Error
    }
}

fn missing_column(name: &str, rules: &ColumnRules) -> Failure {
    Failure {
        rule: "missing_column".into(),
        column: Some(name.to_string()),
        severity: column_severity(rules),
        failing_rows: None,
        expected: "the column is present".into(),
        found: "no such column in the data".into(),
        examples: vec![],
        distribution: None,
    }
}

fn check_rows(rules: &ColumnRowRules, column: &Column, failures: &mut Vec<Failure>) {
    for rule in &rules.rules {
        if let Some(f) = row_failure(&rules.column, rule, column) {
            failures.push(f);
        }
    }
}

fn row_failure(name: &str, rule: &RowRule, column: &Column) -> Option<Failure> {
    let mut count = 0;
    let mut examples = Vec::new();
    for i in 0..column.len() {
        if rule.breaks(column, i) {
            count += 1;
            if examples.len() < MAX_EXAMPLES {
                examples.push(Example {
                    row: i,
                    value: column.display_at(i),
                });
            }
        }
    }
    (count > 0).then(|| Failure {
        rule: rule.kind.name().into(),
        column: Some(name.to_string()),
        severity: rule.severity,
        failing_rows: Some(count),
        expected: rule.expected(),
        found: format!("{count} of {} rows break it", column.len()),
        examples,
        distribution: None,
    })
}

fn check_missing_fraction(
    name: &str,
    column: &Column,
    rule: &Rule<f64>,
    failures: &mut Vec<Failure>,
) {
    let missing: Vec<usize> = (0..column.len())
        .filter(|&i| is_missing(column, i))
        .collect();
    let fraction = if column.is_empty() {
        0.0
    } else {
        missing.len() as f64 / column.len() as f64
    };
    if fraction > rule.value {
        failures.push(Failure {
            rule: "max_missing_fraction".into(),
            column: Some(name.to_string()),
            severity: rule.severity,
            failing_rows: Some(missing.len()),
            expected: format!("<= {} missing", rule.value),
            found: format!("{fraction:.4} missing"),
            examples: missing
                .iter()
                .take(MAX_EXAMPLES)
                .map(|&row| Example { row, value: None })
                .collect(),
            distribution: None,
        });
    }
}

fn check_freshness(
    name: &str,
    column: &Column,
    rule: &Rule<f64>,
    now: NaiveDateTime,
    failures: &mut Vec<Failure>,
) {
    let micros = (rule.value * 86_400e6).round() as i64;
    let cutoff = now - chrono::Duration::microseconds(micros);
    let newest = newest_time(column);
    let found = match newest {
        Some(t) if t >= cutoff => return,
        Some(t) => format!(
            "newest {} is {:.2} days before now",
            t.format("%Y-%m-%dT%H:%M:%S"),
            (now - t).num_seconds() as f64 / 86_400.0
        ),
        None => format!("no date values (column type {})", column.dtype()),
    };
    failures.push(Failure {
        rule: "fresh_within_days".into(),
        column: Some(name.to_string()),
        severity: rule.severity,
        failing_rows: None,
        expected: format!(
            "newest value on or after {} ({} days before {})",
            cutoff.format("%Y-%m-%dT%H:%M:%S"),
            rule.value,
            now.format("%Y-%m-%dT%H:%M:%S")
        ),
        found,
        examples: vec![],
        distribution: None,
    });
}

/// The latest date or datetime of a column (string columns are parsed).
fn newest_time(column: &Column) -> Option<NaiveDateTime> {
    match column {
        Column::Date(_) => {
            let days = (0..column.len())
                .filter_map(|i| column.f64_at(i))
                .reduce(f64::max)?;
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
            let date = epoch.checked_add_signed(chrono::Duration::days(days as i64))?;
            date.and_hms_opt(0, 0, 0)
        }
        Column::Datetime(_) => {
            let micros = (0..column.len())
                .filter_map(|i| column.f64_at(i))
                .reduce(f64::max)?;
            chrono::DateTime::from_timestamp_micros(micros as i64).map(|t| t.naive_utc())
        }
        Column::String(_) => (0..column.len())
            .filter_map(|i| column.str_at(i).and_then(parse_datetime))
            .max(),
        _ => None,
    }
}

fn check_unique(frame: &Frame, combo: &[String], severity: Severity, failures: &mut Vec<Failure>) {
    let label = combo.join(", ");
    let mut columns = Vec::new();
    for name in combo {
        match frame.column(name) {
            Some(c) => columns.push(c),
            None => {
                failures.push(Failure {
                    rule: "unique".into(),
                    column: Some(label),
                    severity,
                    failing_rows: None,
                    expected: "unique values".into(),
                    found: format!("column '{name}' is missing"),
                    examples: vec![],
                    distribution: None,
                });
                return;
            }
        }
    }
    let (count, examples) = repeated_rows(&columns, frame.n_rows());
    if count > 0 {
        failures.push(Failure {
            rule: "unique".into(),
            column: Some(label),
            severity,
            failing_rows: Some(count),
            expected: "unique values".into(),
            found: format!("{count} rows repeat an earlier row's values"),
            examples,
            distribution: None,
        });
    }
}

/// Rows equal (on `columns`) to an earlier row: their count and the first examples, each
/// naming the earlier row it repeats.
fn repeated_rows(columns: &[&Column], n_rows: usize) -> (usize, Vec<Example>) {
    let repeats = capstan_frame::repeated_rows(columns, n_rows);
    let examples = repeats
        .iter()
        .take(MAX_EXAMPLES)
        .map(|&(row, earlier)| Example {
            row,
            value: Some(format!("same as row {earlier}")),
        })
        .collect();
    (repeats.len(), examples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use capstan_frame::ReadOptions;

    fn frame(csv: &str) -> Frame {
        capstan_frame::read_csv_bytes(
            csv.as_bytes(),
            Path::new("t.csv"),
            &ReadOptions::default(),
            None,
        )
        .expect("frame")
    }

    fn now() -> NaiveDateTime {
        parse_datetime("2024-03-10T12:00:00").expect("now")
    }

    fn check(rules: &str, csv: &str) -> Report {
        let spec = RuleSet::parse(rules, "t.toml").expect("rules");
        CompiledRules::compile(spec, Path::new("."))
            .expect("compile")
            .check(&frame(csv), "t.csv", now())
    }

    #[test]
    fn table_rules_and_duplicates() {
        let csv = "id,a,b\n1,x,1.5\n2,y,NaN\n2,y,NaN\n3,x,0\n1,z,-0\n";
        let report = check(
            "[table]\nmin_rows = 6\n\
             columns = [\"id\", \"a\", \"c\"]\nexact_columns = true\nunique = [[\"id\"], [\"id\", \"a\"]]\n\
             max_duplicate_rows = 0\n",
            csv,
        );
        let got: Vec<(&str, Option<usize>, Severity)> = report
            .failures
            .iter()
            .map(|f| (f.rule.as_str(), f.failing_rows, f.severity))
            .collect();
        assert_eq!(
            got,
            [
                ("min_rows", None, Severity::Error),
                ("columns", None, Severity::Error),
                ("exact_columns", None, Severity::Error),
                ("unique", Some(2), Severity::Error),
                ("unique", Some(1), Severity::Error),
                ("max_duplicate_rows", Some(1), Severity::Error),
            ]
        );
        assert_eq!(report.failures[1].found, "missing: c");
        assert_eq!(report.failures[2].found, "extra: b");
        let dup = &report.failures[5];
        assert_eq!(dup.examples[0].row, 2);
        assert_eq!(dup.examples[0].value.as_deref(), Some("same as row 1"));
        assert_eq!(report.errors, 6);
        assert_eq!(report.warnings, 0);
        assert!(!report.passed);
        // a warning alone does not fail validation
        let warned = check(
            "[table]\nmax_rows = { value = 4, severity = \"warn\" }\n",
            csv,
        );
        assert_eq!(warned.failures.len(), 1);
        assert_eq!(warned.failures[0].found, "5 rows");
        assert_eq!(
            (warned.errors, warned.warnings, warned.passed),
            (0, 1, true)
        );
    }

    #[test]
    fn column_rules_with_examples_and_missing_columns() {
        let csv = "age,when,c\n20,2024-03-09,a\n,2024-03-01,b\n150,2024-02-01,\n";
        let report = check(
            "[columns.age]\nnot_null = true\nmax = 90\n\
             [columns.when]\nfresh_within_days = 2\n\
             [columns.c]\nmax_missing_fraction = 0.2\nallowed = { value = [\"a\"], severity = \"warn\" }\n\
             [columns.nope]\nnot_null = true\n",
            csv,
        );
        let got: Vec<(&str, &str, Option<usize>)> = report
            .failures
            .iter()
            .map(|f| {
                (
                    f.rule.as_str(),
                    f.column.as_deref().unwrap_or("-"),
                    f.failing_rows,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("not_null", "age", Some(1)),
                ("max", "age", Some(1)),
                ("allowed", "c", Some(1)),
                ("max_missing_fraction", "c", Some(1)),
                ("missing_column", "nope", None),
            ]
        );
        assert_eq!(
            report.failures[0].examples,
            [Example {
                row: 1,
                value: None
            }]
        );
        assert_eq!(
            report.failures[1].examples,
            [Example {
                row: 2,
                value: Some("150".into())
            }]
        );
        // the freshest date is 1.5 days old: within 2 days
        assert!(
            report
                .failures
                .iter()
                .all(|f| f.rule != "fresh_within_days")
        );
        let stale = check("[columns.when]\nfresh_within_days = 1\n", csv);
        assert_eq!(stale.failures.len(), 1);
        assert!(
            stale.failures[0].found.contains("1.50 days"),
            "{}",
            stale.failures[0].found
        );
    }

    #[test]
    fn passing_data_reports_nothing() {
        let report = check(
            "[table]\nmin_rows = 2\n[columns.a]\ntype = \"integer\"\nmin = 0\n",
            "a\n1\n2\n",
        );
        assert!(report.passed);
        assert!(report.failures.is_empty());
        assert_eq!(report.rules_checked, 3);
    }
}
