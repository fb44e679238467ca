//! Population stability index (PSI) of a column against a reference profile.
//!
//! PSI as defined in `crate::psi`.
//!
//! Bins: a numeric reference uses its histogram's bins plus `below` and `above` (values
//! outside the reference range; reference share 0) and `missing`; a categorical reference
//! uses its top values plus `other` and `missing`.

use capstan_frame::Column;

use super::report::{BinShift, DistributionShift};
use super::row::{is_missing, number_at};
use crate::QualityError;
use crate::profile::ColumnProfile;
use crate::psi::{psi_term, shares};

/// Bins kept in a report.
const TOP_BINS: usize = 5;

/// Bin labels and reference counts, fixed once per rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceBins {
    kind: BinKind,
    labels: Vec<String>,
    counts: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
enum BinKind {
    /// Histogram edges; bins are below, the histogram's, above, missing.
    Numeric(Vec<f64>),
    /// Top values; bins are the values, other, missing.
    Categorical(Vec<String>),
}

impl ReferenceBins {
    /// The bins of a reference column: its histogram if it has one, else its top values.
    pub fn from_profile(col: &ColumnProfile) -> Result<ReferenceBins, QualityError> {
        if let Some(stats) = &col.numeric {
            let h = &stats.histogram;
            if h.edges.len() != h.counts.len() + 1 || h.counts.is_empty() {
                return Err(QualityError::Input(format!(
                    "reference profile column '{}': histogram has {} edges for {} bins",
                    col.name,
                    h.edges.len(),
                    h.counts.len()
                )));
            }
            let k = h.counts.len();
            let mut labels = vec![format!("below {}", h.edges[0])];
            let mut counts = vec![0.0];
            for i in 0..k {
                let close = if i + 1 == k { "]" } else { ")" };
                labels.push(format!("[{}, {}{close}", h.edges[i], h.edges[i + 1]));
                counts.push(h.counts[i] as f64);
            }
            labels.push(format!("above {}", h.edges[k]));
            counts.push(0.0);
            labels.push("missing".into());
            counts.push(col.missing as f64);
            return Ok(ReferenceBins {
                kind: BinKind::Numeric(h.edges.clone()),
                labels,
                counts,
            });
        }
        if col.top_values.is_empty() {
            return Err(QualityError::Input(format!(
                "reference profile column '{}' has neither a histogram nor top values",
                col.name
            )));
        }
        let values: Vec<String> = col.top_values.iter().map(|v| v.value.clone()).collect();
        let top: usize = col.top_values.iter().map(|v| v.count).sum();
        let mut labels = values.clone();
        let mut counts: Vec<f64> = col.top_values.iter().map(|v| v.count as f64).collect();
        labels.push("other".into());
        counts.push(col.count.saturating_sub(top) as f64);
        labels.push("missing".into());
        counts.push(col.missing as f64);
        Ok(ReferenceBins {
            kind: BinKind::Categorical(values),
            labels,
            counts,
        })
    }

    /// Counts of a column's rows in these bins (text that is not a number counts as
    /// missing in numeric bins).
    pub fn count(&self, column: &Column) -> Vec<f64> {
        let mut counts = vec![0.0; self.labels.len()];
        let missing = self.labels.len() - 1;
        for i in 0..column.len() {
            let bin = if is_missing(column, i) {
                missing
            } else {
                match &self.kind {
                    BinKind::Numeric(edges) => match number_at(column, i) {
                        None => missing,
                        Some(v) if v < edges[0] => 0,
                        Some(v) if v > edges[edges.len() - 1] => edges.len(),
                        // bin j covers [e_j, e_j+1); the last also holds its right edge
                        Some(v) => edges.partition_point(|&e| e <= v).min(edges.len() - 1),
                    },
                    BinKind::Categorical(values) => {
                        let text = column.display_at(i).unwrap_or_default();
                        values
                            .iter()
                            .position(|v| *v == text)
                            .unwrap_or(values.len())
                    }
                }
            };
            counts[bin] += 1.0;
        }
        counts
    }

