//! Prometheus metrics, rendered by hand in the text exposition format 0.0.4.
//!
//! One [`Metrics`] per server, shared through an `Arc`. Updates take one short lock (a
//! request touches a handful of series at once); the log queue depth is an atomic.
//! Families always print their `# HELP` / `# TYPE` lines, even before a first sample.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use capstan_learn::Task;

use crate::model::Scored;
use crate::rollout::ShadowSnapshot;

/// Request latency buckets, seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// Prediction log commit latency buckets, seconds.
const COMMIT_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
/// Classification score buckets (probabilities).
const SCORE_BUCKETS: &[f64] = &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// A metric family: name, help, type, label names and, for histograms, bucket bounds.
#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    buckets: &'static [f64],
}

const fn family(
    name: &'static str,
    help: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
) -> Family {
    Family {
        name,
        help,
        kind,
        labels,
        buckets: &[],
    }
}

const MVR: &[&str] = &["model", "version", "role"];

const UP: Family = family("capstan_up", "1 while the server runs.", Kind::Gauge, &[]);
const BUILD_INFO: Family = family(
    "capstan_build_info",
    "The capstan version serving; always 1.",
    Kind::Gauge,
    &["version"],
);
const REQUESTS: Family = family(
    "capstan_requests_total",
    "Scoring requests by the version that answered and outcome (ok or error).",
    Kind::Counter,
    &["model", "version", "role", "status"],
);
const REQUEST_DURATION: Family = Family {
    buckets: LATENCY_BUCKETS,
    ..family(
        "capstan_request_duration_seconds",
        "Time to parse and score a request, by the version that answered.",
        Kind::Histogram,
        MVR,
    )
};
const ROWS: Family = family("capstan_rows_total", "Rows scored.", Kind::Counter, MVR);
const SCORE: Family = Family {
    buckets: SCORE_BUCKETS,
    ..family(
        "capstan_prediction_score",
        "Classification scores (P(positive) for binary, the predicted class's probability for multiclass).",
        Kind::Histogram,
        MVR,
    )
};
const VALUE: Family = family(
    "capstan_prediction_value",
    "Regression predictions (sum and count; the mean is sum / count).",
    Kind::Summary,
    MVR,
);
const SHADOW_AGREEMENT: Family = family(
    "capstan_shadow_agreement_ratio",
    "Share of shadow rows whose prediction agrees with the champion's.",
    Kind::Gauge,
    &["model", "version"],
);
const SHADOW_ROWS: Family = family(
    "capstan_shadow_compared_rows",
    "Rows compared between the shadow and the champion since the shadow was deployed.",
    Kind::Gauge,
    &["model", "version"],
);
const CANARY_FALLBACKS: Family = family(
    "capstan_canary_fallbacks_total",
    "Canary requests that failed and were answered by the champion.",
    Kind::Counter,
    &["model", "version"],
);
const ROLLBACKS: Family = family(
    "capstan_rollbacks_total",
    "Automatic canary rollbacks.",
    Kind::Counter,
    &["model"],
);
const RULE_VIOLATIONS: Family = family(
    "capstan_rule_violations_total",
    "Scored rows that broke a row rule of the version's bundle (counted; the row is still scored).",
    Kind::Counter,
    &["model", "version", "column", "rule"],
);
const LOG_WRITTEN: Family = family(
    "capstan_prediction_log_written_total",
    "Prediction log records committed.",
    Kind::Counter,
    &[],
);
const LOG_DROPPED: Family = family(
    "capstan_prediction_log_dropped_total",
    "Prediction log records dropped because the queue was full or closed.",
    Kind::Counter,
    &[],
);
const LOG_FAILED: Family = family(
    "capstan_prediction_log_failed_total",
    "Prediction log records whose commit failed after retries.",
    Kind::Counter,
    &[],
);
const LOG_BATCHES: Family = family(
    "capstan_prediction_log_batches_total",
    "Prediction log commits (one transaction each).",
    Kind::Counter,
    &[],
);
const LOG_COMMIT: Family = Family {
    buckets: COMMIT_BUCKETS,
    ..family(
        "capstan_prediction_log_commit_duration_seconds",
        "Time to commit one batch of the prediction log.",
        Kind::Histogram,
        &[],
    )
};
const LOG_QUEUE_DEPTH: Family = family(
    "capstan_prediction_log_queue_depth",
    "Prediction log records waiting to be committed.",
    Kind::Gauge,
    &[],
);
const HTTP_REQUESTS: Family = family(
    "capstan_http_requests_total",
    "HTTP requests by route template, method and status code.",
    Kind::Counter,
    &["path_template", "method", "status"],
);
const HTTP_DURATION: Family = Family {
    buckets: LATENCY_BUCKETS,
    ..family(
        "capstan_http_request_duration_seconds",
        "HTTP request handling time by route template and method.",
        Kind::Histogram,
        &["path_template", "method"],
    )
};

