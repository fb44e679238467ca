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
    #[error("{0}")]
    Invalid(String),
}
