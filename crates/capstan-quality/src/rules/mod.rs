//! Validation rules: expectations read from TOML, checked lazily over a frame.
//!
//! `spec` is the file format, `row` the rules that judge one row (shared by validation,
//! training and serving), `check` runs every rule over a frame into a `report`,
//! `distribution` compares a column with a reference profile (PSI) and `suggest` writes a
//! starting rules file from a profile.

mod check;
mod distribution;
mod report;
mod row;
mod spec;
mod suggest;

pub use crate::psi::{PSI_EPSILON, psi_term};
pub use check::CompiledRules;
pub use report::{BinShift, DistributionShift, Example, Failure, MAX_EXAMPLES, Report};
pub use row::{ColumnRowRules, RowRule, RowRuleKind, RowRules};
pub use spec::{ColumnRules, DistributionRule, Rule, RuleSet, Severity, TableRules, Text};
pub use suggest::{MAX_ALLOWED_VALUES, suggest, suggest_from_profile};
