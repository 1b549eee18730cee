//! Batch dispatch (Strategy C): the chunking logic behind `on_batch`, without Python.
//!
//! A batch strategy decides on a whole chunk of subscribed events at once. Its signals
//! may depend only on candles and indicator values (and its own state carried across
//! chunks), never on engine state, so the chunks can be built ahead of the engine:
//!
//! * [`LookAhead`] walks the same canonical event order as the engine with its **own**
//!   [`IndicatorCache`]. Indicators depend only on candles, so its values are the
//!   engine's values bit for bit (the dispatcher checks this on every event anyway).
//!   [`LookAhead::next_chunk`] collects the next `chunk_size` subscribed events into a
//!   [`Chunk`]: two Arrow record batches built from owned `Vec`s without copying
//!   (candles with their `event_index`; one float64 column per indicator output, null
//!   until warm).
//! * [`BatchDispatcher`] implements [`StrategyCallbacks`] for a [`BatchStrategy`]: when
//!   the engine asks for the signal of an event beyond the buffered chunk, it builds the
//!   next chunk, calls [`BatchStrategy::on_batch`] once and buffers the signals;
//!   `on_candle` then returns the buffered signal of its event and `check_exit` is never
//!   used (it returns `false`: batch strategies cannot react to engine feedback).
//!
//! The Python glue is `python::batch`; tests here run it with Rust strategies.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_buffer::{BooleanBuffer, NullBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::engine::StrategyCallbacks;
use super::queue::{CandleColumns, EventQueue};
use super::types::{Candle, SeriesKey, StrategySignal};
use crate::indicators::{ConfigError, IndicatorCache, IndicatorRequest};
use crate::portfolio::OpenPosition;

/// Subscribed events per chunk unless configured otherwise.
pub const DEFAULT_CHUNK_SIZE: usize = 4096;

/// Column names of a chunk's candle batch, in schema order.
pub const CANDLE_COLUMNS: [&str; 9] = [
    "event_index",
    "timestamp",
    "timeframe",
    "price_type",
    "open",
    "high",
    "low",
    "close",
    "volume",
];

/// The schema of a chunk's candle batch (see [`CANDLE_COLUMNS`]); no column is nullable.
#[must_use]
pub fn candle_schema() -> SchemaRef {
    let field = |name: &str, dt: DataType| Field::new(name, dt, false);
    Arc::new(Schema::new(vec![
        field("event_index", DataType::Int64),
        field("timestamp", DataType::Int64),
        field("timeframe", DataType::Utf8),
        field("price_type", DataType::Utf8),
        field("open", DataType::Float64),
        field("high", DataType::Float64),
        field("low", DataType::Float64),
        field("close", DataType::Float64),
        field("volume", DataType::Float64),
    ]))
}

/// The schema of a chunk's indicator batch: one nullable float64 column per output name.
#[must_use]
pub fn indicator_schema(names: &[String]) -> SchemaRef {
    Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Float64, true))
            .collect::<Vec<_>>(),
    ))
}

/// One chunk of subscribed events, in event order, as Arrow record batches.
#[derive(Clone, Debug)]
pub struct Chunk {
    number: usize,
    candles: RecordBatch,
    indicators: RecordBatch,
    event_index: ScalarBuffer<i64>,
    columns: Vec<Float64Array>,
}

impl Chunk {
    /// Position of the chunk in the run, from 0.
    #[must_use]
    pub fn number(&self) -> usize {
        self.number
    }

    /// Number of events (rows) in the chunk.
    #[must_use]
    pub fn len(&self) -> usize {
        self.event_index.len()
    }

    /// True for a chunk without rows (never produced by [`LookAhead`]).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.event_index.is_empty()
    }

    /// The candle batch (columns [`CANDLE_COLUMNS`]).
    #[must_use]
    pub fn candles(&self) -> &RecordBatch {
        &self.candles
    }

    /// The indicator batch: one float64 column per declared output, null until warm.
    #[must_use]
    pub fn indicators(&self) -> &RecordBatch {
        &self.indicators
    }

    /// The engine event index of every row.
    #[must_use]
    pub fn event_indices(&self) -> &[i64] {
        &self.event_index
    }

    /// True when row `row`'s indicator values equal `values` bit for bit (nulls included).
    #[must_use]
    pub fn indicators_match(&self, row: usize, values: &[Option<f64>]) -> bool {
        if values.len() != self.columns.len() {
            return false;
        }
        self.columns.iter().zip(values).all(|(col, v)| {
            let mine = col.is_valid(row).then(|| col.value(row));
            match (mine, v) {
                (None, None) => true,
                (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
                _ => false,
            }
        })
    }
}

