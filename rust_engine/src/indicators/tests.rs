//! Unit tests mirroring `tests/test_indicators.py`, plus the Python-generated bit vectors.

// Exact float comparisons are the point of these tests.
#![allow(clippy::float_cmp, clippy::unnecessary_wraps)]

use super::*;

fn hlc(close: f64, high: f64, low: f64, ts: i64) -> Candle {
    Candle {
        timestamp: ts,
        timeframe: Timeframe::M1,
        price_type: PriceType::Bid,
        open: close,
        high,
        low,
        close,
        volume: 1.0,
    }
}

fn closes(xs: &[f64]) -> Vec<Candle> {
    (0_i64..).zip(xs).map(|(i, &x)| hlc(x, x, x, i)).collect()
}

fn run(spec: &str, candles: &[Candle]) -> Vec<Column> {
    compute_indicators(candles, Timeframe::M1, PriceType::Bid, &[spec]).unwrap()
}

/// The single output of `spec`.
fn run1(spec: &str, candles: &[Candle]) -> Vec<Option<f64>> {
    let mut out = run(spec, candles);
    assert_eq!(out.len(), 1);
    out.pop().unwrap().1
}

fn col(values: &[Option<f64>]) -> Vec<Option<f64>> {
    values.to_vec()
}

const N: Option<f64> = None;

fn s(x: f64) -> Option<f64> {
    Some(x)
}

#[test]
fn sma_hand() {
    assert_eq!(
        run1("sma:2", &closes(&[1.0, 2.0, 3.0, 4.0])),
        col(&[N, s(1.5), s(2.5), s(3.5)])
    );
    assert_eq!(run1("sma:1", &closes(&[7.0, 8.0])), col(&[s(7.0), s(8.0)]));
    assert_eq!(
        run1("sma:3", &closes(&[3.0, 6.0, 9.0, 0.0])),
        col(&[N, N, s(6.0), s(5.0)])
    );
    assert_eq!(run("sma:2", &closes(&[1.0]))[0].0, "sma_2");
}

#[test]
fn std_hand() {
    let xs = closes(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
    assert_eq!(run1("std:8", &xs), col(&[N, N, N, N, N, N, N, s(2.0)]));
    assert_eq!(
        run1("std:2", &closes(&[1.0, 3.0, 3.0])),
        col(&[N, s(1.0), s(0.0)])
    );
}

#[test]
fn bollinger_hand() {
    let xs = closes(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
    let out = run("bb:8:2", &xs);
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["bb_8_2_upper", "bb_8_2_mid", "bb_8_2_lower"]);
    assert_eq!(out[0].1[7], s(9.0));
    assert_eq!(out[1].1[7], s(5.0));
    assert_eq!(out[2].1[7], s(1.0));
    assert!(out.iter().all(|(_, c)| c[..7].iter().all(Option::is_none)));
    let out = run("bb:2:1.5", &closes(&[1.0, 3.0]));
    assert_eq!(out[0], ("bb_2_1.5_upper".to_owned(), col(&[N, s(3.5)])));
    assert_eq!(out[1], ("bb_2_1.5_mid".to_owned(), col(&[N, s(2.0)])));
    assert_eq!(out[2], ("bb_2_1.5_lower".to_owned(), col(&[N, s(0.5)])));
}

#[test]
fn ema_hand_seeding() {
    assert_eq!(
        run1("ema:3", &closes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
        col(&[N, N, s(2.0), s(3.0), s(4.0), s(5.0)])
    );
    assert_eq!(
        run1("ema:3", &closes(&[10.0, 20.0, 30.0, 10.0, 50.0])),
        col(&[N, N, s(20.0), s(15.0), s(32.5)])
    );
    let ema7 = run1("ema:7", &closes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]));
    assert_eq!(ema7[6..], [s(4.0), s(5.0)]);
    assert_eq!(
        run1("ema:1", &closes(&[3.0, 1.0, 4.0])),
        col(&[s(3.0), s(1.0), s(4.0)])
    );
}

