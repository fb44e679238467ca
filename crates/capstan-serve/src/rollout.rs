//! Traffic decisions and comparison statistics for a challenger version; pure, no IO.
//!
//! - [`goes_to_canary`]: which requests the canary answers. A request key is hashed to a
//!   bucket in `[0, 100)` ([`canary_bucket`]); the canary takes the buckets below
//!   `canary_percent`. The same key always gets the same answer for a fixed percent, and
//!   raising the percent only moves more keys to the canary.
//! - [`ShadowStats`]: how the shadow's answers compare with the champion's (agreement,
//!   score deltas, latencies), in bounded memory.
//! - [`CanaryMonitor`]: a sliding window of canary outcomes and the rollback verdict
//!   against the rollout's thresholds.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use capstan_store::Rollout;
use serde::Serialize;

use crate::model::{Prediction, Scored};

// ---- canary routing ----

/// The bucket in `[0, 100)` of a request key: 64-bit FNV-1a of the key's bytes, finished
/// with a murmur3 avalanche so that keys differing in one character spread evenly.
/// Stable across processes, platforms and releases (the canary share must not reshuffle
/// when a server restarts).
pub fn canary_bucket(key: &str) -> f64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = FNV_OFFSET;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    unit_percent(fmix64(h))
}

/// Whether this request goes to the canary. With a key, the decision is sticky
/// (`canary_bucket(key) < percent`); without one, `fallback_random` (any uniformly random
/// `u64`) decides, so the share still matches `percent` on average. `percent` is clamped to
/// `[0, 100]`: 0 sends nothing, 100 everything.
pub fn goes_to_canary(key: Option<&str>, percent: f64, fallback_random: u64) -> bool {
    if percent.is_nan() || percent <= 0.0 {
        return false;
    }
    if percent >= 100.0 {
        return true;
    }
    let bucket = match key {
        Some(k) => canary_bucket(k),
        None => unit_percent(fmix64(fallback_random)),
    };
    bucket < percent
}

/// murmur3's 64-bit finalizer: every input bit affects every output bit.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The top 53 bits of `h` as a number in `[0, 100)`.
fn unit_percent(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * 100.0
}

// ---- bounded quantiles ----

/// Relative accuracy of [`LogHistogram`] quantiles: an estimate is within 1% of a value
/// that the exact nearest-rank quantile could be.
const RELATIVE_ACCURACY: f64 = 0.01;

/// A fixed-bucket log-scale histogram of non-negative values (the DDSketch idea): bucket
/// `i >= 1` holds `(min·γ^(i-1), min·γ^i]` with `γ = (1+α)/(1-α)`, α = 1%, bucket 0 holds
/// `[0, min]`, and values above `max` share the last bucket. Memory is fixed at
/// construction (about `ln(max/min)/ln γ` counters), updates are O(1), and a quantile is
/// within α relative error of the exact nearest-rank quantile for values in `(min, max]`.
/// Exact count, sum, minimum and maximum are kept on the side; estimates are clamped to
/// `[minimum, maximum]`, the 1 quantile is the exact maximum, and a quantile falling in
/// the overflow bucket reads as the maximum.
#[derive(Debug, Clone)]
struct LogHistogram {
    min: f64,
    ln_gamma: f64,
    counts: Vec<u64>,
    count: u64,
    sum: f64,
    lowest: f64,
    highest: f64,
}

impl LogHistogram {
    fn new(min: f64, max: f64) -> LogHistogram {
        let gamma = (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY);
        let ln_gamma = gamma.ln();
        let n_buckets = ((max / min).ln() / ln_gamma).ceil() as usize + 2;
        LogHistogram {
            min,
            ln_gamma,
            counts: vec![0; n_buckets],
            count: 0,
            sum: 0.0,
            lowest: f64::INFINITY,
            highest: 0.0,
        }
    }

