//! Directories of data files (partitioned datasets): real data split into `key=value/`
//! directories reads back as the same rows, with the keys as columns.

mod common;

use std::path::{Path, PathBuf};

use capstan_frame::{
    DataType, Field, Frame, FrameError, ReadOptions, Schema, dir_sha256, read, write_csv,
    write_parquet,
};
use common::{dataset, scratch_dir, write_file};

fn read_default(path: &Path) -> Frame {
    read(path, &ReadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rows as text, columns in `names` order, sorted: the frame as a multiset of rows.
fn sorted_rows(frame: &Frame, names: &[&str]) -> Vec<Vec<Option<String>>> {
    let columns: Vec<_> = names
        .iter()
        .map(|n| frame.require(n).expect("column present"))
        .collect();
    let mut rows: Vec<Vec<Option<String>>> = (0..frame.n_rows())
        .map(|i| columns.iter().map(|c| c.display_at(i)).collect())
        .collect();
    rows.sort();
    rows
}

fn names(frame: &Frame) -> Vec<&str> {
    frame.schema().names().collect()
}

/// Writes the rows of `frame` for each value of `key` to `dir/key=value/part-0.EXT`
/// (without the `key` column); null values go to `__HIVE_DEFAULT_PARTITION__`.
fn split_by(frame: &Frame, key: &str, dir: &Path, ext: &str) -> usize {
    let column = frame.require(key).expect("key column");
    let mut groups: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for i in 0..frame.n_rows() {
        let value = column
            .display_at(i)
            .unwrap_or_else(|| "__HIVE_DEFAULT_PARTITION__".to_string());
        groups.entry(value).or_default().push(i);
    }
    for (value, rows) in &groups {
        let sub = dir.join(format!("{key}={value}"));
        std::fs::create_dir_all(&sub).expect("create partition dir");
        let part = frame.take(rows).drop_columns(&[key]);
        let path = sub.join(format!("part-0.{ext}"));
        match ext {
            "parquet" => write_parquet(&part, &path),
            _ => write_csv(&part, &path),
        }
        .expect("write partition");
    }
    groups.len()
}

#[test]
fn parquet_partitions_read_back_as_the_original_rows() {
    let original = read_default(&dataset("bike_sharing_hourly"));
    let dir = scratch_dir("parquet_partitions");
    assert_eq!(split_by(&original, "season", &dir, "parquet"), 4);
    write_file(&dir, "_SUCCESS", "");
    write_file(&dir, ".part-0.parquet.crc", "not data");
    let back = read_default(&dir);
    assert_eq!(back.n_rows(), 17379);
    // The partition column comes last, typed from its values.
    assert_eq!(names(&back).last(), Some(&"season"));
    assert_eq!(
        back.schema().field("season").expect("season").dtype,
        DataType::Integer
    );
    for field in &original.schema().fields {
        let got = back.schema().field(&field.name).expect("same columns");
        assert_eq!(got.dtype, field.dtype, "{}", field.name);
    }
    let cols = names(&original);
    assert_eq!(sorted_rows(&back, &cols), sorted_rows(&original, &cols));
    // Files are read in path order: season=1 first.
    let season = back.require("season").expect("season");
    assert_eq!(season.f64_at(0), Some(1.0));
    assert_eq!(season.f64_at(back.n_rows() - 1), Some(4.0));
}

#[test]
fn nested_partitions_and_null_partition_values() {
    let original = read_default(&dataset("titanic"));
    let dir = scratch_dir("nested_partitions");
    // pclass outside, embarked (2 nulls) inside.
    let pclass = original.require("pclass").expect("pclass");
    let mut n_dirs = 0;
    for class in 1..=3 {
        let rows: Vec<usize> = (0..original.n_rows())
            .filter(|&i| pclass.f64_at(i) == Some(f64::from(class)))
            .collect();
        let sub = dir.join(format!("pclass={class}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let part = original.take(&rows).drop_columns(&["pclass"]);
        n_dirs += split_by(&part, "embarked", &sub, "csv");
    }
    assert!(n_dirs >= 9, "{n_dirs} partitions");
    let back = read_default(&dir);
    assert_eq!(back.n_rows(), 891);
    assert_eq!(&names(&back)[back.n_cols() - 2..], ["pclass", "embarked"]);
    let embarked = back.require("embarked").expect("embarked");
    assert_eq!(embarked.dtype(), DataType::String);
    assert_eq!(embarked.null_count(), 2);
    // CSV inference differs per file (whole ages read as integers in some partitions,
    // cabin is all empty in others): the columns still unify to the original types.
    for field in &original.schema().fields {
        let got = back.schema().field(&field.name).expect("same columns");
        assert_eq!(got.dtype, field.dtype, "{}", field.name);
    }
    let cols = names(&original);
    assert_eq!(sorted_rows(&back, &cols), sorted_rows(&original, &cols));
}

#[test]
fn date_partitions_and_missing_columns() {
    let original = read_default(&dataset("bike_sharing_hourly"));
    let day = original.require("dteday").expect("dteday");
    let first_days: Vec<usize> = (0..original.n_rows())
        .filter(|&i| day.display_at(i).is_some_and(|d| d.as_str() < "2011-01-04"))
        .collect();
    let subset = original.take(&first_days);
    let dir = scratch_dir("date_partitions");
    assert_eq!(split_by(&subset, "dteday", &dir, "parquet"), 3);
    // One partition lacks the `atemp` column: it reads as null there.
    let third = dir.join("dteday=2011-01-03/part-0.parquet");
    let frame = read_default(&third).drop_columns(&["atemp"]);
    write_parquet(&frame, &third).expect("rewrite");
    let back = read_default(&dir);
    assert_eq!(back.n_rows(), subset.n_rows());
    assert_eq!(
        back.schema().field("dteday").expect("dteday").dtype,
        DataType::Date
    );
    assert_eq!(
        back.require("atemp").expect("atemp").null_count(),
        frame.n_rows()
    );
    let cols: Vec<&str> = names(&subset)
        .into_iter()
        .filter(|&n| n != "atemp")
        .collect();
    assert_eq!(sorted_rows(&back, &cols), sorted_rows(&subset, &cols));
}

#[test]
fn a_forced_schema_types_partition_columns() {
    let original = read_default(&dataset("bike_sharing_hourly"));
    let dir = scratch_dir("forced_partition_type");
    split_by(&original, "season", &dir, "parquet");
    let opts = ReadOptions {
        schema: Some(Schema::new(vec![Field {
            name: "season".to_string(),
            dtype: DataType::String,
            nullable: false,
        }])),
        ..ReadOptions::default()
    };
    let back = read(&dir, &opts).expect("reads");
    let season = back.require("season").expect("season");
    assert_eq!(season.dtype(), DataType::String);
    assert_eq!(season.str_at(0), Some("1"));
    let bad = ReadOptions {
        schema: Some(Schema::new(vec![Field {
            name: "season".to_string(),
            dtype: DataType::Date,
            nullable: false,
        }])),
        ..ReadOptions::default()
    };
    let err = read(&dir, &bad).expect_err("1 is not a date").to_string();
    assert!(err.contains("season=1") && err.contains("a date"), "{err}");
}

#[test]
fn the_directory_hash_follows_the_content() {
    let original = read_default(&dataset("titanic"));
    let dir = scratch_dir("dir_hash");
    split_by(&original, "sex", &dir, "csv");
    let first = dir_sha256(&dir).expect("hash");
    assert_eq!(first.len(), 64);
    assert_eq!(dir_sha256(&dir).expect("hash"), first);
    write_file(&dir, "_SUCCESS", "");
    assert_eq!(dir_sha256(&dir).expect("hidden files do not count"), first);
    let female = dir.join("sex=female/part-0.csv");
    let part = read_default(&female);
    write_csv(&part.take(&[0, 1, 2]), &female).expect("rewrite");
    assert_ne!(dir_sha256(&dir).expect("hash"), first);
}

fn error_text(path: &Path) -> String {
    read(path, &ReadOptions::default())
        .expect_err("expected an error")
        .to_string()
}

fn titanic_part(dir: &Path, rel: &str, rows: &[usize], drop: &[&str]) -> PathBuf {
    let original = read_default(&dataset("titanic"));
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let frame = original.take(rows).drop_columns(drop);
    capstan_frame::write(&frame, &path).expect("write");
    path
}

#[test]
fn errors_name_the_directory_file_and_column() {
    let empty = scratch_dir("empty_dir");
    write_file(&empty, "_SUCCESS", "");
    let err = error_text(&empty);
    assert!(err.contains("no data files in the directory"), "{err}");

    let mixed = scratch_dir("mixed_formats");
    titanic_part(&mixed, "a.csv", &[0, 1], &[]);
    titanic_part(&mixed, "b.parquet", &[2, 3], &[]);
    let err = error_text(&mixed);
    assert!(
        err.contains("a.csv is csv") && err.contains("b.parquet is parquet"),
        "{err}"
    );

    let clash = scratch_dir("partition_clash");
    let file = titanic_part(&clash, "sex=male/part-0.csv", &[0, 4], &[]);
    let err = error_text(&clash);
    assert!(
        err.contains(&file.display().to_string())
            && err
                .contains("column 'sex' is both in the file and a partition directory 'sex=male'"),
        "{err}"
    );

    let keys = scratch_dir("inconsistent_keys");
    titanic_part(&keys, "sex=male/part-0.csv", &[0, 4], &["sex"]);
    titanic_part(&keys, "part-1.csv", &[1, 2], &["sex"]);
    let err = error_text(&keys);
    assert!(err.contains("partition keys [sex] differ from []"), "{err}");

    // A column that is text in one Parquet file and a number in another.
    let types = scratch_dir("type_conflict");
    let a = titanic_part(&types, "k=1/part-0.parquet", &[0, 1], &[]);
    let numbers = scratch_dir("type_conflict_src");
    let text = std::fs::read_to_string(titanic_part(&numbers, "src.csv", &[0, 1], &[]))
        .expect("read")
        .replace("female", "2")
        .replace("male", "1");
    let recoded = write_file(&numbers, "recoded.csv", text);
    let b = types.join("k=2/part-0.parquet");
    std::fs::create_dir_all(b.parent().expect("parent")).expect("mkdir");
    write_parquet(&read_default(&recoded), &b).expect("write");
    let err = error_text(&types);
    assert!(
        err.contains(&b.display().to_string())
            && err.contains("column 'sex' is integer here but string in")
            && err.contains(&a.display().to_string()),
        "{err}"
    );
    // The same files as CSV: the column reads as text, as one CSV of all rows would.
    let csv_types = scratch_dir("csv_type_widening");
    for (k, src) in [(1, &a), (2, &b)] {
        let sub = csv_types.join(format!("k={k}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        write_csv(&read_default(src), &sub.join("part-0.csv")).expect("write");
    }
    let both = read_default(&csv_types);
    let sex = both.require("sex").expect("sex");
    assert_eq!(sex.dtype(), DataType::String);
    let values: Vec<_> = (0..4).map(|i| sex.str_at(i)).collect();
    assert_eq!(values, [Some("male"), Some("female"), Some("1"), Some("2")]);

    let err = read(&types.join("missing"), &ReadOptions::default()).expect_err("no such file");
    assert!(matches!(
        err,
        FrameError::Io { .. } | FrameError::Format { .. }
    ));
}
