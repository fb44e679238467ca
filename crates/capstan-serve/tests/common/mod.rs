//! Shared test helpers: a store with registered fixture bundles, a tiny HTTP client,
//! telco rows as CSV bodies.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use capstan_store::{Change, Store};
use serde_json::Value;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        workspace()
            .join("crates/capstan-bundle/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// A fresh directory removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "capstan-serve-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        make_writable(&self.0);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn make_writable(path: &Path) {
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            make_writable(&e.path());
        }
    }
    if let Ok(m) = std::fs::metadata(path) {
        let mut p = m.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        p.set_readonly(false);
        let _ = std::fs::set_permissions(path, p);
    }
}

pub fn cli_change(reason: &str) -> Change {
    Change {
        actor: "test".to_string(),
        reason: reason.to_string(),
    }
}

/// Registers bundle bytes as the next version of `model`.
pub fn register(store: &Store, model: &str, bytes: &[u8]) -> u32 {
    let a = store.put_artifact(bytes).unwrap();
    store
        .register_version(model, &a.sha256, None, "", &cli_change("test"))
        .unwrap()
        .version
}

/// The telco CSV: header line and data lines.
pub fn telco_lines() -> (String, Vec<String>) {
    let text = std::fs::read_to_string(workspace().join("data/telco_churn.csv")).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not json ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Response { status, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    request(addr, "GET", path, headers, b"")
}

pub fn post_json(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
    let mut h = headers.to_vec();
    h.push(("Content-Type", "application/json"));
    request(addr, "POST", path, &h, body.to_string().as_bytes())
}

pub fn put_json(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
    let mut h = headers.to_vec();
    h.push(("Content-Type", "application/json"));
    request(addr, "PUT", path, &h, body.to_string().as_bytes())
}

/// One CSV row scored through the native endpoint.
pub fn predict_csv(addr: SocketAddr, model: &str, header: &str, line: &str, key: &str) -> Response {
    let body = format!("{header}\n{line}\n");
    request(
        addr,
        "POST",
        &format!("/v1/models/{model}/predict"),
        &[("Content-Type", "text/csv"), ("X-Request-Key", key)],
        body.as_bytes(),
    )
}
