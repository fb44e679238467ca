//! API keys with roles.
//!
//! A request presents a key as `Authorization: Bearer <secret>` or `X-API-Key: <secret>`.
//! Roles: `admin` may do everything; `read` may call read endpoints (the registry, the
//! log, metrics); `predict` may call inference endpoints and read model metadata (those
//! handlers ask for [`Role::Predict`]).
//!
//! - Mutating endpoints ([`Role::Admin`]) always need a valid admin key: 401 without a
//!   key, 403 with a key of another role.
//! - Other endpoints need a key of the right role when `require_keys` is on; when it is
//!   off they pass without a key, but a key that is presented must be valid (401
//!   otherwise) and of the right role (403), so a client never silently runs with less
//!   than it thinks.
//!
//! Keys are verified by the store (which keeps only sha256 digests) on the blocking pool,
//! with a small in-memory cache keyed by the secret's sha256: a verdict, good or bad, is
//! reused for [`DEFAULT_CACHE_TTL`]. So a revoked key keeps working on a running server
//! for at most that long. Secrets are never logged nor echoed in error messages; the
//! cache and the store only ever compare digests, so response timing tells nothing about
//! how much of a guessed secret was right.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use capstan_store::{ApiKey, Role, Store};

use crate::error::ApiError;

/// How long a verified (or rejected) key is remembered.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);
/// Cached verdicts kept at most; past this, expired entries are purged, then all.
const MAX_CACHED: usize = 10_000;

/// The key checker of a server.
#[derive(Debug)]
pub struct Auth {
    store: Arc<Store>,
    require_keys: bool,
    ttl: Duration,
    /// sha256(secret) -> (the active key, or None for an unknown/revoked secret; when).
    cache: Mutex<HashMap<String, (Option<ApiKey>, Instant)>>,
}

impl Auth {
    pub fn new(store: Arc<Store>, require_keys: bool) -> Auth {
        Auth::with_ttl(store, require_keys, DEFAULT_CACHE_TTL)
    }

    /// With a cache TTL other than [`DEFAULT_CACHE_TTL`] (zero disables the cache).
    pub fn with_ttl(store: Arc<Store>, require_keys: bool, ttl: Duration) -> Auth {
        Auth {
            store,
            require_keys,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn require_keys(&self) -> bool {
        self.require_keys
    }

    /// Checks the request's key for an endpoint that needs `needed`. `Ok(Some(key))` for
    /// a valid key allowed here, `Ok(None)` when no key was given and none is needed;
    /// 401 for a missing (when needed), malformed, unknown or revoked key; 403 for a valid
    /// key whose role does not allow the endpoint; 503 when the store cannot be read.
    pub async fn check(
        &self,
        headers: &HeaderMap,
        needed: Role,
    ) -> Result<Option<ApiKey>, ApiError> {
        let Some(secret) = presented_secret(headers)? else {
            if needed == Role::Admin || self.require_keys {
                return Err(missing_key(needed));
            }
            return Ok(None);
        };
        let Some(key) = self.verify(secret).await? else {
            return Err(unauthorized(
                "the api key is not valid (unknown or revoked); list keys with `capstan keys list`",
            ));
        };
        if allows(key.role, needed) {
            Ok(Some(key))
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "api key '{}' has role '{}'; this endpoint needs role '{}'{}",
                    key.name,
                    key.role.name(),
                    needed.name(),
                    if needed == Role::Admin {
                        ""
                    } else {
                        " (or admin)"
                    }
                ),
            ))
        }
    }

    /// The active key for `secret`, through the cache.
    async fn verify(&self, secret: &str) -> Result<Option<ApiKey>, ApiError> {
        let digest = capstan_io::sha256_hex(secret.as_bytes());
        if let Some(hit) = self.cached(&digest) {
            return Ok(hit);
        }
        let store = self.store.clone();
        let owned = secret.to_string();
        let verdict = tokio::task::spawn_blocking(move || store.verify_api_key(&owned))
            .await
            .map_err(|e| unavailable(&e.to_string()))?
            .map_err(|e| unavailable(&e.to_string()))?;
        self.remember(digest, verdict.clone());
        Ok(verdict)
    }

    fn cached(&self, digest: &str) -> Option<Option<ApiKey>> {
        if self.ttl.is_zero() {
            return None;
        }
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        match cache.get(digest) {
            Some((key, at)) if at.elapsed() < self.ttl => Some(key.clone()),
            _ => None,
        }
    }

    fn remember(&self, digest: String, key: Option<ApiKey>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= MAX_CACHED {
            let ttl = self.ttl;
            cache.retain(|_, (_, at)| at.elapsed() < ttl);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(digest, (key, Instant::now()));
    }
}