/// Every family, in rendering order.
const FAMILIES: &[&Family] = &[
    &UP,
    &BUILD_INFO,
    &REQUESTS,
    &REQUEST_DURATION,
    &ROWS,
    &SCORE,
    &VALUE,
    &SHADOW_AGREEMENT,
    &SHADOW_ROWS,
    &CANARY_FALLBACKS,
    &ROLLBACKS,
    &RULE_VIOLATIONS,
    &LOG_WRITTEN,
    &LOG_DROPPED,
    &LOG_FAILED,
    &LOG_BATCHES,
    &LOG_COMMIT,
    &LOG_QUEUE_DEPTH,
    &HTTP_REQUESTS,
    &HTTP_DURATION,
];

#[derive(Debug, Clone)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &[f64]) -> Histogram {
        Histogram {
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, bounds: &[f64], value: f64) {
        // `le` is inclusive; NaN lands in +Inf.
        let idx = bounds
            .iter()
            .position(|&b| value <= b)
            .unwrap_or(bounds.len());
        self.counts[idx] += 1;
        self.sum += value;
        self.count += 1;
    }
}

type Labels = Vec<String>;

/// Counts of the prediction log, for tests and status pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogCounts {
    pub written: u64,
    pub dropped: u64,
    pub failed: u64,
    pub batches: u64,
    pub queue_depth: u64,
}