#[test]
fn rsi_hand() {
    let out = run1("rsi:2", &closes(&[10.0, 11.0, 13.0, 12.0, 12.0, 15.0]));
    assert_eq!(out[..5], [N, N, s(100.0), s(60.0), s(60.0)]);
    // 100 - 200/29 = 2700/29
    let last = out[5].unwrap();
    assert!((last - 2700.0 / 29.0).abs() < 1e-12);
    assert_eq!(
        run1("rsi:3", &closes(&[5.0; 5])),
        col(&[N, N, N, s(50.0), s(50.0)])
    );
    assert_eq!(
        run1("rsi:2", &closes(&[1.0, 2.0, 3.0, 4.0])),
        col(&[N, N, s(100.0), s(100.0)])
    );
    assert_eq!(
        run1("rsi:2", &closes(&[4.0, 3.0, 2.0, 1.0])),
        col(&[N, N, s(0.0), s(0.0)])
    );
}

fn atr_bars() -> Vec<Candle> {
    vec![
        hlc(9.0, 10.0, 8.0, 0),
        hlc(11.5, 12.0, 11.0, 1),
        hlc(9.0, 9.0, 8.5, 2),
        hlc(9.5, 10.0, 9.0, 3),
    ]
}

#[test]
fn atr_hand_with_gaps() {
    assert_eq!(
        run1("atr:1", &atr_bars()),
        col(&[s(2.0), s(3.0), s(3.0), s(1.0)])
    );
    assert_eq!(
        run1("atr:2", &atr_bars()),
        col(&[N, s(2.5), s(2.75), s(1.875)])
    );
}

#[test]
fn true_range_order() {
    assert_eq!(true_range(10.0, 8.0, None), 2.0);
    assert_eq!(true_range(10.0, 8.0, Some(9.0)), 2.0);
    assert_eq!(true_range(10.0, 9.0, Some(5.0)), 5.0);
    assert_eq!(true_range(10.0, 9.0, Some(14.0)), 5.0);
}

#[test]
fn macd_hand() {
    let out = run("macd:1:3:3", &closes(&[1.0, 2.0, 6.0, 5.0, 8.0, 2.0, 12.0]));
    assert_eq!(
        out,
        vec![
            (
                "macd_1_3_3".to_owned(),
                col(&[N, N, s(3.0), s(1.0), s(2.0), s(-2.0), s(4.0)])
            ),
            (
                "macd_1_3_3_signal".to_owned(),
                col(&[N, N, N, N, s(2.0), s(0.0), s(2.0)])
            ),
            (
                "macd_1_3_3_hist".to_owned(),
                col(&[N, N, N, N, s(0.0), s(-2.0), s(2.0)])
            ),
        ]
    );
}

#[test]
fn highest_lowest_and_ties() {
    let bars = vec![
        hlc(6.0, 5.0, 1.0, 0),
        hlc(6.0, 7.0, 2.0, 1),
        hlc(6.0, 7.0, 1.0, 2),
        hlc(6.0, 3.0, 1.0, 3),
        hlc(6.0, 2.0, 4.0, 4),
    ];
    assert_eq!(
        run1("highest:3", &bars),
        col(&[N, N, s(7.0), s(7.0), s(7.0)])
    );
    assert_eq!(
        run1("lowest:3", &bars),
        col(&[N, N, s(1.0), s(1.0), s(1.0)])
    );
    assert_eq!(
        run1("highest:1", &bars),
        col(&[s(5.0), s(7.0), s(7.0), s(3.0), s(2.0)])
    );
    let pos_first = [hlc(1.0, 1.0, 0.0, 0), hlc(1.0, 1.0, -0.0, 1)];
    let neg_first = [hlc(1.0, 1.0, -0.0, 0), hlc(1.0, 1.0, 0.0, 1)];
    assert!(run1("lowest:2", &pos_first)[1].unwrap().is_sign_positive());
    assert!(run1("lowest:2", &neg_first)[1].unwrap().is_sign_negative());
    let highs = [hlc(1.0, -0.0, -1.0, 0), hlc(1.0, 0.0, -1.0, 1)];
    assert!(run1("highest:2", &highs)[1].unwrap().is_sign_negative());
}

