//! KServe / Triton Open Inference Protocol (v2): infer requests, responses and metadata.
//!
//! Each input tensor is one column (shape `[n]` or `[n, 1]`, data flat or nested), named as
//! the schema's field. One input of shape `[n, n_columns]` under another name is read as a
//! row-major table with the schema's columns in order. Tensor data is JSON (`data`) or, with
//! the binary tensor extension (the `Inference-Header-Content-Length` header, what
//! tritonclient sends by default), raw little-endian bytes after the JSON header for the
//! inputs whose `parameters.binary_data_size` is set. Responses are JSON only.
//!
//! Elements become cells as in [`crate::input`]: BYTES elements are text parsed as CSV cells
//! are, numbers are taken as numbers. An FP32 element is read as the shortest decimal that
//! gives it back (`29.85f32` is 29.85, not 29.850000381...), so float32 data made from a
//! table scores like the table. FP16 and BF16 are refused. `null` in JSON data is a null
//! cell (an extension of the protocol).

use axum::http::HeaderMap;
use capstan_frame::{Cell, FrameBuilder, Schema};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::input::{Rows, check_count, finish, null_values, records_of, show};
use crate::output::BINARY_THRESHOLD;
use crate::{ApiError, LoadedModel, Prediction, Scored};

/// The output holding the predicted label (classification) or value (regression).
pub const OUTPUT_PREDICTION: &str = "prediction";
/// The output holding class probabilities, shape `[n, n_classes]`, row-major.
pub const OUTPUT_PROBABILITIES: &str = "probabilities";

/// The header of the binary tensor extension: the JSON part's length in bytes.
pub const HEADER_CONTENT_LENGTH: &str = "inference-header-content-length";

const DATATYPES: &str =
    "BOOL, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, UINT64, FP32, FP64, BYTES";

/// What an infer request asks for besides its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InferRequest {
    /// Echoed in the response.
    pub id: Option<String>,
    /// Requested output names, deduplicated, in request order; empty means all.
    pub outputs: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RequestMeta {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    outputs: Option<Vec<OutputSpec>>,
}

#[derive(Debug, Deserialize)]
struct OutputSpec {
    name: String,
}

#[derive(Debug, Deserialize)]
struct RequestBody {
    #[serde(default)]
    id: Option<String>,
    inputs: Vec<InputTensor>,
    #[serde(default)]
    outputs: Option<Vec<OutputSpec>>,
}

#[derive(Debug, Deserialize)]
struct InputTensor {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
}

/// Tensor element types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Datatype {
    Bool,
    Int(u32),
    UInt(u32),
    Fp32,
    Fp64,
    Bytes,
}

impl Datatype {
    fn parse(name: &str, input: &str) -> Result<Datatype, ApiError> {
        Ok(match name {
            "BOOL" => Datatype::Bool,
            "INT8" => Datatype::Int(8),
            "INT16" => Datatype::Int(16),
            "INT32" => Datatype::Int(32),
            "INT64" => Datatype::Int(64),
            "UINT8" => Datatype::UInt(8),
            "UINT16" => Datatype::UInt(16),
            "UINT32" => Datatype::UInt(32),
            "UINT64" => Datatype::UInt(64),
            "FP32" => Datatype::Fp32,
            "FP64" => Datatype::Fp64,
            "BYTES" => Datatype::Bytes,
            "FP16" | "BF16" => {
                return Err(bad(format!(
                    "input '{input}': datatype {name} is not supported (send FP32 or FP64)"
                )));
            }
            other => {
                return Err(bad(format!(
                    "input '{input}': unknown datatype '{}' (expected one of {DATATYPES})",
                    shorten(other)
                )));
            }
        })
    }

    /// Bytes per element in binary data; `None` for BYTES (length-prefixed).
    fn width(self) -> Option<usize> {
        match self {
            Datatype::Bool => Some(1),
            Datatype::Int(bits) | Datatype::UInt(bits) => Some(bits as usize / 8),
            Datatype::Fp32 => Some(4),
            Datatype::Fp64 => Some(8),
            Datatype::Bytes => None,
        }
    }
}

/// One decoded tensor element.
#[derive(Debug, Clone, PartialEq)]
enum Elem {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
}

impl Elem {
    fn cell(&self) -> Cell<'_> {
        match self {
            Elem::Null => Cell::Null,
            Elem::Bool(b) => Cell::Bool(*b),
            Elem::Int(i) => Cell::Int(*i),
            Elem::UInt(u) => Cell::UInt(*u),
            Elem::Float(f) => Cell::Float(*f),
            Elem::Text(t) => Cell::Text(t),
        }
    }

    fn show(&self) -> String {
        match self {
            Elem::Null => "null".to_string(),
            Elem::Bool(b) => b.to_string(),
            Elem::Int(i) => i.to_string(),
            Elem::UInt(u) => u.to_string(),
            Elem::Float(f) => format!("{f:?}"),
            Elem::Text(t) => show(&Value::String(t.clone())),
        }
    }
}

/// A decoded input: its name and elements (row-major).
#[derive(Debug)]
struct Tensor {
    name: String,
    elems: Vec<Elem>,
}

/// The request's id and requested outputs, read from the JSON header only (inputs are not
/// decoded). Unknown output names are refused here, before anything is scored.
pub fn parse_header(headers: &HeaderMap, body: &[u8]) -> Result<InferRequest, ApiError> {
    let (json_part, _) = split_body(headers, body)?;
    let meta: RequestMeta = parse_json(json_part)?;
    let request = InferRequest {
        id: meta.id,
        outputs: output_names(meta.outputs)?,
    };
    Ok(request)
}

