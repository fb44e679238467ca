//! API keys with roles. Only a key's sha256 is stored; the secret is shown once.

use serde::{Deserialize, Serialize};

use capstan_io::{sha256_hex, utc_now_rfc3339};

use crate::registry::check_model_name;
use crate::{Store, StoreError};

/// What a key may do. `admin` may do everything; `read` may read the registry, the log and
/// metrics; `predict` may call inference endpoints and read model metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Predict,
    Read,
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Predict => "predict",
            Role::Read => "read",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "predict" => Some(Role::Predict),
            "read" => Some(Role::Read),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub name: String,
    pub role: Role,
    /// The secret's first characters, to tell keys apart in listings.
    pub prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

const SECRET_PREFIX: &str = "cap_";

impl Store {
    /// Creates a key and returns it with its secret (the only time the secret is seen).
    pub fn create_api_key(&self, name: &str, role: Role) -> Result<(ApiKey, String), StoreError> {
        check_model_name(name).map_err(|_| StoreError::InvalidName {
            what: "key name",
            name: name.to_string(),
            expected: "1 to 64 of A-Z a-z 0-9 _ . -, starting with a letter or digit",
        })?;
        let mut random = [0u8; 24];
        getrandom::fill(&mut random).map_err(|e| StoreError::Random(e.to_string()))?;
        let secret = format!("{SECRET_PREFIX}{}", capstan_io::hex(&random));
        let key = ApiKey {
            name: name.to_string(),
            role,
            prefix: secret[..SECRET_PREFIX.len() + 6].to_string(),
            created_at: utc_now_rfc3339(),
            revoked_at: None,
        };
        self.backend
            .insert_api_key(&key, &sha256_hex(secret.as_bytes()))?;
        Ok((key, secret))
    }

    /// The active key whose secret this is, if any.
    pub fn verify_api_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        if !secret.starts_with(SECRET_PREFIX) {
            return Ok(None);
        }
        self.backend.api_key_by_hash(&sha256_hex(secret.as_bytes()))
    }

    pub fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.backend.list_api_keys()
    }

    pub fn revoke_api_key(&self, name: &str) -> Result<(), StoreError> {
        if self.backend.revoke_api_key(name)? {
            Ok(())
        } else {
            Err(StoreError::KeyNotFound(name.to_string()))
        }
    }
}
