//! Scoring parsed rows with a model, and one row's outputs as JSON.
//!
//! Labels and probabilities follow `capstan predict` exactly: binary models predict class 1
//! when P(class 1) >= 0.5, multiclass models the first class with the highest probability,
//! regression models the value.

use capstan_bundle::{BundleError, TargetInfo};
use capstan_learn::{Predictions, Task};
use serde_json::{Map, Value, json};

use crate::input::Rows;
use crate::{ApiError, LoadedModel, Prediction, RowOutput, Scored};

/// A binary model predicts the positive class at or above this probability (the CLI's
/// default `--threshold`).
pub const BINARY_THRESHOLD: f64 = 0.5;

/// Predicts every row through the bundle's pipeline and model.
///
/// Errors from the feature pipeline (it validates the input columns and names the one at
/// fault) are 400; anything else is a bug or a broken bundle: 500.
pub fn score(model: &LoadedModel, rows: &Rows) -> Result<Scored, ApiError> {
    let predictions = model
        .bundle
        .predict(&rows.frame)
        .map_err(|e| predict_error(model, e))?;
    scored(
        &model.bundle.manifest.target,
        &predictions,
        rows.frame.n_rows(),
    )
    .map_err(|why| {
        ApiError::internal(format!(
            "model '{}' version {}: {why}",
            model.name, model.version
        ))
    })
}

/// `predictions` as labels, probabilities and scores; `Err` says what is inconsistent.
pub fn scored(
    target: &TargetInfo,
    predictions: &Predictions,
    n_rows: usize,
) -> Result<Scored, String> {
    let task = target.task;
    let n_outputs = task.n_outputs();
    if n_outputs == 0 {
        return Err(format!("a {} model with no outputs", task.name()));
    }
    if predictions.n_rows != n_rows
        || predictions.n_outputs != n_outputs
        || predictions.values.len() != n_rows.saturating_mul(n_outputs)
    {
        return Err(format!(
            "expected {n_rows} rows of {n_outputs} outputs, the model returned {} rows of {} ({} values)",
            predictions.n_rows,
            predictions.n_outputs,
            predictions.values.len()
        ));
    }
    let classes = class_labels(target);
    let rows = (0..n_rows)
        .map(|i| {
            let row = predictions.row(i);
            match task {
                Task::Regression => RowOutput {
                    prediction: Prediction::Value(row[0]),
                    probabilities: None,
                    score: row[0],
                },
                Task::Binary => {
                    let p = row[0];
                    let k = usize::from(p >= BINARY_THRESHOLD);
                    RowOutput {
                        prediction: Prediction::Label(classes[k].clone()),
                        probabilities: Some(vec![1.0 - p, p]),
                        score: p,
                    }
                }
                Task::Multiclass { .. } => {
                    let k = argmax(row);
                    RowOutput {
                        prediction: Prediction::Label(classes[k].clone()),
                        probabilities: Some(row.to_vec()),
                        score: row[k],
                    }
                }
            }
        })
        .collect();
    Ok(Scored {
        task,
        classes,
        rows,
    })
}

/// The bundle's class labels; a bundle without labels gets its class indices ("0", "1").
fn class_labels(target: &TargetInfo) -> Vec<String> {
    let n_classes = match target.task {
        Task::Regression => 0,
        Task::Binary => 2,
        Task::Multiclass { n_classes } => n_classes,
    };
    if target.classes.len() == n_classes {
        target.classes.clone()
    } else {
        (0..n_classes).map(|k| k.to_string()).collect()
    }
}

/// The first index of the largest value (capstan_eval::argmax: NaN never wins).
fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

fn predict_error(model: &LoadedModel, e: BundleError) -> ApiError {
    match e {
        BundleError::Feature(e) => ApiError::bad_request("invalid_input", e.to_string()),
        other => ApiError::internal(format!(
            "model '{}' version {}: {other}",
            model.name, model.version
        )),
    }
}

/// Row `i`: `{"prediction": label | value, "probabilities": {class: p, ...}}` (no
/// probabilities for regression). Non-finite numbers are written as null.
pub fn row_json(scored: &Scored, i: usize) -> Value {
    let Some(row) = scored.rows.get(i) else {
        return Value::Null;
    };
    let mut object = Map::new();
    object.insert("prediction".to_string(), prediction_json(&row.prediction));
    if let Some(p) = probabilities_json(scored, row) {
        object.insert("probabilities".to_string(), p);
    }
    Value::Object(object)
}

pub(crate) fn prediction_json(prediction: &Prediction) -> Value {
    match prediction {
        Prediction::Label(label) => Value::String(label.clone()),
        Prediction::Value(v) => json!(v),
    }
}