/// Parses an infer request into rows for `schema` (see the module doc for the forms).
/// Errors (400, 413 above `max_rows`) name the input at fault.
pub fn parse_infer(
    schema: &Schema,
    headers: &HeaderMap,
    body: &[u8],
    max_rows: usize,
) -> Result<(InferRequest, Rows), ApiError> {
    let (json_part, mut binary) = split_body(headers, body)?;
    let request: RequestBody = parse_json(json_part)?;
    let meta = InferRequest {
        id: request.id,
        outputs: output_names(request.outputs)?,
    };
    if request.inputs.is_empty() {
        return Err(bad(format!(
            "no inputs (expected one input per column: {})",
            names(schema)
        )));
    }
    for (k, input) in request.inputs.iter().enumerate() {
        if request.inputs[..k].iter().any(|i| i.name == input.name) {
            return Err(bad(format!(
                "input '{}' is given twice",
                shorten(&input.name)
            )));
        }
    }
    let matrix = request.inputs.len() == 1
        && schema.field(&request.inputs[0].name).is_none()
        && request.inputs[0].shape.len() == 2;
    if !matrix {
        if let Some(unknown) = request
            .inputs
            .iter()
            .find(|i| schema.field(&i.name).is_none())
        {
            return Err(bad(format!(
                "unknown input '{}' (expected inputs: {}; or one input of shape [n, {}] with the columns in that order)",
                shorten(&unknown.name),
                names(schema),
                schema.fields.len()
            )));
        }
        if let Some(missing) = schema
            .fields
            .iter()
            .find(|f| !request.inputs.iter().any(|i| i.name == f.name))
        {
            return Err(ApiError::bad_request(
                "missing_input",
                format!(
                    "missing input '{}' (expected inputs: {})",
                    missing.name,
                    names(schema)
                ),
            ));
        }
    }
    // Check shapes and row counts before decoding any data.
    let mut n_rows: Option<(usize, &str)> = None;
    let mut shapes = Vec::with_capacity(request.inputs.len());
    for input in &request.inputs {
        let shape = check_shape(input, matrix, schema.fields.len())?;
        match n_rows {
            Some((n, first)) if n != shape[0] => {
                return Err(bad(format!(
                    "input '{}' has {} rows, input '{first}' has {n}",
                    input.name, shape[0]
                )));
            }
            Some(_) => {}
            None => n_rows = Some((shape[0], &input.name)),
        }
        shapes.push(shape);
    }
    let n_rows = n_rows.map_or(0, |(n, _)| n);
    check_count(n_rows, max_rows)?;
    let mut tensors = Vec::with_capacity(request.inputs.len());
    for (input, shape) in request.inputs.into_iter().zip(shapes) {
        tensors.push(decode(input, shape, &mut binary)?);
    }
    if !binary.is_empty() {
        return Err(bad(format!(
            "{} bytes of binary data after the last input's binary_data_size",
            binary.len()
        )));
    }
    let mut builder = FrameBuilder::new(schema, &null_values(), n_rows);
    if matrix {
        let t = &tensors[0];
        let n_cols = schema.fields.len();
        for i in 0..n_rows {
            for (j, field) in schema.fields.iter().enumerate() {
                let elem = &t.elems[i * n_cols + j];
                push(&mut builder, j, elem, || {
                    format!("input '{}', row {i}, column '{}'", t.name, field.name)
                })?;
            }
        }
    } else {
        for (j, field) in schema.fields.iter().enumerate() {
            let Some(t) = tensors.iter().find(|t| t.name == field.name) else {
                return Err(ApiError::internal(format!(
                    "input '{}' vanished after checking",
                    field.name
                )));
            };
            for (i, elem) in t.elems.iter().enumerate() {
                push(&mut builder, j, elem, || {
                    format!("input '{}', row {i}", t.name)
                })?;
            }
        }
    }
    let frame = finish(builder)?;
    let records = records_of(&frame);
    Ok((meta, Rows { frame, records }))
}

/// The infer response: `{"model_name", "model_version", "id"?, "outputs": [...]}` with
/// `prediction` (BYTES labels, or FP64 values for regression, shape `[n]`) and
/// `probabilities` (FP64, shape `[n, n_classes]`, row-major; classification only).
/// `requested` filters and orders the outputs (empty: all); an unknown name is a 400.
pub fn infer_response(
    model: &str,
    version: u32,
    request_id: Option<&str>,
    requested: &[String],
    scored: &Scored,
) -> Result<Value, ApiError> {
    let available = available_outputs(scored);
    let wanted: Vec<&str> = if requested.is_empty() {
        available.clone()
    } else {
        let mut wanted = Vec::with_capacity(requested.len());
        for name in requested {
            if !available.contains(&name.as_str()) {
                return Err(unknown_output(name, &available));
            }
            if !wanted.contains(&name.as_str()) {
                wanted.push(name.as_str());
            }
        }
        wanted
    };
    let n = scored.rows.len();
    let outputs: Vec<Value> = wanted
        .iter()
        .map(|&name| {
            if name == OUTPUT_PROBABILITIES {
                let k = scored.classes.len();
                let data: Vec<Value> = scored
                    .rows
                    .iter()
                    .flat_map(|r| {
                        (0..k).map(|c| {
                            r.probabilities
                                .as_ref()
                                .and_then(|p| p.get(c))
                                .map_or(Value::Null, |&p| json!(p))
                        })
                    })
                    .collect();
                json!({"name": name, "datatype": "FP64", "shape": [n, k], "data": data})
            } else {
                let data: Vec<Value> = scored
                    .rows
                    .iter()
                    .map(|r| match &r.prediction {
                        Prediction::Label(l) => Value::String(l.clone()),
                        Prediction::Value(v) => json!(v),
                    })
                    .collect();
                json!({
                    "name": name,
                    "datatype": prediction_datatype(scored.classes.is_empty()),
                    "shape": [n],
                    "data": data,
                })
            }
        })
        .collect();
    let mut response = Map::new();
    response.insert("model_name".to_string(), json!(model));
    response.insert("model_version".to_string(), json!(version.to_string()));
    if let Some(id) = request_id {
        response.insert("id".to_string(), json!(id));
    }
    response.insert("outputs".to_string(), Value::Array(outputs));
    Ok(Value::Object(response))
}

