//! The binary envelope: layout, and every way a file can be damaged.
#![allow(clippy::unwrap_used)]

mod common;

use capstan_bundle::{Bundle, BundleError, FORMAT_VERSION, MAGIC, envelope};
use sha2::{Digest, Sha256};

fn good_bytes() -> Vec<u8> {
    common::bundle().to_bytes().unwrap()
}

fn err(bytes: &[u8]) -> BundleError {
    Bundle::from_bytes(bytes).unwrap_err()
}

/// Rewrites the trailing checksum so only the field under test is wrong.
fn reseal(bytes: &mut [u8]) {
    let end = bytes.len() - 32;
    let digest = Sha256::digest(&bytes[..end]);
    bytes[end..].copy_from_slice(&digest);
}

#[test]
fn layout_is_magic_version_length_payload_checksum() {
    let bytes = good_bytes();
    assert_eq!(&bytes[..8], MAGIC);
    assert_eq!(&bytes[..8], b"CAPSTAN\0");
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 1);
    let n = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 20 + n + 32);
    let payload: serde_json::Value = serde_json::from_slice(&bytes[20..20 + n]).unwrap();
    assert_eq!(payload["manifest"]["format_version"], 1);
    assert_eq!(
        &bytes[20 + n..],
        Sha256::digest(&bytes[..20 + n]).as_slice()
    );
}

#[test]
fn frozen_envelope_bytes() {
    // The envelope layout is frozen: this must never change for format version 1.
    let bytes = envelope::encode(b"{}");
    assert_eq!(
        capstan_io::hex(&bytes),
        "4341505354414e000100000002000000000000007b7d5edb47ce46f192aff146ab8c017b4c84c6f3ed439c122e9c04b3b2a7c1cbebfc"
    );
}

#[test]
fn generic_payload_round_trips() {
    let bytes = envelope::encode(b"[1,2,3]");
    let (version, payload) = envelope::decode(&bytes, "x").unwrap();
    assert_eq!((version, payload), (FORMAT_VERSION, b"[1,2,3]".as_slice()));
}

#[test]
fn empty_input() {
    let e = err(b"");
    assert!(matches!(e, BundleError::Empty { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "input is empty (expected a capstan model bundle)"
    );
}

#[test]
fn wrong_magic() {
    let mut bytes = good_bytes();
    bytes[0] = b'X';
    let e = err(&bytes);
    assert!(matches!(e, BundleError::NotABundle { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("input is not a capstan model bundle"),
        "{e}"
    );
    let e = err(b"PK\x03\x04 a zip file, not a bundle");
    assert!(
        e.to_string().contains("is not a capstan model bundle"),
        "{e}"
    );
}

#[test]
fn newer_format_version() {
    let mut bytes = good_bytes();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    reseal(&mut bytes);
    let e = err(&bytes);
    assert!(
        matches!(e, BundleError::NewerFormat { version: 2, .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "input: format version 2 is newer than this capstan supports (max 1); upgrade capstan"
    );
}

#[test]
fn version_zero_is_invalid() {
    let mut bytes = good_bytes();
    bytes[8..12].copy_from_slice(&0u32.to_le_bytes());
    reseal(&mut bytes);
    assert!(matches!(
        err(&bytes),
        BundleError::InvalidVersion { version: 0, .. }
    ));
}

#[test]
fn truncated_anywhere() {
    let bytes = good_bytes();
    for keep in [3, 8, 12, 19, 20, 21, bytes.len() / 2, bytes.len() - 1] {
        let e = err(&bytes[..keep]);
        assert!(matches!(e, BundleError::Truncated { .. }), "{keep}: {e}");
        assert!(
            e.to_string().starts_with("input is truncated: expected "),
            "{e}"
        );
    }
}

#[test]
fn absurd_length_does_not_overflow() {
    let mut bytes = good_bytes();
    bytes[12..20].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = err(&bytes);
    assert!(matches!(e, BundleError::Truncated { .. }), "{e}");
}

#[test]
fn trailing_data() {
    let mut bytes = good_bytes();
    bytes.push(0);
    assert!(matches!(err(&bytes), BundleError::TrailingData { .. }));
}

#[test]
fn flipped_byte_anywhere_after_header_is_a_checksum_error() {
    let bytes = good_bytes();
    for at in [20, 21, bytes.len() / 2, bytes.len() - 33, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x01;
        let e = err(&bad);
        assert!(
            matches!(e, BundleError::ChecksumMismatch { .. }),
            "{at}: {e}"
        );
        assert!(
            e.to_string()
                .starts_with("input is corrupt: checksum mismatch"),
            "{e}"
        );
    }
}

#[test]
fn invalid_json_payload_with_valid_checksum() {
    let e = err(&envelope::encode(b"not json"));
    assert!(matches!(e, BundleError::InvalidPayload { .. }), "{e}");
    assert!(
        e.to_string().starts_with("input: invalid bundle payload"),
        "{e}"
    );
    // Valid JSON of the wrong shape.
    let e = err(&envelope::encode(br#"{"manifest": 3}"#));
    assert!(matches!(e, BundleError::InvalidPayload { .. }), "{e}");
}

#[test]
fn manifest_version_must_match_header() {
    let mut json = serde_json::to_value(common::bundle()).unwrap();
    json["manifest"]["format_version"] = 7.into();
    let e = err(&envelope::encode(&serde_json::to_vec(&json).unwrap()));
    assert!(
        matches!(e, BundleError::VersionMismatch { manifest: 7, .. }),
        "{e}"
    );
}

#[test]
fn migrate_v1_is_identity() {
    let json = serde_json::to_value(common::bundle()).unwrap();
    assert_eq!(capstan_bundle::migrate(1, json.clone()).unwrap(), json);
}

#[test]
fn inconsistent_parts_are_refused_on_load() {
    let mut json = serde_json::to_value(common::bundle()).unwrap();
    json["manifest"]["target"]["task"] = serde_json::json!({"task": "binary"});
    let e = err(&envelope::encode(&serde_json::to_vec(&json).unwrap()));
    assert!(matches!(e, BundleError::Inconsistent { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("the manifest says task binary, the model is multiclass"),
        "{e}"
    );

    let mut json = serde_json::to_value(common::bundle()).unwrap();
    json["model"]["intercepts"] = serde_json::json!([0.0]);
    let e = err(&envelope::encode(&serde_json::to_vec(&json).unwrap()));
    assert!(e.to_string().contains("expected 3 intercepts"), "{e}");

    let mut json = serde_json::to_value(common::bundle()).unwrap();
    json["manifest"]["target"]["classes"] = serde_json::json!(["a", "b"]);
    let e = err(&envelope::encode(&serde_json::to_vec(&json).unwrap()));
    assert!(e.to_string().contains("expected 3 class labels"), "{e}");
}
