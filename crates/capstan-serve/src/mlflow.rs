//! The MLflow scoring server's `/invocations` request and response shapes, so MLflow
//! clients (`mlflow models predict`, `requests.post(..., json={"dataframe_split": ...})`)
//! work unchanged.
//!
//! Requests: `text/csv`, or a JSON object with exactly one of `dataframe_split`
//! (`{"columns", "data", "index"?}`), `dataframe_records` (array of row objects),
//! `instances` (array of row objects) or `inputs` (`{column: [values]}`, `{column: value}`
//! for one row, or an array of row objects); a `params` key is ignored. MLflow 1's bare
//! bodies (an array of row objects; `{"columns", "data"}`) are read too.

use capstan_frame::Schema;
use serde_json::{Map, Value, json};

use crate::input::{
    from_csv, from_records, from_split, is_csv, parse_json, show, split_from_object, take_array,
};
use crate::{ApiError, Prediction, Scored, input::Rows};

const INPUT_KEYS: [&str; 4] = [
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
];

/// Parses an `/invocations` body into rows for `schema`.
pub fn parse_invocations(
    schema: &Schema,
    content_type: Option<&str>,
    body: &[u8],
    max_rows: usize,
) -> Result<Rows, ApiError> {
    if is_csv(content_type) {
        return from_csv(schema, body, max_rows);
    }
    let mut object = match parse_json(body, content_type)? {
        Value::Object(object) => object,
        // MLflow 1: `format=pandas-records`.
        Value::Array(rows) => return from_records(schema, &rows, max_rows),
        other => return Err(bad_shape(&format!("found {}", show(&other)))),
    };
    let present: Vec<&str> = INPUT_KEYS
        .iter()
        .copied()
        .filter(|k| object.contains_key(*k))
        .collect();
    match present.as_slice() {
        ["dataframe_split"] => match object.remove("dataframe_split") {
            Some(Value::Object(mut split)) => {
                split_from_object(schema, &mut split, Some(schema_columns(schema)), max_rows)
            }
            Some(other) => Err(ApiError::bad_request(
                "bad_body",
                format!(
                    "dataframe_split: expected an object {{\"columns\": [...], \"data\": [[...]]}}, found {}",
                    show(&other)
                ),
            )),
            None => Err(bad_shape("found no input key")),
        },
        ["dataframe_records"] => {
            let rows = take_array(&mut object, "dataframe_records", "an array of row objects")?;
            from_records(schema, &rows, max_rows)
        }
        ["instances"] => {
            let rows = take_array(&mut object, "instances", "an array of row objects")?;
            from_records(schema, &rows, max_rows)
        }
        ["inputs"] => match object.remove("inputs") {
            Some(Value::Array(rows)) => from_records(schema, &rows, max_rows),
            Some(Value::Object(columns)) => from_columns(schema, columns, max_rows),
            Some(other) => Err(ApiError::bad_request(
                "bad_body",
                format!(
                    "inputs: expected an object of columns or an array of row objects, found {}",
                    show(&other)
                ),
            )),
            None => Err(bad_shape("found no input key")),
        },
        // MLflow 1: `format=pandas-split` without the wrapper.
        [] if object.contains_key("columns") && object.contains_key("data") => {
            split_from_object(schema, &mut object, None, max_rows)
        }
        [] => Err(bad_shape("found none")),
        several => Err(bad_shape(&format!("found {}", several.join(", ")))),
    }
}

/// `{"predictions": [...]}`: the predicted label per row (a JSON integer when the label is
/// one, as pandas gives back an integer target), or the value for regression.
pub fn invocations_response(scored: &Scored) -> Value {
    let predictions: Vec<Value> = scored
        .rows
        .iter()
        .map(|r| match &r.prediction {
            Prediction::Label(label) => label_json(label),
            Prediction::Value(v) => json!(v),
        })
        .collect();
    json!({ "predictions": predictions })
}

/// An integer label (`"1"`, `"-3"`, written canonically) as a number, others as text.
fn label_json(label: &str) -> Value {
    match label.parse::<i64>() {
        Ok(i) if i.to_string() == label => Value::from(i),
        _ => Value::String(label.to_string()),
    }
}

