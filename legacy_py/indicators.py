"""Incremental technical indicators whose arithmetic is specified to the last operation.

The Rust port (``rust_engine/src/indicators/``) must reproduce every value bit for bit,
so every formula here is written in one obvious evaluation order and the lines a port
must mirror carry the comment ``# port: same order``. The normative definitions are in
``docs/indicators.md``.

Rules followed throughout:

* only ``+ - * /``, ``math.sqrt``, ``abs`` and comparisons; no ``sum()``, ``math.fsum``,
  numpy, ``round()``, ``**``/``pow``, ``exp``/``log``;
* every sum is a left fold starting at ``0.0``, oldest value first;
* a division by a period ``n`` divides by ``float(n)``.

Spec grammar (see :func:`parse_spec`)::

    sma:n  std:n  bb:n:k  ema:n  rsi:n  atr:n  macd:f:s:g  highest:n  lowest:n
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from legacy_py.errors import ConfigError
from legacy_py.types import PRICE_TYPES, TIMEFRAME_SECONDS, Candle, IndicatorRequest

#: Largest accepted period. Keeps periods representable as ``usize`` in the port
#: and ``float(n)`` exact.
MAX_PERIOD = 1_000_000

#: Number of parameter tokens after the indicator name.
INDICATOR_ARITY: dict[str, int] = {
    "sma": 1,
    "std": 1,
    "bb": 2,
    "ema": 1,
    "rsi": 1,
    "atr": 1,
    "macd": 3,
    "highest": 1,
    "lowest": 1,
}

# ASCII only ([0-9], not \d, which also matches other Unicode digits); used with fullmatch.
_PERIOD_RE = re.compile(r"[1-9][0-9]*")
_FACTOR_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """A parsed indicator spec.

    * ``kind``: the indicator name, e.g. ``"sma"``;
    * ``params``: the parameters, ints for periods and a float for the Bollinger ``k``;
    * ``text``: the original spec text, e.g. ``"bb:20:2.0"``.

    Obtain instances from :func:`parse_spec`.
    """

    kind: str
    params: tuple[int | float, ...]
    text: str

    def output_names(self) -> tuple[str, ...]:
        """Output names without the series prefix, e.g. ``("sma_20",)``.

        The base name is the spec text with ``:`` replaced by ``_`` (so the Bollinger
        ``k`` appears as written); ``bb`` appends ``_upper``/``_mid``/``_lower`` and
        ``macd`` has outputs ``base``, ``base_signal``, ``base_hist``.
        """
        base = self.text.replace(":", "_")
        if self.kind == "bb":
            return (f"{base}_upper", f"{base}_mid", f"{base}_lower")
        if self.kind == "macd":
            return (base, f"{base}_signal", f"{base}_hist")
        return (base,)


def _bad_spec(spec: str, reason: str) -> ConfigError:
    return ConfigError(f"bad indicator spec {spec!r}: {reason}")


def _parse_period(token: str, spec: str, what: str) -> int:
    if _PERIOD_RE.fullmatch(token) is None:
        raise _bad_spec(spec, f"{what} must be an integer >= 1 without sign or leading zeros")
    value = int(token)
    if value > MAX_PERIOD:
        raise _bad_spec(spec, f"{what} must be <= {MAX_PERIOD}")
    return value


def _parse_factor(token: str, spec: str) -> float:
    if _FACTOR_RE.fullmatch(token) is None:
        raise _bad_spec(spec, "k must be a decimal number like 2 or 2.5")
    value = float(token)
    if not math.isfinite(value) or not value > 0.0:
        raise _bad_spec(spec, "k must be a finite number > 0")
    return value


def parse_spec(spec: str) -> IndicatorSpec:
    """Parse an indicator spec such as ``"sma:20"``, ``"bb:20:2"`` or ``"macd:12:26:9"``.

    Tokens are separated by ``:``. Periods are ASCII decimal integers in
    ``[1, MAX_PERIOD]`` without sign, whitespace or leading zeros. The Bollinger
    ``k`` is ``[0-9]+(.[0-9]+)?``, parsed with ``float()``, finite and ``> 0``.
    ``macd:f:s:g`` requires ``f < s``. Any violation raises :class:`ConfigError`
    naming the spec text.
    """
    if not isinstance(spec, str):
        raise ConfigError(f"bad indicator spec {spec!r}: must be a str")
    tokens = spec.split(":")
    kind = tokens[0]
    arity = INDICATOR_ARITY.get(kind)
    if arity is None:
        raise _bad_spec(spec, f"unknown indicator {kind!r}")
    args = tokens[1:]
    if len(args) != arity:
        raise _bad_spec(spec, f"{kind!r} takes {arity} parameter(s), got {len(args)}")
    params: tuple[int | float, ...]
    if kind == "bb":
        params = (_parse_period(args[0], spec, "n"), _parse_factor(args[1], spec))
    elif kind == "macd":
        fast = _parse_period(args[0], spec, "fast period")
        slow = _parse_period(args[1], spec, "slow period")
        signal = _parse_period(args[2], spec, "signal period")
        if not fast < slow:
            raise _bad_spec(spec, "fast period must be < slow period")
        params = (fast, slow, signal)
    else:
        params = (_parse_period(args[0], spec, "n"),)
    return IndicatorSpec(kind=kind, params=params, text=spec)


# --------------------------------------------------------------------------- arithmetic


def _fold_sum(values: Iterable[float]) -> float:
    """Left fold from 0.0, oldest first."""
    acc = 0.0
    for x in values:
        acc = acc + x  # port: same order
    return acc


def _mean_std(window: deque[float], fn: float) -> tuple[float, float]:
    """(mean, population std) of a full window, as specified for ``sma``/``std``/``bb``."""
    mean = _fold_sum(window) / fn  # port: same order
    acc = 0.0
    for x in window:
        d = x - mean  # port: same order
        acc = acc + d * d  # port: same order
    return mean, math.sqrt(acc / fn)  # port: same order


# --------------------------------------------------------------------------- indicators


class Indicator(ABC):
    """An incremental indicator on one series. ``values()`` has one entry per output."""

    __slots__ = ()

    @abstractmethod
    def update(self, candle: Candle) -> None:
        """Consume the next candle of the series."""

    @abstractmethod
    def values(self) -> tuple[float | None, ...]:
        """Current values, one per output name, ``None`` while warming up."""


class Sma(Indicator):
    """``sma:n``: mean of the last ``n`` closes."""

    __slots__ = ("_fn", "_n", "_value", "_window")

    def __init__(self, n: int) -> None:
        self._n = n
        self._fn = float(n)
        self._window: deque[float] = deque(maxlen=n)
        self._value: float | None = None

    def update(self, candle: Candle) -> None:
        window = self._window
        window.append(candle.close)
        if len(window) == self._n:
            self._value = _fold_sum(window) / self._fn  # port: same order

    def values(self) -> tuple[float | None, ...]:
        return (self._value,)


class Std(Indicator):
    """``std:n``: population standard deviation of the last ``n`` closes."""

    __slots__ = ("_fn", "_n", "_value", "_window")

    def __init__(self, n: int) -> None:
        self._n = n
        self._fn = float(n)
        self._window: deque[float] = deque(maxlen=n)
        self._value: float | None = None

    def update(self, candle: Candle) -> None:
        window = self._window
        window.append(candle.close)
        if len(window) == self._n:
            self._value = _mean_std(window, self._fn)[1]

    def values(self) -> tuple[float | None, ...]:
        return (self._value,)


class Bollinger(Indicator):
    """``bb:n:k``: (upper, mid, lower) = (mid + k*sd, sma, mid - k*sd)."""

    __slots__ = ("_fn", "_k", "_lower", "_mid", "_n", "_upper", "_window")

    def __init__(self, n: int, k: float) -> None:
        self._n = n
        self._fn = float(n)
        self._k = k
        self._window: deque[float] = deque(maxlen=n)
        self._upper: float | None = None
        self._mid: float | None = None
        self._lower: float | None = None

    def update(self, candle: Candle) -> None:
        window = self._window
        window.append(candle.close)
        if len(window) == self._n:
            mid, sd = _mean_std(window, self._fn)
            self._mid = mid
            self._upper = mid + self._k * sd  # port: same order
            self._lower = mid - self._k * sd  # port: same order

    def values(self) -> tuple[float | None, ...]:
        return (self._upper, self._mid, self._lower)


class EmaState:
    """The EMA recursion on a stream of floats (used by ``ema`` and ``macd``).

    ``None`` until ``n`` values; the n-th value yields the SMA of the first ``n``
    (a left fold from 0.0 divided by ``float(n)``); afterwards
    ``alpha * x + (1.0 - alpha) * prev`` with ``alpha = 2.0 / (float(n) + 1.0)``.
    """

    __slots__ = ("_alpha", "_count", "_fn", "_n", "_one_minus_alpha", "_seed_sum", "value")

    def __init__(self, n: int) -> None:
        self._n = n
        self._fn = float(n)
        self._alpha = 2.0 / (self._fn + 1.0)  # port: same order
        self._one_minus_alpha = 1.0 - self._alpha  # port: same order
        self._count = 0
        self._seed_sum = 0.0
        self.value: float | None = None

    def push(self, x: float) -> float | None:
        """Feed the next value; return the current EMA (or ``None`` while warming up)."""
        prev = self.value
        if prev is None:
            self._count += 1
            self._seed_sum = self._seed_sum + x  # port: same order
            if self._count == self._n:
                self.value = self._seed_sum / self._fn  # port: same order
        else:
            self.value = self._alpha * x + self._one_minus_alpha * prev  # port: same order
        return self.value


class Ema(Indicator):
    """``ema:n``: exponential moving average of the closes, seeded with the SMA."""

    __slots__ = ("_state",)

    def __init__(self, n: int) -> None:
        self._state = EmaState(n)

    def update(self, candle: Candle) -> None:
        self._state.push(candle.close)

    def values(self) -> tuple[float | None, ...]:
        return (self._state.value,)


class Rsi(Indicator):
    """``rsi:n``: Wilder's RSI of the closes."""

    __slots__ = (
        "_avg_gain",
        "_avg_loss",
        "_count",
        "_fn",
        "_fn1",
        "_gain_sum",
        "_loss_sum",
        "_n",
        "_prev_close",
        "_value",
    )

    def __init__(self, n: int) -> None:
        self._n = n
        self._fn = float(n)
        self._fn1 = float(n - 1)
        self._prev_close: float | None = None
        self._count = 0  # changes seen, saturates at n
        self._gain_sum = 0.0
        self._loss_sum = 0.0
        self._avg_gain = 0.0
        self._avg_loss = 0.0
        self._value: float | None = None

    def update(self, candle: Candle) -> None:
        x = candle.close
        prev = self._prev_close
        self._prev_close = x
        if prev is None:
            return
        d = x - prev  # port: same order
        gain = d if d > 0.0 else 0.0
        loss = -d if d < 0.0 else 0.0
        if self._count < self._n:
            self._count += 1
            self._gain_sum = self._gain_sum + gain  # port: same order
            self._loss_sum = self._loss_sum + loss  # port: same order
            if self._count < self._n:
                return
            self._avg_gain = self._gain_sum / self._fn  # port: same order
            self._avg_loss = self._loss_sum / self._fn  # port: same order
        else:
            self._avg_gain = (self._avg_gain * self._fn1 + gain) / self._fn  # port: same order
            self._avg_loss = (self._avg_loss * self._fn1 + loss) / self._fn  # port: same order
        avg_gain = self._avg_gain
        avg_loss = self._avg_loss
        if avg_loss == 0.0:
            self._value = 100.0 if avg_gain > 0.0 else 50.0
        else:
            rs = avg_gain / avg_loss  # port: same order
            self._value = 100.0 - 100.0 / (1.0 + rs)  # port: same order

    def values(self) -> tuple[float | None, ...]:
        return (self._value,)


