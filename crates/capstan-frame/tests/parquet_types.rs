//! Parquet files written by pyarrow: every mapped Arrow type, and an unsupported one.
//! Fixtures come from tests/fixtures/make_fixtures.py.

use std::path::{Path, PathBuf};

use capstan_frame::{DataType, ReadOptions, read};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn arrow_types_map_to_column_types() {
    let frame = read(&fixture("types.parquet"), &ReadOptions::default()).expect("types.parquet");
    use DataType::*;
    let expected = [
        ("i8", Integer),
        ("i32", Integer),
        ("u32", Integer),
        ("f32", Float),
        ("f64", Float),
        ("s", String),
        ("ls", String),
        ("cat", String),
        ("b", Boolean),
        ("d", Date),
        ("ts_ns_tz", Datetime),
        ("ts_ms", Datetime),
        ("ts_s", Datetime),
        ("none", Float),
    ];
    let found: Vec<(&str, DataType)> = frame
        .schema()
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.dtype))
        .collect();
    assert_eq!(found, expected);
    let text = |name: &str| -> Vec<Option<std::string::String>> {
        let col = frame.require(name).expect(name);
        (0..col.len()).map(|i| col.display_at(i)).collect()
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(text("i8"), [s("1"), None, s("-3")]);
    assert_eq!(text("u32"), [s("4294967295"), s("1"), s("2")]);
    assert_eq!(text("f32"), [s("0.5"), None, s("1.25")]);
    assert_eq!(text("ls"), [s("x"), s("y"), None]);
    assert_eq!(text("cat"), [s("lo"), s("hi"), None]);
    assert_eq!(text("b"), [s("true"), None, s("false")]);
    assert_eq!(text("d"), [s("2024-02-29"), None, s("1969-12-31")]);
    // Time zones are dropped: the stored UTC instant, nanoseconds truncated to micros.
    assert_eq!(
        text("ts_ns_tz"),
        [
            s("2023-11-14T22:13:20.123456"),
            None,
            s("1970-01-01T00:00:00")
        ]
    );
    assert_eq!(
        text("ts_ms"),
        [s("2023-11-14T22:13:20.123"), s("1970-01-01T00:00:00"), None]
    );
    assert_eq!(
        text("ts_s"),
        [None, s("1970-01-02T00:00:00"), s("1970-01-01T00:00:01")]
    );
    assert_eq!(frame.require("none").expect("none").null_count(), 3);
}

#[test]
fn unsupported_type_names_the_column() {
    let err = read(&fixture("decimal.parquet"), &ReadOptions::default()).expect_err("decimal");
    let message = err.to_string();
    assert!(
        message.contains("decimal.parquet: column 'price': unsupported type Decimal128(5, 2)"),
        "{message}"
    );
}
