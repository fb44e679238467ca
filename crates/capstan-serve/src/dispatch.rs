//! One scoring request through the deployment: pick champion or canary, fall back to the
//! champion when the canary fails, copy to the shadow off the request path, log, count.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use capstan_frame::Schema;
use capstan_store::{Change, PredictionRecord, RolloutMode};

use crate::deployments::Deployment;
use crate::error::ApiError;
use crate::input::Rows;
use crate::model::{LoadedModel, Scored};
use crate::output::{row_json, score};
use crate::rollout::goes_to_canary;
use crate::state::{AppState, ModelStats};

/// Which version a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The deployment decides: champion, or the canary for its share of request keys.
    Routed,
    Version(u32),
    Alias(String),
}

/// Parses a request body for a model's input schema; called once per model that scores it.
pub type Parse = Arc<dyn Fn(&Schema) -> Result<Rows, ApiError> + Send + Sync>;

/// A scored request.
#[derive(Debug)]
pub struct Outcome {
    pub model: Arc<LoadedModel>,
    pub role: &'static str,
    pub ids: Vec<String>,
    pub scored: Scored,
}

/// Scoring above this many rows moves to the blocking pool.
const INLINE_ROWS: usize = 256;

pub async fn predict(
    state: &Arc<AppState>,
    name: &str,
    target: Target,
    request_key: Option<&str>,
    parse: Parse,
) -> Result<Outcome, ApiError> {
    let started = Instant::now();
    let deployment = state.deployment(name)?;
    let (model, role) = match target {
        Target::Routed => {
            return routed(state, &deployment, request_key, parse, started).await;
        }
        Target::Version(v) => (load_version(state, &deployment, v).await?, "direct"),
        Target::Alias(alias) => {
            let Some(&v) = deployment.registered.aliases.get(&alias) else {
                return Err(ApiError::not_found(format!(
                    "model '{name}' has no alias '{alias}'; aliases: {}",
                    alias_list(&deployment)
                )));
            };
            (load_version(state, &deployment, v).await?, "direct")
        }
    };
    let (rows, scored) = run(&model, &parse).await.inspect_err(|_| {
        state
            .metrics
            .scoring_error(&model.name, model.version, role)
    })?;
    finish(state, model, role, rows, scored, started.elapsed()).await
}

async fn routed(
    state: &Arc<AppState>,
    deployment: &Arc<Deployment>,
    request_key: Option<&str>,
    parse: Parse,
    started: Instant,
) -> Result<Outcome, ApiError> {
    let Some(champion) = deployment.champion.clone() else {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "no_champion",
            format!(
                "model '{0}' has no champion alias; set one with `capstan models alias {0} champion VERSION`",
                deployment.name()
            ),
        ));
    };
    let rollout = deployment.rollout().clone();
    let challenger = deployment.challenger.clone();
    let stats = state.stats_for(deployment.name(), challenger.as_ref().map(|c| c.version));

    if let (RolloutMode::Canary, Some(canary)) = (rollout.mode, &challenger) {
        if goes_to_canary(request_key, rollout.canary_percent, state.ids.draw()) {
            let t0 = Instant::now();
            match run(canary, &parse).await {
                Ok((rows, scored)) => {
                    stats.canary.record(true, t0.elapsed());
                    check_rollback(state, deployment, &stats);
                    return finish(
                        state,
                        canary.clone(),
                        "canary",
                        rows,
                        scored,
                        started.elapsed(),
                    )
                    .await;
                }
                Err(canary_error) => {
                    // Serve the champion; the failure counts against the canary only if the
                    // champion can answer the same request.
                    let answer = run(&champion, &parse).await;
                    if answer.is_ok() {
                        stats.canary.record(false, t0.elapsed());
                        state
                            .metrics
                            .canary_fallback(deployment.name(), canary.version);
                        eprintln!(
                            "capstan serve: canary {} v{} failed, answered by the champion: {}",
                            canary.name, canary.version, canary_error.message
                        );
                        check_rollback(state, deployment, &stats);
                    }
                    let (rows, scored) = answer?;
                    return finish(state, champion, "champion", rows, scored, started.elapsed())
                        .await;
                }
            }
        }
    }

    let champion_started = Instant::now();
    let answer = run(&champion, &parse).await;
    let champion_latency = champion_started.elapsed();
    if rollout.mode == RolloutMode::Canary && challenger.is_some() {
        stats
            .canary
            .record_champion(answer.is_ok(), champion_latency);
    }
    let (rows, scored) = answer.inspect_err(|_| {
        state
            .metrics
            .scoring_error(&champion.name, champion.version, "champion")
    })?;
    if let (RolloutMode::Shadow, Some(shadow)) = (rollout.mode, challenger) {
        let state = state.clone();
        let champion_scored = scored.clone();
        tokio::spawn(async move {
            shadow_copy(
                &state,
                shadow,
                parse,
                champion_scored,
                champion_latency,
                stats,
            )
            .await;
        });
    }
    finish(state, champion, "champion", rows, scored, started.elapsed()).await
}

