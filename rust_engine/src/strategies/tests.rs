//! Unit tests of the native strategies: parameters, decisions on hand-made indicator
//! values, metadata spelling, signal validation, cancellation and whole runs on a
//! synthetic stream. Bit-for-bit parity with the Python strategies over the corpus is
//! tested from Python (`tests/test_native.py`).

#![allow(clippy::float_cmp)] // bit-exact comparisons are the point of these tests

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};

use super::*;
use crate::event::types::{PriceType, Side, SignalType, Timeframe};
use crate::stream::validate_batches;

// ------------------------------------------------------------------ helpers

const MIN_US: i64 = 60_000_000;

/// A deterministic random-walk stream: `n_bars` M1 bid/ask bars plus M5 bid/ask
/// aggregates, prices on a 1e-5 grid (so SMA ties happen), in canonical order.
pub(crate) fn synthetic_stream(n_bars: usize, seed: u64) -> ValidatedStream {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut ticks: i64 = 110_000;
    let mut bars: Vec<[i64; 4]> = Vec::with_capacity(n_bars);
    for _ in 0..n_bars {
        let open = ticks;
        let mut hi = open;
        let mut lo = open;
        for _ in 0..4 {
            let step = i64::try_from(next() % 7).unwrap_or(0) - 3;
            ticks = (ticks + step).max(100);
            hi = hi.max(ticks);
            lo = lo.min(ticks);
        }
        bars.push([open, hi, lo, ticks]);
    }
    let mut ts = Vec::new();
    let mut tf = Vec::new();
    let mut pt = Vec::new();
    let mut cols: [Vec<f64>; 5] = Default::default();
    #[allow(clippy::cast_precision_loss)]
    let mut push = |t: i64, frame: &'static str, b: [i64; 4], spread: i64| {
        for (side, extra) in [("bid", 0), ("ask", spread)] {
            ts.push(t);
            tf.push(frame);
            pt.push(side);
            for (k, v) in b.iter().enumerate() {
                cols[k].push((v + extra) as f64 * 1e-5);
            }
            cols[4].push(100.0);
        }
    };
    for (i, b) in bars.iter().enumerate() {
        let t = i64::try_from(i + 1).unwrap_or(0) * MIN_US;
        push(t, "M1", *b, 2);
        if (i + 1) % 5 == 0 {
            let group = &bars[i - 4..=i];
            let agg = [
                group[0][0],
                group.iter().map(|g| g[1]).max().unwrap_or(0),
                group.iter().map(|g| g[2]).min().unwrap_or(0),
                group[4][3],
            ];
            push(t, "M5", agg, 2);
        }
    }
    let [open, high, low, close, volume] = cols;
    let f = |v: Vec<f64>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ts)),
        Arc::new(StringArray::from(tf)),
        Arc::new(StringArray::from(pt)),
        f(open),
        f(high),
        f(low),
        f(close),
        f(volume),
    ];
    let names = [
        "timestamp",
        "timeframe",
        "price_type",
        "open",
        "high",
        "low",
        "close",
        "volume",
    ];
    let fields: Vec<Field> = names
        .iter()
        .zip(&columns)
        .map(|(n, c)| Field::new(*n, c.data_type().clone(), false))
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch");
    let schema = batch.schema();
    validate_batches(&schema, &[batch], true).expect("valid stream")
}

/// A textual fingerprint of a whole trace (`{:?}` spells floats round-trip exactly).
pub(crate) fn trace_fingerprint(t: &TraceData) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}",
        t.events, t.fills, t.trades, t.summary
    )
}

fn candle(close: f64) -> Candle {
    Candle {
        timestamp: MIN_US,
        timeframe: Timeframe::M1,
        price_type: PriceType::Bid,
        open: close,
        high: close,
        low: close,
        close,
        volume: 1.0,
    }
}

fn bound(mut s: Box<dyn NativeStrategy>) -> Box<dyn NativeStrategy> {
    let cache = IndicatorCache::new(&s.indicators()).expect("specs");
    for slot in s.slots_mut() {
        slot.bind(cache.output_names()).expect("bind");
    }
    s
}

