//! Type inference, options (delimiter, null values, forced schema) and JSON lines input.

mod common;

use capstan_frame::{Column, DataType, Field, Frame, ReadOptions, Schema, read};
use common::{scratch_dir, write_file};

fn read_text(test: &str, name: &str, text: &str, opts: &ReadOptions) -> Frame {
    let dir = scratch_dir(test);
    let path = write_file(&dir, name, text);
    read(&path, opts).unwrap_or_else(|e| panic!("{e}"))
}

fn types(frame: &Frame) -> Vec<(String, DataType, bool)> {
    frame
        .schema()
        .fields
        .iter()
        .map(|f| (f.name.clone(), f.dtype, f.nullable))
        .collect()
}

fn texts(column: &Column) -> Vec<Option<String>> {
    (0..column.len()).map(|i| column.display_at(i)).collect()
}

#[test]
fn infers_each_type() {
    let text = "int,float,mixed,flag,day,stamp,text,empty\n\
        1,1.5,1,TRUE,2024-02-29,2024-02-29T10:11:12,a,\n\
        -2,,2.5,false,1969-12-31,2024-03-01 00:00:00.250,\"b, c\",\n\
        ,3e2,3,True,,1970-01-01T00:00:00.000001,0,\n";
    let frame = read_text("infer", "t.csv", text, &ReadOptions::default());
    use DataType::*;
    let expected = [
        ("int", Integer, true),
        ("float", Float, true),
        ("mixed", Float, false),
        ("flag", Boolean, false),
        ("day", Date, true),
        ("stamp", Datetime, false),
        ("text", String, false),
        ("empty", Float, true),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(n, t, z)| (n.to_string(), *t, *z))
        .collect();
    assert_eq!(types(&frame), expected);
    let col = |n: &str| frame.require(n).expect(n);
    assert_eq!(col("mixed").f64_at(1), Some(2.5));
    assert_eq!(col("float").f64_at(2), Some(300.0));
    assert_eq!(col("day").f64_at(1), Some(-1.0));
    assert_eq!(
        texts(col("stamp")),
        [
            Some("2024-02-29T10:11:12".to_string()),
            Some("2024-03-01T00:00:00.250".to_string()),
            Some("1970-01-01T00:00:00.000001".to_string()),
        ]
    );
    assert_eq!(col("stamp").f64_at(2), Some(1.0));
    assert_eq!(col("text").str_at(1), Some("b, c"));
    assert_eq!(col("empty").null_count(), 3);
}

#[test]
fn zero_one_stays_integer_and_mixed_text_is_string() {
    let text =
        "bit,date_or_text,dates_and_times\n0,2024-01-01,2024-01-01\n1,soon,2024-01-02T03:04:05\n";
    let frame = read_text("zero_one", "t.csv", text, &ReadOptions::default());
    let dtypes: Vec<DataType> = frame.schema().fields.iter().map(|f| f.dtype).collect();
    assert_eq!(
        dtypes,
        [DataType::Integer, DataType::String, DataType::Datetime]
    );
}

#[test]
fn delimiter_option_and_tsv_default() {
    let opts = ReadOptions {
        delimiter: b';',
        ..ReadOptions::default()
    };
    let frame = read_text("delim", "t.csv", "a;b\n1,5;x\n2,5;y\n", &opts);
    assert_eq!(frame.require("a").expect("a").str_at(0), Some("1,5"));
    let frame = read_text("tsv", "t.tsv", "a\tb\n1\tx y\n", &ReadOptions::default());
    assert_eq!(frame.n_cols(), 2);
    assert_eq!(frame.require("b").expect("b").str_at(0), Some("x y"));
}