/// Scores the shadow copy, compares it with the champion's answer and logs it.
async fn shadow_copy(
    state: &Arc<AppState>,
    shadow: Arc<LoadedModel>,
    parse: Parse,
    champion: Scored,
    champion_latency: Duration,
    stats: Arc<ModelStats>,
) {
    let t0 = Instant::now();
    match run(&shadow, &parse).await {
        Ok((rows, scored)) => {
            let latency = t0.elapsed();
            stats
                .shadow
                .record(&champion, &scored, champion_latency, latency);
            state
                .metrics
                .shadow_agreement(&shadow.name, shadow.version, &stats.shadow.snapshot());
            let records = records(state, &shadow, "shadow", &rows, &scored, latency).1;
            // Shadow records never hold up anything; a full queue drops them.
            let _ = state.log.log(records).await;
        }
        Err(e) => {
            stats.shadow.record_error();
            eprintln!(
                "capstan serve: shadow {} v{} failed: {}",
                shadow.name, shadow.version, e.message
            );
        }
    }
}

/// Moves the canary's traffic back to the champion once its window crosses a threshold.
fn check_rollback(state: &Arc<AppState>, deployment: &Arc<Deployment>, stats: &Arc<ModelStats>) {
    let Some(reason) = stats.canary.verdict(deployment.rollout()) else {
        return;
    };
    if stats.rolling_back.swap(true, Ordering::SeqCst) {
        return;
    }
    // Stop canary traffic on this server at once, then record it in the registry.
    let mut next = (*state.deployments()).clone();
    let name = deployment.name().to_string();
    if let Some(d) = next.models.get(&name) {
        let mut d = (**d).clone();
        d.registered.rollout.mode = RolloutMode::Off;
        next.models.insert(name.clone(), Arc::new(d));
    }
    state.set_deployments(next);
    state.metrics.rollback(&name);
    eprintln!("capstan serve: automatic rollback of '{name}': {reason}");
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let change = Change {
            actor: "capstan-serve (automatic)".to_string(),
            reason,
        };
        if let Err(e) = store.rollback(&name, None, &change) {
            eprintln!("capstan serve: recording the rollback of '{name}' failed: {e}");
        }
    });
}

/// The loaded `version` of a deployment's model; 404 lists the versions there are.
pub(crate) async fn load_version(
    state: &Arc<AppState>,
    deployment: &Deployment,
    version: u32,
) -> Result<Arc<LoadedModel>, ApiError> {
    if deployment.registered.version(version).is_none() {
        return Err(ApiError::not_found(format!(
            "model '{}' has no version {version}; versions: {}",
            deployment.name(),
            deployment
                .registered
                .versions
                .iter()
                .map(|v| v.version.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let state = state.clone();
    let registered = deployment.registered.clone();
    tokio::task::spawn_blocking(move || state.cache.load(&state.store, &registered, version))
        .await
        .map_err(|e| ApiError::internal(format!("loading a model version: {e}")))?
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Parses and scores on this task for small requests, on the blocking pool for large ones.
async fn run(model: &Arc<LoadedModel>, parse: &Parse) -> Result<(Rows, Scored), ApiError> {
    let rows = parse(&model.bundle.manifest.input_schema)?;
    if rows.frame.n_rows() <= INLINE_ROWS {
        let scored = score(model, &rows)?;
        return Ok((rows, scored));
    }
    let model = model.clone();
    tokio::task::spawn_blocking(move || score(&model, &rows).map(|s| (rows, s)))
        .await
        .map_err(|e| ApiError::internal(format!("scoring: {e}")))?
}

async fn finish(
    state: &Arc<AppState>,
    model: Arc<LoadedModel>,
    role: &'static str,
    rows: Rows,
    scored: Scored,
    latency: Duration,
) -> Result<Outcome, ApiError> {
    state
        .metrics
        .scored(&model.name, model.version, role, &scored, latency);
    if let Some(rules) = &model.rules {
        let counts: Vec<(&str, &str, u64)> = rules
            .count_violations(&rows.frame)
            .into_iter()
            .map(|(column, kind, n)| (column, kind.name(), n))
            .collect();
        state
            .metrics
            .rule_violations(&model.name, model.version, &counts);
    }
    let (ids, records) = records(state, &model, role, &rows, &scored, latency);
    state.log.log(records).await.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "log_unavailable",
            format!("the prediction could not be logged durably, so it is not returned: {e}"),
        )
    })?;
    Ok(Outcome {
        model,
        role,
        ids,
        scored,
    })
}

fn records(
    state: &AppState,
    model: &LoadedModel,
    role: &str,
    rows: &Rows,
    scored: &Scored,
    latency: Duration,
) -> (Vec<String>, Vec<PredictionRecord>) {
    let at = capstan_io::utc_now_rfc3339();
    let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    let ids: Vec<String> = (0..scored.rows.len()).map(|_| state.ids.next()).collect();
    if !state.log.enabled() {
        return (ids, Vec::new());
    }
    let records = ids
        .iter()
        .enumerate()
        .map(|(i, id)| PredictionRecord {
            id: id.clone(),
            at: at.clone(),
            model: model.name.clone(),
            version: model.version,
            role: role.to_string(),
            inputs: rows.records.get(i).cloned().unwrap_or_default(),
            outputs: row_json(scored, i),
            latency_us,
        })
        .collect();
    (ids, records)
}

fn alias_list(d: &Deployment) -> String {
    if d.registered.aliases.is_empty() {
        return "none".to_string();
    }
    d.registered
        .aliases
        .iter()
        .map(|(a, v)| format!("{a}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
