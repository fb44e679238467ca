//! Typed columnar tables (Arrow arrays underneath), schemas, readers and writers.

mod arrow_convert;
mod build;
mod cast;
mod cell_text;
mod cells;
mod column;
mod csv_chunks;
mod csv_columns;
mod csv_read;
mod dir_read;
mod duplicates;
mod error;
mod format;
mod frame;
pub mod fxhash;
mod hash;
mod json_object;
mod json_read;
mod matrix;
mod parquet_read;
mod parquet_write;
mod parse;
mod partition;
#[cfg(feature = "postgres")]
mod postgres_read;
mod raw;
mod read;
mod schema;
mod schema_file;
mod write;

pub use cells::{Cell, CellError, FrameBuilder, expected_cell};
pub use column::Column;
pub use csv_read::{ReadBytesError, read_csv_bytes};
pub use dir_read::dir_sha256;
pub use duplicates::{repeated_rows, unique_rows};
pub use error::FrameError;
pub use frame::Frame;
pub use hash::file_sha256;
pub use matrix::{FeatureKind, Matrix};
#[cfg(feature = "postgres")]
pub use postgres_read::read_postgres;
pub use read::{ReadOptions, read};
pub use schema::{DataType, Field, Schema};
pub use write::{write, write_csv, write_json_lines, write_parquet};
