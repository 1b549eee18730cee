//! Incremental technical indicators, a bit-for-bit port of `legacy_py/indicators.py`.
//!
//! The arithmetic is normative (`docs/indicators.md`): every value equals the Python one
//! bit for bit. The spec grammar (`sma:n`, `std:n`, `bb:n:k`, `ema:n`, `rsi:n`, `atr:n`,
//! `macd:f:s:g`, `highest:n`, `lowest:n`), the output names and the cache semantics are
//! the same as in Python.

mod columns;
mod kinds;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fmt;

use crate::event::types::{series_slot, Candle, PriceType, Timeframe, SERIES_SLOTS};

pub use kinds::{
    true_range, Atr, Bollinger, Ema, EmaState, Extreme, Indicator, Macd, Rsi, Sma, Std,
};

/// Largest accepted period (Python `MAX_PERIOD`).
pub const MAX_PERIOD: usize = 1_000_000;

/// A bad indicator spec or request (Python `ConfigError`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// An error with `message`.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message (the same text as the Python `ConfigError` for ASCII specs).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The indicator kind and its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum IndicatorKind {
    /// `sma:n`.
    Sma {
        /// Period.
        n: usize,
    },
    /// `std:n`.
    Std {
        /// Period.
        n: usize,
    },
    /// `bb:n:k`.
    Bb {
        /// Period.
        n: usize,
        /// Band width in standard deviations (finite, > 0).
        k: f64,
    },
    /// `ema:n`.
    Ema {
        /// Period.
        n: usize,
    },
    /// `rsi:n`.
    Rsi {
        /// Period.
        n: usize,
    },
    /// `atr:n`.
    Atr {
        /// Period.
        n: usize,
    },
    /// `macd:f:s:g` with `fast < slow`.
    Macd {
        /// Fast EMA period.
        fast: usize,
        /// Slow EMA period.
        slow: usize,
        /// Signal EMA period.
        signal: usize,
    },
    /// `highest:n`.
    Highest {
        /// Period.
        n: usize,
    },
    /// `lowest:n`.
    Lowest {
        /// Period.
        n: usize,
    },
}

impl IndicatorKind {
    /// The spec name (`"sma"`, ...; Python `IndicatorSpec.kind`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            IndicatorKind::Sma { .. } => "sma",
            IndicatorKind::Std { .. } => "std",
            IndicatorKind::Bb { .. } => "bb",
            IndicatorKind::Ema { .. } => "ema",
            IndicatorKind::Rsi { .. } => "rsi",
            IndicatorKind::Atr { .. } => "atr",
            IndicatorKind::Macd { .. } => "macd",
            IndicatorKind::Highest { .. } => "highest",
            IndicatorKind::Lowest { .. } => "lowest",
        }
    }
}

/// A parsed indicator spec. Only [`parse_spec`] creates one, so it is always valid.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorSpec {
    kind: IndicatorKind,
    text: String,
}

impl IndicatorSpec {
    /// The kind and parameters.
    #[must_use]
    pub fn kind(&self) -> IndicatorKind {
        self.kind
    }

    /// The original spec text, e.g. `"bb:20:2.0"`.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Output names without the series prefix, e.g. `["sma_20"]`: the spec text with `:`
    /// replaced by `_`; `bb` appends `_upper`/`_mid`/`_lower`, `macd` has `base`,
    /// `base_signal`, `base_hist`.
    #[must_use]
    pub fn output_names(&self) -> Vec<String> {
        let base = self.text.replace(':', "_");
        match self.kind {
            IndicatorKind::Bb { .. } => {
                vec![
                    format!("{base}_upper"),
                    format!("{base}_mid"),
                    format!("{base}_lower"),
                ]
            }
            IndicatorKind::Macd { .. } => {
                let signal = format!("{base}_signal");
                let hist = format!("{base}_hist");
                vec![base, signal, hist]
            }
            _ => vec![base],
        }
    }
}

fn bad_spec(spec: &str, reason: &str) -> ConfigError {
    ConfigError::new(format!("bad indicator spec '{spec}': {reason}"))
}

/// ASCII `[1-9][0-9]*` in `[1, MAX_PERIOD]`.
fn parse_period(token: &str, spec: &str, what: &str) -> Result<usize, ConfigError> {
    let bytes = token.as_bytes();
    let well_formed =
        matches!(bytes.first(), Some(b'1'..=b'9')) && bytes.iter().all(u8::is_ascii_digit);
    if !well_formed {
        return Err(bad_spec(
            spec,
            &format!("{what} must be an integer >= 1 without sign or leading zeros"),
        ));
    }
    match token.parse::<usize>() {
        Ok(n) if n <= MAX_PERIOD => Ok(n),
        _ => Err(bad_spec(spec, &format!("{what} must be <= {MAX_PERIOD}"))),
    }
}

