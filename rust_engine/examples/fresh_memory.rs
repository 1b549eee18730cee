//! How fast this machine writes memory the kernel has just handed out (page faults and
//! zeroing included), with 4 KiB pages and with the huge-page advice the trace arena
//! gets (`trace::pages`). A trace writes ~170 bytes per event into such memory, so this
//! bounds how fast any run can produce it.
//!
//! `cargo run --release -p rust_engine --example fresh_memory -- [MIB ...]`
//! (default sizes: 8 MiB ≈ a 50k-event trace, 850 MiB ≈ a 5M-event trace; best of 5).
use std::time::Instant;

fn fill(bytes: usize, huge: bool) -> f64 {
    let words = bytes / 8;
    let t0 = Instant::now();
    let mut v: Vec<u64> = if huge {
        omega_rust::trace::pages::with_capacity(words)
    } else {
        Vec::with_capacity(words)
    };
    v.extend(0..u64::try_from(words).unwrap_or(u64::MAX));
    std::hint::black_box(&v);
    t0.elapsed().as_secs_f64()
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![8, 850]
    } else {
        sizes
    };
    for mib in sizes {
        for huge in [false, true] {
            let best = (0..5)
                .map(|_| fill(mib << 20, huge))
                .fold(f64::INFINITY, f64::min);
            #[allow(clippy::cast_precision_loss)]
            let gib = mib as f64 / 1024.0;
            println!(
                "{mib:5} MiB fresh, huge-page advice {huge:5}: {:8.2} ms, {:5.2} GiB/s",
                best * 1e3,
                gib / best
            );
        }
    }
}
