//! The HTTP API: native `/v1`, Open Inference Protocol `/v2`, MLflow `/invocations`,
//! admin changes to the registry, health, metrics and the OpenAPI document.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use capstan_store::{Change, LogQuery, RegistryUpdate, Role, Rollout, RolloutMode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::dispatch::{self, Parse, Target};
use crate::error::ApiError;
use crate::state::AppState;
use crate::{input, mlflow, native, openapi, v2};

type ApiResult = Result<Response, ApiError>;
type AppStateRef = State<Arc<AppState>>;

pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_doc))
        .route("/v1/models", get(list_models))
        .route("/v1/models/{name}", get(show_model))
        .route("/v1/models/{name}/audit", get(audit))
        .route("/v1/models/{name}/predict", post(predict_routed))
        .route("/v1/models/{name}/batch", post(batch_routed))
        .route(
            "/v1/models/{name}/versions/{version}/predict",
            post(predict_version),
        )
        .route(
            "/v1/models/{name}/aliases/{alias}/predict",
            post(predict_alias),
        )
        .route(
            "/v1/models/{name}/aliases/{alias}",
            put(set_alias).delete(remove_alias),
        )
        .route("/v1/models/{name}/rollout", put(set_rollout))
        .route("/v1/models/{name}/promote", post(promote))
        .route("/v1/models/{name}/rollback", post(rollback))
        .route("/v1/log", get(read_log))
        .route("/v2", get(v2_server))
        .route("/v2/health/live", get(healthz))
        .route("/v2/health/ready", get(readyz))
        .route("/v2/models/{name}", get(v2_model))
        .route("/v2/models/{name}/ready", get(v2_model_ready))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(v2_model_version),
        )
        .route("/v2/models/{name}/infer", post(v2_infer))
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(v2_infer_version),
        )
        .route("/invocations", post(invocations))
        .route("/ping", get(healthz))
        .route("/health", get(healthz))
        .route("/version", get(version))
        .fallback(not_found)
        .layer(middleware::from_fn(reject_encoded_bodies))
        .layer(middleware::from_fn_with_state(state.clone(), count_http))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Counts every HTTP request by route template, method and status.
async fn count_http(State(state): AppStateRef, request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_string();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.http(
        &path,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Compressed request bodies are refused by name rather than misread as JSON.
async fn reject_encoded_bodies(request: Request, next: Next) -> Response {
    let encoding = request.headers().get(header::CONTENT_ENCODING).map(|v| {
        v.to_str()
            .unwrap_or("(not text)")
            .trim()
            .to_ascii_lowercase()
    });
    match encoding {
        Some(e) if !e.is_empty() && e != "identity" => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("Content-Encoding '{e}' is not supported; send the body uncompressed"),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /openapi.json")
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): AppStateRef) -> Response {
    if state.ready.load(std::sync::atomic::Ordering::SeqCst) {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "starting" })),
        )
            .into_response()
    }
}

async fn version() -> Json<Value> {
    Json(json!({ "capstan": env!("CARGO_PKG_VERSION") }))
}

async fn metrics(State(state): AppStateRef, headers: HeaderMap) -> ApiResult {
    state.auth.check(&headers, Role::Read).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response())
}

async fn openapi_doc() -> Json<Value> {
    Json(openapi::document())
}

// ---- registry reads ----

async fn list_models(State(state): AppStateRef, headers: HeaderMap) -> ApiResult {
    state.auth.check(&headers, Role::Read).await?;
    let all = state.deployments();
    let models: Vec<Value> = all
        .models
        .values()
        .map(|d| model_summary(&state, d))
        .collect();
    Ok(Json(json!({ "models": models })).into_response())
}

async fn show_model(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    state.auth.check(&headers, Role::Read).await?;
    let d = state.deployment(&name)?;
    Ok(Json(model_summary(&state, &d)).into_response())
}

