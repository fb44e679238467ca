//! The rules file: TOML parsed into typed rules, then checked for sense (bounds in order,
//! regexes that compile, fractions in [0, 1]).
//!
//! Every rule takes a bare value (`max = 90`) or a table with a severity
//! (`max = { value = 90, severity = "warn" }`); the default severity is `"error"`.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use capstan_frame::DataType;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use crate::QualityError;

/// A whole rules file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default, skip_serializing_if = "TableRules::is_empty")]
    pub table: TableRules,
    /// Rules per column, by column name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub columns: BTreeMap<String, ColumnRules>,
}

/// Rules about the table as a whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rows: Option<Rule<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<Rule<u64>>,
    /// Columns that must be present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Rule<Vec<String>>>,
    /// With `columns`: no other column may be present (a failure takes the severity of
    /// `columns`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact_columns: bool,
    /// Column combinations whose values must not repeat (nulls compare equal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique: Option<Rule<Vec<Vec<String>>>>,
    /// Rows equal to an earlier row in every column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duplicate_rows: Option<Rule<u64>>,
}

impl TableRules {
    pub fn is_empty(&self) -> bool {
        *self == TableRules::default()
    }
}

/// Rules about one column. Row rules (`type`, `not_null`, `min`, `max`, `allowed`,
/// `regex`) judge each row alone and also run on live traffic; null values pass every
/// row rule except `not_null`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnRules {
    /// Each non-null value must read as this type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<Rule<DataType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null: Option<Rule<bool>>,
    /// Share of null rows allowed, in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_missing_fraction: Option<Rule<f64>>,
    /// Smallest allowed value (inclusive); numbers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Rule<f64>>,
    /// Largest allowed value (inclusive); numbers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Rule<f64>>,
    /// The values allowed, compared as text (`1`, `true`, `2024-01-31`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Rule<Vec<Text>>>,
    /// A regular expression (Rust `regex` syntax) each value's text must match somewhere;
    /// anchor it with `^...$` for a whole-value match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<Rule<String>>,
    /// The newest date or datetime must be at most this many days before now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fresh_within_days: Option<Rule<f64>>,
    /// The distribution must stay close to a reference profile's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<DistributionRule>,
}

impl ColumnRules {
    /// Whether any rule here judges rows one by one.
    pub fn has_row_rules(&self) -> bool {
        self.dtype.is_some()
            || self.not_null.as_ref().is_some_and(|r| r.value)
            || self.min.is_some()
            || self.max.is_some()
            || self.allowed.is_some()
            || self.regex.is_some()
    }
}

/// `distribution = { reference = "profile.json", max_psi = 0.2 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionRule {
    /// A profile JSON file (`capstan data profile`), relative to the rules file.
    pub reference: PathBuf,
    /// Largest population stability index allowed.
    pub max_psi: f64,
    #[serde(default, skip_serializing_if = "Severity::is_error")]
    pub severity: Severity,
}

/// What a failed rule means: `error` fails validation, `warn` is reported only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Error,
    Warn,
}

impl Severity {
    pub fn is_error(&self) -> bool {
        *self == Severity::Error
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        }
    }
}

/// One rule's value and severity.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule<T> {
    pub value: T,
    pub severity: Severity,
}

impl<T> Rule<T> {
    pub fn error(value: T) -> Rule<T> {
        Rule {
            value,
            severity: Severity::Error,
        }
    }
}

impl<T: Serialize> Serialize for Rule<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.severity.is_error() {
            return self.value.serialize(serializer);
        }
        let mut s = serializer.serialize_struct("Rule", 2)?;
        s.serialize_field("value", &self.value)?;
        s.serialize_field("severity", &self.severity)?;
        s.end()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Rule<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = toml::Value::deserialize(deserializer)?;
        let toml::Value::Table(mut table) = raw else {
            let value = T::deserialize(raw).map_err(|e| de::Error::custom(e.message()))?;
            return Ok(Rule::error(value));
        };
        if let Some(key) = table.keys().find(|k| *k != "value" && *k != "severity") {
            return Err(de::Error::custom(format!(
                "unknown key `{key}` in a rule table, expected `value` and `severity`"
            )));
        }
        let value = table
            .remove("value")
            .ok_or_else(|| de::Error::custom("a rule table needs `value`"))?;
        let value = T::deserialize(value).map_err(|e| de::Error::custom(e.message()))?;
        let severity = match table.remove("severity") {
            Some(s) => Severity::deserialize(s).map_err(|e| de::Error::custom(e.message()))?,
            None => Severity::Error,
        };
        Ok(Rule { value, severity })
    }
}

