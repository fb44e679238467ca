//! The OpenAPI 3.0 document served at `/openapi.json`, written by hand (one place to read
//! what the server accepts).

use serde_json::{Value, json};

fn error_ref() -> Value {
    json!({ "$ref": "#/components/responses/Error" })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description,
            "schema": { "type": "string" } })
}

/// An operation with the standard error responses.
fn op(summary: &str, tag: &str, params: &[Value], body: Option<Value>, ok: Value) -> Value {
    let mut o = json!({
        "summary": summary,
        "tags": [tag],
        "parameters": params,
        "responses": {
            "200": { "description": "success", "content": { "application/json": { "schema": ok } } },
            "400": error_ref(), "401": error_ref(), "403": error_ref(), "404": error_ref(),
            "413": error_ref(), "503": error_ref()
        }
    });
    if let Some(b) = body {
        o["requestBody"] = b;
    }
    o
}

fn json_body(schema: &str) -> Value {
    json!({ "required": true, "content": {
        "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn native_body() -> Value {
    json!({ "required": true, "content": {
        "application/json": { "schema": { "$ref": "#/components/schemas/Rows" } },
        "text/csv": { "schema": { "type": "string" } } } })
}

fn any_object() -> Value {
    json!({ "type": "object" })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

pub fn document() -> Value {
    let name = path_param("name", "registered model name");
    let version = path_param("version", "model version number (1, 2, ...)");
    let alias = path_param("alias", "alias such as champion or challenger");
    let predict = |summary: &str, params: &[Value]| {
        op(
            summary,
            "predict",
            params,
            Some(native_body()),
            schema_ref("PredictResponse"),
        )
    };
    let admin = |summary: &str, params: &[Value], body: &str| {
        op(
            summary,
            "admin",
            params,
            Some(json_body(body)),
            schema_ref("AuditResponse"),
        )
    };
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Capstan model server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Scores registered models. Inference: native /v1, KServe/Triton Open Inference Protocol v2, MLflow /invocations. With keys enabled, pass `Authorization: Bearer <key>` or `X-API-Key`. `X-Request-Key` makes canary routing sticky."
        },
        "security": [ { "bearer": [] }, { "apiKey": [] }, {} ],
        "paths": {
            "/healthz": { "get": op("liveness", "health", &[], None, any_object()) },
            "/readyz": { "get": op("readiness: models loaded", "health", &[], None, any_object()) },
            "/metrics": { "get": {
                "summary": "Prometheus metrics", "tags": ["ops"],
                "responses": { "200": { "description": "text exposition format 0.0.4",
                    "content": { "text/plain": { "schema": { "type": "string" } } } },
                    "401": error_ref(), "403": error_ref() } } },
            "/openapi.json": { "get": op("this document", "ops", &[], None, any_object()) },
            "/version": { "get": op("server version", "ops", &[], None, any_object()) },
            "/ping": { "get": op("MLflow liveness", "mlflow", &[], None, any_object()) },
            "/health": { "get": op("MLflow health", "mlflow", &[], None, any_object()) },
            "/v1/models": { "get": op("served models with aliases, rollout and comparison statistics", "registry", &[], None, any_object()) },
            "/v1/models/{name}": { "get": op("one served model", "registry", std::slice::from_ref(&name), None, any_object()) },
            "/v1/models/{name}/audit": { "get": op("audit trail of registry changes", "registry",
                &[name.clone(), json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } })],
                None, any_object()) },
            "/v1/models/{name}/predict": { "post": predict("score rows with the deployment (champion, canary share, shadow copy)", std::slice::from_ref(&name)) },
            "/v1/models/{name}/batch": { "post": op("score many rows; column-oriented response", "predict", std::slice::from_ref(&name), Some(native_body()), any_object()) },
            "/v1/models/{name}/versions/{version}/predict": { "post": predict("score rows with one version", &[name.clone(), version.clone()]) },
            "/v1/models/{name}/aliases/{alias}/predict": { "post": predict("score rows with the version an alias points at", &[name.clone(), alias.clone()]) },
            "/v1/models/{name}/aliases/{alias}": {
                "put": admin("point an alias at a version (admin)", &[name.clone(), alias.clone()], "AliasChange"),
                "delete": op("remove an alias (admin)", "admin", &[name.clone(), alias.clone()], None, schema_ref("AuditResponse"))
            },
            "/v1/models/{name}/rollout": { "put": admin("set the challenger's rollout: off, shadow or canary (admin)", std::slice::from_ref(&name), "RolloutChange") },
            "/v1/models/{name}/promote": { "post": admin("champion := challenger, rollout off (admin)", std::slice::from_ref(&name), "Reason") },
            "/v1/models/{name}/rollback": { "post": admin("stop the rollout, or move champion back (admin)", std::slice::from_ref(&name), "Rollback") },
            "/v1/log": { "get": op("read the prediction log", "log", &[
                json!({ "name": "model", "in": "query", "required": false, "schema": { "type": "string" } }),
                json!({ "name": "version", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "maximum": 4294967295u64 } }),
                json!({ "name": "role", "in": "query", "required": false, "schema": { "type": "string" } }),
                json!({ "name": "since", "in": "query", "required": false, "schema": { "type": "string" } }),
                json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0 } })
            ], None, any_object()) },
            "/v2": { "get": op("OIP v2 server metadata", "v2", &[], None, any_object()) },
            "/v2/health/live": { "get": op("OIP v2 liveness", "v2", &[], None, any_object()) },
            "/v2/health/ready": { "get": op("OIP v2 readiness", "v2", &[], None, any_object()) },
            "/v2/models/{name}": { "get": op("OIP v2 model metadata", "v2", std::slice::from_ref(&name), None, any_object()) },
            "/v2/models/{name}/ready": { "get": op("OIP v2 model readiness", "v2", std::slice::from_ref(&name), None, any_object()) },
            "/v2/models/{name}/versions/{version}": { "get": op("OIP v2 model version metadata", "v2", &[name.clone(), version.clone()], None, any_object()) },
            "/v2/models/{name}/infer": { "post": op("OIP v2 inference", "v2", std::slice::from_ref(&name), Some(json_body("V2InferRequest")), schema_ref("V2InferResponse")) },
            "/v2/models/{name}/versions/{version}/infer": { "post": op("OIP v2 inference with one version", "v2", &[name, version], Some(json_body("V2InferRequest")), schema_ref("V2InferResponse")) },
            "/invocations": { "post": op("MLflow scoring protocol", "mlflow", &[], Some(json!({ "required": true, "content": {
                "application/json": { "schema": schema_ref("MlflowRequest") },
                "text/csv": { "schema": { "type": "string" } } } })), any_object()) }
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" }
            },
            "responses": {
                "Error": { "description": "the request failed; the message names the field, row or value at fault",
                    "content": { "application/json": { "schema": schema_ref("Error") } } }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error", "code"], "properties": {
                    "error": { "type": "string" }, "code": { "type": "string" } } },
                "Row": { "type": "object", "additionalProperties": true,
                    "description": "one row: input column -> value" },
                "Rows": { "oneOf": [
                    { "type": "object", "required": ["records"], "properties": {
                        "records": { "type": "array", "items": schema_ref("Row") } } },
                    { "type": "object", "required": ["columns", "data"], "properties": {
                        "columns": { "type": "array", "items": { "type": "string" } },
                        "data": { "type": "array", "items": { "type": "array", "items": {} } } } },
                    { "type": "array", "items": schema_ref("Row") },
                    schema_ref("Row")
                ] },
                "PredictResponse": { "type": "object", "properties": {
                    "model": { "type": "string" }, "version": { "type": "integer" },
                    "role": { "type": "string", "enum": ["champion", "canary", "direct"] },
                    "predictions": { "type": "array", "items": { "type": "object", "properties": {
                        "id": { "type": "string" }, "prediction": {},
                        "probabilities": { "type": "object", "additionalProperties": { "type": "number" } } } } } } },
                "AuditResponse": { "type": "object", "properties": { "audit": { "type": "array", "items": { "type": "object" } } } },
                "AliasChange": { "type": "object", "required": ["version"], "additionalProperties": false, "properties": {
                    "version": { "type": "integer", "minimum": 1, "maximum": 4294967295u64 }, "reason": { "type": "string" } } },
                "Reason": { "type": "object", "additionalProperties": false, "properties": {
                    "reason": { "type": "string" } } },
                "Rollback": { "type": "object", "additionalProperties": false, "properties": {
                    "reason": { "type": "string" }, "to": { "type": "integer", "minimum": 1, "maximum": 4294967295u64 } } },
                "RolloutChange": { "type": "object", "required": ["mode"], "additionalProperties": false, "properties": {
                    "mode": { "type": "string", "enum": ["off", "shadow", "canary"] },
                    "canary_percent": { "type": "number", "minimum": 0, "maximum": 100 },
                    "max_error_rate": { "type": "number", "minimum": 0, "maximum": 1 },
                    "max_p99_ms": { "type": "number", "exclusiveMinimum": true, "minimum": 0 },
                    "min_requests": { "type": "integer", "minimum": 0 },
                    "reason": { "type": "string" } } },
                "V2Tensor": { "type": "object", "required": ["name", "shape", "datatype", "data"], "properties": {
                    "name": { "type": "string" },
                    "shape": { "type": "array", "items": { "type": "integer", "minimum": 0 } },
                    "datatype": { "type": "string", "enum": ["BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP32", "FP64", "BYTES"] },
                    "parameters": { "type": "object" },
                    "data": { "type": "array", "items": {} } } },
                "V2InferRequest": { "type": "object", "required": ["inputs"], "properties": {
                    "id": { "type": "string" }, "parameters": { "type": "object" },
                    "inputs": { "type": "array", "items": schema_ref("V2Tensor") },
                    "outputs": { "type": "array", "items": { "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } } } } },
                "V2InferResponse": { "type": "object", "properties": {
                    "model_name": { "type": "string" }, "model_version": { "type": "string" },
                    "id": { "type": "string" }, "outputs": { "type": "array", "items": schema_ref("V2Tensor") } } },
                "MlflowRequest": { "type": "object", "properties": {
                    "dataframe_split": { "type": "object", "properties": {
                        "columns": { "type": "array", "items": { "type": "string" } },
                        "data": { "type": "array", "items": { "type": "array", "items": {} } } } },
                    "dataframe_records": { "type": "array", "items": schema_ref("Row") },
                    "instances": { "type": "array", "items": schema_ref("Row") },
                    "inputs": {} } }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_the_router_is_documented() {
        let doc = document();
        let paths = doc["paths"].as_object().map(|p| p.len()).unwrap_or(0);
        let src = include_str!("routes.rs");
        let routes = src.matches(".route(").count();
        assert_eq!(paths, routes, "openapi paths vs router routes");
        for line in src
            .lines()
            .filter(|l| l.trim_start().starts_with(".route(\""))
        {
            let path = line.split('"').nth(1).unwrap_or_default();
            assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
        }
    }
}
