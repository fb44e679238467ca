use std::collections::BTreeMap;

use capstan_frame::Schema;
use capstan_learn::Task;
use serde::{Deserialize, Serialize};

/// What a bundle is: its inputs, target, metrics and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// Version of the capstan that wrote the bundle.
    pub capstan_version: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The columns a caller must provide, with types and nullability.
    pub input_schema: Schema,
    pub target: TargetInfo,
    /// split -> metric -> value, e.g. `test -> auc -> 0.91`. Non-finite values (an AUC on a
    /// one-class split) are kept, written as the strings "nan", "inf" and "-inf".
    #[serde(with = "metric_values")]
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
    pub lineage: Lineage,
    /// Row validation rules checked on live traffic (`capstan_quality::rules::RuleSet` as
    /// JSON, row rules only); absent in bundles trained without rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    pub name: String,
    pub task: Task,
    /// Class index -> label; empty for regression.
    pub classes: Vec<String>,
}

/// How the model was made: enough to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// The data file or directory, or the PostgreSQL URL (password redacted).
    pub dataset_path: String,
    /// SHA-256 of the file's bytes; for a directory, of its files' hashes; for a query,
    /// the content hash (dataset version) of the result.
    pub dataset_sha256: String,
    /// The SQL query the data came from, for a PostgreSQL source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The dataset version (content hash of the typed data, see `capstan data versions`);
    /// absent in bundles written before versions existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_version: Option<String>,
    /// The training config as given.
    pub config: serde_json::Value,
    pub config_sha256: String,
    pub seed: u64,
    pub git_commit: Option<String>,
    /// RFC 3339 UTC.
    pub started_at: String,
    /// RFC 3339 UTC.
    pub finished_at: String,
}

/// JSON has no NaN or infinity: write those as strings, read numbers or those strings.
mod metric_values {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Metrics = BTreeMap<String, BTreeMap<String, f64>>;

    struct Out(f64);

    impl Serialize for Out {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.0 {
                v if v.is_finite() => s.serialize_f64(v),
                v if v.is_nan() => s.serialize_str("nan"),
                v if v > 0.0 => s.serialize_str("inf"),
                _ => s.serialize_str("-inf"),
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum In {
        Number(f64),
        Text(String),
    }

    pub fn serialize<S: Serializer>(metrics: &Metrics, s: S) -> Result<S::Ok, S::Error> {
        let out: BTreeMap<&String, BTreeMap<&String, Out>> = metrics
            .iter()
            .map(|(split, m)| (split, m.iter().map(|(k, v)| (k, Out(*v))).collect()))
            .collect();
        out.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Metrics, D::Error> {
        let raw = BTreeMap::<String, BTreeMap<String, In>>::deserialize(d)?;
        let mut metrics = Metrics::new();
        for (split, values) in raw {
            let mut out = BTreeMap::new();
            for (name, v) in values {
                let v = match v {
                    In::Number(x) => x,
                    In::Text(t) => match t.as_str() {
                        "nan" => f64::NAN,
                        "inf" => f64::INFINITY,
                        "-inf" => f64::NEG_INFINITY,
                        _ => {
                            return Err(serde::de::Error::custom(format!(
                                "metric '{split}/{name}': expected a number, \"nan\", \"inf\" or \"-inf\", found \"{t}\""
                            )));
                        }
                    },
                };
                out.insert(name, v);
            }
            metrics.insert(split, out);
        }
        Ok(metrics)
    }
}
