//! Date and datetime columns: calendar parts, tree NaN, linear imputation and scaling.

mod common;

use capstan_features::{DatePart, PipelineMode, PipelineSpec};
use common::*;

const US_PER_MIN: i64 = 60_000_000;

fn all_parts() -> PipelineSpec {
    PipelineSpec {
        date_parts: vec![
            DatePart::Year,
            DatePart::Month,
            DatePart::Day,
            DatePart::DayOfWeek,
            DatePart::DayOfYear,
            DatePart::Hour,
            DatePart::Minute,
        ],
        ..PipelineSpec::default()
    }
}

#[test]
fn datetime_parts_in_tree_mode() {
    // 2024-03-01 (Friday, leap year: day 61) 13:45; 1969-12-31 (Wednesday) 23:59.
    let t1 = 19_783 * 1440 * US_PER_MIN + (13 * 60 + 45) * US_PER_MIN;
    let f = frame(vec![(
        "ts",
        datetimes(&[Some(t1), Some(-US_PER_MIN), None]),
    )]);
    let p = fit(&all_parts(), PipelineMode::Tree, &f, &[]);
    let names = [
        "ts__year",
        "ts__month",
        "ts__day",
        "ts__day_of_week",
        "ts__day_of_year",
        "ts__hour",
        "ts__minute",
    ];
    assert_eq!(p.feature_names(), names);
    let m = p.transform(&f).expect("transforms");
    assert_eq!(m.row(0), &[2024.0, 3.0, 1.0, 4.0, 61.0, 13.0, 45.0]);
    assert_eq!(m.row(1), &[1969.0, 12.0, 31.0, 2.0, 365.0, 23.0, 59.0]);
    assert!(m.row(2).iter().all(|v| v.is_nan()));
}

#[test]
fn date_columns_have_no_time_parts() {
    let f = frame(vec![("d", dates(&[Some(0), Some(19_783)]))]);
    let p = fit(&all_parts(), PipelineMode::Tree, &f, &[]);
    assert_eq!(
        p.feature_names(),
        [
            "d__year",
            "d__month",
            "d__day",
            "d__day_of_week",
            "d__day_of_year"
        ]
    );
    let m = p.transform(&f).expect("ok");
    assert_eq!(m.row(0), &[1970.0, 1.0, 1.0, 3.0, 1.0]);
    // A datetime at serving is accepted for a date column.
    let dt = frame(vec![(
        "d",
        datetimes(&[Some(19_783 * 1440 * US_PER_MIN + 5)]),
    )]);
    assert_eq!(
        p.transform(&dt).expect("ok").row(0),
        &[2024.0, 3.0, 1.0, 4.0, 61.0]
    );
}

#[test]
fn linear_mode_imputes_and_scales_each_part() {
    let spec = PipelineSpec {
        date_parts: vec![DatePart::Year, DatePart::Month],
        missing_indicator: true,
        scale: false,
        ..PipelineSpec::default()
    };
    // 1970-01-01, 1970-03-01, null, 1971-01-01.
    let f = frame(vec![("d", dates(&[Some(0), Some(59), None, Some(365)]))]);
    let p = fit(&spec, PipelineMode::Linear, &f, &[]);
    assert_eq!(p.feature_names(), ["d__year", "d__month", "d__missing"]);
    let m = p.transform(&f).expect("ok");
    assert_eq!(column(&m, "d__year"), vec![1970.0, 1970.0, 1970.0, 1971.0]);
    assert_eq!(column(&m, "d__month"), vec![1.0, 3.0, 1.0, 1.0]);
    assert_eq!(column(&m, "d__missing"), vec![0.0, 0.0, 1.0, 0.0]);

    let scaled = fit(
        &PipelineSpec {
            scale: true,
            ..spec
        },
        PipelineMode::Linear,
        &f,
        &[],
    );
    let m = scaled.transform(&f).expect("ok");
    let year = column(&m, "d__year");
    let mean = year.iter().sum::<f64>() / 4.0;
    assert!(mean.abs() < 1e-12, "scaled year has mean {mean}");
    assert_eq!(
        column(&m, "d__missing"),
        vec![0.0, 0.0, 1.0, 0.0],
        "indicator not scaled"
    );
}

#[test]
fn date_column_without_parts_is_not_an_input() {
    let spec = PipelineSpec {
        date_parts: vec![DatePart::Hour],
        ..PipelineSpec::default()
    };
    let f = frame(vec![("d", dates(&[Some(0)])), ("x", ints(&[Some(1)]))]);
    let p = fit(&spec, PipelineMode::Tree, &f, &[]);
    assert_eq!(p.input_schema.names().collect::<Vec<_>>(), ["x"]);
}

#[test]
fn date_column_rejects_numbers() {
    let f = frame(vec![("d", dates(&[Some(0)]))]);
    let p = fit(&PipelineSpec::default(), PipelineMode::Tree, &f, &[]);
    let err = p
        .transform(&frame(vec![("d", ints(&[Some(0)]))]))
        .expect_err("wrong type");
    assert_eq!(
        err.to_string(),
        "column 'd': expected date or datetime, found integer"
    );
}
