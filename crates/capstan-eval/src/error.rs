use thiserror::Error;

/// Everything that can go wrong in this crate: bad input, never a bug.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvalError {
    #[error("{what}: expected {expected} values, found {found}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{what} is empty: expected at least one row")]
    Empty { what: &'static str },
    #[error("{what}[{index}] = {value}: expected a probability in [0, 1]")]
    ProbabilityOutOfRange {
        what: &'static str,
        index: usize,
        value: f64,
    },
    #[error("{what}[{index}] = {value}: expected a binary label 0 or 1")]
    NotBinaryLabel {
        what: &'static str,
        index: usize,
        value: f64,
    },
    #[error("{what}[{index}] = {value}: expected a class index below n_classes = {n_classes}")]
    ClassOutOfRange {
        what: &'static str,
        index: usize,
        value: String,
        n_classes: usize,
    },
    #[error("{what}[{index}] = {value}: expected a finite number")]
    NonFinite {
        what: &'static str,
        index: usize,
        value: f64,
    },
    #[error("threshold = {found}: expected a number, found nan")]
    InvalidThreshold { found: f64 },
    #[error("n_classes = {found}: expected at least 2 classes")]
    TooFewClasses { found: usize },
    #[error("k = {found}: expected at least 2 folds")]
    TooFewFolds { found: usize },
    #[error("{what}: expected at most n_rows = {n_rows} folds, found {found}")]
    TooManyFolds {
        what: &'static str,
        n_rows: usize,
        found: usize,
    },
    #[error("test_fraction = {found}: expected a fraction strictly between 0 and 1")]
    FractionOutOfRange { found: f64 },
    #[error("n_rows = {found}: expected at least {expected} rows to split")]
    TooFewRows { expected: usize, found: usize },
    #[error(
        "stratified {k}-fold: expected at least one class with {k} or more members, \
         the largest class has {largest}"
    )]
    ClassesSmallerThanFolds { k: usize, largest: usize },
    #[error("{what} lists row {row} twice: expected distinct row indices")]
    DuplicateRow { what: &'static str, row: usize },
    #[error("{what}[{index}] = {value}: expected {expected}")]
    OutOfDomain {
        what: &'static str,
        index: usize,
        value: f64,
        expected: &'static str,
    },
    #[error("{name} = {value}: expected {expected}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("sample_weight sums to zero: expected at least one positive weight")]
    ZeroWeights,
    #[error("unknown task '{found}': expected binary, multiclass or regression")]
    UnknownTask { found: String },
    #[error("unknown metric '{name}' for a {task} task: expected one of {expected}")]
    UnknownMetric {
        name: String,
        task: &'static str,
        expected: String,
    },
    #[error("{name} is undefined on these rows: expected {expected}")]
    UndefinedMetric {
        name: &'static str,
        expected: &'static str,
    },
}
