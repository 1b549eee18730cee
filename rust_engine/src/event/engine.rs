//! The event loop: the per-event pipeline of `docs/engine_semantics.md`.
//!
//! A port of `legacy_py/engine.py::run_python`. The strategy is reached through
//! [`StrategyCallbacks`], so this module has no Python in it: the `PyO3` bridge
//! implements the trait with Python callbacks, tests implement it in Rust.

use std::sync::Arc;

use super::ledger::{
    Chunk, ColumnWriter, Marking, StateLog, PARALLEL_ROWS, PIPELINE_CHUNK_ROWS, PIPELINE_ROWS,
};
use super::queue::EventQueue;
use super::types::{Candle, PriceType, SeriesKey, Side, SignalType, StrategySignal, Timeframe};
use crate::config::{EngineConfig, Sizing};
use crate::execution::{risk_quantity, ExecutionSimulator, Order, OrderKind, Purpose};
use crate::indicators::{IndicatorCache, IndicatorRequest};
use crate::parallel::join_local;
use crate::portfolio::{sharpe_ratio, OpenPosition, Portfolio};
use crate::rng::seed_bits;
use crate::trace::{CallColumns, EventColumns, Summary, TraceData};

/// What the engine calls on subscribed events.
pub trait StrategyCallbacks {
    /// The strategy's error (e.g. a Python exception).
    type Error;

    /// `check_exit(position, candle, indicators) -> bool`.
    ///
    /// # Errors
    /// Whatever the strategy raises; the run stops and returns it.
    fn check_exit(
        &mut self,
        event_index: i64,
        position: &OpenPosition,
        candle: &Candle,
        indicators: &[Option<f64>],
    ) -> Result<bool, Self::Error>;

    /// `on_candle(candle, indicators) -> StrategySignal | None` (already validated),
    /// written to `signal` (which is `None` on entry).
    ///
    /// The signal is an out-parameter, not a return value: the engine keeps one slot
    /// for the whole run and only moves a signal out of it when there is one, so the
    /// common "no signal" event never copies the large `Option<StrategySignal>`
    /// (copies that cost a store-forwarding stall per event).
    ///
    /// # Errors
    /// Whatever the strategy raises; the run stops and returns it.
    fn on_candle(
        &mut self,
        event_index: i64,
        candle: &Candle,
        indicators: &[Option<f64>],
        signal: &mut Option<StrategySignal>,
    ) -> Result<(), Self::Error>;

    /// Called once per event after the pipeline (e.g. to check for Ctrl-C).
    ///
    /// # Errors
    /// An error aborts the run.
    fn after_event(&mut self, _event_index: i64) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Why a run could not start or had to stop.
#[derive(Debug)]
pub enum RunError<E> {
    /// Bad subscriptions or indicator requests.
    Config(String),
    /// The strategy raised.
    Strategy(E),
}

/// Everything a run needs besides the stream and the callbacks.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// Strategy name (for the summary).
    pub strategy_name: String,
    /// The name as error messages show it (Python's `repr`, e.g. `'noop'`).
    pub strategy_label: String,
    /// Subscribed series; the first is primary and names the execution timeframe.
    pub subscriptions: Vec<SeriesKey>,
    /// Indicator requests.
    pub indicators: Vec<IndicatorRequest>,
    /// Engine config.
    pub config: EngineConfig,
    /// RNG seed.
    pub seed: i64,
    /// Instrument contract size.
    pub contract_size: f64,
    /// Human-readable source (for errors).
    pub source: String,
}

