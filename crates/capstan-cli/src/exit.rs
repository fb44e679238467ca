//! Exit codes a pipeline can rely on, and the error kinds that map to them.

use capstan_bundle::BundleError;
use capstan_features::FeatureError;
use capstan_frame::FrameError;
use capstan_learn::LearnError;
use capstan_store::StoreError;

/// Success.
pub const OK: i32 = 0;
/// Unexpected failure (IO, internal).
pub const FAILURE: i32 = 1;
/// Bad command line (clap's own code).
pub const USAGE: i32 = 2;
/// Bad input: data file, column, value, schema, config or hyperparameter.
pub const BAD_INPUT: i32 = 3;
/// The model could not be found or loaded (missing run, corrupt or newer bundle).
pub const BAD_MODEL: i32 = 4;
/// The data failed validation: a rule of severity `error` failed (`capstan data validate`,
/// `capstan train --rules`).
pub const INVALID_DATA: i32 = 5;

/// A problem with what the user gave us, reported as is.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

pub fn input_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputError(message.into()))
}

/// Data that failed its validation rules; the report was printed already.
#[derive(Debug)]
pub struct InvalidData(pub String);

impl std::fmt::Display for InvalidData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidData {}

/// A model that cannot be found.
#[derive(Debug)]
pub struct ModelNotFound(pub String);

impl std::fmt::Display for ModelNotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelNotFound {}

/// Picks the exit code: bad input anywhere in the chain wins over a model error. Store
/// errors are model errors (a missing model, version, alias or run; a corrupt artifact)
/// except invalid names, rollout values and api key names, which are bad input.
pub fn code_for(err: &anyhow::Error) -> i32 {
    if err.chain().any(|c| c.is::<InvalidData>()) {
        return INVALID_DATA;
    }
    let bad_input = err.chain().any(|c| {
        c.is::<InputError>()
            || c.is::<FrameError>()
            || c.is::<FeatureError>()
            || c.is::<LearnError>()
            || c.is::<capstan_eval::EvalError>()
            || c.is::<capstan_quality::QualityError>()
            || c.downcast_ref::<StoreError>().is_some_and(is_bad_input)
    });
    if bad_input {
        return BAD_INPUT;
    }
    if err
        .chain()
        .any(|c| c.is::<BundleError>() || c.is::<StoreError>() || c.is::<ModelNotFound>())
    {
        return BAD_MODEL;
    }
    FAILURE
}

/// Store errors about what the user typed (a name, a rollout value, an api key) rather than
/// a model that cannot be found or loaded.
fn is_bad_input(err: &StoreError) -> bool {
    matches!(
        err,
        StoreError::InvalidName { .. }
            | StoreError::InvalidRollout { .. }
            | StoreError::KeyNotFound(_)
            | StoreError::KeyExists(_)
    )
}

/// The error and its causes on one line, skipping causes already quoted by their parent.
pub fn message(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}
