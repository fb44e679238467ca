//! The prediction log, written off the request path.
//!
//! Requests hand their records to a [`LogWriter`]; one dedicated OS thread (store calls
//! block, so not a tokio worker) takes them from the queue and commits them with
//! [`Store::append_predictions`] in batches: a batch is committed once it holds
//! [`MAX_BATCH_RECORDS`] records (or the whole queue, when that is smaller) or `flush_ms`
//! after its first record arrived (async), or as soon as the queue runs empty (durable:
//! group commit, so a response waits for one commit).
//!
//! The queue is bounded in records (the policy's `queue`) by a semaphore: a request takes
//! one permit per record (at most `queue`, so one huge request still fits) and the writer
//! gives them back once the batch holding them is committed (or has failed). So `queue`
//! bounds every record not yet committed, the batch being gathered included, and the
//! queue-depth gauge counts the same records.
//!
//! - [`LogPolicy::Async`]: enqueue if there is room, else drop and count
//!   (`capstan_prediction_log_dropped_total`); never waits.
//! - [`LogPolicy::Durable`]: wait (asynchronously) for room, then for the commit of the
//!   batch holding the records; an `Err` means the records are not in the log and the
//!   prediction must not be acknowledged.
//! - [`LogPolicy::Off`]: no log at all.
//!
//! A failing commit is retried with backoff ([`RETRY_BACKOFF`]); if it still fails and the
//! batch holds several requests, each request's records are tried on their own once, so one
//! bad record (say a duplicate id) fails only its own request. Records that still fail are
//! counted (`capstan_prediction_log_failed_total`) and reported on stderr once per burst of
//! failures.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use capstan_store::{PredictionRecord, Store};
use tokio::sync::{Semaphore, oneshot};

use crate::metrics::Metrics;
use crate::server::LogPolicy;

/// A batch is committed as soon as it holds this many records.
pub const MAX_BATCH_RECORDS: usize = 512;
/// Waits between the attempts of a failing commit (so 1 + len attempts in all).
pub const RETRY_BACKOFF: &[Duration] = &[
    Duration::from_millis(20),
    Duration::from_millis(100),
    Duration::from_millis(500),
];

/// The commit acknowledgement of one submission: `Ok` once its records are committed.
pub type Ack = oneshot::Receiver<Result<(), String>>;

/// One submission: a request's records, the queue permits they hold, and who to tell.
struct Message {
    records: Vec<PredictionRecord>,
    permits: usize,
    ack: Option<oneshot::Sender<Result<(), String>>>,
}

/// The prediction log writer. See the module docs.
#[derive(Debug)]
pub struct LogWriter {
    policy: LogPolicy,
    /// `None` when the policy is `Off` or after shutdown.
    sender: Mutex<Option<Sender<Message>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    space: Arc<Semaphore>,
    /// Permits per queue (the most one submission may hold).
    capacity: usize,
    metrics: Arc<Metrics>,
}

impl LogWriter {
    /// Starts the writer thread for `policy` (none for `Off`). A queue of 0 is taken as 1.
    pub fn start(store: Arc<Store>, policy: LogPolicy, metrics: Arc<Metrics>) -> LogWriter {
        let (queue, flush_ms) = match policy {
            LogPolicy::Off => (0, 0),
            LogPolicy::Async { queue, flush_ms } | LogPolicy::Durable { queue, flush_ms } => {
                (queue.clamp(1, Semaphore::MAX_PERMITS), flush_ms)
            }
        };
        let space = Arc::new(Semaphore::new(queue));
        let (sender, thread) = if matches!(policy, LogPolicy::Off) {
            (None, None)
        } else {
            let (tx, rx) = std::sync::mpsc::channel::<Message>();
            let worker = Worker {
                store,
                metrics: metrics.clone(),
                space: space.clone(),
                flush: Duration::from_millis(flush_ms),
                // A batch holding the whole queue cannot grow: commit it at once.
                batch_limit: MAX_BATCH_RECORDS.min(queue),
                eager: matches!(policy, LogPolicy::Durable { .. }),
                failing: false,
            };
            let spawned = std::thread::Builder::new()
                .name("capstan-log-writer".to_string())
                .spawn(move || worker.run(rx));
            match spawned {
                Ok(handle) => (Some(tx), Some(handle)),
                Err(e) => {
                    // Without a thread nothing can be logged: durable requests get errors,
                    // async records are counted as dropped.
                    eprintln!("capstan serve: cannot start the prediction log writer: {e}");
                    (None, None)
                }
            }
        };
        LogWriter {
            policy,
            sender: Mutex::new(sender),
            thread: Mutex::new(thread),
            space,
            capacity: queue,
            metrics,
        }
    }

