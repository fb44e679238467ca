//! Crash safety of `capstan serve --log durable`: kill -9 the server under load, restart it
//! on the same store, and check that the registry is intact and that every prediction whose
//! 200 response reached a client is in the prediction log.
//!
//! Runs on a SQLite store always, and on PostgreSQL when the test database
//! (`postgres://postgres@127.0.0.1:5432/test`, or `$CAPSTAN_TEST_PG`) is reachable; without
//! it the PostgreSQL case prints a skip note, or fails when `CI` is set.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Client threads driving the server.
const CLIENTS: usize = 3;
/// Acknowledged predictions to collect before the kill (or until `LOAD_DEADLINE`).
const ACKED_BEFORE_KILL: usize = 1_000;
const LOAD_DEADLINE: Duration = Duration::from_secs(30);
/// Each client thread stops after this many requests whatever happens.
const MAX_REQUESTS_PER_CLIENT: usize = 20_000;

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

fn fixture(name: &str) -> PathBuf {
    common::repo_root()
        .join("crates/capstan-bundle/tests/fixtures")
        .join(name)
}

/// Runs `capstan --store STORE ARGS`, failing the test on a non-zero exit.
fn cli(store: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_capstan"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .expect("run capstan");
    assert!(
        out.status.success(),
        "capstan {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cli_json(store: &str, args: &[&str]) -> Value {
    let stdout = cli(store, args);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("capstan {args:?}: not json ({e}): {stdout}"))
}

/// A `capstan serve` child process and everything it writes to stderr.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// Starts `capstan serve` on an ephemeral port and waits for its address.
    fn start(store: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_capstan"))
            .arg("--store")
            .arg(store)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start capstan serve");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().expect("stderr pipe");
        let lines = stderr.clone();
        // Keeps draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("capstan serve: listening on http://") {
                    let _ = tx.send(addr.trim().to_string());
                }
                lines.lock().expect("stderr lines").push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                panic!(
                    "capstan serve printed no address within 60 s (exit {status:?}); stderr:\n{}",
                    stderr.lock().expect("stderr lines").join("\n")
                );
            }
        };
        let addr = addr
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("unparsable address '{addr}'"));
        Server {
            child,
            addr,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lines").join("\n")
    }

    /// SIGTERM, then waits (bounded) for the exit; returns the exit code.
    fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for capstan serve") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "capstan serve did not exit within 60 s of SIGTERM; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Reply {
    status: u16,
    body: String,
}

/// One HTTP/1.1 request on a fresh connection; any IO failure is an `Err` (the server may be
/// gone).
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    ctype: &str,
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut rest = &raw[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let body = if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        let mut out = Vec::new();
        loop {
            let eol = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| bad("truncated chunk"))?;
            let size = String::from_utf8_lossy(&rest[..eol]);
            let n = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if n == 0 {
                break;
            }
            let data = rest
                .get(eol + 2..eol + 2 + n)
                .ok_or_else(|| bad("truncated chunk"))?;
            out.extend_from_slice(data);
            rest = rest
                .get(eol + 4 + n..)
                .ok_or_else(|| bad("truncated chunk"))?;
        }
        out
    } else if let Some(len) = header("content-length:") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        rest.get(..len)
            .ok_or_else(|| bad("truncated body"))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The telco CSV header and data lines.
fn telco_lines() -> (String, Vec<String>) {
    let text = std::fs::read_to_string(common::telco()).expect("read telco csv");
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().expect("header");
    (header, lines.filter(|l| !l.trim().is_empty()).collect())
}

/// What the load produced.
#[derive(Debug, Default)]
struct Load {
    /// Prediction ids from 200 responses that were read in full, with what the response said
    /// for that row (`{"prediction", "probabilities"}`).
    acked: Vec<(String, Value)>,
    /// Requests sent.
    sent: usize,
    /// Requests that got no complete response (in flight at the kill, or refused after it).
    unanswered: usize,
    /// Complete responses other than 200 before the kill (should be none).
    failures: Vec<String>,
}

