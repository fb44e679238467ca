//! Bundle values: round trips, hashes, atomic files, prediction.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use capstan_bundle::{Bundle, BundleError};
use capstan_frame::Frame;
use common::TempDir;
use sha2::{Digest, Sha256};

fn coefficient_bits(b: &Bundle) -> Vec<u64> {
    match &b.model {
        capstan_learn::Model::Linear(m) => m.coefficients.iter().map(|c| c.to_bits()).collect(),
        other => panic!("expected a linear model, found {other:?}"),
    }
}

#[test]
fn bytes_round_trip_exactly() {
    let bundle = common::bundle();
    let bytes = bundle.to_bytes().unwrap();
    let back = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(back, bundle);
    // PartialEq treats -0.0 == 0.0; the bits must match too.
    assert_eq!(coefficient_bits(&back), coefficient_bits(&bundle));
    assert_eq!(back.to_bytes().unwrap(), bytes);
}

#[test]
fn serialization_is_deterministic() {
    let a = common::bundle().to_bytes().unwrap();
    let b = common::bundle().to_bytes().unwrap();
    assert_eq!(a, b);
}

#[test]
fn file_round_trip_and_content_hash() {
    let dir = TempDir::new("file");
    let path = dir.0.join("model.capstan");
    let bundle = common::bundle();
    bundle.write(&path).unwrap();
    assert_eq!(dir.entries(), vec!["model.capstan"]);
    assert_eq!(Bundle::read(&path).unwrap(), bundle);
    let file_hash = Sha256::digest(std::fs::read(&path).unwrap());
    assert_eq!(
        bundle.content_sha256().unwrap(),
        capstan_io::hex(&file_hash)
    );
    // Overwriting an existing bundle is fine and leaves no temp file.
    bundle.write(&path).unwrap();
    assert_eq!(dir.entries(), vec!["model.capstan"]);
}

#[test]
fn model_hash_ignores_timestamps_but_not_the_model() {
    let a = common::bundle();
    let mut b = a.clone();
    b.manifest.created_at = "2030-01-01T00:00:00Z".to_string();
    b.manifest.lineage.finished_at = "2030-01-01T00:00:00Z".to_string();
    assert_ne!(a.content_sha256().unwrap(), b.content_sha256().unwrap());
    assert_eq!(a.model_sha256().unwrap(), b.model_sha256().unwrap());
    b.model = common::linear_model(5);
    assert_ne!(a.model_sha256().unwrap(), b.model_sha256().unwrap());
}

#[test]
fn refitting_on_the_same_data_gives_the_same_model_hash() {
    let a = common::bundle();
    let mut b = common::bundle();
    b.manifest.created_at = "2031-01-01T00:00:00Z".to_string();
    assert_eq!(a.model_sha256().unwrap(), b.model_sha256().unwrap());
}

#[test]
fn read_errors_name_the_file() {
    let dir = TempDir::new("names");
    let missing = dir.0.join("nope.capstan");
    let e = Bundle::read(&missing).unwrap_err();
    assert!(matches!(e, BundleError::Io { .. }), "{e}");
    assert!(e.to_string().contains("nope.capstan"), "{e}");

    let not_bundle = dir.0.join("data.csv");
    std::fs::write(&not_bundle, "a,b\n1,2\n").unwrap();
    let e = Bundle::read(&not_bundle).unwrap_err();
    assert_eq!(
        e.to_string().split(" (").next().unwrap(),
        format!("{} is not a capstan model bundle", not_bundle.display())
    );

    let empty = dir.0.join("empty.capstan");
    std::fs::write(&empty, b"").unwrap();
    let e = Bundle::read(&empty).unwrap_err();
    assert!(matches!(e, BundleError::Empty { .. }), "{e}");
    assert!(e.to_string().contains("empty.capstan"), "{e}");
}

#[test]
fn failed_write_leaves_no_temp_file() {
    let dir = TempDir::new("atomic");
    // Renaming a file onto a directory fails after the temp file was written.
    let target = dir.0.join("model.capstan");
    std::fs::create_dir(&target).unwrap();
    let e = common::bundle().write(&target).unwrap_err();
    assert!(matches!(e, BundleError::Io { .. }), "{e}");
    assert!(e.to_string().contains("model.capstan"), "{e}");
    assert_eq!(dir.entries(), vec!["model.capstan"]);
    assert!(target.is_dir());

    let e = common::bundle()
        .write(dir.0.join("no/such/dir/m.capstan"))
        .unwrap_err();
    assert!(e.to_string().contains("m.capstan"), "{e}");
    assert_eq!(dir.entries(), vec!["model.capstan"]);
}

fn with_nan_coefficient(mut b: Bundle) -> Bundle {
    if let capstan_learn::Model::Linear(m) = &mut b.model {
        m.coefficients[0] = f64::NAN;
    }
    b
}

#[test]
fn failed_write_keeps_the_old_file() {
    let dir = TempDir::new("keep");
    let path = dir.0.join("model.capstan");
    let good = common::bundle();
    good.write(&path).unwrap();
    let bad = with_nan_coefficient(good.clone());
    assert!(matches!(
        bad.write(&path),
        Err(BundleError::NotRoundTrip(_))
    ));
    assert_eq!(Bundle::read(&path).unwrap(), good);
    assert_eq!(dir.entries(), vec!["model.capstan"]);
}

