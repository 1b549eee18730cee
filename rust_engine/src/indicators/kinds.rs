//! The indicator state machines. Every arithmetic line mirrors `legacy_py/indicators.py`
//! (lines marked `port: same order` there) operation for operation; see
//! `docs/indicators.md`. No `mul_add`, no `powi`, no iterator `sum()`: sums are explicit
//! left folds from `0.0`, oldest value first.

use std::collections::VecDeque;

use crate::event::types::Candle;

/// `float(n)` of a period. Periods are at most [`super::MAX_PERIOD`], so the conversion is
/// exact.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn period_f64(n: usize) -> f64 {
    debug_assert!(n <= super::MAX_PERIOD);
    n as f64
}

/// The last `n` values, oldest first (Python's `deque(maxlen=n)`).
#[derive(Clone, Debug)]
pub(super) struct Window {
    pub(super) n: usize,
    buf: VecDeque<f64>,
}

impl Window {
    fn new(n: usize) -> Self {
        Self {
            n,
            buf: VecDeque::with_capacity(n),
        }
    }

    /// Append `x`, dropping the oldest value when full; `true` once the window is full.
    fn push(&mut self, x: f64) -> bool {
        if self.buf.len() == self.n {
            self.buf.pop_front();
        }
        self.buf.push_back(x);
        self.buf.len() == self.n
    }

    /// Left fold from `0.0`, oldest first.
    fn fold_sum(&self) -> f64 {
        left_sum(&self.buf)
    }

    /// (mean, population std) as specified for `sma` / `std` / `bb`.
    fn mean_std(&self, fn_: f64) -> (f64, f64) {
        let mean = self.fold_sum() / fn_;
        (mean, (square_dev_sum(&self.buf, mean) / fn_).sqrt())
    }

    /// First maximum, strict `>` scan from the oldest value.
    fn highest(&self) -> f64 {
        first_extreme(&self.buf, true)
    }

    /// First minimum, strict `<` scan from the oldest value.
    fn lowest(&self) -> f64 {
        first_extreme(&self.buf, false)
    }
}

/// `((0.0 + x0) + x1) + …`: the left fold from `0.0` every window sum uses (shared by
/// the state machines and `columns.rs`).
pub(super) fn left_sum<'a>(xs: impl IntoIterator<Item = &'a f64>) -> f64 {
    let mut acc = 0.0;
    for &x in xs {
        acc += x; // port: same order (acc = acc + x)
    }
    acc
}

/// The left fold from `0.0` of `(x - mean) * (x - mean)`, oldest first.
pub(super) fn square_dev_sum<'a>(xs: impl IntoIterator<Item = &'a f64>, mean: f64) -> f64 {
    let mut acc = 0.0;
    for &x in xs {
        let d = x - mean;
        acc += d * d; // port: same order (acc = acc + (d * d))
    }
    acc
}

/// The first maximum (`highest`) or minimum of `xs`: strict `>` / `<` scan from the
/// oldest value (NaN for no values).
pub(super) fn first_extreme<'a>(xs: impl IntoIterator<Item = &'a f64>, highest: bool) -> f64 {
    let mut it = xs.into_iter().copied();
    let mut best = it.next().unwrap_or(f64::NAN);
    for v in it {
        if (highest && v > best) || (!highest && v < best) {
            best = v;
        }
    }
    best
}

/// `sma:n`.
#[derive(Clone, Debug)]
pub struct Sma {
    pub(super) window: Window,
    pub(super) fn_: f64,
    out: [Option<f64>; 1],
}

impl Sma {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            window: Window::new(n),
            fn_: period_f64(n),
            out: [None],
        }
    }

    fn update(&mut self, candle: &Candle) {
        if self.window.push(candle.close) {
            self.out[0] = Some(self.window.fold_sum() / self.fn_);
        }
    }
}

/// `std:n` (population).
#[derive(Clone, Debug)]
pub struct Std {
    pub(super) window: Window,
    pub(super) fn_: f64,
    out: [Option<f64>; 1],
}

impl Std {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            window: Window::new(n),
            fn_: period_f64(n),
            out: [None],
        }
    }

    fn update(&mut self, candle: &Candle) {
        if self.window.push(candle.close) {
            self.out[0] = Some(self.window.mean_std(self.fn_).1);
        }
    }
}

/// `bb:n:k`: outputs (upper, mid, lower).
#[derive(Clone, Debug)]
pub struct Bollinger {
    pub(super) window: Window,
    pub(super) fn_: f64,
    pub(super) k: f64,
    out: [Option<f64>; 3],
}