def true_range(high: float, low: float, prev_close: float | None) -> float:
    """Wilder's true range; ``prev_close`` is ``None`` on the series' first bar."""
    tr = high - low  # port: same order
    if prev_close is not None:
        a = abs(high - prev_close)  # port: same order
        if a > tr:
            tr = a
        b = abs(low - prev_close)  # port: same order
        if b > tr:
            tr = b
    return tr


class Atr(Indicator):
    """``atr:n``: Wilder's average true range."""

    __slots__ = ("_count", "_fn", "_fn1", "_n", "_prev_close", "_tr_sum", "_value")

    def __init__(self, n: int) -> None:
        self._n = n
        self._fn = float(n)
        self._fn1 = float(n - 1)
        self._prev_close: float | None = None
        self._count = 0  # true ranges seen, saturates at n
        self._tr_sum = 0.0
        self._value: float | None = None

    def update(self, candle: Candle) -> None:
        tr = true_range(candle.high, candle.low, self._prev_close)
        self._prev_close = candle.close
        prev = self._value
        if prev is None:
            self._count += 1
            self._tr_sum = self._tr_sum + tr  # port: same order
            if self._count == self._n:
                self._value = self._tr_sum / self._fn  # port: same order
        else:
            self._value = (prev * self._fn1 + tr) / self._fn  # port: same order

    def values(self) -> tuple[float | None, ...]:
        return (self._value,)


