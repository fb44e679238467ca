//! Request bodies to a typed [`Frame`] with the model's input schema.
//!
//! Every parser gives the frame `capstan predict` would read from the same rows in a file:
//! columns in schema order, typed as the schema says, text cells parsed by the CSV reader's
//! parsers, `""` read as null. Errors are 400 (413 for too many rows) and name the row (a
//! 0-based index into the request's rows; CSV bodies name the line, the header being line
//! 1), the column and what was expected.

use std::path::Path;

use axum::http::StatusCode;
use capstan_frame::{
    Cell, Column, Frame, FrameBuilder, FrameError, ReadBytesError, ReadOptions, Schema,
};
use serde_json::{Map, Value};

use crate::ApiError;

/// Parsed rows: the frame to score and each row as received, for the prediction log.
#[derive(Debug, Clone)]
pub struct Rows {
    pub frame: Frame,
    /// One JSON object per row, column -> value (JSON bodies: as sent, unknown keys
    /// included; CSV and tensor bodies: the typed values).
    pub records: Vec<Value>,
}

/// Most characters of a value quoted in an error message.
const MAX_SHOWN_CHARS: usize = 60;

/// Rows from an array of objects, one per row. Every input column must be present in every
/// row (`null` is a value); unknown keys are ignored.
pub fn from_records(schema: &Schema, rows: &[Value], max_rows: usize) -> Result<Rows, ApiError> {
    check_count(rows.len(), max_rows)?;
    let mut builder = FrameBuilder::new(schema, &null_values(), rows.len());
    for (i, row) in rows.iter().enumerate() {
        let Value::Object(object) = row else {
            return Err(ApiError::bad_request(
                "bad_row",
                format!(
                    "row {i}: expected a json object of column values, found {}",
                    show(row)
                ),
            ));
        };
        for (j, field) in schema.fields.iter().enumerate() {
            let value = object
                .get(&field.name)
                .ok_or_else(|| missing_column(schema, &field.name, Some(i)))?;
            push(&mut builder, j, value, || {
                format!("row {i}, column '{}'", field.name)
            })?;
        }
    }
    Ok(Rows {
        frame: finish(builder)?,
        records: rows.to_vec(),
    })
}

/// Rows in pandas' "split" orientation: column names, then one array of values per row.
/// Every input column must be named; other columns are ignored.
pub fn from_split(
    schema: &Schema,
    columns: &[String],
    data: &[Vec<Value>],
    max_rows: usize,
) -> Result<Rows, ApiError> {
    check_count(data.len(), max_rows)?;
    for (k, name) in columns.iter().enumerate() {
        if columns[..k].contains(name) {
            return Err(ApiError::bad_request(
                "duplicate_column",
                format!("columns: '{name}' is named twice"),
            ));
        }
    }
    let positions = schema
        .fields
        .iter()
        .map(|f| {
            columns
                .iter()
                .position(|c| *c == f.name)
                .ok_or_else(|| missing_column(schema, &f.name, None))
        })
        .collect::<Result<Vec<usize>, ApiError>>()?;
    let mut builder = FrameBuilder::new(schema, &null_values(), data.len());
    for (i, row) in data.iter().enumerate() {
        if row.len() != columns.len() {
            return Err(ApiError::bad_request(
                "bad_row",
                format!(
                    "row {i}: expected {} values as in columns, found {}",
                    columns.len(),
                    row.len()
                ),
            ));
        }
        for ((j, field), &k) in schema.fields.iter().enumerate().zip(&positions) {
            push(&mut builder, j, &row[k], || {
                format!("row {i}, column '{}'", field.name)
            })?;
        }
    }
    let records = data
        .iter()
        .map(|row| {
            let object: Map<String, Value> =
                columns.iter().cloned().zip(row.iter().cloned()).collect();
            Value::Object(object)
        })
        .collect();
    Ok(Rows {
        frame: finish(builder)?,
        records,
    })
}

