//! Response bodies of the native prediction API.

use serde_json::{Map, Value, json};

use crate::Scored;
use crate::output::{prediction_json, probabilities_json};

/// Row-oriented: `{"model", "version", "role", "predictions": [{"id", "prediction",
/// "probabilities"}, ...]}` (no probabilities for regression). `ids[i]` is row `i`'s
/// prediction id (null when missing).
pub fn predict_response(
    model: &str,
    version: u32,
    role: &str,
    ids: &[String],
    scored: &Scored,
) -> Value {
    let predictions: Vec<Value> = scored
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut object = Map::new();
            object.insert("id".to_string(), id_json(ids, i));
            object.insert("prediction".to_string(), prediction_json(&row.prediction));
            if let Some(p) = probabilities_json(scored, row) {
                object.insert("probabilities".to_string(), p);
            }
            Value::Object(object)
        })
        .collect();
    json!({
        "model": model,
        "version": version,
        "role": role,
        "predictions": predictions,
    })
}

/// Column-oriented, for large batches: `{"model", "version", "role", "ids": [...],
/// "predictions": [...], "probabilities": {class: [...], ...}}` (no probabilities for
/// regression).
pub fn batch_response(
    model: &str,
    version: u32,
    role: &str,
    ids: &[String],
    scored: &Scored,
) -> Value {
    let n = scored.rows.len();
    let mut object = Map::new();
    object.insert("model".to_string(), json!(model));
    object.insert("version".to_string(), json!(version));
    object.insert("role".to_string(), json!(role));
    object.insert(
        "ids".to_string(),
        Value::Array((0..n).map(|i| id_json(ids, i)).collect()),
    );
    object.insert(
        "predictions".to_string(),
        Value::Array(
            scored
                .rows
                .iter()
                .map(|r| prediction_json(&r.prediction))
                .collect(),
        ),
    );
    if !scored.classes.is_empty() {
        let per_class: Map<String, Value> = scored
            .classes
            .iter()
            .enumerate()
            .map(|(k, class)| {
                let column: Vec<Value> = scored
                    .rows
                    .iter()
                    .map(|r| {
                        r.probabilities
                            .as_ref()
                            .and_then(|p| p.get(k))
                            .map_or(Value::Null, |&p| json!(p))
                    })
                    .collect();
                (class.clone(), Value::Array(column))
            })
            .collect();
        object.insert("probabilities".to_string(), Value::Object(per_class));
    }
    Value::Object(object)
}

fn id_json(ids: &[String], i: usize) -> Value {
    ids.get(i)
        .map_or(Value::Null, |id| Value::String(id.clone()))
}

#[cfg(test)]
mod tests {
    use capstan_learn::Task;
    use serde_json::json;

    use super::*;
    use crate::{Prediction, RowOutput};

    fn binary() -> Scored {
        Scored {
            task: Task::Binary,
            classes: vec!["0".into(), "1".into()],
            rows: vec![
                RowOutput {
                    prediction: Prediction::Label("1".into()),
                    probabilities: Some(vec![0.25, 0.75]),
                    score: 0.75,
                },
                RowOutput {
                    prediction: Prediction::Label("0".into()),
                    probabilities: Some(vec![0.5, 0.5]),
                    score: 0.5,
                },
            ],
        }
    }

    fn regression() -> Scored {
        Scored {
            task: Task::Regression,
            classes: vec![],
            rows: vec![RowOutput {
                prediction: Prediction::Value(2.5),
                probabilities: None,
                score: 2.5,
            }],
        }
    }

    #[test]
    fn row_oriented() {
        let ids = ["a".to_string(), "b".to_string()];
        assert_eq!(
            predict_response("churn", 3, "champion", &ids, &binary()),
            json!({
                "model": "churn", "version": 3, "role": "champion",
                "predictions": [
                    {"id": "a", "prediction": "1", "probabilities": {"0": 0.25, "1": 0.75}},
                    {"id": "b", "prediction": "0", "probabilities": {"0": 0.5, "1": 0.5}},
                ],
            })
        );
        assert_eq!(
            predict_response("price", 1, "canary", &[], &regression()),
            json!({
                "model": "price", "version": 1, "role": "canary",
                "predictions": [{"id": null, "prediction": 2.5}],
            })
        );
    }

    #[test]
    fn column_oriented() {
        let ids = ["a".to_string(), "b".to_string()];
        assert_eq!(
            batch_response("churn", 3, "champion", &ids, &binary()),
            json!({
                "model": "churn", "version": 3, "role": "champion",
                "ids": ["a", "b"],
                "predictions": ["1", "0"],
                "probabilities": {"0": [0.25, 0.5], "1": [0.75, 0.5]},
            })
        );
        assert_eq!(
            batch_response("price", 1, "champion", &["x".to_string()], &regression()),
            json!({
                "model": "price", "version": 1, "role": "champion",
                "ids": ["x"], "predictions": [2.5],
            })
        );
    }
}
