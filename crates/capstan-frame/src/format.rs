//! File formats, recognised by extension.

use std::path::Path;

use crate::FrameError;

const SUPPORTED: &str = ".csv, .tsv, .txt, .parquet, .pq, .jsonl, .ndjson, .json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileFormat {
    /// `delimiter` is the format's own (tab for `.tsv`), `None` for the caller's choice.
    Csv {
        delimiter: Option<u8>,
    },
    Parquet,
    JsonLines,
}

impl FileFormat {
    pub fn from_path(path: &Path) -> Result<FileFormat, FrameError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        Ok(match ext.as_str() {
            "csv" | "txt" => FileFormat::Csv { delimiter: None },
            "tsv" => FileFormat::Csv {
                delimiter: Some(b'\t'),
            },
            "parquet" | "pq" => FileFormat::Parquet,
            "jsonl" | "ndjson" | "json" => FileFormat::JsonLines,
            _ => {
                let found = if ext.is_empty() {
                    "no extension".to_string()
                } else {
                    format!("'.{ext}'")
                };
                return Err(FrameError::format(
                    path,
                    format!("unknown file type: expected one of {SUPPORTED}, found {found}"),
                ));
            }
        })
    }
}