fn strategy(name: &str, params: &Params) -> Box<dyn NativeStrategy> {
    bound(build(name, params, Timeframe::M1, Timeframe::M5).expect("build"))
}

fn config_err(name: &str, params: &Params) -> String {
    match build(name, params, Timeframe::M1, Timeframe::M1) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.message().to_owned(),
    }
}

fn position(side: Side) -> OpenPosition {
    OpenPosition {
        position_id: 1,
        side,
        quantity: 1.0,
        entry_price: 1.0,
        entry_timestamp: 0,
        entry_event: 0,
        entry_commission: 0.0,
        stop_loss: None,
        take_profit: None,
        exit_pending: false,
    }
}

/// `mtf_trend`'s value slice: ema fast, ema slow, macd (3 outputs), atr, trend ema.
fn mtf(
    fast: Option<f64>,
    slow: Option<f64>,
    macd: Option<f64>,
    atr: Option<f64>,
    trend: Option<f64>,
) -> [Option<f64>; 7] {
    [fast, slow, macd, None, None, atr, trend]
}

fn int(i: i64) -> ParamValue {
    ParamValue::Int(i)
}

fn float(x: f64) -> ParamValue {
    ParamValue::Float(x)
}

// ------------------------------------------------------------------ params and registry

#[test]
fn registry_knows_the_six_strategies() {
    for name in STRATEGY_NAMES {
        let s = build(name, &Params::new(), Timeframe::H1, Timeframe::H4).expect(name);
        assert_eq!(s.name(), name);
        assert_eq!(s.subscriptions()[0], (Timeframe::H1, PriceType::Bid));
        assert!(default_config(name).is_some());
    }
    assert_eq!(
        config_err("nope", &Params::new()),
        "unknown strategy 'nope'; known: churn, donchian_breakout, mtf_trend, noop, \
         rsi_reversion, sma_cross"
    );
    assert!(default_config("nope").is_none());
}

#[test]
fn params_follow_the_legacy_checks() {
    let p = Params::new().with("zeta", int(1)).with("alpha", float(1.0));
    assert_eq!(
        config_err("sma_cross", &p),
        "strategy 'sma_cross': unknown params ['alpha', 'zeta']"
    );
    let p = Params::new().with("fast", float(2.0));
    assert_eq!(
        config_err("sma_cross", &p),
        "strategy 'sma_cross': param 'fast' must be int, got 2.0"
    );
    let p = Params::new().with("fast", int(30));
    assert_eq!(
        config_err("sma_cross", &p),
        "sma_cross: need 1 <= fast < slow"
    );
    let p = Params::new().with("fast", int(0));
    assert_eq!(
        config_err("sma_cross", &p),
        "sma_cross: need 1 <= fast < slow"
    );
    let p = Params::new().with("every", int(0));
    assert_eq!(config_err("churn", &p), "churn: every must be >= 1");
    assert_eq!(
        config_err("noop", &Params::new().with("x", int(1))),
        "strategy 'noop': unknown params ['x']"
    );
    // int -> float coercion, and set() keeps one entry per key
    let mut p = Params::new().with("lower", int(25));
    p.set("lower", int(20));
    assert_eq!(p.entries().len(), 1);
    let r = Resolved::new("rsi_reversion", &RsiReversion::DEFAULTS, &p).expect("ok");
    assert_eq!(r.float("lower"), 20.0);
    assert_eq!(r.int("period"), 14);
    assert_eq!(r.values().len(), 6);
    assert!(r.float("period").is_nan());
    assert_eq!(r.int("lower"), 0);
    let collected: Params = vec![("a".to_owned(), int(1)), ("a".to_owned(), int(2))]
        .into_iter()
        .collect();
    assert_eq!(collected.get("a"), Some(int(2)));
    assert_eq!(float(-0.0).py_repr(), "-0.0");
    assert_eq!(int(-3).py_repr(), "-3");
}

// ------------------------------------------------------------------ decisions

