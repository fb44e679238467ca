//! `capstan train` early-stopping on a named validation metric: the `[gbdt]` config key and
//! the `--early-stopping-metric` flag keep the same round, which differs from the loss's; the
//! validation value of every round is reported (JSON curve, `--log-every` lines); a bad name
//! is a config error (exit 3) that lists the task's metrics.

mod common;

use common::{capstan, telco, tempdir};

fn best_iteration(stdout: &str) -> u64 {
    let report: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    report["best_iteration"]
        .as_u64()
        .unwrap_or_else(|| panic!("no best_iteration: {report}"))
}

#[test]
fn config_key_and_flag_stop_on_the_metric() {
    let dir = tempdir("stop-metric");
    let data = telco();
    let data = data.to_str().expect("utf-8 path");
    let config = dir.join("train.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"{data}\"\ntarget = \"churn\"\n\n[gbdt]\nn_trees = 300\n\
             early_stopping_rounds = 5\nearly_stopping_metric = \"roc_auc\"\n"
        ),
    )
    .expect("write config");
    let by_config = capstan(
        &dir,
        &[
            "train",
            "--config",
            config.to_str().expect("utf-8"),
            "--json",
        ],
    );
    assert_eq!(by_config.code, 0, "{}", by_config.stderr);
    let best = best_iteration(&by_config.stdout);
    assert!(best > 0 && best < 300, "best iteration {best}");

    let flags = [
        "train",
        "--data",
        data,
        "--target",
        "churn",
        "--n-trees",
        "300",
        "--early-stopping",
        "5",
    ];
    let mut with_flag = flags.to_vec();
    with_flag.extend(["--early-stopping-metric", "roc_auc", "--log-every", "4"]);
    let by_flag = capstan(&dir, &with_flag);
    assert_eq!(by_flag.code, 0, "{}", by_flag.stderr);
    // The curve: one value per round run, the best at the best iteration, equal to the
    // reported validation AUC; every 4th round logged.
    let report: serde_json::Value = serde_json::from_str(&by_config.stdout).expect("json");
    assert_eq!(report["valid_curve"]["metric"], "roc_auc");
    let curve: Vec<f64> = report["valid_curve"]["values"]
        .as_array()
        .expect("curve")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    assert_eq!(
        curve.len() as u64,
        best + 5,
        "stops 5 rounds after the best"
    );
    let at_best = curve[best as usize - 1];
    assert!(curve.iter().all(|&v| v <= at_best), "{curve:?}");
    let valid_auc = report["metrics"]["valid"]["roc_auc"]
        .as_f64()
        .expect("valid auc");
    assert!(
        (valid_auc - at_best).abs() < 1e-12,
        "{valid_auc} vs {at_best}"
    );
    let line = format!(
        "best iteration {best} of {} (validation roc_auc {at_best:.6})",
        curve.len()
    );
    assert!(by_flag.stdout.contains(&line), "{}", by_flag.stdout);
    let logged: Vec<&str> = by_flag
        .stderr
        .lines()
        .filter(|l| l.contains("] valid roc_auc "))
        .collect();
    assert_eq!(logged.len(), curve.len() / 4, "{}", by_flag.stderr);
    assert!(
        logged[0].starts_with(&format!("[4/300] valid roc_auc {:.6}", curve[3])),
        "{}",
        logged[0]
    );

    let mut by_loss = flags.to_vec();
    by_loss.push("--json");
    let by_loss = capstan(&dir, &by_loss);
    assert_eq!(by_loss.code, 0, "{}", by_loss.stderr);
    let loss_best = best_iteration(&by_loss.stdout);
    assert_ne!(loss_best, best, "the loss keeps another round");
    let report: serde_json::Value = serde_json::from_str(&by_loss.stdout).expect("json");
    assert_eq!(report["valid_curve"]["metric"], "loss");
    let losses = report["valid_curve"]["values"].as_array().expect("curve");
    let at_best = losses[loss_best as usize - 1].as_f64().expect("number");
    assert!(
        losses
            .iter()
            .all(|v| v.as_f64().expect("number") >= at_best)
    );

    // The metric is part of the run's recorded config.
    let report: serde_json::Value = serde_json::from_str(&by_config.stdout).expect("json");
    let run_id = report["run_id"].as_str().expect("run id");
    let show = capstan(&dir, &["runs", "show", run_id, "--json"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout
            .contains("\"early_stopping_metric\": \"roc_auc\""),
        "{}",
        show.stdout
    );
}

#[test]
fn bad_stopping_metrics_are_config_errors() {
    let dir = tempdir("stop-metric-errors");
    let data = telco();
    let data = data.to_str().expect("utf-8 path");
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            data,
            "--target",
            "churn",
            "--n-trees",
            "5",
        ];
        args.extend(extra);
        capstan(&dir, &args)
    };
    let unknown = train(&["--early-stopping", "3", "--early-stopping-metric", "auc"]);
    assert_eq!(unknown.code, 3, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains(
            "invalid parameter 'early_stopping_metric': unknown metric 'auc'; expected one of \
             roc_auc, pr_auc, log_loss, brier, accuracy, precision, recall, f1 for a binary task"
        ),
        "{}",
        unknown.stderr
    );
    let wrong_task = train(&["--early-stopping", "3", "--early-stopping-metric", "rmse"]);
    assert_eq!(wrong_task.code, 3, "{}", wrong_task.stderr);
    assert!(
        wrong_task
            .stderr
            .contains("'rmse' is not a binary metric; expected one of roc_auc"),
        "{}",
        wrong_task.stderr
    );
    let no_valid = train(&["--log-every", "2"]);
    assert_eq!(no_valid.code, 3, "{}", no_valid.stderr);
    assert!(
        no_valid
            .stderr
            .contains("--log-every prints validation values: it needs --early-stopping"),
        "{}",
        no_valid.stderr
    );
    let no_rounds = train(&["--early-stopping-metric", "roc_auc"]);
    assert_eq!(no_rounds.code, 3, "{}", no_rounds.stderr);
    assert!(
        no_rounds
            .stderr
            .contains("'early_stopping_metric': needs early_stopping_rounds"),
        "{}",
        no_rounds.stderr
    );
    let config = dir.join("bad.toml");
    std::fs::write(&config, "[gbdt]\nearly_stopping_metric = 3\n").expect("write config");
    let bad_type = train(&["--config", config.to_str().expect("utf-8")]);
    assert_eq!(bad_type.code, 3, "{}", bad_type.stderr);
    assert!(
        bad_type.stderr.contains("early_stopping_metric"),
        "{}",
        bad_type.stderr
    );
}