/// `{column: [values], ...}` (all the same length), or `{column: value}` for one row.
fn from_columns(
    schema: &Schema,
    columns: Map<String, Value>,
    max_rows: usize,
) -> Result<Rows, ApiError> {
    if !columns.values().any(Value::is_array) {
        return from_records(schema, &[Value::Object(columns)], max_rows);
    }
    let mut names = Vec::with_capacity(columns.len());
    let mut values = Vec::with_capacity(columns.len());
    let mut n_rows: Option<(usize, String)> = None;
    for (name, column) in columns {
        let Value::Array(column) = column else {
            return Err(ApiError::bad_request(
                "bad_body",
                format!(
                    "inputs: column '{name}': expected an array of values, found {}",
                    show(&column)
                ),
            ));
        };
        match &n_rows {
            Some((n, first)) if *n != column.len() => {
                return Err(ApiError::bad_request(
                    "bad_body",
                    format!(
                        "inputs: column '{name}' has {} values, column '{first}' has {n}",
                        column.len()
                    ),
                ));
            }
            Some(_) => {}
            None => n_rows = Some((column.len(), name.clone())),
        }
        names.push(name);
        values.push(column);
    }
    let n_rows = n_rows.map_or(0, |(n, _)| n);
    if n_rows > max_rows {
        return Err(crate::input::too_many_rows(n_rows, max_rows));
    }
    let mut columns: Vec<std::vec::IntoIter<Value>> =
        values.into_iter().map(Vec::into_iter).collect();
    let data: Vec<Vec<Value>> = (0..n_rows)
        .map(|_| {
            columns
                .iter_mut()
                .map(|c| c.next().unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    from_split(schema, &names, &data, max_rows)
}

fn schema_columns(schema: &Schema) -> Vec<String> {
    schema.names().map(str::to_string).collect()
}

fn bad_shape(found: &str) -> ApiError {
    ApiError::bad_request(
        "bad_body",
        format!(
            "expected a json object with exactly one of the keys {}, {found}",
            INPUT_KEYS.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use capstan_learn::Task;

    use super::*;
    use crate::RowOutput;
    use crate::input::fixtures::*;

    const MAX: usize = 1000;

    #[test]
    fn every_shape_scores_like_the_file() {
        for model in models() {
            let schema = &model.bundle.manifest.input_schema;
            let records = typed_records(&model);
            let columns: Vec<String> = schema.names().map(str::to_string).collect();
            let data: Vec<Value> = records
                .iter()
                .map(|r| Value::Array(columns.iter().map(|c| r[c].clone()).collect()))
                .collect();
            let by_column: Map<String, Value> = columns
                .iter()
                .map(|c| {
                    let values: Vec<Value> = records.iter().map(|r| r[c].clone()).collect();
                    (c.clone(), Value::Array(values))
                })
                .collect();
            let bodies = [
                json!({"dataframe_split": {"columns": columns, "data": data, "index": (0..63).collect::<Vec<_>>()}}),
                json!({"dataframe_split": {"data": data}}),
                json!({"dataframe_records": records}),
                json!({"instances": records, "params": {"x": 1}}),
                json!({"inputs": by_column}),
                json!({"inputs": records}),
                json!({"columns": columns, "data": data}),
                Value::Array(text_records()),
            ];
            for body in &bodies {
                let bytes = serde_json::to_vec(body).expect("json");
                let rows = parse_invocations(schema, Some("application/json"), &bytes, MAX)
                    .unwrap_or_else(|e| panic!("{}: {body:.80}", e.message));
                assert_same_as_file(&model, &rows);
            }
            let rows = parse_invocations(schema, Some("text/csv"), &input_csv(), MAX).expect("csv");
            assert_same_as_file(&model, &rows);
            let one: Map<String, Value> = columns
                .iter()
                .map(|c| (c.clone(), records[0][c].clone()))
                .collect();
            let rows = parse_invocations(
                schema,
                None,
                &serde_json::to_vec(&json!({"inputs": one})).expect("json"),
                MAX,
            )
            .expect("one row");
            assert_eq!(rows.frame.n_rows(), 1);
        }
    }

    #[test]
    fn response_is_labels_like_pyfunc() {
        let row = |label: &str| RowOutput {
            prediction: Prediction::Label(label.to_string()),
            probabilities: Some(vec![0.5, 0.5]),
            score: 0.5,
        };
        let s = Scored {
            task: Task::Binary,
            classes: vec!["0".into(), "1".into()],
            rows: vec![row("1"), row("0")],
        };
        assert_eq!(invocations_response(&s), json!({"predictions": [1, 0]}));
        let s = Scored {
            task: Task::Multiclass { n_classes: 3 },
            classes: vec!["a".into(), "01".into(), "-2".into()],
            rows: vec![row("a"), row("01"), row("-2")],
        };
        assert_eq!(
            invocations_response(&s),
            json!({"predictions": ["a", "01", -2]})
        );
        let s = Scored {
            task: Task::Regression,
            classes: vec![],
            rows: vec![RowOutput {
                prediction: Prediction::Value(2.5),
                probabilities: None,
                score: 2.5,
            }],
        };
        assert_eq!(invocations_response(&s), json!({"predictions": [2.5]}));
    }

    #[test]
    fn shape_errors() {
        let model = model("telco_gbdt_v1");
        let schema = &model.bundle.manifest.input_schema;
        let run = |body: Value| {
            parse_invocations(schema, None, &serde_json::to_vec(&body).expect("json"), MAX)
        };
        let check = |r: Result<Rows, ApiError>, needle: &str| {
            let e = r.expect_err("error");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert!(
                e.message.contains(needle),
                "'{}' lacks '{needle}'",
                e.message
            );
        };
        check(
            run(json!({"rows": []})),
            "exactly one of the keys dataframe_split, dataframe_records, instances, inputs, found none",
        );
        check(
            run(json!({"instances": [], "inputs": []})),
            "found instances, inputs",
        );
        check(
            run(json!({"dataframe_split": [1]})),
            "dataframe_split: expected an object",
        );
        check(
            run(json!({"dataframe_split": {"columns": ["a"]}})),
            "missing key 'data'",
        );
        check(
            run(json!({"dataframe_records": {}})),
            "dataframe_records: expected an array of row objects",
        );
        check(
            run(json!({"inputs": {"gender": ["Male"], "tenure": [1, 2]}})),
            "column 'tenure' has 2 values, column 'gender' has 1",
        );
        check(
            run(json!({"inputs": {"gender": ["Male"], "tenure": 1}})),
            "column 'tenure': expected an array of values",
        );
        check(
            run(json!({"inputs": 3})),
            "inputs: expected an object of columns or an array",
        );
        check(run(json!({"instances": []})), "no rows");
        check(run(json!("x")), "found \"x\"");
        let many = json!({"inputs": {"gender": vec!["Male"; 5]}});
        let e = parse_invocations(schema, None, &serde_json::to_vec(&many).expect("json"), 4)
            .expect_err("too many");
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