#[test]
fn sma_cross_crosses_only_on_a_strict_change() {
    let mut s = strategy("sma_cross", &Params::new());
    let c = candle(1.0);
    assert_eq!(s.on_candle(&c, &[None, Some(1.0)]), None);
    // first known state: no signal
    assert_eq!(s.on_candle(&c, &[Some(2.0), Some(1.0)]), None);
    // tie keeps the state
    assert_eq!(s.on_candle(&c, &[Some(1.0), Some(1.0)]), None);
    let sig = s.on_candle(&c, &[Some(0.5), Some(1.0)]).expect("cross");
    assert_eq!(sig.signal_type, SignalType::Short);
    assert_eq!(s.on_candle(&c, &[Some(1.0), Some(1.0)]), None);
    let sig = s.on_candle(&c, &[Some(1.5), Some(1.0)]).expect("cross");
    assert_eq!(sig.signal_type, SignalType::Long);
    // NaN compares false both ways: the state is kept
    assert_eq!(s.on_candle(&c, &[Some(f64::NAN), Some(1.0)]), None);
}

#[test]
fn variants_are_built_by_name() {
    let s = build_variant("sma_cross:tie_as_above", &Params::new(), Timeframe::M1).expect("ok");
    assert_eq!(s.name(), "sma_cross");
    let err = build_variant("x", &Params::new(), Timeframe::M1)
        .map(|_| ())
        .expect_err("x");
    assert_eq!(
        err.message(),
        "unknown variant 'x'; known: sma_cross:tie_as_above"
    );
    let stream = synthetic_stream(2000, 5);
    let job = NativeJob::new("sma_cross");
    let variant =
        build_variant("sma_cross:tie_as_above", &Params::new(), Timeframe::M1).expect("ok");
    let a = run_strategy(&stream, variant, &job, &mut || false, 1).expect("run");
    let b = run_to_end(&stream, &job).expect("run");
    assert_eq!(a.events.len(), b.events.len());
}

#[test]
fn sma_cross_tie_variant_differs_only_on_ties() {
    let base = SmaCross::new(&Params::new(), Timeframe::M1).expect("ok");
    let mut s = bound(Box::new(base.with_tie_rule(TieRule::AsAbove)));
    let c = candle(1.0);
    assert_eq!(s.on_candle(&c, &[Some(0.5), Some(1.0)]), None);
    let sig = s
        .on_candle(&c, &[Some(1.0), Some(1.0)])
        .expect("tie is a cross");
    assert_eq!(sig.signal_type, SignalType::Long);
}

#[test]
fn rsi_reversion_stops_mirror_python() {
    let mut s = strategy("rsi_reversion", &Params::new());
    let c = candle(1.1);
    let atr = 0.003;
    let long = s.on_candle(&c, &[Some(20.0), Some(atr)]).expect("long");
    assert_eq!(long.signal_type, SignalType::Long);
    assert_eq!(long.stop_loss, Some(1.1 - 2.0 * atr));
    assert_eq!(long.take_profit, Some(1.1 + 3.0 * atr));
    let short = s.on_candle(&c, &[Some(80.0), Some(atr)]).expect("short");
    assert_eq!(short.signal_type, SignalType::Short);
    assert_eq!(short.stop_loss, Some(1.1 + 2.0 * atr));
    assert_eq!(short.take_profit, Some(1.1 - 3.0 * atr));
    assert_eq!(s.on_candle(&c, &[Some(50.0), Some(atr)]), None);
    assert_eq!(s.on_candle(&c, &[Some(20.0), Some(0.0)]), None);
    assert_eq!(s.on_candle(&c, &[Some(20.0), None]), None);
    // a long stop at or below zero: no signal
    assert_eq!(s.on_candle(&c, &[Some(20.0), Some(0.55)]), None);
    // a short take-profit at or below zero: no signal
    assert_eq!(s.on_candle(&c, &[Some(80.0), Some(0.5)]), None);
}