#[test]
fn warmup_counts() {
    let xs: Vec<f64> = (0..12).map(|i| f64::from(10 + i % 3)).collect();
    let bars = closes(&xs);
    for (spec, first) in [
        ("sma:5", 4),
        ("std:5", 4),
        ("bb:5:2", 4),
        ("ema:5", 4),
        ("rsi:5", 5),
        ("atr:5", 4),
        ("highest:5", 4),
        ("lowest:5", 4),
    ] {
        for (name, column) in run(spec, &bars) {
            assert!(column[..first].iter().all(Option::is_none), "{name}");
            assert!(column[first..].iter().all(Option::is_some), "{name}");
        }
    }
    let xs: Vec<f64> = (0..10).map(|i| f64::from(i % 5 + 1)).collect();
    let out = run("macd:2:4:3", &closes(&xs));
    let nones: Vec<usize> = out
        .iter()
        .map(|(_, c)| c.iter().filter(|v| v.is_none()).count())
        .collect();
    assert_eq!(nones, [3, 5, 5]);
}

#[test]
fn output_names_and_order() {
    let cache = IndicatorCache::new(&[
        IndicatorRequest::new("M5", "ask", "macd:12:26:9"),
        IndicatorRequest::new("M1", "bid", "sma:20"),
        IndicatorRequest::new("M1", "bid", "bb:20:2.0"),
        IndicatorRequest::new("H1", "bid", "highest:10"),
    ])
    .unwrap();
    assert_eq!(
        cache.output_names(),
        [
            "M5_ask_macd_12_26_9",
            "M5_ask_macd_12_26_9_signal",
            "M5_ask_macd_12_26_9_hist",
            "M1_bid_sma_20",
            "M1_bid_bb_20_2.0_upper",
            "M1_bid_bb_20_2.0_mid",
            "M1_bid_bb_20_2.0_lower",
            "H1_bid_highest_10",
        ]
    );
    let names: Vec<&str> = cache.values().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, cache.output_names());
    assert_eq!(cache.value_list(), vec![None; 8]);
    assert_eq!(
        cache.series_keys(),
        [
            (Timeframe::M5, PriceType::Ask),
            (Timeframe::M1, PriceType::Bid),
            (Timeframe::H1, PriceType::Bid),
        ]
    );
}

#[test]
fn spec_fields() {
    let spec = parse_spec("bb:20:2.5").unwrap();
    assert_eq!(spec.kind(), IndicatorKind::Bb { n: 20, k: 2.5 });
    assert_eq!(spec.kind().name(), "bb");
    assert_eq!(spec.text(), "bb:20:2.5");
    let spec = parse_spec("macd:1:2:3").unwrap();
    assert_eq!(
        spec.kind(),
        IndicatorKind::Macd {
            fast: 1,
            slow: 2,
            signal: 3
        }
    );
    assert_eq!(
        spec.output_names(),
        ["macd_1_2_3", "macd_1_2_3_signal", "macd_1_2_3_hist"]
    );
    assert_eq!(parse_spec("sma:20").unwrap().output_names(), ["sma_20"]);
}

#[test]
fn duplicate_requests_merged_and_series_isolated() {
    let mut cache = IndicatorCache::new(&[
        IndicatorRequest::new("M1", "bid", "sma:2"),
        IndicatorRequest::new("M1", "ask", "sma:2"),
        IndicatorRequest::new("M1", "bid", "sma:2"),
        IndicatorRequest::new("M1", "bid", "ema:2"),
        IndicatorRequest::new("M1", "ask", "sma:2"),
    ])
    .unwrap();
    assert_eq!(
        cache.output_names(),
        ["M1_bid_sma_2", "M1_ask_sma_2", "M1_bid_ema_2"]
    );
    for c in closes(&[1.0, 2.0, 3.0]) {
        cache.update(&c);
    }
    let mut m5 = hlc(99.0, 99.0, 99.0, 5);
    m5.timeframe = Timeframe::M5;
    cache.update(&m5);
    assert_eq!(
        cache.values(),
        [
            ("M1_bid_sma_2", s(2.5)),
            ("M1_ask_sma_2", N),
            ("M1_bid_ema_2", s(2.5))
        ]
    );
}

