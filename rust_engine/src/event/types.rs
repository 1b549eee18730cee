//! Candle, signal and position types shared by every domain module.

use std::fmt;

/// A bar timeframe. The discriminant order is the canonical sort order (by duration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timeframe {
    /// One minute.
    M1,
    /// Five minutes.
    M5,
    /// Fifteen minutes.
    M15,
    /// Thirty minutes.
    M30,
    /// One hour.
    H1,
    /// Four hours.
    H4,
    /// One day.
    D1,
}

impl Timeframe {
    /// Every timeframe in canonical order.
    pub const ALL: [Timeframe; 7] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H4,
        Timeframe::D1,
    ];

    /// Duration in seconds.
    #[must_use]
    pub fn seconds(self) -> i64 {
        match self {
            Timeframe::M1 => 60,
            Timeframe::M5 => 300,
            Timeframe::M15 => 900,
            Timeframe::M30 => 1800,
            Timeframe::H1 => 3600,
            Timeframe::H4 => 14_400,
            Timeframe::D1 => 86_400,
        }
    }

    /// The name used in streams and traces (`"M1"`, ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "M1",
            Timeframe::M5 => "M5",
            Timeframe::M15 => "M15",
            Timeframe::M30 => "M30",
            Timeframe::H1 => "H1",
            Timeframe::H4 => "H4",
            Timeframe::D1 => "D1",
        }
    }

    /// Parse a timeframe name; `None` when unknown.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|tf| tf.as_str() == s)
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The price side of a series. `Bid` sorts before `Ask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PriceType {
    /// Bid prices (the sell side).
    Bid,
    /// Ask prices (the buy side).
    Ask,
}

impl PriceType {
    /// `"bid"` or `"ask"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            PriceType::Bid => "bid",
            PriceType::Ask => "ask",
        }
    }

    /// Parse `"bid"` / `"ask"`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bid" => Some(PriceType::Bid),
            "ask" => Some(PriceType::Ask),
            _ => None,
        }
    }
}

impl fmt::Display for PriceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A series key: (timeframe, price type).
pub type SeriesKey = (Timeframe, PriceType);

/// Number of (timeframe, price type) series.
pub(crate) const SERIES_SLOTS: usize = Timeframe::ALL.len() * 2;

/// The index of series (`timeframe`, `price_type`) among [`SERIES_SLOTS`].
pub(crate) fn series_slot(timeframe: Timeframe, price_type: PriceType) -> usize {
    timeframe as usize * 2 + price_type as usize
}

/// One bar of one series. `timestamp` is the bar's close time in epoch µs UTC.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candle {
    /// Bar close time, epoch microseconds UTC.
    pub timestamp: i64,
    /// The bar's timeframe.
    pub timeframe: Timeframe,
    /// Bid or ask.
    pub price_type: PriceType,
    /// Open price.
    pub open: f64,
    /// High price.
    pub high: f64,
    /// Low price.
    pub low: f64,
    /// Close price.
    pub close: f64,
    /// Volume.
    pub volume: f64,
}

impl Candle {
    /// The candle's series key.
    #[must_use]
    pub fn key(&self) -> SeriesKey {
        (self.timeframe, self.price_type)
    }
}

/// What a strategy asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalType {
    /// Open (or reverse into) a long position.
    Long,
    /// Open (or reverse into) a short position.
    Short,
    /// Close every position and cancel pending entries.
    Close,
    /// Do nothing.
    None,
}

impl SignalType {
    /// The trace spelling: `"LONG"`, `"SHORT"`, `"CLOSE"`, `"NONE"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SignalType::Long => "LONG",
            SignalType::Short => "SHORT",
            SignalType::Close => "CLOSE",
            SignalType::None => "NONE",
        }
    }

    /// Parse the trace spelling.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LONG" => Some(SignalType::Long),
            "SHORT" => Some(SignalType::Short),
            "CLOSE" => Some(SignalType::Close),
            "NONE" => Some(SignalType::None),
            _ => None,
        }
    }
}

/// A validated strategy signal. Metadata keeps insertion order (a `Vec`, never a hash map).
#[derive(Clone, Debug, PartialEq)]
pub struct StrategySignal {
    /// The request.
    pub signal_type: SignalType,
    /// Limit price; `None` for a market order.
    pub entry_price: Option<f64>,
    /// Absolute stop-loss price.
    pub stop_loss: Option<f64>,
    /// Absolute take-profit price.
    pub take_profit: Option<f64>,
    /// Free-form pairs in insertion order.
    pub metadata: Vec<(String, String)>,
}

impl StrategySignal {
    /// A signal with only a type.
    #[must_use]
    pub fn of(signal_type: SignalType) -> Self {
        Self {
            signal_type,
            entry_price: None,
            stop_loss: None,
            take_profit: None,
            metadata: Vec::new(),
        }
    }
}

/// Position side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Long position / buy order.
    Long,
    /// Short position / sell order.
    Short,
}

impl Side {
    /// `"long"` / `"short"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Long => "long",
            Side::Short => "short",
        }
    }

    /// The order side that opens this position side: `"buy"` / `"sell"`.
    #[must_use]
    pub fn entry_order_side(self) -> &'static str {
        match self {
            Side::Long => "buy",
            Side::Short => "sell",
        }
    }

    /// The order side that closes this position side.
    #[must_use]
    pub fn exit_order_side(self) -> &'static str {
        match self {
            Side::Long => "sell",
            Side::Short => "buy",
        }
    }
}
