//! `capstan-bench-serve`: an HTTP/1.1 keep-alive load generator for scoring servers; prints
//! one JSON line. Driven by `scripts/bench_serve.py`, which points it at `capstan serve` and
//! at a Python peer in turn, with the same request bodies.
//!
//! One OS thread per connection, blocking `TcpStream`s (`TCP_NODELAY`), one request in
//! flight per connection (no pipelining). A connection the server closes (`Connection:
//! close`) is reopened for the next request (counted in `reconnects`; the connect time is in
//! that request's latency); a reused connection that fails before any response byte (an idle
//! keep-alive connection the server dropped) is reopened and the request sent once more
//! (`retries`).
//!
//! Modes:
//! - `closed`: each connection sends its next request as soon as the previous response has
//!   arrived, so throughput is the server's saturation rate at that concurrency and latency is
//!   measured from the actual send.
//! - `open`: requests are scheduled at fixed intervals (`1 / --rate`) on one global timeline;
//!   a free connection takes the next slot, sleeps until its scheduled time and sends.
//!   Latency is measured from the *scheduled* time, not the actual send, so a server that
//!   falls behind is charged for the queueing its slowness causes (no coordinated omission).
//!   Slots inside the window that were never sent before it closed are counted in `unsent`;
//!   the run is flagged `overloaded` when any were, or when the achieved rate is below 95 %
//!   of the offered one. Then `latency_ms` (completed requests only) understates the wait,
//!   and `latency_ms_lower_bound_with_unsent` adds each unsent slot with the time from its
//!   schedule to the end of the run, a lower bound on what it would have waited.
//!
//! Timeline: `--warmup` seconds whose requests are not recorded, then the `--duration`
//! window. Recorded: requests sent (closed) or scheduled (open) inside the window;
//! throughput = responses completed inside the window / duration. A response with a status
//! outside 200..=299 is an error and is not in the latency percentiles.
//!
//! `client_cpu_s` is this process's user + system CPU time over the window (from
//! `/proc/self/stat`, assuming 100 clock ticks a second), so one can see how much of a shared
//! machine the load generator itself took.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Each connection sends its next request when the previous response arrived
    Closed,
    /// Requests scheduled at a fixed rate; latency from the scheduled send time
    Open,
}

/// HTTP/1.1 keep-alive load generator: closed loop (saturation) or open loop (fixed rate,
/// latency from the scheduled send time); prints one JSON line.
#[derive(Debug, Parser)]
#[command(name = "capstan-bench-serve", version)]
struct Args {
    /// Target, e.g. http://127.0.0.1:8080/v1/models/adult/predict (plain http only)
    #[arg(long)]
    url: String,
    /// Request bodies, one per non-empty line, sent verbatim (POST); used in turn
    #[arg(long, value_name = "FILE")]
    bodies: PathBuf,
    #[arg(long, default_value = "application/json")]
    content_type: String,
    /// Extra request header, `Name: value` (repeatable)
    #[arg(long = "header", short = 'H', value_name = "HEADER")]
    headers: Vec<String>,
    #[arg(long, value_enum, default_value_t = Mode::Closed)]
    mode: Mode,
    /// Connections, each on its own thread
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Requests per second (open mode)
    #[arg(long)]
    rate: Option<f64>,
    /// Measured window, seconds
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Unrecorded warm-up before the window, seconds
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Per-request timeout (connect, write, read), seconds
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Free-form label copied into the output
    #[arg(long)]
    label: Option<String>,
}

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

// ----------------------------------------------------------------------------- target

