use std::io::Write;
use std::path::Path;

use capstan_features::FittedPipeline;
use capstan_frame::Frame;
use capstan_io::{sha256_hex, write_atomic};
use capstan_learn::{Model, Predictions, Task};
use serde::{Deserialize, Serialize};

use crate::envelope::{self, FORMAT_VERSION};
use crate::{BundleError, Manifest};

/// The unit of deployment: manifest, fitted feature pipeline and model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub manifest: Manifest,
    pub pipeline: FittedPipeline,
    pub model: Model,
}

/// What [`Bundle::model_sha256`] hashes: the fitted state only, no timestamps.
#[derive(Serialize)]
struct ModelPart<'a> {
    pipeline: &'a FittedPipeline,
    model: &'a Model,
}

impl Bundle {
    /// The file bytes. The same value always gives the same bytes. Fails when the bundle
    /// would not read back identically (for example a NaN, which JSON cannot hold).
    pub fn to_bytes(&self) -> Result<Vec<u8>, BundleError> {
        if self.manifest.format_version != FORMAT_VERSION {
            return Err(BundleError::VersionMismatch {
                what: "bundle to write".to_string(),
                header: FORMAT_VERSION,
                manifest: self.manifest.format_version,
            });
        }
        self.check("bundle to write")?;
        let payload = serde_json::to_vec(self).map_err(BundleError::Serialize)?;
        // Prove the file will load back as this very value (JSON drops NaN in a model).
        let back: Bundle = serde_json::from_slice(&payload)
            .map_err(|e| BundleError::NotRoundTrip(e.to_string()))?;
        if !back.same_as(self) {
            return Err(BundleError::NotRoundTrip(
                "a value changed when read back".to_string(),
            ));
        }
        Ok(envelope::encode(&payload))
    }

    /// Reads bundle bytes, checking magic, version, length and checksum.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        Self::decode(bytes, "input")
    }

    /// Writes the bundle atomically (temp file in the same directory, fsync, rename).
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), BundleError> {
        let bytes = self.to_bytes()?;
        let path = path.as_ref();
        let io_err = |source: std::io::Error| BundleError::Io {
            path: path.to_path_buf(),
            source,
        };
        write_atomic(path, |out| out.write_all(&bytes).map_err(io_err), io_err)
    }

    /// Reads a bundle file; errors name the file.
    pub fn read(path: impl AsRef<Path>) -> Result<Bundle, BundleError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| BundleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::decode(&bytes, &path.display().to_string())
    }

    /// Lowercase hex sha256 of the file bytes (what a content-addressed store keys it by).
    pub fn content_sha256(&self) -> Result<String, BundleError> {
        Ok(sha256_hex(&self.to_bytes()?))
    }

    /// Lowercase hex sha256 of the pipeline and model JSON only: equal for two trainings
    /// with the same data, config and seed, whatever their timestamps.
    pub fn model_sha256(&self) -> Result<String, BundleError> {
        let part = ModelPart {
            pipeline: &self.pipeline,
            model: &self.model,
        };
        let bytes = serde_json::to_vec(&part).map_err(BundleError::Serialize)?;
        Ok(sha256_hex(&bytes))
    }

    /// Transforms `frame` with the fitted pipeline and predicts with the model.
    pub fn predict(&self, frame: &Frame) -> Result<Predictions, BundleError> {
        let x = self.pipeline.transform(frame)?;
        if let Model::Linear(m) = &self.model {
            if m.n_features != x.n_cols {
                return Err(BundleError::Predict(format!(
                    "the model expects {} features, the pipeline produced {}",
                    m.n_features, x.n_cols
                )));
            }
        }
        Ok(self.model.predict(&x))
    }

    /// Transforms `frame` with the fitted pipeline and gives the leaf each row reaches in
    /// every tree of a GBDT model (`n_rows x n_trees` row-major), with the tree count.
    pub fn predict_leaves(&self, frame: &Frame) -> Result<(usize, Vec<u32>), BundleError> {
        let Model::Gbdt(m) = &self.model else {
            return Err(BundleError::Predict(
                "leaf indices need a tree model; this bundle holds a linear model".into(),
            ));
        };
        let x = self.pipeline.transform(frame)?;
        let leaves = m.predict_leaves(&x).map_err(BundleError::Predict)?;
        Ok((m.n_trees(), leaves))
    }

    /// Equality where NaN metrics equal NaN metrics (the metrics serializer keeps them).
    fn same_as(&self, other: &Bundle) -> bool {
        let bits = |m: &Manifest| -> Vec<(String, String, u64)> {
            m.metrics
                .iter()
                .flat_map(|(s, v)| {
                    v.iter()
                        .map(|(k, x)| (s.clone(), k.clone(), canonical_bits(*x)))
                })
                .collect()
        };
        let strip = |b: &Bundle| Manifest {
            metrics: Default::default(),
            ..b.manifest.clone()
        };
        self.pipeline == other.pipeline
            && self.model == other.model
            && bits(&self.manifest) == bits(&other.manifest)
            && strip(self) == strip(other)
    }

    fn decode(bytes: &[u8], what: &str) -> Result<Bundle, BundleError> {
        let (version, payload) = envelope::decode(bytes, what)?;
        let invalid = |source| BundleError::InvalidPayload {
            what: what.to_string(),
            source,
        };
        let bundle: Bundle = if version == FORMAT_VERSION {
            serde_json::from_slice(payload).map_err(invalid)?
        } else {
            let json = serde_json::from_slice(payload).map_err(invalid)?;
            serde_json::from_value(envelope::migrate(version, json)?).map_err(invalid)?
        };
        if bundle.manifest.format_version != FORMAT_VERSION {
            return Err(BundleError::VersionMismatch {
                what: what.to_string(),
                header: version,
                manifest: bundle.manifest.format_version,
            });
        }
        bundle.check(what)?;
        Ok(bundle)
    }

    /// Cross-checks the parts, so a well-formed file with mismatched contents is refused
    /// at load time instead of failing (or panicking) at predict time.
    fn check(&self, what: &str) -> Result<(), BundleError> {
        let fail = |message: String| {
            Err(BundleError::Inconsistent {
                what: what.to_string(),
                message,
            })
        };
        let task = self.manifest.target.task;
        if self.model.task() != task {
            return fail(format!(
                "the manifest says task {}, the model is {}",
                task.name(),
                self.model.task().name()
            ));
        }
        let n_classes = match task {
            Task::Regression => 0,
            Task::Binary => 2,
            Task::Multiclass { n_classes } => n_classes,
        };
        let n_labels = self.manifest.target.classes.len();
        if n_labels != 0 && n_labels != n_classes {
            return fail(format!(
                "expected {n_classes} class labels for a {} target, found {n_labels}",
                task.name()
            ));
        }
        if let Model::Linear(m) = &self.model {
            let n_outputs = task.n_outputs();
            let expected = n_outputs.checked_mul(m.n_features);
            if m.intercepts.len() != n_outputs || expected != Some(m.coefficients.len()) {
                return fail(format!(
                    "linear model with {n_outputs} outputs and {} features: expected {n_outputs} intercepts and {} coefficients, found {} and {}",
                    m.n_features,
                    n_outputs.saturating_mul(m.n_features),
                    m.intercepts.len(),
                    m.coefficients.len()
                ));
            }
        }
        Ok(())
    }
}

/// The bits of `x`, with every NaN mapped to one NaN.
fn canonical_bits(x: f64) -> u64 {
    if x.is_nan() {
        f64::NAN.to_bits()
    } else {
        x.to_bits()
    }
}