/// Run the pipeline over every event of `queue`.
///
/// Runs of at least [`PIPELINE_ROWS`] events started outside a thread pool use a
/// second thread: it writes the wide trace columns of each finished chunk of events
/// while the loop goes on (the strategy is only ever called on this thread).
///
/// # Errors
/// [`RunError::Config`] for a spec that cannot run on this stream,
/// [`RunError::Strategy`] when a callback fails.
///
/// # Panics
/// Only on an internal inconsistency (the loop not handing every row to the column
/// writer); panics in a callback or on the writer thread propagate.
#[allow(
    clippy::too_many_lines,
    clippy::cast_possible_wrap,
    clippy::needless_pass_by_value // the queue is the run's input, taken like a stream
)]
pub fn run<S: StrategyCallbacks>(
    queue: EventQueue<'_>,
    spec: &RunSpec,
    strategy: &mut S,
) -> Result<TraceData, RunError<S::Error>> {
    let Some(&primary) = spec.subscriptions.first() else {
        return Err(RunError::Config(format!(
            "strategy {} subscribes to nothing",
            spec.strategy_label
        )));
    };
    let exec_tf = primary.0;
    let cols = queue.columns();
    let mut has_bid = false;
    let mut has_ask = false;
    for row in 0..cols.len() {
        if cols.timeframe[row] == exec_tf {
            match cols.price_type[row] {
                PriceType::Bid => has_bid = true,
                PriceType::Ask => has_ask = true,
            }
        }
    }
    if !has_bid && !has_ask {
        return Err(RunError::Config(format!(
            "strategy {}: execution timeframe {} not in stream {}",
            spec.strategy_label, exec_tf, spec.source
        )));
    }
    let buy_pt = if has_ask {
        PriceType::Ask
    } else {
        PriceType::Bid
    };
    let sell_pt = if has_bid {
        PriceType::Bid
    } else {
        PriceType::Ask
    };

    let cache = IndicatorCache::new(&spec.indicators)
        .map_err(|e| RunError::Config(e.message().to_string()))?;
    let cfg = spec.config.clone();
    let mut portfolio = Portfolio::new(cfg.initial_cash, spec.contract_size);
    let mut sim = ExecutionSimulator::new(cfg.clone(), seed_bits(spec.seed), buy_pt, sell_pt);
    // 1. indicators, for every bar at once: they depend only on the candles, so the
    // values after event i are known before the loop (`indicators::columns`). The loop
    // reads them per bar; spread over the events they are the trace's `ind_*`
    // columns, built while the loop runs when there is a helper thread.
    let series = queue.series();
    let indicator_bars = cache.bar_columns(queue.columns(), queue.order(), &series);
    let mut events = EventColumns::new(cache.output_names().to_vec(), queue.len());
    events.series = Arc::clone(&series);
    let mut values: Vec<Option<f64>> = vec![None; indicator_bars.len()];
    let mut cursor = indicator_bars.cursor();
    let mut signal: Option<StrategySignal> = None; // `on_candle`'s slot (see the trait)
    let mut subscribed = [[false; 2]; Timeframe::ALL.len()];
    for &(tf, pt) in &spec.subscriptions {
        subscribed[tf as usize][pt as usize] = true;
    }
    let risk_sizing = cfg.sizing == Sizing::Risk;

    let marking = Marking {
        columns: queue.columns(),
        order: queue.order(),
        exec_timeframe: exec_tf,
        buy_price_type: buy_pt,
        sell_price_type: sell_pt,
        primary,
        initial_cash: cfg.initial_cash,
        contract_size: spec.contract_size,
    };
    let rows = queue.len();
    // Long streams write their wide columns on a second thread while the loop runs
    // (`ledger::ColumnWriter`, a chunk of rows at a time); inside a thread pool
    // (`run_many`) the other threads are busy with other runs, so the run writes
    // its chunk itself after the loop.
    let pipelined = rows >= PIPELINE_ROWS && rayon::current_thread_index().is_none();
    let chunk_rows = if pipelined {
        (rows / 8).clamp(PIPELINE_CHUNK_ROWS.0, PIPELINE_CHUNK_ROWS.1)
    } else {
        usize::MAX
    };
    let (slots, mut calls) = events.split();
    let mut writer = ColumnWriter::new(
        slots,
        Arc::clone(&series),
        marking,
        if pipelined { usize::MAX } else { PARALLEL_ROWS },
    );
    let mut log = StateLog::new();
    // The event loop; `on_chunk(end, log, calls)` takes each finished chunk of rows.
    let mut run_events = |calls: &mut CallColumns<'_>,
                          on_chunk: &mut dyn FnMut(usize, StateLog, &mut CallColumns<'_>)|
     -> Result<(), RunError<S::Error>> {
        let mut boundary = chunk_rows.min(rows);
        for i in 0..rows {
            let candle = queue.event(i);
            let index = i as i64;
            let is_subscribed = subscribed[candle.timeframe as usize][candle.price_type as usize];
            // Risk sizing uses the equity after the previous event: cash and legs change
            // only in step 2 and the marks only after it, so this is that equity (the
            // starting equity before the first event).
            let equity_before = if risk_sizing && is_subscribed && i > 0 {
                portfolio.equity_at_marks()
            } else {
                portfolio.equity
            };
            // 2. fills and exits
            if candle.timeframe == exec_tf {
                sim.on_execution_bar(&mut portfolio, index, &candle);
                if candle.price_type == sell_pt {
                    portfolio.mark_long = Some(candle.close);
                }
                if candle.price_type == buy_pt {
                    portfolio.mark_short = Some(candle.close);
                }
            }
            if is_subscribed {
                indicator_bars.fill(&mut cursor, i, &mut values);
                // 3. check_exit, for positions without a pending exit in position-id order.
                // An iteration only changes its own position and none is opened or closed
                // here, so testing `exit_pending` as we go equals Python's loop over
                // `list(positions)` (and allocates nothing per event).
                let mut exit_requests = 0_i64;
                for idx in 0..portfolio.positions.len() {
                    if portfolio.positions[idx].exit_pending {
                        continue;
                    }
                    let decision = strategy
                        .check_exit(index, &portfolio.positions[idx], &candle, &values)
                        .map_err(RunError::Strategy)?;
                    if decision {
                        exit_requests += 1;
                        let pos = &mut portfolio.positions[idx];
                        pos.exit_pending = true;
                        let order = exit_order(pos, Purpose::Exit, index, candle.timestamp);
                        sim.push_order(order);
                    }
                }
                if exit_requests > 0 {
                    calls.set_exit_requests(i, exit_requests);
                }
                // 4. on_candle
                strategy
                    .on_candle(index, &candle, &values, &mut signal)
                    .map_err(RunError::Strategy)?;
                // 5. orders
                let status = apply_signal(
                    signal.as_ref(),
                    &mut sim,
                    &mut portfolio,
                    &cfg,
                    &candle,
                    index,
                    equity_before,
                );
                if signal.is_some() {
                    calls.set_call(i, signal.take(), status);
                } else {
                    calls.set_call(i, None, status); // (no move of the empty signal)
                }
            }
            // 6. mark to market: recorded as a state change; the column writer
            // (`ledger`) marks the rows of each finished chunk, bit for bit as
            // `Portfolio::mark` would here.
            log.record(i, &portfolio, sim.orders.len());
            strategy.after_event(index).map_err(RunError::Strategy)?;
            if i + 1 == boundary {
                on_chunk(boundary, log.split_chunk(boundary), calls);
                boundary = boundary.saturating_add(chunk_rows).min(rows);
            }
        }
        Ok(())
    };
    let bars = &indicator_bars;
    let (outcome, indicator_columns) = if pipelined {
        let (tx, rx) = std::sync::mpsc::channel::<Chunk>();
        let (outcome, (done, indicator_columns)) = join_local(
            move || {
                // The records stay in the table; each chunk gets a copy of its own.
                let mut handed_over = (0, 0);
                let mut send = |end: usize, log: StateLog, calls: &mut CallColumns<'_>| {
                    let (prices, exits) = calls.records();
                    let chunk = Chunk {
                        end,
                        log,
                        prices: prices[handed_over.0..].to_vec(),
                        exits: exits[handed_over.1..].to_vec(),
                    };
                    handed_over = (prices.len(), exits.len());
                    // (the writer only stops early when this thread panicked)
                    let _ = tx.send(chunk);
                };
                run_events(&mut calls, &mut send)
            },
            move || {
                // The indicator columns first: the first chunk takes the loop a while.
                let indicator_columns = bars.scatter();
                while let Some(chunk) = receive_spinning(&rx) {
                    writer.write(chunk.end, &chunk.log, &chunk.prices, &chunk.exits);
                }
                (writer, indicator_columns)
            },
        );
        writer = done;
        (outcome, indicator_columns)
    } else {
        let mut write = |end: usize, log: StateLog, calls: &mut CallColumns<'_>| {
            let (prices, exits) = calls.records();
            writer.write(end, &log, prices, exits);
        };
        run_events(&mut calls, &mut write)?;
        (Ok(()), bars.scatter())
    };
    outcome?;
    let (marked, filled) = writer.finish().expect("the loop wrote every row");
    events.commit(filled);
    events.indicators = indicator_columns;

    portfolio.unrealized_pnl = marked.unrealized_pnl;
    portfolio.equity = marked.equity;
    portfolio.peak_equity = marked.peak.peak;
    portfolio.drawdown = marked.drawdown;
    portfolio.max_drawdown = marked.peak.max_drawdown;
    let trade_count = portfolio.trades.len();
    let win_rate = if trade_count == 0 {
        None
    } else {
        let mut wins = 0_i64;
        for t in &portfolio.trades {
            if t.net_pnl > 0.0 {
                wins += 1;
            }
        }
        #[allow(clippy::cast_precision_loss)]
        Some(wins as f64 / trade_count as f64)
    };
    let summary = Summary {
        strategy: spec.strategy_name.clone(),
        seed: spec.seed,
        events: events.len() as i64,
        initial_cash: cfg.initial_cash,
        final_equity: portfolio.equity,
        total_return: portfolio.equity / cfg.initial_cash - 1.0, // port: same order
        max_drawdown: portfolio.max_drawdown,
        trade_count: trade_count as i64,
        win_rate,
        sharpe: sharpe_ratio(&marked.samples, exec_tf.seconds()),
        fill_count: sim.fills.len() as i64,
        cancelled_orders: sim.cancelled_orders,
        open_positions: portfolio.positions.len() as i64,
        realized_pnl: portfolio.realized_pnl,
    };
    Ok(TraceData {
        events,
        fills: sim.fills,
        trades: portfolio.trades,
        summary,
    })
}

