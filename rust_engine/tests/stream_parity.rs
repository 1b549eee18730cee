//! Parity of the Rust stream reader/validator with the legacy Python loader:
//!
//! * the golden corpus (`golden/streams/*.arrow`) reads and validates, with the event
//!   and per-series counts, timestamps and instruments of `golden/streams/index.json`;
//! * every bad stream of `tests/fixtures/bad_streams/` (written by
//!   `scripts/gen_stream_error_fixtures.py`) is rejected with the same Python class
//!   name and the same `str(exc)` as `legacy_py.loader.load_stream`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use omega_rust::stream::{read_ipc_file, validate_batches};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

// ----------------------------------------------------------- a tiny JSON reader

/// The top-level objects of a JSON array, as source slices (strings respected).
fn top_level_objects(text: &str) -> Vec<&str> {
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0usize);
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => {
                depth += 1;
                if depth == 1 {
                    start = i;
                }
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(&text[start..=i]);
                }
            }
            _ => {}
        }
    }
    out
}

/// The raw text of the value after `"key":` (up to `,` / `}` / `]`, or a `{...}` object).
fn raw_value<'a>(object: &'a str, key: &str) -> &'a str {
    let needle = format!("\"{key}\":");
    let at = object
        .find(&needle)
        .unwrap_or_else(|| panic!("no key {key}"))
        + needle.len();
    let rest = object[at..].trim_start();
    if rest.starts_with('{') {
        return top_level_objects(rest)[0];
    }
    let end = rest.find([',', '}', ']', '\n']).unwrap_or(rest.len());
    rest[..end].trim()
}

fn string_value(object: &str, key: &str) -> String {
    raw_value(object, key).trim_matches('"').to_owned()
}

fn int_value(object: &str, key: &str) -> i64 {
    raw_value(object, key).parse().expect("integer")
}

fn float_value(object: &str, key: &str) -> f64 {
    raw_value(object, key).parse().expect("float")
}

/// `"series": {"H1_ask": 5000, ...}` as a map.
fn series_counts(object: &str) -> BTreeMap<String, usize> {
    let inner = raw_value(object, "series");
    inner
        .trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (k, v) = part.split_once(':').expect("key: value");
            (
                k.trim().trim_matches('"').to_owned(),
                v.trim().parse().expect("count"),
            )
        })
        .collect()
}

// ------------------------------------------------------------------ the corpus

#[test]
fn corpus_reads_and_validates_with_index_counts() {
    let dir = repo_root().join("golden").join("streams");
    let index = std::fs::read_to_string(dir.join("index.json")).expect("index.json");
    let entries = top_level_objects(index.trim_start().trim_start_matches('['));
    assert_eq!(entries.len(), 5, "corpus entries");
    let mut total = 0;
    for entry in entries {
        let file = string_value(entry, "file");
        let path = dir.join(&file);
        let (schema, batches) = read_ipc_file(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        // The corpus is written in canonical order: it must pass with require_sorted.
        let stream = validate_batches(&schema, &batches, true)
            .unwrap_or_else(|e| panic!("{file}: {}: {e}", e.python_class()));
        let events = usize::try_from(int_value(entry, "events")).unwrap();
        assert_eq!(stream.len(), events, "{file}: events");
        assert!(
            stream.canonical_order().is_none(),
            "{file}: canonical order"
        );
        let cols = stream.columns();
        assert_eq!(
            cols.timestamp[0],
            int_value(entry, "first_timestamp"),
            "{file}"
        );
        assert_eq!(
            cols.timestamp[events - 1],
            int_value(entry, "last_timestamp"),
            "{file}"
        );
        let mut series: BTreeMap<String, usize> = BTreeMap::new();
        for i in 0..cols.len() {
            let key = format!("{}_{}", cols.timeframe[i], cols.price_type[i]);
            *series.entry(key).or_default() += 1;
        }
        assert_eq!(series, series_counts(entry), "{file}: series");
        assert_eq!(stream.instrument.symbol, string_value(entry, "symbol"));
        assert_eq!(
            stream.instrument.tick_size.to_bits(),
            float_value(entry, "tick_size").to_bits()
        );
        assert_eq!(
            stream.instrument.contract_size.to_bits(),
            float_value(entry, "contract_size").to_bits()
        );
        if batches.len() == 1 {
            // Zero-copy: the validated column is the batch's buffer (over the mmap).
            let open = batches[0]
                .column(schema.index_of("open").unwrap())
                .as_primitive::<Float64Type>();
            assert_eq!(cols.open.as_ptr(), open.values().as_ptr(), "{file}");
        }
        total += events;
    }
    assert_eq!(total, 10_000 + 12_414 + 4_296 + 100_000 + 14_600);
}

#[test]
fn corpus_100k_validation_time() {
    let path = repo_root().join("golden/streams/synthetic_m1_50k.arrow");
    let t0 = Instant::now();
    let (schema, batches) = read_ipc_file(&path).expect("read");
    let read = t0.elapsed();
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let stream = validate_batches(&schema, &batches, true).expect("valid");
        best = best.min(t.elapsed());
        assert_eq!(stream.len(), 100_000);
    }
    eprintln!(
        "synthetic_m1_50k (100k events): read_ipc_file {:.3} ms, validate_batches best of 5 \
         {:.3} ms",
        read.as_secs_f64() * 1e3,
        best.as_secs_f64() * 1e3
    );
    // Generous bound so that unoptimised test builds pass too; release is ~1 ms.
    assert!(best.as_secs_f64() < 2.0);
}

// ------------------------------------------------------------ the bad streams

#[test]
fn bad_streams_match_python_class_and_message() {
    let dir = repo_root()
        .join("tests")
        .join("fixtures")
        .join("bad_streams");
    let expected = std::fs::read_to_string(dir.join("expected.txt")).expect("expected.txt");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in expected.lines().filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.splitn(4, '\t').collect();
        let [name, sorted, class, message] = parts[..] else {
            panic!("malformed line: {line:?}");
        };
        let (schema, batches) =
            read_ipc_file(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        match validate_batches(&schema, &batches, sorted == "1") {
            Ok(_) => failures.push(format!("{name}: accepted; Python: {class}: {message}")),
            Err(e) => {
                let got = e.to_string();
                if e.python_class() != class || got != message {
                    failures.push(format!(
                        "{name}:\n  rust:   {}: {got}\n  python: {class}: {message}",
                        e.python_class()
                    ));
                }
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 40, "only {checked} fixtures");
}
