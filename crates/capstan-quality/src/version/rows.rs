//! Versions that ignore row order: the sorted row digests, and per column the sorted cells.

use capstan_frame::Frame;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::encode::{encode_cell, type_tag};
use super::{CHUNK_ROWS, DatasetVersion, header, named};

/// The version of the multiset of rows.
pub(super) fn unordered_version(frame: &Frame) -> DatasetVersion {
    let n_rows = frame.n_rows();
    let ranges: Vec<(usize, usize)> = (0..n_rows)
        .step_by(CHUNK_ROWS)
        .map(|s| (s, (s + CHUNK_ROWS).min(n_rows)))
        .collect();
    let mut digests: Vec<[u8; 32]> = ranges
        .par_iter()
        .flat_map_iter(|&(start, end)| {
            let mut buf = Vec::new();
            (start..end)
                .map(|i| {
                    buf.clear();
                    for col in frame.columns() {
                        encode_cell(col, i, &mut buf);
                    }
                    Sha256::digest(&buf).into()
                })
                .collect::<Vec<[u8; 32]>>()
        })
        .collect();
    digests.par_sort_unstable();
    let mut top = Sha256::new();
    top.update(header(frame, b"capstan.dataset.v1.unordered"));
    for d in &digests {
        top.update(d);
    }
    let per_column: Vec<Vec<String>> = (0..frame.n_cols())
        .into_par_iter()
        .map(|c| vec![sorted_column_hash(frame, c)])
        .collect();
    DatasetVersion {
        version: capstan_io::hex(&top.finalize()),
        n_rows,
        schema: frame.schema().clone(),
        columns: named(frame, per_column),
        row_order_ignored: true,
    }
}

/// sha256 of the column's type tag and its cell encodings in sorted order.
fn sorted_column_hash(frame: &Frame, c: usize) -> String {
    let col = &frame.columns()[c];
    let mut bytes = Vec::new();
    let mut bounds = Vec::with_capacity(col.len() + 1);
    bounds.push(0);
    for i in 0..col.len() {
        encode_cell(col, i, &mut bytes);
        bounds.push(bytes.len());
    }
    let mut cells: Vec<&[u8]> = bounds.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
    cells.par_sort_unstable();
    let mut hasher = Sha256::new();
    hasher.update([type_tag(col.dtype())]);
    for cell in cells {
        hasher.update(cell);
    }
    capstan_io::hex(&hasher.finalize())
}