fn model_summary(state: &AppState, d: &crate::deployments::Deployment) -> Value {
    let stats = state.stats_for(d.name(), d.challenger.as_ref().map(|c| c.version));
    json!({
        "name": d.name(),
        "versions": d.registered.versions,
        "aliases": d.registered.aliases,
        "rollout": d.registered.rollout,
        "serving": {
            "champion": d.champion.as_ref().map(|m| m.version),
            "challenger": d.challenger.as_ref().map(|m| m.version),
        },
        "shadow": stats.shadow.snapshot(),
        "canary": stats.canary.snapshot(),
    })
}

#[derive(Debug, Deserialize)]
struct LimitParams {
    limit: Option<usize>,
}

async fn audit(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
    q: Result<Query<LimitParams>, QueryRejection>,
) -> ApiResult {
    state.auth.check(&headers, Role::Read).await?;
    let Query(q) = q.map_err(query_error)?;
    state.deployment(&name)?;
    let store = state.store.clone();
    let limit = q.limit.unwrap_or(100);
    let entries = blocking(move || store.audit_log(Some(&name), limit)).await?;
    Ok(Json(json!({ "audit": entries })).into_response())
}

#[derive(Debug, Deserialize)]
struct LogParams {
    model: Option<String>,
    version: Option<u32>,
    role: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
}

async fn read_log(
    State(state): AppStateRef,
    headers: HeaderMap,
    q: Result<Query<LogParams>, QueryRejection>,
) -> ApiResult {
    state.auth.check(&headers, Role::Read).await?;
    let Query(q) = q.map_err(query_error)?;
    let query = LogQuery {
        model: q.model,
        version: q.version,
        role: q.role,
        since: q.since,
        limit: Some(q.limit.unwrap_or(100).min(10_000)),
    };
    let store = state.store.clone();
    let records = blocking(move || store.query_predictions(&query)).await?;
    Ok(Json(json!({ "predictions": records })).into_response())
}

// ---- scoring ----

fn query_error(e: QueryRejection) -> ApiError {
    ApiError::bad_request("bad_query", e.body_text())
}

fn request_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn native_parse(state: &AppState, headers: &HeaderMap, body: Bytes) -> Parse {
    let ct = content_type(headers);
    let max_rows = state.config.max_rows;
    Arc::new(move |schema| input::from_native_body(schema, ct.as_deref(), &body, max_rows))
}

async fn native_predict(
    state: Arc<AppState>,
    headers: HeaderMap,
    name: String,
    target: Target,
    body: Bytes,
    batch: bool,
) -> ApiResult {
    state.auth.check(&headers, Role::Predict).await?;
    let parse = native_parse(&state, &headers, body);
    let key = request_key(&headers);
    let out = dispatch::predict(&state, &name, target, key.as_deref(), parse).await?;
    let body = if batch {
        native::batch_response(
            &out.model.name,
            out.model.version,
            out.role,
            &out.ids,
            &out.scored,
        )
    } else {
        native::predict_response(
            &out.model.name,
            out.model.version,
            out.role,
            &out.ids,
            &out.scored,
        )
    };
    Ok(Json(body).into_response())
}

async fn predict_routed(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    native_predict(state, headers, name, Target::Routed, body, false).await
}

async fn batch_routed(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    native_predict(state, headers, name, Target::Routed, body, true).await
}

async fn predict_version(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let v = parse_version(&version)?;
    native_predict(state, headers, name, Target::Version(v), body, false).await
}

