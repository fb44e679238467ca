//! The objective's own metric on real counts (bike_sharing_hourly `cnt`): GBDTs trained with
//! Poisson, Tweedie, gamma and quantile objectives report the mean deviance or pinball loss
//! on every split of `train --json` and in `evaluate --json`, equal to scikit-learn's on the
//! same predictions (with row weights, the weighted versions too).

mod common;

use std::path::{Path, PathBuf};

use common::{capstan, python, python_json, shared_data, tempdir};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Bike hours with a weight column `w` (weekend hours weigh 2, others 0.5 to 1.5).
fn bike_with_weights(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(shared_data("bike_sharing_hourly")).expect("read bike");
    let mut lines = text.lines();
    let mut out = format!("{},w\n", lines.next().expect("header"));
    for (i, line) in lines.enumerate() {
        let workingday = line.split(',').nth(7).expect("workingday");
        let w = if workingday == "0" {
            2.0
        } else {
            0.5 + (i % 3) as f64 / 2.0
        };
        out.push_str(&format!("{line},{w}\n"));
    }
    let path = dir.join("bike_w.csv");
    std::fs::write(&path, out).expect("write bike");
    path
}

/// The header and the last `n` rows of a CSV file: the test rows of a time split in file order.
fn tail(data: &Path, n: usize, out: &Path) {
    let text = std::fs::read_to_string(data).expect("read data");
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = vec![lines[0]];
    kept.extend(&lines[lines.len() - n..]);
    std::fs::write(out, kept.join("\n") + "\n").expect("write tail");
}

const ORACLE: &str = r#"
import sys, json
import pandas as pd
from sklearn import metrics as M
p = pd.read_csv(sys.argv[1])["prediction"]; d = pd.read_csv(sys.argv[2])
objective, param = sys.argv[3], float(sys.argv[4])
y = d["cnt"]
w = d["w"] if "w" in d and sys.argv[5] == "weighted" else None
def metric(sample_weight):
    if objective == "poisson":
        return "poisson_deviance", M.mean_poisson_deviance(y, p, sample_weight=sample_weight)
    if objective == "gamma":
        return "gamma_deviance", M.mean_gamma_deviance(y, p, sample_weight=sample_weight)
    if objective == "tweedie":
        return "tweedie_deviance", M.mean_tweedie_deviance(y, p, sample_weight=sample_weight, power=param)
    return "pinball_loss", M.mean_pinball_loss(y, p, sample_weight=sample_weight, alpha=param)
name, value = metric(None)
out = {name: value, "rmse": M.root_mean_squared_error(y, p)}
if w is not None:
    out["weighted_" + name] = metric(w)[1]
    out["weighted_rmse"] = M.root_mean_squared_error(y, p, sample_weight=w)
    out["weighted_mae"] = M.mean_absolute_error(y, p, sample_weight=w)
    out["weighted_r2"] = M.r2_score(y, p, sample_weight=w)
print(json.dumps(out))
"#;

struct Case {
    objective: &'static str,
    /// `tweedie_variance_power` or `alpha`, whichever the objective has.
    param: f64,
    metric: &'static str,
    weighted: bool,
}

