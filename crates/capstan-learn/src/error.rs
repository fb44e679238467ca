/// Errors from fitting a learner: bad hyperparameters or data the learner cannot use.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("invalid parameter '{name}': {message}")]
    InvalidParam { name: &'static str, message: String },
    #[error("invalid training data: {0}")]
    InvalidData(String),
}
