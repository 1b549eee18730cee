//! Many native runs at once: one strategy over many validated streams, or one stream
//! over a parameter grid, on a `rayon` pool.
//!
//! Determinism (`docs/determinism.md` rule 8): parallelism is only *across* runs. Each
//! run is [`run_job`] — sequential, the same code as a single run — so its trace is
//! bit-identical to the same run executed alone, whatever the thread count. Results
//! are returned in input order (slot `i` holds job `i`); nothing is reduced across
//! runs, so no float is ever combined in a thread-dependent order.
//!
//! Cancellation: the calling thread does not work in the pool; it waits for results
//! and calls `poll` at least every `poll_every`. When `poll` returns `true` a shared
//! flag is raised; every run checks it every [`JOB_POLL_EVENTS`] events (an atomic
//! load) and jobs not yet started see it first, so all of them end promptly with
//! [`NativeError::Cancelled`]. Panics are caught per job
//! ([`NativeError::Panicked`]), so one failing run never loses the others' results.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::event::ledger::PARALLEL_ROWS;
use crate::strategies::{run_job, NativeError, NativeJob};
use crate::stream::ValidatedStream;
use crate::trace::TraceData;

/// Events between two checks of the cancellation flag inside a run.
pub const JOB_POLL_EVENTS: u32 = 4096;

/// One run of [`run_many`]: a job over `streams[stream]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParallelJob {
    /// Index into the `streams` slice.
    pub stream: usize,
    /// What to run.
    pub job: NativeJob,
}

/// The pool could not be set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolError(pub String);

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PoolError {}

/// Per-job outcomes, in input order.
pub type Outcomes<T> = Vec<Result<T, NativeError>>;

/// The default thread count: the machine's available parallelism (never an
/// environment variable, so results and pool size do not depend on one).
#[must_use]
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

fn one<S, T, F>(
    streams: &[S],
    job: &ParallelJob,
    cancel: &AtomicBool,
    finish: &F,
) -> Result<T, NativeError>
where
    S: std::borrow::Borrow<ValidatedStream>,
    F: Fn(TraceData) -> Result<T, NativeError>,
{
    if cancel.load(Ordering::Relaxed) {
        return Err(NativeError::Cancelled);
    }
    let Some(stream) = streams.get(job.stream) else {
        return Err(NativeError::Config(format!(
            "job refers to stream {} of {}",
            job.stream,
            streams.len()
        )));
    };
    let trace = run_job(
        stream.borrow(),
        &job.job,
        &mut || cancel.load(Ordering::Relaxed),
        JOB_POLL_EVENTS,
    )?;
    finish(trace)
}

/// Whether work over `rows` rows of one run goes to the run's helper thread
/// ([`join_local`]): at least [`PARALLEL_ROWS`] rows, and not inside a pool, whose
/// threads run other runs.
#[must_use]
pub fn split_onto_helper(rows: usize) -> bool {
    rows >= PARALLEL_ROWS && rayon::current_thread_index().is_none()
}

/// Run `a` and `b` on two threads and return both results (a two-way split of one
/// run's work; each value is still computed by one thread, by sequential code).
///
/// Inside a rayon pool (a [`run_many`] worker) this is `rayon::join`, so a run never
/// uses more threads than its pool has. Otherwise `b` runs on a scoped thread that
/// exits when done: unlike waking the global rayon pool, it leaves no idle worker
/// spinning next to the rest of the (sequential) run on a small machine. A panic in
/// either closure propagates to the caller.
pub fn join2<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if rayon::current_thread_index().is_some() {
        return rayon::join(a, b);
    }
    std::thread::scope(|scope| {
        let other = scope.spawn(b);
        let ra = a();
        match other.join() {
            Ok(rb) => (ra, rb),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })
}

