//! The Python oracle runner shared by the eval oracle tests.

use std::path::PathBuf;
use std::process::Command;

/// The python to use and the version `version_expr` prints (e.g. `sklearn.__version__`),
/// after importing `modules`. `CAPSTAN_PYTHON`, when set, is the only candidate; then the
/// workspace `.venv`, then `python3`. `None` (with a skip note) when no candidate has the
/// modules; under `CI` that is a failure.
pub fn python(modules: &str, version_expr: &str) -> Option<(PathBuf, String)> {
    let candidates = match std::env::var_os("CAPSTAN_PYTHON") {
        Some(py) => vec![PathBuf::from(py)],
        None => vec![
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
            PathBuf::from("python3"),
        ],
    };
    let check = format!("import {modules}; print({version_expr})");
    let found = candidates.into_iter().find_map(|py| {
        let out = Command::new(&py).args(["-c", &check]).output().ok()?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        out.status.success().then_some((py, version))
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but no python with {modules} was found (set CAPSTAN_PYTHON)"
        );
        eprintln!("skipping oracle: no python with {modules} (set CAPSTAN_PYTHON)");
    }
    found
}
