#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn telco() -> PathBuf {
    repo_root().join("data/telco_churn.csv")
}

pub fn shared_data(name: &str) -> PathBuf {
    repo_root()
        .join("../shared/data")
        .join(name)
        .join(format!("{name}.csv"))
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the capstan binary with a private store under `dir`.
pub fn capstan(dir: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_capstan"))
        .arg("--store")
        .arg(dir.join("store"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run capstan");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("capstan-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Files in `dir` (recursively), for checking nothing was left behind.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The python to use for oracles, after importing `modules`: `CAPSTAN_PYTHON` when set,
/// else the workspace `.venv`, else `python3`. `None` (with a skip note) when none has the
/// modules; under `CI` that is a failure.
pub fn python(modules: &str) -> Option<PathBuf> {
    let candidates = match std::env::var_os("CAPSTAN_PYTHON") {
        Some(py) => vec![PathBuf::from(py)],
        None => vec![
            repo_root().join(".venv/bin/python"),
            PathBuf::from("python3"),
        ],
    };
    let check = format!("import {modules}");
    let found = candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", &check])
            .output()
            .is_ok_and(|o| o.status.success())
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

/// Runs a python oracle script with arguments; its stdout as JSON.
pub fn python_json(py: &Path, script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python prints JSON")
}
