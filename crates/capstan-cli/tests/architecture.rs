//! The dependency arrows of ARCHITECTURE.md, enforced: each crate may depend only on the
//! capstan crates listed here, and the numeric crates never on storage or network stacks.

use std::path::Path;

/// Crate -> the capstan crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("capstan-io", &[]),
    ("capstan-eval", &["capstan-io"]),
    ("capstan-frame", &["capstan-io"]),
    ("capstan-features", &["capstan-frame"]),
    (
        "capstan-learn",
        &["capstan-eval", "capstan-frame", "capstan-io"],
    ),
    ("capstan-store", &["capstan-io"]),
    ("capstan-quality", &["capstan-frame", "capstan-io"]),
    (
        "capstan-serve",
        &[
            "capstan-bundle",
            "capstan-frame",
            "capstan-io",
            "capstan-learn",
            "capstan-monitor",
            "capstan-quality",
            "capstan-store",
        ],
    ),
    (
        "capstan-bench",
        &["capstan-frame", "capstan-learn", "capstan-eval"],
    ),
    (
        "capstan-bundle",
        &[
            "capstan-frame",
            "capstan-features",
            "capstan-learn",
            "capstan-io",
        ],
    ),
];

/// Crates that do numeric work: no database, async runtime or HTTP.
const KERNELS: &[&str] = &[
    "capstan-frame",
    "capstan-features",
    "capstan-learn",
    "capstan-eval",
    "capstan-quality",
];
const FORBIDDEN_IN_KERNELS: &[&str] = &[
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "tokio",
    "axum",
    "hyper",
    "reqwest",
    "sqlx",
];

fn dependencies(krate: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).expect("read Cargo.toml");
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        // Optional dependencies sit behind a feature that is off by default (capstan-frame's
        // `postgres`): the crates that depend on it without the feature never build them.
        if in_deps
            && !line.is_empty()
            && !line.starts_with('#')
            && !line.contains("optional = true")
        {
            let name = line.split(['=', '.', ' ']).next().expect("a name");
            deps.push(name.to_string());
        }
    }
    deps
}

#[test]
fn capstan_dependencies_point_one_way() {
    for (krate, allowed) in ALLOWED {
        for dep in dependencies(krate)
            .iter()
            .filter(|d| d.starts_with("capstan-"))
        {
            assert!(
                allowed.contains(&dep.as_str()),
                "{krate} must not depend on {dep} (see ARCHITECTURE.md)"
            );
        }
    }
}

#[test]
fn numeric_crates_have_no_storage_or_network_stack() {
    for krate in KERNELS {
        for dep in dependencies(krate) {
            assert!(
                !FORBIDDEN_IN_KERNELS.contains(&dep.as_str()),
                "{krate} must not depend on {dep}"
            );
        }
    }
}

#[test]
fn every_crate_is_covered() {
    let crates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for entry in std::fs::read_dir(&crates_dir)
        .expect("crates dir")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("Cargo.toml").is_file() && name != "capstan-cli" {
            assert!(
                ALLOWED.iter().any(|(k, _)| *k == name),
                "add {name} to ALLOWED in this test and to ARCHITECTURE.md"
            );
        }
    }
}