/// Rows from CSV text with a header, read exactly as `capstan predict` reads a `.csv`
/// file with the model's schema. Columns not in the schema are read (and logged) but not
/// scored.
pub fn from_csv(schema: &Schema, body: &[u8], max_rows: usize) -> Result<Rows, ApiError> {
    let opts = ReadOptions {
        schema: Some(schema.clone()),
        ..ReadOptions::default()
    };
    let read = capstan_frame::read_csv_bytes(body, Path::new("csv body"), &opts, Some(max_rows))
        .map_err(csv_error)?;
    let columns = schema
        .fields
        .iter()
        .map(|f| {
            read.column(&f.name)
                .map(|c| (f.name.clone(), c.clone()))
                .ok_or_else(|| missing_column(schema, &f.name, None))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let frame = Frame::from_columns(columns).map_err(frame_error)?;
    Ok(Rows {
        records: records_of(&read),
        frame,
    })
}

/// The native API's body: `text/csv`, or JSON `{"records": [...]}`,
/// `{"columns": [...], "data": [[...]]}`, an array of row objects, or one row object.
/// Wrapper keys are read as such only when the schema has no column of that name.
pub fn from_native_body(
    schema: &Schema,
    content_type: Option<&str>,
    body: &[u8],
    max_rows: usize,
) -> Result<Rows, ApiError> {
    if is_csv(content_type) {
        return from_csv(schema, body, max_rows);
    }
    match parse_json(body, content_type)? {
        Value::Array(rows) => from_records(schema, &rows, max_rows),
        Value::Object(mut object) => {
            let is_wrapper = |key: &str| schema.field(key).is_none() && object.contains_key(key);
            if is_wrapper("records") {
                let rows = take_array(&mut object, "records", "an array of row objects")?;
                from_records(schema, &rows, max_rows)
            } else if is_wrapper("columns") && is_wrapper("data") {
                split_from_object(schema, &mut object, None, max_rows)
            } else {
                from_records(schema, &[Value::Object(object)], max_rows)
            }
        }
        other => Err(ApiError::bad_request(
            "bad_body",
            format!(
                "expected a json object or array of rows, found {}",
                show(&other)
            ),
        )),
    }
}

// ---- helpers shared by the other request formats ----

/// True for `text/csv` and `application/csv` (parameters such as `charset` ignored).
pub(crate) fn is_csv(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("text/csv") || essence.eq_ignore_ascii_case("application/csv")
    })
}

/// The body as JSON; errors give serde's position.
pub(crate) fn parse_json(body: &[u8], content_type: Option<&str>) -> Result<Value, ApiError> {
    if body.trim_ascii().is_empty() {
        return Err(ApiError::bad_request(
            "empty_body",
            "empty body: expected json rows (or text/csv with a content-type header)",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        let hint = match content_type {
            Some(ct) if !ct.to_ascii_lowercase().contains("json") => {
                format!(" (content-type is '{ct}': send application/json or text/csv)")
            }
            _ => String::new(),
        };
        ApiError::bad_request("invalid_json", format!("invalid json: {e}{hint}"))
    })
}

/// 400 for no rows, 413 above the limit.
pub(crate) fn check_count(n_rows: usize, max_rows: usize) -> Result<(), ApiError> {
    if n_rows == 0 {
        return Err(ApiError::bad_request(
            "no_rows",
            "no rows: the request holds no rows to score",
        ));
    }
    if n_rows > max_rows {
        return Err(too_many_rows(n_rows, max_rows));
    }
    Ok(())
}

pub(crate) fn too_many_rows(n_rows: usize, max_rows: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_many_rows",
        format!("{n_rows} rows is more than the limit of {max_rows} rows per request"),
    )
}

/// `missing column 'x' (expected columns: a, b, ...)`, prefixed by the row when given.
pub(crate) fn missing_column(schema: &Schema, name: &str, row: Option<usize>) -> ApiError {
    let expected: Vec<&str> = schema.names().collect();
    let at = row.map_or(String::new(), |i| format!("row {i}: "));
    ApiError::bad_request(
        "missing_column",
        format!(
            "{at}missing column '{name}' (expected columns: {})",
            expected.join(", ")
        ),
    )
}

/// The cell a JSON value stands for.
pub(crate) fn cell_of(value: &Value) -> Cell<'_> {
    match value {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Cell::Int(i)
            } else if let Some(u) = n.as_u64() {
                Cell::UInt(u)
            } else {
                n.as_f64().map_or(Cell::Nested, Cell::Float)
            }
        }
        Value::String(s) => Cell::Text(s),
        Value::Array(_) | Value::Object(_) => Cell::Nested,
    }
}

/// Pushes one JSON value; `at` names where it is for the error (`row 3, column 'x'`).
pub(crate) fn push(
    builder: &mut FrameBuilder,
    column: usize,
    value: &Value,
    at: impl FnOnce() -> String,
) -> Result<(), ApiError> {
    builder.push(column, cell_of(value)).map_err(|e| {
        ApiError::bad_request(
            "bad_value",
            format!("{}: expected {}, found {}", at(), e.expected, show(value)),
        )
    })
}

pub(crate) fn finish(builder: FrameBuilder) -> Result<Frame, ApiError> {
    builder.finish().map_err(frame_error)
}

/// The null texts of the file readers (an empty string).
pub(crate) fn null_values() -> Vec<String> {
    ReadOptions::default().null_values
}

/// A JSON value as compact text, cut to a readable length.
pub(crate) fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_SHOWN_CHARS {
        text
    } else {
        let head: String = text.chars().take(MAX_SHOWN_CHARS).collect();
        format!("{head}...")
    }
}

