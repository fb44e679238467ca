//! Finding a model: a bundle file path, or a run id (or unique prefix) in the store.

use std::path::Path;

use anyhow::{Context, Result};
use capstan_bundle::Bundle;

use crate::exit::ModelNotFound;
use crate::store_location::StoreLocation;

pub fn load(spec: &str, store: &StoreLocation) -> Result<Bundle> {
    let path = Path::new(spec);
    if path.is_file() {
        return Ok(Bundle::read(path)?);
    }
    if !store.exists() {
        return Err(anyhow::Error::new(ModelNotFound(format!(
            "model '{spec}' is neither a bundle file nor a run id (no store at {store})"
        ))));
    }
    let store = store.open()?;
    let run = store.get_run(spec)?;
    let artifact = run
        .artifact("model")
        .with_context(|| format!("run {} has no model artifact", run.id))?;
    let bytes = store.read_artifact(&artifact.sha256)?;
    Bundle::from_bytes(&bytes).with_context(|| format!("model of run {}", run.id))
}
