//! What is deployed: per served model, the champion, the challenger and its rollout,
//! re-read from the registry on a timer so alias changes need no restart.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use capstan_bundle::Bundle;
use capstan_store::{RegisteredModel, Rollout, Store, StoreError};

use crate::model::LoadedModel;

/// One served model name.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub registered: RegisteredModel,
    pub champion: Option<Arc<LoadedModel>>,
    pub challenger: Option<Arc<LoadedModel>>,
}

impl Deployment {
    pub fn name(&self) -> &str {
        &self.registered.name
    }

    pub fn rollout(&self) -> &Rollout {
        &self.registered.rollout
    }
}

/// Everything served, swapped whole on each refresh.
#[derive(Debug, Clone, Default)]
pub struct Deployments {
    pub models: BTreeMap<String, Arc<Deployment>>,
}

/// Loaded versions by (model, version); a version's bundle never changes, so entries
/// never go stale.
#[derive(Debug, Default)]
pub struct ModelCache {
    loaded: Mutex<HashMap<(String, u32), Arc<LoadedModel>>>,
}

/// Why a version could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("model '{model}' version {version}: {source}")]
    Bundle {
        model: String,
        version: u32,
        source: capstan_bundle::BundleError,
    },
}

impl ModelCache {
    /// The loaded version, reading and checking its bundle on first use.
    pub fn load(
        &self,
        store: &Store,
        model: &RegisteredModel,
        version: u32,
    ) -> Result<Arc<LoadedModel>, LoadError> {
        let key = (model.name.clone(), version);
        if let Some(m) = self.lock().get(&key) {
            return Ok(m.clone());
        }
        let Some(v) = model.version(version) else {
            return Err(StoreError::VersionNotFound {
                model: model.name.clone(),
                version,
                latest: model.versions.last().map(|v| v.version),
            }
            .into());
        };
        let bytes = store.read_artifact(&v.bundle_sha256)?;
        let bundle = Bundle::from_bytes(&bytes).map_err(|source| LoadError::Bundle {
            model: model.name.clone(),
            version,
            source,
        })?;
        let loaded = Arc::new(LoadedModel::new(
            model.name.clone(),
            version,
            v.bundle_sha256.clone(),
            bundle,
        ));
        self.lock().insert(key, loaded.clone());
        Ok(loaded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u32), Arc<LoadedModel>>> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Reads the registry and loads what the aliases point at. `served` empty means every
/// registered model. A model whose champion fails to load keeps its `previous` deployment
/// (the error is returned alongside so the caller can report it).
pub fn refresh(
    store: &Store,
    served: &[String],
    cache: &ModelCache,
    previous: &Deployments,
) -> Result<(Deployments, Vec<String>), StoreError> {
    let registered = if served.is_empty() {
        store.list_models()?
    } else {
        served
            .iter()
            .map(|name| store.get_model(name))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut next = Deployments::default();
    let mut problems = Vec::new();
    for model in registered {
        let load = |alias: &str| match model.aliases.get(alias) {
            Some(&v) => cache.load(store, &model, v).map(Some),
            None => Ok(None),
        };
        let deployment = match (load("champion"), load("challenger")) {
            (Ok(champion), Ok(challenger)) => Arc::new(Deployment {
                registered: model.clone(),
                champion,
                challenger,
            }),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(e.to_string());
                match previous.models.get(&model.name) {
                    Some(old) => old.clone(),
                    None => continue,
                }
            }
        };
        next.models.insert(model.name.clone(), deployment);
    }
    Ok((next, problems))
}