/// `{class: p, ...}` in class order; `None` for regression.
pub(crate) fn probabilities_json(scored: &Scored, row: &RowOutput) -> Option<Value> {
    let p = row.probabilities.as_ref()?;
    let object: Map<String, Value> = scored
        .classes
        .iter()
        .zip(p)
        .map(|(class, &p)| (class.clone(), json!(p)))
        .collect();
    Some(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use capstan_frame::{Column, Frame};
    use serde_json::json;

    use super::*;
    use crate::input::fixtures;

    fn target(task: Task, classes: &[&str]) -> TargetInfo {
        TargetInfo {
            name: "y".to_string(),
            task,
            classes: classes.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn predictions(n_outputs: usize, values: &[f64]) -> Predictions {
        Predictions {
            n_rows: values.len() / n_outputs,
            n_outputs,
            values: values.to_vec(),
        }
    }

    #[test]
    fn binary_labels_follow_the_cli_threshold() {
        let t = target(Task::Binary, &["no", "yes"]);
        let s = scored(&t, &predictions(1, &[0.2, 0.5, 0.9]), 3).expect("scores");
        let labels: Vec<&Prediction> = s.rows.iter().map(|r| &r.prediction).collect();
        assert_eq!(
            labels,
            [
                &Prediction::Label("no".into()),
                &Prediction::Label("yes".into()),
                &Prediction::Label("yes".into())
            ]
        );
        assert_eq!(s.rows[0].probabilities, Some(vec![1.0 - 0.2, 0.2]));
        assert_eq!(s.rows[0].score, 0.2);
        assert_eq!(
            row_json(&s, 0),
            json!({"prediction": "no", "probabilities": {"no": 0.8, "yes": 0.2}})
        );
        assert_eq!(row_json(&s, 7), serde_json::Value::Null);
    }

    #[test]
    fn multiclass_takes_the_first_largest() {
        let t = target(Task::Multiclass { n_classes: 3 }, &["a", "b", "c"]);
        let s = scored(&t, &predictions(3, &[0.2, 0.4, 0.4, 0.7, 0.2, 0.1]), 2).expect("scores");
        assert_eq!(s.rows[0].prediction, Prediction::Label("b".into()));
        assert_eq!(s.rows[0].score, 0.4);
        assert_eq!(s.rows[1].prediction, Prediction::Label("a".into()));
        assert_eq!(s.rows[1].probabilities, Some(vec![0.7, 0.2, 0.1]));
        assert_eq!(
            row_json(&s, 1)["probabilities"],
            json!({"a": 0.7, "b": 0.2, "c": 0.1})
        );
    }

    #[test]
    fn regression_is_the_value() {
        let t = target(Task::Regression, &[]);
        let s = scored(&t, &predictions(1, &[1.5, f64::NAN]), 2).expect("scores");
        assert_eq!(s.rows[0].prediction, Prediction::Value(1.5));
        assert_eq!(s.rows[0].probabilities, None);
        assert_eq!(row_json(&s, 0), json!({"prediction": 1.5}));
        assert_eq!(row_json(&s, 1), json!({"prediction": null}));
    }

    #[test]
    fn missing_class_labels_become_indices() {
        let t = target(Task::Binary, &[]);
        let s = scored(&t, &predictions(1, &[0.7]), 1).expect("scores");
        assert_eq!(s.classes, ["0", "1"]);
        assert_eq!(s.rows[0].prediction, Prediction::Label("1".into()));
    }

    #[test]
    fn inconsistent_predictions_are_refused() {
        let t = target(Task::Binary, &["0", "1"]);
        assert!(scored(&t, &predictions(1, &[0.7, 0.1]), 3).is_err());
        assert!(scored(&t, &predictions(2, &[0.7, 0.1]), 1).is_err());
        let none = target(Task::Multiclass { n_classes: 0 }, &[]);
        assert!(scored(&none, &predictions(1, &[]), 0).is_err());
    }

    #[test]
    fn a_frame_the_pipeline_refuses_is_a_client_error() {
        let model = fixtures::model("telco_gbdt_v1");
        let frame = fixtures::file_frame(&model);
        let rows = crate::input::Rows {
            frame: frame.drop_columns(&["tenure"]),
            records: Vec::new(),
        };
        let e = score(&model, &rows).expect_err("missing column");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("'tenure'"), "{}", e.message);
        let mut columns: Vec<(String, Column)> = frame
            .schema()
            .names()
            .map(str::to_string)
            .zip(frame.columns().iter().cloned())
            .collect();
        columns[4].1 = columns[0].1.clone();
        let rows = crate::input::Rows {
            frame: Frame::from_columns(columns).expect("frame"),
            records: Vec::new(),
        };
        let e = score(&model, &rows).expect_err("wrong type");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("column 'tenure'"), "{}", e.message);
    }
}