#[test]
fn non_finite_model_numbers_are_refused_not_silently_lost() {
    let e = with_nan_coefficient(common::bundle())
        .to_bytes()
        .unwrap_err();
    assert!(e.to_string().contains("non-finite"), "{e}");
}

#[test]
fn non_finite_metrics_round_trip() {
    let mut b = common::bundle();
    let test = b.manifest.metrics.get_mut("test").unwrap();
    test.insert("auc".into(), f64::NAN);
    test.insert("ratio".into(), f64::INFINITY);
    test.insert("neg".into(), f64::NEG_INFINITY);
    test.insert("odd_nan".into(), f64::from_bits(0xfff8_0000_0000_0001));
    let back = Bundle::from_bytes(&b.to_bytes().unwrap()).unwrap();
    let test = &back.manifest.metrics["test"];
    assert!(test["auc"].is_nan() && test["odd_nan"].is_nan());
    assert_eq!(test["ratio"], f64::INFINITY);
    assert_eq!(test["neg"], f64::NEG_INFINITY);
    assert_eq!(test["accuracy"], 0.97);
    // Unknown strings are an error naming the metric.
    let mut json = serde_json::to_value(&b).unwrap();
    json["manifest"]["metrics"]["test"]["auc"] = "high".into();
    let bytes = capstan_bundle::envelope::encode(&serde_json::to_vec(&json).unwrap());
    let e = Bundle::from_bytes(&bytes).unwrap_err();
    assert!(e.to_string().contains("test/auc"), "{e}");
}

#[test]
fn inconsistent_bundle_is_not_written() {
    let mut b = common::bundle();
    b.manifest.target.task = capstan_learn::Task::Regression;
    let e = b.to_bytes().unwrap_err();
    assert!(matches!(e, BundleError::Inconsistent { .. }), "{e}");
}

#[test]
fn wrong_manifest_version_is_not_written() {
    let mut b = common::bundle();
    b.manifest.format_version = 2;
    assert!(matches!(
        b.to_bytes(),
        Err(BundleError::VersionMismatch { .. })
    ));
}

#[test]
fn predict_on_a_frame_without_the_columns_fails_cleanly() {
    let empty = Frame::from_columns(Vec::new()).unwrap();
    let e = common::bundle().predict(&empty).unwrap_err();
    assert!(matches!(e, BundleError::Feature(_)), "{e}");
}

#[test]
fn predict_matches_pipeline_then_model() {
    let Some(frame) = common::penguins() else {
        eprintln!("skipped: no shared/data in this checkout");
        return;
    };
    let mut bundle = common::bundle();
    let Ok(x) = bundle.pipeline.transform(&frame) else {
        eprintln!("skipped: the feature pipeline is not implemented yet");
        return;
    };
    bundle.model = capstan_learn::Model::Linear(capstan_learn::linear::LinearModel {
        task: capstan_learn::Task::Multiclass { n_classes: 3 },
        coefficients: (0..3 * x.n_cols)
            .map(|i| (i as f64 - 7.0) * 0.013)
            .collect(),
        intercepts: vec![0.1, -0.2, 0.3],
        n_features: x.n_cols,
    });
    let bundle = Bundle::from_bytes(&bundle.to_bytes().unwrap()).unwrap();
    let got = bundle.predict(&frame).unwrap();
    assert_eq!(got.n_rows, frame.n_rows());
    let want = bundle.model.predict(&x);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&got.values), bits(&want.values));
    assert!(got.values.iter().all(|v| v.is_finite()));
    // A frame missing a training column names that column.
    let fewer = frame.drop_columns(&["island"]);
    let e = bundle.predict(&fewer).unwrap_err();
    assert!(e.to_string().contains("island"), "{e}");
}

/// Every frozen fixture written by an earlier capstan must keep loading.
#[test]
fn frozen_fixtures_still_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "capstan") {
            let bundle = Bundle::read(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(bundle.manifest.format_version <= capstan_bundle::FORMAT_VERSION);
            n += 1;
        }
    }
    assert!(
        n >= 2,
        "the frozen fixtures are missing from {}",
        dir.display()
    );
}

/// Frozen bundles keep predicting exactly what they predicted when they were written.
#[test]
fn frozen_fixtures_predict_the_same_values() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (bundle_file, input_file, expected_file) in [
        (
            "telco_gbdt_v1.capstan",
            "telco_v1.input.csv",
            "telco_gbdt_v1.predictions.csv",
        ),
        (
            "telco_linear_v1.capstan",
            "telco_v1.input.csv",
            "telco_linear_v1.predictions.csv",
        ),
    ] {
        let bundle = Bundle::read(dir.join(bundle_file)).unwrap();
        let opts = capstan_frame::ReadOptions {
            schema: Some(bundle.manifest.input_schema.clone()),
            ..Default::default()
        };
        let input = capstan_frame::read(&dir.join(input_file), &opts).unwrap();
        let expected = capstan_frame::read(&dir.join(expected_file), &Default::default()).unwrap();
        let got = bundle.predict(&input).unwrap();
        let want = expected.column("proba_1").unwrap();
        assert_eq!(got.n_rows, expected.n_rows());
        for i in 0..got.n_rows {
            let w = want.f64_at(i).unwrap();
            assert_eq!(
                got.values[i].to_bits(),
                w.to_bits(),
                "{bundle_file} row {i}"
            );
        }
    }
}
