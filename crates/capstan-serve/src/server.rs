//! Server configuration, start-up and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};

use capstan_store::Store;

use crate::auth::Auth;
use crate::deployments::{Deployments, ModelCache, refresh};
use crate::log_writer::LogWriter;
use crate::metrics::Metrics;
use crate::state::{AppState, IdSource};

/// When a prediction's log record is safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogPolicy {
    /// No prediction log.
    Off,
    /// The response does not wait for the log: records go through a bounded queue and are
    /// committed in batches every `flush_ms`; when the queue is full a record is dropped and
    /// counted (`capstan_prediction_log_dropped_total`). A crash loses at most the last batch.
    Async { queue: usize, flush_ms: u64 },
    /// The response is sent only after the batch holding its records is committed: every
    /// acknowledged prediction is in the log. Group commit: the writer commits whenever its
    /// queue runs empty, so what arrives during one commit makes the next.
    Durable { queue: usize, flush_ms: u64 },
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Default 127.0.0.1:8080.
    pub bind: SocketAddr,
    /// Registered model names to serve; empty serves every registered model.
    pub models: Vec<String>,
    /// The model `/invocations` (MLflow) scores; defaults to the only served model.
    pub default_model: Option<String>,
    pub log: LogPolicy,
    /// Request bodies larger than this get 413.
    pub max_body_bytes: usize,
    /// Rows per request above this get 413.
    pub max_rows: usize,
    /// How often the registry (aliases, rollout) is re-read.
    pub refresh: Duration,
    /// Require an API key on every endpoint but health checks. Mutating endpoints always
    /// need an admin key, whatever this says.
    pub require_keys: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            models: Vec::new(),
            default_model: None,
            log: LogPolicy::Async {
                queue: 65_536,
                flush_ms: 100,
            },
            max_body_bytes: 16 << 20,
            max_rows: 100_000,
            refresh: Duration::from_secs(1),
            require_keys: false,
        }
    }
}

/// Errors that stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] capstan_store::StoreError),
    #[error("{0}")]
    Config(String),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves until SIGINT or SIGTERM, then drains requests and flushes the prediction log.
/// Builds its own multi-threaded runtime; prints the listening address to stderr.
pub fn serve(config: ServeConfig, store: Arc<Store>) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let server = RunningServer::start(config, store).await?;
        eprintln!("capstan serve: listening on http://{}", server.addr());
        shutdown_signal().await;
        eprintln!("capstan serve: shutting down (draining requests, flushing the log)");
        server.shutdown().await
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// A started server (used by `serve` and by tests).
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: tokio::sync::watch::Sender<bool>,
    http: tokio::task::JoinHandle<std::io::Result<()>>,
    refresher: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Loads the deployments, binds, and starts serving in the background.
    pub async fn start(config: ServeConfig, store: Arc<Store>) -> Result<Self, ServeError> {
        let metrics = Arc::new(Metrics::new());
        let log = LogWriter::start(store.clone(), config.log, metrics.clone());
        let auth = Auth::new(store.clone(), config.require_keys);
        let state = Arc::new(AppState {
            store: store.clone(),
            config: config.clone(),
            deployments: Default::default(),
            cache: ModelCache::default(),
            stats: Default::default(),
            metrics,
            log,
            auth,
            ids: IdSource::new(),
            ready: AtomicBool::new(false),
        });
        // The first load must succeed: a server that cannot serve what it was asked to
        // should not start.
        let (first, problems) = {
            let st = state.clone();
            tokio::task::spawn_blocking(move || {
                refresh(
                    &st.store,
                    &st.config.models,
                    &st.cache,
                    &Deployments::default(),
                )
            })
            .await
            .map_err(|e| ServeError::Config(format!("loading models: {e}")))??
        };
        if let Some(p) = problems.first() {
            return Err(ServeError::Config(p.clone()));
        }
        if let Some(name) = &config.default_model {
            if !first.models.contains_key(name) {
                return Err(ServeError::Config(format!(
                    "--default-model '{name}' is not among the served models"
                )));
            }
        }
        state.set_deployments(first);
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let app = crate::routes::router(state.clone());
        let mut http_stop = stop.subscribe();
        let http = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = http_stop.changed().await;
                })
                .await
        });
        let st = state.clone();
        let refresher = tokio::spawn(async move {
            let mut tick = tokio::time::interval(st.config.refresh);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => refresh_now(&st).await,
                    _ = stopped.changed() => break,
                }
            }
        });
        state.ready.store(true, Ordering::SeqCst);
        Ok(RunningServer {
            addr,
            state,
            stop,
            http,
            refresher,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting, drains in-flight requests, flushes and closes the prediction log.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.state.ready.store(false, Ordering::SeqCst);
        let _ = self.stop.send(true);
        let served = self
            .http
            .await
            .map_err(|e| ServeError::Config(format!("server task: {e}")))?;
        let _ = self.refresher.await;
        let state = self.state;
        tokio::task::spawn_blocking(move || state.log.shutdown())
            .await
            .map_err(|e| ServeError::Config(format!("flushing the prediction log: {e}")))?;
        served.map_err(ServeError::Io)
    }
}

/// Re-reads the registry; on failure keeps serving what is loaded and says why on stderr.
pub async fn refresh_now(state: &Arc<AppState>) {
    let st = state.clone();
    let result = tokio::task::spawn_blocking(move || {
        let previous = st.deployments();
        refresh(&st.store, &st.config.models, &st.cache, &previous)
    })
    .await;
    match result {
        Ok(Ok((next, problems))) => {
            for p in problems {
                eprintln!("capstan serve: keeping the previous version: {p}");
            }
            state.set_deployments(next);
        }
        Ok(Err(e)) => eprintln!("capstan serve: registry refresh failed: {e}"),
        Err(e) => eprintln!("capstan serve: registry refresh failed: {e}"),
    }
}