/// Growable columns of the chunk being built.
#[derive(Default)]
struct Builder {
    event_index: Vec<i64>,
    timestamp: Vec<i64>,
    timeframe: Vec<&'static str>,
    price_type: Vec<&'static str>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    values: Vec<Vec<f64>>,
    valid: Vec<Vec<bool>>,
}

impl Builder {
    fn new(outputs: usize, capacity: usize) -> Self {
        let f = || Vec::with_capacity(capacity);
        Self {
            event_index: Vec::with_capacity(capacity),
            timestamp: Vec::with_capacity(capacity),
            timeframe: Vec::with_capacity(capacity),
            price_type: Vec::with_capacity(capacity),
            open: f(),
            high: f(),
            low: f(),
            close: f(),
            volume: f(),
            values: (0..outputs).map(|_| f()).collect(),
            valid: (0..outputs).map(|_| Vec::with_capacity(capacity)).collect(),
        }
    }

    fn push(&mut self, index: i64, candle: &Candle, values: &[Option<f64>]) {
        self.event_index.push(index);
        self.timestamp.push(candle.timestamp);
        self.timeframe.push(candle.timeframe.as_str());
        self.price_type.push(candle.price_type.as_str());
        self.open.push(candle.open);
        self.high.push(candle.high);
        self.low.push(candle.low);
        self.close.push(candle.close);
        self.volume.push(candle.volume);
        for ((col, valid), v) in self.values.iter_mut().zip(&mut self.valid).zip(values) {
            // NaN under a null slot: harmless, and never read as a value.
            col.push(v.unwrap_or(f64::NAN));
            valid.push(v.is_some());
        }
    }

    fn len(&self) -> usize {
        self.event_index.len()
    }

    /// Move the columns into Arrow arrays (no copy of the value buffers).
    fn finish(
        self,
        number: usize,
        candle_schema: &SchemaRef,
        indicator_schema: &SchemaRef,
    ) -> Result<Chunk, ArrowError> {
        let rows = self.len();
        let event_index = ScalarBuffer::from(self.event_index);
        let f64_col = |v: Vec<f64>| -> ArrayRef { Arc::new(Float64Array::new(v.into(), None)) };
        let candles = RecordBatch::try_new(
            candle_schema.clone(),
            vec![
                Arc::new(Int64Array::new(event_index.clone(), None)),
                Arc::new(Int64Array::new(self.timestamp.into(), None)),
                Arc::new(StringArray::from(self.timeframe)),
                Arc::new(StringArray::from(self.price_type)),
                f64_col(self.open),
                f64_col(self.high),
                f64_col(self.low),
                f64_col(self.close),
                f64_col(self.volume),
            ],
        )?;
        let mut columns = Vec::with_capacity(self.values.len());
        for (values, valid) in self.values.into_iter().zip(self.valid) {
            let all_valid = valid.iter().all(|v| *v);
            let nulls = (!all_valid).then(|| NullBuffer::new(BooleanBuffer::from(valid)));
            columns.push(Float64Array::new(values.into(), nulls));
        }
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
        let indicators = RecordBatch::try_new_with_options(
            indicator_schema.clone(),
            columns
                .iter()
                .map(|c| Arc::new(c.clone()) as ArrayRef)
                .collect(),
            &options,
        )?;
        Ok(Chunk {
            number,
            candles,
            indicators,
            event_index,
            columns,
        })
    }
}

/// A cursor running ahead of the engine: same event order, its own indicator cache.
#[derive(Debug)]
pub struct LookAhead<'a> {
    queue: EventQueue<'a>,
    cache: IndicatorCache,
    subscriptions: Vec<SeriesKey>,
    chunk_size: usize,
    next_index: i64,
    chunks: usize,
    values: Vec<Option<f64>>,
    candle_schema: SchemaRef,
    indicator_schema: SchemaRef,
}

