//! Indicator values for a whole stream, computed column by column before the event loop.
//!
//! An indicator's value after event `i` depends only on the candles of its series up
//! to `i` (`docs/engine_semantics.md`, step 1), never on engine state, so the engine can
//! compute every output for every bar up front: [`IndicatorCache::bar_columns`]
//! returns each output's values per bar of its series, the loop reads the current
//! values through a cursor ([`BarColumns::fill`]), and [`BarColumns::scatter`] spreads
//! them over the events — exactly the trace's `ind_*` columns — on whichever thread
//! has time ([`IndicatorCache::event_columns`] does both at once).
//!
//! **Same arithmetic.** Each value is produced by the same IEEE-754 operations, in the
//! same order, as the incremental state machines of [`super::kinds`] (which mirror
//! `legacy_py/indicators.py`): the window indicators (`sma`, `std`, `bb`, `highest`,
//! `lowest`) compute *many windows at once*, one window per lane, but every lane runs
//! the window's left fold from `0.0`, oldest value first (`acc = acc + x`), or its strict
//! scan, exactly like [`super::kinds`]; nothing is reassociated, so vectorised lanes
//! give the scalar bits. The recursive indicators (`ema`, `rsi`, `atr`, `macd`) run the
//! state machines themselves. `tests.rs` checks both paths against each other bit for
//! bit, including signed zeros and large magnitudes.

use super::kinds::{first_extreme, left_sum, square_dev_sum};
use super::{Indicator, IndicatorCache};
use crate::event::queue::CandleColumns;
use crate::event::types::{series_slot, Candle, PriceType, Timeframe};
use crate::parallel::{join_local, split_onto_helper};
use crate::trace::{OptF64Column, SeriesColumns};

/// Windows computed together: one accumulator per window, held in registers.
const LANES: usize = 8;

/// Windows [`window_sums`] computes together: enough independent accumulators
/// (eight two-lane SSE2 registers) that the adds are limited by throughput, not by
/// the latency of one add chain.
const SUM_LANES: usize = 16;

/// `out[t] = ((0.0 + x[t]) + x[t + 1]) + … + x[t + n - 1]` for every full window
/// (`out.len() == x.len() + 1 - n`), the fold of `Window::fold_sum`.
///
/// [`SUM_LANES`] consecutive windows are folded together, one accumulator each:
/// step `k` adds `x[t + k]` to window `t`'s accumulator, so every window still sums
/// its values oldest first, starting from `0.0`.
pub(crate) fn window_sums(x: &[f64], n: usize, out: &mut [f64]) {
    debug_assert_eq!(out.len() + n, x.len() + 1);
    let mut chunks = out.chunks_exact_mut(SUM_LANES);
    let mut start = 0;
    for chunk in &mut chunks {
        let mut acc = [0.0_f64; SUM_LANES];
        for k in 0..n {
            let xs: &[f64; SUM_LANES] = x[start + k..start + k + SUM_LANES]
                .try_into()
                .unwrap_or(&[0.0; SUM_LANES]); // always SUM_LANES long
            for (a, &v) in acc.iter_mut().zip(xs) {
                *a += v; // port: same order (acc = acc + x), one window per lane
            }
        }
        chunk.copy_from_slice(&acc);
        start += SUM_LANES;
    }
    for (j, slot) in chunks.into_remainder().iter_mut().enumerate() {
        *slot = left_sum(&x[start + j..start + j + n]);
    }
}

/// `out[t] = square_dev_sum(window t, mean[t])`, the second half of `Window::mean_std`,
/// [`LANES`] windows at a time (each lane folds oldest first from `0.0`).
fn window_square_sums(x: &[f64], n: usize, mean: &[f64], out: &mut [f64]) {
    let mut chunks = out.chunks_exact_mut(LANES);
    let mut start = 0;
    for chunk in &mut chunks {
        let m: &[f64; LANES] = mean[start..start + LANES]
            .try_into()
            .unwrap_or(&[0.0; LANES]); // always LANES long
        let mut acc = [0.0_f64; LANES];
        for k in 0..n {
            let xs: &[f64; LANES] = x[start + k..start + k + LANES]
                .try_into()
                .unwrap_or(&[0.0; LANES]); // always LANES long
            for ((a, &v), &mu) in acc.iter_mut().zip(xs).zip(m) {
                let d = v - mu;
                *a += d * d; // port: same order (acc = acc + (d * d))
            }
        }
        chunk.copy_from_slice(&acc);
        start += LANES;
    }
    for (j, slot) in chunks.into_remainder().iter_mut().enumerate() {
        let t = start + j;
        *slot = square_dev_sum(&x[t..t + n], mean[t]);
    }
}

