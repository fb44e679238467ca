//! Pipeline-level behaviour: input selection, transform errors, serde round-trip,
//! determinism, describe.

mod common;

use capstan_features::{FeatureError, FittedPipeline, PipelineMode, PipelineSpec};
use capstan_frame::{DataType, Frame};
use common::*;

fn mixed() -> Frame {
    frame(vec![
        ("id", ints(&[Some(1), Some(2), Some(3), Some(4), Some(5)])),
        (
            "age",
            floats(&[Some(22.5), None, Some(41.0), Some(35.25), Some(19.0)]),
        ),
        (
            "city",
            strs(&[
                Some("paris"),
                Some("oslo"),
                None,
                Some("paris"),
                Some("rome"),
            ]),
        ),
        (
            "vip",
            bools(&[Some(true), Some(false), Some(false), None, Some(true)]),
        ),
        (
            "seen",
            datetimes(&[
                Some(0),
                Some(1_700_000_000_000_000),
                None,
                Some(-5),
                Some(9),
            ]),
        ),
        ("y", ints(&[Some(0), Some(1), Some(0), Some(1), Some(1)])),
    ])
}

fn spec_drop_id() -> PipelineSpec {
    PipelineSpec {
        drop: vec!["id".into()],
        missing_indicator: true,
        rare_min_count: 2,
        ..PipelineSpec::default()
    }
}

#[test]
fn inputs_exclude_target_and_drop_in_frame_order() {
    let p = fit(&spec_drop_id(), PipelineMode::Linear, &mixed(), &["y"]);
    let fields = &p.input_schema.fields;
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["age", "city", "vip", "seen"]);
    assert_eq!(fields[0].dtype, DataType::Float);
    assert!(fields[0].nullable);
    assert_eq!(
        p.feature_names(),
        [
            "age",
            "age__missing",
            "city=paris",
            "city=__rare__",
            "city=__missing__",
            "vip",
            "vip__missing",
            "seen__year",
            "seen__month",
            "seen__day",
            "seen__day_of_week",
            "seen__hour",
            "seen__missing",
        ]
    );
    assert_eq!(p.n_features(), 13);
}

#[test]
fn include_selects_exactly_and_in_frame_order() {
    let spec = PipelineSpec {
        include: Some(vec!["vip".into(), "age".into()]),
        ..PipelineSpec::default()
    };
    let p = fit(&spec, PipelineMode::Tree, &mixed(), &["y"]);
    assert_eq!(p.input_schema.names().collect::<Vec<_>>(), ["age", "vip"]);
    // Only the used columns are required at transform.
    let serve = frame(vec![
        ("vip", bools(&[Some(true)])),
        ("age", ints(&[Some(30)])),
    ]);
    assert_eq!(p.transform(&serve).expect("ok").data, vec![30.0, 1.0]);
}

#[test]
fn fit_errors_name_the_column() {
    let f = mixed();
    let missing = PipelineSpec {
        include: Some(vec!["age".into(), "salary".into()]),
        ..PipelineSpec::default()
    };
    let err =
        FittedPipeline::fit(&missing, PipelineMode::Linear, &f, &["y"]).expect_err("no salary");
    assert!(
        matches!(&err, FeatureError::UnknownColumn { column, .. } if column == "salary"),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("include names column 'salary'"),
        "{err}"
    );

    let typo = PipelineSpec {
        drop: vec!["idd".into()],
        ..PipelineSpec::default()
    };
    let err = FittedPipeline::fit(&typo, PipelineMode::Linear, &f, &["y"]).expect_err("typo");
    assert!(err.to_string().contains("'idd'"), "{err}");

    let target = PipelineSpec {
        include: Some(vec!["y".into()]),
        ..PipelineSpec::default()
    };
    assert!(FittedPipeline::fit(&target, PipelineMode::Linear, &f, &["y"]).is_err());

    let only_target = frame(vec![("y", ints(&[Some(1)]))]);
    let err = FittedPipeline::fit(
        &PipelineSpec::default(),
        PipelineMode::Tree,
        &only_target,
        &["y"],
    )
    .expect_err("no inputs");
    assert!(err.to_string().contains("no input columns"), "{err}");

    let empty = frame(vec![("x", ints(&[]))]);
    assert!(
        FittedPipeline::fit(&PipelineSpec::default(), PipelineMode::Tree, &empty, &[]).is_err()
    );

    let bad_fraction = PipelineSpec {
        rare_min_fraction: 1.5,
        ..PipelineSpec::default()
    };
    let err = FittedPipeline::fit(&bad_fraction, PipelineMode::Tree, &f, &["y"]).expect_err("bad");
    assert!(err.to_string().contains("rare_min_fraction"), "{err}");
}

