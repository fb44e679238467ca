//! Typed columnar tables (Arrow arrays underneath), schemas, readers and writers.

mod column;
mod error;
mod frame;
mod matrix;
mod schema;

pub use column::Column;
pub use error::FrameError;
pub use frame::Frame;
pub use matrix::{FeatureKind, Matrix};
pub use schema::{DataType, Field, Schema};
