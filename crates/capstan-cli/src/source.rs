//! Where a command's rows come from: a file, a directory of files, or a PostgreSQL query.
//! Every command that reads a table goes through `DataSource`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use capstan_frame::{Frame, ReadOptions};

/// A table to read.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// A .csv/.tsv/.parquet/.jsonl file.
    File(PathBuf),
}

impl DataSource {
    /// `data` is what `--data` said; `query` is `--query` (PostgreSQL sources only).
    pub fn new(data: &Path, query: Option<&str>) -> Result<DataSource> {
        if query.is_some() {
            return Err(crate::exit::input_error(
                "--query needs --data postgres://... (a PostgreSQL URL)",
            ));
        }
        Ok(DataSource::File(data.to_path_buf()))
    }

    /// Reads the whole table.
    pub fn read(&self, opts: &ReadOptions) -> Result<Frame> {
        match self {
            DataSource::File(path) => Ok(capstan_frame::read(path, opts)?),
        }
    }

    /// How the source is named in messages, profiles and lineage (passwords redacted).
    pub fn describe(&self) -> String {
        match self {
            DataSource::File(path) => path.display().to_string(),
        }
    }

    /// The query text, for lineage.
    pub fn query(&self) -> Option<&str> {
        match self {
            DataSource::File(_) => None,
        }
    }

    /// SHA-256 of the source's bytes where it has bytes (a file); `None` for a query.
    pub fn bytes_sha256(&self) -> Result<Option<String>> {
        match self {
            DataSource::File(path) => Ok(Some(capstan_frame::file_sha256(path)?)),
        }
    }
}