#[test]
fn transform_missing_column_and_wrong_type() {
    let p = fit(&spec_drop_id(), PipelineMode::Linear, &mixed(), &["y"]);
    let no_city = mixed().drop_columns(&["city"]);
    let err = p.transform(&no_city).expect_err("missing");
    assert!(
        matches!(&err, FeatureError::MissingColumn(c) if c == "city"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "input is missing column 'city' that the model was trained with"
    );

    let base = mixed();
    let mut cols: Vec<(&str, capstan_frame::Column)> = vec![];
    for (name, col) in base.schema().names().zip(base.columns()) {
        if name != "age" {
            cols.push((name, col.clone()));
        }
    }
    cols.push(("age", strs(&[Some("x"); 5])));
    let err = p.transform(&frame(cols)).expect_err("wrong type");
    assert_eq!(
        err.to_string(),
        "column 'age': expected a number (integer, float or boolean), found string"
    );

    let city_as_int = frame(vec![
        ("age", ints(&[Some(1)])),
        ("city", ints(&[Some(1)])),
        ("vip", bools(&[Some(true)])),
        ("seen", dates(&[Some(1)])),
    ]);
    let err = p.transform(&city_as_int).expect_err("wrong type");
    assert_eq!(
        err.to_string(),
        "column 'city': expected string, found integer"
    );
}

#[test]
fn extra_columns_and_column_order_do_not_matter() {
    let p = fit(&spec_drop_id(), PipelineMode::Linear, &mixed(), &["y"]);
    let base = p.transform(&mixed()).expect("ok");
    let f = mixed();
    let mut cols: Vec<(String, capstan_frame::Column)> = f
        .schema()
        .names()
        .map(str::to_string)
        .zip(f.columns().iter().cloned())
        .collect();
    cols.reverse();
    cols.push(("extra".into(), strs(&[Some("z"); 5])));
    let shuffled = Frame::from_columns(cols).expect("frame");
    let m = p.transform(&shuffled).expect("ok");
    assert_eq!(bits(&m.data), bits(&base.data));
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn serde_round_trip_is_exact() {
    for mode in [PipelineMode::Linear, PipelineMode::Tree] {
        let p = fit(&spec_drop_id(), mode, &mixed(), &["y"]);
        let json = serde_json::to_string(&p).expect("serializes");
        let back: FittedPipeline = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, p);
        assert_eq!(serde_json::to_string(&back).expect("serializes"), json);
        let a = p.transform(&mixed()).expect("ok");
        let b = back.transform(&mixed()).expect("ok");
        assert_eq!(bits(&a.data), bits(&b.data));
        assert_eq!(a.feature_names, b.feature_names);
        assert_eq!(a.feature_kinds, b.feature_kinds);
    }
}

#[test]
fn serde_round_trip_of_awkward_floats() {
    // Statistics with long mantissas must survive JSON bit for bit.
    let vals: Vec<Option<f64>> = (1..200)
        .map(|i| Some((i as f64).sqrt() * 1e-3 + 1.0 / (i as f64 * 7.0)))
        .collect();
    let f = frame(vec![("x", floats(&vals))]);
    let p = fit(&PipelineSpec::default(), PipelineMode::Linear, &f, &[]);
    let back: FittedPipeline =
        serde_json::from_str(&serde_json::to_string(&p).expect("ser")).expect("de");
    assert_eq!(back, p);
    let a = p.transform(&f).expect("ok");
    assert_eq!(bits(&a.data), bits(&back.transform(&f).expect("ok").data));
}

#[test]
fn tampered_state_is_refused_on_load() {
    let p = fit(&spec_drop_id(), PipelineMode::Linear, &mixed(), &["y"]);
    let json = serde_json::to_string(&p).expect("ser");
    let mut v: serde_json::Value = serde_json::from_str(&json).expect("value");
    v["columns"][0]["linear"]["scaler"]["scale"] = serde_json::json!(0.0);
    let err = serde_json::from_value::<FittedPipeline>(v).expect_err("zero scale");
    assert!(err.to_string().contains("feature 'age'"), "{err}");
    let mut v: serde_json::Value = serde_json::from_str(&json).expect("value");
    v["columns"][1]["categories"] = serde_json::json!(["b", "a"]);
    let err = serde_json::from_value::<FittedPipeline>(v).expect_err("unsorted");
    assert!(err.to_string().contains("sorted"), "{err}");
    let mut v: serde_json::Value = serde_json::from_str(&json).expect("value");
    v["columns"].as_array_mut().expect("array").pop();
    assert!(serde_json::from_value::<FittedPipeline>(v).is_err());
}

#[test]
fn deterministic_across_fits_and_row_subsets() {
    let f = mixed();
    let a = fit(&spec_drop_id(), PipelineMode::Linear, &f, &["y"]);
    let b = fit(&spec_drop_id(), PipelineMode::Linear, &f, &["y"]);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).expect("ser"),
        serde_json::to_string(&b).expect("ser")
    );
    let full = a.transform(&f).expect("ok");
    // Row by row (serving) equals batch, bit for bit.
    for i in 0..f.n_rows() {
        let one = a.transform(&f.take(&[i])).expect("ok");
        assert_eq!(bits(&one.data), bits(full.row(i)));
    }
}