#[test]
fn donchian_uses_the_previous_call_values() {
    let mut s = strategy("donchian_breakout", &Params::new());
    // values: hi, lo, xhi, xlo, atr
    let v1 = [Some(1.2), Some(1.0), Some(1.15), Some(1.05), Some(0.01)];
    assert_eq!(s.on_candle(&candle(1.3), &v1), None); // no previous channel yet
    assert!(!s.check_exit(&position(Side::Long), &candle(1.06), &v1));
    assert!(s.check_exit(&position(Side::Long), &candle(1.04), &v1));
    assert!(s.check_exit(&position(Side::Short), &candle(1.16), &v1));
    assert!(!s.check_exit(&position(Side::Short), &candle(1.15), &v1));
    let long = s.on_candle(&candle(1.25), &v1).expect("breakout");
    assert_eq!(long.signal_type, SignalType::Long);
    assert_eq!(long.stop_loss, Some(1.25 - 2.5 * 0.01));
    let short = s.on_candle(&candle(0.9), &v1).expect("breakdown");
    assert_eq!(short.signal_type, SignalType::Short);
    assert_eq!(short.stop_loss, Some(0.9 + 2.5 * 0.01));
    assert_eq!(s.on_candle(&candle(1.1), &v1), None);
    // the stop distance would make a long stop non-positive
    let big = [Some(1.2), Some(1.0), Some(1.15), Some(1.05), Some(1.0)];
    assert_eq!(s.on_candle(&candle(1.3), &big), None);
    // warming-up values are remembered as None
    let none = [None, None, None, None, Some(0.01)];
    s.on_candle(&candle(1.1), &none);
    assert!(!s.check_exit(&position(Side::Long), &candle(0.1), &v1));
    assert!(!s.check_exit(&position(Side::Short), &candle(9.0), &v1));
    assert_eq!(s.on_candle(&candle(5.0), &v1), None);
}

#[test]
fn mtf_trend_metadata_and_limits_mirror_python() {
    let mut s = strategy("mtf_trend", &Params::new());
    let mut htf = candle(1.2);
    htf.timeframe = Timeframe::M5;
    // values: fast, slow, macd, atr, trend
    assert_eq!(s.on_candle(&htf, &[None; 7]), None);
    let c = candle(1.1);
    assert_eq!(
        s.on_candle(&c, &mtf(Some(1.0), Some(2.0), None, Some(0.01), Some(1.0))),
        None
    );
    let sig = s
        .on_candle(&c, &mtf(Some(3.0), Some(2.0), None, Some(0.01), Some(1.0)))
        .expect("long");
    assert_eq!(sig.signal_type, SignalType::Long);
    let entry = 1.1 - 0.25 * 0.01;
    assert_eq!(sig.entry_price, Some(entry));
    assert_eq!(sig.stop_loss, Some(entry - 3.0 * 0.01));
    assert_eq!(sig.take_profit, Some(entry + 6.0 * 0.01));
    let meta: Vec<(&str, &str)> = sig
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        meta,
        vec![("trend", "up"), ("htf_close", "1.2"), ("macd", "none")]
    );
    // bearish cross in an up trend: CLOSE with metadata (macd repr)
    let sig = s
        .on_candle(
            &c,
            &mtf(Some(1.0), Some(2.0), Some(1e-5), Some(0.01), Some(1.0)),
        )
        .expect("close");
    assert_eq!(sig.signal_type, SignalType::Close);
    assert_eq!(sig.metadata[2].1, "1e-05");
    // bullish cross in a down trend: CLOSE; bearish in a down trend: SHORT
    let down = mtf(Some(3.0), Some(2.0), Some(0.5), Some(0.01), Some(2.0));
    let sig = s.on_candle(&c, &down).expect("close");
    assert_eq!(sig.signal_type, SignalType::Close);
    assert_eq!(sig.metadata[0].1, "down");
    let sig = s
        .on_candle(&c, &mtf(Some(1.0), Some(2.0), None, Some(0.01), Some(2.0)))
        .expect("short");
    assert_eq!(sig.signal_type, SignalType::Short);
    let entry = 1.1 + 0.25 * 0.01;
    assert_eq!(sig.entry_price, Some(entry));
    assert_eq!(sig.stop_loss, Some(entry + 3.0 * 0.01));
    assert_eq!(sig.take_profit, Some(entry - 6.0 * 0.01));
    // atr <= 0: nothing, and the state is not updated
    assert_eq!(
        s.on_candle(&c, &mtf(Some(3.0), Some(2.0), None, Some(0.0), Some(2.0))),
        None
    );
}

