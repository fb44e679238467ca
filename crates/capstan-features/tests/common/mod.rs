//! Shared helpers for the integration tests: column builders, a small CSV loader for
//! the real datasets, and the Python oracle runner.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use arrow_array::{
    BooleanArray, Date32Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use capstan_features::{FittedPipeline, PipelineMode, PipelineSpec};
use capstan_frame::{Column, Frame};

pub fn ints(v: &[Option<i64>]) -> Column {
    Column::Integer(Int64Array::from(v.to_vec()))
}

pub fn floats(v: &[Option<f64>]) -> Column {
    Column::Float(Float64Array::from(v.to_vec()))
}

pub fn bools(v: &[Option<bool>]) -> Column {
    Column::Boolean(BooleanArray::from(v.to_vec()))
}

pub fn strs(v: &[Option<&str>]) -> Column {
    Column::String(StringArray::from(v.to_vec()))
}

/// Days since 1970-01-01.
pub fn dates(v: &[Option<i32>]) -> Column {
    Column::Date(Date32Array::from(v.to_vec()))
}

/// Microseconds since 1970-01-01T00:00:00.
pub fn datetimes(v: &[Option<i64>]) -> Column {
    Column::Datetime(TimestampMicrosecondArray::from(v.to_vec()))
}

pub fn frame(cols: Vec<(&str, Column)>) -> Frame {
    Frame::from_columns(cols.into_iter().map(|(n, c)| (n.to_string(), c)).collect())
        .expect("valid test frame")
}

pub fn fit(spec: &PipelineSpec, mode: PipelineMode, f: &Frame, exclude: &[&str]) -> FittedPipeline {
    FittedPipeline::fit(spec, mode, f, exclude).expect("pipeline fits")
}

/// Column `j` of a transformed matrix.
pub fn column(m: &capstan_frame::Matrix, name: &str) -> Vec<f64> {
    let j = m
        .feature_names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no feature '{name}' in {:?}", m.feature_names));
    (0..m.n_rows).map(|i| m.get(i, j)).collect()
}

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// Loads `NAME/NAME.csv` with the frame crate's reader (empty field = null).
pub fn load_dataset(name: &str) -> Frame {
    let path = data_dir().join(name).join(format!("{name}.csv"));
    capstan_frame::read(&path, &capstan_frame::ReadOptions::default())
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Checks that the modules exist without paying for importing them.
const FIND_MODULES: &str = "import importlib.util as u, sys; \
    sys.exit(0 if all(u.find_spec(m) for m in ('sklearn', 'pandas', 'numpy')) else 1)";

/// The Python interpreter with scikit-learn, or `None` (after a note) when absent.
/// With `CI` set, a missing interpreter fails the test instead.
pub fn python_with_sklearn() -> Option<PathBuf> {
    let python = std::env::var_os("CAPSTAN_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", FIND_MODULES])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return Some(python);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{}: python with scikit-learn and pandas is required when CI is set",
            python.display()
        );
    }
    eprintln!(
        "skipping oracle test: {} lacks scikit-learn/pandas (set CAPSTAN_PYTHON)",
        python.display()
    );
    None
}

/// A fresh scratch directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("capstan-features-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