#[test]
fn compute_indicators_skips_other_series() {
    let mut ask = hlc(100.0, 100.0, 100.0, 0);
    ask.price_type = PriceType::Ask;
    let mut m5 = hlc(200.0, 200.0, 200.0, 0);
    m5.timeframe = Timeframe::M5;
    let bars = vec![
        hlc(1.0, 1.0, 1.0, 0),
        ask,
        m5,
        hlc(3.0, 3.0, 3.0, 1),
        ask,
        hlc(5.0, 5.0, 5.0, 2),
    ];
    let out = compute_indicators(
        &bars,
        Timeframe::M1,
        PriceType::Bid,
        &["sma:2", "highest:1", "sma:2"],
    )
    .unwrap();
    assert_eq!(
        out,
        vec![
            ("sma_2".to_owned(), col(&[N, s(2.0), s(4.0)])),
            ("highest_1".to_owned(), col(&[s(1.0), s(3.0), s(5.0)])),
        ]
    );
    let out = compute_indicators(&bars, Timeframe::M1, PriceType::Ask, &["sma:2"]).unwrap();
    assert_eq!(out, vec![("sma_2".to_owned(), col(&[N, s(100.0)]))]);
    let out = compute_indicators(&bars, Timeframe::H1, PriceType::Bid, &["sma:2"]).unwrap();
    assert_eq!(out, vec![("sma_2".to_owned(), Vec::new())]);
}

#[test]
fn bad_specs() {
    let too_big = format!("sma:{}", MAX_PERIOD + 1);
    let huge_k = format!("bb:20:{}", "9".repeat(400));
    let mut specs = vec![
        "",
        "sma",
        "sma:",
        "sma:0",
        "sma:-1",
        "sma:+2",
        "sma:02",
        "sma:1.5",
        "sma:1e2",
        "sma:true",
        "sma:True",
        "sma:abc",
        "sma: 2",
        "sma:2 ",
        "sma:1_0",
        "sma:\u{663}",
        "sma:99999999999999999999999999",
        "sma:2:3",
        "SMA:2",
        "foo:3",
        ":3",
        "std:0",
        "ema:1.0",
        "rsi:0",
        "atr:x",
        "highest:",
        "lowest:0",
        "bb:20",
        "bb:20:0",
        "bb:20:0.0",
        "bb:20:-1",
        "bb:20:nan",
        "bb:20:inf",
        "bb:20:1e3",
        "bb:20:.5",
        "bb:20:2.",
        "bb:20:abc",
        "bb:20:2:1",
        "bb:0:2",
        "macd:26:12:9",
        "macd:12:12:9",
        "macd:12:26",
        "macd:12:26:0",
        "macd:12:26:9:1",
    ];
    specs.push(&too_big);
    specs.push(&huge_k);
    for spec in specs {
        let err = parse_spec(spec).expect_err(spec);
        assert!(err.message().contains(&format!("'{spec}'")), "{err}");
        assert!(IndicatorCache::new(&[IndicatorRequest::new("M1", "bid", spec)]).is_err());
    }
    assert_eq!(
        parse_spec("sma:0").unwrap_err().to_string(),
        "bad indicator spec 'sma:0': n must be an integer >= 1 without sign or leading zeros"
    );
    assert!(parse_spec(&format!("sma:{MAX_PERIOD}")).is_ok());
}

#[test]
fn bad_requests() {
    let err = IndicatorCache::new(&[IndicatorRequest::new("M2", "bid", "sma:2")]).unwrap_err();
    assert_eq!(err.message(), "indicator request 0: unknown timeframe 'M2'");
    let err = IndicatorCache::new(&[
        IndicatorRequest::new("M1", "bid", "sma:2"),
        IndicatorRequest::new("M1", "mid", "sma:0"),
    ])
    .unwrap_err();
    assert_eq!(
        err.message(),
        "indicator request 1: unknown price type 'mid'"
    );
}