    /// Adds `value`; negative values count as 0, non-finite values are ignored.
    fn add(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        let value = value.max(0.0);
        let idx = if value <= self.min {
            0
        } else {
            let i = ((value / self.min).ln() / self.ln_gamma).ceil() as usize;
            i.clamp(1, self.counts.len() - 1)
        };
        self.counts[idx] += 1;
        self.count += 1;
        self.sum += value;
        self.lowest = self.lowest.min(value);
        self.highest = self.highest.max(value);
    }

    fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.highest)
    }

    /// The nearest-rank `q` quantile (the value at rank `ceil(q·n)` in sorted order).
    fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        let mut bucket = self.counts.len() - 1;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                bucket = i;
                break;
            }
        }
        if rank == self.count || bucket == self.counts.len() - 1 {
            // The top rank, or the overflow bucket (values above `max`): the exact maximum.
            return Some(self.highest);
        }
        let estimate = if bucket == 0 {
            0.0
        } else {
            // The point with equal relative distance to both ends of the bucket.
            let gamma = self.ln_gamma.exp();
            self.min * ((bucket as f64) * self.ln_gamma).exp() * 2.0 / (gamma + 1.0)
        };
        Some(estimate.clamp(self.lowest, self.highest))
    }
}

// ---- shadow comparison ----

/// Two regression predictions agree when `|a - b| <= 1e-6 · max(1, |a|)`.
const REGRESSION_AGREEMENT_TOLERANCE: f64 = 1e-6;

/// Whether two predictions for the same row agree: the same label for classification, the
/// same value up to [`REGRESSION_AGREEMENT_TOLERANCE`] for regression.
pub fn predictions_agree(champion: &Prediction, shadow: &Prediction) -> bool {
    match (champion, shadow) {
        (Prediction::Label(a), Prediction::Label(b)) => a == b,
        (Prediction::Value(a), Prediction::Value(b)) => {
            (a - b).abs() <= REGRESSION_AGREEMENT_TOLERANCE * a.abs().max(1.0)
        }
        _ => false,
    }
}

/// How the shadow compares with the champion on the requests both answered.
///
/// Thread-safe; an update takes one short lock. Memory is fixed: score deltas and latencies
/// go into fixed-bucket log histograms (1% relative accuracy; |delta| from 1e-12 to 1e12,
/// latencies from 1 µs to 1000 s), counts and sums are exact.
#[derive(Debug)]
pub struct ShadowStats {
    inner: Mutex<ShadowInner>,
}

#[derive(Debug)]
struct ShadowInner {
    n_requests: u64,
    n_rows: u64,
    n_agree: u64,
    /// Rows whose delta was finite (a NaN score is compared, but not averaged).
    n_deltas: u64,
    delta_sum: f64,
    abs_delta: LogHistogram,
    /// Requests whose champion and shadow answers had different row counts.
    row_count_mismatches: u64,
    errors: u64,
    champion_ms: LogHistogram,
    shadow_ms: LogHistogram,
}

impl Default for ShadowStats {
    fn default() -> Self {
        ShadowStats {
            inner: Mutex::new(ShadowInner {
                n_requests: 0,
                n_rows: 0,
                n_agree: 0,
                n_deltas: 0,
                delta_sum: 0.0,
                abs_delta: LogHistogram::new(1e-12, 1e12),
                row_count_mismatches: 0,
                errors: 0,
                champion_ms: LogHistogram::new(1e-3, 1e6),
                shadow_ms: LogHistogram::new(1e-3, 1e6),
            }),
        }
    }
}