#[derive(Debug, Clone)]
struct Target {
    addr: SocketAddr,
    host: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("--url '{url}': expected http://HOST:PORT/PATH"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() {
        bail!("--url '{url}': no host");
    }
    let with_port = if host.contains(':') && !host.ends_with(']') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .with_context(|| format!("--url '{url}': cannot resolve {with_port}"))?
        .next()
        .with_context(|| format!("--url '{url}': {with_port} resolves to nothing"))?;
    Ok(Target {
        addr,
        host: host.to_string(),
        path: path.to_string(),
    })
}

/// Full request bytes (head and body) for each body.
fn build_requests(
    target: &Target,
    content_type: &str,
    headers: &[String],
    bodies: &[Vec<u8>],
) -> Result<Vec<Vec<u8>>> {
    let mut extra = String::new();
    for h in headers {
        let Some((name, value)) = h.split_once(':') else {
            bail!("--header '{h}': expected 'Name: value'");
        };
        extra.push_str(&format!("{}: {}\r\n", name.trim(), value.trim()));
    }
    Ok(bodies
        .iter()
        .map(|b| {
            let mut r = format!(
                "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {}\r\nAccept: application/json\r\n{extra}\r\n",
                target.path,
                target.host,
                b.len()
            )
            .into_bytes();
            r.extend_from_slice(b);
            r
        })
        .collect())
}

fn read_bodies(path: &PathBuf) -> Result<Vec<Vec<u8>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bodies: Vec<Vec<u8>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.as_bytes().to_vec())
        .collect();
    if bodies.is_empty() {
        bail!("{}: no request bodies (one per line)", path.display());
    }
    Ok(bodies)
}

// ----------------------------------------------------------------------------- HTTP

/// One parsed response: status, whether the server will close, and where it ends in the
/// buffer (head and body).
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    status: u16,
    close: bool,
    body_start: usize,
    end: usize,
}

/// Parses a complete response at the start of `buf`; `Ok(None)` while more bytes are needed.
/// A body delimited by the connection's end (no length, not chunked) needs `eof`.
fn parse_response(buf: &[u8], eof: bool) -> Result<Option<Parsed>> {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_end]).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let version = parts.next().unwrap_or_default();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line '{status_line}'"))?;
    let mut close = version == "HTTP/1.0";
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .with_context(|| format!("bad content-length '{value}'"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            let v = value.to_ascii_lowercase();
            if v.contains("close") {
                close = true;
            } else if v.contains("keep-alive") {
                close = false;
            }
        }
    }
    let body_start = head_end + 4;
    let no_body = status == 204 || status == 304 || (100..200).contains(&status);
    let end = if no_body {
        Some(body_start)
    } else if chunked {
        chunked_end(buf, body_start)?
    } else if let Some(n) = length {
        (buf.len() >= body_start + n).then_some(body_start + n)
    } else {
        close = true;
        eof.then_some(buf.len())
    };
    Ok(end.map(|end| Parsed {
        status,
        close,
        body_start,
        end,
    }))
}

