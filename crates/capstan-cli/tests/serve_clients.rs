//! `capstan serve` against real third-party clients: NVIDIA's `tritonclient[http]` (Open
//! Inference Protocol v2, binary and JSON tensors) and MLflow-style `/invocations` requests,
//! driven by `scripts/serve_clients.py` on the frozen gbdt fixture and its expected
//! predictions. Then SIGTERM must stop the server with exit 0 after flushing the prediction
//! log, and `capstan log` must hold every prediction made.
//!
//! Runs `$CAPSTAN_PYTHON`, else the workspace `.venv/bin/python`, else `python3`
//! (`scripts/setup-python.sh` installs `requirements-test.txt` into `.venv`). Without a
//! python that has tritonclient the test prints a skip note, or fails when `CI` is set.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use common::{capstan, repo_root, tempdir};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    repo_root()
        .join("crates/capstan-bundle/tests/fixtures")
        .join(name)
}

/// The python to use: `CAPSTAN_PYTHON` when set (the only candidate), else the workspace
/// `.venv`, else `python3`; it must import tritonclient's HTTP client and numpy.
fn python() -> Option<PathBuf> {
    let candidates = match std::env::var_os("CAPSTAN_PYTHON") {
        Some(py) => vec![PathBuf::from(py)],
        None => vec![
            repo_root().join(".venv/bin/python"),
            PathBuf::from("python3"),
        ],
    };
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import numpy, tritonclient.http"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn tritonclient_and_mlflow_requests_match_the_fixture_predictions() {
    let Some(py) = python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but no python with tritonclient[http] was found (run scripts/setup-python.sh or set CAPSTAN_PYTHON)"
        );
        eprintln!(
            "skipping serve_clients: no python with tritonclient[http] (run scripts/setup-python.sh or set CAPSTAN_PYTHON)"
        );
        return;
    };
    let dir = tempdir("serve-clients");
    let bundle = fixture("telco_gbdt_v1.capstan");
    let reg = capstan(
        &dir,
        &[
            "models",
            "register",
            "churn",
            "--bundle",
            bundle.to_str().expect("utf-8 path"),
            "--alias",
            "champion",
        ],
    );
    assert_eq!(reg.code, 0, "register: {}", reg.stderr);

    // capstan serve on an ephemeral port; the address comes on stderr.
    let mut server = Command::new(env!("CARGO_BIN_EXE_capstan"))
        .arg("--store")
        .arg(dir.join("store"))
        .args(["serve", "--bind", "127.0.0.1:0", "--log", "durable"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start capstan serve");
    let stderr_lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let (tx, rx) = mpsc::channel();
    let pipe = server.stderr.take().expect("stderr pipe");
    let lines = stderr_lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.strip_prefix("capstan serve: listening on ") {
                let _ = tx.send(addr.trim().to_string());
            }
            lines.lock().expect("stderr lines").push(line);
        }
    });
    let stderr = || stderr_lines.lock().expect("stderr lines").join("\n");
    let Ok(url) = rx.recv_timeout(Duration::from_secs(60)) else {
        let _ = server.kill();
        let status = server.wait();
        panic!(
            "capstan serve printed no address within 60 s ({status:?}); stderr:\n{}",
            stderr()
        );
    };

    let fixtures = repo_root().join("crates/capstan-bundle/tests/fixtures");
    let out = Command::new(&py)
        .arg(repo_root().join("scripts/serve_clients.py"))
        .arg(&url)
        .arg("churn")
        .arg(fixtures.join("telco_v1.input.csv"))
        .arg(fixtures.join("telco_gbdt_v1.predictions.csv"))
        .output()
        .expect("run scripts/serve_clients.py");
    let script_out = String::from_utf8_lossy(&out.stdout).into_owned();
    let script_err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("{script_out}{script_err}");
    if !out.status.success() {
        let _ = server.kill();
        let _ = server.wait();
        panic!(
            "scripts/serve_clients.py failed ({}):\n{script_out}{script_err}\nserver stderr:\n{}",
            out.status,
            stderr()
        );
    }
    let summary: Value = script_out
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("the script's closing JSON line");
    let predictions = summary["predictions"].as_u64().expect("predictions count");
    assert!(predictions > 0, "{summary}");

    // SIGTERM: drain, flush the durable log, exit 0.
    let pid = server.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.try_wait().expect("wait for capstan serve") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            let _ = server.wait();
            panic!(
                "capstan serve did not exit within 60 s of SIGTERM; stderr:\n{}",
                stderr()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    reader.join().expect("stderr reader");
    assert_eq!(
        status.code(),
        Some(0),
        "capstan serve exit after SIGTERM ({status}); stderr:\n{}",
        stderr()
    );

    // Every scored row is in the log, answered by the champion, version 1.
    let log = capstan(&dir, &["log", "--json", "--limit", "1000000"]);
    assert_eq!(log.code, 0, "capstan log: {}", log.stderr);
    let records: Vec<Value> = serde_json::from_str(&log.stdout).expect("log json");
    assert_eq!(
        records.len() as u64,
        predictions,
        "prediction log records vs rows the clients had scored"
    );
    let mut ids: Vec<&str> = Vec::new();
    for r in &records {
        assert_eq!(r["model"], "churn", "{r}");
        assert_eq!(r["version"], 1, "{r}");
        assert_eq!(r["role"], "champion", "{r}");
        assert!(r["outputs"].is_object(), "{r}");
        ids.push(r["id"].as_str().expect("id"));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), records.len(), "prediction ids are unique");
    let _ = std::fs::remove_dir_all(&dir);
}
