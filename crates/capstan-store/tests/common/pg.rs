//! PostgreSQL for tests: every test gets its own schema in the test database.
//!
//! The server comes from `CAPSTAN_TEST_POSTGRES_URL` (default [`DEFAULT_URL`]). When it
//! cannot be reached, tests skip their PostgreSQL part with a line on stderr, unless `CI`
//! is set: CI must have PostgreSQL, so there it is a failure.
//!
//! Schemas are named `capstan_t_<test>_<pid>_<n>` and commented with their creation time.
//! [`PgSchema`] drops its schema when dropped; [`fresh_store`] (used by `each_backend`)
//! leaves it, and the first test of any later run drops schemas older than an hour.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use capstan_store::Store;

/// Trust auth on the local server, database `test`.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Schemas left behind longer than this (seconds) are dropped by the next test run.
const STALE_AFTER_SECS: u64 = 3600;

/// The server for tests.
pub fn base_url() -> String {
    std::env::var("CAPSTAN_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// `url` with `key=value` added to its query string.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// A plain client on the test database (not through the store).
pub fn admin_client(url: &str) -> Result<postgres::Client, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    config.connect_timeout(Duration::from_secs(5));
    config.notice_callback(|_| {});
    config.connect(postgres::NoTls)
}

/// Whether the server answers; checked once per test process. Panics under CI when not.
pub fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| match admin_client(&base_url()) {
        Ok(mut client) => {
            drop_stale_schemas(&mut client);
            true
        }
        Err(e) => {
            let url = base_url();
            if std::env::var_os("CI").is_some() {
                panic!(
                    "CI is set but the test PostgreSQL at {url} cannot be reached: {e}; \
                     start one or set CAPSTAN_TEST_POSTGRES_URL"
                );
            }
            eprintln!(
                "skipping PostgreSQL tests: cannot reach {url} ({e}); \
                 set CAPSTAN_TEST_POSTGRES_URL to run them"
            );
            false
        }
    })
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Drops test schemas whose creation-time comment is older than [`STALE_AFTER_SECS`].
fn drop_stale_schemas(client: &mut postgres::Client) {
    let Ok(rows) = client.query(
        "SELECT nspname, obj_description(oid, 'pg_namespace') FROM pg_namespace
         WHERE nspname LIKE 'capstan\\_t\\_%'",
        &[],
    ) else {
        return;
    };
    let cutoff = unix_secs().saturating_sub(STALE_AFTER_SECS);
    for row in rows {
        let name: String = row.get(0);
        let created: Option<String> = row.get(1);
        let created = created.and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
        if created < cutoff {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"));
        }
    }
}

/// `capstan_t_<test>_<pid>_<n>`: lowercase, `[a-z0-9_]`, within PostgreSQL's 63 bytes.
fn schema_name(test: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut tag: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    tag.truncate(28);
    format!(
        "capstan_t_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh schema for one test; dropped (with everything in it) on drop.
#[derive(Debug)]
pub struct PgSchema {
    pub name: String,
    base: String,
    keep: bool,
}

impl PgSchema {
    /// `None` (after a skip line) when the server cannot be reached outside CI.
    pub fn new(test: &str) -> Option<PgSchema> {
        if !available() {
            return None;
        }
        let base = base_url();
        let name = schema_name(test);
        let mut client = admin_client(&base).unwrap();
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{name}\" CASCADE;
                 CREATE SCHEMA \"{name}\";
                 COMMENT ON SCHEMA \"{name}\" IS '{}'",
                unix_secs()
            ))
            .unwrap();
        Some(PgSchema {
            name,
            base,
            keep: false,
        })
    }

    /// The store URL: the base URL with this schema as `search_path`.
    pub fn url(&self) -> String {
        with_param(
            &self.base,
            "options",
            &format!("-csearch_path%3D{}", self.name),
        )
    }

    /// A new store handle (its own connection, like another server process).
    pub fn open(&self) -> Store {
        Store::open_location(&self.url()).unwrap()
    }

    /// A plain client whose `search_path` is this schema.
    pub fn client(&self) -> postgres::Client {
        admin_client(&self.url()).unwrap()
    }

    /// Leaves the schema in place after drop (the next run's sweep removes it).
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if let Ok(mut client) = admin_client(&self.base) {
            let _ =
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

/// A store in a fresh schema, or `None` when PostgreSQL is not available (outside CI).
/// The schema is left behind for the sweep (see the module docs): the caller only gets the
/// store.
pub fn fresh_store(test: &str) -> Option<Store> {
    let schema = PgSchema::new(test)?;
    let store = schema.open();
    schema.keep();
    Some(store)
}