/// Model metadata: `{"name", "versions", "platform": "capstan", "inputs", "outputs"}`.
/// Inputs are the schema's columns (integer -> INT64, float -> FP64, boolean -> BOOL,
/// string, date and datetime -> BYTES), each of shape `[-1]`.
pub fn model_metadata(model: &LoadedModel, versions: &[u32]) -> Value {
    let manifest = &model.bundle.manifest;
    let inputs: Vec<Value> = manifest
        .input_schema
        .fields
        .iter()
        .map(|f| {
            let datatype = match f.dtype {
                capstan_frame::DataType::Integer => "INT64",
                capstan_frame::DataType::Float => "FP64",
                capstan_frame::DataType::Boolean => "BOOL",
                capstan_frame::DataType::String
                | capstan_frame::DataType::Date
                | capstan_frame::DataType::Datetime => "BYTES",
            };
            json!({"name": f.name, "datatype": datatype, "shape": [-1]})
        })
        .collect();
    let regression = matches!(manifest.target.task, capstan_learn::Task::Regression);
    let mut outputs = vec![json!({
        "name": OUTPUT_PREDICTION,
        "datatype": prediction_datatype(regression),
        "shape": [-1],
    })];
    if !regression {
        let k = manifest.target.task.n_outputs().max(2);
        outputs.push(json!({"name": OUTPUT_PROBABILITIES, "datatype": "FP64", "shape": [-1, k]}));
    }
    let versions: Vec<String> = versions.iter().map(u32::to_string).collect();
    json!({
        "name": model.name,
        "versions": versions,
        "platform": "capstan",
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {
            "target": manifest.target.name,
            "classes": manifest.target.classes,
            "binary_threshold": BINARY_THRESHOLD,
        },
    })
}

fn prediction_datatype(regression: bool) -> &'static str {
    if regression { "FP64" } else { "BYTES" }
}

fn available_outputs(scored: &Scored) -> Vec<&'static str> {
    if scored.classes.is_empty() {
        vec![OUTPUT_PREDICTION]
    } else {
        vec![OUTPUT_PREDICTION, OUTPUT_PROBABILITIES]
    }
}

fn unknown_output(name: &str, available: &[&str]) -> ApiError {
    ApiError::bad_request(
        "unknown_output",
        format!(
            "unknown output '{}' (available outputs: {})",
            shorten(name),
            available.join(", ")
        ),
    )
}

/// Requested output names, deduplicated; names no model has are refused.
fn output_names(outputs: Option<Vec<OutputSpec>>) -> Result<Vec<String>, ApiError> {
    let mut names: Vec<String> = Vec::new();
    for spec in outputs.unwrap_or_default() {
        if spec.name != OUTPUT_PREDICTION && spec.name != OUTPUT_PROBABILITIES {
            return Err(unknown_output(
                &spec.name,
                &[OUTPUT_PREDICTION, OUTPUT_PROBABILITIES],
            ));
        }
        if !names.contains(&spec.name) {
            names.push(spec.name);
        }
    }
    Ok(names)
}

/// The JSON header and the binary part (empty without the extension header).
fn split_body<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<(&'a [u8], &'a [u8]), ApiError> {
    let Some(value) = headers.get(HEADER_CONTENT_LENGTH) else {
        return Ok((body, &[]));
    };
    let length = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .ok_or_else(|| {
            bad(format!(
                "header Inference-Header-Content-Length: expected a byte count, found '{}'",
                shorten(&String::from_utf8_lossy(value.as_bytes()))
            ))
        })?;
    if length > body.len() {
        return Err(bad(format!(
            "header Inference-Header-Content-Length says the json header is {length} bytes, the body has only {}",
            body.len()
        )));
    }
    Ok(body.split_at(length))
}

fn parse_json<'a, T: Deserialize<'a>>(json_part: &'a [u8]) -> Result<T, ApiError> {
    if json_part.trim_ascii().is_empty() {
        return Err(ApiError::bad_request(
            "empty_body",
            "empty body: expected an infer request ({\"inputs\": [...]})",
        ));
    }
    serde_json::from_slice(json_part).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("invalid infer request: {e} (expected {{\"inputs\": [{{\"name\", \"shape\", \"datatype\", \"data\"}}]}})"),
        )
    })
}

/// The shape as sizes: `[n]` or `[n, 1]` for a column, `[n, n_columns]` for the table form.
fn check_shape(
    input: &InputTensor,
    matrix: bool,
    n_columns: usize,
) -> Result<Vec<usize>, ApiError> {
    let shape: Vec<usize> = input
        .shape
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            bad(format!(
                "input '{}': shape {:?} has a negative dimension",
                input.name, input.shape
            ))
        })?;
    let ok = if matrix {
        shape.len() == 2 && shape[1] == n_columns
    } else {
        shape.len() == 1 || (shape.len() == 2 && shape[1] == 1)
    };
    if !ok {
        let expected = if matrix {
            format!("[n, {n_columns}] (one column per input column)")
        } else {
            "[n] or [n, 1] (one column)".to_string()
        };
        return Err(ApiError::bad_request(
            "bad_shape",
            format!(
                "input '{}': expected shape {expected}, found {:?}",
                input.name, input.shape
            ),
        ));
    }
    Ok(shape)
}