#[test]
fn mtf_trend_on_one_timeframe_uses_every_candle() {
    let mut s =
        bound(build("mtf_trend", &Params::new(), Timeframe::M1, Timeframe::M1).expect("build"));
    assert_eq!(s.subscriptions(), vec![(Timeframe::M1, PriceType::Bid)]);
    let c = candle(1.1);
    // trend EMA is ema:20 on M1, deduplicated with none of fast/slow
    s.on_candle(&c, &mtf(Some(1.0), Some(2.0), None, Some(0.01), Some(1.0)));
    let sig = s
        .on_candle(&c, &mtf(Some(3.0), Some(2.0), None, Some(0.01), Some(1.0)))
        .expect("long: the htf close is this candle's close");
    assert_eq!(sig.metadata[1].1, "1.1");
}

#[test]
fn churn_alternates() {
    let mut s = strategy("churn", &Params::new().with("every", int(2)));
    let c = candle(2.0);
    let kinds: Vec<Option<SignalType>> = (0..8)
        .map(|_| s.on_candle(&c, &[]).map(|x| x.signal_type))
        .collect();
    let (l, s_) = (Some(SignalType::Long), Some(SignalType::Short));
    assert_eq!(kinds, vec![None, l, None, s_, None, l, None, s_]);
    let mut s = strategy("churn", &Params::new());
    s.on_candle(&c, &[]);
    s.on_candle(&c, &[]);
    let sig = s.on_candle(&c, &[]).expect("third bar");
    let band = 2.0 * 0.001;
    assert_eq!(sig.stop_loss, Some(2.0 - band));
    assert_eq!(sig.take_profit, Some(2.0 + band));
}

#[test]
fn noop_never_signals() {
    let mut s = strategy("noop", &Params::new());
    assert_eq!(s.on_candle(&candle(1.0), &[]), None);
    assert!(!s.check_exit(&position(Side::Long), &candle(1.0), &[]));
    assert!(s.indicators().is_empty());
}

#[test]
fn unbound_slots_read_none_and_unknown_keys_fail_to_bind() {
    let mut slot = Slot::bid("sma:3", Timeframe::H1);
    assert_eq!(slot.key(), "H1_bid_sma_3");
    assert_eq!(slot.get(&[Some(1.0)]), None);
    let err = slot
        .bind(&["M1_bid_sma_3".to_owned()])
        .expect_err("unknown");
    assert_eq!(err.message(), "indicator 'H1_bid_sma_3' was not declared");
}

// ------------------------------------------------------------------ whole runs

#[test]
fn every_strategy_runs_deterministically_and_trades() {
    let stream = synthetic_stream(3000, 7);
    for name in STRATEGY_NAMES {
        let mut job = NativeJob::new(name);
        job.seed = 99;
        let a = run_to_end(&stream, &job).expect(name);
        let b = run_to_end(&stream, &job).expect(name);
        assert_eq!(trace_fingerprint(&a), trace_fingerprint(&b), "{name}");
        assert_eq!(a.summary.events, i64::try_from(stream.len()).unwrap_or(0));
        assert_eq!(a.summary.strategy, name);
        if name == "noop" {
            assert_eq!(a.summary.fill_count, 0);
        } else {
            assert!(a.summary.trade_count > 0, "{name} never trades");
        }
    }
}

