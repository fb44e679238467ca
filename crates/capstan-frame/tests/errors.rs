//! Every error path: the error names the file, the row (line number) and the column.

mod common;

use capstan_frame::{
    DataType, Field, Frame, FrameError, ReadOptions, Schema, read, write, write_csv, write_parquet,
};
use common::{dataset, list_dir, scratch_dir, write_file};

fn read_err(test: &str, name: &str, text: impl AsRef<[u8]>, opts: &ReadOptions) -> FrameError {
    let dir = scratch_dir(test);
    let path = write_file(&dir, name, text);
    match read(&path, opts) {
        Ok(frame) => panic!("expected an error, read {} rows", frame.n_rows()),
        Err(e) => e,
    }
}

#[test]
fn empty_file_and_header_only() {
    for (test, text) in [("empty", ""), ("header_only", "a,b,c\n")] {
        let err = read_err(test, "t.csv", text, &ReadOptions::default());
        assert!(matches!(err, FrameError::Empty { .. }), "{err:?}");
        assert!(err.to_string().contains("t.csv"), "{err}");
    }
    let err = read_err("empty_jsonl", "t.jsonl", "\n\n", &ReadOptions::default());
    assert!(matches!(err, FrameError::Empty { .. }), "{err:?}");
}

#[test]
fn ragged_row_names_its_line() {
    // Line 3 is the second data row; the quoted newline makes row 4 start on line 5.
    let err = read_err("ragged", "t.csv", "a,b\n1,2\n3\n", &ReadOptions::default());
    let FrameError::Ragged {
        row,
        expected,
        found,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*row, *expected, *found), (3, 2, 1));
    assert_eq!(
        err.to_string().rsplit('/').next(),
        Some("t.csv: row 3: expected 2 fields as in the header, found 1")
    );
    let err = read_err(
        "ragged2",
        "t.csv",
        "a,b\n1,\"x\ny\"\n2,z\n3,z,extra\n",
        &ReadOptions::default(),
    );
    assert!(
        matches!(
            err,
            FrameError::Ragged {
                row: 5,
                expected: 2,
                found: 3,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn forced_type_bad_value_names_row_and_column() {
    let schema = Schema::new(vec![Field {
        name: "age".into(),
        dtype: DataType::Integer,
        nullable: true,
    }]);
    let opts = ReadOptions {
        schema: Some(schema),
        ..ReadOptions::default()
    };
    let mut text = String::from("name,age\n");
    for i in 0..55 {
        text.push_str(&format!("p{i},{i}\n"));
    }
    text.push_str("q,abc\n");
    let err = read_err("bad_value", "data.csv", &text, &opts);
    let message = err.to_string();
    assert!(
        message.ends_with("data.csv: row 57, column 'age': expected integer, found 'abc'"),
        "{message}"
    );
    // The same through a real file: adult's workclass forced to float.
    let schema = Schema::new(vec![Field {
        name: "workclass".into(),
        dtype: DataType::Float,
        nullable: true,
    }]);
    let opts = ReadOptions {
        schema: Some(schema),
        ..ReadOptions::default()
    };
    let err = read(&dataset("adult"), &opts).expect_err("workclass is text");
    assert!(
        err.to_string()
            .ends_with("adult.csv: row 2, column 'workclass': expected float, found 'State-gov'"),
        "{err}"
    );
}

#[test]
fn duplicate_header_and_invalid_utf8() {
    let err = read_err("dup", "t.csv", "a,b,a\n1,2,3\n", &ReadOptions::default());
    assert!(
        err.to_string()
            .contains("duplicate column name 'a' (columns 1 and 3)"),
        "{err}"
    );
    let err = read_err(
        "utf8",
        "t.csv",
        b"a,b\n1,ok\n2,\xff\xfe\n".as_slice(),
        &ReadOptions::default(),
    );
    assert!(
        matches!(&err, FrameError::BadValue { row: 3, column, .. } if column == "b"),
        "{err:?}"
    );
}

#[test]
fn unknown_extension() {
    let err = read_err("ext", "t.xlsx", "a\n1\n", &ReadOptions::default());
    let message = err.to_string();
    assert!(
        message.contains("unknown file type") && message.contains("'.xlsx'"),
        "{message}"
    );
    let frame = read(&dataset("penguins"), &ReadOptions::default()).expect("penguins");
    let dir = scratch_dir("ext_write");
    assert!(write(&frame, &dir.join("out.xlsx")).is_err());
    assert!(list_dir(&dir).is_empty());
}

#[test]
fn corrupt_parquet() {
    let dir = scratch_dir("corrupt_parquet");
    let frame = read(&dataset("penguins"), &ReadOptions::default()).expect("penguins");
    let good = dir.join("good.parquet");
    write_parquet(&frame, &good).expect("write");
    let mut bytes = std::fs::read(&good).expect("bytes");
    let truncated = write_file(&dir, "truncated.parquet", &bytes[..bytes.len() / 2]);
    let err = read(&truncated, &ReadOptions::default()).expect_err("truncated");
    assert!(
        err.to_string()
            .contains("truncated.parquet: cannot read parquet"),
        "{err}"
    );
    let not_parquet = write_file(&dir, "csv.parquet", "a,b\n1,2\n");
    assert!(read(&not_parquet, &ReadOptions::default()).is_err());
    // Damage the middle (column data) but keep the footer.
    let mid = bytes.len() / 3;
    bytes[mid..mid + 64].iter_mut().for_each(|b| *b = !*b);
    let damaged = write_file(&dir, "damaged.parquet", &bytes);
    // Either an error or (if only statistics were hit) a frame; never a panic.
    let _ = read(&damaged, &ReadOptions::default());
}

#[test]
fn parquet_forced_type_must_be_lossless() {
    let dir = scratch_dir("parquet_cast");
    let frame = read(&dataset("penguins"), &ReadOptions::default()).expect("penguins");
    let path = dir.join("p.parquet");
    write_parquet(&frame, &path).expect("write");
    let force = |name: &str, dtype| ReadOptions {
        schema: Some(Schema::new(vec![Field {
            name: name.into(),
            dtype,
            nullable: true,
        }])),
        ..ReadOptions::default()
    };
    let ok = read(&path, &force("year", DataType::Float)).expect("integer -> float");
    assert_eq!(ok.require("year").expect("year").dtype(), DataType::Float);
    let err =
        read(&path, &force("bill_length_mm", DataType::Integer)).expect_err("float -> integer");
    assert!(
        err.to_string()
            .contains("column 'bill_length_mm': float 39.1 at row 1 is not a whole number"),
        "{err}"
    );
    let err = read(&path, &force("island", DataType::Date)).expect_err("string -> date");
    assert!(
        err.to_string()
            .contains("column 'island': cannot convert string to date"),
        "{err}"
    );
}

#[test]
fn bad_json_line() {
    let text = "{\"a\": 1}\n{\"a\": 2,}\n";
    let err = read_err("bad_json", "t.jsonl", text, &ReadOptions::default());
    assert!(
        err.to_string().contains("t.jsonl: line 2: invalid json"),
        "{err}"
    );
    let err = read_err(
        "json_array",
        "t.json",
        "[{\"a\": 1}]\n",
        &ReadOptions::default(),
    );
    assert!(
        err.to_string()
            .contains("line 1: expected one json object per line"),
        "{err}"
    );
    let err = read_err(
        "json_nested",
        "t.ndjson",
        "{\"a\": 1}\n\n{\"a\": [1]}\n",
        &ReadOptions::default(),
    );
    assert!(
        err.to_string().contains(
            "line 3, column 'a': expected a number, string, boolean or null, found an array"
        ),
        "{err}"
    );
    let err = read_err(
        "json_scalar",
        "t.jsonl",
        "{\"a\": 1}\n42\n",
        &ReadOptions::default(),
    );
    assert!(err.to_string().contains("line 2: invalid json"), "{err}");
}

#[test]
fn schema_file_with_unknown_type() {
    let dir = scratch_dir("schema_unknown");
    let path = write_file(
        &dir,
        "schema.json",
        r#"{"fields":[{"name":"a","type":"int","nullable":false}]}"#,
    );
    let err = Schema::from_json_file(&path).expect_err("unknown type");
    let message = err.to_string();
    assert!(
        message.contains("schema.json: invalid schema json"),
        "{message}"
    );
    assert!(
        message.contains("`int`")
            && message.contains("`integer`")
            && message.contains("`datetime`"),
        "{message}"
    );
    let path = write_file(&dir, "bad.json", "{\"fields\": [");
    assert!(
        Schema::from_json_file(&path)
            .expect_err("truncated")
            .to_string()
            .contains("bad.json")
    );
    let missing = dir.join("missing.json");
    assert!(matches!(
        Schema::from_json_file(&missing),
        Err(FrameError::Io { .. })
    ));
}

#[test]
fn failed_write_leaves_nothing_behind() {
    let dir = scratch_dir("failed_write");
    let frame: Frame = read(&dataset("penguins"), &ReadOptions::default()).expect("penguins");
    // The target is a directory: the temp file is written, the rename fails.
    let target = dir.join("taken.csv");
    std::fs::create_dir(&target).expect("mkdir");
    let err = write_csv(&frame, &target).expect_err("cannot replace a directory");
    assert!(err.to_string().contains("taken.csv"), "{err}");
    let target = dir.join("taken.parquet");
    std::fs::create_dir(&target).expect("mkdir");
    assert!(write(&frame, &target).is_err());
    assert_eq!(list_dir(&dir), ["taken.csv", "taken.parquet"]);
    assert!(list_dir(&target).is_empty());
    // A missing directory: nothing can be created at all.
    assert!(write_csv(&frame, &dir.join("no/such/dir.csv")).is_err());
    // A failed write keeps the old file intact.
    let existing = dir.join("keep.csv");
    std::fs::write(&existing, "old").expect("write");
    assert!(write(&frame, &dir.join("keep.bin")).is_err());
    assert_eq!(std::fs::read_to_string(&existing).expect("read"), "old");
}