/// Removes `key` from `object` as an array; 400 naming the key when it is not one.
pub(crate) fn take_array(
    object: &mut Map<String, Value>,
    key: &str,
    expected: &str,
) -> Result<Vec<Value>, ApiError> {
    match object.remove(key) {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(ApiError::bad_request(
            "bad_body",
            format!("{key}: expected {expected}, found {}", show(&other)),
        )),
        None => Err(ApiError::bad_request(
            "bad_body",
            format!("missing key '{key}' (expected {expected})"),
        )),
    }
}

/// `{"columns": [...], "data": [[...]]}` (other keys such as pandas' "index" ignored).
/// Without "columns", `default_columns` are used when given (the schema's order).
pub(crate) fn split_from_object(
    schema: &Schema,
    object: &mut Map<String, Value>,
    default_columns: Option<Vec<String>>,
    max_rows: usize,
) -> Result<Rows, ApiError> {
    let columns = match (object.contains_key("columns"), default_columns) {
        (false, Some(columns)) => columns,
        _ => take_array(object, "columns", "an array of column names")?
            .into_iter()
            .enumerate()
            .map(|(k, v)| match v {
                Value::String(s) => Ok(s),
                other => Err(ApiError::bad_request(
                    "bad_body",
                    format!(
                        "columns[{k}]: expected a column name, found {}",
                        show(&other)
                    ),
                )),
            })
            .collect::<Result<Vec<String>, ApiError>>()?,
    };
    let data = take_array(object, "data", "an array of rows (arrays of values)")?
        .into_iter()
        .enumerate()
        .map(|(i, row)| match row {
            Value::Array(values) => Ok(values),
            other => Err(ApiError::bad_request(
                "bad_row",
                format!(
                    "row {i}: expected an array of values, found {}",
                    show(&other)
                ),
            )),
        })
        .collect::<Result<Vec<Vec<Value>>, ApiError>>()?;
    from_split(schema, &columns, &data, max_rows)
}

/// Each row of `frame` as a JSON object of its typed values (dates as text).
pub(crate) fn records_of(frame: &Frame) -> Vec<Value> {
    let names: Vec<&str> = frame.schema().names().collect();
    (0..frame.n_rows())
        .map(|i| {
            let object: Map<String, Value> = names
                .iter()
                .zip(frame.columns())
                .map(|(name, column)| (name.to_string(), value_at(column, i)))
                .collect();
            Value::Object(object)
        })
        .collect()
}

fn value_at(column: &Column, i: usize) -> Value {
    if column.is_null(i) {
        return Value::Null;
    }
    match column {
        Column::Integer(a) => Value::from(a.value(i)),
        // Non-finite floats have no JSON number: null.
        Column::Float(a) => Value::from(a.value(i)),
        Column::Boolean(a) => Value::Bool(a.value(i)),
        Column::String(a) => Value::String(a.value(i).to_string()),
        Column::Date(_) | Column::Datetime(_) => {
            column.display_at(i).map_or(Value::Null, Value::String)
        }
    }
}

fn csv_error(e: ReadBytesError) -> ApiError {
    match e {
        ReadBytesError::TooManyRows { max } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_rows",
            format!("more than {max} rows: the limit per request is {max}"),
        ),
        ReadBytesError::Frame(e) => match e {
            FrameError::Empty { .. } => ApiError::bad_request(
                "no_rows",
                "no rows: expected a csv header row and at least one data row",
            ),
            FrameError::BadValue {
                row,
                column,
                expected,
                value,
                ..
            } => ApiError::bad_request(
                "bad_value",
                format!("csv line {row}, column '{column}': expected {expected}, found '{value}'"),
            ),
            FrameError::Ragged {
                row,
                expected,
                found,
                ..
            } => ApiError::bad_request(
                "bad_row",
                format!(
                    "csv line {row}: expected {expected} fields as in the header, found {found}"
                ),
            ),
            other => ApiError::bad_request("bad_csv", other.to_string()),
        },
    }
}

fn frame_error(e: FrameError) -> ApiError {
    ApiError::internal(format!("building the input frame: {e}"))
}