impl<'a> LookAhead<'a> {
    /// A cursor over `columns` (in canonical order, like the engine's queue).
    ///
    /// # Errors
    /// [`ConfigError`] for bad indicator requests or a `chunk_size` of 0.
    pub fn new(
        columns: CandleColumns<'a>,
        subscriptions: &[SeriesKey],
        requests: &[IndicatorRequest],
        chunk_size: usize,
    ) -> Result<Self, ConfigError> {
        if chunk_size == 0 {
            return Err(ConfigError::new("chunk_size must be >= 1, got 0"));
        }
        let cache = IndicatorCache::new(requests)?;
        let indicator_schema = indicator_schema(cache.output_names());
        Ok(Self {
            queue: EventQueue::new(columns),
            cache,
            subscriptions: subscriptions.to_vec(),
            chunk_size,
            next_index: 0,
            chunks: 0,
            values: Vec::new(),
            candle_schema: candle_schema(),
            indicator_schema,
        })
    }

    /// Full indicator output names, in declaration order (the indicator batch's columns).
    #[must_use]
    pub fn output_names(&self) -> &[String] {
        self.cache.output_names()
    }

    /// The next chunk of up to `chunk_size` subscribed events; `None` when none is left.
    ///
    /// # Errors
    /// An Arrow error building the batches (not expected: the schemas are fixed).
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, ArrowError> {
        let capacity = self.chunk_size.min(self.queue.len());
        let mut builder = Builder::new(self.cache.output_names().len(), capacity);
        while builder.len() < self.chunk_size {
            let Some(candle) = self.queue.next() else {
                break;
            };
            let index = self.next_index;
            self.next_index += 1;
            self.cache.update(&candle);
            if self.subscriptions.contains(&candle.key()) {
                self.cache.write_values(&mut self.values);
                builder.push(index, &candle, &self.values);
            }
        }
        if builder.len() == 0 {
            return Ok(None);
        }
        let number = self.chunks;
        self.chunks += 1;
        builder
            .finish(number, &self.candle_schema, &self.indicator_schema)
            .map(Some)
    }
}

/// A strategy that decides on whole chunks.
pub trait BatchStrategy {
    /// The strategy's error (e.g. a Python exception).
    type Error;

    /// Signals for every row of `chunk`, in row order (exactly `chunk.len()` entries).
    ///
    /// # Errors
    /// Whatever the strategy raises, or a validation error; the run stops with it.
    fn on_batch(&mut self, chunk: &Chunk) -> Result<Vec<Option<StrategySignal>>, Self::Error>;

    /// Called once per engine event after the pipeline (e.g. to check for Ctrl-C).
    ///
    /// # Errors
    /// An error aborts the run.
    fn after_event(&mut self, _event_index: i64) -> Result<(), Self::Error> {
        Ok(())
    }

    /// An error for a broken internal invariant (a dispatcher bug, never user input).
    fn internal_error(&self, message: String) -> Self::Error;
}

/// [`StrategyCallbacks`] for a [`BatchStrategy`]: chunked look-ahead, buffered signals.
#[derive(Debug)]
pub struct BatchDispatcher<'a, B> {
    lookahead: LookAhead<'a>,
    strategy: B,
    chunk: Option<Chunk>,
    signals: Vec<Option<StrategySignal>>,
    pos: usize,
    chunks_called: usize,
}

impl<'a, B: BatchStrategy> BatchDispatcher<'a, B> {
    /// A dispatcher feeding `strategy` from `lookahead`.
    #[must_use]
    pub fn new(lookahead: LookAhead<'a>, strategy: B) -> Self {
        Self {
            lookahead,
            strategy,
            chunk: None,
            signals: Vec::new(),
            pos: 0,
            chunks_called: 0,
        }
    }

    /// Number of `on_batch` calls so far.
    #[must_use]
    pub fn chunks_called(&self) -> usize {
        self.chunks_called
    }

    /// The wrapped strategy.
    #[must_use]
    pub fn strategy(&self) -> &B {
        &self.strategy
    }