class Macd(Indicator):
    """``macd:f:s:g``: (macd, signal, hist) = (ema_f - ema_s, ema_g(macd), macd - signal)."""

    __slots__ = ("_fast", "_hist", "_macd", "_signal", "_slow")

    def __init__(self, fast: int, slow: int, signal: int) -> None:
        self._fast = EmaState(fast)
        self._slow = EmaState(slow)
        self._signal = EmaState(signal)
        self._macd: float | None = None
        self._hist: float | None = None

    def update(self, candle: Candle) -> None:
        x = candle.close
        fast = self._fast.push(x)
        slow = self._slow.push(x)
        if fast is None or slow is None:
            return
        macd = fast - slow  # port: same order
        self._macd = macd
        signal = self._signal.push(macd)
        if signal is not None:
            self._hist = macd - signal  # port: same order

    def values(self) -> tuple[float | None, ...]:
        return (self._macd, self._signal.value, self._hist)


class Highest(Indicator):
    """``highest:n``: max of the last ``n`` highs (first occurrence wins on ties)."""

    __slots__ = ("_n", "_value", "_window")

    def __init__(self, n: int) -> None:
        self._n = n
        self._window: deque[float] = deque(maxlen=n)
        self._value: float | None = None

    def update(self, candle: Candle) -> None:
        window = self._window
        window.append(candle.high)
        if len(window) == self._n:
            it = iter(window)
            best = next(it)
            for v in it:
                if v > best:
                    best = v
            self._value = best

    def values(self) -> tuple[float | None, ...]:
        return (self._value,)