impl Bollinger {
    pub(crate) fn new(n: usize, k: f64) -> Self {
        Self {
            window: Window::new(n),
            fn_: period_f64(n),
            k,
            out: [None; 3],
        }
    }

    fn update(&mut self, candle: &Candle) {
        if self.window.push(candle.close) {
            let (mid, sd) = self.window.mean_std(self.fn_);
            self.out = [Some(mid + self.k * sd), Some(mid), Some(mid - self.k * sd)];
        }
    }
}

/// The EMA recursion on a stream of floats (used by `ema` and `macd`).
#[derive(Clone, Debug)]
pub struct EmaState {
    n: usize,
    fn_: f64,
    alpha: f64,
    one_minus_alpha: f64,
    count: usize,
    seed_sum: f64,
    value: Option<f64>,
}

impl EmaState {
    /// A fresh EMA with period `n` (`alpha = 2.0 / (float(n) + 1.0)`).
    #[must_use]
    pub fn new(n: usize) -> Self {
        let fn_ = period_f64(n);
        let alpha = 2.0 / (fn_ + 1.0);
        Self {
            n,
            fn_,
            alpha,
            one_minus_alpha: 1.0 - alpha,
            count: 0,
            seed_sum: 0.0,
            value: None,
        }
    }

    /// Feed the next value; the current EMA, `None` during the first `n - 1` values.
    pub fn push(&mut self, x: f64) -> Option<f64> {
        match self.value {
            None => {
                self.count += 1;
                self.seed_sum += x; // seed_sum = seed_sum + x
                if self.count == self.n {
                    self.value = Some(self.seed_sum / self.fn_);
                }
            }
            Some(prev) => {
                self.value = Some(self.alpha * x + self.one_minus_alpha * prev);
            }
        }
        self.value
    }

    /// The current EMA.
    #[must_use]
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// `ema:n`.
#[derive(Clone, Debug)]
pub struct Ema {
    state: EmaState,
    out: [Option<f64>; 1],
}

impl Ema {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            state: EmaState::new(n),
            out: [None],
        }
    }

    fn update(&mut self, candle: &Candle) {
        self.out[0] = self.state.push(candle.close);
    }
}

/// `rsi:n` (Wilder).
#[derive(Clone, Debug)]
pub struct Rsi {
    n: usize,
    fn_: f64,
    fn1: f64,
    prev_close: Option<f64>,
    count: usize,
    gain_sum: f64,
    loss_sum: f64,
    avg_gain: f64,
    avg_loss: f64,
    out: [Option<f64>; 1],
}

impl Rsi {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            n,
            fn_: period_f64(n),
            fn1: period_f64(n - 1),
            prev_close: None,
            count: 0,
            gain_sum: 0.0,
            loss_sum: 0.0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            out: [None],
        }
    }

    fn update(&mut self, candle: &Candle) {
        let x = candle.close;
        let Some(prev) = self.prev_close.replace(x) else {
            return;
        };
        let d = x - prev;
        let gain = if d > 0.0 { d } else { 0.0 };
        let loss = if d < 0.0 { -d } else { 0.0 };
        if self.count < self.n {
            self.count += 1;
            self.gain_sum += gain; // gain_sum = gain_sum + gain
            self.loss_sum += loss; // loss_sum = loss_sum + loss
            if self.count < self.n {
                return;
            }
            self.avg_gain = self.gain_sum / self.fn_;
            self.avg_loss = self.loss_sum / self.fn_;
        } else {
            self.avg_gain = (self.avg_gain * self.fn1 + gain) / self.fn_;
            self.avg_loss = (self.avg_loss * self.fn1 + loss) / self.fn_;
        }
        let value = if self.avg_loss == 0.0 {
            if self.avg_gain > 0.0 {
                100.0
            } else {
                50.0
            }
        } else {
            let rs = self.avg_gain / self.avg_loss;
            100.0 - 100.0 / (1.0 + rs)
        };
        self.out[0] = Some(value);
    }
}

/// Wilder's true range; `prev_close` is `None` on the series' first bar.
#[must_use]
pub fn true_range(high: f64, low: f64, prev_close: Option<f64>) -> f64 {
    let mut tr = high - low;
    if let Some(pc) = prev_close {
        let a = (high - pc).abs();
        if a > tr {
            tr = a;
        }
        let b = (low - pc).abs();
        if b > tr {
            tr = b;
        }
    }
    tr
}

