//! Shared test helpers: a real data frame, a pipeline, a bundle, temp dirs.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::{Float64Array, Int64Array, StringArray};
use capstan_bundle::{Bundle, FORMAT_VERSION, Lineage, Manifest, TargetInfo};
use capstan_features::{FittedPipeline, PipelineMode, PipelineSpec};
use capstan_frame::{Column, Frame};
use capstan_learn::linear::LinearModel;
use capstan_learn::{Model, Task};
use serde_json::json;

/// `shared/data/penguins/penguins.csv` as a frame (target `species` as a string column),
/// or `None` when this checkout has no shared data.
pub fn penguins() -> Option<Frame> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = [
        root.join("../../../shared/data/penguins/penguins.csv"),
        root.join("../../shared/data/penguins/penguins.csv"),
    ]
    .into_iter()
    .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    fn cell<'a>(r: &[&'a str], j: usize) -> Option<&'a str> {
        Some(r[j]).filter(|s| !s.is_empty())
    }
    let mut columns = Vec::new();
    for (j, name) in header.iter().enumerate() {
        let col = match *name {
            "island" | "sex" | "species" => Column::String(StringArray::from(
                rows.iter().map(|r| cell(r, j)).collect::<Vec<_>>(),
            )),
            "year" => Column::Integer(Int64Array::from(
                rows.iter()
                    .map(|r| cell(r, j).map(|s| s.parse().unwrap()))
                    .collect::<Vec<_>>(),
            )),
            _ => Column::Float(Float64Array::from(
                rows.iter()
                    .map(|r| cell(r, j).map(|s| s.parse().unwrap()))
                    .collect::<Vec<_>>(),
            )),
        };
        columns.push((name.to_string(), col));
    }
    Some(Frame::from_columns(columns).unwrap())
}

/// A fitted pipeline: the real one when `FittedPipeline::fit` works, else one built from
/// JSON (while the features crate is being written).
pub fn pipeline() -> FittedPipeline {
    if let Some(frame) = penguins() {
        let spec = PipelineSpec::default();
        if let Ok(p) = FittedPipeline::fit(&spec, PipelineMode::Linear, &frame, &["species"]) {
            return p;
        }
    }
    serde_json::from_value(json!({
        "input_schema": {"fields": [
            {"name": "island", "type": "string", "nullable": false},
            {"name": "bill_length_mm", "type": "float", "nullable": true},
        ]}
    }))
    .expect("FittedPipeline is neither fittable nor buildable from json")
}

pub fn linear_model(n_features: usize) -> Model {
    // Awkward floats on purpose: they must survive the file bit for bit.
    let pool = [
        0.1 + 0.2,
        -1.0 / 3.0,
        1e-300,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        -0.0,
        std::f64::consts::PI,
        123_456_789.123_456_79,
    ];
    Model::Linear(LinearModel {
        task: Task::Multiclass { n_classes: 3 },
        coefficients: (0..3 * n_features).map(|i| pool[i % pool.len()]).collect(),
        intercepts: vec![0.5, -2.25, 1e-17],
        n_features,
    })
}

pub fn bundle() -> Bundle {
    let pipeline = pipeline();
    let mut metrics = BTreeMap::new();
    metrics.insert(
        "test".to_string(),
        BTreeMap::from([
            ("accuracy".to_string(), 0.97),
            ("log_loss".to_string(), 0.1),
        ]),
    );
    Bundle {
        manifest: Manifest {
            format_version: FORMAT_VERSION,
            capstan_version: "0.1.0".to_string(),
            created_at: "2024-05-01T12:00:00Z".to_string(),
            input_schema: pipeline.input_schema.clone(),
            target: TargetInfo {
                name: "species".to_string(),
                task: Task::Multiclass { n_classes: 3 },
                classes: vec!["Adelie".into(), "Chinstrap".into(), "Gentoo".into()],
            },
            metrics,
            lineage: Lineage {
                dataset_path: "shared/data/penguins/penguins.csv".to_string(),
                dataset_sha256: "ab".repeat(32),
                query: None,
                dataset_version: None,
                config: json!({"learner": "linear", "c": 1.0, "seed": 7}),
                config_sha256: "cd".repeat(32),
                seed: u64::MAX,
                git_commit: Some("c65a2f5".to_string()),
                started_at: "2024-05-01T11:59:00Z".to_string(),
                finished_at: "2024-05-01T12:00:00Z".to_string(),
            },
            rules: None,
        },
        pipeline,
        model: linear_model(4),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "capstan-bundle-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