/// Run `a` on this thread and `b` on a helper thread at the same time, and return
/// both results. Only `b` crosses threads (so `a` may hold the GIL or other
/// thread-bound state); a panic in either propagates to the caller once both ended.
///
/// The helper is one long-lived thread (a one-thread rayon pool, started on first
/// use: starting a thread costs ~80 µs on a small VM, waking one far less). When it
/// is busy — another run at the same time, or a run started from inside a run's
/// callback — or in a child process forked after it started (the child has no such
/// thread), `b` gets a scoped thread of its own instead, so runs never wait for each
/// other or for a thread that is not there.
pub fn join_local<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: FnOnce() -> RB + Send,
    RB: Send,
{
    let (ra, rb) = match Helper::claim() {
        Some(helper) => {
            let mut rb = None;
            let ra = helper.pool.in_place_scope(|scope| {
                let slot = &mut rb;
                scope.spawn(move |_| *slot = Some(catch_unwind(AssertUnwindSafe(b))));
                catch_unwind(AssertUnwindSafe(a))
            });
            drop(helper);
            let rb = rb.unwrap_or_else(|| Err(Box::new("the helper job did not run")));
            (ra, rb)
        }
        None => std::thread::scope(|scope| {
            let other = scope.spawn(b);
            let ra = catch_unwind(AssertUnwindSafe(a));
            (ra, other.join())
        }),
    };
    match (ra, rb) {
        (Ok(ra), Ok(rb)) => (ra, rb),
        (Err(payload), _) | (_, Err(payload)) => std::panic::resume_unwind(payload),
    }
}

/// The helper thread of [`join_local`], claimed for one call.
struct Helper {
    pool: &'static rayon::ThreadPool,
}

static HELPER_BUSY: AtomicBool = AtomicBool::new(false);

impl Helper {
    /// The helper, unless it is busy (or cannot be started).
    fn claim() -> Option<Helper> {
        // (the process that started it: a child made by `fork` inherits the pool but
        // not its thread, so it must never hand the pool a job)
        static POOL: std::sync::OnceLock<Option<(u32, rayon::ThreadPool)>> =
            std::sync::OnceLock::new();
        let (owner, pool) = POOL
            .get_or_init(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(|_| "omega-helper".to_owned())
                    .build()
                    .ok()
                    .map(|pool| (std::process::id(), pool))
            })
            .as_ref()?;
        if *owner != std::process::id() {
            return None;
        }
        HELPER_BUSY
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Helper { pool })
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        HELPER_BUSY.store(false, Ordering::Release);
    }
}

