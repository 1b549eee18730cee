//! Times the phases of one native run: validation, the run, the Arrow trace batches.
//!
//! `cargo run --release -p rust_engine --example phase_timing -- FILE.arrow [ROUNDS] [STRATEGY]`
//! (best of ROUNDS; FILE is an Arrow IPC candle stream, e.g. one cached by
//! `scripts/bench_native.py`). A profiling aid: no Python, so `perf record` sees only Rust.
use std::path::Path;
use std::time::Instant;

use omega_rust::strategies::{run_to_end, NativeJob};
use omega_rust::stream::read_ipc_file;
use omega_rust::stream::validate_batches;
use omega_rust::trace::arrow::trace_batches;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let rounds: usize = args.get(2).map_or(20, |s| s.parse().unwrap());
    let name = args.get(3).map_or("sma_cross", String::as_str);
    let (schema, batches) = read_ipc_file(Path::new(path)).unwrap();
    let mut best = [f64::INFINITY; 3];
    let mut n = 0;
    for _ in 0..rounds {
        let t0 = Instant::now();
        let stream = validate_batches(&schema, &batches, false).unwrap();
        let t1 = Instant::now();
        let trace = run_to_end(&stream, &NativeJob::new(name)).unwrap();
        let t2 = Instant::now();
        let b = trace_batches(trace).unwrap();
        let t3 = Instant::now();
        n = stream.len();
        drop(b);
        for (k, d) in [(0, t1 - t0), (1, t2 - t1), (2, t3 - t2)] {
            best[k] = best[k].min(d.as_secs_f64());
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    for (k, label) in ["validate", "run", "batches"].iter().enumerate() {
        println!(
            "{label:9} {:8.3} ms {:7.1} ns/ev",
            best[k] * 1e3,
            best[k] * 1e9 / nf
        );
    }
    // A prepared stream (validated once, as `omega_rust.prepare_stream` and cached
    // `CandleStream`s are): run + batches per round, the stream's shared series
    // columns reused.
    let stream = validate_batches(&schema, &batches, false).unwrap();
    let mut prepared = f64::INFINITY;
    for _ in 0..rounds {
        let t0 = Instant::now();
        let trace = run_to_end(&stream, &NativeJob::new(name)).unwrap();
        let b = trace_batches(trace).unwrap();
        prepared = prepared.min(t0.elapsed().as_secs_f64());
        drop(b);
    }
    println!(
        "prepared  {:8.3} ms {:7.1} ns/ev  (run + batches, validated once)",
        prepared * 1e3,
        prepared * 1e9 / nf
    );
    // Sub-phases of the run, for orientation.
    let job = NativeJob::new(name);
    let (tf, higher) = omega_rust::strategies::resolve_timeframes(&stream, &job);
    let requests = omega_rust::strategies::build(name, &job.params, tf, higher)
        .unwrap()
        .indicators();
    let cache = omega_rust::indicators::IndicatorCache::new(&requests).unwrap();
    let mut sub = [f64::INFINITY; 3];
    let series = stream.event_series();
    for _ in 0..rounds {
        let t0 = Instant::now();
        let cols = cache.bar_columns(stream.columns(), stream.canonical_order(), &series);
        let t1 = Instant::now();
        let ev = omega_rust::trace::EventColumns::new(Vec::new(), stream.len());
        let t2 = Instant::now();
        let mut acc = 0.0;
        for c in omega_rust::event::queue::EventQueue::of_stream(&stream) {
            acc += c.close;
        }
        let t3 = Instant::now();
        std::hint::black_box((cols, ev, acc));
        for (k, d) in [(0, t1 - t0), (1, t2 - t1), (2, t3 - t2)] {
            sub[k] = sub[k].min(d.as_secs_f64());
        }
    }
    for (k, label) in ["  indicators (per bar)", "  alloc trace", "  queue walk"]
        .iter()
        .enumerate()
    {
        println!(
            "{label:12} {:8.3} ms {:7.1} ns/ev",
            sub[k] * 1e3,
            sub[k] * 1e9 / nf
        );
    }
}
