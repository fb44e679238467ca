//! Learners behind one seam: fit on a [`Matrix`], predict [`Predictions`].
//! No IO, no HTTP, no store.

mod error;
pub mod gbdt;
pub mod linear;
mod model;
mod task;

pub use error::LearnError;
pub use model::{Model, Predictions};
pub use task::Task;
