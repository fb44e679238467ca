//! Runs a tree's growth on the thread pool with one idle worker kept awake.
//!
//! A tree's growth forks hundreds of small parallel pieces (one or two per split). A rayon
//! worker that finds no work sleeps after a few microseconds, and waking it costs more than
//! many of those pieces: on 2 cores the second thread mostly slept through a tree. While a
//! tree grows, one idle worker therefore polls for work instead, yielding the CPU between
//! polls. It stops polling after `MAX_IDLE` without work, or as soon as one yield takes longer
//! than `BUSY_YIELD`: another thread wanted this core, and a polling thread would slow it down
//! (the OpenMP spin-wait problem on a busy machine).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The helper stops polling after this long without finding work.
const MAX_IDLE: Duration = Duration::from_millis(20);

/// A yield this long means another thread ran on this core: the machine is busy.
const BUSY_YIELD: Duration = Duration::from_micros(500);

/// Runs `op` on the global pool (not on the calling thread when it is outside the pool, so
/// `op`'s forks do not each wake the pool from outside) with one helper kept awake.
///
/// Called from a pool worker (trials run in parallel, a caller's `install`), `op` runs right
/// there without a helper: the pool may be busy with other work, and a worker blocked in
/// another job's join could pick up the helper and hold that join until `op` ends.
pub(crate) fn run<R: Send>(op: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return op();
    }
    let done = AtomicBool::new(false);
    let done = &done;
    rayon::scope(|s| {
        let owner = rayon::current_thread_index();
        if rayon::current_num_threads() > 1 {
            s.spawn(move |_| poll(done, owner));
        }
        let out = op();
        done.store(true, Ordering::Release);
        out
    })
}

/// Executes the pool's pending work until `done`, the idle limit, or a sign of a busy
/// machine; never on the thread running `op` (it would poll instead of finishing `op`).
fn poll(done: &AtomicBool, owner: Option<usize>) {
    if rayon::current_thread_index() == owner {
        return;
    }
    let mut idle_since: Option<Instant> = None;
    while !done.load(Ordering::Acquire) {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => idle_since = None,
            Some(rayon::Yield::Idle) => {
                let now = Instant::now();
                if now - *idle_since.get_or_insert(now) > MAX_IDLE {
                    return;
                }
                std::thread::yield_now();
                if now.elapsed() > BUSY_YIELD {
                    return;
                }
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    #[test]
    fn runs_the_operation_on_any_pool_size() {
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let sum: u64 = pool.install(|| super::run(forks));
            assert_eq!(sum, expected(), "{threads} threads");
        }
    }

    /// Many small joins and parallel sums.
    fn forks() -> u64 {
        (0..1000u64)
            .map(|i| rayon::join(|| i, || (0..i).into_par_iter().sum::<u64>()).1)
            .sum()
    }

    fn expected() -> u64 {
        (0..1000u64).map(|i| i * i.saturating_sub(1) / 2).sum()
    }

    #[test]
    fn runs_from_outside_the_pool_with_the_helper_and_nested() {
        assert_eq!(super::run(forks), expected());
        assert_eq!(super::run(|| super::run(|| 7)), 7);
    }
}
