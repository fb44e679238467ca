//! GBDT constraints from a training config: by feature name in `[constraints]`, by index in
//! `[gbdt]`, and the errors of both.

mod common;

use std::path::Path;

use common::{capstan, telco, tempdir};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Trains on telco with `config`; returns the run id.
fn train(dir: &Path, config: &str) -> String {
    let path = dir.join("train.toml");
    std::fs::write(&path, config).expect("write config");
    let run = capstan(
        dir,
        &[
            "train",
            "--config",
            s(&path),
            "--data",
            s(&telco()),
            "--target",
            "churn",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "train failed: {}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json report");
    report["run_id"].as_str().expect("run id").to_string()
}

/// P(churn) of the first 40 telco rows with `tenure` set to 0, 3, ..., 72: one row of
/// probabilities per telco row.
fn tenure_sweep(dir: &Path, run_id: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(telco()).expect("telco");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let tenure = header
        .split(',')
        .position(|c| c == "tenure")
        .expect("tenure");
    let grid: Vec<u32> = (0..=24).map(|k| 3 * k).collect();
    let mut out = vec![header.to_string()];
    for line in lines.clone().take(40) {
        for t in &grid {
            let mut cells: Vec<String> = line.split(',').map(String::from).collect();
            cells[tenure] = t.to_string();
            out.push(cells.join(","));
        }
    }
    let sweep = dir.join("sweep.csv");
    std::fs::write(&sweep, out.join("\n")).expect("write sweep");
    let scores = dir.join("scores.csv");
    let run = capstan(
        dir,
        &[
            "predict",
            "--model",
            run_id,
            "--data",
            s(&sweep),
            "--out",
            s(&scores),
        ],
    );
    assert_eq!(run.code, 0, "predict failed: {}", run.stderr);
    let text = std::fs::read_to_string(&scores).expect("scores");
    let mut rows = text.lines();
    let col = rows
        .next()
        .expect("header")
        .split(',')
        .position(|c| c == "proba_1")
        .expect("proba_1");
    let p: Vec<f64> = rows
        .map(|l| {
            l.split(',')
                .nth(col)
                .expect("cell")
                .parse()
                .expect("number")
        })
        .collect();
    p.chunks(grid.len()).map(<[f64]>::to_vec).collect()
}

/// Steps of the sweeps where the probability rises.
fn rises(sweeps: &[Vec<f64>]) -> usize {
    sweeps
        .iter()
        .map(|p| p.windows(2).filter(|w| w[1] > w[0]).count())
        .sum()
}

#[test]
fn constraints_by_name_shape_the_model() {
    let dir = tempdir("constraints-name");
    let free = train(&dir, "[gbdt]\nn_trees = 40\n");
    let monotone = train(
        &dir,
        "[gbdt]\nn_trees = 40\n\n[constraints]\nmonotone = { tenure = -1, monthly_charges = 1 }\n\
         interaction = [[\"tenure\", \"contract\", \"monthly_charges\"], [\"internet_service\", \"payment_method\"]]\n",
    );
    let (free, monotone) = (tenure_sweep(&dir, &free), tenure_sweep(&dir, &monotone));
    assert!(
        rises(&free) > 0,
        "the unconstrained model is monotone in tenure already"
    );
    assert_eq!(rises(&monotone), 0, "churn probability rises with tenure");

    // the same by index in [gbdt] (tenure is feature 4 of the telco pipeline)
    let by_index = train(
        &dir,
        "[gbdt]\nn_trees = 40\nmonotone_constraints = [0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n",
    );
    assert_eq!(rises(&tenure_sweep(&dir, &by_index)), 0);
}

fn train_fails(dir: &Path, config: &str, needles: &[&str]) {
    let path = dir.join("bad.toml");
    std::fs::write(&path, config).expect("write config");
    let run = capstan(
        dir,
        &[
            "train",
            "--config",
            s(&path),
            "--data",
            s(&telco()),
            "--target",
            "churn",
        ],
    );
    assert_eq!(run.code, 3, "config {config}\nstderr: {}", run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "stderr lacks '{needle}': {}",
            run.stderr
        );
    }
}

#[test]
fn bad_constraints_in_configs_are_input_errors() {
    let dir = tempdir("constraints-bad");
    train_fails(
        &dir,
        "[constraints]\nmonotone = { tenur = 1 }\n",
        &["constraints.monotone", "'tenur'", "'tenure'"],
    );
    train_fails(
        &dir,
        "[constraints]\nmonotone = { tenure = 2 }\n",
        &["'tenure' = 2"],
    );
    train_fails(
        &dir,
        "[constraints]\ninteraction = [[\"tenure\", \"nope\"]]\n",
        &["constraints.interaction", "'nope'"],
    );
    train_fails(
        &dir,
        "model = \"linear\"\n[constraints]\nmonotone = { tenure = 1 }\n",
        &["gbdt"],
    );
    train_fails(
        &dir,
        "[gbdt]\nmonotone_constraints = [1, 0]\n",
        &["monotone_constraints", "2 values for 19 features"],
    );
    train_fails(
        &dir,
        "[gbdt]\ninteraction_constraints = [[0, 40]]\n",
        &["interaction_constraints", "feature 40"],
    );
    train_fails(
        &dir,
        "[constraints]\nmonotonic = { tenure = 1 }\n",
        &["monotonic"],
    );
}