/// Drives native predictions from `CLIENTS` threads, kills the server with SIGKILL once
/// `ACKED_BEFORE_KILL` predictions were acknowledged (or at the deadline) while requests are
/// in flight, and returns what the clients saw.
fn load_and_kill(server: &mut Server) -> Load {
    let (header, lines) = telco_lines();
    let lines = Arc::new(lines);
    let addr = server.addr;
    let killed = Arc::new(AtomicBool::new(false));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let result = Arc::new(Mutex::new(Load::default()));
    let mut handles = Vec::new();
    for client in 0..CLIENTS {
        let (header, lines, killed, acked_count, in_flight, result) = (
            header.clone(),
            lines.clone(),
            killed.clone(),
            acked_count.clone(),
            in_flight.clone(),
            result.clone(),
        );
        handles.push(std::thread::spawn(move || {
            for i in 0..MAX_REQUESTS_PER_CLIENT {
                if killed.load(Ordering::SeqCst) {
                    break;
                }
                // 1 to 4 rows per request.
                let n = 1 + (i + client) % 4;
                let start = (i * 7 + client * 1_000) % (lines.len() - n);
                let mut body = header.clone();
                body.push('\n');
                for line in &lines[start..start + n] {
                    body.push_str(line);
                    body.push('\n');
                }
                in_flight.fetch_add(1, Ordering::SeqCst);
                let reply = http(
                    addr,
                    "POST",
                    "/v1/models/churn/predict",
                    "text/csv",
                    body.as_bytes(),
                );
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let mut r = result.lock().expect("load result");
                r.sent += 1;
                match reply {
                    Ok(reply) if reply.status == 200 => {
                        let json: Value = match serde_json::from_str(&reply.body) {
                            Ok(j) => j,
                            Err(e) => {
                                r.failures.push(format!(
                                    "200 with a body that is not json ({e}): {}",
                                    reply.body
                                ));
                                continue;
                            }
                        };
                        let rows: Vec<(String, Value)> = json["predictions"]
                            .as_array()
                            .map(|p| {
                                p.iter()
                                    .filter_map(|p| {
                                        let id = p["id"].as_str()?.to_string();
                                        let mut said = p.clone();
                                        said.as_object_mut()?.remove("id");
                                        Some((id, said))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        if rows.len() != n {
                            r.failures.push(format!(
                                "{n} rows sent, {} prediction ids returned: {}",
                                rows.len(),
                                reply.body
                            ));
                        }
                        acked_count.fetch_add(rows.len(), Ordering::SeqCst);
                        r.acked.extend(rows);
                    }
                    Ok(reply) => {
                        if !killed.load(Ordering::SeqCst) {
                            r.failures
                                .push(format!("HTTP {}: {}", reply.status, reply.body));
                        }
                    }
                    Err(e) => {
                        r.unanswered += 1;
                        if !killed.load(Ordering::SeqCst) {
                            r.failures.push(format!("no response before the kill: {e}"));
                        }
                    }
                }
            }
        }));
    }
    let started = Instant::now();
    loop {
        let enough = acked_count.load(Ordering::SeqCst) >= ACKED_BEFORE_KILL;
        if (enough && in_flight.load(Ordering::SeqCst) > 0) || started.elapsed() > LOAD_DEADLINE {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let in_flight_at_kill = in_flight.load(Ordering::SeqCst);
    // Marked first: a client whose connection the kill cuts must already see the mark.
    killed.store(true, Ordering::SeqCst);
    // std's Child::kill is SIGKILL on unix: no handler, no flush, no graceful shutdown.
    server.child.kill().expect("kill -9 capstan serve");
    let status = server.child.wait().expect("wait for the killed server");
    for h in handles {
        h.join().expect("client thread");
    }
    eprintln!(
        "killed capstan serve ({status}) after {:.1} s with {in_flight_at_kill} requests in flight",
        started.elapsed().as_secs_f64()
    );
    std::mem::take(&mut *result.lock().expect("load result"))
}

/// Versions (number and bundle hash) and aliases: what must survive the crash.
fn registry_view(model: &Value) -> (Vec<(u64, String)>, BTreeMap<String, u64>) {
    let versions = model["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().expect("version number"),
                v["bundle_sha256"]
                    .as_str()
                    .expect("bundle hash")
                    .to_string(),
            )
        })
        .collect();
    let aliases = model["aliases"]
        .as_object()
        .expect("aliases")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("alias version")))
        .collect();
    (versions, aliases)
}

/// The whole acceptance scenario on one store (a directory or a postgres:// URL).
fn crash_and_recover(store: &str) {
    let gbdt = fixture("telco_gbdt_v1.capstan");
    let linear = fixture("telco_linear_v1.capstan");
    cli(
        store,
        &[
            "models",
            "register",
            "churn",
            "--bundle",
            gbdt.to_str().expect("utf-8"),
            "--alias",
            "champion",
        ],
    );
    cli(
        store,
        &[
            "models",
            "register",
            "churn",
            "--bundle",
            linear.to_str().expect("utf-8"),
            "--alias",
            "challenger",
        ],
    );
    let before = registry_view(&cli_json(store, &["models", "show", "churn", "--json"]));
    assert_eq!(before.0.len(), 2, "two versions registered: {before:?}");
    assert_eq!(before.1.get("champion"), Some(&1));
    assert_eq!(before.1.get("challenger"), Some(&2));

    let mut server = Server::start(store, &["--log", "durable", "--log-flush-ms", "5"]);
    let load = load_and_kill(&mut server);
    let first_stderr = server.stderr();
    drop(server);
    assert!(
        load.failures.is_empty(),
        "requests failed before the kill ({} of {}):\n{}\nserver stderr:\n{first_stderr}",
        load.failures.len(),
        load.sent,
        load.failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        load.acked.len() >= 50,
        "too few acknowledged predictions before the kill ({}); server stderr:\n{first_stderr}",
        load.acked.len()
    );

    // Restart on the same store: it must load and serve.
    let server = Server::start(store, &["--log", "durable"]);
    let ready = http(server.addr, "GET", "/v2/health/ready", "text/plain", b"").expect("ready");
    assert_eq!(ready.status, 200, "not ready after restart: {}", ready.body);
    let (header, lines) = telco_lines();
    let body = format!("{header}\n{}\n", lines[0]);
    let reply = http(
        server.addr,
        "POST",
        "/v1/models/churn/predict",
        "text/csv",
        body.as_bytes(),
    )
    .expect("predict after restart");
    assert_eq!(reply.status, 200, "predict after restart: {}", reply.body);
    let served: Value = serde_json::from_str(&reply.body).expect("json");
    assert_eq!(served["version"], 1, "the champion answers: {served}");

    // The registry, as the CLI and the restarted server see it.
    let after = registry_view(&cli_json(store, &["models", "show", "churn", "--json"]));
    assert_eq!(after, before, "registry changed across kill -9");
    let shown = http(server.addr, "GET", "/v1/models/churn", "text/plain", b"").expect("show");
    assert_eq!(shown.status, 200, "{}", shown.body);
    let shown: Value = serde_json::from_str(&shown.body).expect("json");
    assert_eq!(
        registry_view(&shown),
        before,
        "registry as the restarted server sees it"
    );

    let code = server.terminate();
    assert_eq!(code, Some(0), "capstan serve after SIGTERM");

    // Every acknowledged prediction is in the log, once.
    let log = cli_json(store, &["log", "--json", "--limit", "100000000"]);
    let records = log.as_array().expect("log records");
    let mut logged: BTreeMap<&str, &Value> = BTreeMap::new();
    let mut duplicates = Vec::new();
    for r in records {
        let id = r["id"].as_str().expect("record id");
        if logged.insert(id, r).is_some() {
            duplicates.push(id);
        }
    }
    assert!(duplicates.is_empty(), "ids logged twice: {duplicates:?}");
    let acked: BTreeMap<&str, &Value> = load.acked.iter().map(|(id, v)| (id.as_str(), v)).collect();
    assert_eq!(
        acked.len(),
        load.acked.len(),
        "the server returned an id twice"
    );
    let missing: Vec<&str> = acked
        .keys()
        .filter(|id| !logged.contains_key(**id))
        .copied()
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged predictions are not in the log after kill -9, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    for (id, said) in &acked {
        let r = logged[id];
        assert_eq!(r["model"], "churn", "{r}");
        assert_eq!(r["version"], 1, "{r}");
        assert_eq!(r["role"], "champion", "{r}");
        assert_eq!(
            &r["outputs"], *said,
            "prediction {id}: the log holds other outputs than the response gave"
        );
    }
    eprintln!(
        "{store}: {} requests sent, {} unanswered at/after the kill, {} acknowledged ids all in the log ({} records logged in all)",
        load.sent,
        load.unanswered,
        acked.len(),
        logged.len()
    );
}

#[test]
fn kill_9_under_load_keeps_registry_and_acknowledged_predictions_sqlite() {
    let dir = common::tempdir("serve-crash");
    let store = dir.join("store");
    crash_and_recover(store.to_str().expect("utf-8 path"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The PostgreSQL test database URL, when something listens at its address.
fn postgres_base() -> Option<String> {
    let base = std::env::var("CAPSTAN_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.to_string());
    let hostport = base
        .strip_prefix("postgres://")
        .or_else(|| base.strip_prefix("postgresql://"))?
        .split(['/', '?'])
        .next()?
        .rsplit('@')
        .next()?
        .to_string();
    let addr = hostport.to_socket_addrs().ok()?.next()?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    Some(base)
}

#[test]
fn kill_9_under_load_keeps_registry_and_acknowledged_predictions_postgres() {
    let Some(base) = postgres_base() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the test PostgreSQL ({DEFAULT_PG} or $CAPSTAN_TEST_PG) is not reachable"
        );
        eprintln!(
            "skipping the PostgreSQL crash test: {DEFAULT_PG} is not reachable (set CAPSTAN_TEST_PG)"
        );
        return;
    };
    let schema = format!(
        "capstan_serve_crash_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0)
    );
    // The store creates its tables in the first schema of the search path; it must exist.
    if let Err(e) = psql(&base, &format!("CREATE SCHEMA {schema}")) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the test schema cannot be created: {e}"
        );
        eprintln!("skipping the PostgreSQL crash test: {e}");
        return;
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    crash_and_recover(&url);
    psql(&base, &format!("DROP SCHEMA {schema} CASCADE")).expect("drop the test schema");
}

/// Runs one statement with `psql`; `Err` when psql cannot be run at all.
fn psql(base: &str, sql: &str) -> Result<(), String> {
    let out = Command::new("psql")
        .args([base, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
