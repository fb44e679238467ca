//! Profiles of edge cases: empty tables, all-missing and constant columns, single values,
//! NaN in floats, a leaking feature, an unknown target, thread-count independence, and an
//! HTML report that escapes user data.

use std::path::Path;

use arrow_array::{BooleanArray, Float64Array, Int64Array, StringArray};
use capstan_frame::{Column, Frame, ReadOptions};
use capstan_quality::profile::{ProfileOptions, html, profile};

fn frame(columns: Vec<(&str, Column)>) -> Frame {
    Frame::from_columns(
        columns
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect(),
    )
    .expect("frame")
}

fn opts(target: Option<&str>) -> ProfileOptions {
    ProfileOptions {
        target: target.map(str::to_string),
        ..ProfileOptions::default()
    }
}

#[test]
fn empty_tables_profile_to_nothing() {
    let none = frame(vec![]);
    let p = profile(&none, "none", &opts(None)).expect("profile");
    assert_eq!((p.n_rows, p.n_cols, p.duplicate_rows), (0, 0, 0));
    assert!(p.findings.is_empty());

    let no_rows = frame(vec![
        ("x", Column::Float(Float64Array::from(Vec::<f64>::new()))),
        ("s", Column::String(StringArray::from(Vec::<&str>::new()))),
    ]);
    let p = profile(&no_rows, "no_rows", &opts(None)).expect("profile");
    assert_eq!(p.n_rows, 0);
    let x = p.column("x").expect("x");
    assert_eq!((x.count, x.missing, x.distinct), (0, 0, 0));
    assert!(x.numeric.is_none());
    assert_eq!(p.correlations.pearson, vec![vec![None]]);
    assert!(html::render(&p).contains("</html>"));
}

#[test]
fn missing_nan_single_and_constant_columns() {
    let f = frame(vec![
        (
            "empty",
            Column::Integer(Int64Array::from(vec![None::<i64>; 4])),
        ),
        (
            "nan",
            Column::Float(Float64Array::from(vec![
                Some(1.0),
                Some(f64::NAN),
                None,
                Some(3.0),
            ])),
        ),
        (
            "single",
            Column::Float(Float64Array::from(vec![None, None, Some(2.5), None])),
        ),
        ("constant", Column::String(StringArray::from(vec!["a"; 4]))),
    ]);
    let p = profile(&f, "edges", &opts(None)).expect("profile");

    let empty = p.column("empty").expect("empty");
    assert_eq!((empty.count, empty.missing, empty.distinct), (0, 4, 0));
    assert!(empty.numeric.is_none());

    let nan = p.column("nan").expect("nan");
    assert_eq!((nan.count, nan.missing, nan.distinct), (2, 2, 2));
    let s = nan.numeric.as_ref().expect("stats");
    assert_eq!((s.mean, s.min, s.q50, s.max), (2.0, 1.0, 2.0, 3.0));
    assert_eq!(s.std, Some(2f64.sqrt()));
    assert_eq!(s.histogram.counts.iter().sum::<u64>(), 2);

    let single = p.column("single").expect("single");
    let s = single.numeric.as_ref().expect("stats");
    assert_eq!(s.std, None);
    assert_eq!((s.q25, s.q75), (2.5, 2.5));
    assert_eq!(s.histogram.edges.first(), Some(&2.0));
    assert_eq!(s.histogram.edges.last(), Some(&3.0));

    let kinds: Vec<(String, String)> = p
        .findings
        .iter()
        .map(|f| (f.kind.clone(), f.column.clone().unwrap_or_default()))
        .collect();
    let has = |k: &str, c: &str| kinds.contains(&(k.to_string(), c.to_string()));
    assert!(has("mostly_missing", "empty"), "{kinds:?}");
    assert!(has("mostly_missing", "single"), "{kinds:?}");
    assert!(has("constant", "constant"), "{kinds:?}");
    assert!(has("constant", "single"), "{kinds:?}");
    // rows: (-, 1, -, a) (-, NaN, -, a) (-, -, 2.5, a) (-, 3, -, a): all different
    assert!(!has("duplicate_rows", ""), "{kinds:?}");
    assert_eq!(p.duplicate_rows, 0);
    assert_eq!(p.correlations.pearson[0][0], None, "all-missing column");
}

