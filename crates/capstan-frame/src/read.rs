//! `read`: one entry point for every supported file format, chosen by extension.

use std::path::Path;

use crate::format::FileFormat;
use crate::{DataType, Frame, FrameError, Schema};

/// How to read a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// Field delimiter for CSV (`b','`); `.tsv` files use a tab while this is left at `b','`.
    pub delimiter: u8,
    /// Forces the types of the columns it names; other columns are inferred.
    /// Columns it names that are not in the file are ignored here (the consumer checks).
    /// Nullability is not enforced: it is taken from the data.
    pub schema: Option<Schema>,
    /// Cell texts read as null (`[""]`: empty fields). Compared exactly, without trimming.
    /// Applies to CSV fields and to JSON string values.
    pub null_values: Vec<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            delimiter: b',',
            schema: None,
            null_values: vec![String::new()],
        }
    }
}

impl ReadOptions {
    /// The type `schema` forces on `column`, if any.
    pub(crate) fn forced_type(&self, column: &str) -> Option<DataType> {
        self.schema
            .as_ref()
            .and_then(|s| s.field(column))
            .map(|f| f.dtype)
    }
}

/// Reads a CSV (`.csv`, `.tsv`, `.txt`), Parquet (`.parquet`, `.pq`) or JSON lines
/// (`.jsonl`, `.ndjson`, `.json`) file into a frame; a directory is read as a partitioned
/// dataset: every data file below it, with `key=value` directories as columns (see
/// [`dir_sha256`](crate::dir_sha256) for its content hash).
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Frame, FrameError> {
    if path.is_dir() {
        return crate::dir_read::read_dir(path, opts);
    }
    read_file(path, opts)
}

/// Reads one file, its format chosen by extension.
pub(crate) fn read_file(path: &Path, opts: &ReadOptions) -> Result<Frame, FrameError> {
    match FileFormat::from_path(path)? {
        FileFormat::Csv { delimiter } => {
            let delimiter = match delimiter {
                Some(tab) if opts.delimiter == b',' => tab,
                _ => opts.delimiter,
            };
            crate::csv_read::read_csv(path, delimiter, opts)
        }
        FileFormat::Parquet => crate::parquet_read::read_parquet(path, opts),
        FileFormat::JsonLines => crate::json_read::read_json_lines(path, opts),
    }
}