    pub fn policy(&self) -> LogPolicy {
        self.policy
    }

    /// Whether records are logged at all (the policy is not `Off`). Callers can skip
    /// building records when this is false.
    pub fn enabled(&self) -> bool {
        !matches!(self.policy, LogPolicy::Off)
    }

    /// Logs `records` the way the policy says: `Off` does nothing; `Async` enqueues or
    /// drops (and counts) and returns at once, always `Ok`; `Durable` waits for room and
    /// for the commit, and returns `Err` when the records could not be committed.
    pub async fn log(&self, records: Vec<PredictionRecord>) -> Result<(), String> {
        match self.policy {
            LogPolicy::Off => Ok(()),
            LogPolicy::Async { .. } => {
                let _ = self.submit(records);
                Ok(())
            }
            LogPolicy::Durable { .. } => self.submit_durable(records).await,
        }
    }

    /// Enqueues `records` if the queue has room, whatever the policy, and returns the
    /// commit acknowledgement; `None` when nothing was enqueued (policy `Off`, empty
    /// `records`, or the queue full or closed: the records are then dropped and counted).
    /// Never waits.
    pub fn submit(&self, records: Vec<PredictionRecord>) -> Option<Ack> {
        if !self.enabled() || records.is_empty() {
            return None;
        }
        let n = records.len();
        let permits = n.min(self.capacity);
        let Ok(permit) = self.space.try_acquire_many(permit_count(permits)) else {
            self.metrics.log_dropped(n);
            return None;
        };
        // The writer returns the permits when it takes the records off the queue.
        permit.forget();
        let (tx, rx) = oneshot::channel();
        match self.send(records, permits, Some(tx)) {
            Ok(()) => Some(rx),
            Err(records) => {
                self.metrics.log_dropped(records.len());
                None
            }
        }
    }

