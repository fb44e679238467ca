//! The feature pipeline: a spec is fitted on training data into a [`FittedPipeline`] that
//! turns any frame with the training columns into the same [`Matrix`], everywhere.

mod error;
mod spec;

pub use error::FeatureError;
pub use spec::{CategoricalEncoding, DatePart, Imputation, PipelineMode, PipelineSpec};

use capstan_frame::{Frame, Matrix, Schema};
use serde::{Deserialize, Serialize};

/// Fitted state of every transform; serialized into the model bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPipeline {
    /// The input columns the pipeline reads, with their training types.
    pub input_schema: Schema,
}

impl FittedPipeline {
    /// Fits on `frame`, ignoring the columns in `exclude` (the target).
    pub fn fit(
        spec: &PipelineSpec,
        mode: PipelineMode,
        frame: &Frame,
        exclude: &[&str],
    ) -> Result<FittedPipeline, FeatureError> {
        let _ = (spec, mode, frame, exclude);
        Err(FeatureError::Invalid("not implemented".into()))
    }

    /// Transforms rows; fails with an error naming the column when one is missing or has
    /// an incompatible type.
    pub fn transform(&self, frame: &Frame) -> Result<Matrix, FeatureError> {
        let _ = frame;
        Err(FeatureError::Invalid("not implemented".into()))
    }
}