#[test]
fn infinities_survive_a_json_round_trip() {
    let f = frame(vec![(
        "x",
        Column::Float(Float64Array::from(vec![1.0, f64::INFINITY, 3.0])),
    )]);
    let p = profile(&f, "inf", &opts(None)).expect("profile");
    let s = p
        .column("x")
        .and_then(|c| c.numeric.as_ref())
        .expect("stats");
    assert_eq!((s.mean, s.max), (f64::INFINITY, f64::INFINITY));
    assert_eq!(
        s.histogram.counts.iter().sum::<u64>(),
        2,
        "finite values only"
    );
    let json = serde_json::to_string(&p).expect("json");
    let back: capstan_quality::Profile = serde_json::from_str(&json).expect("read back");
    let s = back
        .column("x")
        .and_then(|c| c.numeric.as_ref())
        .expect("stats");
    assert!(s.mean.is_nan() && s.max.is_nan());
    assert_eq!(s.min, 1.0);
}

#[test]
fn leaking_feature_and_unknown_target() {
    let y: Vec<bool> = (0..200).map(|i| i % 3 == 0).collect();
    let leak: Vec<f64> = y.iter().map(|&b| if b { 10.0 } else { 0.0 }).collect();
    let noise: Vec<f64> = (0..200).map(|i| f64::from((i * 37) % 101)).collect();
    let f = frame(vec![
        ("leak", Column::Float(Float64Array::from(leak))),
        ("noise", Column::Float(Float64Array::from(noise))),
        ("y", Column::Boolean(BooleanArray::from(y))),
    ]);
    let p = profile(&f, "leak", &opts(Some("y"))).expect("profile");
    let t = p.target.as_ref().expect("target");
    assert_eq!(t.classes.len(), 2);
    assert_eq!(t.features[0].column, "leak");
    assert_eq!(t.features[0].measure, "single_feature_auc");
    assert_eq!(t.features[0].value, Some(1.0));
    assert!(
        p.findings
            .iter()
            .any(|f| f.kind == "leakage_suspect" && f.column.as_deref() == Some("leak"))
    );
    assert!(
        !p.findings
            .iter()
            .any(|f| f.kind == "leakage_suspect" && f.column.as_deref() == Some("noise"))
    );

    let err = profile(&f, "leak.csv", &opts(Some("z"))).expect_err("unknown target");
    let msg = err.to_string();
    assert!(msg.contains("'z' not found"), "{msg}");
    assert!(msg.contains("leak, noise, y"), "{msg}");
}

#[test]
fn same_profile_for_any_thread_count() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/adult/adult.csv");
    let f = capstan_frame::read(&path, &ReadOptions::default()).expect("read adult");
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| profile(&f, "adult", &opts(Some("income_gt_50k"))).expect("profile"))
    };
    let one = run(1);
    let three = run(3);
    assert_eq!(
        serde_json::to_string(&one).expect("json"),
        serde_json::to_string(&three).expect("json")
    );
}

#[test]
fn html_escapes_user_data() {
    let f = frame(vec![
        (
            "<script>alert(1)</script>",
            Column::String(StringArray::from(vec!["<b>&\"x\"</b>", "y", "y"])),
        ),
        ("n", Column::Integer(Int64Array::from(vec![1, 2, 3]))),
    ]);
    let p = profile(&f, "data/<evil>.csv", &opts(None)).expect("profile");
    let page = html::render(&p);
    assert!(!page.contains("<script>"), "raw script tag in report");
    assert!(!page.contains("<evil>"));
    assert!(!page.contains("<b>&"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("<svg"), "charts are inline svg");
    assert!(!page.contains("http://") && !page.contains("https://"));
}
