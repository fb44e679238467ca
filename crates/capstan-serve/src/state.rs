//! Shared server state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use capstan_store::{RolloutMode, Store};

use crate::ServeConfig;
use crate::auth::Auth;
use crate::deployments::{Deployment, Deployments, ModelCache};
use crate::error::ApiError;
use crate::log_writer::LogWriter;
use crate::metrics::Metrics;
use crate::rollout::{CanaryMonitor, ShadowStats};

/// Comparison and canary statistics for one model's current challenger version.
#[derive(Debug, Default)]
pub struct ModelStats {
    pub challenger_version: Option<u32>,
    pub shadow: ShadowStats,
    pub canary: CanaryMonitor,
    /// Set while an automatic rollback is being written, so it happens once.
    pub rolling_back: AtomicBool,
}

#[derive(Debug)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: ServeConfig,
    pub deployments: RwLock<Arc<Deployments>>,
    pub cache: ModelCache,
    pub stats: Mutex<HashMap<String, Arc<ModelStats>>>,
    pub metrics: Arc<Metrics>,
    pub log: LogWriter,
    pub auth: Auth,
    pub ids: IdSource,
    pub ready: AtomicBool,
}

impl AppState {
    pub fn deployments(&self) -> Arc<Deployments> {
        self.deployments
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_deployments(&self, next: Deployments) {
        for (name, d) in &next.models {
            let stats = self.stats_for(name, d.challenger.as_ref().map(|c| c.version));
            // A canary that is off starts a fresh window when it is switched on again.
            if d.rollout().mode != RolloutMode::Canary {
                stats.canary.reset();
                stats.rolling_back.store(false, Ordering::SeqCst);
            }
        }
        *self
            .deployments
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
    }

    /// The deployment serving `name`; 404 lists what is served.
    pub fn deployment(&self, name: &str) -> Result<Arc<Deployment>, ApiError> {
        let all = self.deployments();
        all.models.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = all.models.keys().map(String::as_str).collect();
            ApiError::not_found(format!(
                "model '{name}' is not served here; served models: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    /// Statistics for `name`, fresh whenever the challenger version changes.
    pub fn stats_for(&self, name: &str, challenger: Option<u32>) -> Arc<ModelStats> {
        let mut all = self.stats.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = all.entry(name.to_string()).or_default();
        if entry.challenger_version != challenger {
            *entry = Arc::new(ModelStats {
                challenger_version: challenger,
                ..ModelStats::default()
            });
        }
        entry.clone()
    }
}

/// Prediction ids: a random per-process prefix and a counter, so ids are unique across
/// restarts and servers without coordination.
#[derive(Debug)]
pub struct IdSource {
    prefix: String,
    next: AtomicU64,
    draws: AtomicU64,
}

impl IdSource {
    pub fn new() -> IdSource {
        let mut random = [0u8; 6];
        // Without OS randomness fall back to time and pid; uniqueness per process remains.
        if getrandom::fill(&mut random).is_err() {
            let t = capstan_io::utc_now_rfc3339();
            let h = capstan_io::sha256_hex(format!("{t}{}", std::process::id()).as_bytes());
            return IdSource {
                prefix: h[..12].to_string(),
                next: AtomicU64::new(0),
                draws: AtomicU64::new(0),
            };
        }
        IdSource {
            prefix: capstan_io::hex(&random),
            next: AtomicU64::new(0),
            draws: AtomicU64::new(0),
        }
    }

    pub fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:010x}", self.prefix)
    }

    /// A random-ish number for requests without a key (canary share).
    pub fn draw(&self) -> u64 {
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        // splitmix64 of the counter and the prefix hash
        let mut z = n
            .wrapping_add(u64::from_str_radix(&self.prefix[..8], 16).unwrap_or(0))
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Default for IdSource {
    fn default() -> Self {
        Self::new()
    }
}