/// ASCII `[0-9]+(\.[0-9]+)?`, finite and `> 0`.
fn parse_factor(token: &str, spec: &str) -> Result<f64, ConfigError> {
    let (int_part, frac_part) = match token.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (token, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part) || !frac_part.is_none_or(digits) {
        return Err(bad_spec(spec, "k must be a decimal number like 2 or 2.5"));
    }
    match token.parse::<f64>() {
        Ok(k) if k.is_finite() && k > 0.0 => Ok(k),
        _ => Err(bad_spec(spec, "k must be a finite number > 0")),
    }
}

/// Parse an indicator spec such as `"sma:20"`, `"bb:20:2"` or `"macd:12:26:9"`.
///
/// # Errors
/// [`ConfigError`] naming the spec text for an unknown indicator, a wrong number of
/// parameters, a period that is not ASCII `[1-9][0-9]*` in `[1, MAX_PERIOD]`, a `k` that
/// is not `[0-9]+(.[0-9]+)?` or not finite and `> 0`, or `macd` with `fast >= slow`.
pub fn parse_spec(spec: &str) -> Result<IndicatorSpec, ConfigError> {
    let tokens: Vec<&str> = spec.split(':').collect();
    let name = tokens[0];
    let arity = match name {
        "sma" | "std" | "ema" | "rsi" | "atr" | "highest" | "lowest" => 1,
        "bb" => 2,
        "macd" => 3,
        _ => return Err(bad_spec(spec, &format!("unknown indicator '{name}'"))),
    };
    let args = &tokens[1..];
    if args.len() != arity {
        return Err(bad_spec(
            spec,
            &format!("'{name}' takes {arity} parameter(s), got {}", args.len()),
        ));
    }
    let kind = match name {
        "bb" => IndicatorKind::Bb {
            n: parse_period(args[0], spec, "n")?,
            k: parse_factor(args[1], spec)?,
        },
        "macd" => {
            let fast = parse_period(args[0], spec, "fast period")?;
            let slow = parse_period(args[1], spec, "slow period")?;
            let signal = parse_period(args[2], spec, "signal period")?;
            if fast >= slow {
                return Err(bad_spec(spec, "fast period must be < slow period"));
            }
            IndicatorKind::Macd { fast, slow, signal }
        }
        _ => {
            let n = parse_period(args[0], spec, "n")?;
            match name {
                "sma" => IndicatorKind::Sma { n },
                "std" => IndicatorKind::Std { n },
                "ema" => IndicatorKind::Ema { n },
                "rsi" => IndicatorKind::Rsi { n },
                "atr" => IndicatorKind::Atr { n },
                "highest" => IndicatorKind::Highest { n },
                _ => IndicatorKind::Lowest { n },
            }
        }
    };
    Ok(IndicatorSpec {
        kind,
        text: spec.to_owned(),
    })
}

/// A fresh indicator for `spec` (Python `make_indicator`).
#[must_use]
pub fn make_indicator(spec: &IndicatorSpec) -> Indicator {
    match spec.kind {
        IndicatorKind::Sma { n } => Indicator::Sma(Sma::new(n)),
        IndicatorKind::Std { n } => Indicator::Std(Std::new(n)),
        IndicatorKind::Bb { n, k } => Indicator::Bollinger(Bollinger::new(n, k)),
        IndicatorKind::Ema { n } => Indicator::Ema(Ema::new(n)),
        IndicatorKind::Rsi { n } => Indicator::Rsi(Rsi::new(n)),
        IndicatorKind::Atr { n } => Indicator::Atr(Atr::new(n)),
        IndicatorKind::Macd { fast, slow, signal } => {
            Indicator::Macd(Macd::new(fast, slow, signal))
        }
        IndicatorKind::Highest { n } => Indicator::Extreme(Extreme::new(n, true)),
        IndicatorKind::Lowest { n } => Indicator::Extreme(Extreme::new(n, false)),
    }
}

/// A strategy's declaration: indicator `spec` on series (`timeframe`, `price_type`),
/// as strings exactly like Python's `IndicatorRequest` (validated by [`IndicatorCache::new`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IndicatorRequest {
    /// Timeframe name, e.g. `"M1"`.
    pub timeframe: String,
    /// `"bid"` or `"ask"`.
    pub price_type: String,
    /// Spec text, e.g. `"sma:20"`.
    pub spec: String,
}

impl IndicatorRequest {
    /// A request from string slices.
    #[must_use]
    pub fn new(timeframe: &str, price_type: &str, spec: &str) -> Self {
        Self {
            timeframe: timeframe.to_owned(),
            price_type: price_type.to_owned(),
            spec: spec.to_owned(),
        }
    }
}

fn check_series(
    timeframe: &str,
    price_type: &str,
    where_: &str,
) -> Result<(Timeframe, PriceType), ConfigError> {
    let tf = Timeframe::parse(timeframe)
        .ok_or_else(|| ConfigError::new(format!("{where_}: unknown timeframe '{timeframe}'")))?;
    let pt = PriceType::parse(price_type)
        .ok_or_else(|| ConfigError::new(format!("{where_}: unknown price type '{price_type}'")))?;
    Ok((tf, pt))
}

