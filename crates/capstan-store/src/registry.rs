//! Model registry: named models, numbered versions (a bundle hash and the run it came from),
//! aliases such as `champion` and `challenger`, the challenger's rollout, and an audit trail.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::util::normalize_sha256;
use crate::{Store, StoreError};

/// Who makes a change and why; recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub actor: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub model: String,
    pub version: u32,
    pub bundle_sha256: String,
    pub bundle_size: u64,
    pub run_id: Option<String>,
    pub description: String,
    pub created_at: String,
    pub created_by: String,
}

/// How the `challenger` alias receives traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RolloutMode {
    /// No traffic.
    #[default]
    Off,
    /// A copy of every request, off the request path; its outputs are logged, never returned.
    Shadow,
    /// `canary_percent` of requests (sticky by request key) are answered by the challenger.
    Canary,
}

/// The challenger's rollout and the thresholds for automatic rollback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub mode: RolloutMode,
    /// 0..=100; used in canary mode.
    pub canary_percent: f64,
    /// Roll back when the canary's error rate over the window exceeds this (0..=1).
    pub max_error_rate: Option<f64>,
    /// Roll back when the canary's p99 latency over the window exceeds this.
    pub max_p99_ms: Option<f64>,
    /// Requests the canary must have served before a threshold is judged.
    pub min_requests: u32,
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout {
            mode: RolloutMode::Off,
            canary_percent: 0.0,
            max_error_rate: None,
            max_p99_ms: None,
            min_requests: 50,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub created_at: String,
    /// Oldest first.
    pub versions: Vec<ModelVersion>,
    pub aliases: BTreeMap<String, u32>,
    pub rollout: Rollout,
}

impl RegisteredModel {
    pub fn version(&self, version: u32) -> Option<&ModelVersion> {
        self.versions.iter().find(|v| v.version == version)
    }

    pub fn alias(&self, alias: &str) -> Option<&ModelVersion> {
        self.aliases.get(alias).and_then(|v| self.version(*v))
    }
}

/// One registry change: alias moves (`None` removes the alias) and/or a new rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryUpdate {
    /// What the change is, for the audit trail: `alias`, `promote`, `rollback`, `rollout`.
    pub action: String,
    pub aliases: Vec<(String, Option<u32>)>,
    pub rollout: Option<Rollout>,
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub model: String,
    /// `register`, `alias`, `promote`, `rollback`, `rollout`.
    pub action: String,
    /// The alias changed, if any.
    pub alias: Option<String>,
    pub from_version: Option<u32>,
    pub to_version: Option<u32>,
    pub reason: String,
    /// Extra facts, e.g. the new rollout.
    pub details: serde_json::Value,
}

/// Model names: 1 to 64 of `[A-Za-z0-9_.-]`, starting with a letter or digit.
pub fn check_model_name(name: &str) -> Result<(), StoreError> {
    check_name("model name", name)
}

/// Alias names: same rule as model names, and not all digits (that would read as a version).
pub fn check_alias_name(alias: &str) -> Result<(), StoreError> {
    check_name("alias", alias)?;
    if alias.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StoreError::InvalidName {
            what: "alias",
            name: alias.to_string(),
            expected: "a name that is not all digits (digits name a version)",
        });
    }
    Ok(())
}

fn check_name(what: &'static str, name: &str) -> Result<(), StoreError> {
    let ok = (1..=64).contains(&name.len())
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidName {
            what,
            name: name.to_string(),
            expected: "1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or digit",
        })
    }
}

impl Store {
    /// Registers a bundle already in the artifact store as the next version of `model`.
    pub fn register_version(
        &self,
        model: &str,
        bundle_sha256: &str,
        run_id: Option<&str>,
        description: &str,
        change: &Change,
    ) -> Result<ModelVersion, StoreError> {
        check_model_name(model)?;
        let sha = normalize_sha256(bundle_sha256)
            .ok_or_else(|| StoreError::InvalidHash(bundle_sha256.to_string()))?;
        let Some(size) = self.backend.artifact_size(&sha)? else {
            return Err(StoreError::ArtifactMissing {
                sha256: sha,
                location: self.location().to_string(),
            });
        };
        let run_id = match run_id {
            Some(id) => Some(self.get_run(id)?.id),
            None => None,
        };
        let bundle = crate::ArtifactRef { sha256: sha, size };
        self.backend
            .register_version(model, &bundle, run_id.as_deref(), description, change)
    }

    pub fn list_models(&self) -> Result<Vec<RegisteredModel>, StoreError> {
        self.backend.list_models()
    }