async fn predict_alias(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path((name, alias)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    native_predict(state, headers, name, Target::Alias(alias), body, false).await
}

fn parse_version(text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>().map_err(|_| {
        ApiError::bad_request(
            "bad_version",
            format!("version '{text}' is not a version number (expected 1, 2, ...)"),
        )
    })
}

// ---- Open Inference Protocol v2 ----

async fn v2_server(State(state): AppStateRef, headers: HeaderMap) -> ApiResult {
    state.auth.check(&headers, Role::Predict).await?;
    Ok(Json(json!({
        "name": "capstan",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": ["binary_tensor_data"],
    }))
    .into_response())
}

async fn v2_model(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    state.auth.check(&headers, Role::Predict).await?;
    let d = state.deployment(&name)?;
    let model = d.champion.clone().ok_or_else(|| {
        ApiError::not_found(format!(
            "model '{name}' has no champion version to describe"
        ))
    })?;
    let versions: Vec<u32> = d.registered.versions.iter().map(|v| v.version).collect();
    Ok(Json(v2::model_metadata(&model, &versions)).into_response())
}

async fn v2_model_version(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
) -> ApiResult {
    state.auth.check(&headers, Role::Predict).await?;
    let v = parse_version(&version)?;
    let d = state.deployment(&name)?;
    let model = dispatch::load_version(&state, &d, v).await?;
    Ok(Json(v2::model_metadata(&model, &[v])).into_response())
}

async fn v2_model_ready(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult {
    state.auth.check(&headers, Role::Predict).await?;
    let d = state.deployment(&name)?;
    // OIP v2: 200 means ready, a 4xx means not ready.
    if d.champion.is_some() {
        Ok(Json(json!({ "name": name, "ready": true })).into_response())
    } else {
        Err(ApiError::bad_request(
            "not_ready",
            format!("model '{name}' is not ready: it has no champion version"),
        ))
    }
}

async fn v2_infer_any(
    state: Arc<AppState>,
    headers: HeaderMap,
    name: String,
    target: Target,
    body: Bytes,
) -> ApiResult {
    state.auth.check(&headers, Role::Predict).await?;
    let header = v2::parse_header(&headers, &body)?;
    let max_rows = state.config.max_rows;
    let h = headers.clone();
    let parse: Parse =
        Arc::new(move |schema| v2::parse_infer(schema, &h, &body, max_rows).map(|(_, rows)| rows));
    let key = request_key(&headers).or_else(|| header.id.clone());
    let out = dispatch::predict(&state, &name, target, key.as_deref(), parse).await?;
    let response = v2::infer_response(
        &out.model.name,
        out.model.version,
        header.id.as_deref(),
        &header.outputs,
        &out.scored,
    )?;
    Ok(Json(response).into_response())
}

async fn v2_infer(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    v2_infer_any(state, headers, name, Target::Routed, body).await
}

async fn v2_infer_version(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let v = parse_version(&version)?;
    v2_infer_any(state, headers, name, Target::Version(v), body).await
}

// ---- MLflow scoring server ----

async fn invocations(State(state): AppStateRef, headers: HeaderMap, body: Bytes) -> ApiResult {
    state.auth.check(&headers, Role::Predict).await?;
    let name = default_model(&state)?;
    let ct = content_type(&headers);
    let max_rows = state.config.max_rows;
    let parse: Parse =
        Arc::new(move |schema| mlflow::parse_invocations(schema, ct.as_deref(), &body, max_rows));
    let key = request_key(&headers);
    let out = dispatch::predict(&state, &name, Target::Routed, key.as_deref(), parse).await?;
    Ok(Json(mlflow::invocations_response(&out.scored)).into_response())
}

fn default_model(state: &AppState) -> Result<String, ApiError> {
    if let Some(name) = &state.config.default_model {
        return Ok(name.clone());
    }
    let all = state.deployments();
    let mut names = all.models.keys();
    match (names.next(), names.next()) {
        (Some(only), None) => Ok(only.clone()),
        (None, _) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_model",
            "no model is served",
        )),
        _ => Err(ApiError::bad_request(
            "ambiguous_model",
            format!(
                "/invocations needs one model but this server serves {}; start it with --default-model NAME or call /v1/models/NAME/predict",
                all.models.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

// ---- admin: registry changes ----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasBody {
    version: u32,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    #[serde(default)]
    reason: String,
    /// The champion version to go back to.
    #[serde(default)]
    to: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RolloutBody {
    mode: RolloutMode,
    #[serde(default)]
    canary_percent: f64,
    #[serde(default)]
    max_error_rate: Option<f64>,
    #[serde(default)]
    max_p99_ms: Option<f64>,
    #[serde(default = "default_min_requests")]
    min_requests: u32,
    #[serde(default)]
    reason: String,
}

fn default_min_requests() -> u32 {
    Rollout::default().min_requests
}

/// A JSON request body that must be there.
fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("request body: {e}")))
}

/// A JSON request body that may be left empty (all defaults).
fn json_body<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(body)
}

fn actor(key: Option<capstan_store::ApiKey>) -> String {
    key.map_or_else(|| "api".to_string(), |k| format!("api key '{}'", k.name))
}

/// Applies a registry change and refreshes this server's deployments at once.
async fn admin_change<F>(state: Arc<AppState>, name: String, change: F) -> ApiResult
where
    F: FnOnce(
            &capstan_store::Store,
        ) -> Result<Vec<capstan_store::AuditEntry>, capstan_store::StoreError>
        + Send
        + 'static,
{
    state.deployment(&name)?;
    let store = state.store.clone();
    let entries = blocking(move || change(&store)).await?;
    crate::server::refresh_now(&state).await;
    Ok(Json(json!({ "audit": entries })).into_response())
}

async fn set_alias(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path((name, alias)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let key = state.auth.check(&headers, Role::Admin).await?;
    let b: AliasBody = parse_json(&body)?;
    let change = Change {
        actor: actor(key),
        reason: b.reason,
    };
    let model = name.clone();
    admin_change(state, name, move |s| {
        s.set_alias(&model, &alias, Some(b.version), &change)
    })
    .await
}

async fn remove_alias(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path((name, alias)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let key = state.auth.check(&headers, Role::Admin).await?;
    let b: ReasonBody = json_body(&body)?;
    let change = Change {
        actor: actor(key),
        reason: b.reason,
    };
    let model = name.clone();
    admin_change(state, name, move |s| {
        s.set_alias(&model, &alias, None, &change)
    })
    .await
}

async fn set_rollout(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let key = state.auth.check(&headers, Role::Admin).await?;
    let b: RolloutBody = parse_json(&body)?;
    let d = state.deployment(&name)?;
    if b.mode != RolloutMode::Off && !d.registered.aliases.contains_key("challenger") {
        return Err(ApiError::bad_request(
            "no_challenger",
            format!("model '{name}' has no challenger alias; set one before a rollout"),
        ));
    }
    let change = Change {
        actor: actor(key),
        reason: b.reason,
    };
    let update = RegistryUpdate {
        action: "rollout".to_string(),
        aliases: Vec::new(),
        rollout: Some(Rollout {
            mode: b.mode,
            canary_percent: b.canary_percent,
            max_error_rate: b.max_error_rate,
            max_p99_ms: b.max_p99_ms,
            min_requests: b.min_requests,
        }),
    };
    let model = name.clone();
    admin_change(state, name, move |s| {
        s.update_registry(&model, &update, &change)
    })
    .await
}

async fn promote(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let key = state.auth.check(&headers, Role::Admin).await?;
    let b: ReasonBody = json_body(&body)?;
    let change = Change {
        actor: actor(key),
        reason: b.reason,
    };
    let model = name.clone();
    admin_change(state, name, move |s| s.promote(&model, &change)).await
}

async fn rollback(
    State(state): AppStateRef,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult {
    let key = state.auth.check(&headers, Role::Admin).await?;
    let b: RollbackBody = json_body(&body)?;
    let change = Change {
        actor: actor(key),
        reason: b.reason,
    };
    let model = name.clone();
    admin_change(state, name, move |s| s.rollback(&model, b.to, &change)).await
}

// ---- helpers ----

/// Runs a store call on the blocking pool, mapping its error to a response.
async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, capstan_store::StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("store task: {e}")))?
        .map_err(store_error)
}

/// Store errors: the caller's mistakes are 4xx, the rest 500.
pub fn store_error(e: capstan_store::StoreError) -> ApiError {
    use capstan_store::StoreError as E;
    match &e {
        E::ModelNotFound { .. }
        | E::VersionNotFound { .. }
        | E::AliasNotFound { .. }
        | E::RunNotFound(_)
        | E::KeyNotFound(_) => ApiError::not_found(e.to_string()),
        E::InvalidName { .. }
        | E::InvalidRollout { .. }
        | E::NothingToRollBack(_)
        | E::InvalidHash(_)
        | E::PrefixTooShort(_)
        | E::AmbiguousRun { .. } => ApiError::bad_request("invalid", e.to_string()),
        E::KeyExists(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
        _ => ApiError::internal(e.to_string()),
    }
}