/// The server's metrics. See the module docs.
#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Inner>,
    log_queue_depth: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            inner: Mutex::new(Inner::default()),
            log_queue_depth: AtomicI64::new(0),
        };
        m.with(|s| {
            set(s, &UP, Vec::new(), 1.0);
            set(
                s,
                &BUILD_INFO,
                vec![env!("CARGO_PKG_VERSION").to_string()],
                1.0,
            );
        });
        m
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// One request scored by `model` v`version` in `role` (`champion`, `canary`, `shadow`,
    /// `direct`): the request count, its latency, its rows and their scores.
    pub fn scored(
        &self,
        model: &str,
        version: u32,
        role: &str,
        scored: &Scored,
        latency: Duration,
    ) {
        let mvr = || vec![model.to_string(), version.to_string(), role.to_string()];
        self.with(|s| {
            inc(
                s,
                &REQUESTS,
                vec![
                    model.to_string(),
                    version.to_string(),
                    role.to_string(),
                    "ok".to_string(),
                ],
                1.0,
            );
            observe(s, &REQUEST_DURATION, mvr(), latency.as_secs_f64());
            inc(s, &ROWS, mvr(), scored.rows.len() as f64);
            match scored.task {
                Task::Regression => {
                    let sum: f64 = scored.rows.iter().map(|r| r.score).sum();
                    summary(s, &VALUE, mvr(), sum, scored.rows.len() as u64);
                }
                Task::Binary | Task::Multiclass { .. } => {
                    let h = s.histogram(&SCORE, mvr());
                    for r in &scored.rows {
                        h.observe(SCORE.buckets, r.score);
                    }
                }
            }
        });
    }

    /// One scoring request that failed in `model` v`version` (parse or scoring error).
    pub fn scoring_error(&self, model: &str, version: u32, role: &str) {
        self.with(|s| {
            inc(
                s,
                &REQUESTS,
                vec![
                    model.to_string(),
                    version.to_string(),
                    role.to_string(),
                    "error".to_string(),
                ],
                1.0,
            );
        });
    }

    /// Feeds the shadow agreement gauge of `model` v`version` (the shadow version).
    pub fn shadow_agreement(&self, model: &str, version: u32, snapshot: &ShadowSnapshot) {
        let labels = vec![model.to_string(), version.to_string()];
        self.with(|s| {
            if let Some(rate) = snapshot.agreement_rate {
                set(s, &SHADOW_AGREEMENT, labels.clone(), rate);
            }
            set(s, &SHADOW_ROWS, labels, snapshot.n_rows as f64);
        });
    }

    pub fn canary_fallback(&self, model: &str, version: u32) {
        self.with(|s| {
            inc(
                s,
                &CANARY_FALLBACKS,
                vec![model.to_string(), version.to_string()],
                1.0,
            );
        });
    }

    /// Rows of one request that broke row rules of `model` v`version`: (column, rule, rows).
    pub fn rule_violations(&self, model: &str, version: u32, counts: &[(&str, &str, u64)]) {
        if counts.is_empty() {
            return;
        }
        self.with(|s| {
            for &(column, rule, n) in counts {
                let labels = vec![
                    model.to_string(),
                    version.to_string(),
                    column.to_string(),
                    rule.to_string(),
                ];
                inc(s, &RULE_VIOLATIONS, labels, n as f64);
            }
        });
    }

    pub fn rollback(&self, model: &str) {
        self.with(|s| inc(s, &ROLLBACKS, vec![model.to_string()], 1.0));
    }

    /// One HTTP request, by route template (`/v1/models/{name}/predict`, never the raw
    /// path, so the label set stays bounded), method and status.
    pub fn http(&self, path_template: &str, method: &str, status: u16, elapsed: Duration) {
        self.with(|s| {
            inc(
                s,
                &HTTP_REQUESTS,
                vec![
                    path_template.to_string(),
                    method.to_string(),
                    status.to_string(),
                ],
                1.0,
            );
            observe(
                s,
                &HTTP_DURATION,
                vec![path_template.to_string(), method.to_string()],
                elapsed.as_secs_f64(),
            );
        });
    }

    /// `n` records committed to the prediction log in one batch that took `commit`.
    pub fn log_written(&self, n: usize, commit: Duration) {
        self.with(|s| {
            inc(s, &LOG_WRITTEN, Vec::new(), n as f64);
            inc(s, &LOG_BATCHES, Vec::new(), 1.0);
            observe(s, &LOG_COMMIT, Vec::new(), commit.as_secs_f64());
        });
    }

    /// `n` records dropped (queue full or closed).
    pub fn log_dropped(&self, n: usize) {
        self.with(|s| inc(s, &LOG_DROPPED, Vec::new(), n as f64));
    }

    /// `n` records whose commit failed after retries.
    pub fn log_failed(&self, n: usize) {
        self.with(|s| inc(s, &LOG_FAILED, Vec::new(), n as f64));
    }

    /// `n` records entered the log queue.
    pub fn log_enqueued(&self, n: usize) {
        self.log_queue_depth
            .fetch_add(i64::try_from(n).unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    /// `n` records left the log queue (taken by the writer).
    pub fn log_dequeued(&self, n: usize) {
        self.log_queue_depth
            .fetch_sub(i64::try_from(n).unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    pub fn log_counts(&self) -> LogCounts {
        let value = |s: &Inner, f: &Family| {
            s.values
                .get(f.name)
                .and_then(|m| m.get(&Vec::new()))
                .map_or(0, |v| *v as u64)
        };
        let (written, dropped, failed, batches) = self.with(|s| {
            (
                value(s, &LOG_WRITTEN),
                value(s, &LOG_DROPPED),
                value(s, &LOG_FAILED),
                value(s, &LOG_BATCHES),
            )
        });
        LogCounts {
            written,
            dropped,
            failed,
            batches,
            queue_depth: self.queue_depth(),
        }
    }

    fn queue_depth(&self) -> u64 {
        u64::try_from(self.log_queue_depth.load(Ordering::Relaxed).max(0)).unwrap_or(0)
    }

    /// Everything, in the Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let depth = self.queue_depth();
        let mut out = String::with_capacity(8192);
        self.with(|s| {
            for f in FAMILIES {
                let _ = writeln!(out, "# HELP {} {}", f.name, escape_help(f.help));
                let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.name());
                if f.name == LOG_QUEUE_DEPTH.name {
                    let _ = writeln!(out, "{} {depth}", f.name);
                    continue;
                }
                s.render_family(&mut out, f);
            }
        });
        out
    }
}

/// The series of every family, by label values (in the family's label order).
#[derive(Debug, Default)]
struct Inner {
    /// Counters and gauges.
    values: HashMap<&'static str, BTreeMap<Labels, f64>>,
    histograms: HashMap<&'static str, BTreeMap<Labels, Histogram>>,
    /// Summaries without quantiles: (sum, count).
    summaries: HashMap<&'static str, BTreeMap<Labels, (f64, u64)>>,
}

impl Inner {
    fn value(&mut self, f: &'static Family, labels: Labels) -> &mut f64 {
        debug_assert_eq!(labels.len(), f.labels.len(), "{}", f.name);
        self.values
            .entry(f.name)
            .or_default()
            .entry(labels)
            .or_insert(0.0)
    }

    fn histogram(&mut self, f: &'static Family, labels: Labels) -> &mut Histogram {
        debug_assert_eq!(labels.len(), f.labels.len(), "{}", f.name);
        self.histograms
            .entry(f.name)
            .or_default()
            .entry(labels)
            .or_insert_with(|| Histogram::new(f.buckets))
    }

    fn render_family(&self, out: &mut String, f: &Family) {
        match f.kind {
            Kind::Counter | Kind::Gauge => {
                for (values, v) in self.values.get(f.name).into_iter().flatten() {
                    let labels = label_text(f.labels, values, None);
                    let _ = writeln!(out, "{}{labels} {}", f.name, number(*v));
                }
            }
            Kind::Summary => {
                for (values, (sum, count)) in self.summaries.get(f.name).into_iter().flatten() {
                    let labels = label_text(f.labels, values, None);
                    let _ = writeln!(out, "{}_sum{labels} {}", f.name, number(*sum));
                    let _ = writeln!(out, "{}_count{labels} {count}", f.name);
                }
            }
            Kind::Histogram => {
                for (values, h) in self.histograms.get(f.name).into_iter().flatten() {
                    let mut cumulative = 0u64;
                    for (i, c) in h.counts.iter().enumerate() {
                        cumulative += c;
                        let le = f
                            .buckets
                            .get(i)
                            .map_or_else(|| "+Inf".to_string(), |b| number(*b));
                        let labels = label_text(f.labels, values, Some(&le));
                        let _ = writeln!(out, "{}_bucket{labels} {cumulative}", f.name);
                    }
                    let labels = label_text(f.labels, values, None);
                    let _ = writeln!(out, "{}_sum{labels} {}", f.name, number(h.sum));
                    let _ = writeln!(out, "{}_count{labels} {}", f.name, h.count);
                }
            }
        }
    }
}

fn inc(s: &mut Inner, f: &'static Family, labels: Labels, by: f64) {
    *s.value(f, labels) += by;
}

fn set(s: &mut Inner, f: &'static Family, labels: Labels, to: f64) {
    *s.value(f, labels) = to;
}

fn observe(s: &mut Inner, f: &'static Family, labels: Labels, value: f64) {
    s.histogram(f, labels).observe(f.buckets, value);
}

fn summary(s: &mut Inner, f: &'static Family, labels: Labels, add_sum: f64, add_count: u64) {
    let entry = s
        .summaries
        .entry(f.name)
        .or_default()
        .entry(labels)
        .or_insert((0.0, 0));
    entry.0 += add_sum;
    entry.1 += add_count;
}

/// `{a="x",b="y"}` (with `le` last when given), or nothing for no labels.
fn label_text(names: &[&str], values: &[String], le: Option<&str>) -> String {
    if names.is_empty() && le.is_none() {
        return String::new();
    }
    let mut parts: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape_label(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    format!("{{{}}}", parts.join(","))
}

/// Label values escape `\`, `"` and newline.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text escapes `\` and newline.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as Prometheus reads it (`+Inf`, `-Inf`, `NaN`, else Rust's shortest
/// round-trip decimal).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Prediction, RowOutput};

    /// One parsed sample line.
    #[derive(Debug, Clone, PartialEq)]
    struct Sample {
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    }

    /// A strict parser for the sample lines of the text format: `name{l="v",...} value`.
    fn parse(text: &str) -> Vec<Sample> {
        let mut samples = Vec::new();
        let mut typed = std::collections::HashSet::new();
        for line in text.lines() {
            assert!(!line.is_empty(), "empty line in:\n{text}");
            if let Some(rest) = line.strip_prefix("# ") {
                let mut words = rest.splitn(3, ' ');
                let keyword = words.next().unwrap();
                let name = words.next().unwrap();
                assert!(is_name(name), "{line}");
                match keyword {
                    "HELP" => {}
                    "TYPE" => {
                        let t = words.next().unwrap();
                        assert!(["counter", "gauge", "histogram", "summary"].contains(&t));
                        assert!(typed.insert(name.to_string()), "two TYPE lines: {name}");
                    }
                    _ => panic!("unknown comment: {line}"),
                }
                continue;
            }
            let name_end = line.find(['{', ' ']).unwrap();
            let name = &line[..name_end];
            assert!(is_name(name), "{line}");
            let mut rest = &line[name_end..];
            let mut labels = Vec::new();
            if rest.starts_with('{') {
                let mut chars = rest[1..].char_indices();
                loop {
                    // label name
                    let mut lname = String::new();
                    let mut c = chars.next().unwrap();
                    if c.1 == '}' {
                        rest = &rest[1 + c.0 + 1..];
                        break;
                    }
                    while c.1 != '=' {
                        lname.push(c.1);
                        c = chars.next().unwrap();
                    }
                    assert!(is_name(&lname), "label {lname:?} in {line}");
                    assert_eq!(chars.next().unwrap().1, '"', "{line}");
                    let mut value = String::new();
                    loop {
                        let (_, ch) = chars.next().unwrap();
                        match ch {
                            '"' => break,
                            '\\' => match chars.next().unwrap().1 {
                                '\\' => value.push('\\'),
                                '"' => value.push('"'),
                                'n' => value.push('\n'),
                                other => panic!("bad escape \\{other} in {line}"),
                            },
                            '\n' => panic!("raw newline"),
                            ch => value.push(ch),
                        }
                    }
                    labels.push((lname, value));
                    let (i, sep) = chars.next().unwrap();
                    match sep {
                        ',' => {}
                        '}' => {
                            rest = &rest[1 + i + 1..];
                            break;
                        }
                        other => panic!("unexpected {other:?} in {line}"),
                    }
                }
            }
            let value_text = rest.strip_prefix(' ').unwrap();
            assert!(
                !value_text.contains(' '),
                "timestamps are not written: {line}"
            );
            let value = match value_text {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                "NaN" => f64::NAN,
                v => v.parse().unwrap(),
            };
            let family = name
                .strip_suffix("_bucket")
                .or_else(|| name.strip_suffix("_sum"))
                .or_else(|| name.strip_suffix("_count"))
                .filter(|f| typed.contains(*f))
                .unwrap_or(name);
            assert!(typed.contains(family), "sample before its TYPE: {line}");
            samples.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
        samples
    }

    fn is_name(s: &str) -> bool {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    fn label<'a>(s: &'a Sample, name: &str) -> Option<&'a str> {
        s.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn binary(scores: &[f64]) -> Scored {
        Scored {
            task: Task::Binary,
            classes: vec!["0".into(), "1".into()],
            rows: scores
                .iter()
                .map(|&s| RowOutput {
                    prediction: Prediction::Label(if s >= 0.5 { "1" } else { "0" }.into()),
                    probabilities: Some(vec![1.0 - s, s]),
                    score: s,
                })
                .collect(),
        }
    }

    #[test]
    fn fresh_metrics_render_and_parse() {
        let m = Metrics::new();
        let text = m.render();
        let samples = parse(&text);
        assert!(
            samples
                .iter()
                .any(|s| s.name == "capstan_up" && s.value == 1.0)
        );
        let info = samples
            .iter()
            .find(|s| s.name == "capstan_build_info")
            .unwrap();
        assert_eq!(label(info, "version"), Some(env!("CARGO_PKG_VERSION")));
        for f in FAMILIES {
            assert!(text.contains(&format!("# TYPE {} ", f.name)), "{}", f.name);
        }
    }

    #[test]
    fn histograms_are_cumulative_and_counted() {
        let m = Metrics::new();
        let latencies_ms = [0.1, 0.7, 3.0, 3.0, 40.0, 900.0, 5000.0];
        for (i, &ms) in latencies_ms.iter().enumerate() {
            let scores: Vec<f64> = (0..=i).map(|j| j as f64 / 7.0).collect();
            m.scored(
                "churn",
                3,
                "champion",
                &binary(&scores),
                Duration::from_secs_f64(ms / 1000.0),
            );
        }
        let samples = parse(&m.render());
        let of = |name: &str| -> Vec<&Sample> {
            samples
                .iter()
                .filter(|s| s.name == name && label(s, "model") == Some("churn"))
                .collect()
        };
        for (family, n_obs) in [
            ("capstan_request_duration_seconds", latencies_ms.len()),
            ("capstan_prediction_score", 28),
        ] {
            let buckets = of(&format!("{family}_bucket"));
            assert!(!buckets.is_empty());
            let mut last = 0.0;
            let mut last_le = f64::NEG_INFINITY;
            for b in &buckets {
                assert!(b.value >= last, "{family} not cumulative");
                let le: f64 = match label(b, "le").unwrap() {
                    "+Inf" => f64::INFINITY,
                    v => v.parse().unwrap(),
                };
                assert!(le > last_le, "{family} buckets out of order");
                last = b.value;
                last_le = le;
            }
            assert_eq!(last_le, f64::INFINITY);
            let count = of(&format!("{family}_count"))[0].value;
            assert_eq!(count, n_obs as f64, "{family}");
            assert_eq!(last, count, "{family}: +Inf bucket == count");
        }
        // Exact bucket placement (le is inclusive).
        let dur = of("capstan_request_duration_seconds_bucket");
        let at = |le: &str| {
            dur.iter()
                .find(|s| label(s, "le") == Some(le))
                .unwrap()
                .value
        };
        assert_eq!(at("0.0005"), 1.0);
        assert_eq!(at("0.001"), 2.0);
        assert_eq!(at("0.005"), 4.0);
        assert_eq!(at("1"), 6.0);
        assert_eq!(at("2.5"), 6.0);
        assert_eq!(at("+Inf"), 7.0);
        let rows = of("capstan_rows_total");
        assert_eq!(rows[0].value, 28.0);
        let sum = of("capstan_request_duration_seconds_sum")[0].value;
        assert!((sum - latencies_ms.iter().sum::<f64>() / 1000.0).abs() < 1e-9);
    }

    #[test]
    fn regression_values_are_a_sum_and_count() {
        let m = Metrics::new();
        let scored = Scored {
            task: Task::Regression,
            classes: Vec::new(),
            rows: [120.5, -3.0]
                .iter()
                .map(|&v| RowOutput {
                    prediction: Prediction::Value(v),
                    probabilities: None,
                    score: v,
                })
                .collect(),
        };
        m.scored("demand", 1, "canary", &scored, Duration::from_millis(1));
        let samples = parse(&m.render());
        let get = |n: &str| samples.iter().find(|s| s.name == n).unwrap().value;
        assert_eq!(get("capstan_prediction_value_sum"), 117.5);
        assert_eq!(get("capstan_prediction_value_count"), 2.0);
        assert!(
            !samples
                .iter()
                .any(|s| s.name == "capstan_prediction_score_count")
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        let nasty = "a\"b\\c\nd";
        m.rollback(nasty);
        m.http("/v1/models/{name}/predict", "POST", 200, Duration::ZERO);
        m.http("/v1/models/{name}/predict", "POST", 200, Duration::ZERO);
        m.http("unmatched", "GET", 404, Duration::ZERO);
        let text = m.render();
        assert!(
            text.contains(r#"capstan_rollbacks_total{model="a\"b\\c\nd"} 1"#),
            "{text}"
        );
        let samples = parse(&text);
        let rb = samples
            .iter()
            .find(|s| s.name == "capstan_rollbacks_total")
            .unwrap();
        assert_eq!(label(rb, "model"), Some(nasty));
        let http: Vec<_> = samples
            .iter()
            .filter(|s| s.name == "capstan_http_requests_total")
            .collect();
        assert_eq!(http.len(), 2);
        let ok = http
            .iter()
            .find(|s| label(s, "status") == Some("200"))
            .unwrap();
        assert_eq!(ok.value, 2.0);
        assert_eq!(
            label(ok, "path_template"),
            Some("/v1/models/{name}/predict")
        );
        assert_eq!(label(ok, "method"), Some("POST"));
    }

    #[test]
    fn log_and_rollout_counters() {
        let m = Metrics::new();
        m.log_enqueued(10);
        m.log_dequeued(4);
        m.log_written(4, Duration::from_millis(3));
        m.log_dropped(2);
        m.log_failed(1);
        m.canary_fallback("m", 2);
        m.scoring_error("m", 2, "canary");
        let snap = crate::rollout::ShadowStats::default().snapshot();
        m.shadow_agreement("m", 2, &snap);
        assert_eq!(
            m.log_counts(),
            LogCounts {
                written: 4,
                dropped: 2,
                failed: 1,
                batches: 1,
                queue_depth: 6
            }
        );
        let samples = parse(&m.render());
        let get = |n: &str| samples.iter().find(|s| s.name == n).map(|s| s.value);
        assert_eq!(get("capstan_prediction_log_queue_depth"), Some(6.0));
        assert_eq!(get("capstan_prediction_log_written_total"), Some(4.0));
        assert_eq!(get("capstan_prediction_log_batches_total"), Some(1.0));
        assert_eq!(
            get("capstan_prediction_log_commit_duration_seconds_count"),
            Some(1.0)
        );
        assert_eq!(get("capstan_canary_fallbacks_total"), Some(1.0));
        // No agreement yet: the gauge is absent rather than a made-up number.
        assert_eq!(get("capstan_shadow_agreement_ratio"), None);
        assert_eq!(get("capstan_shadow_compared_rows"), Some(0.0));
        let err = samples
            .iter()
            .find(|s| s.name == "capstan_requests_total")
            .unwrap();
        assert_eq!(label(err, "status"), Some("error"));
    }

    #[test]
    fn numbers_render_as_prometheus_reads_them() {
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(1.0), "1");
        assert_eq!(number(0.0005), "0.0005");
        assert_eq!(escape_label("plain"), "plain");
    }
}