/// A latency summary in milliseconds; `None` before the first request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencySummary {
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// [`ShadowStats`] at one moment. Rates and quantiles are `None` (JSON `null`) until there
/// is something to compute them from. Deltas are `shadow score − champion score`
/// ([`RowOutput::score`](crate::RowOutput::score)); the quantiles are of `|delta|`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowSnapshot {
    pub n_requests: u64,
    pub n_rows: u64,
    /// Share of rows whose predictions agree (same label; same value within 1e-6 relative).
    pub agreement_rate: Option<f64>,
    pub delta_mean: Option<f64>,
    pub abs_delta_mean: Option<f64>,
    pub abs_delta_p50: Option<f64>,
    pub abs_delta_p90: Option<f64>,
    pub abs_delta_p99: Option<f64>,
    pub abs_delta_max: Option<f64>,
    pub champion_latency: LatencySummary,
    pub shadow_latency: LatencySummary,
    /// Shadow requests that failed (the champion had answered).
    pub shadow_errors: u64,
    /// Requests where the two answers had different row counts (only the common prefix is
    /// compared); should stay 0.
    pub row_count_mismatches: u64,
}

impl ShadowStats {
    /// Compares one request's answers row by row and records both latencies.
    pub fn record(
        &self,
        champion: &Scored,
        shadow: &Scored,
        champion_latency: Duration,
        shadow_latency: Duration,
    ) {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        s.n_requests += 1;
        if champion.rows.len() != shadow.rows.len() {
            s.row_count_mismatches += 1;
        }
        for (c, sh) in champion.rows.iter().zip(&shadow.rows) {
            s.n_rows += 1;
            if predictions_agree(&c.prediction, &sh.prediction) {
                s.n_agree += 1;
            }
            let delta = sh.score - c.score;
            if delta.is_finite() {
                s.n_deltas += 1;
                s.delta_sum += delta;
                s.abs_delta.add(delta.abs());
            }
        }
        s.champion_ms.add(millis(champion_latency));
        s.shadow_ms.add(millis(shadow_latency));
    }

    /// Counts a shadow request that failed.
    pub fn record_error(&self) {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        s.errors += 1;
    }

    pub fn snapshot(&self) -> ShadowSnapshot {
        let s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let latency = |h: &LogHistogram| LatencySummary {
            p50_ms: h.quantile(0.5),
            p99_ms: h.quantile(0.99),
        };
        ShadowSnapshot {
            n_requests: s.n_requests,
            n_rows: s.n_rows,
            agreement_rate: (s.n_rows > 0).then(|| s.n_agree as f64 / s.n_rows as f64),
            delta_mean: (s.n_deltas > 0).then(|| s.delta_sum / s.n_deltas as f64),
            abs_delta_mean: s.abs_delta.mean(),
            abs_delta_p50: s.abs_delta.quantile(0.5),
            abs_delta_p90: s.abs_delta.quantile(0.9),
            abs_delta_p99: s.abs_delta.quantile(0.99),
            abs_delta_max: s.abs_delta.max(),
            champion_latency: latency(&s.champion_ms),
            shadow_latency: latency(&s.shadow_ms),
            shadow_errors: s.errors,
            row_count_mismatches: s.row_count_mismatches,
        }
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---- canary monitor ----

/// Requests kept in a [`CanaryMonitor`] window (more when `min_requests` asks for more).
pub const CANARY_WINDOW: usize = 1000;
/// The window never grows beyond this many requests, whatever `min_requests` says.
pub const MAX_CANARY_WINDOW: usize = 100_000;

/// The canary's recent outcomes (and the champion's, for context) and the rollback verdict.
///
/// The window is the last [`CANARY_WINDOW`] requests, or the last `rollout.min_requests`
/// when that is larger (capped at [`MAX_CANARY_WINDOW`]): a threshold is only judged on a
/// full `min_requests`. Thread-safe; an update takes one short lock.
#[derive(Debug)]
pub struct CanaryMonitor {
    inner: Mutex<CanaryInner>,
}

#[derive(Debug)]
struct CanaryInner {
    capacity: usize,
    canary: Window,
    champion: Window,
}

#[derive(Debug, Default)]
struct Window {
    /// (ok, latency in µs), oldest first.
    outcomes: VecDeque<(bool, u64)>,
    errors: usize,
}

impl Window {
    fn push(&mut self, ok: bool, latency: Duration, capacity: usize) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.outcomes.push_back((ok, us));
        if !ok {
            self.errors += 1;
        }
        while self.outcomes.len() > capacity {
            if let Some((false, _)) = self.outcomes.pop_front() {
                self.errors -= 1;
            }
        }
    }

    fn error_rate(&self) -> Option<f64> {
        (!self.outcomes.is_empty()).then(|| self.errors as f64 / self.outcomes.len() as f64)
    }

    /// Nearest-rank quantile of the latencies in ms (exact; O(n) selection).
    fn latency_quantile_ms(&self, q: f64) -> Option<f64> {
        let n = self.outcomes.len();
        if n == 0 {
            return None;
        }
        let mut us: Vec<u64> = self.outcomes.iter().map(|&(_, l)| l).collect();
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as usize).clamp(1, n);
        let (_, v, _) = us.select_nth_unstable(rank - 1);
        Some(*v as f64 / 1000.0)
    }

