//! Dataset versions: a content hash of the normalized data (the typed frame, not the file
//! bytes), built from per-column chunk hashes.
//!
//! Each column is split into chunks of [`CHUNK_ROWS`] rows; a chunk hash is the sha256 of
//! the column's type tag and the canonical encoding of its cells (see `encode.rs`). The
//! version is the sha256 of a domain tag, the row count, the schema (names and types) and
//! every chunk hash in column order. So the same table read from CSV or Parquet has the
//! same version when the types agree, re-saving a file with other quoting or line endings
//! does not change it, one changed cell changes exactly one chunk hash, and appending rows
//! keeps the hashes of the earlier full chunks.
//!
//! With [`VersionOptions::ignore_row_order`] the version is the sha256 of the sorted row
//! digests instead (rows shuffled give the same version), and each column has one hash of
//! its sorted cells (which columns changed is still known; where in the column is not).

mod encode;
mod rows;

use capstan_frame::{Frame, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use encode::{encode_cell, encode_schema, type_tag};

/// Rows per column chunk.
pub const CHUNK_ROWS: usize = 65_536;
/// Characters of a version shown in tables.
pub const SHORT_LEN: usize = 12;

/// Bytes hashed at a time while encoding a chunk.
const FLUSH_BYTES: usize = 1 << 16;

/// How to compute a version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionOptions {
    /// The same rows in any order give the same version.
    pub ignore_row_order: bool,
}

/// The version of a table and the hashes it was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetVersion {
    /// sha256, lowercase hex.
    pub version: String,
    pub n_rows: usize,
    pub schema: Schema,
    /// One entry per column, in schema order.
    pub columns: Vec<ColumnChunks>,
    pub row_order_ignored: bool,
}

/// The chunk hashes of one column (one hash of the sorted cells when row order is ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnChunks {
    pub name: String,
    pub chunks: Vec<String>,
}

impl DatasetVersion {
    /// The first [`SHORT_LEN`] characters, for tables.
    pub fn short(&self) -> &str {
        short(&self.version)
    }

    pub fn n_cols(&self) -> usize {
        self.schema.fields.len()
    }

    /// The chunk hashes of the named column.
    pub fn chunks(&self, column: &str) -> Option<&[String]> {
        self.columns
            .iter()
            .find(|c| c.name == column)
            .map(|c| c.chunks.as_slice())
    }
}

/// The first [`SHORT_LEN`] characters of a version (all of it when shorter).
pub fn short(version: &str) -> &str {
    version.get(..SHORT_LEN).unwrap_or(version)
}

/// Computes the version of `frame`; columns (and their chunks) are hashed in parallel.
pub fn dataset_version(frame: &Frame, opts: &VersionOptions) -> DatasetVersion {
    if opts.ignore_row_order {
        return rows::unordered_version(frame);
    }
    let n_rows = frame.n_rows();
    let n_chunks = n_rows.div_ceil(CHUNK_ROWS);
    let jobs: Vec<(usize, usize)> = (0..frame.n_cols())
        .flat_map(|c| (0..n_chunks).map(move |k| (c, k)))
        .collect();
    let digests: Vec<[u8; 32]> = jobs
        .par_iter()
        .map(|&(c, k)| {
            let start = k * CHUNK_ROWS;
            chunk_digest(frame, c, start, (start + CHUNK_ROWS).min(n_rows))
        })
        .collect();
    let mut top = Sha256::new();
    top.update(header(frame, b"capstan.dataset.v1"));
    for d in &digests {
        top.update(d);
    }
    let per_column: Vec<Vec<String>> = if n_chunks == 0 {
        vec![Vec::new(); frame.n_cols()]
    } else {
        digests
            .chunks(n_chunks)
            .map(|c| c.iter().map(|d| capstan_io::hex(d)).collect())
            .collect()
    };
    DatasetVersion {
        version: capstan_io::hex(&top.finalize()),
        n_rows,
        schema: frame.schema().clone(),
        columns: named(frame, per_column),
        row_order_ignored: false,
    }
}

/// Domain tag, row count and schema: the start of every version hash.
fn header(frame: &Frame, tag: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    out.push(0);
    out.extend_from_slice(&(frame.n_rows() as u64).to_le_bytes());
    encode_schema(frame.schema(), &mut out);
    out
}

fn named(frame: &Frame, hashes: Vec<Vec<String>>) -> Vec<ColumnChunks> {
    frame
        .schema()
        .fields
        .iter()
        .zip(hashes)
        .map(|(f, chunks)| ColumnChunks {
            name: f.name.clone(),
            chunks,
        })
        .collect()
}

/// sha256 of the type tag and cells `start..end` of column `c`.
fn chunk_digest(frame: &Frame, c: usize, start: usize, end: usize) -> [u8; 32] {
    let col = &frame.columns()[c];
    let mut hasher = Sha256::new();
    hasher.update([type_tag(col.dtype())]);
    let mut buf = Vec::with_capacity(FLUSH_BYTES + 64);
    for i in start..end {
        encode_cell(col, i, &mut buf);
        if buf.len() >= FLUSH_BYTES {
            hasher.update(&buf);
            buf.clear();
        }
    }
    hasher.update(&buf);
    hasher.finalize().into()
}