/// A scalar read as text: TOML strings, integers, floats and booleans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(pub String);

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor(PhantomData))
    }
}

struct TextVisitor(PhantomData<Text>);

impl de::Visitor<'_> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
}

impl RuleSet {
    /// Reads and checks a rules file.
    pub fn load(path: &Path) -> Result<RuleSet, QualityError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            QualityError::Input(format!("cannot read rules file {}: {e}", path.display()))
        })?;
        RuleSet::parse(&text, &path.display().to_string())
    }

    /// Parses rules from TOML text; `source` names it in errors.
    pub fn parse(text: &str, source: &str) -> Result<RuleSet, QualityError> {
        let rules: RuleSet =
            toml::from_str(text).map_err(|e| QualityError::Input(toml_error(source, text, &e)))?;
        rules.check_sense(source)?;
        Ok(rules)
    }

    /// Rejects rules that cannot mean anything: bounds out of order, bad regexes.
    pub fn check_sense(&self, source: &str) -> Result<(), QualityError> {
        let bad = |section: &str, msg: String| {
            Err(QualityError::Input(format!(
                "rules file {source}: [{section}]: {msg}"
            )))
        };
        let t = &self.table;
        if let (Some(lo), Some(hi)) = (&t.min_rows, &t.max_rows) {
            if lo.value > hi.value {
                return bad(
                    "table",
                    format!("min_rows {} is above max_rows {}", lo.value, hi.value),
                );
            }
        }
        if t.exact_columns && t.columns.is_none() {
            return bad("table", "exact_columns needs `columns`".into());
        }
        if let Some(unique) = &t.unique {
            if unique.value.iter().any(Vec::is_empty) {
                return bad("table", "unique holds an empty column list".into());
            }
        }
        for (name, col) in &self.columns {
            let section = format!("columns.{name}");
            if let (Some(lo), Some(hi)) = (&col.min, &col.max) {
                if lo.value > hi.value {
                    return bad(
                        &section,
                        format!("min {} is above max {}", lo.value, hi.value),
                    );
                }
            }
            for (key, rule) in [("min", &col.min), ("max", &col.max)] {
                if rule.as_ref().is_some_and(|r| !r.value.is_finite()) {
                    return bad(&section, format!("{key} must be a finite number"));
                }
            }
            if let Some(f) = &col.max_missing_fraction {
                if !(0.0..=1.0).contains(&f.value) {
                    return bad(
                        &section,
                        format!("max_missing_fraction must be in [0, 1], found {}", f.value),
                    );
                }
            }
            if let Some(days) = &col.fresh_within_days {
                if !(days.value >= 0.0 && days.value.is_finite()) {
                    return bad(
                        &section,
                        format!("fresh_within_days must be 0 or more, found {}", days.value),
                    );
                }
            }
            if let Some(allowed) = &col.allowed {
                if allowed.value.is_empty() {
                    return bad(&section, "allowed is empty: no value could pass".into());
                }
            }
            if let Some(re) = &col.regex {
                if let Err(e) = regex::Regex::new(&re.value) {
                    return bad(
                        &section,
                        format!("regex {:?} does not compile: {}", re.value, regex_error(&e)),
                    );
                }
            }
            if let Some(dist) = &col.distribution {
                if !(dist.max_psi >= 0.0 && dist.max_psi.is_finite()) {
                    return bad(
                        &section,
                        format!(
                            "distribution.max_psi must be 0 or more, found {}",
                            dist.max_psi
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    /// Only the row rules of each column (what serving checks), for the bundle.
    pub fn row_rules(&self) -> RuleSet {
        let columns = self
            .columns
            .iter()
            .filter(|(_, c)| c.has_row_rules())
            .map(|(name, c)| {
                let row = ColumnRules {
                    dtype: c.dtype.clone(),
                    not_null: c.not_null.clone().filter(|r| r.value),
                    min: c.min.clone(),
                    max: c.max.clone(),
                    allowed: c.allowed.clone(),
                    regex: c.regex.clone(),
                    ..ColumnRules::default()
                };
                (name.clone(), row)
            })
            .collect();
        RuleSet {
            table: TableRules::default(),
            columns,
        }
    }
}

/// A regex error on one line (the library's message spans several, with a caret).
pub(crate) fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or_default().trim();
    last.strip_prefix("error: ").unwrap_or(last).to_string()
}

/// A TOML error as one line: file, line, section, what went wrong.
fn toml_error(source: &str, text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim().replace('\n', " ");
    let Some(span) = err.span() else {
        return format!("rules file {source}: {message}");
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let section = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.contains(']'))
        .map(|l| {
            let end = l.rfind(']').unwrap_or(l.len());
            l[..=end.min(l.len() - 1)]
                .trim_matches(['[', ']'])
                .to_string()
        });
    match section {
        Some(s) => format!("rules file {source}, line {line}, in [{s}]: {message}"),
        None => format!("rules file {source}, line {line}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_table_forms_parse() {
        let rules = RuleSet::parse(
            "[table]\nmin_rows = 10\nunique = [[\"id\"]]\n\
             [columns.age]\ntype = \"integer\"\nmin = 17\nmax = { value = 90, severity = \"warn\" }\n\
             allowed = [1, \"x\", true]\n",
            "t.toml",
        )
        .expect("parse");
        let age = &rules.columns["age"];
        assert_eq!(age.min, Some(Rule::error(17.0)));
        assert_eq!(
            age.max,
            Some(Rule {
                value: 90.0,
                severity: Severity::Warn
            })
        );
        assert_eq!(age.dtype, Some(Rule::error(DataType::Integer)));
        let allowed: Vec<&str> = age
            .allowed
            .as_ref()
            .expect("allowed")
            .value
            .iter()
            .map(|t| t.0.as_str())
            .collect();
        assert_eq!(allowed, ["1", "x", "true"]);
        assert_eq!(rules.table.min_rows, Some(Rule::error(10)));
    }

    #[test]
    fn json_round_trip_keeps_severity() {
        let rules = RuleSet::parse(
            "[columns.a]\nnot_null = { value = true, severity = \"warn\" }\nregex = \"^x\"\n",
            "t.toml",
        )
        .expect("parse");
        let json = serde_json::to_value(&rules).expect("to json");
        let back: RuleSet = serde_json::from_value(json).expect("from json");
        assert_eq!(back, rules);
    }

    #[test]
    fn unknown_key_names_file_line_section_and_key() {
        let err = RuleSet::parse(
            "[table]\nmin_rows = 1\n\n[columns.age]\nmni = 3\n",
            "r.toml",
        )
        .expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("r.toml"), "{msg}");
        assert!(msg.contains("line 5"), "{msg}");
        assert!(msg.contains("[columns.age]"), "{msg}");
        assert!(msg.contains("`mni`"), "{msg}");
    }

    #[test]
    fn wrong_types_and_nonsense_are_refused() {
        let cases = [
            ("[columns.a]\nmin = \"low\"\n", "invalid type"),
            ("[columns.a]\ntype = \"text\"\n", "unknown variant"),
            (
                "[columns.a]\nmax = { value = 1, severity = \"fatal\" }\n",
                "unknown variant",
            ),
            (
                "[columns.a]\nmax = { value = 1, level = \"warn\" }\n",
                "unknown key `level`",
            ),
            ("[columns.a]\nmin = 5\nmax = 1\n", "min 5 is above max 1"),
            ("[columns.a]\nregex = \"(\"\n", "does not compile"),
            ("[columns.a]\nmax_missing_fraction = 1.5\n", "[0, 1]"),
            ("[table]\nmin_rows = -1\n", "invalid value"),
            ("[table]\nexact_columns = true\n", "needs `columns`"),
            ("[columns.a]\nallowed = []\n", "allowed is empty"),
        ];
        for (text, want) in cases {
            let msg = RuleSet::parse(text, "r.toml").expect_err(text).to_string();
            assert!(msg.contains(want), "{text:?}: {msg}");
        }
    }

    #[test]
    fn row_rules_keep_only_row_checks() {
        let rules = RuleSet::parse(
            "[table]\nmin_rows = 3\n[columns.a]\nmin = 1\nfresh_within_days = 2\n\
             [columns.b]\nmax_missing_fraction = 0.1\n",
            "t.toml",
        )
        .expect("parse");
        let row = rules.row_rules();
        assert!(row.table.is_empty());
        assert_eq!(row.columns.len(), 1);
        assert_eq!(row.columns["a"].min, Some(Rule::error(1.0)));
        assert_eq!(row.columns["a"].fresh_within_days, None);
    }
}
