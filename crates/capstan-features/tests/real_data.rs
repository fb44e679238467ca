//! Real datasets read with the frame crate's CSV reader, in both modes: shapes, no NaN
//! in linear mode, serving row by row equals batch, JSON round-trip is exact.

mod common;

use capstan_features::{FittedPipeline, PipelineMode, PipelineSpec};
use capstan_frame::FeatureKind;
use common::*;

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn check(dataset: &str, target: &str, drop: &[&str]) {
    let frame = load_dataset(dataset);
    let n_train = frame.n_rows() * 7 / 10;
    let train = frame.take(&(0..n_train).collect::<Vec<_>>());
    let spec = PipelineSpec {
        drop: drop.iter().map(|s| s.to_string()).collect(),
        missing_indicator: true,
        rare_min_fraction: 0.001,
        ..PipelineSpec::default()
    };
    for mode in [PipelineMode::Linear, PipelineMode::Tree] {
        let p = FittedPipeline::fit(&spec, mode, &train, &[target])
            .unwrap_or_else(|e| panic!("{dataset} {mode:?}: {e}"));
        let m = p.transform(&frame).expect("transforms the full frame");
        assert_eq!((m.n_rows, m.n_cols), (frame.n_rows(), p.n_features()));
        assert_eq!(m.feature_names, p.feature_names());
        assert_eq!(p.describe().len(), p.input_schema.fields.len());
        assert!(
            !p.input_schema
                .names()
                .any(|n| n == target || drop.contains(&n))
        );
        if mode == PipelineMode::Linear {
            assert!(
                m.data.iter().all(|v| v.is_finite()),
                "{dataset}: linear output has NaN"
            );
        } else {
            assert!(
                m.feature_kinds
                    .iter()
                    .any(|k| matches!(k, FeatureKind::Categorical { .. }))
            );
        }
        let json = serde_json::to_string(&p).expect("ser");
        let back: FittedPipeline = serde_json::from_str(&json).expect("de");
        assert_eq!(
            bits(&back.transform(&frame).expect("ok").data),
            bits(&m.data)
        );
        for i in (0..frame.n_rows()).step_by(997) {
            let one = p.transform(&frame.take(&[i])).expect("ok");
            assert_eq!(bits(&one.data), bits(m.row(i)), "{dataset} row {i}");
        }
    }
}

#[test]
fn adult() {
    check("adult", "income_gt_50k", &[]);
}

#[test]
fn telco_churn() {
    check("telco_churn", "churn", &[]);
}

#[test]
fn titanic() {
    check("titanic", "survived", &["name", "ticket", "cabin"]);
}
