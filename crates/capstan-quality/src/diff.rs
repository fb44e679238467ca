//! Dataset diffs: schema changes, row counts, which columns' content changed (from chunk
//! hashes alone) and statistic shifts per column (from two profiles, when both are known).
//!
//! PSI (population stability index) of a numeric column re-bins the second profile's
//! histogram onto the first one's edges, spreading each bin's count evenly over its width,
//! with an underflow and an overflow bucket; of a string or boolean column it compares
//! the shares of the listed top values plus one "other" bucket (`crate::psi`).

use capstan_frame::DataType;
use serde::{Deserialize, Serialize};

use crate::Profile;
use crate::profile::{ColumnProfile, Histogram, ValueCount};
use crate::psi::psi;
use crate::version::DatasetVersion;

/// Top values kept per side in a column diff.
const TOP_KEPT: usize = 5;

/// One side of a comparison.
#[derive(Debug, Clone, Copy)]
pub struct DiffInput<'a> {
    /// A path, or a recorded version.
    pub label: &'a str,
    pub version: &'a DatasetVersion,
    pub profile: Option<&'a Profile>,
}

/// What differs between dataset A and dataset B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetDiff {
    pub a: Side,
    pub b: Side,
    /// Same version: the same typed cells (and the same row order unless ignored).
    pub same_content: bool,
    /// Columns of B that A lacks, in B's order.
    pub added_columns: Vec<ColumnType>,
    /// Columns of A that B lacks, in A's order.
    pub removed_columns: Vec<ColumnType>,
    pub type_changes: Vec<TypeChange>,
    /// Columns present in both, in A's order.
    pub columns: Vec<ColumnDiff>,
    /// Why a part could not be compared (no profile, row order ignored on one side).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub label: String,
    pub version: String,
    pub n_rows: usize,
    pub n_cols: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnType {
    pub name: String,
    #[serde(rename = "type")]
    pub dtype: DataType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeChange {
    pub name: String,
    pub from: DataType,
    pub to: DataType,
}

/// Whether a column's cells are the same, from chunk hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Content {
    Same,
    Changed,
    /// Row order is ignored on one side only: hashes are not comparable.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDiff {
    pub name: String,
    pub content: Content,
    /// Indexes of the chunks whose hashes differ (rows `k * 65536 ..`); empty when same.
    pub changed_chunks: Vec<usize>,
    /// `None` without both profiles.
    pub stats: Option<StatShift>,
}

/// A statistic on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub a: Option<f64>,
    pub b: Option<f64>,
}

impl Pair {
    fn new(a: Option<f64>, b: Option<f64>) -> Pair {
        Pair { a, b }
    }