#[test]
fn empty_cache() {
    let mut cache = IndicatorCache::new(&[]).unwrap();
    cache.update(&hlc(1.0, 1.0, 1.0, 0));
    assert!(cache.output_names().is_empty());
    assert!(cache.values().is_empty());
    assert!(cache.value_list().is_empty());
    assert!(cache.series_keys().is_empty());
}

// ------------------------------------------------------------------ Python vectors

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/indicator_vectors.txt"
));

fn bits_of(token: &str) -> u64 {
    assert_eq!(token.len(), 16, "bad float token {token:?}");
    u64::from_str_radix(token, 16).unwrap()
}

/// Replays `tests/fixtures/indicator_vectors.txt` (see `scripts/gen_indicator_vectors.py`).
#[test]
fn python_vectors_bit_for_bit() {
    let mut requests = Vec::new();
    let mut cache: Option<IndicatorCache> = None;
    let mut expected: Vec<Option<u64>> = Vec::new();
    let mut checked_rows = 0_usize;
    let mut checked_values = 0_usize;
    for (lineno, line) in VECTORS.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        match fields[0] {
            "request" => {
                assert_eq!(fields.len(), 4, "line {lineno}");
                requests.push(IndicatorRequest::new(fields[1], fields[2], fields[3]));
            }
            "names" => {
                let c = IndicatorCache::new(&requests).unwrap();
                assert_eq!(c.output_names(), &fields[1..], "line {lineno}");
                expected = vec![None; fields.len() - 1];
                cache = Some(c);
            }
            "candle" => {
                assert_eq!(fields.len(), 9, "line {lineno}");
                let candle = Candle {
                    timestamp: fields[1].parse().unwrap(),
                    timeframe: Timeframe::parse(fields[2]).unwrap(),
                    price_type: PriceType::parse(fields[3]).unwrap(),
                    open: f64::from_bits(bits_of(fields[4])),
                    high: f64::from_bits(bits_of(fields[5])),
                    low: f64::from_bits(bits_of(fields[6])),
                    close: f64::from_bits(bits_of(fields[7])),
                    volume: f64::from_bits(bits_of(fields[8])),
                };
                cache
                    .as_mut()
                    .expect("names before candles")
                    .update(&candle);
            }
            "values" => {
                assert_eq!(fields.len() - 1, expected.len(), "line {lineno}");
                for (slot, token) in expected.iter_mut().zip(&fields[1..]) {
                    match *token {
                        "=" => {}
                        "-" => *slot = None,
                        t => *slot = Some(bits_of(t)),
                    }
                }
                let got: Vec<Option<u64>> = cache
                    .as_ref()
                    .unwrap()
                    .value_list()
                    .into_iter()
                    .map(|v| v.map(f64::to_bits))
                    .collect();
                for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
                    assert_eq!(
                        g,
                        e,
                        "line {}: output {} ({:?} vs expected {:?})",
                        lineno + 1,
                        cache.as_ref().unwrap().output_names()[i],
                        g.map(f64::from_bits),
                        e.map(f64::from_bits),
                    );
                }
                checked_rows += 1;
                checked_values += expected.iter().filter(|v| v.is_some()).count();
            }
            other => panic!("line {}: unknown record {other:?}", lineno + 1),
        }
    }
    assert!(checked_rows >= 400, "only {checked_rows} rows");
    assert!(checked_values > 10_000, "only {checked_values} values");
}

/// A deterministic stream of awkward values: signed zeros, tiny and huge magnitudes,
/// repeats (ties), mixed series and timeframes, and rows out of canonical order.
fn awkward_columns(rows: usize) -> (Vec<i64>, Vec<Timeframe>, Vec<PriceType>, Vec<[f64; 4]>) {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let pool = [
        0.0,
        -0.0,
        1.0,
        1.0,
        1e-300,
        3.0e300,
        1.1,
        1.100_000_000_000_000_3, // the next float after 1.1
        7.5,
        0.1,
        0.2,
        0.3,
    ];
    let (mut ts, mut tf, mut pt, mut px) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..rows {
        let r = next();
        let pick = |k: u64| -> f64 {
            let idx = usize::try_from(k % 16).unwrap_or(0);
            if idx < pool.len() {
                pool[idx]
            } else {
                #[allow(clippy::cast_precision_loss)]
                let v = (k >> 11) as f64 / 9_007_199_254_740_992.0 * 100.0;
                v
            }
        };
        let close = pick(r);
        let spread = pick(r >> 7).abs();
        ts.push(i64::try_from(i / 3).unwrap_or(0) * 60);
        tf.push(if r % 5 == 0 {
            Timeframe::M5
        } else {
            Timeframe::M1
        });
        pt.push(if r % 2 == 0 {
            PriceType::Bid
        } else {
            PriceType::Ask
        });
        px.push([close, close + spread, close - spread, close]);
    }
    (ts, tf, pt, px)
}