/// `out[t] = (mean, population std)` of window `t`, as `Window::mean_std`.
fn window_mean_std(x: &[f64], n: usize, fn_: f64, mean: &mut [f64], sd: &mut [f64]) {
    window_sums(x, n, mean);
    for m in mean.iter_mut() {
        *m /= fn_; // port: same order (fold_sum() / n)
    }
    window_square_sums(x, n, mean, sd);
    for s in sd.iter_mut() {
        *s = (*s / fn_).sqrt();
    }
}

/// `out[t]` = the first maximum (`highest`) or minimum of window `t`, strict
/// comparisons scanning from the oldest value, as `Window::highest` / `lowest`.
fn window_extremes(x: &[f64], n: usize, highest: bool, out: &mut [f64]) {
    for (t, best) in out.iter_mut().enumerate() {
        *best = first_extreme(&x[t..t + n], highest);
    }
}

/// The bars of one series: their positions in event order (the stream's shared
/// index, [`SeriesColumns::bar_events`]) and their candles' fields.
struct SeriesBars<'s> {
    /// Event positions (canonical order), increasing.
    events: &'s [usize],
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
}

impl<'s> SeriesBars<'s> {
    fn gather(
        columns: CandleColumns<'_>,
        order: Option<&[usize]>,
        events: &'s [usize],
        needs_range: bool,
    ) -> Self {
        let pick = |col: &[f64]| -> Vec<f64> {
            match order {
                Some(p) => events.iter().map(|&e| col[p[e]]).collect(),
                None => events.iter().map(|&e| col[e]).collect(),
            }
        };
        let close = pick(columns.close);
        let (high, low) = if needs_range {
            (pick(columns.high), pick(columns.low))
        } else {
            (Vec::new(), Vec::new())
        };
        Self {
            events,
            high,
            low,
            close,
        }
    }

    fn len(&self) -> usize {
        self.events.len()
    }
}

/// Per-bar outputs of one indicator: for each output, the bar from which it is valid
/// (`usize::MAX`: never) and its values from that bar on (`values[t]` is bar
/// `first + t`). Every indicator's outputs stay valid once they are (its state machine
/// only ever assigns `Some`), so validity is a prefix.
#[derive(Debug)]
struct BarOutputs {
    first: usize,
    values: Vec<f64>,
}

/// Window-indicator outputs: valid from bar `n - 1`.
fn windowed(bars: usize, n: usize, values: Vec<f64>) -> BarOutputs {
    if bars < n {
        return BarOutputs {
            first: usize::MAX,
            values: Vec::new(),
        };
    }
    BarOutputs {
        first: n - 1,
        values,
    }
}

fn full_windows(bars: usize, n: usize) -> usize {
    (bars + 1).saturating_sub(n)
}

/// Run the state machine over the bars and record its outputs.
fn by_state_machine(indicator: &Indicator, s: &SeriesBars<'_>) -> Vec<BarOutputs> {
    let mut ind = indicator.clone();
    let k = ind.values().len();
    let mut outs: Vec<BarOutputs> = (0..k)
        .map(|_| BarOutputs {
            first: usize::MAX,
            values: Vec::new(),
        })
        .collect();
    for t in 0..s.len() {
        // Only the fields indicators read are needed (close; high and low for atr).
        let candle = Candle {
            timestamp: 0,
            timeframe: Timeframe::M1,
            price_type: PriceType::Bid,
            open: s.close[t],
            high: s.high.get(t).copied().unwrap_or(s.close[t]),
            low: s.low.get(t).copied().unwrap_or(s.close[t]),
            close: s.close[t],
            volume: 0.0,
        };
        ind.update(&candle);
        for (out, v) in outs.iter_mut().zip(ind.values()) {
            match v {
                Some(x) => {
                    if out.first == usize::MAX {
                        out.first = t;
                    }
                    out.values.push(*x);
                }
                None => debug_assert_eq!(out.first, usize::MAX, "validity is a prefix"),
            }
        }
    }
    outs
}

