//! Where a command's rows come from: a file, a directory of files, or a PostgreSQL query.
//! Every command that reads a table goes through `DataSource`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use capstan_frame::{Frame, ReadOptions, Schema};

use crate::exit::input_error;

/// What `--data` accepts, for the commands' help texts (a macro, so that they can
/// `concat!` it).
macro_rules! data_help {
    () => {
        "a .csv/.tsv/.parquet/.jsonl file; a directory of such files (read recursively, one \
         format; key=value subdirectories become columns); or a PostgreSQL URL \
         postgres://user[:password]@host[:port]/db with --query"
    };
}
pub(crate) use data_help;

/// What `--query` does, for the commands' help texts.
pub const QUERY_HELP: &str = "SQL query whose result is the data (with --data postgres://...)";

/// The flags of every `capstan data` command that reads one table.
#[derive(Debug, Clone, clap::Args)]
pub struct SourceArgs {
    #[arg(long, value_name = "FILE|DIR|URL", help = data_help!())]
    pub data: PathBuf,
    #[arg(long, value_name = "SQL", help = QUERY_HELP)]
    pub query: Option<String>,
    /// Field delimiter for CSV input [default: ',' or tab for .tsv]
    #[arg(long)]
    pub delimiter: Option<char>,
    /// A schema file (from `capstan schema infer`) forcing column types
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
}

impl SourceArgs {
    /// Reads the table; the source names it in messages.
    pub fn read(&self) -> Result<(DataSource, Frame)> {
        let source = DataSource::new(&self.data, self.query.as_deref())?;
        let frame = source.read(&read_options(self.delimiter, self.schema.as_deref())?)?;
        Ok((source, frame))
    }
}

/// Reader options from `--delimiter` and `--schema`.
pub fn read_options(delimiter: Option<char>, schema: Option<&Path>) -> Result<ReadOptions> {
    let mut opts = ReadOptions::default();
    if let Some(d) = delimiter {
        opts.delimiter = u8::try_from(d).map_err(|_| {
            input_error(format!("delimiter '{d}' must be a single ASCII character"))
        })?;
    }
    if let Some(path) = schema {
        opts.schema = Some(Schema::from_json_file(path)?);
    }
    Ok(opts)
}

/// A table to read.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// A .csv/.tsv/.parquet/.jsonl file.
    File(PathBuf),
    /// A directory of data files, possibly in `key=value/` partitions.
    Directory(PathBuf),
    /// The result of `query` on the PostgreSQL database at `url`.
    Postgres { url: String, query: String },
}

impl DataSource {
    /// `data` is what `--data` said; `query` is `--query` (PostgreSQL sources only).
    pub fn new(data: &Path, query: Option<&str>) -> Result<DataSource> {
        let url = data.to_str().filter(|d| d.contains("://"));
        match (url, query) {
            (Some(url), Some(query)) if is_postgres_url(url) => {
                if query.trim().is_empty() {
                    return Err(input_error("--query is empty: expected a SQL query"));
                }
                Ok(DataSource::Postgres {
                    url: url.to_string(),
                    query: query.to_string(),
                })
            }
            (Some(url), None) if is_postgres_url(url) => Err(input_error(format!(
                "{}: a PostgreSQL source needs --query 'SELECT ...'",
                capstan_io::redact_password(url)
            ))),
            (Some(url), _) => Err(input_error(format!(
                "{}: unsupported data URL: expected a file, a directory or \
                 postgres://user@host:port/db",
                capstan_io::redact_password(url)
            ))),
            (None, Some(_)) => Err(input_error(format!(
                "--query needs --data postgres://... (a PostgreSQL URL), found {}",
                data.display()
            ))),
            (None, None) if data.is_dir() => Ok(DataSource::Directory(data.to_path_buf())),
            (None, None) => Ok(DataSource::File(data.to_path_buf())),
        }
    }

    /// Reads the whole table.
    pub fn read(&self, opts: &ReadOptions) -> Result<Frame> {
        match self {
            DataSource::File(path) | DataSource::Directory(path) => {
                Ok(capstan_frame::read(path, opts)?)
            }
            DataSource::Postgres { url, query } => {
                Ok(capstan_frame::read_postgres(url, query, opts)?)
            }
        }
    }

    /// How the source is named in messages, profiles and lineage (passwords redacted).
    pub fn describe(&self) -> String {
        match self {
            DataSource::File(path) | DataSource::Directory(path) => path.display().to_string(),
            DataSource::Postgres { url, .. } => capstan_io::redact_password(url),
        }
    }

    /// The query text, for lineage.
    pub fn query(&self) -> Option<&str> {
        match self {
            DataSource::File(_) | DataSource::Directory(_) => None,
            DataSource::Postgres { query, .. } => Some(query),
        }
    }

    /// SHA-256 of the source's bytes where it has bytes: a file's bytes; for a directory,
    /// its files' paths and hashes (`capstan_frame::dir_sha256`); `None` for a query.
    pub fn bytes_sha256(&self) -> Result<Option<String>> {
        match self {
            DataSource::File(path) => Ok(Some(capstan_frame::file_sha256(path)?)),
            DataSource::Directory(path) => Ok(Some(capstan_frame::dir_sha256(path)?)),
            DataSource::Postgres { .. } => Ok(None),
        }
    }
}

fn is_postgres_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(data: &str, query: Option<&str>) -> Result<DataSource> {
        DataSource::new(Path::new(data), query)
    }

    #[test]
    fn sources_from_the_command_line() {
        let pg = new("postgres://me:pw@db:5432/x", Some("SELECT 1")).expect("a query");
        assert_eq!(pg.describe(), "postgres://me:***@db:5432/x");
        assert_eq!(pg.query(), Some("SELECT 1"));
        assert_eq!(pg.bytes_sha256().expect("no bytes"), None);
        assert!(matches!(
            new("PostgreSQL://db/x", Some("SELECT 1")),
            Ok(DataSource::Postgres { .. })
        ));
        let dir = std::env::temp_dir();
        assert!(matches!(
            DataSource::new(&dir, None),
            Ok(DataSource::Directory(_))
        ));
        assert_eq!(
            new("data/x.csv", None).expect("a file"),
            DataSource::File(PathBuf::from("data/x.csv"))
        );
    }

    #[test]
    fn mismatched_flags_are_errors() {
        let text = |r: Result<DataSource>| r.expect_err("an error").to_string();
        assert_eq!(
            text(new("postgres://me:pw@db/x", None)),
            "postgres://me:***@db/x: a PostgreSQL source needs --query 'SELECT ...'"
        );
        assert_eq!(
            text(new("data/x.csv", Some("SELECT 1"))),
            "--query needs --data postgres://... (a PostgreSQL URL), found data/x.csv"
        );
        assert!(
            text(new("mysql://u:pw@db/x", None)).starts_with("mysql://u:***@db/x: unsupported")
        );
        assert!(text(new("postgres://db/x", Some("  "))).contains("--query is empty"));
    }
}