    /// `b - a` when both are known.
    pub fn delta(&self) -> Option<f64> {
        Some(self.b? - self.a?)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatShift {
    pub missing_pct: Pair,
    pub distinct: Pair,
    pub mean: Pair,
    pub std: Pair,
    pub q25: Pair,
    pub q50: Pair,
    pub q75: Pair,
    pub top_values_a: Vec<ValueCount>,
    pub top_values_b: Vec<ValueCount>,
    /// Population stability index of B against A; `None` when not computable.
    pub psi: Option<f64>,
}

/// Compares two datasets.
pub fn diff(a: &DiffInput<'_>, b: &DiffInput<'_>) -> DatasetDiff {
    let (va, vb) = (a.version, b.version);
    let mut notes = Vec::new();
    let comparable = va.row_order_ignored == vb.row_order_ignored;
    if !comparable {
        notes.push(
            "row order is ignored on one side only: column content is not compared".to_string(),
        );
    }
    if a.profile.is_none() || b.profile.is_none() {
        notes.push(
            "no profile on one side (record it with `capstan data versions --data FILE`): statistic shifts not computed"
                .to_string(),
        );
    }
    let mut removed = Vec::new();
    let mut type_changes = Vec::new();
    let mut columns = Vec::new();
    for fa in &va.schema.fields {
        let Some(fb) = vb.schema.field(&fa.name) else {
            removed.push(ColumnType {
                name: fa.name.clone(),
                dtype: fa.dtype,
            });
            continue;
        };
        if fa.dtype != fb.dtype {
            type_changes.push(TypeChange {
                name: fa.name.clone(),
                from: fa.dtype,
                to: fb.dtype,
            });
        }
        let (content, changed_chunks) = if fa.dtype != fb.dtype {
            (Content::Changed, Vec::new())
        } else if !comparable {
            (Content::Unknown, Vec::new())
        } else {
            compare_chunks(
                va.chunks(&fa.name).unwrap_or_default(),
                vb.chunks(&fa.name).unwrap_or_default(),
            )
        };
        let stats = match (a.profile, b.profile) {
            (Some(pa), Some(pb)) => match (pa.column(&fa.name), pb.column(&fa.name)) {
                (Some(ca), Some(cb)) => Some(stat_shift(ca, pa.n_rows, cb, pb.n_rows)),
                _ => None,
            },
            _ => None,
        };
        columns.push(ColumnDiff {
            name: fa.name.clone(),
            content,
            changed_chunks,
            stats,
        });
    }
    let added = vb
        .schema
        .fields
        .iter()
        .filter(|f| va.schema.field(&f.name).is_none())
        .map(|f| ColumnType {
            name: f.name.clone(),
            dtype: f.dtype,
        })
        .collect();
    DatasetDiff {
        a: side(a),
        b: side(b),
        same_content: va.version == vb.version,
        added_columns: added,
        removed_columns: removed,
        type_changes,
        columns,
        notes,
    }
}

fn side(input: &DiffInput<'_>) -> Side {
    Side {
        label: input.label.to_string(),
        version: input.version.version.clone(),
        n_rows: input.version.n_rows,
        n_cols: input.version.n_cols(),
    }
}

/// Same when every chunk hash matches; else the indexes that differ (or exist on one side).
fn compare_chunks(a: &[String], b: &[String]) -> (Content, Vec<usize>) {
    let changed: Vec<usize> = (0..a.len().max(b.len()))
        .filter(|&k| a.get(k) != b.get(k))
        .collect();
    if changed.is_empty() {
        (Content::Same, changed)
    } else {
        (Content::Changed, changed)
    }
}

fn stat_shift(a: &ColumnProfile, rows_a: usize, b: &ColumnProfile, rows_b: usize) -> StatShift {
    let pct =
        |missing: usize, rows: usize| (rows > 0).then(|| 100.0 * missing as f64 / rows as f64);
    let num = |c: &ColumnProfile, f: fn(&crate::profile::NumericStats) -> Option<f64>| {
        c.numeric.as_ref().and_then(f)
    };
    let psi = match (&a.numeric, &b.numeric) {
        (Some(na), Some(nb)) => histogram_psi(&na.histogram, &nb.histogram),
        _ if a.dtype == b.dtype && matches!(a.dtype, DataType::String | DataType::Boolean) => {
            categorical_psi(&a.top_values, a.count, &b.top_values, b.count)
        }
        _ => None,
    };
    StatShift {
        missing_pct: Pair::new(pct(a.missing, rows_a), pct(b.missing, rows_b)),
        distinct: Pair::new(Some(a.distinct as f64), Some(b.distinct as f64)),
        mean: Pair::new(num(a, |n| Some(n.mean)), num(b, |n| Some(n.mean))),
        std: Pair::new(num(a, |n| n.std), num(b, |n| n.std)),
        q25: Pair::new(num(a, |n| Some(n.q25)), num(b, |n| Some(n.q25))),
        q50: Pair::new(num(a, |n| Some(n.q50)), num(b, |n| Some(n.q50))),
        q75: Pair::new(num(a, |n| Some(n.q75)), num(b, |n| Some(n.q75))),
        top_values_a: a.top_values.iter().take(TOP_KEPT).cloned().collect(),
        top_values_b: b.top_values.iter().take(TOP_KEPT).cloned().collect(),
        psi,
    }
}

/// PSI of `b` against `a`'s bins, `b`'s counts spread evenly over each of its bins.
pub fn histogram_psi(a: &Histogram, b: &Histogram) -> Option<f64> {
    let edges = &a.edges;
    if edges.len() < 2 || edges.len() != a.counts.len() + 1 || b.edges.len() != b.counts.len() + 1 {
        return None;
    }
    // Buckets: below the first edge, a's bins, above the last edge.
    let n = a.counts.len() + 2;
    let mut pa = vec![0.0; n];
    for (k, &c) in a.counts.iter().enumerate() {
        pa[k + 1] = c as f64;
    }
    let mut pb = vec![0.0; n];
    for (k, &c) in b.counts.iter().enumerate() {
        let (lo, hi) = (b.edges[k], b.edges[k + 1]);
        if c == 0 {
            continue;
        }
        if hi <= lo {
            pb[bucket_of(edges, lo)] += c as f64;
            continue;
        }
        for (j, slot) in pb.iter_mut().enumerate() {
            let (blo, bhi) = bucket_range(edges, j);
            let overlap = hi.min(bhi) - lo.max(blo);
            if overlap > 0.0 {
                *slot += c as f64 * overlap / (hi - lo);
            }
        }
    }
    psi(&pa, &pb)
}

/// The bucket (0 = below, `len - 1` = above) holding `x`; the last bin holds its right edge.
fn bucket_of(edges: &[f64], x: f64) -> usize {
    let last = edges.len() - 1;
    if x < edges[0] {
        0
    } else if x > edges[last] {
        last + 1
    } else {
        edges[1..].iter().position(|&e| x < e).unwrap_or(last - 1) + 1
    }
}

fn bucket_range(edges: &[f64], j: usize) -> (f64, f64) {
    let last = edges.len() - 1;
    match j {
        0 => (f64::NEG_INFINITY, edges[0]),
        j if j > last => (edges[last], f64::INFINITY),
        j => (edges[j - 1], edges[j]),
    }
}

/// PSI over the values listed on either side plus an "other" bucket.
pub fn categorical_psi(
    a: &[ValueCount],
    count_a: usize,
    b: &[ValueCount],
    count_b: usize,
) -> Option<f64> {
    let mut values: Vec<&str> = a.iter().chain(b).map(|v| v.value.as_str()).collect();
    values.sort_unstable();
    values.dedup();
    let shares = |list: &[ValueCount], total: usize| {
        let mut out: Vec<f64> = values
            .iter()
            .map(|v| {
                list.iter()
                    .find(|c| c.value == *v)
                    .map_or(0.0, |c| c.count as f64)
            })
            .collect();
        let listed: usize = list.iter().map(|c| c.count).sum();
        out.push(total.saturating_sub(listed) as f64);
        out
    };
    psi(&shares(a, count_a), &shares(b, count_b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(edges: &[f64], counts: &[u64]) -> Histogram {
        Histogram {
            edges: edges.to_vec(),
            counts: counts.to_vec(),
        }
    }

    #[test]
    fn psi_of_identical_histograms_is_zero() {
        let h = hist(&[0.0, 1.0, 2.0, 3.0], &[10, 20, 30]);
        assert_eq!(histogram_psi(&h, &h), Some(0.0));
    }

    #[test]
    fn psi_rebins_onto_the_first_edges() {
        // b has the same uniform mass as a, on bins twice as fine: no shift.
        let a = hist(&[0.0, 2.0, 4.0], &[100, 100]);
        let b = hist(&[0.0, 1.0, 2.0, 3.0, 4.0], &[50, 50, 50, 50]);
        let v = histogram_psi(&a, &b).expect("psi");
        assert!(v.abs() < 1e-12, "{v}");
        // b entirely above a's range lands in the overflow bucket: a large shift.
        let c = hist(&[10.0, 11.0], &[200]);
        let v = histogram_psi(&a, &c).expect("psi");
        // shares a = (0, .5, .5, 0), c = (0, 0, 0, 1), floored at 1e-4
        let f = crate::psi::PSI_EPSILON;
        let expected = 2.0 * (f - 0.5) * (f / 0.5).ln() + (1.0 - f) * (1.0 / f).ln();
        assert!((v - expected).abs() < 1e-9, "{v} vs {expected}");
    }

    #[test]
    fn bucket_of_puts_the_last_edge_in_the_last_bin() {
        let edges = [0.0, 1.0, 2.0];
        assert_eq!(bucket_of(&edges, -0.5), 0);
        assert_eq!(bucket_of(&edges, 0.0), 1);
        assert_eq!(bucket_of(&edges, 1.0), 2);
        assert_eq!(bucket_of(&edges, 2.0), 2);
        assert_eq!(bucket_of(&edges, 2.5), 3);
    }

    #[test]
    fn categorical_psi_counts_unlisted_values_as_other() {
        let vc = |v: &str, c| ValueCount {
            value: v.to_string(),
            count: c,
        };
        let a = [vc("x", 50), vc("y", 30)];
        assert_eq!(categorical_psi(&a, 100, &a, 100), Some(0.0));
        let b = [vc("x", 30), vc("y", 50)];
        let v = categorical_psi(&a, 100, &b, 100).expect("psi");
        let expected = (0.3 - 0.5) * (0.3f64 / 0.5).ln() + (0.5 - 0.3) * (0.5f64 / 0.3).ln();
        assert!((v - expected).abs() < 1e-12, "{v} vs {expected}");
    }
}