/// End of a chunked body starting at `pos` (trailers included), once all of it is in `buf`.
fn chunked_end(buf: &[u8], mut pos: usize) -> Result<Option<usize>> {
    loop {
        let Some(eol) = find(&buf[pos..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[pos..pos + eol]).context("bad chunk size line")?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size '{size_text}'"))?;
        pos += eol + 2;
        if size == 0 {
            // trailers, then an empty line
            loop {
                let Some(eol) = find(&buf[pos..], b"\r\n") else {
                    return Ok(None);
                };
                pos += eol + 2;
                if eol == 0 {
                    return Ok(Some(pos));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        pos += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Why a request produced no response.
#[derive(Debug)]
enum Failure {
    Timeout,
    Io(String),
}

#[derive(Debug)]
struct Conn {
    target: SocketAddr,
    timeout: Duration,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    /// Connections opened after the first one.
    reconnects: u64,
    /// Requests sent again after a reused connection failed before any response byte.
    retries: u64,
    opened: bool,
}

impl Conn {
    fn new(target: SocketAddr, timeout: Duration) -> Self {
        Conn {
            target,
            timeout,
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
            reconnects: 0,
            retries: 0,
            opened: false,
        }
    }

    fn connect(&mut self) -> std::io::Result<()> {
        let s = TcpStream::connect_timeout(&self.target, self.timeout)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(self.timeout))?;
        s.set_write_timeout(Some(self.timeout))?;
        if self.opened {
            self.reconnects += 1;
        }
        self.opened = true;
        self.stream = Some(s);
        self.buf.clear();
        Ok(())
    }

    /// Sends one request and reads its response; returns the status and the response body.
    /// A reused connection that fails before any response byte is reopened and the request
    /// sent once more (servers close idle keep-alive connections).
    fn request(&mut self, req: &[u8], keep_body: bool) -> Result<(u16, Vec<u8>), Failure> {
        let reused = self.stream.is_some();
        match self.try_request(req, keep_body) {
            Err((Failure::Io(_), false)) if reused => {
                self.stream = None;
                self.retries += 1;
                self.try_request(req, keep_body).map_err(|(f, _)| f)
            }
            other => other.map_err(|(f, _)| f),
        }
    }

    /// The bool in the error: whether any response byte had arrived.
    fn try_request(
        &mut self,
        req: &[u8],
        keep_body: bool,
    ) -> Result<(u16, Vec<u8>), (Failure, bool)> {
        let io = |e: std::io::Error, got: bool| {
            let f = if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                Failure::Timeout
            } else {
                Failure::Io(e.to_string())
            };
            (f, got)
        };
        if self.stream.is_none() {
            self.connect().map_err(|e| io(e, false))?;
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err((Failure::Io("not connected".into()), false));
        };
        if let Err(e) = stream.write_all(req) {
            self.stream = None;
            return Err(io(e, false));
        }
        let mut chunk = [0u8; 16 * 1024];
        let mut eof = false;
        loop {
            match parse_response(&self.buf, eof) {
                Ok(Some(p)) => {
                    let body = if keep_body {
                        self.buf[p.body_start..p.end].to_vec()
                    } else {
                        Vec::new()
                    };
                    self.buf.drain(..p.end);
                    if p.close || eof {
                        self.stream = None;
                        self.buf.clear();
                    }
                    return Ok((p.status, body));
                }
                Ok(None) if eof => {
                    let got = !self.buf.is_empty();
                    self.stream = None;
                    self.buf.clear();
                    return Err((Failure::Io("connection closed".into()), got));
                }
                Ok(None) => {}
                Err(e) => {
                    self.stream = None;
                    self.buf.clear();
                    return Err((Failure::Io(format!("{e:#}")), true));
                }
            }
            let Some(stream) = self.stream.as_mut() else {
                return Err((Failure::Io("not connected".into()), false));
            };
            match stream.read(&mut chunk) {
                Ok(0) => eof = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let got = !self.buf.is_empty();
                    self.stream = None;
                    self.buf.clear();
                    return Err(io(e, got));
                }
            }
        }
    }
}

// ----------------------------------------------------------------------------- load

#[derive(Debug, Clone, Copy)]
struct Plan {
    mode: Mode,
    /// Start of the warm-up (and of the open-loop timeline).
    start: Instant,
    window_start: Instant,
    window_end: Instant,
    /// Open loop: nanoseconds between scheduled sends.
    interval_ns: f64,
}

impl Plan {
    fn slot_time(&self, i: u64) -> Instant {
        self.start + Duration::from_nanos((i as f64 * self.interval_ns) as u64)
    }
    /// Open loop: the slots scheduled inside the window, `first..end`.
    fn window_slots(&self) -> (u64, u64) {
        let first_ns = (self.window_start - self.start).as_nanos() as f64;
        let end_ns = (self.window_end - self.start).as_nanos() as f64;
        let mut first = (first_ns / self.interval_ns).ceil() as u64;
        let mut end = (end_ns / self.interval_ns).ceil() as u64;
        // float rounding: settle on the exact slot times
        while first > 0 && self.slot_time(first - 1) >= self.window_start {
            first -= 1;
        }
        while self.slot_time(first) < self.window_start {
            first += 1;
        }
        while end > first && self.slot_time(end - 1) >= self.window_end {
            end -= 1;
        }
        while self.slot_time(end) < self.window_end {
            end += 1;
        }
        (first, end)
    }

    fn in_window(&self, t: Instant) -> bool {
        t >= self.window_start && t < self.window_end
    }
}

#[derive(Debug, Default)]
struct Tally {
    /// Nanoseconds, successful requests recorded in the window.
    latencies: Vec<u64>,
    /// Open loop: actual send minus scheduled send, nanoseconds.
    send_lag: Vec<u64>,
    completed_in_window: u64,
    sent_in_window: u64,
    http_errors: BTreeMap<u16, u64>,
    timeouts: u64,
    io_errors: u64,
    last_io_error: Option<String>,
    reconnects: u64,
    retries: u64,
}

fn worker(
    plan: Plan,
    requests: Arc<Vec<Vec<u8>>>,
    target: SocketAddr,
    timeout: Duration,
    next_slot: Arc<AtomicU64>,
    first_body: usize,
) -> Tally {
    let mut t = Tally::default();
    let mut conn = Conn::new(target, timeout);
    // open the connection before the clock starts
    if conn.connect().is_err() {
        conn.stream = None;
    }
    sleep_until(plan.start);
    let mut k = first_body;
    loop {
        let (scheduled, body) = match plan.mode {
            Mode::Closed => {
                let now = Instant::now();
                if now >= plan.window_end {
                    break;
                }
                k += 1;
                (now, k)
            }
            Mode::Open => {
                let i = next_slot.fetch_add(1, Ordering::Relaxed);
                let at = plan.slot_time(i);
                if at >= plan.window_end || Instant::now() >= plan.window_end {
                    break;
                }
                sleep_until(at);
                (at, i as usize)
            }
        };
        let sent = Instant::now();
        let recorded = plan.in_window(scheduled);
        if recorded {
            t.sent_in_window += 1;
            if plan.mode == Mode::Open {
                t.send_lag
                    .push(nanos(sent.saturating_duration_since(scheduled)));
            }
        }
        let result = conn.request(&requests[body % requests.len()], false);
        let done = Instant::now();
        if plan.in_window(done) {
            t.completed_in_window += 1;
        }
        if !recorded {
            continue;
        }
        match result {
            Ok((status, _)) if (200..300).contains(&status) => {
                t.latencies
                    .push(nanos(done.saturating_duration_since(scheduled)));
            }
            Ok((status, _)) => *t.http_errors.entry(status).or_default() += 1,
            Err(Failure::Timeout) => t.timeouts += 1,
            Err(Failure::Io(e)) => {
                t.io_errors += 1;
                t.last_io_error = Some(e);
            }
        }
    }
    t.reconnects = conn.reconnects;
    t.retries = conn.retries;
    t
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        thread::sleep(t - now);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Nearest-rank percentile of sorted nanoseconds, in milliseconds.
fn percentile_ms(sorted: &[u64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64 / 1e6)
}

fn summary_ms(sorted: &[u64]) -> Value {
    let mean = if sorted.is_empty() {
        None
    } else {
        Some(sorted.iter().map(|&v| v as f64).sum::<f64>() / sorted.len() as f64 / 1e6)
    };
    json!({
        "p50": percentile_ms(sorted, 0.50),
        "p90": percentile_ms(sorted, 0.90),
        "p99": percentile_ms(sorted, 0.99),
        "p999": percentile_ms(sorted, 0.999),
        "max": sorted.last().map(|&v| v as f64 / 1e6),
        "mean": mean,
    })
}

/// User + system CPU seconds of this process (all threads), Linux only.
fn process_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // after the command: state is field 3, utime 14 and stime 15 (1-based, whole line)
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn run(args: &Args) -> Result<Value> {
    if args.connections == 0 {
        bail!("--connections must be at least 1");
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        bail!("--duration must be a positive number of seconds");
    }
    if !(args.warmup >= 0.0 && args.warmup.is_finite()) {
        bail!("--warmup must be zero or more seconds");
    }
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    let interval_ns = match (args.mode, args.rate) {
        (Mode::Open, Some(r)) if r > 0.0 && r.is_finite() => 1e9 / r,
        (Mode::Open, _) => bail!("--mode open needs --rate, a positive number of requests/s"),
        (Mode::Closed, Some(_)) => bail!("--rate is for --mode open"),
        (Mode::Closed, None) => 0.0,
    };
    let target = parse_url(&args.url)?;
    let bodies = read_bodies(&args.bodies)?;
    let requests = Arc::new(build_requests(
        &target,
        &args.content_type,
        &args.headers,
        &bodies,
    )?);
    let timeout = Duration::from_secs_f64(args.timeout);

    // One probe request: a misconfigured run fails here, with the server's answer.
    let mut probe = Conn::new(target.addr, timeout);
    let (probe_status, probe_body) = match probe.request(&requests[0], true) {
        Ok(r) => r,
        Err(Failure::Timeout) => bail!("{}: the probe request timed out", args.url),
        Err(Failure::Io(e)) => bail!("{}: the probe request failed: {e}", args.url),
    };
    let probe_text = String::from_utf8_lossy(&probe_body);
    let probe_excerpt: String = probe_text.chars().take(400).collect();
    if !(200..300).contains(&probe_status) {
        bail!(
            "{}: the probe request got HTTP {probe_status}: {probe_excerpt}",
            args.url
        );
    }
    drop(probe);

    let start = Instant::now() + Duration::from_millis(200);
    let window_start = start + Duration::from_secs_f64(args.warmup);
    let window_end = window_start + Duration::from_secs_f64(args.duration);
    let plan = Plan {
        mode: args.mode,
        start,
        window_start,
        window_end,
        interval_ns,
    };
    let next_slot = Arc::new(AtomicU64::new(0));
    let stride = (requests.len() / args.connections).max(1);
    let handles: Vec<_> = (0..args.connections)
        .map(|c| {
            let requests = requests.clone();
            let next_slot = next_slot.clone();
            let addr = target.addr;
            thread::Builder::new()
                .name(format!("conn-{c}"))
                .spawn(move || worker(plan, requests, addr, timeout, next_slot, c * stride))
        })
        .collect::<std::io::Result<_>>()
        .context("starting the connection threads")?;
    sleep_until(window_start);
    let cpu_start = process_cpu_s();
    sleep_until(window_end);
    let cpu_end = process_cpu_s();
    let mut all = Tally::default();
    let handles: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
    let stopped = Instant::now();
    for h in handles {
        let t = h.map_err(|_| anyhow::anyhow!("a connection thread panicked"))?;
        all.latencies.extend(t.latencies);
        all.send_lag.extend(t.send_lag);
        all.completed_in_window += t.completed_in_window;
        all.sent_in_window += t.sent_in_window;
        for (s, n) in t.http_errors {
            *all.http_errors.entry(s).or_default() += n;
        }
        all.timeouts += t.timeouts;
        all.io_errors += t.io_errors;
        all.reconnects += t.reconnects;
        all.retries += t.retries;
        if t.last_io_error.is_some() {
            all.last_io_error = t.last_io_error;
        }
    }
    all.latencies.sort_unstable();
    all.send_lag.sort_unstable();

    let throughput = all.completed_in_window as f64 / args.duration;
    let http_errors: u64 = all.http_errors.values().sum();
    let error_count = http_errors + all.timeouts + all.io_errors;
    let mut with_unsent = Value::Null;
    let (offered, scheduled, unsent, overloaded) = match args.mode {
        Mode::Open => {
            let rate = 1e9 / interval_ns;
            let (first, end) = plan.window_slots();
            let scheduled = end - first;
            let unsent = scheduled.saturating_sub(all.sent_in_window);
            let overloaded = unsent > 0 || throughput < 0.95 * rate;
            if unsent > 0 {
                // Slots are taken in order, so the unsent ones are the window's last; each
                // would have waited at least until the run stopped.
                let mut lb = all.latencies.clone();
                lb.extend(
                    (end - unsent..end)
                        .map(|i| nanos(stopped.saturating_duration_since(plan.slot_time(i)))),
                );
                lb.sort_unstable();
                with_unsent = summary_ms(&lb);
            }
            (Some(rate), Some(scheduled), Some(unsent), Some(overloaded))
        }
        Mode::Closed => (None, None, None, None),
    };
    let client_cpu_s = match (cpu_start, cpu_end) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    Ok(json!({
        "tool": "capstan-bench-serve",
        "label": args.label,
        "url": args.url,
        "mode": match args.mode { Mode::Closed => "closed", Mode::Open => "open" },
        "connections": args.connections,
        "threads": args.connections,
        "bodies": requests.len(),
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "offered_rps": offered,
        "scheduled": scheduled,
        "sent": all.sent_in_window,
        "unsent": unsent,
        "overloaded": overloaded,
        "completed": all.completed_in_window,
        "ok": all.latencies.len(),
        "throughput_rps": throughput,
        "latency_ms": summary_ms(&all.latencies),
        "latency_ms_lower_bound_with_unsent": with_unsent,
        "latency_from": match args.mode {
            Mode::Closed => "actual send",
            Mode::Open => "scheduled send",
        },
        "send_lag_ms": match args.mode {
            Mode::Open => summary_ms(&all.send_lag),
            Mode::Closed => Value::Null,
        },
        "errors": error_count,
        "http_errors": all.http_errors.iter().map(|(s, n)| (s.to_string(), json!(n)))
            .collect::<serde_json::Map<_, _>>(),
        "timeouts": all.timeouts,
        "io_errors": all.io_errors,
        "last_io_error": all.last_io_error,
        "reconnects": all.reconnects,
        "retries": all.retries,
        "client_cpu_s": client_cpu_s,
        "client_cpu_cores": client_cpu_s.map(|c| c / args.duration),
        "probe_status": probe_status,
        "probe_body": probe_excerpt,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn parses_length_chunked_and_close() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1";
        assert_eq!(
            parse_response(r, false).ok().flatten(),
            Some(Parsed {
                status: 200,
                close: false,
                body_start: 38,
                end: 40
            })
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok", false).ok(),
            Some(None)
        );
        let c = b"HTTP/1.1 500 X\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
                  3\r\nabc\r\n0\r\n\r\n";
        let p = parse_response(c, false).ok().flatten();
        assert_eq!(
            p.as_ref().map(|p| (p.status, p.close, p.end)),
            Some((500, true, c.len()))
        );
        let partial = &c[..c.len() - 2];
        assert_eq!(parse_response(partial, false).ok(), Some(None));
        let eof = b"HTTP/1.0 200 OK\r\n\r\nbody";
        assert_eq!(parse_response(eof, false).ok(), Some(None));
        assert_eq!(
            parse_response(eof, true)
                .ok()
                .flatten()
                .map(|p| (p.close, p.end)),
            Some((true, eof.len()))
        );
        assert!(parse_response(b"garbage\r\n\r\n", false).is_err());
    }

    #[test]
    fn parses_urls() {
        let t = parse_url("http://127.0.0.1:8080/v1/models/m/predict").ok();
        assert_eq!(
            t.map(|t| (t.addr.port(), t.host, t.path)),
            Some((
                8080,
                "127.0.0.1:8080".to_string(),
                "/v1/models/m/predict".to_string()
            ))
        );
        assert!(parse_url("https://x/").is_err());
    }

    /// A tiny keep-alive server on loopback whose second response closes the connection.
    #[test]
    fn keeps_alive_and_reconnects() -> Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = thread::spawn(move || {
            let mut served = 0u32;
            for stream in listener.incoming().take(2) {
                let Ok(mut s) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                let mut closed = false;
                while !closed {
                    // the test bodies are 2 bytes
                    while let Some(i) = find(&buf, b"\r\n\r\n").filter(|i| buf.len() >= i + 6) {
                        buf.drain(..i + 6);
                        served += 1;
                        // the second response closes its connection
                        closed = served == 2;
                        let reply = if closed {
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                        } else {
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                        };
                        if s.write_all(reply.as_bytes()).is_err() || closed {
                            break;
                        }
                    }
                    if closed {
                        break;
                    }
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            }
            served
        });
        let target = parse_url(&format!("http://{addr}/p"))?;
        let reqs = build_requests(&target, "application/json", &[], &[b"{}".to_vec()])?;
        let mut conn = Conn::new(addr, Duration::from_secs(5));
        for i in 0..3 {
            let r = conn.request(&reqs[0], true);
            assert!(
                matches!(&r, Ok((200, b)) if b == b"ok"),
                "request {i}: {r:?}"
            );
        }
        drop(conn);
        assert_eq!(server.join().ok(), Some(3));
        Ok(())
    }

    /// A keep-alive echo server on loopback, one thread per connection, for `run`.
    fn spawn_ok_server() -> Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        while let Some(i) = find(&buf, b"\r\n\r\n").filter(|i| buf.len() >= i + 6) {
                            buf.drain(..i + 6);
                            let reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                            if s.write_all(reply.as_bytes()).is_err() {
                                return;
                            }
                        }
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                });
            }
        });
        Ok(addr)
    }

    #[test]
    fn closed_and_open_loops_run_against_a_local_server() -> Result<()> {
        let addr = spawn_ok_server()?;
        let bodies =
            std::env::temp_dir().join(format!("capstan-bench-serve-{}.jsonl", std::process::id()));
        std::fs::write(&bodies, "{}\n\n{}\n")?;
        let mut args = Args::parse_from([
            "capstan-bench-serve",
            "--url",
            &format!("http://{addr}/p"),
            "--bodies",
            &bodies.display().to_string(),
            "--connections",
            "2",
            "--duration",
            "0.3",
            "--warmup",
            "0.1",
        ]);
        let closed = run(&args)?;
        assert_eq!(closed["errors"], 0, "{closed}");
        assert_eq!(closed["bodies"], 2, "{closed}");
        assert!(
            closed["throughput_rps"].as_f64().is_some_and(|r| r > 0.0),
            "{closed}"
        );
        assert!(closed["latency_ms"]["p99"].as_f64().is_some(), "{closed}");

        args.mode = Mode::Open;
        args.rate = Some(200.0);
        let open = run(&args)?;
        std::fs::remove_file(&bodies)?;
        assert_eq!(open["errors"], 0, "{open}");
        assert_eq!(open["scheduled"], 60, "{open}");
        assert!(open["sent"].as_u64().is_some_and(|n| n > 0), "{open}");
        assert!(open["send_lag_ms"]["p50"].as_f64().is_some(), "{open}");
        Ok(())
    }

    #[test]
    fn window_slots_are_those_scheduled_inside_the_window() {
        let start = Instant::now();
        let plan = Plan {
            mode: Mode::Open,
            start,
            window_start: start + Duration::from_secs(1),
            window_end: start + Duration::from_secs(2),
            interval_ns: 1e7,
        };
        assert_eq!(plan.window_slots(), (100, 200));
        let odd = Plan {
            interval_ns: 3e7,
            ..plan
        };
        // 34 * 30 ms = 1.02 s is the first slot inside, 66 * 30 ms = 1.98 s the last
        assert_eq!(odd.window_slots(), (34, 67));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1_000_000).collect();
        assert_eq!(percentile_ms(&v, 0.5), Some(50.0));
        assert_eq!(percentile_ms(&v, 0.99), Some(99.0));
        assert_eq!(percentile_ms(&[], 0.5), None);
    }
}