#[test]
fn event_columns_equal_the_incremental_cache_bit_for_bit() {
    let specs = [
        "sma:1",
        "sma:3",
        "sma:30",
        "std:1",
        "std:4",
        "bb:5:2.0",
        "bb:3:0.5",
        "ema:3",
        "rsi:2",
        "atr:3",
        "macd:2:4:3",
        "highest:1",
        "highest:7",
        "lowest:4",
        "sma:600",
    ];
    for rows in [0_usize, 1, 2, 5, 40, 257, 1000] {
        let (ts, tf, pt, px) = awkward_columns(rows);
        let open: Vec<f64> = px.iter().map(|p| p[0]).collect();
        let high: Vec<f64> = px.iter().map(|p| p[1]).collect();
        let low: Vec<f64> = px.iter().map(|p| p[2]).collect();
        let close: Vec<f64> = px.iter().map(|p| p[3]).collect();
        let columns = crate::event::queue::CandleColumns {
            timestamp: &ts,
            timeframe: &tf,
            price_type: &pt,
            open: &open,
            high: &high,
            low: &low,
            close: &close,
            volume: &open,
        };
        let mut requests = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let series = ["bid", "ask"][i % 2];
            requests.push(IndicatorRequest::new("M1", series, spec));
            requests.push(IndicatorRequest::new("M5", "bid", spec));
        }
        let order = columns.canonical_permutation();
        for ord in [None, order.as_deref()] {
            let mut cache = IndicatorCache::new(&requests).unwrap();
            let series = crate::trace::SeriesColumns::of_events(columns, ord);
            let cols = cache.event_columns(columns, ord, &series);
            assert_eq!(cols.len(), cache.output_names().len());
            // The loop's view: the per-bar values read through a cursor.
            let bars = cache.bar_columns(columns, ord, &series);
            let mut cursor = bars.cursor();
            let mut read = vec![Some(f64::NAN); bars.len()];
            let mut values = Vec::new();
            for e in 0..rows {
                let row = ord.map_or(e, |p| p[e]);
                cache.update(&columns.candle(row));
                cache.write_values(&mut values);
                bars.fill(&mut cursor, e, &mut read);
                let bits = |v: &[Option<f64>]| -> Vec<Option<u64>> {
                    v.iter().map(|x| x.map(f64::to_bits)).collect()
                };
                assert_eq!(bits(&read), bits(&values), "rows {rows}, event {e}");
                for (j, (col, v)) in cols.iter().zip(&values).enumerate() {
                    assert_eq!(col.len(), rows);
                    assert_eq!(
                        col.get(e).map(f64::to_bits),
                        v.map(f64::to_bits),
                        "rows {rows}, event {e}, output {}",
                        cache.output_names()[j]
                    );
                }
            }
        }
    }
}

#[test]
fn window_sums_fold_from_zero_oldest_first() {
    // 0.0 + -0.0 is +0.0: the fold must start from 0.0, not from the first value.
    let mut out = [1.0; 2];
    columns::window_sums(&[-0.0, -0.0, -0.0], 2, &mut out);
    assert_eq!(out.map(f64::to_bits), [0.0_f64.to_bits(); 2]);
    // (1e16 + 1.0) + -1e16 = 0.0, but 1e16 + (1.0 + -1e16) = 2.0: order matters.
    let mut out = [0.0; 1];
    columns::window_sums(&[1e16, 1.0, -1e16], 3, &mut out);
    assert_eq!(out[0], 0.0);
}