/// Every requested indicator, updated incrementally as candles arrive.
///
/// Full output names are `"{timeframe}_{price_type}_{output}"`, in request order with each
/// spec's outputs in spec order. Requests with the same (timeframe, price type, spec text)
/// are merged, keeping the first occurrence.
#[derive(Clone, Debug)]
pub struct IndicatorCache {
    indicators: Vec<Indicator>,
    names: Vec<String>,
    by_series: Vec<Vec<usize>>,
    series_keys: Vec<(Timeframe, PriceType)>,
}

impl IndicatorCache {
    /// Build the cache.
    ///
    /// # Errors
    /// [`ConfigError`] for an unknown timeframe or price type (checked first, request by
    /// request) or a bad spec.
    pub fn new(requests: &[IndicatorRequest]) -> Result<Self, ConfigError> {
        let mut seen: HashSet<(Timeframe, PriceType, &str)> = HashSet::new();
        let mut indicators = Vec::new();
        let mut names = Vec::new();
        let mut by_series: Vec<Vec<usize>> = vec![Vec::new(); SERIES_SLOTS];
        let mut series_keys = Vec::new();
        for (i, request) in requests.iter().enumerate() {
            let (tf, pt) = check_series(
                &request.timeframe,
                &request.price_type,
                &format!("indicator request {i}"),
            )?;
            let spec = parse_spec(&request.spec)?;
            if !seen.insert((tf, pt, request.spec.as_str())) {
                continue;
            }
            let slot = series_slot(tf, pt);
            if by_series[slot].is_empty() {
                series_keys.push((tf, pt));
            }
            by_series[slot].push(indicators.len());
            indicators.push(make_indicator(&spec));
            for output in spec.output_names() {
                names.push(format!("{}_{}_{output}", tf.as_str(), pt.as_str()));
            }
        }
        let distinct: HashSet<&str> = names.iter().map(String::as_str).collect();
        if distinct.len() != names.len() {
            // unreachable with parse_spec's grammar
            return Err(ConfigError::new(
                "indicator requests produce duplicate output names",
            ));
        }
        Ok(Self {
            indicators,
            names,
            by_series,
            series_keys,
        })
    }

    /// Full output names in request order.
    #[must_use]
    pub fn output_names(&self) -> &[String] {
        &self.names
    }

    /// Update the indicators of series (`candle.timeframe`, `candle.price_type`) only.
    pub fn update(&mut self, candle: &Candle) {
        let slot = series_slot(candle.timeframe, candle.price_type);
        for &i in &self.by_series[slot] {
            self.indicators[i].update(candle);
        }
    }

    /// Clear `out` and fill it with the current values in [`Self::output_names`] order
    /// (allocation-free once `out` has grown).
    pub fn write_values(&self, out: &mut Vec<Option<f64>>) {
        out.clear();
        for indicator in &self.indicators {
            out.extend_from_slice(indicator.values());
        }
    }

    /// Current values in [`Self::output_names`] order.
    #[must_use]
    pub fn value_list(&self) -> Vec<Option<f64>> {
        let mut out = Vec::with_capacity(self.names.len());
        self.write_values(&mut out);
        out
    }

    /// (full output name, current value) pairs in [`Self::output_names`] order.
    #[must_use]
    pub fn values(&self) -> Vec<(&str, Option<f64>)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.value_list())
            .collect()
    }

    /// Distinct (timeframe, price type) with indicators, in order of first request.
    #[must_use]
    pub fn series_keys(&self) -> &[(Timeframe, PriceType)] {
        &self.series_keys
    }
}

/// One output of [`compute_indicators`]: (name without series prefix, one value per candle).
pub type Column = (String, Vec<Option<f64>>);

/// Batch helper: (output name without series prefix, one value per candle of series
/// (`timeframe`, `price_type`)) in spec order; candles of other series are skipped.
///
/// # Errors
/// [`ConfigError`] for a bad spec.
pub fn compute_indicators<'a, I>(
    candles: I,
    timeframe: Timeframe,
    price_type: PriceType,
    specs: &[&str],
) -> Result<Vec<Column>, ConfigError>
where
    I: IntoIterator<Item = &'a Candle>,
{
    let requests: Vec<IndicatorRequest> = specs
        .iter()
        .map(|s| IndicatorRequest::new(timeframe.as_str(), price_type.as_str(), s))
        .collect();
    let mut cache = IndicatorCache::new(&requests)?;
    let prefix_len = timeframe.as_str().len() + price_type.as_str().len() + 2;
    let mut columns: Vec<Column> = cache
        .output_names()
        .iter()
        .map(|name| (name[prefix_len..].to_owned(), Vec::new()))
        .collect();
    let mut row = Vec::with_capacity(columns.len());
    for candle in candles {
        if candle.timeframe != timeframe || candle.price_type != price_type {
            continue;
        }
        cache.update(candle);
        cache.write_values(&mut row);
        for ((_, column), &value) in columns.iter_mut().zip(&row) {
            column.push(value);
        }
    }
    Ok(columns)
}
