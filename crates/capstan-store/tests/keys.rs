//! API keys: create, verify, revoke, list; only hashes are stored.
#![allow(clippy::unwrap_used)]

mod common;

use capstan_store::{Role, Store, StoreError};
use common::{TempDir, each_backend};
use sha2::{Digest, Sha256};

#[test]
fn create_verify_revoke_and_list() {
    each_backend("keys_lifecycle", |store| {
        let (ci, secret) = store.create_api_key("ci", Role::Admin).unwrap();
        assert!(
            secret.starts_with("cap_") && secret.len() == 4 + 48,
            "{secret}"
        );
        assert!(
            secret.starts_with(&ci.prefix) && ci.prefix.len() == 10,
            "{ci:?}"
        );
        assert_eq!((ci.name.as_str(), ci.role), ("ci", Role::Admin));
        assert_eq!(ci.revoked_at, None);
        assert_eq!(store.verify_api_key(&secret).unwrap(), Some(ci.clone()));

        // A near miss, a foreign format and nothing at all are refused.
        let mut wrong = secret.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        for bad in [wrong.as_str(), &secret[4..], "", "cap_", "Bearer x"] {
            assert_eq!(store.verify_api_key(bad).unwrap(), None, "{bad:?}");
        }

        let (reader, reader_secret) = store.create_api_key("reader", Role::Read).unwrap();
        assert_ne!(reader_secret, secret);
        let (_, predict_secret) = store.create_api_key("app", Role::Predict).unwrap();
        assert_eq!(
            store.verify_api_key(&predict_secret).unwrap().unwrap().role,
            Role::Predict
        );
        let names: Vec<String> = store
            .list_api_keys()
            .unwrap()
            .into_iter()
            .map(|k| k.name)
            .collect();
        assert_eq!(names, ["app", "reader", "ci"], "newest first");

        store.revoke_api_key("ci").unwrap();
        assert_eq!(store.verify_api_key(&secret).unwrap(), None);
        assert_eq!(store.verify_api_key(&reader_secret).unwrap(), Some(reader));
        let listed = store.list_api_keys().unwrap();
        assert_eq!(listed.len(), 3, "revoked keys stay listed");
        let revoked = listed.iter().find(|k| k.name == "ci").unwrap();
        assert!(
            revoked
                .revoked_at
                .as_deref()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert!(
            listed
                .iter()
                .filter(|k| k.name != "ci")
                .all(|k| k.revoked_at.is_none())
        );

        for name in ["ci", "nobody"] {
            let e = store.revoke_api_key(name).unwrap_err();
            assert!(matches!(e, StoreError::KeyNotFound(_)), "{e}");
            assert!(e.to_string().contains(name), "{e}");
        }
        // Names stay taken, revoked or not.
        for name in ["ci", "reader"] {
            let e = store.create_api_key(name, Role::Read).unwrap_err();
            assert!(matches!(e, StoreError::KeyExists(_)), "{e}");
        }
        for bad in ["", "a b", "-x", "x/y"] {
            let e = store.create_api_key(bad, Role::Read).unwrap_err();
            assert!(
                matches!(
                    e,
                    StoreError::InvalidName {
                        what: "key name",
                        ..
                    }
                ),
                "{bad:?}: {e}"
            );
        }
        assert_eq!(store.list_api_keys().unwrap().len(), 3);
    });
}

#[test]
fn secrets_are_not_stored() {
    let dir = TempDir::new("keys_hash_only");
    let root = dir.root();
    let store = Store::open(&root).unwrap();
    let (_, secret) = store.create_api_key("ci", Role::Admin).unwrap();
    let hash: String = Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Everything SQLite wrote: the database, its write-ahead log and index.
    let mut bytes = Vec::new();
    for name in ["capstan.db", "capstan.db-wal", "capstan.db-shm"] {
        if let Ok(b) = std::fs::read(root.join(name)) {
            bytes.extend(b);
        }
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(hash.as_bytes()), "the hash should be stored");
    assert!(!contains(secret.as_bytes()));
    assert!(
        !contains(&secret.as_bytes()[10..]),
        "not even the hidden part"
    );
}