/// Fixtures shared by the parser tests: the frozen telco bundles and the same rows read
/// as `capstan predict` reads a file.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::path::PathBuf;

    use capstan_bundle::Bundle;
    use capstan_frame::{Frame, ReadOptions};

    use super::Rows;
    use crate::output::{score, scored};
    use crate::{LoadedModel, Scored};

    pub fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../capstan-bundle/tests/fixtures")
            .join(name)
    }

    /// `telco_gbdt_v1` or `telco_linear_v1`.
    pub fn model(stem: &str) -> LoadedModel {
        let bundle = Bundle::read(fixture(&format!("{stem}.capstan"))).expect("frozen bundle");
        LoadedModel::new("churn".to_string(), 1, String::new(), bundle)
    }

    pub fn models() -> Vec<LoadedModel> {
        vec![model("telco_gbdt_v1"), model("telco_linear_v1")]
    }

    /// 60 telco rows and 3 with an empty `total_charges`, with the target column.
    pub fn input_csv() -> Vec<u8> {
        std::fs::read(fixture("telco_v1.input.csv")).expect("fixture csv")
    }

    /// The input rows as `capstan predict` reads them for `model`.
    pub fn file_frame(model: &LoadedModel) -> Frame {
        let opts = ReadOptions {
            schema: Some(model.bundle.manifest.input_schema.clone()),
            ..ReadOptions::default()
        };
        capstan_frame::read(&fixture("telco_v1.input.csv"), &opts).expect("fixture reads")
    }

    /// What `capstan predict` computes for the input rows.
    pub fn file_scored(model: &LoadedModel) -> Scored {
        let frame = file_frame(model);
        let p = model.bundle.predict(&frame).expect("file predicts");
        scored(&model.bundle.manifest.target, &p, frame.n_rows()).expect("consistent")
    }

    /// The input rows as JSON objects of typed values (numbers, strings, null).
    pub fn typed_records(model: &LoadedModel) -> Vec<serde_json::Value> {
        super::records_of(&file_frame(model))
    }

    /// The input rows as JSON objects whose every value is the CSV cell's text.
    pub fn text_records() -> Vec<serde_json::Value> {
        let text = String::from_utf8(input_csv()).expect("utf-8");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        lines
            .map(|line| {
                let object: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .zip(line.split(','))
                    .map(|(k, v)| (k.to_string(), serde_json::Value::from(v)))
                    .collect();
                serde_json::Value::Object(object)
            })
            .collect()
    }

    /// Scores `rows` and checks every output equals the file's, bit for bit.
    pub fn assert_same_as_file(model: &LoadedModel, rows: &Rows) {
        let got = score(model, rows).expect("scores");
        let want = file_scored(model);
        assert_eq!(got.rows.len(), want.rows.len());
        for (i, (g, w)) in got.rows.iter().zip(&want.rows).enumerate() {
            assert_eq!(g.score.to_bits(), w.score.to_bits(), "row {i}");
            let bits = |p: &Option<Vec<f64>>| {
                p.as_ref()
                    .map(|p| p.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            };
            assert_eq!(bits(&g.probabilities), bits(&w.probabilities), "row {i}");
        }
        assert_eq!(got, want);
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::{Value, json};

    use super::fixtures::*;
    use super::*;

    const MAX: usize = 1000;

    fn json_body(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).expect("serializes")
    }

    fn schema_of(model: &crate::LoadedModel) -> &Schema {
        &model.bundle.manifest.input_schema
    }

    #[test]
    fn json_records_score_like_the_file() {
        for model in models() {
            let schema = schema_of(&model);
            let typed = typed_records(&model);
            let bodies = [
                Value::Array(typed.clone()),
                json!({ "records": typed.clone() }),
                Value::Array(text_records()),
            ];
            for body in &bodies {
                let rows =
                    from_native_body(schema, Some("application/json"), &json_body(body), MAX)
                        .expect("parses");
                assert_eq!(rows.frame, file_frame(&model).drop_columns(&["churn"]));
                assert_same_as_file(&model, &rows);
            }
            // Records are kept as received, unknown keys included.
            let rows = from_native_body(schema, None, &json_body(&bodies[2]), MAX).expect("parses");
            assert_eq!(rows.records, text_records());
        }
    }

    #[test]
    fn split_and_csv_score_like_the_file() {
        for model in models() {
            let schema = schema_of(&model);
            let typed = typed_records(&model);
            let mut columns: Vec<String> = schema.names().map(str::to_string).collect();
            columns.reverse();
            let data: Vec<Value> = typed
                .iter()
                .map(|r| Value::Array(columns.iter().map(|c| r[c].clone()).collect()))
                .collect();
            let body = json!({ "columns": columns, "data": data, "index": [0] });
            let rows = from_native_body(schema, None, &json_body(&body), MAX).expect("split");
            assert_same_as_file(&model, &rows);

            let rows = from_native_body(schema, Some("text/csv; charset=utf-8"), &input_csv(), MAX)
                .expect("csv");
            assert_same_as_file(&model, &rows);
            // The csv's records keep its extra columns, typed.
            assert_eq!(rows.records[0]["churn"], json!(0));
            assert_eq!(rows.records[0]["tenure"], json!(1));
            assert_eq!(rows.records[60]["total_charges"], Value::Null);
        }
    }

    #[test]
    fn csv_body_reproduces_the_frozen_predictions() {
        let model = model("telco_gbdt_v1");
        let rows = from_csv(schema_of(&model), &input_csv(), MAX).expect("csv");
        let scored = crate::output::score(&model, &rows).expect("scores");
        let frozen = capstan_frame::read(
            &fixture("telco_gbdt_v1.predictions.csv"),
            &ReadOptions::default(),
        )
        .expect("frozen predictions");
        let Some(Column::Float(p1)) = frozen.column("proba_1") else {
            panic!("proba_1 is a float column");
        };
        for (i, row) in scored.rows.iter().enumerate() {
            assert_eq!(row.score.to_bits(), p1.value(i).to_bits(), "row {i}");
        }
    }

    #[test]
    fn one_object_is_one_row() {
        let model = model("telco_gbdt_v1");
        let first = typed_records(&model)[0].clone();
        let rows = from_native_body(schema_of(&model), None, &json_body(&first), MAX).expect("row");
        assert_eq!(rows.frame.n_rows(), 1);
        assert_eq!(rows.records, vec![first]);
        let all = from_native_body(
            schema_of(&model),
            None,
            &json_body(&Value::Array(typed_records(&model))),
            MAX,
        )
        .expect("rows");
        let one = crate::output::score(&model, &rows).expect("scores");
        let many = crate::output::score(&model, &all).expect("scores");
        assert_eq!(one.rows[0], many.rows[0]);
    }

    #[test]
    fn numbers_as_strings_and_whole_floats_are_accepted() {
        let model = model("telco_gbdt_v1");
        let mut row = typed_records(&model)[1].clone();
        let want = from_records(schema_of(&model), &[row.clone()], MAX).expect("row");
        row["tenure"] = json!(34.0);
        row["monthly_charges"] = json!("56.95");
        row["senior_citizen"] = json!(" 0 ");
        let got = from_records(schema_of(&model), &[row], MAX).expect("row");
        assert_eq!(got.frame, want.frame);
    }

    fn expect_error(result: Result<Rows, ApiError>, status: StatusCode, needles: &[&str]) {
        let e = result.expect_err("expected an error");
        assert_eq!(e.status, status, "{}", e.message);
        for needle in needles {
            assert!(
                e.message.contains(needle),
                "'{}' does not contain '{needle}'",
                e.message
            );
        }
    }

    #[test]
    fn errors_name_the_row_column_and_value() {
        let model = model("telco_gbdt_v1");
        let schema = schema_of(&model);
        let mut rows = typed_records(&model);
        rows[3]["tenure"] = json!("abc");
        expect_error(
            from_records(schema, &rows, MAX),
            StatusCode::BAD_REQUEST,
            &[r#"row 3, column 'tenure': expected an integer, found "abc""#],
        );
        rows[3]["tenure"] = json!(1.5);
        expect_error(
            from_records(schema, &rows, MAX),
            StatusCode::BAD_REQUEST,
            &["row 3, column 'tenure': expected an integer, found 1.5"],
        );
        rows[3]["tenure"] = json!([1]);
        expect_error(
            from_records(schema, &rows, MAX),
            StatusCode::BAD_REQUEST,
            &["row 3, column 'tenure': expected an integer, found [1]"],
        );
        rows[3]["tenure"] = json!(1);
        rows[2].as_object_mut().expect("object").remove("tenure");
        expect_error(
            from_records(schema, &rows, MAX),
            StatusCode::BAD_REQUEST,
            &[
                "row 2: missing column 'tenure'",
                "(expected columns: gender, senior_citizen",
            ],
        );
        expect_error(
            from_records(schema, &[json!([1, 2])], MAX),
            StatusCode::BAD_REQUEST,
            &["row 0: expected a json object of column values, found [1,2]"],
        );
        let e = from_records(schema, &[json!({"tenure": "x".repeat(500)})], MAX)
            .expect_err("missing columns");
        assert!(e.message.len() < 600, "{}", e.message);
    }

    #[test]
    fn split_errors() {
        let model = model("telco_gbdt_v1");
        let schema = schema_of(&model);
        let columns: Vec<String> = schema.names().map(str::to_string).collect();
        let row: Vec<Value> = columns
            .iter()
            .map(|c| typed_records(&model)[0][c].clone())
            .collect();
        let short = row[..5].to_vec();
        expect_error(
            from_split(schema, &columns, &[row.clone(), short], MAX),
            StatusCode::BAD_REQUEST,
            &["row 1: expected 19 values as in columns, found 5"],
        );
        expect_error(
            from_split(schema, &columns[1..], &[row[1..].to_vec()], MAX),
            StatusCode::BAD_REQUEST,
            &["missing column 'gender'"],
        );
        let mut twice = columns.clone();
        twice.push("gender".to_string());
        let mut longer = row.clone();
        longer.push(json!("Male"));
        expect_error(
            from_split(schema, &twice, &[longer], MAX),
            StatusCode::BAD_REQUEST,
            &["'gender' is named twice"],
        );
        let mut bad = row.clone();
        bad[17] = json!(true);
        expect_error(
            from_split(schema, &columns, &[row.clone(), bad], MAX),
            StatusCode::BAD_REQUEST,
            &["row 1, column 'monthly_charges': expected a number, found true"],
        );
        expect_error(
            from_split(schema, &columns, &vec![row; 3], 2),
            StatusCode::PAYLOAD_TOO_LARGE,
            &["3 rows is more than the limit of 2"],
        );
    }

    #[test]
    fn body_errors() {
        let model = model("telco_gbdt_v1");
        let schema = schema_of(&model);
        let parse =
            |ct: Option<&str>, body: &[u8], max: usize| from_native_body(schema, ct, body, max);
        expect_error(
            parse(None, b"{\"records\": [", MAX),
            StatusCode::BAD_REQUEST,
            &["invalid json", "line 1 column 13"],
        );
        expect_error(
            parse(Some("application/x-www-form-urlencoded"), b"a=1", MAX),
            StatusCode::BAD_REQUEST,
            &[
                "invalid json",
                "content-type is 'application/x-www-form-urlencoded'",
            ],
        );
        expect_error(
            parse(None, b"", MAX),
            StatusCode::BAD_REQUEST,
            &["empty body"],
        );
        expect_error(
            parse(None, b"[]", MAX),
            StatusCode::BAD_REQUEST,
            &["no rows"],
        );
        expect_error(
            parse(None, b"{\"records\": []}", MAX),
            StatusCode::BAD_REQUEST,
            &["no rows"],
        );
        expect_error(
            parse(None, b"{\"records\": 3}", MAX),
            StatusCode::BAD_REQUEST,
            &["records: expected an array of row objects, found 3"],
        );
        expect_error(
            parse(None, b"42", MAX),
            StatusCode::BAD_REQUEST,
            &["found 42"],
        );
        let many = json_body(&Value::Array(typed_records(&model)));
        expect_error(
            parse(None, &many, 10),
            StatusCode::PAYLOAD_TOO_LARGE,
            &["63 rows is more than the limit of 10 rows per request"],
        );
        expect_error(
            parse(Some("text/csv"), &input_csv(), 10),
            StatusCode::PAYLOAD_TOO_LARGE,
            &["more than 10 rows"],
        );
        let csv = String::from_utf8(input_csv()).expect("utf-8");
        let bad = csv.replacen(",34,", ",3x4,", 1);
        expect_error(
            parse(Some("text/csv"), bad.as_bytes(), MAX),
            StatusCode::BAD_REQUEST,
            &["csv line 3, column 'tenure': expected integer, found '3x4'"],
        );
        let ragged = csv.replacen(",34,", ",", 1);
        expect_error(
            parse(Some("text/csv"), ragged.as_bytes(), MAX),
            StatusCode::BAD_REQUEST,
            &["csv line 3: expected 20 fields as in the header, found 19"],
        );
        let no_tenure = csv.replace("tenure", "tenures");
        expect_error(
            parse(Some("text/csv"), no_tenure.as_bytes(), MAX),
            StatusCode::BAD_REQUEST,
            &["missing column 'tenure'"],
        );
        expect_error(
            parse(Some("text/csv"), b"gender,tenure\n", MAX),
            StatusCode::BAD_REQUEST,
            &["no rows"],
        );
        expect_error(
            parse(Some("text/csv"), b"", MAX),
            StatusCode::BAD_REQUEST,
            &["no rows"],
        );
    }

    #[test]
    fn wrapper_keys_that_are_columns_are_columns() {
        let f = |name: &str| capstan_frame::Field {
            name: name.to_string(),
            dtype: capstan_frame::DataType::Integer,
            nullable: false,
        };
        let schema = Schema::new(vec![f("records"), f("x")]);
        let rows =
            from_native_body(&schema, None, br#"{"records": 1, "x": 2}"#, MAX).expect("one row");
        assert_eq!(rows.frame.n_rows(), 1);
    }
}

/// Random and mutated bodies fed to every parser: no panic, and any refusal is a 4xx.
#[cfg(test)]
mod garbage {
    use axum::http::{HeaderMap, HeaderValue};
    use capstan_io::rng::Rng;
    use serde_json::{Value, json};

    use super::fixtures::*;
    use super::*;
    use crate::{mlflow, output, v2};

    const KEYS: &[&str] = &[
        "records",
        "columns",
        "data",
        "index",
        "inputs",
        "outputs",
        "instances",
        "dataframe_split",
        "dataframe_records",
        "name",
        "shape",
        "datatype",
        "parameters",
        "binary_data_size",
        "id",
        "gender",
        "tenure",
        "monthly_charges",
        "total_charges",
        "senior_citizen",
        "contract",
        "",
    ];
    const TEXTS: &[&str] = &[
        "",
        " ",
        "abc",
        "42",
        "-0",
        "1e400",
        "NaN",
        "inf",
        "true",
        "False",
        "2024-02-29",
        "1970-01-01T00:00:00.5",
        "Male",
        "Month-to-month",
        "INT64",
        "FP32",
        "BYTES",
        "FP16",
        "BOOL",
        "UINT8",
        "\u{0}",
        "é\u{1F600}",
        "9223372036854775808",
    ];

    fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
        &items[rng.below(items.len() as u64) as usize]
    }

    fn random_value(rng: &mut Rng, depth: u32) -> Value {
        let kinds = if depth == 0 { 6 } else { 8 };
        match rng.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(rng.below(2) == 1),
            2 => json!(*pick(rng, &[0i64, 1, -1, 3, 63, 255, i64::MIN, i64::MAX])),
            3 => json!(*pick(rng, &[u64::MAX, 1u64 << 63, 1 << 40])),
            4 => json!(*pick(rng, &[0.5, -0.0, 1e300, 3.0, 29.85, -1e-300])),
            5 => Value::String(pick(rng, TEXTS).to_string()),
            6 => {
                let n = rng.below(5);
                Value::Array((0..n).map(|_| random_value(rng, depth - 1)).collect())
            }
            _ => {
                let n = rng.below(5);
                Value::Object(
                    (0..n)
                        .map(|_| (pick(rng, KEYS).to_string(), random_value(rng, depth - 1)))
                        .collect(),
                )
            }
        }
    }

    /// `value` with one random node replaced by a random value.
    fn mutate(rng: &mut Rng, value: &mut Value) {
        let descend = rng.below(4) != 0;
        match value {
            Value::Array(items) if descend && !items.is_empty() => {
                let i = rng.below(items.len() as u64) as usize;
                if rng.below(8) == 0 {
                    items.remove(i);
                } else {
                    mutate(rng, &mut items[i]);
                }
            }
            Value::Object(map) if descend && !map.is_empty() => {
                let key = pick(rng, &map.keys().cloned().collect::<Vec<_>>()).clone();
                if rng.below(8) == 0 {
                    map.remove(&key);
                } else if let Some(v) = map.get_mut(&key) {
                    mutate(rng, v);
                }
            }
            _ => *value = random_value(rng, 3),
        }
    }

    fn check(what: &str, body: &[u8], result: Result<Rows, ApiError>, model: &crate::LoadedModel) {
        match result {
            Ok(rows) => {
                assert!(rows.frame.n_rows() > 0, "{what}: empty frame accepted");
                if let Err(e) = output::score(model, &rows) {
                    assert!(
                        e.status.is_client_error(),
                        "{what}: {} on {:?}",
                        e.message,
                        String::from_utf8_lossy(body)
                    );
                }
            }
            Err(e) => assert!(
                e.status.is_client_error(),
                "{what}: {} {} on {:?}",
                e.status,
                e.message,
                String::from_utf8_lossy(body)
            ),
        }
    }

    fn all_parsers(model: &crate::LoadedModel, headers: &HeaderMap, body: &[u8]) {
        let schema = &model.bundle.manifest.input_schema;
        let max = 100;
        check(
            "native json",
            body,
            from_native_body(schema, None, body, max),
            model,
        );
        check(
            "native csv",
            body,
            from_native_body(schema, Some("text/csv"), body, max),
            model,
        );
        check(
            "mlflow",
            body,
            mlflow::parse_invocations(schema, None, body, max),
            model,
        );
        check(
            "v2",
            body,
            v2::parse_infer(schema, headers, body, max).map(|(_, rows)| rows),
            model,
        );
        if let Err(e) = v2::parse_header(headers, body) {
            assert!(e.status.is_client_error(), "v2 header: {}", e.message);
        }
        if let Ok(Value::Array(rows)) = serde_json::from_slice::<Value>(body) {
            check("records", body, from_records(schema, &rows, max), model);
        }
    }

    /// Valid bodies of every format for the first rows, to mutate.
    fn seeds(model: &crate::LoadedModel) -> Vec<Value> {
        let schema = &model.bundle.manifest.input_schema;
        let records: Vec<Value> = typed_records(model).into_iter().take(3).collect();
        let columns: Vec<String> = schema.names().map(str::to_string).collect();
        let data: Vec<Value> = records
            .iter()
            .map(|r| Value::Array(columns.iter().map(|c| r[c].clone()).collect()))
            .collect();
        let inputs: Vec<Value> = schema
            .fields
            .iter()
            .map(|f| {
                let values: Vec<Value> = records.iter().map(|r| r[&f.name].clone()).collect();
                let datatype = match f.dtype {
                    capstan_frame::DataType::Integer => "INT64",
                    capstan_frame::DataType::Float => "FP64",
                    _ => "BYTES",
                };
                json!({"name": f.name, "shape": [3], "datatype": datatype, "data": values})
            })
            .collect();
        vec![
            Value::Array(records.clone()),
            json!({"records": records}),
            json!({"columns": columns, "data": data}),
            json!({"dataframe_split": {"columns": columns, "data": data}}),
            json!({"instances": records}),
            json!({"inputs": inputs, "outputs": [{"name": "prediction"}]}),
        ]
    }

    #[test]
    fn random_and_mutated_bodies_never_panic() {
        let model = model("telco_gbdt_v1");
        let mut rng = Rng::new(7);
        let none = HeaderMap::new();
        let seeds = seeds(&model);
        for seed in &seeds {
            all_parsers(&model, &none, &serde_json::to_vec(seed).expect("json"));
        }
        for _ in 0..3000 {
            let mut body = pick(&mut rng, &seeds).clone();
            for _ in 0..=rng.below(3) {
                mutate(&mut rng, &mut body);
            }
            all_parsers(&model, &none, &serde_json::to_vec(&body).expect("json"));
        }
        for _ in 0..1000 {
            let body = random_value(&mut rng, 4);
            all_parsers(&model, &none, &serde_json::to_vec(&body).expect("json"));
        }
    }

    /// A binary-extension v2 body for the first 3 rows: JSON header length, body.
    fn binary_seed(model: &crate::LoadedModel) -> (usize, Vec<u8>) {
        let records: Vec<Value> = typed_records(model).into_iter().take(3).collect();
        let mut inputs = Vec::new();
        let mut blobs: Vec<u8> = Vec::new();
        for f in &model.bundle.manifest.input_schema.fields {
            let mut blob = Vec::new();
            let datatype = match f.dtype {
                capstan_frame::DataType::Integer => {
                    for r in &records {
                        blob.extend(r[&f.name].as_i64().unwrap_or(0).to_le_bytes());
                    }
                    "INT64"
                }
                capstan_frame::DataType::Float => {
                    for r in &records {
                        blob.extend(r[&f.name].as_f64().unwrap_or(f64::NAN).to_le_bytes());
                    }
                    "FP64"
                }
                _ => {
                    for r in &records {
                        let text = r[&f.name].as_str().unwrap_or_default();
                        blob.extend((text.len() as u32).to_le_bytes());
                        blob.extend(text.as_bytes());
                    }
                    "BYTES"
                }
            };
            inputs.push(json!({"name": f.name, "shape": [3], "datatype": datatype,
                "parameters": {"binary_data_size": blob.len()}}));
            blobs.extend(blob);
        }
        let mut body = serde_json::to_vec(&json!({"inputs": inputs})).expect("json");
        let n = body.len();
        let mut headers = HeaderMap::new();
        headers.insert(
            v2::HEADER_CONTENT_LENGTH,
            HeaderValue::from_str(&n.to_string()).expect("header"),
        );
        body.extend(blobs);
        let rows = v2::parse_infer(&model.bundle.manifest.input_schema, &headers, &body, 10)
            .expect("the seed is valid");
        assert_eq!(rows.1.frame.n_rows(), 3);
        (n, body)
    }

    #[test]
    fn random_bytes_never_panic() {
        let model = model("telco_gbdt_v1");
        let mut rng = Rng::new(11);
        let csv = input_csv();
        let json_seed = serde_json::to_vec(&seeds(&model)[5]).expect("json");
        let (binary_header, binary_seed) = binary_seed(&model);
        for round in 0..2000 {
            let mut body: Vec<u8> = match round % 4 {
                0 => (0..rng.below(200)).map(|_| rng.below(256) as u8).collect(),
                1 => csv[..rng.below(csv.len() as u64) as usize].to_vec(),
                2 => json_seed.clone(),
                _ => binary_seed.clone(),
            };
            // Flip a few bytes, sometimes to CSV or JSON punctuation.
            for _ in 0..rng.below(4) {
                if body.is_empty() {
                    break;
                }
                let i = rng.below(body.len() as u64) as usize;
                body[i] = *pick(&mut rng, b",\n\"{}[]:0aZ\xff\x00");
            }
            let mut headers = HeaderMap::new();
            if round % 4 == 3 && rng.below(2) == 0 {
                // Flips in the tensors only, with the right header length.
                let n = binary_header.min(body.len());
                headers.insert(
                    v2::HEADER_CONTENT_LENGTH,
                    HeaderValue::from_str(&n.to_string()).expect("header"),
                );
                body = binary_seed.clone();
                for _ in 0..=rng.below(3) {
                    let i = n + rng.below((body.len() - n) as u64) as usize;
                    body[i] = rng.below(256) as u8;
                }
                if rng.below(2) == 0 {
                    body.truncate(n + rng.below((body.len() - n) as u64) as usize);
                }
            } else if rng.below(2) == 0 {
                let n = rng.below(body.len() as u64 + 10);
                headers.insert(
                    v2::HEADER_CONTENT_LENGTH,
                    HeaderValue::from_str(&n.to_string()).expect("header"),
                );
                // A binary part for the tensors, often of the wrong size.
                body.extend((0..rng.below(64)).map(|_| rng.below(256) as u8));
            }
            all_parsers(&model, &headers, &body);
        }
    }
}