#[test]
fn timeframes_resolve_like_make_strategy() {
    let stream = synthetic_stream(200, 1);
    assert_eq!(
        stream_timeframes(stream.columns()),
        vec![Timeframe::M1, Timeframe::M5]
    );
    let t = run_to_end(&stream, &NativeJob::new("mtf_trend")).expect("run");
    // the trend EMA lives on M5 (the stream's second timeframe)
    assert!(t
        .events
        .indicator_names
        .contains(&"M5_bid_ema_20".to_owned()));
    let mut job = NativeJob::new("sma_cross");
    job.timeframe = Some(Timeframe::M5);
    let t = run_to_end(&stream, &job).expect("run");
    assert_eq!(t.events.indicator_names[0], "M5_bid_sma_10");
}

#[test]
fn run_errors_are_legacy_config_errors() {
    let stream = synthetic_stream(50, 1);
    let mut job = NativeJob::new("sma_cross");
    job.timeframe = Some(Timeframe::H1);
    job.source = "<s>".to_owned();
    assert_eq!(
        run_to_end(&stream, &job).map(|_| ()),
        Err(NativeError::Config(
            "strategy 'sma_cross': execution timeframe H1 not in stream <s>".to_owned()
        ))
    );
    let mut job = NativeJob::new("rsi_reversion");
    job.params = Params::new().with("period", int(0));
    let err = run_to_end(&stream, &job).map(|_| ()).expect_err("bad spec");
    assert!(
        err.to_string().starts_with("bad indicator spec 'rsi:0'"),
        "{err}"
    );
    let err = run_to_end(&stream, &NativeJob::new("nope"))
        .map(|_| ())
        .expect_err("name");
    assert!(matches!(err, NativeError::Config(_)));
}

#[test]
fn invalid_signal_prices_raise_the_legacy_strategy_error() {
    let stream = synthetic_stream(300, 2);
    let mut job = NativeJob::new("rsi_reversion");
    job.params = Params::new().with("tp_atr", float(f64::INFINITY));
    let err = run_to_end(&stream, &job)
        .map(|_| ())
        .expect_err("inf take-profit");
    let NativeError::Strategy(msg) = err else {
        panic!("not a StrategyError: {err:?}");
    };
    assert!(
        msg.starts_with("strategy 'rsi_reversion' on_candle at event "),
        "{msg}"
    );
    assert!(
        msg.ends_with(": take_profit must be a finite positive price, got inf"),
        "{msg}"
    );
}

#[test]
fn polling_cancels_a_run() {
    let stream = synthetic_stream(500, 3);
    let mut polls = 0;
    let mut poll = || {
        polls += 1;
        polls == 3
    };
    let err = run_job(&stream, &NativeJob::new("noop"), &mut poll, 100)
        .map(|_| ())
        .expect_err("cancelled");
    assert_eq!(err, NativeError::Cancelled);
    assert_eq!(err.to_string(), "run cancelled");
    assert_eq!(polls, 3);
    assert_eq!(
        NativeError::Panicked("x".into()).to_string(),
        "Rust panic caught: x"
    );
}

#[test]
fn pipelined_runs_equal_runs_in_a_pool() {
    // Outside a thread pool a long run writes its columns on a second thread, chunk
    // by chunk, while the loop runs; inside one (a one-thread pool here) it writes
    // them itself after the loop. Every strategy gives the same trace both ways, and
    // the same Arrow batches (built on two threads outside a pool, on one inside).
    let stream = synthetic_stream(8_000, 11);
    assert!(stream.len() >= crate::event::ledger::PIPELINE_ROWS);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    for (k, name) in STRATEGY_NAMES.iter().enumerate() {
        let mut job = NativeJob::new(name);
        job.seed = i64::try_from(k).expect("small") + 3;
        let piped = run_to_end(&stream, &job).expect("run");
        let inline = pool.install(|| run_to_end(&stream, &job)).expect("run");
        assert_eq!(
            trace_fingerprint(&piped),
            trace_fingerprint(&inline),
            "{name}"
        );
        assert_eq!(piped.events.len(), stream.len());
        let split = crate::trace::arrow::trace_batches(piped).expect("batches");
        let single = pool
            .install(|| crate::trace::arrow::trace_batches(inline))
            .expect("batches");
        assert_eq!(split, single, "{name}");
        assert_eq!(split.0.num_rows(), stream.len());
    }
}
