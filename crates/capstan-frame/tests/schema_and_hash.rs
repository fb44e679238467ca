//! Schema JSON files and file hashes.

mod common;

use capstan_frame::{DataType, ReadOptions, Schema, file_sha256, read};
use common::{dataset, list_dir, scratch_dir, write_file};

#[test]
fn schema_json_round_trip() {
    let dir = scratch_dir("schema_round_trip");
    let frame = read(&dataset("adult"), &ReadOptions::default()).expect("adult");
    let path = dir.join("adult.schema.json");
    frame.schema().write_json(&path).expect("write");
    assert_eq!(list_dir(&dir), ["adult.schema.json"]);
    let back = Schema::from_json_file(&path).expect("read back");
    assert_eq!(&back, frame.schema());
    let text = frame.schema().to_json_pretty();
    assert!(text.contains("\"type\": \"integer\""), "{text}");
    assert!(text.starts_with("{\n  \"fields\": ["), "{text}");
    // The schema read back forces the same types when reading again.
    let opts = ReadOptions {
        schema: Some(back),
        ..ReadOptions::default()
    };
    assert_eq!(read(&dataset("adult"), &opts).expect("forced"), frame);
}

#[test]
fn schema_file_shape() {
    let dir = scratch_dir("schema_shape");
    let path = write_file(
        &dir,
        "s.json",
        r#"{"fields":[{"name":"when","type":"datetime","nullable":true},{"name":"d","type":"date","nullable":false}]}"#,
    );
    let schema = Schema::from_json_file(&path).expect("schema");
    assert_eq!(
        schema.field("when").expect("when").dtype,
        DataType::Datetime
    );
    assert!(!schema.field("d").expect("d").nullable);
    let dup = write_file(
        &dir,
        "dup.json",
        r#"{"fields":[{"name":"a","type":"date","nullable":true},{"name":"a","type":"date","nullable":true}]}"#,
    );
    let err = Schema::from_json_file(&dup).expect_err("duplicate");
    assert!(
        err.to_string().contains("field 'a' is listed twice"),
        "{err}"
    );
}

#[test]
fn sha256_of_files() {
    let dir = scratch_dir("sha256");
    let empty = write_file(&dir, "empty", "");
    assert_eq!(
        file_sha256(&empty).expect("hash"),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let abc = write_file(&dir, "abc", "abc");
    assert_eq!(
        file_sha256(&abc).expect("hash"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(file_sha256(&dir.join("missing")).is_err());
}