/// `atr:n` (Wilder).
#[derive(Clone, Debug)]
pub struct Atr {
    n: usize,
    fn_: f64,
    fn1: f64,
    prev_close: Option<f64>,
    count: usize,
    tr_sum: f64,
    out: [Option<f64>; 1],
}

impl Atr {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            n,
            fn_: period_f64(n),
            fn1: period_f64(n - 1),
            prev_close: None,
            count: 0,
            tr_sum: 0.0,
            out: [None],
        }
    }

    fn update(&mut self, candle: &Candle) {
        let tr = true_range(candle.high, candle.low, self.prev_close);
        self.prev_close = Some(candle.close);
        match self.out[0] {
            None => {
                self.count += 1;
                self.tr_sum += tr; // tr_sum = tr_sum + tr
                if self.count == self.n {
                    self.out[0] = Some(self.tr_sum / self.fn_);
                }
            }
            Some(prev) => {
                self.out[0] = Some((prev * self.fn1 + tr) / self.fn_);
            }
        }
    }
}

/// `macd:f:s:g`: outputs (macd, signal, hist).
#[derive(Clone, Debug)]
pub struct Macd {
    fast: EmaState,
    slow: EmaState,
    signal: EmaState,
    out: [Option<f64>; 3],
}

impl Macd {
    pub(crate) fn new(fast: usize, slow: usize, signal: usize) -> Self {
        Self {
            fast: EmaState::new(fast),
            slow: EmaState::new(slow),
            signal: EmaState::new(signal),
            out: [None; 3],
        }
    }

    fn update(&mut self, candle: &Candle) {
        let x = candle.close;
        let fast = self.fast.push(x);
        let slow = self.slow.push(x);
        let (Some(fast), Some(slow)) = (fast, slow) else {
            return;
        };
        let macd = fast - slow;
        self.out[0] = Some(macd);
        if let Some(signal) = self.signal.push(macd) {
            self.out[1] = Some(signal);
            self.out[2] = Some(macd - signal);
        }
    }
}

/// `highest:n` (of highs) or `lowest:n` (of lows).
#[derive(Clone, Debug)]
pub struct Extreme {
    pub(super) window: Window,
    pub(super) highest: bool,
    out: [Option<f64>; 1],
}

impl Extreme {
    pub(crate) fn new(n: usize, highest: bool) -> Self {
        Self {
            window: Window::new(n),
            highest,
            out: [None],
        }
    }

    fn update(&mut self, candle: &Candle) {
        if self.highest {
            if self.window.push(candle.high) {
                self.out[0] = Some(self.window.highest());
            }
        } else if self.window.push(candle.low) {
            self.out[0] = Some(self.window.lowest());
        }
    }
}

/// One incremental indicator on one series.
#[derive(Clone, Debug)]
pub enum Indicator {
    /// `sma:n`.
    Sma(Sma),
    /// `std:n`.
    Std(Std),
    /// `bb:n:k`.
    Bollinger(Bollinger),
    /// `ema:n`.
    Ema(Ema),
    /// `rsi:n`.
    Rsi(Rsi),
    /// `atr:n`.
    Atr(Atr),
    /// `macd:f:s:g`.
    Macd(Macd),
    /// `highest:n` / `lowest:n`.
    Extreme(Extreme),
}

impl Indicator {
    /// Consume the next candle of the series.
    pub fn update(&mut self, candle: &Candle) {
        match self {
            Indicator::Sma(i) => i.update(candle),
            Indicator::Std(i) => i.update(candle),
            Indicator::Bollinger(i) => i.update(candle),
            Indicator::Ema(i) => i.update(candle),
            Indicator::Rsi(i) => i.update(candle),
            Indicator::Atr(i) => i.update(candle),
            Indicator::Macd(i) => i.update(candle),
            Indicator::Extreme(i) => i.update(candle),
        }
    }

    /// Current values, one per output name; `None` while warming up.
    #[must_use]
    pub fn values(&self) -> &[Option<f64>] {
        match self {
            Indicator::Sma(i) => &i.out,
            Indicator::Std(i) => &i.out,
            Indicator::Bollinger(i) => &i.out,
            Indicator::Ema(i) => &i.out,
            Indicator::Rsi(i) => &i.out,
            Indicator::Atr(i) => &i.out,
            Indicator::Macd(i) => &i.out,
            Indicator::Extreme(i) => &i.out,
        }
    }
}
