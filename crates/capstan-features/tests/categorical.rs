//! String columns: one-hot with rare/unseen/missing, native and ordinal codes.

mod common;

use capstan_features::{CategoricalEncoding, PipelineMode, PipelineSpec};
use capstan_frame::FeatureKind;
use common::*;

fn colors() -> capstan_frame::Frame {
    frame(vec![(
        "c",
        strs(&[
            Some("red"),
            Some("blue"),
            Some("red"),
            None,
            Some("green"),
            Some("red"),
            Some("blue"),
        ]),
    )])
}

#[test]
fn one_hot_sorted_with_missing_column() {
    let f = colors();
    let p = fit(&PipelineSpec::default(), PipelineMode::Linear, &f, &[]);
    assert_eq!(
        p.feature_names(),
        vec!["c=blue", "c=green", "c=red", "c=__missing__"]
    );
    let m = p.transform(&f).expect("transforms");
    assert_eq!(m.row(0), &[0.0, 0.0, 1.0, 0.0]);
    assert_eq!(m.row(3), &[0.0, 0.0, 0.0, 1.0]);
    assert_eq!(m.row(4), &[0.0, 1.0, 0.0, 0.0]);
    // One-hot columns are not scaled even though scale = true.
    assert!(m.data.iter().all(|&v| v == 0.0 || v == 1.0));
}

#[test]
fn one_hot_unseen_without_rare_slot_is_all_zeros() {
    let p = fit(
        &PipelineSpec::default(),
        PipelineMode::Linear,
        &colors(),
        &[],
    );
    let m = p
        .transform(&frame(vec![("c", strs(&[Some("purple")]))]))
        .expect("ok");
    assert_eq!(m.row(0), &[0.0; 4]);
}

#[test]
fn rare_categories_share_a_slot_and_take_unseen_values() {
    let spec = PipelineSpec {
        rare_min_count: 2,
        ..PipelineSpec::default()
    };
    let p = fit(&spec, PipelineMode::Linear, &colors(), &[]);
    // green (1 occurrence) is rare.
    assert_eq!(
        p.feature_names(),
        vec!["c=blue", "c=red", "c=__rare__", "c=__missing__"]
    );
    let serve = frame(vec![(
        "c",
        strs(&[Some("green"), Some("purple"), Some("blue"), None]),
    )]);
    let m = p.transform(&serve).expect("transforms");
    assert_eq!(m.row(0), &[0.0, 0.0, 1.0, 0.0]);
    assert_eq!(m.row(1), &[0.0, 0.0, 1.0, 0.0]);
    assert_eq!(m.row(2), &[1.0, 0.0, 0.0, 0.0]);
    assert_eq!(m.row(3), &[0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn rare_by_fraction() {
    // 7 rows: blue 2/7, green 1/7, red 3/7; below 0.25 is rare.
    let spec = PipelineSpec {
        rare_min_fraction: 0.25,
        ..PipelineSpec::default()
    };
    let p = fit(&spec, PipelineMode::Linear, &colors(), &[]);
    assert_eq!(
        p.feature_names(),
        vec!["c=blue", "c=red", "c=__rare__", "c=__missing__"]
    );
}

#[test]
fn null_at_serving_without_training_nulls_is_all_zeros() {
    let f = frame(vec![("c", strs(&[Some("a"), Some("b")]))]);
    let p = fit(&PipelineSpec::default(), PipelineMode::Linear, &f, &[]);
    assert_eq!(p.feature_names(), vec!["c=a", "c=b"]);
    let m = p.transform(&frame(vec![("c", strs(&[None]))])).expect("ok");
    assert_eq!(m.row(0), &[0.0, 0.0]);
}

#[test]
fn native_codes_in_tree_mode() {
    let spec = PipelineSpec {
        rare_min_count: 2,
        ..PipelineSpec::default()
    };
    let p = fit(&spec, PipelineMode::Tree, &colors(), &[]);
    assert_eq!(p.feature_names(), vec!["c"]);
    assert_eq!(
        p.feature_kinds(),
        vec![FeatureKind::Categorical { n_categories: 3 }]
    );
    let m = p.transform(&colors()).expect("ok");
    let c = column(&m, "c");
    // blue 0, red 1, rare (green) 2, null NaN.
    assert_eq!((c[0], c[1], c[4], c[6]), (1.0, 0.0, 2.0, 0.0));
    assert!(c[3].is_nan());
    let unseen = p
        .transform(&frame(vec![("c", strs(&[Some("purple")]))]))
        .expect("ok");
    assert_eq!(
        unseen.data,
        vec![2.0],
        "unseen goes to the rare slot when there is one"
    );

    let plain = fit(&PipelineSpec::default(), PipelineMode::Tree, &colors(), &[]);
    let unseen = plain
        .transform(&frame(vec![("c", strs(&[Some("purple")]))]))
        .expect("ok");
    assert!(unseen.data[0].is_nan(), "unseen is NaN without a rare slot");
}

#[test]
fn ordinal_codes_are_numeric_and_minus_one_in_linear_mode() {
    let spec = PipelineSpec {
        categorical: CategoricalEncoding::Ordinal,
        ..PipelineSpec::default()
    };
    let p = fit(&spec, PipelineMode::Linear, &colors(), &[]);
    assert_eq!(p.feature_kinds(), vec![FeatureKind::Numeric]);
    let m = p.transform(&colors()).expect("ok");
    assert_eq!(column(&m, "c"), vec![2.0, 0.0, 2.0, -1.0, 1.0, 2.0, 0.0]);
    let t = fit(&spec, PipelineMode::Tree, &colors(), &[]);
    let m = t.transform(&colors()).expect("ok");
    assert!(column(&m, "c")[3].is_nan());
}

#[test]
fn explicit_one_hot_in_tree_mode() {
    let spec = PipelineSpec {
        categorical: CategoricalEncoding::OneHot,
        ..PipelineSpec::default()
    };
    let p = fit(&spec, PipelineMode::Tree, &colors(), &[]);
    assert_eq!(p.n_features(), 4);
    assert_eq!(p.feature_kinds(), vec![FeatureKind::Numeric; 4]);
}

#[test]
fn colliding_feature_names_are_refused() {
    let f = frame(vec![
        ("c", strs(&[Some("x"), Some("y")])),
        ("c=x", ints(&[Some(1), Some(2)])),
    ]);
    let err = capstan_features::FittedPipeline::fit(
        &PipelineSpec::default(),
        PipelineMode::Linear,
        &f,
        &[],
    )
    .expect_err("collision");
    assert!(err.to_string().contains("'c=x'"), "{err}");
}