#[test]
fn null_values_option() {
    let text = "n,s\nNA,?\n1,x\n,\n";
    let opts = ReadOptions {
        null_values: vec!["NA".into(), "?".into(), String::new()],
        ..ReadOptions::default()
    };
    let frame = read_text("nulls", "t.csv", text, &opts);
    assert_eq!(frame.require("n").expect("n").dtype(), DataType::Integer);
    assert_eq!(frame.require("n").expect("n").null_count(), 2);
    assert_eq!(frame.require("s").expect("s").null_count(), 2);
    // Only the listed texts are null: without "" an empty field is an empty string.
    let only_na = ReadOptions {
        null_values: vec!["NA".into()],
        ..ReadOptions::default()
    };
    let frame = read_text("nulls2", "t.csv", text, &only_na);
    assert_eq!(frame.require("n").expect("n").dtype(), DataType::String);
    assert_eq!(frame.require("s").expect("s").str_at(2), Some(""));
}

#[test]
fn forced_schema_overrides_inference() {
    let schema = Schema::new(vec![
        Field {
            name: "code".into(),
            dtype: DataType::String,
            nullable: false,
        },
        Field {
            name: "n".into(),
            dtype: DataType::Float,
            nullable: true,
        },
        Field {
            name: "when".into(),
            dtype: DataType::Datetime,
            nullable: true,
        },
        Field {
            name: "not_in_file".into(),
            dtype: DataType::Integer,
            nullable: true,
        },
    ]);
    let opts = ReadOptions {
        schema: Some(schema),
        ..ReadOptions::default()
    };
    let frame = read_text(
        "forced",
        "t.csv",
        "code,n,when\n007,1,2024-01-01\n010,2,\n",
        &opts,
    );
    assert_eq!(frame.require("code").expect("code").str_at(0), Some("007"));
    assert_eq!(frame.require("n").expect("n").dtype(), DataType::Float);
    let when = frame.require("when").expect("when");
    assert_eq!(when.dtype(), DataType::Datetime);
    assert_eq!(when.display_at(0).as_deref(), Some("2024-01-01T00:00:00"));
    assert!(frame.column("not_in_file").is_none());
}

#[test]
fn json_lines_union_of_keys_and_inference() {
    let text = "{\"id\": 1, \"name\": \"a\", \"day\": \"2024-01-01\"}\n\
        \n\
        {\"name\": null, \"id\": 2, \"score\": 0.5, \"ok\": true}\n\
        {\"id\": 3, \"score\": 2, \"zip\": \"02134\", \"mixed\": 1}\n\
        {\"id\": 4, \"mixed\": \"x\", \"ok\": false, \"when\": \"2024-01-01 10:00:00\"}\n";
    let frame = read_text("jsonl", "t.jsonl", text, &ReadOptions::default());
    use DataType::*;
    let expected = [
        ("id", Integer, false),
        ("name", String, true),
        ("day", Date, true),
        ("score", Float, true),
        ("ok", Boolean, true),
        ("zip", String, true),
        ("mixed", String, true),
        ("when", Datetime, true),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(n, t, z)| (n.to_string(), *t, *z))
        .collect();
    assert_eq!(types(&frame), expected);
    assert_eq!(frame.n_rows(), 4);
    assert_eq!(
        texts(frame.require("mixed").expect("mixed")),
        [None, None, Some("1".into()), Some("x".into())]
    );
    assert_eq!(frame.require("zip").expect("zip").str_at(2), Some("02134"));
}

#[test]
fn byte_order_mark_and_crlf() {
    let frame = read_text(
        "bom",
        "t.csv",
        "\u{feff}id,name\r\n1,\"x\"\"y\"\r\n2,z\r\n",
        &ReadOptions::default(),
    );
    assert_eq!(frame.schema().names().collect::<Vec<_>>(), ["id", "name"]);
    assert_eq!(frame.require("id").expect("id").dtype(), DataType::Integer);
    assert_eq!(frame.require("name").expect("name").str_at(0), Some("x\"y"));
    assert_eq!(frame.require("name").expect("name").str_at(1), Some("z"));
}