    fn refill(&mut self, event_index: i64) -> Result<(), B::Error> {
        let chunk = match self.lookahead.next_chunk() {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(self.strategy.internal_error(format!(
                    "batch dispatch: no chunk left for event {event_index}"
                )))
            }
            Err(e) => {
                return Err(self
                    .strategy
                    .internal_error(format!("batch dispatch: building chunk: {e}")))
            }
        };
        let signals = self.strategy.on_batch(&chunk)?;
        self.chunks_called += 1;
        if signals.len() != chunk.len() {
            return Err(self.strategy.internal_error(format!(
                "batch dispatch: {} signals for a chunk of {} events",
                signals.len(),
                chunk.len()
            )));
        }
        self.signals = signals;
        self.chunk = Some(chunk);
        self.pos = 0;
        Ok(())
    }
}

impl<B: BatchStrategy> StrategyCallbacks for BatchDispatcher<'_, B> {
    type Error = B::Error;

    fn check_exit(
        &mut self,
        _event_index: i64,
        _position: &OpenPosition,
        _candle: &Candle,
        _indicators: &[Option<f64>],
    ) -> Result<bool, Self::Error> {
        Ok(false)
    }

    fn on_candle(
        &mut self,
        event_index: i64,
        _candle: &Candle,
        indicators: &[Option<f64>],
        signal: &mut Option<StrategySignal>,
    ) -> Result<(), Self::Error> {
        if self.chunk.as_ref().is_none_or(|c| self.pos >= c.len()) {
            self.refill(event_index)?;
        }
        let Some(chunk) = self.chunk.as_ref() else {
            return Err(self
                .strategy
                .internal_error("batch dispatch: no chunk".to_string()));
        };
        let row = self.pos;
        let expected = chunk.event_indices()[row];
        if expected != event_index {
            return Err(self.strategy.internal_error(format!(
                "batch dispatch out of step: engine at event {event_index}, chunk {} row {row} \
                 is event {expected}",
                chunk.number()
            )));
        }
        if !chunk.indicators_match(row, indicators) {
            return Err(self.strategy.internal_error(format!(
                "batch dispatch: look-ahead indicators differ from the engine's at event \
                 {event_index}"
            )));
        }
        self.pos += 1;
        *signal = self.signals[row].take();
        Ok(())
    }

    fn after_event(&mut self, event_index: i64) -> Result<(), Self::Error> {
        self.strategy.after_event(event_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EngineConfig;
    use crate::event::engine::{run, RunSpec};
    use crate::event::types::{PriceType, SignalType, Timeframe};
    use crate::trace::TraceData;

    struct Columns {
        ts: Vec<i64>,
        tf: Vec<Timeframe>,
        pt: Vec<PriceType>,
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
        volume: Vec<f64>,
    }

    impl Columns {
        /// `bars` M1 bars, bid and ask, plus an M5 bid bar every fifth minute.
        fn synthetic(bars: usize) -> Self {
            let mut c = Columns {
                ts: vec![],
                tf: vec![],
                pt: vec![],
                open: vec![],
                high: vec![],
                low: vec![],
                close: vec![],
                volume: vec![],
            };
            let mut price = 100.0_f64;
            let mut state = 12_345_u64;
            for i in 0..bars {
                state = crate::rng::splitmix64(state);
                #[allow(clippy::cast_precision_loss)]
                let step = ((state >> 11) as f64 / 9_007_199_254_740_992.0 - 0.5) * 0.8;
                let open = price;
                price += step;
                let (hi, lo) = (open.max(price) + 0.1, open.min(price) - 0.1);
                #[allow(clippy::cast_possible_wrap)]
                let ts = (i as i64 + 1) * 60_000_000;
                let mut push = |tf, pt, spread: f64| {
                    c.ts.push(ts);
                    c.tf.push(tf);
                    c.pt.push(pt);
                    c.open.push(open + spread);
                    c.high.push(hi + spread);
                    c.low.push(lo + spread);
                    c.close.push(price + spread);
                    c.volume.push(1.0);
                };
                push(Timeframe::M1, PriceType::Bid, 0.0);
                push(Timeframe::M1, PriceType::Ask, 0.02);
                if i % 5 == 4 {
                    push(Timeframe::M5, PriceType::Bid, 0.0);
                }
            }
            c
        }

        fn columns(&self) -> CandleColumns<'_> {
            CandleColumns {
                timestamp: &self.ts,
                timeframe: &self.tf,
                price_type: &self.pt,
                open: &self.open,
                high: &self.high,
                low: &self.low,
                close: &self.close,
                volume: &self.volume,
            }
        }
    }

    /// The SMA-cross decision of `legacy_py.strategies.SmaCross` for one row.
    fn decide(prev: &mut i32, fast: Option<f64>, slow: Option<f64>) -> Option<StrategySignal> {
        let (Some(fast), Some(slow)) = (fast, slow) else {
            return None;
        };
        let state = if fast > slow {
            1
        } else if fast < slow {
            -1
        } else {
            *prev
        };
        let before = std::mem::replace(prev, state);
        if before == 0 || state == before {
            return None;
        }
        Some(StrategySignal {
            signal_type: if state > 0 {
                SignalType::Long
            } else {
                SignalType::Short
            },
            entry_price: None,
            stop_loss: None,
            take_profit: None,
            metadata: vec![("k".to_string(), "v".to_string())],
        })
    }

    struct PerCandle {
        prev: i32,
    }

    impl StrategyCallbacks for PerCandle {
        type Error = String;

        fn check_exit(
            &mut self,
            _: i64,
            _: &OpenPosition,
            _: &Candle,
            _: &[Option<f64>],
        ) -> Result<bool, String> {
            Ok(false)
        }

        fn on_candle(
            &mut self,
            _: i64,
            _: &Candle,
            values: &[Option<f64>],
            signal: &mut Option<StrategySignal>,
        ) -> Result<(), String> {
            *signal = decide(&mut self.prev, values[0], values[1]);
            Ok(())
        }
    }

    #[derive(Default)]
    struct Batched {
        prev: i32,
        sizes: Vec<usize>,
        short_by: usize,
    }

    impl BatchStrategy for Batched {
        type Error = String;

        fn on_batch(&mut self, chunk: &Chunk) -> Result<Vec<Option<StrategySignal>>, String> {
            self.sizes.push(chunk.len());
            let cols = chunk.indicators();
            let col = |i: usize| {
                cols.column(i)
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .cloned()
                    .ok_or_else(|| "not float64".to_string())
            };
            let (fast, slow) = (col(0)?, col(1)?);
            let get = |a: &Float64Array, r: usize| a.is_valid(r).then(|| a.value(r));
            let n = chunk.len() - self.short_by.min(chunk.len());
            Ok((0..n)
                .map(|r| decide(&mut self.prev, get(&fast, r), get(&slow, r)))
                .collect())
        }

        fn internal_error(&self, message: String) -> String {
            message
        }
    }

    fn spec(subs: Vec<SeriesKey>) -> RunSpec {
        RunSpec {
            strategy_name: "sma".into(),
            strategy_label: "'sma'".into(),
            subscriptions: subs,
            indicators: vec![
                IndicatorRequest::new("M1", "bid", "sma:3"),
                IndicatorRequest::new("M1", "bid", "sma:7"),
                IndicatorRequest::new("M5", "bid", "ema:4"),
            ],
            config: EngineConfig::default(),
            seed: 5,
            contract_size: 1.0,
            source: "<test>".into(),
        }
    }

    fn batched(c: &Columns, spec: &RunSpec, chunk: usize) -> (TraceData, Vec<usize>) {
        let la = LookAhead::new(c.columns(), &spec.subscriptions, &spec.indicators, chunk)
            .expect("lookahead");
        let mut d = BatchDispatcher::new(la, Batched::default());
        let trace = run(EventQueue::new(c.columns()), spec, &mut d).expect("batched run failed");
        assert_eq!(d.chunks_called(), d.strategy().sizes.len());
        (trace, d.strategy().sizes.clone())
    }

    #[test]
    fn batched_equals_per_candle_for_every_chunk_size() {
        let c = Columns::synthetic(300);
        for subs in [
            vec![(Timeframe::M1, PriceType::Bid)],
            vec![
                (Timeframe::M1, PriceType::Bid),
                (Timeframe::M5, PriceType::Bid),
            ],
        ] {
            let spec = spec(subs);
            let reference = run(
                EventQueue::new(c.columns()),
                &spec,
                &mut PerCandle { prev: 0 },
            )
            .expect("per-candle run failed");
            assert!(reference.fills.len() > 4, "the fixture must trade");
            for chunk in [1, 7, 64, 4096] {
                let (trace, sizes) = batched(&c, &spec, chunk);
                assert_eq!(
                    format!("{trace:?}"),
                    format!("{reference:?}"),
                    "chunk size {chunk}"
                );
                let subscribed: usize = sizes.iter().sum(); // integers: no float-fold rule
                let called = reference.events.signal_status.iter().flatten().count();
                assert_eq!(subscribed, called);
                assert!(sizes.iter().all(|&s| s >= 1 && s <= chunk));
            }
        }
    }

    #[test]
    fn chunks_hold_subscribed_events_in_order() {
        let c = Columns::synthetic(12);
        let subs = [
            (Timeframe::M5, PriceType::Bid),
            (Timeframe::M1, PriceType::Ask),
        ];
        let req = [IndicatorRequest::new("M5", "bid", "sma:2")];
        let mut la = LookAhead::new(c.columns(), &subs, &req, 5).expect("lookahead");
        assert_eq!(la.output_names(), ["M5_bid_sma_2".to_string()]);
        let mut seen = Vec::new();
        let mut numbers = Vec::new();
        while let Some(chunk) = la.next_chunk().expect("chunk") {
            numbers.push(chunk.number());
            assert_eq!(chunk.candles().num_columns(), CANDLE_COLUMNS.len());
            assert_eq!(chunk.indicators().num_rows(), chunk.len());
            seen.extend_from_slice(chunk.event_indices());
        }
        assert_eq!(numbers, vec![0, 1, 2]);
        let expected: Vec<i64> = (0..c.ts.len())
            .filter(|&i| subs.contains(&(c.tf[i], c.pt[i])))
            .map(|i| i64::try_from(i).expect("small"))
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn indicator_columns_are_null_until_warm() {
        let c = Columns::synthetic(5);
        let subs = [(Timeframe::M1, PriceType::Bid)];
        let req = [IndicatorRequest::new("M1", "bid", "sma:3")];
        let mut la = LookAhead::new(c.columns(), &subs, &req, 100).expect("lookahead");
        let chunk = la.next_chunk().expect("ok").expect("chunk");
        let col = chunk.indicators().column(0);
        assert_eq!(col.null_count(), 2);
        assert!(chunk.indicators_match(0, &[None]));
        assert!(!chunk.indicators_match(0, &[Some(1.0)]));
        assert!(!chunk.indicators_match(0, &[]));
        assert!(la.next_chunk().expect("ok").is_none());
    }

    #[test]
    fn zero_chunk_size_and_bad_specs_are_config_errors() {
        let c = Columns::synthetic(2);
        let subs = [(Timeframe::M1, PriceType::Bid)];
        assert!(LookAhead::new(c.columns(), &subs, &[], 0).is_err());
        let bad = [IndicatorRequest::new("M1", "bid", "sma:0")];
        assert!(LookAhead::new(c.columns(), &subs, &bad, 3).is_err());
    }

    #[test]
    fn wrong_signal_count_is_an_internal_error() {
        let c = Columns::synthetic(20);
        let spec = spec(vec![(Timeframe::M1, PriceType::Bid)]);
        let la = LookAhead::new(c.columns(), &spec.subscriptions, &spec.indicators, 8)
            .expect("lookahead");
        let strategy = Batched {
            short_by: 1,
            ..Batched::default()
        };
        let mut d = BatchDispatcher::new(la, strategy);
        match run(EventQueue::new(c.columns()), &spec, &mut d) {
            Err(crate::event::engine::RunError::Strategy(msg)) => {
                assert!(msg.contains("7 signals for a chunk of 8"), "{msg}");
            }
            _ => panic!("expected a strategy error"),
        }
    }
}