/// Decodes an input's elements from its JSON data or from the binary part.
fn decode(input: InputTensor, shape: Vec<usize>, binary: &mut &[u8]) -> Result<Tensor, ApiError> {
    let name = input.name;
    let datatype = Datatype::parse(&input.datatype, &name)?;
    // Dimensions were checked against the row limit: the product is small.
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("input '{name}': shape {shape:?} is too large")))?;
    let binary_size = match input
        .parameters
        .as_ref()
        .and_then(|p| p.get("binary_data_size"))
    {
        None => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "input '{name}': binary_data_size: expected a byte count, found {}",
                        show(v)
                    ))
                })?,
        ),
    };
    let elems = match (binary_size, input.data) {
        (Some(_), Some(_)) => {
            return Err(bad(format!(
                "input '{name}': both data and binary_data_size are given (expected one)"
            )));
        }
        (Some(size), None) => {
            if size > binary.len() {
                return Err(bad(format!(
                    "input '{name}': binary_data_size is {size} bytes but only {} bytes remain (truncated payload)",
                    binary.len()
                )));
            }
            let (mine, rest) = binary.split_at(size);
            *binary = rest;
            decode_binary(&name, datatype, mine, count)?
        }
        (None, Some(data)) => decode_json(&name, datatype, data, count)?,
        (None, None) => {
            return Err(bad(format!(
                "input '{name}': no data (expected \"data\" or parameters.binary_data_size)"
            )));
        }
    };
    Ok(Tensor { name, elems })
}

fn decode_json(
    name: &str,
    datatype: Datatype,
    data: Value,
    count: usize,
) -> Result<Vec<Elem>, ApiError> {
    let mut leaves = Vec::with_capacity(count);
    flatten(data, &mut leaves);
    if leaves.len() != count {
        return Err(ApiError::bad_request(
            "bad_shape",
            format!(
                "input '{name}': the shape holds {count} elements, data has {}",
                leaves.len()
            ),
        ));
    }
    leaves
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            json_elem(datatype, v).map_err(|(expected, v)| {
                bad(format!(
                    "input '{name}', element {i}: datatype {} expects {expected}, found {}",
                    datatype_name(datatype),
                    show(&v)
                ))
            })
        })
        .collect()
}

/// Leaves of nested arrays, in order.
fn flatten(value: Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| flatten(v, out)),
        other => out.push(other),
    }
}

/// One JSON element of `datatype`; `Err((what was expected, the value))`.
fn json_elem(datatype: Datatype, v: Value) -> Result<Elem, (&'static str, Value)> {
    if v.is_null() {
        return Ok(Elem::Null);
    }
    let elem = match datatype {
        Datatype::Bool => v.as_bool().map(Elem::Bool),
        Datatype::Int(bits) => v.as_i64().filter(|&i| fits_signed(i, bits)).map(Elem::Int),
        Datatype::UInt(bits) => v
            .as_u64()
            .filter(|&u| fits_unsigned(u, bits))
            .map(Elem::UInt),
        Datatype::Fp32 | Datatype::Fp64 => v.as_f64().map(Elem::Float),
        Datatype::Bytes => match &v {
            Value::String(s) => Some(Elem::Text(s.clone())),
            _ => None,
        },
    };
    elem.ok_or((
        match datatype {
            Datatype::Bool => "true or false",
            Datatype::Int(_) | Datatype::UInt(_) => "integers in its range",
            Datatype::Fp32 | Datatype::Fp64 => "numbers",
            Datatype::Bytes => "strings",
        },
        v,
    ))
}

fn fits_signed(v: i64, bits: u32) -> bool {
    bits >= 64 || (v >= -(1i64 << (bits - 1)) && v < (1i64 << (bits - 1)))
}

fn fits_unsigned(v: u64, bits: u32) -> bool {
    bits >= 64 || v < (1u64 << bits)
}

fn decode_binary(
    name: &str,
    datatype: Datatype,
    bytes: &[u8],
    count: usize,
) -> Result<Vec<Elem>, ApiError> {
    let Some(width) = datatype.width() else {
        return decode_bytes(name, bytes, count);
    };
    let expected = count.checked_mul(width);
    if expected != Some(bytes.len()) {
        return Err(ApiError::bad_request(
            "bad_shape",
            format!(
                "input '{name}': binary_data_size is {} bytes, the shape holds {count} {} elements ({} bytes)",
                bytes.len(),
                datatype_name(datatype),
                count.saturating_mul(width)
            ),
        ));
    }
    Ok(bytes
        .chunks_exact(width)
        .map(|c| binary_elem(datatype, c))
        .collect())
}

/// One little-endian element; `c` has the datatype's width.
fn binary_elem(datatype: Datatype, c: &[u8]) -> Elem {
    let mut buf = [0u8; 8];
    buf[..c.len()].copy_from_slice(c);
    let unsigned = u64::from_le_bytes(buf);
    match datatype {
        Datatype::Bool => Elem::Bool(c[0] != 0),
        Datatype::Int(bits) => {
            // Sign-extend from `bits`.
            let shift = 64 - bits;
            Elem::Int(((unsigned << shift) as i64) >> shift)
        }
        Datatype::UInt(_) => Elem::UInt(unsigned),
        Datatype::Fp32 => {
            let mut b4 = [0u8; 4];
            b4.copy_from_slice(&c[..4]);
            Elem::Float(widen_f32(f32::from_le_bytes(b4)))
        }
        Datatype::Fp64 => Elem::Float(f64::from_bits(unsigned)),
        // Handled by decode_bytes.
        Datatype::Bytes => Elem::Null,
    }
}