    /// The model with this name; the error lists the registered names.
    pub fn get_model(&self, name: &str) -> Result<RegisteredModel, StoreError> {
        if let Some(m) = self.backend.get_model(name)? {
            return Ok(m);
        }
        let known = self
            .backend
            .list_models()?
            .into_iter()
            .map(|m| m.name)
            .collect();
        Err(StoreError::ModelNotFound {
            name: name.to_string(),
            known,
        })
    }

    /// Applies `update` atomically after checking names, versions and rollout values.
    pub fn update_registry(
        &self,
        model: &str,
        update: &RegistryUpdate,
        change: &Change,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let current = self.get_model(model)?;
        for (alias, version) in &update.aliases {
            check_alias_name(alias)?;
            if let Some(v) = version {
                if current.version(*v).is_none() {
                    return Err(StoreError::VersionNotFound {
                        model: model.to_string(),
                        version: *v,
                        latest: current.versions.last().map(|v| v.version),
                    });
                }
            }
        }
        if let Some(r) = &update.rollout {
            check_rollout(r)?;
        }
        self.backend.update_registry(model, update, change)
    }

    /// Points `alias` at `version` (or removes it).
    pub fn set_alias(
        &self,
        model: &str,
        alias: &str,
        version: Option<u32>,
        change: &Change,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let update = RegistryUpdate {
            action: "alias".to_string(),
            aliases: vec![(alias.to_string(), version)],
            rollout: None,
        };
        self.update_registry(model, &update, change)
    }

    /// The audit trail, newest first, for one model or all.
    pub fn audit_log(
        &self,
        model: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.backend.audit_log(model, limit)
    }
}

fn check_rollout(r: &Rollout) -> Result<(), StoreError> {
    let bad = |field: &'static str, expected: &'static str, value: f64| {
        Err(StoreError::InvalidRollout {
            field,
            expected,
            value,
        })
    };
    if !(0.0..=100.0).contains(&r.canary_percent) {
        return bad("canary_percent", "0 to 100", r.canary_percent);
    }
    if let Some(x) = r.max_error_rate {
        if !(0.0..=1.0).contains(&x) {
            return bad("max_error_rate", "0 to 1", x);
        }
    }
    if let Some(x) = r.max_p99_ms {
        if !(x > 0.0 && x.is_finite()) {
            return bad("max_p99_ms", "a positive number of milliseconds", x);
        }
    }
    Ok(())
}

impl Store {
    /// `champion` := the `challenger`'s version, `challenger` removed, rollout off; atomic.
    pub fn promote(&self, model: &str, change: &Change) -> Result<Vec<AuditEntry>, StoreError> {
        let current = self.get_model(model)?;
        let Some(&challenger) = current.aliases.get("challenger") else {
            return Err(StoreError::AliasNotFound {
                model: model.to_string(),
                alias: "challenger".to_string(),
            });
        };
        let update = RegistryUpdate {
            action: "promote".to_string(),
            aliases: vec![
                ("champion".to_string(), Some(challenger)),
                ("challenger".to_string(), None),
            ],
            rollout: Some(Rollout {
                mode: RolloutMode::Off,
                canary_percent: 0.0,
                ..current.rollout.clone()
            }),
        };
        self.update_registry(model, &update, change)
    }

    /// Undoes the last step of a rollout: an active shadow or canary is switched off, and
    /// `champion` moves to `to` when given. With neither an active rollout nor `to`,
    /// `champion` goes back to the version it pointed at before its last change.
    pub fn rollback(
        &self,
        model: &str,
        to: Option<u32>,
        change: &Change,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let current = self.get_model(model)?;
        let rollout_active = current.rollout.mode != RolloutMode::Off;
        let champion = current.aliases.get("champion").copied();
        let target = match to {
            Some(v) => Some(v),
            None if rollout_active => None,
            None => Some(
                self.audit_log(Some(model), usize::MAX)?
                    .iter()
                    .filter(|e| e.alias.as_deref() == Some("champion"))
                    .find_map(|e| e.from_version.filter(|v| Some(*v) != champion))
                    .ok_or_else(|| StoreError::NothingToRollBack(model.to_string()))?,
            ),
        };
        if target.is_some() && target == champion && !rollout_active {
            return Err(StoreError::NothingToRollBack(model.to_string()));
        }
        let update = RegistryUpdate {
            action: "rollback".to_string(),
            aliases: target
                .map(|t| vec![("champion".to_string(), Some(t))])
                .unwrap_or_default(),
            rollout: rollout_active.then(|| Rollout {
                mode: RolloutMode::Off,
                canary_percent: 0.0,
                ..current.rollout.clone()
            }),
        };
        self.update_registry(model, &update, change)
    }
}