/// How long the column writer polls for the next chunk before it sleeps.
const WRITER_SPIN: std::time::Duration = std::time::Duration::from_millis(2);

/// The next chunk, or `None` once the loop hung up. A chunk arrives every few
/// hundred microseconds and waking a sleeping thread costs tens of them on a VM, so
/// the writer polls for up to [`WRITER_SPIN`] before it blocks.
fn receive_spinning<T>(rx: &std::sync::mpsc::Receiver<T>) -> Option<T> {
    let start = std::time::Instant::now();
    loop {
        for _ in 0..64 {
            match rx.try_recv() {
                Ok(item) => return Some(item),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return None,
                Err(std::sync::mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
        if start.elapsed() >= WRITER_SPIN {
            return rx.recv().ok();
        }
    }
}

fn exit_order(pos: &OpenPosition, purpose: Purpose, index: i64, timestamp: i64) -> Order {
    Order {
        order_id: 0,
        kind: OrderKind::Market,
        side: match pos.side {
            Side::Long => Side::Short,
            Side::Short => Side::Long,
        },
        purpose,
        quantity: pos.quantity,
        created_event: index,
        created_timestamp: timestamp,
        position_id: Some(pos.position_id),
        limit_price: None,
        stop_loss: None,
        take_profit: None,
        ttl: 0,
    }
}

fn close_all(
    sim: &mut ExecutionSimulator,
    portfolio: &mut Portfolio,
    side: Option<Side>,
    index: i64,
    timestamp: i64,
) {
    for pos in &mut portfolio.positions {
        if pos.exit_pending || side.is_some_and(|s| pos.side != s) {
            continue;
        }
        pos.exit_pending = true;
        sim.push_order(exit_order(pos, Purpose::Close, index, timestamp));
    }
}

fn apply_signal(
    signal: Option<&StrategySignal>,
    sim: &mut ExecutionSimulator,
    portfolio: &mut Portfolio,
    cfg: &EngineConfig,
    candle: &Candle,
    index: i64,
    equity_before: f64,
) -> &'static str {
    let Some(signal) = signal else {
        return "none";
    };
    let is_long = match signal.signal_type {
        SignalType::None => return "none",
        SignalType::Close => {
            sim.cancel_entries(None);
            close_all(sim, portfolio, None, index, candle.timestamp);
            return "accepted";
        }
        SignalType::Long => true,
        SignalType::Short => false,
    };
    let (side, opposite) = if is_long {
        (Side::Long, Side::Short)
    } else {
        (Side::Short, Side::Long)
    };
    sim.cancel_entries(Some(opposite));
    close_all(sim, portfolio, Some(opposite), index, candle.timestamp);
    let mut active = 0_usize;
    for pos in &portfolio.positions {
        if !pos.exit_pending {
            active += 1;
        }
    }
    active += sim.pending_entries();
    if active >= cfg.max_positions {
        return "rejected:max_positions";
    }
    let reference = signal.entry_price.unwrap_or(candle.close);
    let (sl, tp) = (signal.stop_loss, signal.take_profit);
    let bad = if is_long {
        sl.is_some_and(|s| s >= reference) || tp.is_some_and(|t| t <= reference)
    } else {
        sl.is_some_and(|s| s <= reference) || tp.is_some_and(|t| t >= reference)
    };
    if bad {
        return "rejected:invalid_stops";
    }
    let qty = match cfg.sizing {
        Sizing::Fixed => cfg.units,
        Sizing::Risk => {
            let Some(stop) = sl else {
                return "rejected:no_stop";
            };
            let q = risk_quantity(
                equity_before,
                cfg.risk_pct,
                reference,
                stop,
                portfolio.contract_size,
                cfg.lot_step,
            );
            if q.is_nan() || q <= 0.0 {
                return "rejected:size_zero";
            }
            q
        }
    };
    sim.push_order(Order {
        order_id: 0,
        kind: if signal.entry_price.is_none() {
            OrderKind::Market
        } else {
            OrderKind::Limit
        },
        side,
        purpose: Purpose::Entry,
        quantity: qty,
        created_event: index,
        created_timestamp: candle.timestamp,
        position_id: None,
        limit_price: signal.entry_price,
        stop_loss: sl,
        take_profit: tp,
        ttl: cfg.limit_ttl,
    });
    "accepted"
}
