//! `capstan serve`: serve registered models over HTTP until interrupted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use capstan_serve::{LogPolicy, ServeConfig, ServeError};

use crate::exit::input_error;
use crate::store_location::StoreLocation;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Serve this registered model (repeatable) [default: every registered model]
    #[arg(long = "model", value_name = "NAME")]
    pub models: Vec<String>,
    /// The model MLflow-style /invocations scores [default: the only served model]
    #[arg(long, value_name = "NAME")]
    pub default_model: Option<String>,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: SocketAddr,
    /// Prediction log: async (batched, off the request path), durable (answers wait for the
    /// commit) or off
    #[arg(long, value_enum, default_value_t = LogMode::Async)]
    pub log: LogMode,
    /// How often the prediction log commits a batch
    #[arg(long, default_value_t = 100, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub log_flush_ms: u64,
    /// Records the prediction log queue holds before it drops (async) or waits (durable)
    #[arg(long, default_value_t = 65_536, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub log_queue: u64,
    /// Largest request body accepted, in MiB
    #[arg(long, default_value_t = 16, value_name = "MB",
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_body_mb: u64,
    /// Most rows accepted in one request
    #[arg(long, default_value_t = 100_000, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub max_rows: u64,
    /// How often aliases and rollouts are re-read from the registry
    #[arg(long, default_value_t = 1000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub refresh_ms: u64,
    /// Require an API key (`capstan keys create`) on every endpoint but health checks
    #[arg(long)]
    pub require_keys: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogMode {
    Async,
    Durable,
    Off,
}

impl ServeArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> ServeConfig {
        let queue = usize::try_from(self.log_queue).unwrap_or(usize::MAX);
        let flush_ms = self.log_flush_ms;
        let mut models: Vec<String> = Vec::new();
        for m in &self.models {
            if !models.contains(m) {
                models.push(m.clone());
            }
        }
        ServeConfig {
            bind: self.bind,
            models,
            default_model: self.default_model.clone(),
            log: match self.log {
                LogMode::Async => LogPolicy::Async { queue, flush_ms },
                LogMode::Durable => LogPolicy::Durable { queue, flush_ms },
                LogMode::Off => LogPolicy::Off,
            },
            max_body_bytes: usize::try_from(self.max_body_mb << 20).unwrap_or(usize::MAX),
            max_rows: usize::try_from(self.max_rows).unwrap_or(usize::MAX),
            refresh: Duration::from_millis(self.refresh_ms),
            require_keys: self.require_keys,
        }
    }
}

pub fn run(args: &ServeArgs, location: &StoreLocation) -> Result<()> {
    let config = args.config();
    let store = location.open_for_model("nothing to serve")?;
    // Unknown names fail here, with the registered names, before anything binds.
    for name in &config.models {
        store.get_model(name)?;
    }
    if let Some(default) = &config.default_model {
        if !config.models.is_empty() && !config.models.contains(default) {
            return Err(input_error(format!(
                "--default-model '{default}' is not among the served models ({})",
                config.models.join(", ")
            )));
        }
        store.get_model(default)?;
    }
    capstan_serve::serve(config, Arc::new(store)).map_err(serve_error)
}

/// Store errors keep their exit code (4 for an unknown model), configuration errors are bad
/// input (3), anything else (a port already in use) is a failure (1).
fn serve_error(err: ServeError) -> anyhow::Error {
    match err {
        ServeError::Store(e) => anyhow::Error::new(e),
        ServeError::Config(message) => input_error(message),
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn defaults_match_the_server_defaults() {
        let cli = Cli::try_parse_from(["serve"]).expect("no flags");
        let ours = cli.serve.config();
        let theirs = ServeConfig::default();
        assert_eq!(ours.bind, theirs.bind);
        assert_eq!(ours.log, theirs.log);
        assert_eq!(ours.max_body_bytes, theirs.max_body_bytes);
        assert_eq!(ours.max_rows, theirs.max_rows);
        assert_eq!(ours.refresh, theirs.refresh);
        assert_eq!(ours.require_keys, theirs.require_keys);
        assert!(ours.models.is_empty() && ours.default_model.is_none());
    }

    #[test]
    fn flags_build_the_config() {
        let cli = Cli::try_parse_from([
            "serve",
            "--model",
            "churn",
            "--model",
            "churn",
            "--model",
            "fraud",
            "--log",
            "durable",
            "--log-queue",
            "10",
            "--log-flush-ms",
            "5",
            "--max-body-mb",
            "2",
            "--bind",
            "0.0.0.0:9000",
        ])
        .expect("flags");
        let config = cli.serve.config();
        assert_eq!(config.models, ["churn", "fraud"]);
        assert_eq!(
            config.log,
            LogPolicy::Durable {
                queue: 10,
                flush_ms: 5
            }
        );
        assert_eq!(config.max_body_bytes, 2 << 20);
        assert_eq!(config.bind.port(), 9000);
        assert!(Cli::try_parse_from(["serve", "--log-queue", "0"]).is_err());
        assert!(Cli::try_parse_from(["serve", "--bind", "localhost"]).is_err());
    }
}
