//! Numeric columns: imputation, missing indicator, scaling, tree pass-through.

mod common;

use capstan_features::{Imputation, PipelineMode, PipelineSpec};
use capstan_frame::FeatureKind;
use common::*;

fn no_scale() -> PipelineSpec {
    PipelineSpec {
        scale: false,
        ..PipelineSpec::default()
    }
}

#[test]
fn median_imputation_even_count_averages_middle_values() {
    let f = frame(vec![(
        "x",
        floats(&[Some(1.0), None, Some(4.0), Some(10.0), Some(2.0)]),
    )]);
    let m = fit(&no_scale(), PipelineMode::Linear, &f, &[])
        .transform(&f)
        .expect("transforms");
    // Observed 1, 2, 4, 10: median (2 + 4) / 2 = 3.
    assert_eq!(column(&m, "x"), vec![1.0, 3.0, 4.0, 10.0, 2.0]);
    assert_eq!(m.feature_names, vec!["x"]);
}

#[test]
fn mean_and_constant_imputation() {
    let f = frame(vec![("x", ints(&[Some(1), None, Some(2), Some(6)]))]);
    let mean = PipelineSpec {
        impute: Imputation::Mean,
        ..no_scale()
    };
    let m = fit(&mean, PipelineMode::Linear, &f, &[])
        .transform(&f)
        .expect("transforms");
    assert_eq!(column(&m, "x"), vec![1.0, 3.0, 2.0, 6.0]);
    let constant = PipelineSpec {
        impute: Imputation::Constant,
        impute_value: -99.5,
        ..no_scale()
    };
    let m = fit(&constant, PipelineMode::Linear, &f, &[])
        .transform(&f)
        .expect("transforms");
    assert_eq!(column(&m, "x"), vec![1.0, -99.5, 2.0, 6.0]);
}

#[test]
fn float_nan_counts_as_missing() {
    let f = frame(vec![("x", floats(&[Some(f64::NAN), Some(1.0), Some(3.0)]))]);
    let spec = PipelineSpec {
        missing_indicator: true,
        ..no_scale()
    };
    let m = fit(&spec, PipelineMode::Linear, &f, &[])
        .transform(&f)
        .expect("transforms");
    assert_eq!(column(&m, "x"), vec![2.0, 1.0, 3.0]);
    assert_eq!(column(&m, "x__missing"), vec![1.0, 0.0, 0.0]);
}

#[test]
fn missing_indicator_only_for_columns_with_training_nulls() {
    let f = frame(vec![
        ("a", floats(&[Some(1.0), None, Some(3.0)])),
        ("b", ints(&[Some(1), Some(2), Some(3)])),
    ]);
    let spec = PipelineSpec {
        missing_indicator: true,
        ..no_scale()
    };
    let p = fit(&spec, PipelineMode::Linear, &f, &[]);
    assert_eq!(p.feature_names(), vec!["a", "a__missing", "b"]);
    // A null at serving in 'b' is imputed but gets no indicator.
    let serve = frame(vec![("a", floats(&[None])), ("b", ints(&[None]))]);
    let m = p.transform(&serve).expect("transforms");
    assert_eq!(m.row(0), &[2.0, 1.0, 2.0]);
}

#[test]
fn standard_scaling_uses_population_std_of_imputed_column() {
    let f = frame(vec![(
        "x",
        floats(&[Some(1.0), Some(2.0), None, Some(5.0)]),
    )]);
    let p = fit(&PipelineSpec::default(), PipelineMode::Linear, &f, &[]);
    let m = p.transform(&f).expect("transforms");
    // Imputed column 1, 2, 2, 5: mean 2.5, population variance 2.25, std 1.5.
    let want: Vec<f64> = [1.0, 2.0, 2.0, 5.0]
        .iter()
        .map(|x| (x - 2.5) / 1.5)
        .collect();
    assert_eq!(column(&m, "x"), want);
}

#[test]
fn constant_column_gets_scale_one() {
    let f = frame(vec![("x", floats(&[Some(0.1); 10]))]);
    let p = fit(&PipelineSpec::default(), PipelineMode::Linear, &f, &[]);
    let m = p.transform(&f).expect("transforms");
    assert!(column(&m, "x").iter().all(|v| v.abs() < 1e-15));
}

#[test]
fn all_null_column_fills_zero() {
    let f = frame(vec![
        ("x", floats(&[None, None])),
        ("y", ints(&[Some(1), Some(2)])),
    ]);
    let m = fit(&PipelineSpec::default(), PipelineMode::Linear, &f, &[])
        .transform(&f)
        .expect("ok");
    assert_eq!(column(&m, "x"), vec![0.0, 0.0]);
}

#[test]
fn tree_mode_passes_values_and_nan() {
    let f = frame(vec![
        ("x", ints(&[Some(3), None, Some(-7)])),
        ("b", bools(&[Some(true), Some(false), None])),
    ]);
    let p = fit(&PipelineSpec::default(), PipelineMode::Tree, &f, &[]);
    let m = p.transform(&f).expect("transforms");
    let x = column(&m, "x");
    assert_eq!((x[0], x[2]), (3.0, -7.0));
    assert!(x[1].is_nan());
    let b = column(&m, "b");
    assert_eq!((b[0], b[1]), (1.0, 0.0));
    assert!(b[2].is_nan());
    assert_eq!(m.feature_kinds, vec![FeatureKind::Numeric; 2]);
}

#[test]
fn numeric_column_accepts_other_numeric_types_at_transform() {
    let f = frame(vec![("x", ints(&[Some(1), Some(2), Some(3)]))]);
    let p = fit(&no_scale(), PipelineMode::Linear, &f, &[]);
    let as_float = frame(vec![("x", floats(&[Some(2.5)]))]);
    assert_eq!(p.transform(&as_float).expect("float ok").data, vec![2.5]);
    let as_bool = frame(vec![("x", bools(&[Some(true)]))]);
    assert_eq!(p.transform(&as_bool).expect("bool ok").data, vec![1.0]);
}

#[test]
fn infinity_is_refused_in_linear_mode_only() {
    let f = frame(vec![("x", floats(&[Some(1.0), Some(f64::INFINITY)]))]);
    let err = capstan_features::FittedPipeline::fit(
        &PipelineSpec::default(),
        PipelineMode::Linear,
        &f,
        &[],
    )
    .expect_err("inf refused");
    let msg = err.to_string();
    assert!(
        msg.contains("'x'") && msg.contains("finite") && msg.contains("inf"),
        "{msg}"
    );
    let m = fit(&PipelineSpec::default(), PipelineMode::Tree, &f, &[])
        .transform(&f)
        .expect("ok");
    assert_eq!(m.data, vec![1.0, f64::INFINITY]);
}