    fn summary(&self) -> WindowSummary {
        WindowSummary {
            requests: self.outcomes.len(),
            errors: self.errors,
            error_rate: self.error_rate(),
            p50_ms: self.latency_quantile_ms(0.5),
            p99_ms: self.latency_quantile_ms(0.99),
        }
    }
}

impl Default for CanaryMonitor {
    fn default() -> Self {
        CanaryMonitor {
            inner: Mutex::new(CanaryInner {
                capacity: CANARY_WINDOW,
                canary: Window::default(),
                champion: Window::default(),
            }),
        }
    }
}

/// One side of a [`CanarySnapshot`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowSummary {
    pub requests: usize,
    pub errors: usize,
    pub error_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// [`CanaryMonitor`] at one moment, for the status endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanarySnapshot {
    /// Requests the window holds at most.
    pub window: usize,
    pub canary: WindowSummary,
    pub champion: WindowSummary,
}

impl CanaryMonitor {
    /// Records one request answered (or failed) by the canary.
    pub fn record(&self, ok: bool, latency: Duration) {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let capacity = s.capacity;
        s.canary.push(ok, latency, capacity);
    }

    /// Records one routed request answered (or failed) by the champion, for comparison.
    pub fn record_champion(&self, ok: bool, latency: Duration) {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let capacity = s.capacity;
        s.champion.push(ok, latency, capacity);
    }

    /// Forgets everything (call when the challenger version changes).
    pub fn reset(&self) {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        s.capacity = CANARY_WINDOW;
        s.canary = Window::default();
        s.champion = Window::default();
    }

    /// Why the canary should be rolled back, or `None` while it is within its thresholds or
    /// has served fewer than `rollout.min_requests` requests in the window. The error rate
    /// is judged before the p99 latency. The reason names the numbers, e.g.
    /// `canary error rate 0.42 (84 errors) > 0.05 over the last 200 requests`.
    pub fn verdict(&self, rollout: &Rollout) -> Option<String> {
        let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let min_requests = (rollout.min_requests as usize).min(MAX_CANARY_WINDOW);
        // Keep enough history to judge `min_requests` requests.
        if min_requests > s.capacity {
            s.capacity = min_requests;
        }
        let w = &s.canary;
        let n = w.outcomes.len();
        if n == 0 || n < min_requests {
            return None;
        }
        if let (Some(max), Some(rate)) = (rollout.max_error_rate, w.error_rate()) {
            if rate > max {
                return Some(format!(
                    "canary error rate {} ({} error{}) > {} over the last {n} requests",
                    short(rate),
                    w.errors,
                    if w.errors == 1 { "" } else { "s" },
                    short(max)
                ));
            }
        }
        if let (Some(max), Some(p99)) = (rollout.max_p99_ms, w.latency_quantile_ms(0.99)) {
            if p99 > max {
                return Some(format!(
                    "canary p99 latency {} ms > {} ms over the last {n} requests",
                    short(p99),
                    short(max)
                ));
            }
        }
        None
    }