    /// Waits for room in the queue, enqueues `records` and waits for the commit of the
    /// batch holding them. `Err` says why they are not in the log.
    pub async fn submit_durable(&self, records: Vec<PredictionRecord>) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        if !self.enabled() {
            return Err("the prediction log is off".to_string());
        }
        let permits = records.len().min(self.capacity);
        let permit = self
            .space
            .acquire_many(permit_count(permits))
            .await
            .map_err(|_| closed())?;
        permit.forget();
        let (tx, rx) = oneshot::channel();
        if self.send(records, permits, Some(tx)).is_err() {
            return Err(closed());
        }
        // A dropped sender means the writer thread died before answering.
        rx.await.unwrap_or_else(|_| Err(closed()))
    }

    /// Sends to the writer thread; gives the records back (and the permits to the queue)
    /// when the writer is gone.
    fn send(
        &self,
        records: Vec<PredictionRecord>,
        permits: usize,
        ack: Option<oneshot::Sender<Result<(), String>>>,
    ) -> Result<(), Vec<PredictionRecord>> {
        let n = records.len();
        let guard = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(sender) = guard.as_ref() else {
            self.space.add_permits(permits);
            return Err(records);
        };
        // Count before sending so the writer's decrement never comes first.
        self.metrics.log_enqueued(n);
        match sender.send(Message {
            records,
            permits,
            ack,
        }) {
            Ok(()) => Ok(()),
            Err(std::sync::mpsc::SendError(message)) => {
                self.metrics.log_dequeued(n);
                self.space.add_permits(permits);
                Err(message.records)
            }
        }
    }

    /// Closes the queue, lets the writer commit everything already queued, and waits for
    /// it. Blocks for as long as that takes (a batch or two, or the retries of a failing
    /// store): from async code call it through `tokio::task::spawn_blocking`, or use
    /// [`LogWriter::close`]. Later submissions are dropped (async) or refused (durable);
    /// calling it again does nothing.
    pub fn shutdown(&self) {
        if let Some(handle) = self.begin_shutdown() {
            if handle.join().is_err() {
                eprintln!("capstan serve: the prediction log writer panicked");
            }
        }
    }

    /// [`LogWriter::shutdown`] for async code: waits for the writer on the blocking pool.
    pub async fn close(&self) {
        if let Some(handle) = self.begin_shutdown() {
            let joined = tokio::task::spawn_blocking(move || handle.join().is_ok()).await;
            if !matches!(joined, Ok(true)) {
                eprintln!("capstan serve: the prediction log writer panicked");
            }
        }
    }

    /// Drops the sender (the writer drains and exits), wakes waiters for room with an
    /// error, and hands over the thread to join.
    fn begin_shutdown(&self) -> Option<JoinHandle<()>> {
        self.sender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.space.close();
        self.thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

fn closed() -> String {
    "the prediction log is closed (the server is shutting down)".to_string()
}

/// Permits as the semaphore counts them; the capacity is clamped so this never saturates.
fn permit_count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The writer thread's state.
struct Worker {
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    space: Arc<Semaphore>,
    flush: Duration,
    /// Records that make a batch commit before `flush`.
    batch_limit: usize,
    /// Commit when the queue runs empty instead of waiting for `flush` (durable policy).
    eager: bool,
    /// Inside a burst of failures (reported once, at its start).
    failing: bool,
}

impl Worker {
    fn run(mut self, rx: Receiver<Message>) {
        let mut batch: Vec<Message> = Vec::new();
        let mut n_records = 0usize;
        loop {
            // Wait for the first message of a batch; a closed, empty queue ends the thread.
            let Ok(first) = rx.recv() else {
                return;
            };
            let deadline = Instant::now() + self.flush;
            n_records += self.take(&mut batch, first);
            let mut closed = false;
            while n_records < self.batch_limit {
                // Durable: commit as soon as the queue is momentarily empty (group commit:
                // what arrives during this commit makes the next batch), so a waiting
                // response is held for one commit, not for `flush`.
                let wait = if self.eager {
                    Duration::ZERO
                } else {
                    deadline.saturating_duration_since(Instant::now())
                };
                match rx.recv_timeout(wait) {
                    Ok(message) => n_records += self.take(&mut batch, message),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            }
            self.commit(std::mem::take(&mut batch));
            n_records = 0;
            if closed {
                return;
            }
        }
    }

    /// Moves a message into the batch; returns its records.
    fn take(&self, batch: &mut Vec<Message>, message: Message) -> usize {
        let n = message.records.len();
        batch.push(message);
        n
    }

    /// Commits the batch (with retries), gives its queue room back and answers every
    /// waiter.
    fn commit(&mut self, batch: Vec<Message>) {
        if batch.is_empty() {
            return;
        }
        let permits: usize = batch.iter().map(|m| m.permits).sum();
        let n: usize = batch.iter().map(|m| m.records.len()).sum();
        let _release = Release {
            space: self.space.clone(),
            metrics: self.metrics.clone(),
            permits,
            n,
        };
        let records: Vec<PredictionRecord> = if batch.len() == 1 {
            Vec::new()
        } else {
            batch
                .iter()
                .flat_map(|m| m.records.iter().cloned())
                .collect()
        };
        let all: &[PredictionRecord] = if batch.len() == 1 {
            &batch[0].records
        } else {
            &records
        };
        let result = self.append_with_retries(all);
        match result {
            Ok(()) => {
                self.recovered();
                for m in batch {
                    acknowledge(m.ack, Ok(()));
                }
            }
            Err(e) if batch.len() == 1 => {
                self.failed(all.len(), &e);
                for m in batch {
                    acknowledge(m.ack, Err(e.clone()));
                }
            }
            Err(e) => {
                // One bad request must not fail its neighbours: try each on its own.
                drop(records);
                let mut any_failed = false;
                for m in batch {
                    match self.append(&m.records) {
                        Ok(()) => acknowledge(m.ack, Ok(())),
                        Err(own) => {
                            any_failed = true;
                            self.failed(m.records.len(), &format!("{own} (batch: {e})"));
                            acknowledge(m.ack, Err(own));
                        }
                    }
                }
                if !any_failed {
                    self.recovered();
                }
            }
        }
    }

    fn append_with_retries(&self, records: &[PredictionRecord]) -> Result<(), String> {
        let mut result = self.append(records);
        for wait in RETRY_BACKOFF {
            if result.is_ok() {
                break;
            }
            std::thread::sleep(*wait);
            result = self.append(records);
        }
        result
    }

    /// One commit, timed and counted on success.
    fn append(&self, records: &[PredictionRecord]) -> Result<(), String> {
        let started = Instant::now();
        self.store
            .append_predictions(records)
            .map_err(|e| e.to_string())?;
        self.metrics.log_written(records.len(), started.elapsed());
        Ok(())
    }

    fn failed(&mut self, n: usize, error: &str) {
        self.metrics.log_failed(n);
        if !self.failing {
            self.failing = true;
            eprintln!(
                "capstan serve: the prediction log could not commit {n} record(s) after {} attempts: {error} (further failures are counted in capstan_prediction_log_failed_total)",
                RETRY_BACKOFF.len() + 1
            );
        }
    }

    fn recovered(&mut self) {
        if self.failing {
            self.failing = false;
            eprintln!("capstan serve: the prediction log commits again");
        }
    }
}

/// Gives a batch's queue room back when dropped (after its commit, however it went).
struct Release {
    space: Arc<Semaphore>,
    metrics: Arc<Metrics>,
    permits: usize,
    n: usize,
}

impl Drop for Release {
    fn drop(&mut self) {
        self.space.add_permits(self.permits);
        self.metrics.log_dequeued(self.n);
    }
}

fn acknowledge(ack: Option<oneshot::Sender<Result<(), String>>>, result: Result<(), String>) {
    if let Some(ack) = ack {
        // The waiter may have gone away (client disconnected); nothing to do then.
        let _ = ack.send(result);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::test_support::{TempDir, temp_store};
    use capstan_store::LogQuery;
    use serde_json::json;

    fn store() -> (TempDir, Arc<Store>) {
        temp_store("log-writer")
    }

    fn record(id: &str) -> PredictionRecord {
        PredictionRecord {
            id: id.to_string(),
            at: capstan_io::utc_now_rfc3339(),
            model: "churn".to_string(),
            version: 1,
            role: "champion".to_string(),
            inputs: json!({ "tenure": 12, "plan": "basic" }),
            outputs: json!({ "prediction": "no", "probabilities": [0.8, 0.2] }),
            latency_us: 250,
        }
    }

    fn records(prefix: &str, n: usize) -> Vec<PredictionRecord> {
        (0..n).map(|i| record(&format!("{prefix}-{i}"))).collect()
    }

    fn count(store: &Store) -> usize {
        store.query_predictions(&LogQuery::default()).unwrap().len()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn async_writes_all_land_after_shutdown_and_are_batched() {
        let (_dir, store) = store();
        let metrics = Arc::new(Metrics::new());
        let policy = LogPolicy::Async {
            queue: 100_000,
            flush_ms: 50,
        };
        let writer = Arc::new(LogWriter::start(store.clone(), policy, metrics.clone()));
        let rt = runtime();
        rt.block_on(async {
            let mut tasks = Vec::new();
            for t in 0..10 {
                let w = writer.clone();
                tasks.push(tokio::spawn(async move {
                    for r in 0..100 {
                        // 10 tasks x 100 requests x 10 rows = 10k records.
                        w.log(records(&format!("t{t}-r{r}"), 10)).await.unwrap();
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            writer.close().await;
        });
        assert_eq!(count(&store), 10_000);
        let c = metrics.log_counts();
        assert_eq!(
            (c.written, c.dropped, c.failed, c.queue_depth),
            (10_000, 0, 0, 0)
        );
        // 10k records in batches of up to 512: far fewer commits than requests (1000).
        assert!(c.batches >= 10_000 / MAX_BATCH_RECORDS as u64, "{c:?}");
        assert!(c.batches <= 200, "{c:?}");
        // Later submissions are dropped and counted, never block.
        rt.block_on(async { writer.log(records("late", 3)).await.unwrap() });
        assert_eq!(metrics.log_counts().dropped, 3);
        writer.shutdown(); // a second shutdown is a no-op
    }

    #[test]
    fn durable_records_are_queryable_when_log_returns() {
        let (_dir, store) = store();
        let metrics = Arc::new(Metrics::new());
        let policy = LogPolicy::Durable {
            queue: 1000,
            flush_ms: 20,
        };
        let writer = Arc::new(LogWriter::start(store.clone(), policy, metrics.clone()));
        let rt = runtime();
        rt.block_on(async {
            for i in 0..5 {
                let batch = records(&format!("d{i}"), 3);
                writer.log(batch).await.unwrap();
                let logged = store.query_predictions(&LogQuery::default()).unwrap();
                assert_eq!(logged.len(), (i + 1) * 3);
                assert_eq!(logged.last().unwrap().id, format!("d{i}-2"));
            }
            // Concurrent durable requests share commits (group commit).
            let mut tasks = Vec::new();
            for t in 0..50 {
                let w = writer.clone();
                let s = store.clone();
                tasks.push(tokio::spawn(async move {
                    let id = format!("g{t}");
                    w.log(vec![record(&id)]).await.unwrap();
                    let mine = s
                        .query_predictions(&LogQuery::default())
                        .unwrap()
                        .into_iter()
                        .any(|r| r.id == id);
                    assert!(mine, "{id} acknowledged but not in the log");
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            writer.close().await;
            // After shutdown a durable write is refused, not silently lost.
            let err = writer.log(vec![record("late")]).await.unwrap_err();
            assert!(err.contains("closed"), "{err}");
        });
        assert_eq!(count(&store), 65);
        let c = metrics.log_counts();
        assert!(c.batches < 5 + 50, "{c:?}");
    }

    #[test]
    fn full_queue_drops_and_counts() {
        let (_dir, store) = store();
        let metrics = Arc::new(Metrics::new());
        // A long flush keeps every record in the writer's batch: the queue (10 records)
        // only frees up at shutdown.
        let policy = LogPolicy::Async {
            queue: 10,
            flush_ms: 60_000,
        };
        let writer = LogWriter::start(store.clone(), policy, metrics.clone());
        // 9 of 10 taken: a full batch would commit at once, this one waits for the flush.
        let sizes_and_fits = [(4, true), (4, true), (4, false), (3, false), (1, true)];
        for (i, (n, fits)) in sizes_and_fits.into_iter().enumerate() {
            let ack = writer.submit(records(&format!("q{i}"), n));
            assert_eq!(ack.is_some(), fits, "submission {i} of {n}");
        }
        runtime().block_on(async {
            // The async policy drops too, and returns at once.
            writer.log(records("more", 3)).await.unwrap();
        });
        let c = metrics.log_counts();
        assert_eq!((c.dropped, c.queue_depth, c.written), (10, 9, 0));
        writer.shutdown();
        assert_eq!(count(&store), 9);
        let c = metrics.log_counts();
        assert_eq!((c.written, c.queue_depth, c.batches), (9, 0, 1));
    }

    #[test]
    fn shutdown_flushes_a_pending_batch() {
        let (_dir, store) = store();
        let metrics = Arc::new(Metrics::new());
        let policy = LogPolicy::Async {
            queue: 1000,
            flush_ms: 60_000,
        };
        let writer = LogWriter::start(store.clone(), policy, metrics.clone());
        let acks: Vec<Ack> = (0..7)
            .map(|i| writer.submit(records(&format!("s{i}"), 5)).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        // Still in the batch: the flush interval is a minute.
        assert_eq!(count(&store), 0);
        let started = Instant::now();
        writer.shutdown();
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(count(&store), 35);
        for mut ack in acks {
            assert_eq!(ack.try_recv().unwrap(), Ok(()));
        }
    }

    #[test]
    fn failed_commit_fails_only_its_own_request() {
        let (_dir, store) = store();
        store.append_predictions(&[record("taken")]).unwrap();
        let metrics = Arc::new(Metrics::new());
        let policy = LogPolicy::Durable {
            queue: 1000,
            flush_ms: 200,
        };
        let writer = Arc::new(LogWriter::start(store.clone(), policy, metrics.clone()));
        let rt = runtime();
        rt.block_on(async {
            // Same batch: a good request and one whose id already exists.
            let good = {
                let w = writer.clone();
                tokio::spawn(async move { w.log(records("fine", 3)).await })
            };
            let bad = {
                let w = writer.clone();
                tokio::spawn(async move { w.log(vec![record("ok-1"), record("taken")]).await })
            };
            assert_eq!(good.await.unwrap(), Ok(()));
            let err = bad.await.unwrap().unwrap_err();
            assert!(err.to_lowercase().contains("unique"), "{err}");
            // Alone in a batch, a bad request fails after the retries.
            let err = writer.log(vec![record("taken")]).await.unwrap_err();
            assert!(!err.is_empty());
            writer.close().await;
        });
        let ids: Vec<String> = store
            .query_predictions(&LogQuery::default())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["taken", "fine-0", "fine-1", "fine-2"]);
        let c = metrics.log_counts();
        assert_eq!((c.failed, c.written), (3, 3));
    }

    #[test]
    fn a_batch_holding_the_whole_queue_commits_at_once() {
        let (_dir, store) = store();
        let metrics = Arc::new(Metrics::new());
        let policy = LogPolicy::Durable {
            queue: 4,
            flush_ms: 60_000,
        };
        let writer = LogWriter::start(store.clone(), policy, metrics);
        let started = Instant::now();
        runtime().block_on(async {
            // Without the early commit, each of these would wait a minute for the flush.
            writer.log(records("w", 4)).await.unwrap();
            writer.log(records("x", 9)).await.unwrap();
        });
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(count(&store), 13);
        writer.shutdown();
    }

    #[test]
    fn off_does_nothing() {
        let (_dir, store) = store();
        let metrics = Arc::new(Metrics::new());
        let writer = LogWriter::start(store.clone(), LogPolicy::Off, metrics.clone());
        assert!(!writer.enabled());
        assert!(writer.submit(records("x", 2)).is_none());
        runtime().block_on(async {
            writer.log(records("y", 2)).await.unwrap();
        });
        writer.shutdown();
        assert_eq!(count(&store), 0);
        assert_eq!(metrics.log_counts(), crate::metrics::LogCounts::default());
    }

    #[test]
    fn a_request_larger_than_the_queue_still_fits() {
        let (_dir, store) = store();
        let metrics = Arc::new(Metrics::new());
        let policy = LogPolicy::Durable {
            queue: 8,
            flush_ms: 5,
        };
        let writer = LogWriter::start(store.clone(), policy, metrics);
        runtime().block_on(async {
            writer.log(records("big", 1000)).await.unwrap();
        });
        writer.shutdown();
        assert_eq!(count(&store), 1000);
    }
}