    /// The PSI of `actual` counts against the reference, with the bins that moved most.
    pub fn shift(&self, actual: &[f64], max_psi: f64) -> DistributionShift {
        let ref_share = shares(&self.counts);
        let act_share = shares(actual);
        let terms: Vec<f64> = ref_share
            .iter()
            .zip(&act_share)
            .map(|(&r, &a)| psi_term(r, a))
            .collect();
        let psi = terms.iter().sum();
        let mut order: Vec<usize> = (0..terms.len()).filter(|&i| terms[i] > 0.0).collect();
        order.sort_by(|&a, &b| terms[b].total_cmp(&terms[a]).then(a.cmp(&b)));
        let top_bins = order
            .into_iter()
            .take(TOP_BINS)
            .map(|i| BinShift {
                bin: self.labels[i].clone(),
                reference: ref_share[i],
                actual: act_share[i],
                contribution: terms[i],
            })
            .collect();
        DistributionShift {
            psi,
            max_psi,
            top_bins,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use capstan_frame::{DataType, ReadOptions};

    use super::*;
    use crate::profile::{Histogram, NumericStats, ValueCount};

    fn numeric_reference() -> ColumnProfile {
        ColumnProfile {
            name: "x".into(),
            dtype: DataType::Float,
            count: 100,
            missing: 0,
            distinct: 100,
            numeric: Some(NumericStats {
                mean: 5.0,
                std: Some(2.0),
                min: 0.0,
                q25: 2.5,
                q50: 5.0,
                q75: 7.5,
                max: 10.0,
                zeros: 1,
                histogram: Histogram {
                    edges: vec![0.0, 5.0, 10.0],
                    counts: vec![50, 50],
                },
            }),
            top_values: vec![],
            time_range: None,
        }
    }

    fn column(csv: &str) -> Column {
        let frame = capstan_frame::read_csv_bytes(
            csv.as_bytes(),
            Path::new("t.csv"),
            &ReadOptions::default(),
            None,
        )
        .expect("frame");
        frame.columns()[0].clone()
    }

    #[test]
    fn numeric_bins_follow_numpy_edges() {
        let bins = ReferenceBins::from_profile(&numeric_reference()).expect("bins");
        // -1 below, 0 and 4.9 in [0,5), 5 and 10 in [5,10], 11 above, one missing
        let counts = bins.count(&column("x,k\n-1,1\n0,1\n4.9,1\n5,1\n10,1\n11,1\n,1\n"));
        assert_eq!(counts, vec![1.0, 2.0, 2.0, 1.0, 1.0]);
    }

    #[test]
    fn psi_matches_the_formula_and_ranks_bins() {
        let bins = ReferenceBins::from_profile(&numeric_reference()).expect("bins");
        // actual: 80% in the first bin, 20% in the second
        let shift = bins.shift(&[0.0, 80.0, 20.0, 0.0, 0.0], 0.2);
        let want = (0.8f64 - 0.5) * (0.8f64 / 0.5).ln() + (0.2f64 - 0.5) * (0.2f64 / 0.5).ln();
        assert!((shift.psi - want).abs() < 1e-12, "{} vs {want}", shift.psi);
        assert_eq!(shift.top_bins.len(), 2);
        assert_eq!(shift.top_bins[0].bin, "[5, 10]");
        assert!((shift.top_bins[0].reference - 0.5).abs() < 1e-12);
        assert!((shift.top_bins[0].actual - 0.2).abs() < 1e-12);
        // same distribution: zero
        let same = bins.shift(&[0.0, 10.0, 10.0, 0.0, 0.0], 0.2);
        assert_eq!(same.psi, 0.0);
        assert!(same.top_bins.is_empty());
    }

    #[test]
    fn categorical_bins_have_other_and_missing() {
        let reference = ColumnProfile {
            name: "c".into(),
            dtype: DataType::String,
            count: 10,
            missing: 0,
            distinct: 3,
            numeric: None,
            top_values: vec![
                ValueCount {
                    value: "a".into(),
                    count: 6,
                },
                ValueCount {
                    value: "b".into(),
                    count: 3,
                },
            ],
            time_range: None,
        };
        let bins = ReferenceBins::from_profile(&reference).expect("bins");
        let counts = bins.count(&column("c,k\na,1\nb,1\nz,1\n,1\na,1\n"));
        assert_eq!(counts, vec![2.0, 1.0, 1.0, 1.0]);
        let shift = bins.shift(&counts, 0.1);
        // missing: reference share 0 -> epsilon; the biggest mover
        assert_eq!(shift.top_bins[0].bin, "missing");
        let want: f64 = [(0.6, 0.4), (0.3, 0.2), (0.1, 0.2), (0.0, 0.2)]
            .iter()
            .map(|&(r, a)| psi_term(r, a))
            .sum();
        assert!((shift.psi - want).abs() < 1e-12);
    }
}