    pub fn snapshot(&self) -> CanarySnapshot {
        let s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        CanarySnapshot {
            window: s.capacity,
            canary: s.canary.summary(),
            champion: s.champion.summary(),
        }
    }
}

/// `x` rounded to 4 significant digits, printed without trailing noise (0.42, 812.3, 1e-5).
fn short(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return x.to_string();
    }
    format!("{x:.3e}")
        .parse::<f64>()
        .map_or_else(|_| x.to_string(), |r| r.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::RowOutput;
    use capstan_io::rng::Rng;
    use capstan_learn::Task;
    use capstan_store::RolloutMode;

    #[test]
    fn buckets_are_stable_and_in_range() {
        // Frozen values: a change here reshuffles every canary on upgrade.
        let a = canary_bucket("customer-42");
        assert_eq!(a, canary_bucket("customer-42"));
        for i in 0..10_000 {
            let b = canary_bucket(&format!("user{i}"));
            assert!((0.0..100.0).contains(&b), "{b}");
        }
        assert_ne!(canary_bucket("a"), canary_bucket("b"));
        assert!((0.0..100.0).contains(&canary_bucket("")));
    }

    #[test]
    fn bucket_values_are_frozen() {
        // FNV-1a 64 of "" is the offset basis; the finalizer and scaling are fixed too.
        let expected = unit_percent(fmix64(0xcbf2_9ce4_8422_2325));
        assert_eq!(canary_bucket(""), expected);
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        h ^= u64::from(b'a');
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        assert_eq!(h, 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 of 'a'");
        assert_eq!(canary_bucket("a"), unit_percent(fmix64(h)));
    }

    #[test]
    fn routing_is_sticky_per_key() {
        for i in 0..1000 {
            let key = format!("k{i}");
            let first = goes_to_canary(Some(&key), 30.0, 0);
            for r in [1u64, 99, u64::MAX] {
                assert_eq!(goes_to_canary(Some(&key), 30.0, r), first, "{key}");
            }
        }
    }

    #[test]
    fn raising_the_percent_only_adds_keys() {
        let percents = [0.0, 0.5, 1.0, 5.0, 10.0, 33.3, 50.0, 90.0, 99.9, 100.0];
        for i in 0..20_000 {
            let key = format!("session-{i}");
            let mut was_in = false;
            for &p in &percents {
                let now_in = goes_to_canary(Some(&key), p, 7);
                assert!(!was_in || now_in, "{key} left the canary at {p}%");
                was_in = now_in;
            }
        }
    }

    #[test]
    fn share_matches_percent() {
        let n = 100_000;
        for p in [1.0, 5.0, 10.0, 25.0, 50.0, 75.0] {
            let hits = (0..n)
                .filter(|i| goes_to_canary(Some(&format!("req-{i}")), p, 0))
                .count();
            let share = hits as f64 / n as f64 * 100.0;
            assert!((share - p).abs() <= 1.0, "keys: {share}% for {p}%");
            // Sequential keys of another shape too.
            let hits = (0..n)
                .filter(|i| goes_to_canary(Some(&i.to_string()), p, 0))
                .count();
            let share = hits as f64 / n as f64 * 100.0;
            assert!((share - p).abs() <= 1.0, "numeric keys: {share}% for {p}%");
            // Without keys, a counter-like source is still spread.
            let hits = (0..n as u64)
                .filter(|&i| goes_to_canary(None, p, i))
                .count();
            let share = hits as f64 / n as f64 * 100.0;
            assert!((share - p).abs() <= 1.0, "no key: {share}% for {p}%");
        }
    }

    #[test]
    fn edge_percents() {
        for i in 0..1000u64 {
            let key = i.to_string();
            assert!(!goes_to_canary(Some(&key), 0.0, i));
            assert!(!goes_to_canary(Some(&key), -5.0, i));
            assert!(!goes_to_canary(Some(&key), f64::NAN, i));
            assert!(goes_to_canary(Some(&key), 100.0, i));
            assert!(goes_to_canary(None, 100.0, i));
            assert!(!goes_to_canary(None, 0.0, i));
        }
    }

    fn oracle(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    #[test]
    fn histogram_quantiles_match_sorted_oracle() {
        let mut rng = Rng::new(11);
        for (n, scale) in [(1usize, 1.0), (7, 0.01), (1000, 1.0), (50_000, 1e3)] {
            let mut h = LogHistogram::new(1e-12, 1e12);
            let mut values = Vec::with_capacity(n);
            for _ in 0..n {
                // Log-uniform over 6 decades, times a scale: a wide, skewed distribution.
                let v = scale * 10f64.powf(rng.next_f64() * 6.0 - 3.0);
                h.add(v);
                values.push(v);
            }
            values.sort_by(f64::total_cmp);
            for q in [0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
                let est = h.quantile(q).unwrap();
                let exact = oracle(&values, q);
                assert!(
                    (est - exact).abs() <= RELATIVE_ACCURACY * exact * 1.000_001,
                    "n={n} q={q}: {est} vs {exact}"
                );
            }
            assert_eq!(h.max(), Some(values[n - 1]));
            let mean = values.iter().sum::<f64>() / n as f64;
            assert!((h.mean().unwrap() - mean).abs() <= 1e-9 * mean);
        }
    }

    #[test]
    fn histogram_handles_zero_and_out_of_range() {
        let mut h = LogHistogram::new(1e-3, 1e3);
        assert_eq!(h.quantile(0.5), None);
        for _ in 0..10 {
            h.add(0.0);
        }
        h.add(f64::NAN);
        assert_eq!(h.count, 10);
        assert_eq!(h.quantile(0.99), Some(0.0));
        h.add(1e9);
        assert_eq!(h.quantile(1.0), Some(1e9));
        assert_eq!(h.quantile(0.5), Some(0.0));
    }

    fn scored_labels(labels: &[&str], scores: &[f64]) -> Scored {
        Scored {
            task: Task::Binary,
            classes: vec!["no".into(), "yes".into()],
            rows: labels
                .iter()
                .zip(scores)
                .map(|(l, &s)| RowOutput {
                    prediction: Prediction::Label((*l).to_string()),
                    probabilities: Some(vec![1.0 - s, s]),
                    score: s,
                })
                .collect(),
        }
    }

    fn scored_values(values: &[f64]) -> Scored {
        Scored {
            task: Task::Regression,
            classes: Vec::new(),
            rows: values
                .iter()
                .map(|&v| RowOutput {
                    prediction: Prediction::Value(v),
                    probabilities: None,
                    score: v,
                })
                .collect(),
        }
    }

    #[test]
    fn shadow_stats_compare_classification() {
        let stats = ShadowStats::default();
        let empty = stats.snapshot();
        assert_eq!(empty.n_rows, 0);
        assert_eq!(empty.agreement_rate, None);
        assert_eq!(empty.abs_delta_p50, None);

        let champion = scored_labels(&["yes", "no", "yes", "no"], &[0.9, 0.2, 0.6, 0.4]);
        let shadow = scored_labels(&["yes", "no", "no", "yes"], &[0.8, 0.2, 0.4, 0.7]);
        stats.record(
            &champion,
            &shadow,
            Duration::from_millis(2),
            Duration::from_millis(10),
        );
        stats.record_error();
        let s = stats.snapshot();
        assert_eq!((s.n_requests, s.n_rows, s.shadow_errors), (1, 4, 1));
        assert_eq!(s.agreement_rate, Some(0.5));
        // deltas: -0.1, 0, -0.2, +0.3
        let mean = s.delta_mean.unwrap();
        assert!(mean.abs() < 1e-12, "{mean}");
        assert!((s.abs_delta_mean.unwrap() - 0.15).abs() < 1e-12);
        assert!((s.abs_delta_max.unwrap() - 0.3).abs() < 1e-12);
        let p50 = s.abs_delta_p50.unwrap();
        assert!((p50 - 0.1).abs() <= 0.0011, "{p50}");
        let c = s.champion_latency.p50_ms.unwrap();
        let sh = s.shadow_latency.p99_ms.unwrap();
        assert!(
            (c - 2.0).abs() < 1e-9 && (sh - 10.0).abs() < 1e-9,
            "{c} {sh}"
        );
        assert_eq!(s.row_count_mismatches, 0);
        // Serializes for the status endpoint.
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["agreement_rate"], 0.5);
    }

    #[test]
    fn shadow_stats_compare_regression() {
        let stats = ShadowStats::default();
        let champion = scored_values(&[100.0, 0.5, -3.0]);
        let shadow = scored_values(&[100.0 + 5e-5, 0.5 + 2e-6, -3.0]);
        stats.record(&champion, &shadow, Duration::ZERO, Duration::ZERO);
        let s = stats.snapshot();
        // 5e-5 <= 1e-6·100 agrees; 2e-6 > 1e-6·1 does not.
        assert!((s.agreement_rate.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!(predictions_agree(
            &Prediction::Value(0.0),
            &Prediction::Value(1e-6)
        ));
        assert!(!predictions_agree(
            &Prediction::Value(1.0),
            &Prediction::Label("1".into())
        ));
        // Mismatched row counts are counted and only the common prefix compared.
        stats.record(
            &scored_values(&[1.0, 2.0]),
            &scored_values(&[1.0]),
            Duration::ZERO,
            Duration::ZERO,
        );
        let s = stats.snapshot();
        assert_eq!((s.n_rows, s.row_count_mismatches), (4, 1));
    }

    #[test]
    fn shadow_delta_quantiles_match_oracle() {
        let stats = ShadowStats::default();
        let mut rng = Rng::new(3);
        let mut abs = Vec::new();
        for _ in 0..200 {
            let c: Vec<f64> = (0..50).map(|_| rng.next_f64()).collect();
            let s: Vec<f64> = c.iter().map(|v| v + (rng.next_f64() - 0.5) * 0.2).collect();
            abs.extend(c.iter().zip(&s).map(|(a, b)| (b - a).abs()));
            stats.record(
                &scored_values(&c),
                &scored_values(&s),
                Duration::from_micros(100),
                Duration::from_micros(300),
            );
        }
        abs.sort_by(f64::total_cmp);
        let snap = stats.snapshot();
        for (q, est) in [
            (0.5, snap.abs_delta_p50),
            (0.9, snap.abs_delta_p90),
            (0.99, snap.abs_delta_p99),
        ] {
            let exact = oracle(&abs, q);
            let est = est.unwrap();
            assert!(
                (est - exact).abs() <= 0.010_001 * exact,
                "q={q}: {est} vs {exact}"
            );
        }
        assert_eq!(snap.abs_delta_max, abs.last().copied());
        assert_eq!(snap.n_rows, 10_000);
    }

    fn canary_rollout(
        min_requests: u32,
        max_error_rate: Option<f64>,
        max_p99_ms: Option<f64>,
    ) -> Rollout {
        Rollout {
            mode: RolloutMode::Canary,
            canary_percent: 10.0,
            max_error_rate,
            max_p99_ms,
            min_requests,
        }
    }

    #[test]
    fn no_verdict_before_min_requests() {
        let m = CanaryMonitor::default();
        let r = canary_rollout(50, Some(0.05), Some(100.0));
        assert_eq!(m.verdict(&r), None);
        for _ in 0..49 {
            m.record(false, Duration::from_secs(1));
            assert_eq!(m.verdict(&r), None);
        }
        m.record(false, Duration::from_secs(1));
        let reason = m.verdict(&r).unwrap();
        assert_eq!(
            reason,
            "canary error rate 1 (50 errors) > 0.05 over the last 50 requests"
        );
    }

    #[test]
    fn error_rate_threshold_is_strict() {
        let m = CanaryMonitor::default();
        let r = canary_rollout(100, Some(0.05), None);
        // 5 errors in 100: exactly at the threshold, not above it.
        for i in 0..100 {
            m.record(i % 20 != 0, Duration::from_millis(1));
        }
        assert_eq!(m.verdict(&r), None);
        m.record(false, Duration::from_millis(1));
        // 101 requests, 6 errors: 0.0594 > 0.05.
        assert_eq!(
            m.verdict(&r).unwrap(),
            "canary error rate 0.05941 (6 errors) > 0.05 over the last 101 requests"
        );
        // No threshold set: never a verdict.
        assert_eq!(m.verdict(&canary_rollout(1, None, None)), None);
    }

    #[test]
    fn p99_latency_threshold() {
        let m = CanaryMonitor::default();
        let r = canary_rollout(200, Some(0.5), Some(250.0));
        // 198 fast and 2 slow: the p99 (rank 198) is fast.
        for _ in 0..198 {
            m.record(true, Duration::from_millis(20));
        }
        for _ in 0..2 {
            m.record(true, Duration::from_millis(900));
        }
        assert_eq!(m.verdict(&r), None);
        // A third slow one makes rank 199 (of 201 -> ceil(198.99) = 199) slow.
        m.record(true, Duration::from_micros(812_300));
        assert_eq!(
            m.verdict(&r).unwrap(),
            "canary p99 latency 812.3 ms > 250 ms over the last 201 requests"
        );
        let snap = m.snapshot();
        assert_eq!(snap.canary.requests, 201);
        assert_eq!(snap.canary.errors, 0);
        assert_eq!(snap.canary.p50_ms, Some(20.0));
        m.reset();
        assert_eq!(m.verdict(&r), None);
        assert_eq!(m.snapshot().canary.requests, 0);
    }

    #[test]
    fn window_slides_and_grows_for_min_requests() {
        let m = CanaryMonitor::default();
        let r = canary_rollout(10, Some(0.1), None);
        for _ in 0..500 {
            m.record(false, Duration::from_millis(1));
        }
        assert!(m.verdict(&r).is_some());
        // A window's worth of good requests pushes the errors out.
        for _ in 0..CANARY_WINDOW {
            m.record(true, Duration::from_millis(1));
        }
        assert_eq!(m.verdict(&r), None);
        let snap = m.snapshot();
        assert_eq!(
            (snap.canary.requests, snap.canary.errors),
            (CANARY_WINDOW, 0)
        );

        // min_requests above the default window: the window grows to hold them.
        let big = canary_rollout(1500, Some(0.1), None);
        assert_eq!(m.verdict(&big), None);
        for _ in 0..500 {
            m.record(false, Duration::from_millis(1));
        }
        let reason = m.verdict(&big).unwrap();
        assert!(reason.contains("over the last 1500 requests"), "{reason}");
        assert!(reason.contains("(500 errors)"), "{reason}");
    }

    #[test]
    fn champion_context_is_kept_apart() {
        let m = CanaryMonitor::default();
        m.record_champion(false, Duration::from_millis(5));
        m.record_champion(true, Duration::from_millis(5));
        let snap = m.snapshot();
        assert_eq!(snap.champion.requests, 2);
        assert_eq!(snap.champion.error_rate, Some(0.5));
        assert_eq!(snap.canary.requests, 0);
        assert_eq!(m.verdict(&canary_rollout(0, Some(0.0), None)), None);
    }

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.42), "0.42");
        assert_eq!(short(0.059_405_940_594), "0.05941");
        assert_eq!(short(812.3), "812.3");
        assert_eq!(short(250.0), "250");
        assert_eq!(short(1e-5), "0.00001");
        assert_eq!(short(0.0), "0");
    }
}