#[test]
fn large_frame_crosses_blocks_consistently() {
    let n = 5000;
    let x: Vec<Option<f64>> = (0..n)
        .map(|i| {
            if i % 7 == 0 {
                None
            } else {
                Some(i as f64 * 0.5)
            }
        })
        .collect();
    let c: Vec<Option<&str>> = (0..n).map(|i| Some(["a", "b", "c"][i % 3])).collect();
    let f = frame(vec![("x", floats(&x)), ("c", strs(&c))]);
    let p = fit(&PipelineSpec::default(), PipelineMode::Linear, &f, &[]);
    let m = p.transform(&f).expect("ok");
    for i in [0, 1023, 1024, 2047, 4999] {
        let one = p.transform(&f.take(&[i])).expect("ok");
        assert_eq!(bits(&one.data), bits(m.row(i)), "row {i}");
    }
}

#[test]
fn describe_summarizes_each_column() {
    let p = fit(&spec_drop_id(), PipelineMode::Linear, &mixed(), &["y"]);
    let d = p.describe();
    assert_eq!(d.len(), 4);
    assert_eq!(
        d[0],
        "age: numeric (float), nulls -> median 28.875, scaled (mean 29.325, std 8.059777), \
         missing indicator"
    );
    assert_eq!(
        d[1],
        "city: categorical, one-hot, 1 categories + rare slot, nulls seen"
    );
    assert!(
        d[3].starts_with("seen: datetime -> year, month, day, day_of_week, hour"),
        "{}",
        d[3]
    );
    let t = fit(&spec_drop_id(), PipelineMode::Tree, &mixed(), &["y"]);
    assert_eq!(t.describe()[0], "age: numeric (float), nulls kept as NaN");
}

#[test]
fn zero_rows_transform_to_an_empty_matrix() {
    let p = fit(&spec_drop_id(), PipelineMode::Linear, &mixed(), &["y"]);
    let m = p.transform(&mixed().take(&[])).expect("ok");
    assert_eq!((m.n_rows, m.n_cols, m.data.len()), (0, 13, 0));
}