class Lowest(Indicator):
    """``lowest:n``: min of the last ``n`` lows (first occurrence wins on ties)."""

    __slots__ = ("_n", "_value", "_window")

    def __init__(self, n: int) -> None:
        self._n = n
        self._window: deque[float] = deque(maxlen=n)
        self._value: float | None = None

    def update(self, candle: Candle) -> None:
        window = self._window
        window.append(candle.low)
        if len(window) == self._n:
            it = iter(window)
            best = next(it)
            for v in it:
                if v < best:
                    best = v
            self._value = best

    def values(self) -> tuple[float | None, ...]:
        return (self._value,)


def _int_param(spec: IndicatorSpec, i: int) -> int:
    value = spec.params[i]
    assert isinstance(value, int)
    return value


def make_indicator(spec: IndicatorSpec) -> Indicator:
    """A fresh indicator for ``spec``.

    ``spec`` is re-parsed from its text; a spec whose fields disagree with its text
    raises :class:`ConfigError`.
    """
    if not isinstance(spec, IndicatorSpec) or parse_spec(spec.text) != spec:
        raise ConfigError(f"inconsistent indicator spec {spec!r}; use parse_spec()")
    kind = spec.kind
    if kind == "sma":
        return Sma(_int_param(spec, 0))
    if kind == "std":
        return Std(_int_param(spec, 0))
    if kind == "bb":
        return Bollinger(_int_param(spec, 0), float(spec.params[1]))
    if kind == "ema":
        return Ema(_int_param(spec, 0))
    if kind == "rsi":
        return Rsi(_int_param(spec, 0))
    if kind == "atr":
        return Atr(_int_param(spec, 0))
    if kind == "macd":
        return Macd(_int_param(spec, 0), _int_param(spec, 1), _int_param(spec, 2))
    if kind == "highest":
        return Highest(_int_param(spec, 0))
    if kind == "lowest":
        return Lowest(_int_param(spec, 0))
    raise ConfigError(f"bad indicator spec {spec.text!r}: unknown indicator {kind!r}")