/// Whether a key of role `has` may call an endpoint that needs `needed`.
pub fn allows(has: Role, needed: Role) -> bool {
    has == Role::Admin || has == needed
}

/// The secret from `Authorization: Bearer` or `X-API-Key` (the former wins when both are
/// present); `Err` for a header that is there but unusable.
fn presented_secret(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not valid text"))?
            .trim();
        let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(unauthorized(
                "unsupported Authorization scheme; pass the api key as `Authorization: Bearer <key>`",
            ));
        }
        let secret = rest.trim();
        if secret.is_empty() {
            return Err(unauthorized(
                "the Authorization header has no key; pass `Authorization: Bearer <key>`",
            ));
        }
        return Ok(Some(secret));
    }
    if let Some(value) = headers.get("x-api-key") {
        let secret = value
            .to_str()
            .map_err(|_| unauthorized("the X-API-Key header is not valid text"))?
            .trim();
        if secret.is_empty() {
            return Err(unauthorized("the X-API-Key header is empty"));
        }
        return Ok(Some(secret));
    }
    Ok(None)
}

fn missing_key(needed: Role) -> ApiError {
    let role = needed.name();
    let who = if needed == Role::Admin {
        "an admin api key".to_string()
    } else {
        format!("an api key with role '{role}' (or admin)")
    };
    unauthorized(format!(
        "this endpoint needs {who}; pass it with `Authorization: Bearer <key>` or `X-API-Key: <key>` (create one with `capstan keys create NAME --role {role}`)"
    ))
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn unavailable(error: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "auth_unavailable",
        format!("cannot verify the api key: {error}"),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::test_support::{TempDir, temp_store};
    use axum::http::HeaderValue;

    struct Keys {
        _dir: TempDir,
        store: Arc<Store>,
        admin: String,
        read: String,
        predict: String,
    }

    fn keys() -> Keys {
        let (dir, store) = temp_store("auth");
        let admin = store.create_api_key("ops", Role::Admin).unwrap().1;
        let read = store.create_api_key("dashboard", Role::Read).unwrap().1;
        let predict = store.create_api_key("app", Role::Predict).unwrap().1;
        Keys {
            _dir: dir,
            store,
            admin,
            read,
            predict,
        }
    }

    fn bearer(secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {secret}")).unwrap(),
        );
        h
    }

    fn x_api_key(secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_str(secret).unwrap());
        h
    }

    fn status<T: std::fmt::Debug>(r: &Result<T, ApiError>) -> u16 {
        match r {
            Ok(_) => 200,
            Err(e) => e.status.as_u16(),
        }
    }

    #[tokio::test]
    async fn role_matrix() {
        let k = keys();
        for require_keys in [false, true] {
            let auth = Auth::new(k.store.clone(), require_keys);
            let cases = [
                (&k.admin, Role::Admin, 200),
                (&k.admin, Role::Read, 200),
                (&k.admin, Role::Predict, 200),
                (&k.read, Role::Admin, 403),
                (&k.read, Role::Read, 200),
                (&k.read, Role::Predict, 403),
                (&k.predict, Role::Admin, 403),
                (&k.predict, Role::Read, 403),
                (&k.predict, Role::Predict, 200),
            ];
            for (secret, needed, expected) in cases {
                for headers in [bearer(secret), x_api_key(secret)] {
                    let r = auth.check(&headers, needed).await;
                    assert_eq!(status(&r), expected, "{needed:?} require={require_keys}");
                }
            }
            let ok = auth
                .check(&bearer(&k.read), Role::Read)
                .await
                .unwrap()
                .unwrap();
            assert_eq!((ok.name.as_str(), ok.role), ("dashboard", Role::Read));
        }
    }

    #[tokio::test]
    async fn forbidden_names_both_roles() {
        let k = keys();
        let auth = Auth::new(k.store.clone(), false);
        let e = auth
            .check(&bearer(&k.predict), Role::Admin)
            .await
            .unwrap_err();
        assert_eq!(e.code, "forbidden");
        assert!(
            e.message.contains("'app' has role 'predict'"),
            "{}",
            e.message
        );
        assert!(e.message.contains("needs role 'admin'"), "{}", e.message);
        assert!(!e.message.contains(&k.predict));
    }

    #[tokio::test]
    async fn without_a_key() {
        let k = keys();
        let none = HeaderMap::new();
        let open = Auth::new(k.store.clone(), false);
        assert_eq!(open.check(&none, Role::Predict).await.unwrap(), None);
        assert_eq!(open.check(&none, Role::Read).await.unwrap(), None);
        let e = open.check(&none, Role::Admin).await.unwrap_err();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert!(e.message.contains("Authorization: Bearer"), "{}", e.message);
        assert!(
            e.message.contains("capstan keys create NAME --role admin"),
            "{}",
            e.message
        );

        let locked = Auth::new(k.store.clone(), true);
        for role in [Role::Predict, Role::Read, Role::Admin] {
            let e = locked.check(&none, role).await.unwrap_err();
            assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{role:?}");
            assert!(
                e.message.contains(&format!("--role {}", role.name())),
                "{}",
                e.message
            );
        }
    }

    #[tokio::test]
    async fn wrong_or_malformed_keys_are_401_even_when_keys_are_optional() {
        let k = keys();
        let auth = Auth::new(k.store.clone(), false);
        let wrong = "cap_000000000000000000000000000000000000000000000000";
        let mut basic = HeaderMap::new();
        basic.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYXNz"),
        );
        let mut empty = HeaderMap::new();
        empty.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer  "));
        for headers in [
            bearer(wrong),
            x_api_key(wrong),
            bearer("not-even-a-capstan-key"),
            basic,
            empty,
        ] {
            for role in [Role::Predict, Role::Read, Role::Admin] {
                let e = auth.check(&headers, role).await.unwrap_err();
                assert_eq!(e.status, StatusCode::UNAUTHORIZED, "{headers:?} {role:?}");
                assert!(!e.message.contains(wrong), "secret echoed: {}", e.message);
            }
        }
        // The scheme is case-insensitive and surrounding spaces are ignored.
        let mut lower = HeaderMap::new();
        lower.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("bearer   {} ", k.admin)).unwrap(),
        );
        assert!(auth.check(&lower, Role::Admin).await.is_ok());
        // Authorization wins over X-API-Key.
        let mut both = bearer(&k.read);
        both.insert("x-api-key", HeaderValue::from_str(&k.admin).unwrap());
        assert_eq!(status(&auth.check(&both, Role::Admin).await), 403);
    }

    #[tokio::test]
    async fn revocation_takes_effect_within_the_ttl() {
        let k = keys();
        let ttl = Duration::from_millis(200);
        let auth = Auth::with_ttl(k.store.clone(), true, ttl);
        assert!(auth.check(&bearer(&k.read), Role::Read).await.is_ok());
        k.store.revoke_api_key("dashboard").unwrap();
        // Cached: still accepted inside the TTL.
        assert!(auth.check(&bearer(&k.read), Role::Read).await.is_ok());
        tokio::time::sleep(ttl + Duration::from_millis(50)).await;
        let e = auth.check(&bearer(&k.read), Role::Read).await.unwrap_err();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        // Without a cache, revocation is immediate.
        let uncached = Auth::with_ttl(k.store.clone(), true, Duration::ZERO);
        assert!(
            uncached
                .check(&bearer(&k.predict), Role::Predict)
                .await
                .is_ok()
        );
        k.store.revoke_api_key("app").unwrap();
        let e = uncached
            .check(&bearer(&k.predict), Role::Predict)
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        // Other keys are unaffected.
        assert!(auth.check(&bearer(&k.admin), Role::Admin).await.is_ok());
    }

    #[tokio::test]
    async fn cache_stays_bounded() {
        let k = keys();
        let auth = Auth::new(k.store.clone(), false);
        for i in 0..(MAX_CACHED + 10) {
            auth.remember(format!("{i:064x}"), None);
        }
        let n = auth.cache.lock().unwrap().len();
        assert!(n <= MAX_CACHED, "{n}");
    }
}