/// Run every job on a pool of `threads` threads; `finish` post-processes each trace
/// in its worker (e.g. builds Arrow batches), `poll` is called on the calling thread
/// at least every `poll_every` while runs are in progress.
///
/// # Errors
/// [`PoolError`] when `threads == 0` or the pool cannot start. Per-run failures are
/// in the returned vector.
pub fn run_many_with<S, T, F>(
    streams: &[S],
    jobs: &[ParallelJob],
    threads: usize,
    finish: F,
    poll: &mut dyn FnMut() -> bool,
    poll_every: Duration,
) -> Result<Outcomes<T>, PoolError>
where
    S: std::borrow::Borrow<ValidatedStream> + Sync,
    T: Send,
    F: Fn(TraceData) -> Result<T, NativeError> + Sync,
{
    if threads == 0 {
        return Err(PoolError("threads must be >= 1".to_owned()));
    }
    let workers = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("omega-native-{i}"))
        .build()
        .map_err(|e| PoolError(format!("cannot start the thread pool: {e}")))?;
    let cancel = AtomicBool::new(false);
    let mut outcomes: Vec<Option<Result<T, NativeError>>> = jobs.iter().map(|_| None).collect();
    let (tx, rx) = mpsc::channel::<(usize, Result<T, NativeError>)>();
    workers.in_place_scope_fifo(|scope| {
        for (i, job) in jobs.iter().enumerate() {
            let tx = tx.clone();
            let (cancel, finish) = (&cancel, &finish);
            scope.spawn_fifo(move |_| {
                let result = catch_unwind(AssertUnwindSafe(|| one(streams, job, cancel, finish)))
                    .unwrap_or_else(|p| Err(NativeError::Panicked(panic_message(p.as_ref()))));
                // The receiver lives until every job has reported.
                let _ = tx.send((i, result));
            });
        }
        drop(tx);
        let mut received = 0;
        let mut last_poll = Instant::now();
        while received < jobs.len() {
            let wait = poll_every.saturating_sub(last_poll.elapsed());
            match rx.recv_timeout(wait) {
                Ok((i, result)) => {
                    outcomes[i] = Some(result);
                    received += 1;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if last_poll.elapsed() >= poll_every {
                last_poll = Instant::now();
                if !cancel.load(Ordering::Relaxed) && poll() {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        }
    });
    Ok(outcomes
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Err(NativeError::Panicked("a job did not report".into()))))
        .collect())
}

/// [`run_many_with`] returning the traces, without cancellation.
///
/// # Errors
/// As [`run_many_with`].
pub fn run_many(
    streams: &[ValidatedStream],
    jobs: &[ParallelJob],
    threads: usize,
) -> Result<Outcomes<TraceData>, PoolError> {
    run_many_with(
        streams,
        jobs,
        threads,
        Ok,
        &mut || false,
        Duration::from_millis(100),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::tests::{synthetic_stream, trace_fingerprint};
    use crate::strategies::{ParamValue, Params, STRATEGY_NAMES};

    #[test]
    fn join2_returns_both_results_and_propagates_panics() {
        let main = std::thread::current().id();
        // outside a pool: `b` on another (scoped) thread, `a` on this one
        let ((a, a_thread), (b, b_thread)) = join2(
            || ((1..=10).sum::<i32>(), std::thread::current().id()),
            || ("b", std::thread::current().id()),
        );
        assert_eq!((a, b), (55, "b"));
        assert_eq!(a_thread, main);
        assert_ne!(b_thread, main);
        let caught = std::panic::catch_unwind(|| join2(|| 1, || -> i32 { panic!("in b") }));
        let payload = caught.expect_err("the panic must reach the caller");
        assert_eq!(panic_message(payload.as_ref()), "in b");
        // inside a one-thread pool: rayon::join, so no thread beyond the pool's
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let (x, y) =
            pool.install(|| join2(rayon::current_thread_index, rayon::current_thread_index));
        assert_eq!((x, y), (Some(0), Some(0)));
    }

    #[test]
    fn join_local_runs_both_sides_at_once_and_nests_without_deadlock() {
        // `b` consumes what `a` produces: they must run at the same time
        let (tx, rx) = mpsc::channel();
        let (count, sum) = join_local(
            move || {
                for i in 0..100 {
                    tx.send(i).expect("receiver alive");
                }
                100
            },
            move || rx.iter().sum::<i32>(),
        );
        assert_eq!((count, sum), (100, 4950));
        // A call inside `a` (a run started from a callback) finds the helper busy
        // with the outer `b`, which waits for the outer `a`: it must get a thread of
        // its own, or this deadlocks.
        let (outer_tx, outer_rx) = mpsc::channel::<i32>();
        let (inner, outer) = join_local(
            move || {
                let (tx, rx) = mpsc::channel();
                let inner = join_local(move || tx.send(7).is_ok(), move || rx.recv().ok());
                outer_tx.send(1).expect("receiver alive");
                inner
            },
            move || outer_rx.recv().ok(),
        );
        assert_eq!((inner, outer), ((true, Some(7)), Some(1)));
        // panics reach the caller from either side; the helper is free afterwards
        let caught = catch_unwind(|| join_local(|| 1, || -> i32 { panic!("in b") }));
        assert_eq!(
            panic_message(caught.expect_err("b panicked").as_ref()),
            "in b"
        );
        let caught = catch_unwind(|| join_local(|| -> i32 { panic!("in a") }, || 2));
        assert_eq!(
            panic_message(caught.expect_err("a panicked").as_ref()),
            "in a"
        );
        assert_eq!(join_local(|| 5, || 6), (5, 6));
    }

    fn grid_jobs() -> Vec<ParallelJob> {
        let mut jobs = Vec::new();
        for (i, name) in STRATEGY_NAMES.iter().enumerate() {
            let mut job = NativeJob::new(name);
            job.seed = i64::try_from(i).unwrap_or(0) * 7 - 3;
            jobs.push(ParallelJob { stream: i % 2, job });
        }
        for fast in 1..=4 {
            let mut job = NativeJob::new("sma_cross");
            job.params = Params::new()
                .with("fast", ParamValue::Int(fast))
                .with("slow", ParamValue::Int(fast + 3));
            jobs.push(ParallelJob { stream: 1, job });
        }
        jobs
    }

    #[test]
    fn parallel_runs_equal_single_runs_in_input_order() {
        let streams = vec![synthetic_stream(400, 1), synthetic_stream(700, 2)];
        let jobs = grid_jobs();
        let alone: Vec<String> = jobs
            .iter()
            .map(|j| {
                let t = crate::strategies::run_to_end(&streams[j.stream], &j.job);
                trace_fingerprint(&t.expect("run"))
            })
            .collect();
        for threads in [1, 2, 3] {
            let out = run_many(&streams, &jobs, threads).expect("pool");
            let got: Vec<String> = out
                .into_iter()
                .map(|r| trace_fingerprint(&r.expect("run")))
                .collect();
            assert_eq!(got, alone, "threads={threads}");
        }
    }

    #[test]
    fn zero_threads_and_bad_stream_index_are_errors() {
        let streams = vec![synthetic_stream(50, 1)];
        assert!(run_many(&streams, &[], 0).is_err());
        let jobs = vec![ParallelJob {
            stream: 3,
            job: NativeJob::new("noop"),
        }];
        let out = run_many(&streams, &jobs, 1).expect("pool");
        assert!(matches!(&out[0], Err(NativeError::Config(m)) if m.contains("stream 3")));
    }

    #[test]
    fn cancellation_stops_every_run() {
        let streams = vec![synthetic_stream(20_000, 3)];
        let jobs: Vec<ParallelJob> = (0..6)
            .map(|_| ParallelJob {
                stream: 0,
                job: NativeJob::new("sma_cross"),
            })
            .collect();
        let out = run_many_with(
            &streams,
            &jobs,
            2,
            Ok,
            &mut || true,
            Duration::from_millis(0),
        )
        .expect("pool");
        assert_eq!(out.len(), 6);
        assert!(out.iter().any(|r| matches!(r, Err(NativeError::Cancelled))));
    }

    #[test]
    fn a_failing_job_keeps_the_others() {
        let streams = vec![synthetic_stream(100, 1)];
        let mut bad = NativeJob::new("nope");
        bad.seed = 1;
        let jobs = vec![
            ParallelJob {
                stream: 0,
                job: NativeJob::new("noop"),
            },
            ParallelJob {
                stream: 0,
                job: bad,
            },
            ParallelJob {
                stream: 0,
                job: NativeJob::new("churn"),
            },
        ];
        let out = run_many_with(
            &streams,
            &jobs,
            2,
            |t| {
                if t.summary.strategy == "noop" {
                    Ok(1)
                } else {
                    panic!("unexpected")
                }
            },
            &mut || false,
            Duration::from_millis(10),
        )
        .expect("pool");
        assert_eq!(out[0], Ok(1));
        assert!(matches!(&out[1], Err(NativeError::Config(m)) if m.contains("unknown strategy")));
        assert_eq!(out[2], Err(NativeError::Panicked("unexpected".to_owned())));
    }
}
