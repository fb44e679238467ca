/// Errors from fitting or applying the pipeline; messages name the column.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("input is missing column '{0}' that the model was trained with")]
    MissingColumn(String),
    #[error("column '{column}': expected {expected}, found {found}")]
    WrongType {
        column: String,
        expected: String,
        found: String,
    },
    /// A setting of the spec names a column that the training frame lacks.
    #[error("{setting} names column '{column}', which is not in the frame (found: {found})")]
    UnknownColumn {
        setting: String,
        column: String,
        found: String,
    },
    /// A column's values cannot be fitted (for example infinities in linear mode).
    #[error("column '{column}': {message}")]
    BadColumn { column: String, message: String },
    #[error("{0}")]
    Invalid(String),
}