/// Every output of `indicator` for every bar of `s`.
fn bar_outputs(indicator: &Indicator, series: &SeriesBars<'_>) -> Vec<BarOutputs> {
    let s = series;
    let bars = s.len();
    match indicator {
        Indicator::Sma(i) => {
            let (n, fn_) = (i.window.n, i.fn_);
            let mut sums = vec![0.0; full_windows(bars, n)];
            if !sums.is_empty() {
                window_sums(&s.close, n, &mut sums);
                for v in &mut sums {
                    *v /= fn_; // port: same order (fold_sum() / n)
                }
            }
            vec![windowed(bars, n, sums)]
        }
        Indicator::Std(i) => {
            let (n, fn_) = (i.window.n, i.fn_);
            let m = full_windows(bars, n);
            let (mut mean, mut sd) = (vec![0.0; m], vec![0.0; m]);
            if m > 0 {
                window_mean_std(&s.close, n, fn_, &mut mean, &mut sd);
            }
            vec![windowed(bars, n, sd)]
        }
        Indicator::Bollinger(bb) => {
            let (n, fn_, k) = (bb.window.n, bb.fn_, bb.k);
            let m = full_windows(bars, n);
            let (mut mid, mut sd) = (vec![0.0; m], vec![0.0; m]);
            if m > 0 {
                window_mean_std(&s.close, n, fn_, &mut mid, &mut sd);
            }
            // port: same order (mid + k * sd, mid, mid - k * sd)
            let upper = mid.iter().zip(&sd).map(|(&a, &d)| a + k * d).collect();
            let lower = mid.iter().zip(&sd).map(|(&a, &d)| a - k * d).collect();
            vec![
                windowed(bars, n, upper),
                windowed(bars, n, mid),
                windowed(bars, n, lower),
            ]
        }
        Indicator::Extreme(i) => {
            let n = i.window.n;
            let mut best = vec![0.0; full_windows(bars, n)];
            if !best.is_empty() {
                let x = if i.highest { &s.high } else { &s.low };
                window_extremes(x, n, i.highest, &mut best);
            }
            vec![windowed(bars, n, best)]
        }
        Indicator::Ema(_) | Indicator::Rsi(_) | Indicator::Atr(_) | Indicator::Macd(_) => {
            by_state_machine(indicator, s)
        }
    }
}

/// Spread per-bar values over the events: event `e` holds the value of the series' last
/// bar at or before `e` (null before its first valid bar).
fn scatter(out: &BarOutputs, events: &[usize], n_events: usize) -> OptF64Column {
    let start = events.get(out.first).copied().unwrap_or(n_events);
    let mut next = 0; // the next bar of the series
    let mut current = 0.0;
    // (large columns get the huge-page advice: fewer page faults to fault them in)
    let mut values: Vec<f64> = crate::trace::pages::with_capacity(n_events);
    values.extend((0..n_events).map(|e| {
        if next < events.len() && events[next] == e {
            if next >= out.first {
                current = out.values[next - out.first];
            }
            next += 1;
        }
        current
    }));
    let mut valid: Vec<bool> = crate::trace::pages::with_capacity(n_events);
    valid.extend((0..n_events).map(|e| e >= start));
    OptF64Column { values, valid }
}

/// One output's values per bar of its series.
#[derive(Debug)]
struct OutputBars<'s> {
    /// The events of the series' bars, increasing.
    events: &'s [usize],
    /// The bar from which the output is valid (`usize::MAX`: never) and its values
    /// from there on.
    bars: BarOutputs,
}

/// Every indicator output, per bar of its series ([`IndicatorCache::bar_columns`]), in
/// [`IndicatorCache::output_names`] order.
#[derive(Debug)]
pub struct BarColumns<'s> {
    outputs: Vec<OutputBars<'s>>,
    n_events: usize,
}

