//! The main loop from the command line: train -> runs -> predict -> evaluate.

mod common;

use common::{capstan, telco, tempdir};

#[test]
fn train_predict_evaluate_on_bundled_telco() {
    let dir = tempdir("loop");
    let data = telco();
    let data = data.to_str().expect("utf-8 path");
    let train = capstan(
        &dir,
        &[
            "train",
            "--data",
            data,
            "--target",
            "churn",
            "--n-trees",
            "30",
            "--json",
        ],
    );
    assert_eq!(train.code, 0, "train failed: {}", train.stderr);
    let report: serde_json::Value = serde_json::from_str(&train.stdout).expect("json report");
    let run_id = report["run_id"].as_str().expect("run id").to_string();
    assert_eq!(report["task"], "binary");
    let auc = report["metrics"]["test"]["roc_auc"]
        .as_f64()
        .expect("test auc");
    assert!(auc > 0.80 && auc < 0.95, "telco test AUC {auc}");

    let list = capstan(&dir, &["runs", "list"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains(&run_id));

    let show = capstan(&dir, &["runs", "show", &run_id[..6], "--json"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    let run: serde_json::Value = serde_json::from_str(&show.stdout).expect("run json");
    assert_eq!(run["id"], run_id.as_str());

    let out = dir.join("scores.csv");
    let predict = capstan(
        &dir,
        &[
            "predict",
            "--model",
            &run_id,
            "--data",
            data,
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(predict.code, 0, "{}", predict.stderr);
    let text = std::fs::read_to_string(&out).expect("predictions written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("prediction,proba_0,proba_1"));
    assert_eq!(lines.count(), 7043);

    let eval = capstan(
        &dir,
        &["evaluate", "--model", &run_id, "--data", data, "--json"],
    );
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    let metrics: serde_json::Value = serde_json::from_str(&eval.stdout).expect("eval json");
    assert_eq!(metrics["rows"], 7043);
    assert!(metrics["metrics"]["roc_auc"].as_f64().expect("auc") > 0.8);
    let confusion: Vec<Vec<u64>> =
        serde_json::from_value(metrics["confusion"].clone()).expect("confusion matrix");
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 7043);
    // A lower threshold predicts the positive class more often.
    let low = capstan(
        &dir,
        &[
            "evaluate",
            "--model",
            &run_id,
            "--data",
            data,
            "--json",
            "--threshold",
            "0.2",
        ],
    );
    assert_eq!(low.code, 0, "{}", low.stderr);
    let low: serde_json::Value = serde_json::from_str(&low.stdout).expect("eval json");
    let low_confusion: Vec<Vec<u64>> =
        serde_json::from_value(low["confusion"].clone()).expect("matrix");
    assert!(low_confusion[0][1] + low_confusion[1][1] > confusion[0][1] + confusion[1][1]);

    // A second run with the linear model, then compare the two.
    let lin = capstan(
        &dir,
        &[
            "train", "--data", data, "--target", "churn", "--model", "linear", "--json",
        ],
    );
    assert_eq!(lin.code, 0, "{}", lin.stderr);
    let lin_id = serde_json::from_str::<serde_json::Value>(&lin.stdout).expect("json")["run_id"]
        .as_str()
        .expect("id")
        .to_string();
    let cmp = capstan(&dir, &["runs", "compare", &run_id, &lin_id]);
    assert_eq!(cmp.code, 0, "{}", cmp.stderr);
    assert!(cmp.stdout.contains("roc_auc") && cmp.stdout.contains(&lin_id));
}

#[test]
fn config_file_sets_everything_and_flags_override() {
    let dir = tempdir("config");
    let config = dir.join("train.toml");
    std::fs::write(
        &config,
        format!(
            "data = {:?}\ntarget = \"churn\"\nmodel = \"gbdt\"\nseed = 7\n[split]\ntest_fraction = 0.25\ncv_folds = 3\n[gbdt]\nn_trees = 20\nnum_leaves = 15\n[features]\ndrop = [\"gender\"]\n",
            telco().to_str().expect("utf-8")
        ),
    )
    .expect("write config");
    let run = capstan(
        &dir,
        &[
            "train",
            "--config",
            config.to_str().expect("utf-8"),
            "--n-trees",
            "10",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["cv_folds"].as_array().expect("folds").len(), 3);
    let id = report["run_id"].as_str().expect("id");
    let show = capstan(&dir, &["runs", "show", id, "--json"]);
    let run: serde_json::Value = serde_json::from_str(&show.stdout).expect("json");
    assert_eq!(run["params"]["gbdt"]["n_trees"], 10);
    assert_eq!(run["params"]["gbdt"]["num_leaves"], 15);
    assert_eq!(run["params"]["seed"], 7);
    assert_eq!(run["params"]["features"]["drop"][0], "gender");
}

#[test]
fn help_teaches_the_loop() {
    let dir = tempdir("help");
    let help = capstan(&dir, &["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("capstan train --data"));
    assert!(help.stdout.contains("Exit codes"));
    let train_help = capstan(&dir, &["train", "--help"]);
    assert!(train_help.stdout.contains("--early-stopping"));
}

#[test]
fn parquet_and_json_lines_in_time_split_and_parquet_out() {
    let dir = tempdir("formats");
    let frame =
        capstan_frame::read(&telco(), &capstan_frame::ReadOptions::default()).expect("read telco");
    let parquet = dir.join("telco.parquet");
    let jsonl = dir.join("telco.jsonl");
    capstan_frame::write(&frame, &parquet).expect("write parquet");
    capstan_frame::write(&frame, &jsonl).expect("write jsonl");
    let s = |p: &std::path::Path| p.to_str().expect("utf-8").to_string();

    let train = capstan(
        &dir,
        &[
            "train",
            "--data",
            &s(&parquet),
            "--target",
            "churn",
            "--n-trees",
            "10",
            "--split",
            "time",
            "--time-column",
            "tenure",
            "--json",
        ],
    );
    assert_eq!(train.code, 0, "{}", train.stderr);
    let report: serde_json::Value = serde_json::from_str(&train.stdout).expect("json");
    assert_eq!(report["test_rows"], 1409);
    let id = report["run_id"].as_str().expect("id").to_string();

    let out = dir.join("scores.parquet");
    let predict = capstan(
        &dir,
        &[
            "predict",
            "--model",
            &id,
            "--data",
            &s(&jsonl),
            "--out",
            &s(&out),
            "--keep",
            "tenure",
        ],
    );
    assert_eq!(predict.code, 0, "{}", predict.stderr);
    let scores =
        capstan_frame::read(&out, &capstan_frame::ReadOptions::default()).expect("read scores");
    assert_eq!(scores.n_rows(), 7043);
    let names: Vec<&str> = scores.schema().names().collect();
    assert_eq!(names, ["tenure", "prediction", "proba_0", "proba_1"]);
    let p1 = scores.column("proba_1").expect("proba_1");
    let p0 = scores.column("proba_0").expect("proba_0");
    for i in 0..scores.n_rows() {
        let (a, b) = (p0.f64_at(i).expect("p0"), p1.f64_at(i).expect("p1"));
        assert!((a + b - 1.0).abs() < 1e-12 && (0.0..=1.0).contains(&b));
    }
}

#[test]
fn regression_and_multiclass_targets_are_inferred() {
    let dir = tempdir("tasks");
    let csv = dir.join("reg.csv");
    let frame =
        capstan_frame::read(&telco(), &capstan_frame::ReadOptions::default()).expect("read telco");
    capstan_frame::write(&frame, &csv).expect("write");
    let s = csv.to_str().expect("utf-8");
    let reg = capstan(
        &dir,
        &[
            "train",
            "--data",
            s,
            "--target",
            "monthly_charges",
            "--n-trees",
            "20",
            "--json",
        ],
    );
    assert_eq!(reg.code, 0, "{}", reg.stderr);
    let report: serde_json::Value = serde_json::from_str(&reg.stdout).expect("json");
    assert_eq!(report["task"], "regression");
    assert!(report["metrics"]["test"]["r2"].as_f64().expect("r2") > 0.9);

    let multi = capstan(
        &dir,
        &[
            "train", "--data", s, "--target", "contract", "--model", "linear", "--json",
        ],
    );
    assert_eq!(multi.code, 0, "{}", multi.stderr);
    let report: serde_json::Value = serde_json::from_str(&multi.stdout).expect("json");
    assert_eq!(report["task"], "multiclass");
    assert!(
        report["metrics"]["test"]["accuracy"]
            .as_f64()
            .expect("accuracy")
            > 0.6
    );
}

#[test]
fn identifier_columns_are_flagged() {
    let dir = tempdir("ids");
    let titanic = common::shared_data("titanic");
    let run = capstan(
        &dir,
        &[
            "train",
            "--data",
            titanic.to_str().expect("utf-8"),
            "--target",
            "survived",
            "--n-trees",
            "10",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let warnings = report["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .is_some_and(|w| w.contains("column 'name' looks like an identifier"))),
        "{warnings:?}"
    );
    assert!(
        !warnings
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("'sex'")))
    );
}
