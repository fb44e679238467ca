//! `capstan serve`: an HTTP server for registered models.
//!
//! Request path: auth -> parse the body into a [`Frame`](capstan_frame::Frame) with the
//! model's input schema (native JSON/CSV, OIP v2, MLflow) -> pick the version (champion, or
//! the canary for a sticky share of request keys) -> score -> respond. Off the request path:
//! the shadow copy, the prediction log writer, the registry refresh, rollback decisions.

pub mod auth;
pub mod deployments;
pub mod dispatch;
pub mod error;
pub mod input;
pub mod log_writer;
pub mod metrics;
pub mod mlflow;
pub mod model;
pub mod native;
pub mod openapi;
pub mod output;
pub mod rollout;
pub mod routes;
pub mod server;
pub mod state;
#[cfg(test)]
mod test_support;
pub mod v2;

pub use error::ApiError;
pub use model::{LoadedModel, Prediction, RowOutput, Scored};
pub use server::{LogPolicy, RunningServer, ServeConfig, ServeError, serve};