/// An f32 as the f64 of its shortest round-trip decimal (the value the client meant).
fn widen_f32(v: f32) -> f64 {
    if v.is_finite() {
        v.to_string().parse::<f64>().unwrap_or(f64::from(v))
    } else {
        f64::from(v)
    }
}

/// BYTES elements: each a 4-byte little-endian length, then that many bytes (UTF-8).
fn decode_bytes(name: &str, mut bytes: &[u8], count: usize) -> Result<Vec<Elem>, ApiError> {
    let mut elems = Vec::with_capacity(count.min(bytes.len() / 4));
    while !bytes.is_empty() {
        let i = elems.len();
        let truncated = || {
            bad(format!(
                "input '{name}', element {i}: BYTES data is truncated (expected a 4-byte length and then that many bytes)"
            ))
        };
        let (len, rest) = bytes.split_first_chunk::<4>().ok_or_else(truncated)?;
        let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| truncated())?;
        if len > rest.len() {
            return Err(truncated());
        }
        let (text, rest) = rest.split_at(len);
        let text = std::str::from_utf8(text).map_err(|_| {
            bad(format!(
                "input '{name}', element {i}: expected utf-8 text, found bytes that are not"
            ))
        })?;
        elems.push(Elem::Text(text.to_string()));
        bytes = rest;
    }
    if elems.len() != count {
        return Err(ApiError::bad_request(
            "bad_shape",
            format!(
                "input '{name}': the shape holds {count} elements, the binary data has {}",
                elems.len()
            ),
        ));
    }
    Ok(elems)
}

fn push(
    builder: &mut FrameBuilder,
    column: usize,
    elem: &Elem,
    at: impl FnOnce() -> String,
) -> Result<(), ApiError> {
    builder.push(column, elem.cell()).map_err(|e| {
        ApiError::bad_request(
            "bad_value",
            format!("{}: expected {}, found {}", at(), e.expected, elem.show()),
        )
    })
}

fn datatype_name(datatype: Datatype) -> String {
    match datatype {
        Datatype::Bool => "BOOL".to_string(),
        Datatype::Int(bits) => format!("INT{bits}"),
        Datatype::UInt(bits) => format!("UINT{bits}"),
        Datatype::Fp32 => "FP32".to_string(),
        Datatype::Fp64 => "FP64".to_string(),
        Datatype::Bytes => "BYTES".to_string(),
    }
}

fn names(schema: &Schema) -> String {
    schema.names().collect::<Vec<_>>().join(", ")
}

fn bad(message: String) -> ApiError {
    ApiError::bad_request("bad_input", message)
}

