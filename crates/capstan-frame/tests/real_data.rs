//! Reading the real datasets in shared/data: shapes, types, nulls and hashes against META.json.

mod common;

use std::collections::HashMap;

use capstan_frame::{DataType, Frame, ReadOptions, file_sha256, read};
use common::{bundled_telco, data_dir, dataset};

fn read_default(name: &str) -> Frame {
    read(&dataset(name), &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn dtype(frame: &Frame, column: &str) -> DataType {
    frame.schema().field(column).expect(column).dtype
}

fn nulls(frame: &Frame, column: &str) -> usize {
    frame.require(column).expect(column).null_count()
}

#[test]
fn adult_types_and_nulls() {
    let frame = read_default("adult");
    assert_eq!((frame.n_rows(), frame.n_cols()), (48842, 15));
    assert_eq!(dtype(&frame, "age"), DataType::Integer);
    assert_eq!(dtype(&frame, "workclass"), DataType::String);
    assert!(
        frame
            .schema()
            .field("workclass")
            .expect("workclass")
            .nullable
    );
    assert_eq!(nulls(&frame, "workclass"), 2799);
    assert_eq!(nulls(&frame, "occupation"), 2809);
    assert_eq!(nulls(&frame, "native_country"), 857);
    assert!(!frame.schema().field("age").expect("age").nullable);
    assert_eq!(dtype(&frame, "income_gt_50k"), DataType::Integer);
    let age = frame.require("age").expect("age");
    assert_eq!(age.f64_at(0), Some(39.0));
}

#[test]
fn telco_total_charges_is_float_with_11_nulls() {
    for path in [dataset("telco_churn"), bundled_telco()] {
        let frame = read(&path, &ReadOptions::default()).expect("telco");
        assert_eq!((frame.n_rows(), frame.n_cols()), (7043, 20));
        assert_eq!(dtype(&frame, "total_charges"), DataType::Float);
        assert_eq!(nulls(&frame, "total_charges"), 11);
        assert_eq!(dtype(&frame, "monthly_charges"), DataType::Float);
        assert_eq!(dtype(&frame, "tenure"), DataType::Integer);
        assert_eq!(dtype(&frame, "contract"), DataType::String);
        let col = frame.require("contract").expect("contract");
        assert_eq!(col.str_at(0), Some("Month-to-month"));
    }
}

#[test]
fn california_housing_types() {
    let frame = read_default("california_housing");
    assert_eq!((frame.n_rows(), frame.n_cols()), (20640, 10));
    assert_eq!(dtype(&frame, "longitude"), DataType::Float);
    assert_eq!(dtype(&frame, "housing_median_age"), DataType::Integer);
    assert_eq!(dtype(&frame, "total_bedrooms"), DataType::Integer);
    assert_eq!(nulls(&frame, "total_bedrooms"), 207);
    assert_eq!(dtype(&frame, "ocean_proximity"), DataType::String);
    assert_eq!(dtype(&frame, "median_house_value"), DataType::Integer);
    let lon = frame.require("longitude").expect("longitude");
    assert_eq!(lon.f64_at(0), Some(-122.23));
}

#[test]
fn real_dates_and_quoted_fields() {
    let bike = read_default("bike_sharing_hourly");
    assert_eq!(dtype(&bike, "dteday"), DataType::Date);
    assert_eq!(
        bike.require("dteday")
            .expect("dteday")
            .display_at(0)
            .as_deref(),
        Some("2011-01-01")
    );
    // "1949-01" is not a full date: the column stays text.
    let airline = read_default("airline_passengers");
    assert_eq!(dtype(&airline, "month"), DataType::String);
    let titanic = read_default("titanic");
    let name = titanic.require("name").expect("name");
    assert_eq!(name.str_at(0), Some("Braund, Mr. Owen Harris"));
    assert_eq!(dtype(&titanic, "age"), DataType::Float);
}

/// Every dataset: shape, per-column missing counts and sha256 as META.json records them.
#[test]
fn every_dataset_matches_its_meta() {
    let mut checked = 0;
    for entry in std::fs::read_dir(data_dir()).expect("shared/data") {
        let dir = entry.expect("entry").path();
        let meta_path = dir.join("META.json");
        if !meta_path.exists() {
            continue;
        }
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&meta_path).expect("meta"))
                .expect("json");
        let csv = dir.join(meta["file"].as_str().expect("file"));
        let frame = read(&csv, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let name = csv.display();
        assert_eq!(
            frame.n_rows() as u64,
            meta["rows"].as_u64().expect("rows"),
            "{name}"
        );
        assert_eq!(
            frame.n_cols() as u64,
            meta["columns"].as_u64().expect("columns"),
            "{name}"
        );
        let missing: HashMap<String, u64> = meta["missing_values"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
                    .collect()
            })
            .unwrap_or_default();
        for (field, column) in frame.schema().fields.iter().zip(frame.columns()) {
            let expected = missing.get(&field.name).copied().unwrap_or(0);
            assert_eq!(
                column.null_count() as u64,
                expected,
                "{name}: {}",
                field.name
            );
            assert_eq!(field.nullable, expected > 0, "{name}: {}", field.name);
        }
        let sha = file_sha256(&csv).expect("sha256");
        assert_eq!(sha, meta["csv_sha256"].as_str().expect("sha"), "{name}");
        checked += 1;
    }
    assert!(
        checked >= 10,
        "only {checked} datasets found in {}",
        data_dir().display()
    );
}
