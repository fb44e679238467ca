//! The `capstan` command line: each stage of the loop as a command.

pub mod commands;
pub mod config;
pub mod evaluation;
pub mod exit;
pub mod model_source;
pub mod output;
pub mod source;
pub mod store_location;
pub mod table;
pub mod target;
pub mod training;
pub mod weights;