# --------------------------------------------------------------------------- cache


def _check_series(timeframe: object, price_type: object, where: str) -> None:
    if not isinstance(timeframe, str) or timeframe not in TIMEFRAME_SECONDS:
        raise ConfigError(f"{where}: unknown timeframe {timeframe!r}")
    if not isinstance(price_type, str) or price_type not in PRICE_TYPES:
        raise ConfigError(f"{where}: unknown price type {price_type!r}")


class IndicatorCache:
    """Every requested indicator, updated incrementally as candles arrive.

    Full output names are ``"{timeframe}_{price_type}_{output}"``, in request order
    with each spec's outputs in spec order. Requests with the same
    (timeframe, price_type, spec text) are merged, keeping the first occurrence.
    """

    __slots__ = ("_by_series", "_indicators", "_names", "_series_keys")

    def __init__(self, requests: Sequence[IndicatorRequest]) -> None:
        seen: set[tuple[str, str, str]] = set()
        indicators: list[Indicator] = []
        names: list[str] = []
        by_series: dict[tuple[str, str], list[Indicator]] = {}
        for i, request in enumerate(requests):
            if not isinstance(request, IndicatorRequest):
                raise ConfigError(f"indicator request {i}: expected IndicatorRequest")
            timeframe, price_type, text = request.timeframe, request.price_type, request.spec
            _check_series(timeframe, price_type, f"indicator request {i}")
            spec = parse_spec(text)
            key = (timeframe, price_type, text)
            if key in seen:
                continue
            seen.add(key)
            indicator = make_indicator(spec)
            indicators.append(indicator)
            names.extend(f"{timeframe}_{price_type}_{o}" for o in spec.output_names())
            by_series.setdefault((timeframe, price_type), []).append(indicator)
        if len(set(names)) != len(names):  # unreachable with parse_spec's grammar
            raise ConfigError("indicator requests produce duplicate output names")
        self._indicators = tuple(indicators)
        self._names = tuple(names)
        self._by_series = {k: tuple(v) for k, v in by_series.items()}
        self._series_keys = tuple(by_series)

    @property
    def output_names(self) -> tuple[str, ...]:
        """Full output names in request order."""
        return self._names

    def update(self, candle: Candle) -> None:
        """Update the indicators of series (candle.timeframe, candle.price_type) only."""
        indicators = self._by_series.get((candle.timeframe, candle.price_type))
        if indicators is not None:
            for indicator in indicators:
                indicator.update(candle)

    def value_list(self) -> list[float | None]:
        """Current values in ``output_names`` order."""
        out: list[float | None] = []
        for indicator in self._indicators:
            out.extend(indicator.values())
        return out

    def values(self) -> dict[str, float | None]:
        """A fresh dict: full output name -> current value, in ``output_names`` order."""
        return dict(zip(self._names, self.value_list(), strict=True))

    def series_keys(self) -> tuple[tuple[str, str], ...]:
        """Distinct (timeframe, price_type) with indicators, in order of first request."""
        return self._series_keys


def compute_indicators(
    candles: Iterable[Candle], timeframe: str, price_type: str, specs: Sequence[str]
) -> dict[str, list[float | None]]:
    """Batch helper: output name (without series prefix) -> one value per candle.

    Only candles of series (``timeframe``, ``price_type``) are consumed and counted;
    candles of other series are skipped.
    """
    _check_series(timeframe, price_type, "compute_indicators")
    if isinstance(specs, str):
        raise ConfigError("compute_indicators: specs must be a sequence of spec strings")
    cache = IndicatorCache([IndicatorRequest(timeframe, price_type, s) for s in specs])
    prefix_len = len(timeframe) + len(price_type) + 2
    short = [name[prefix_len:] for name in cache.output_names]
    columns: list[list[float | None]] = [[] for _ in short]
    for candle in candles:
        if candle.timeframe != timeframe or candle.price_type != price_type:
            continue
        cache.update(candle)
        for column, value in zip(columns, cache.value_list(), strict=True):
            column.append(value)
    return dict(zip(short, columns, strict=True))