impl BarColumns<'_> {
    /// Number of outputs.
    #[must_use]
    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    /// True without outputs.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// A cursor for [`Self::fill`], before the first event.
    #[must_use]
    pub fn cursor(&self) -> Vec<usize> {
        vec![0; self.outputs.len()]
    }

    /// The outputs' values after event `event` into `out` (one per output): the value
    /// of the output's series' last bar at or before `event`, `None` before its first
    /// valid bar — what [`Self::scatter`] puts in row `event`. `cursor` (from
    /// [`Self::cursor`]) counts each output's bars passed so far, so the events asked
    /// for must not decrease.
    #[inline]
    pub fn fill(&self, cursor: &mut [usize], event: usize, out: &mut [Option<f64>]) {
        for ((o, next), value) in self.outputs.iter().zip(cursor).zip(out) {
            while *next < o.events.len() && o.events[*next] <= event {
                *next += 1;
            }
            // `*next` bars are at or before `event`; the last of them is `*next - 1`.
            *value = if *next > o.bars.first {
                Some(o.bars.values[*next - 1 - o.bars.first])
            } else {
                None
            };
        }
    }

    /// Every output's value after every event, one event-aligned column per output.
    #[must_use]
    pub fn scatter(&self) -> Vec<OptF64Column> {
        self.outputs
            .iter()
            .map(|o| scatter(&o.bars, o.events, self.n_events))
            .collect()
    }
}

impl IndicatorCache {
    /// Every output's value after every event of `columns` (visited in `order`, or row
    /// order), one event-aligned column per output in [`Self::output_names`] order:
    /// what [`Self::update`] + [`Self::write_values`] would give event by event, bit
    /// for bit. The cache itself is not changed. (`series`: the events' series, e.g.
    /// [`SeriesColumns::of_events`].)
    #[must_use]
    pub fn event_columns(
        &self,
        columns: CandleColumns<'_>,
        order: Option<&[usize]>,
        series: &SeriesColumns,
    ) -> Vec<OptF64Column> {
        self.bar_columns(columns, order, series).scatter()
    }

    /// Every output's values per bar of its series, for the events of `columns`
    /// visited in `order` (row order when `None`), whose series are `series`.
    ///
    /// # Panics
    /// When `series` does not have one entry per row of `columns`.
    #[must_use]
    pub fn bar_columns<'s>(
        &self,
        columns: CandleColumns<'_>,
        order: Option<&[usize]>,
        series: &'s SeriesColumns,
    ) -> BarColumns<'s> {
        let n_events = columns.len();
        assert_eq!(
            series.len(),
            n_events,
            "bar_columns: series of other events"
        );
        // Outputs per indicator (each indicator belongs to exactly one series), then
        // flattened in declaration order: the order of `output_names`.
        let mut per_indicator: Vec<Vec<OutputBars<'s>>> =
            self.indicators.iter().map(|_| Vec::new()).collect();
        for &(tf, pt) in &self.series_keys {
            let slot = series_slot(tf, pt);
            let needs_range = self.by_series[slot].iter().any(|&i| {
                matches!(
                    self.indicators[i],
                    Indicator::Atr(_) | Indicator::Extreme(_)
                )
            });
            let events = series.bar_events(tf, pt);
            let bars = SeriesBars::gather(columns, order, events, needs_range);
            let of_series = &self.by_series[slot];
            let compute = |part: &[usize]| -> Vec<Vec<BarOutputs>> {
                part.iter()
                    .map(|&i| bar_outputs(&self.indicators[i], &bars))
                    .collect()
            };
            // Indicators are independent: a long stream's are computed in two halves,
            // the second on the run's helper thread (not inside a pool, whose threads
            // run other runs), each by the same sequential code, in declaration order.
            let split = of_series.len() > 1 && split_onto_helper(n_events);
            let outputs = if split {
                let (first, second) = of_series.split_at(of_series.len() / 2);
                let (mut a, b) = join_local(|| compute(first), || compute(second));
                a.extend(b);
                a
            } else {
                compute(of_series)
            };
            for (&i, bars) in of_series.iter().zip(outputs) {
                per_indicator[i] = bars
                    .into_iter()
                    .map(|bars| OutputBars { events, bars })
                    .collect();
            }
        }
        BarColumns {
            outputs: per_indicator.into_iter().flatten().collect(),
            n_events,
        }
    }
}