#[test]
fn objective_metrics_in_train_and_evaluate() {
    let dir = tempdir("objective-metrics");
    let data = bike_with_weights(&dir);
    let py = python("sklearn, pandas");
    let cases = [
        Case {
            objective: "poisson",
            param: 0.0,
            metric: "poisson_deviance",
            weighted: true,
        },
        Case {
            objective: "tweedie",
            param: 1.3,
            metric: "tweedie_deviance",
            weighted: false,
        },
        Case {
            objective: "gamma",
            param: 0.0,
            metric: "gamma_deviance",
            weighted: false,
        },
        Case {
            objective: "quantile",
            param: 0.3,
            metric: "pinball_loss",
            weighted: false,
        },
    ];
    for case in &cases {
        let objective = case.objective;
        let config = dir.join(format!("{objective}.toml"));
        let param = match objective {
            "tweedie" => format!("tweedie_variance_power = {}\n", case.param),
            "quantile" => format!("alpha = {}\n", case.param),
            _ => String::new(),
        };
        std::fs::write(
            &config,
            format!("[gbdt]\nobjective = \"{objective}\"\n{param}"),
        )
        .expect("config");
        let mut args = vec![
            "train",
            "--data",
            s(&data),
            "--target",
            "cnt",
            "--config",
            s(&config),
            "--drop",
            "dteday",
            "--split",
            "time",
            "--n-trees",
            "40",
            "--early-stopping",
            "5",
            "--cv",
            "2",
            "--json",
        ];
        if case.weighted {
            args.extend(["--weight-column", "w"]);
        } else {
            args.extend(["--drop", "w"]);
        }
        let run = capstan(&dir, &args);
        assert_eq!(run.code, 0, "{objective}: {}", run.stderr);
        let report = json(&run.stdout);
        let metrics = &report["metrics"];
        for split in ["train", "valid", "test", "cv_mean"] {
            assert!(
                metrics[split][case.metric].as_f64().is_some(),
                "{objective}: no {} on {split}: {metrics}",
                case.metric
            );
            let weighted = format!("weighted_{}", case.metric);
            assert_eq!(
                metrics[split][&weighted].as_f64().is_some(),
                case.weighted,
                "{objective} {split}: {metrics}"
            );
        }
        let train_value = metrics["test"][case.metric].as_f64().expect("test metric");

        // Evaluate the test rows (the last rows: a time split in file order).
        let n_test = report["test_rows"].as_u64().expect("test rows") as usize;
        let test_file = dir.join(format!("{objective}_test.csv"));
        tail(&data, n_test, &test_file);
        let run_id = report["run_id"].as_str().expect("run id");
        let mut args = vec![
            "evaluate",
            "--model",
            run_id,
            "--data",
            s(&test_file),
            "--json",
        ];
        if case.weighted {
            args.extend(["--weight-column", "w"]);
        }
        let eval = capstan(&dir, &args);
        assert_eq!(eval.code, 0, "{objective}: {}", eval.stderr);
        let ours = json(&eval.stdout)["metrics"].clone();
        let eval_value = ours[case.metric].as_f64().expect("evaluate metric");
        assert!(
            (eval_value - train_value).abs() <= 1e-12 * train_value.abs().max(1.0),
            "{objective}: evaluate {eval_value} vs train {train_value}"
        );
        if case.weighted {
            let key = format!("weighted_{}", case.metric);
            let (e, t) = (ours[&key].as_f64(), metrics["test"][&key].as_f64());
            assert!(
                e.zip(t)
                    .is_some_and(|(e, t)| (e - t).abs() <= 1e-12 * t.max(1.0))
            );
        }

        let Some(py) = &py else {
            continue;
        };
        let scores = dir.join(format!("{objective}_scores.csv"));
        let args = [
            "predict",
            "--model",
            run_id,
            "--data",
            s(&test_file),
            "--out",
            s(&scores),
        ];
        let predict = capstan(&dir, &args);
        assert_eq!(predict.code, 0, "{}", predict.stderr);
        let weighted = if case.weighted { "weighted" } else { "plain" };
        let param = case.param.to_string();
        let theirs = python_json(
            py,
            ORACLE,
            &[s(&scores), s(&test_file), objective, &param, weighted],
        );
        let theirs = theirs.as_object().expect("object");
        assert_eq!(theirs.len(), if case.weighted { 6 } else { 2 });
        for (key, value) in theirs {
            let (a, b) = (ours[key].as_f64().expect(key), value.as_f64().expect(key));
            // Predictions pass through a CSV file with 17 significant digits.
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{objective} {key}: ours {a} vs sklearn {b}"
            );
            eprintln!("{objective} {key}: ours {a} sklearn {b}");
        }
    }
}
