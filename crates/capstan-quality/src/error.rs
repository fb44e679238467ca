use thiserror::Error;

/// Errors of profiling, rules and versioning. Messages name the input and what was expected.
#[derive(Debug, Error)]
pub enum QualityError {
    /// Bad input: a rules file, a column, a value.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Frame(#[from] capstan_frame::FrameError),
}
