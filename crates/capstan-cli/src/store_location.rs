//! `--store`: where the store is, a directory (SQLite and artifact files) or a
//! `postgres://` URL, and opening it without creating one by accident.

use std::path::Path;

use anyhow::Result;
use capstan_store::Store;

use crate::exit::{ModelNotFound, input_error};

/// The `--store` value, as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLocation(String);

impl std::str::FromStr for StoreLocation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err("expected a store directory or a postgres:// URL, found nothing".into());
        }
        Ok(StoreLocation(s.to_string()))
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.dir() {
            Some(dir) => write!(f, "{}", dir.display()),
            None => f.write_str(&capstan_store::redact_password(&self.0)),
        }
    }
}

impl StoreLocation {
    pub fn new(location: impl Into<String>) -> Self {
        StoreLocation(location.into())
    }

    pub fn is_postgres(&self) -> bool {
        capstan_store::is_postgres_url(&self.0)
    }

    /// The store directory, for a directory store.
    pub fn dir(&self) -> Option<&Path> {
        (!self.is_postgres()).then(|| Path::new(&self.0))
    }

    /// Whether a store is there: a directory store exists once it holds `capstan.db`;
    /// a database URL is taken as existing (opening it says otherwise).
    pub fn exists(&self) -> bool {
        self.dir().is_none_or(|d| d.join("capstan.db").is_file())
    }

    /// "no capstan store at DIR (...)", for commands that need an existing store.
    pub fn missing_message(&self) -> String {
        format!("no capstan store at {self} (train a model first, or pass --store)")
    }

    /// Opens the store, creating a directory store when there is none (commands that write).
    pub fn open(&self) -> Result<Store> {
        Ok(Store::open_location(&self.0)?)
    }

    /// Opens an existing store; a missing directory store is bad input (exit 3) and nothing
    /// is created.
    pub fn open_existing(&self) -> Result<Store> {
        if !self.exists() {
            return Err(input_error(self.missing_message()));
        }
        self.open()
    }

    /// Opens an existing store for a command that looks up a model or run: a missing
    /// directory store means the model is not found (exit 4); nothing is created.
    pub fn open_for_model(&self, what: &str) -> Result<Store> {
        if !self.exists() {
            return Err(anyhow::Error::new(ModelNotFound(format!(
                "{what}: {}",
                self.missing_message()
            ))));
        }
        self.open()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_and_urls() {
        let dir: StoreLocation = ".capstan".parse().expect("dir");
        assert!(!dir.is_postgres());
        assert_eq!(dir.dir(), Some(Path::new(".capstan")));
        let url: StoreLocation = "postgres://me:pw@db/capstan".parse().expect("url");
        assert!(url.is_postgres() && url.exists());
        assert_eq!(url.to_string(), "postgres://me:***@db/capstan");
        assert!("  ".parse::<StoreLocation>().is_err());
    }
}