/// A client-given name cut to a readable length.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    if text.chars().count() <= MAX_CHARS {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX_CHARS).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, StatusCode};
    use capstan_frame::DataType;
    use capstan_learn::Task;

    use super::*;
    use crate::RowOutput;
    use crate::input::fixtures::*;

    const MAX: usize = 1000;

    /// One input as JSON data (`nested`: shape [n, 1] with one array per row).
    fn json_input(name: &str, datatype: &str, values: &[Value], nested: bool) -> Value {
        let n = values.len();
        if nested {
            let data: Vec<Value> = values.iter().map(|v| json!([v])).collect();
            json!({"name": name, "datatype": datatype, "shape": [n, 1], "data": data})
        } else {
            json!({"name": name, "datatype": datatype, "shape": [n], "data": values})
        }
    }

    /// Little-endian bytes of `values` as `datatype` (BYTES: length-prefixed text).
    fn encode(datatype: &str, values: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        for v in values {
            match datatype {
                "BOOL" => out.push(u8::from(v.as_bool().expect("bool"))),
                "INT8" => out.extend((v.as_i64().expect("int") as i8).to_le_bytes()),
                "INT32" => out.extend((v.as_i64().expect("int") as i32).to_le_bytes()),
                "INT64" => out.extend(v.as_i64().expect("int").to_le_bytes()),
                "UINT16" => out.extend((v.as_u64().expect("uint") as u16).to_le_bytes()),
                "FP32" => out.extend((v.as_f64().expect("number") as f32).to_le_bytes()),
                "FP64" => out.extend(v.as_f64().expect("number").to_le_bytes()),
                "BYTES" => {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    out.extend((text.len() as u32).to_le_bytes());
                    out.extend(text.as_bytes());
                }
                other => panic!("no encoder for {other}"),
            }
        }
        out
    }

    fn binary_input(name: &str, datatype: &str, n: usize, size: usize) -> Value {
        json!({
            "name": name, "datatype": datatype, "shape": [n],
            "parameters": {"binary_data_size": size},
        })
    }

    /// A binary-extension body: the JSON header, then the blobs in order.
    fn binary_body(header: &Value, blobs: &[Vec<u8>]) -> (HeaderMap, Vec<u8>) {
        let mut body = serde_json::to_vec(header).expect("json");
        let mut headers = HeaderMap::new();
        headers.insert(
            HEADER_CONTENT_LENGTH,
            HeaderValue::from_str(&body.len().to_string()).expect("header"),
        );
        for b in blobs {
            body.extend(b);
        }
        (headers, body)
    }

    /// Per schema column, its typed values for the fixture rows.
    fn column_values(model: &LoadedModel) -> Vec<(String, DataType, Vec<Value>)> {
        let records = typed_records(model);
        model
            .bundle
            .manifest
            .input_schema
            .fields
            .iter()
            .map(|f| {
                let values = records.iter().map(|r| r[&f.name].clone()).collect();
                (f.name.clone(), f.dtype, values)
            })
            .collect()
    }

    fn json_datatype(dtype: DataType) -> &'static str {
        match dtype {
            DataType::Integer => "INT64",
            DataType::Float => "FP64",
            DataType::Boolean => "BOOL",
            _ => "BYTES",
        }
    }

    fn parse(model: &LoadedModel, headers: &HeaderMap, body: &[u8]) -> Result<Rows, ApiError> {
        parse_infer(&model.bundle.manifest.input_schema, headers, body, MAX).map(|(_, rows)| rows)
    }

    #[test]
    fn json_columns_score_like_the_file() {
        for model in models() {
            let inputs: Vec<Value> = column_values(&model)
                .iter()
                .enumerate()
                .map(|(j, (name, dtype, values))| {
                    json_input(name, json_datatype(*dtype), values, j % 2 == 1)
                })
                .collect();
            let body = json!({"id": "r1", "inputs": inputs, "outputs": [{"name": "prediction"}]});
            let bytes = serde_json::to_vec(&body).expect("json");
            let (request, rows) = parse_infer(
                &model.bundle.manifest.input_schema,
                &HeaderMap::new(),
                &bytes,
                MAX,
            )
            .expect("parses");
            assert_eq!(request.id.as_deref(), Some("r1"));
            assert_eq!(request.outputs, ["prediction"]);
            assert_same_as_file(&model, &rows);
            assert_eq!(
                parse_header(&HeaderMap::new(), &bytes).expect("header"),
                request
            );
        }
    }

    #[test]
    fn binary_columns_score_like_the_file() {
        for model in models() {
            let mut inputs = Vec::new();
            let mut blobs = Vec::new();
            for (j, (name, dtype, values)) in column_values(&model).iter().enumerate() {
                let n = values.len();
                let datatype = match (dtype, name.as_str()) {
                    (_, "senior_citizen") => "INT8",
                    // float32 data made from the table scores like the table.
                    (_, "monthly_charges") => "FP32",
                    // Nulls travel as empty BYTES elements, as in a CSV file.
                    (_, "total_charges") => "BYTES",
                    (DataType::Integer, _) => "INT64",
                    (DataType::Float, _) => "FP64",
                    _ => "BYTES",
                };
                if j == 0 {
                    inputs.push(json_input(name, datatype, values, false));
                    continue;
                }
                let blob = encode(datatype, values);
                inputs.push(binary_input(name, datatype, n, blob.len()));
                blobs.push(blob);
            }
            let (headers, body) = binary_body(&json!({"inputs": inputs}), &blobs);
            let rows = parse(&model, &headers, &body).expect("parses");
            assert_same_as_file(&model, &rows);
            assert_eq!(
                parse_header(&headers, &body).expect("header"),
                InferRequest::default()
            );
        }
    }

    #[test]
    fn one_table_input_scores_like_the_file() {
        let model = model("telco_gbdt_v1");
        let schema = &model.bundle.manifest.input_schema;
        let text = text_records();
        let cells: Vec<Value> = text
            .iter()
            .flat_map(|r| schema.names().map(|c| r[c].clone()).collect::<Vec<_>>())
            .collect();
        let n = text.len();
        let k = schema.fields.len();
        let body = json!({"inputs": [{"name": "input", "datatype": "BYTES", "shape": [n, k], "data": cells}]});
        let rows = parse(
            &model,
            &HeaderMap::new(),
            &serde_json::to_vec(&body).expect("json"),
        )
        .expect("parses");
        assert_same_as_file(&model, &rows);

        let blob = encode("BYTES", &cells);
        let header = json!({"inputs": [{"name": "input", "datatype": "BYTES", "shape": [n, k],
            "parameters": {"binary_data_size": blob.len()}}]});
        let (headers, body) = binary_body(&header, &[blob]);
        let rows = parse(&model, &headers, &body).expect("parses");
        assert_same_as_file(&model, &rows);
    }

    fn binary_scored() -> Scored {
        Scored {
            task: Task::Binary,
            classes: vec!["no".into(), "yes".into()],
            rows: vec![
                RowOutput {
                    prediction: Prediction::Label("yes".into()),
                    probabilities: Some(vec![0.25, 0.75]),
                    score: 0.75,
                },
                RowOutput {
                    prediction: Prediction::Label("no".into()),
                    probabilities: Some(vec![0.5, 0.5]),
                    score: 0.5,
                },
            ],
        }
    }

    #[test]
    fn responses() {
        let s = binary_scored();
        assert_eq!(
            infer_response("churn", 2, Some("r1"), &[], &s).expect("response"),
            json!({
                "model_name": "churn", "model_version": "2", "id": "r1",
                "outputs": [
                    {"name": "prediction", "datatype": "BYTES", "shape": [2], "data": ["yes", "no"]},
                    {"name": "probabilities", "datatype": "FP64", "shape": [2, 2],
                     "data": [0.25, 0.75, 0.5, 0.5]},
                ],
            })
        );
        let only =
            infer_response("churn", 2, None, &["probabilities".to_string()], &s).expect("response");
        assert_eq!(only["outputs"].as_array().map(Vec::len), Some(1));
        assert_eq!(only["outputs"][0]["name"], "probabilities");
        assert!(only.get("id").is_none());
        let regression = Scored {
            task: Task::Regression,
            classes: vec![],
            rows: vec![RowOutput {
                prediction: Prediction::Value(2.5),
                probabilities: None,
                score: 2.5,
            }],
        };
        assert_eq!(
            infer_response("price", 1, None, &[], &regression).expect("response")["outputs"],
            json!([{"name": "prediction", "datatype": "FP64", "shape": [1], "data": [2.5]}])
        );
        let e = infer_response(
            "price",
            1,
            None,
            &["probabilities".to_string()],
            &regression,
        )
        .expect_err("no probabilities");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(
            e.message
                .contains("unknown output 'probabilities' (available outputs: prediction)")
        );
        let e = infer_response("churn", 1, None, &["proba".to_string()], &s).expect_err("unknown");
        assert!(
            e.message.contains("unknown output 'proba'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn metadata() {
        let model = model("telco_gbdt_v1");
        let m = model_metadata(&model, &[1, 2]);
        assert_eq!(m["name"], "churn");
        assert_eq!(m["versions"], json!(["1", "2"]));
        assert_eq!(m["platform"], "capstan");
        assert_eq!(
            m["inputs"][0],
            json!({"name": "gender", "datatype": "BYTES", "shape": [-1]})
        );
        assert_eq!(
            m["inputs"][4],
            json!({"name": "tenure", "datatype": "INT64", "shape": [-1]})
        );
        assert_eq!(m["inputs"][17]["datatype"], "FP64");
        assert_eq!(
            m["outputs"],
            json!([
                {"name": "prediction", "datatype": "BYTES", "shape": [-1]},
                {"name": "probabilities", "datatype": "FP64", "shape": [-1, 2]},
            ])
        );
    }

    fn expect_error(result: Result<Rows, ApiError>, status: StatusCode, needle: &str) {
        let e = result.expect_err("expected an error");
        assert_eq!(e.status, status, "{}", e.message);
        assert!(
            e.message.contains(needle),
            "'{}' does not contain '{needle}'",
            e.message
        );
    }

    /// A valid JSON request for the first 3 fixture rows, as inputs to edit.
    fn small_inputs(model: &LoadedModel) -> Vec<Value> {
        column_values(model)
            .iter()
            .map(|(name, dtype, values)| {
                json_input(name, json_datatype(*dtype), &values[..3], false)
            })
            .collect()
    }

    #[test]
    fn request_errors_name_the_input() {
        let model = model("telco_gbdt_v1");
        let none = HeaderMap::new();
        let run = |inputs: &[Value]| {
            let body = serde_json::to_vec(&json!({"inputs": inputs})).expect("json");
            parse(&model, &HeaderMap::new(), &body)
        };
        let bad = StatusCode::BAD_REQUEST;
        assert!(run(&small_inputs(&model)).is_ok());

        let mut inputs = small_inputs(&model);
        inputs[4]["shape"] = json!([4]);
        expect_error(
            run(&inputs),
            bad,
            "input 'tenure' has 4 rows, input 'gender' has 3",
        );
        inputs[0]["shape"] = json!([4]);
        inputs.iter_mut().for_each(|i| i["shape"] = json!([4]));
        expect_error(
            run(&inputs),
            bad,
            "input 'gender': the shape holds 4 elements, data has 3",
        );
        let mut inputs = small_inputs(&model);
        inputs[4]["shape"] = json!([3, 2]);
        expect_error(
            run(&inputs),
            bad,
            "input 'tenure': expected shape [n] or [n, 1] (one column), found [3, 2]",
        );
        inputs[4]["shape"] = json!([-3]);
        expect_error(
            run(&inputs),
            bad,
            "input 'tenure': shape [-3] has a negative dimension",
        );

        let mut inputs = small_inputs(&model);
        inputs[4]["datatype"] = json!("FP16");
        expect_error(
            run(&inputs),
            bad,
            "input 'tenure': datatype FP16 is not supported",
        );
        inputs[4]["datatype"] = json!("INT128");
        expect_error(
            run(&inputs),
            bad,
            "input 'tenure': unknown datatype 'INT128'",
        );
        inputs[4]["datatype"] = json!("INT8");
        inputs[4]["data"] = json!([1, 2, 300]);
        expect_error(
            run(&inputs),
            bad,
            "input 'tenure', element 2: datatype INT8 expects integers in its range, found 300",
        );
        inputs[4]["datatype"] = json!("INT64");
        inputs[4]["data"] = json!([1, "abc", 3]);
        expect_error(
            run(&inputs),
            bad,
            r#"input 'tenure', element 1: datatype INT64 expects integers in its range, found "abc""#,
        );
        inputs[4]["datatype"] = json!("BYTES");
        expect_error(
            run(&inputs),
            bad,
            "input 'tenure', element 0: datatype BYTES expects strings, found 1",
        );
        inputs[4]["data"] = json!(["1", "abc", "3"]);
        expect_error(
            run(&inputs),
            bad,
            r#"input 'tenure', row 1: expected an integer, found "abc""#,
        );
        inputs[4]["data"] = Value::Null;
        expect_error(run(&inputs), bad, "input 'tenure': no data");

        let mut inputs = small_inputs(&model);
        inputs.remove(4);
        expect_error(
            run(&inputs),
            bad,
            "missing input 'tenure' (expected inputs: gender,",
        );
        let mut inputs = small_inputs(&model);
        inputs.push(json_input(
            "tenur",
            "INT64",
            &[json!(1), json!(2), json!(3)],
            false,
        ));
        expect_error(run(&inputs), bad, "unknown input 'tenur'");
        let mut inputs = small_inputs(&model);
        inputs.push(inputs[4].clone());
        expect_error(run(&inputs), bad, "input 'tenure' is given twice");
        expect_error(run(&[]), bad, "no inputs");
        let one = json_input("input", "FP64", &[json!(1.0), json!(2.0)], false);
        expect_error(run(&[one]), bad, "unknown input 'input'");
        let table =
            json!({"name": "input", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]});
        expect_error(run(&[table]), bad, "input 'input': expected shape [n, 19]");

        let big: Vec<Value> = column_values(&model)
            .iter()
            .map(|(name, dtype, values)| json_input(name, json_datatype(*dtype), values, false))
            .collect();
        let body = serde_json::to_vec(&json!({"inputs": big})).expect("json");
        expect_error(
            parse_infer(&model.bundle.manifest.input_schema, &none, &body, 10).map(|(_, r)| r),
            StatusCode::PAYLOAD_TOO_LARGE,
            "63 rows is more than the limit of 10",
        );
        expect_error(
            parse(&model, &none, b"{\"inputs\": ["),
            bad,
            "invalid infer request",
        );
        expect_error(parse(&model, &none, b"{}"), bad, "missing field `inputs`");
        expect_error(parse(&model, &none, b""), bad, "empty body");
        let unknown_output = serde_json::to_vec(&json!({
            "inputs": small_inputs(&model), "outputs": [{"name": "scores"}],
        }))
        .expect("json");
        expect_error(
            parse(&model, &none, &unknown_output),
            bad,
            "unknown output 'scores'",
        );
        assert!(parse_header(&none, &unknown_output).is_err());
    }

    #[test]
    fn binary_errors() {
        let model = model("telco_gbdt_v1");
        let bad = StatusCode::BAD_REQUEST;
        let run = |tenure: Value, blobs: &[Vec<u8>]| {
            let mut inputs = small_inputs(&model);
            inputs[4] = tenure;
            let (headers, body) = binary_body(&json!({"inputs": inputs}), blobs);
            parse(&model, &headers, &body)
        };
        let three = encode("INT64", &[json!(1), json!(2), json!(3)]);
        assert!(
            run(
                binary_input("tenure", "INT64", 3, 24),
                std::slice::from_ref(&three)
            )
            .is_ok()
        );
        expect_error(
            run(
                binary_input("tenure", "INT64", 3, 24),
                &[three[..20].to_vec()],
            ),
            bad,
            "input 'tenure': binary_data_size is 24 bytes but only 20 bytes remain (truncated payload)",
        );
        expect_error(
            run(
                binary_input("tenure", "INT64", 3, 20),
                &[three[..20].to_vec()],
            ),
            bad,
            "input 'tenure': binary_data_size is 20 bytes, the shape holds 3 INT64 elements (24 bytes)",
        );
        expect_error(
            run(
                binary_input("tenure", "INT64", 3, 24),
                &[three.clone(), vec![0]],
            ),
            bad,
            "1 bytes of binary data after the last input",
        );
        let text = encode("BYTES", &[json!("1"), json!("2"), json!("3")]);
        expect_error(
            run(
                binary_input("tenure", "BYTES", 3, text.len() - 1),
                &[text[..text.len() - 1].to_vec()],
            ),
            bad,
            "input 'tenure', element 2: BYTES data is truncated",
        );
        let two = encode("BYTES", &[json!("1"), json!("2")]);
        expect_error(
            run(binary_input("tenure", "BYTES", 3, two.len()), &[two]),
            bad,
            "input 'tenure': the shape holds 3 elements, the binary data has 2",
        );
        let not_utf8 = vec![1, 0, 0, 0, 0xff, 1, 0, 0, 0, b'2', 1, 0, 0, 0, b'3'];
        expect_error(
            run(
                binary_input("tenure", "BYTES", 3, not_utf8.len()),
                &[not_utf8],
            ),
            bad,
            "input 'tenure', element 0: expected utf-8 text",
        );
        let mut both = binary_input("tenure", "INT64", 3, 24);
        both["data"] = json!([1, 2, 3]);
        expect_error(
            run(both, std::slice::from_ref(&three)),
            bad,
            "both data and binary_data_size",
        );
        let mut negative = binary_input("tenure", "INT64", 3, 24);
        negative["parameters"]["binary_data_size"] = json!(-1);
        expect_error(
            run(negative, std::slice::from_ref(&three)),
            bad,
            "binary_data_size: expected a byte count, found -1",
        );
        let bools = encode("BOOL", &[json!(true), json!(false), json!(true)]);
        expect_error(
            run(binary_input("tenure", "BOOL", 3, 3), &[bools]),
            bad,
            "input 'tenure', row 0: expected an integer, found true",
        );
        let small = encode("UINT16", &[json!(1), json!(2), json!(65535)]);
        let rows = run(binary_input("tenure", "UINT16", 3, 6), &[small]).expect("uint16");
        assert_eq!(rows.records[2]["tenure"], json!(65535));
        let signed = encode("INT32", &[json!(-1), json!(2), json!(-2147483648i64)]);
        let rows = run(binary_input("tenure", "INT32", 3, 12), &[signed]).expect("int32");
        assert_eq!(rows.records[0]["tenure"], json!(-1));
        assert_eq!(rows.records[2]["tenure"], json!(-2147483648i64));

        let mut headers = HeaderMap::new();
        headers.insert(HEADER_CONTENT_LENGTH, HeaderValue::from_static("999"));
        expect_error(
            parse(&model, &headers, b"{}"),
            bad,
            "says the json header is 999 bytes, the body has only 2",
        );
        headers.insert(HEADER_CONTENT_LENGTH, HeaderValue::from_static("abc"));
        expect_error(
            parse(&model, &headers, b"{}"),
            bad,
            "expected a byte count, found 'abc'",
        );
        assert!(parse_header(&headers, b"{}").is_err());
    }

    #[test]
    fn fp32_reads_as_its_shortest_decimal() {
        assert_eq!(widen_f32(29.85), 29.85);
        assert_eq!(widen_f32(0.1), 0.1);
        assert_eq!(widen_f32(16_777_217.0), 16_777_216.0);
        assert!(widen_f32(f32::NAN).is_nan());
        assert_eq!(widen_f32(f32::INFINITY), f64::INFINITY);
        // Always the same f32 back.
        for v in [
            f32::MIN_POSITIVE,
            f32::MAX,
            1e-45,
            -3.4e38,
            7279.35,
            1.0 / 3.0,
        ] {
            assert_eq!(widen_f32(v) as f32, v);
        }
    }
}
