#!/usr/bin/env python3
"""Generate the bad-stream fixtures and the Unicode tables of the Rust stream validator.

Usage::

    PYTHONPATH=. python3 scripts/gen_stream_error_fixtures.py          # (re)write
    PYTHONPATH=. python3 scripts/gen_stream_error_fixtures.py --check  # rebuild, compare

Outputs:

* ``tests/fixtures/bad_streams/*.arrow``: small candle streams that the legacy loader
  rejects, one per error case (every error kind, ties in the validation precedence,
  several violations in one row, dictionary and integer columns, multi-batch files,
  the IPC stream-format fallback, unsorted input with ``require_sorted``).
* ``tests/fixtures/bad_streams/expected.txt``: one line per file,
  ``filename<TAB>require_sorted (0/1)<TAB>python class<TAB>str(exc)``, produced by
  ``legacy_py.loader.load_stream``. ``rust_engine/tests/stream_parity.rs`` asserts that
  the Rust validator reports the identical class name and message.
* ``rust_engine/src/stream/unicode_tables.rs``: the character tables behind CPython's
  ``repr(str)`` (``str.isprintable``) and ``float(str)`` (``str.isspace`` and decimal
  digits), taken from this interpreter's ``unicodedata``.
* ``rust_engine/src/stream/pyrepr_cases.rs``: test data, CPython's ``repr(float)``,
  ``repr(str)`` and ``float(str)`` of fixed (seeded) samples.

``--check`` rebuilds everything into a temporary directory and exits 1 if any output
differs byte for byte from the committed one (or a committed fixture is stale).
"""

from __future__ import annotations

import argparse
import math
import random
import struct
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from legacy_py.errors import StreamError
from legacy_py.loader import load_stream

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DIR = ROOT / "tests" / "fixtures" / "bad_streams"
TABLES_RS = ROOT / "rust_engine" / "src" / "stream" / "unicode_tables.rs"
CASES_RS = ROOT / "rust_engine" / "src" / "stream" / "pyrepr_cases.rs"
EXPECTED = "expected.txt"

Row = dict[str, Any]
VALUE_NAMES: tuple[str, ...] = ("open", "high", "low", "close", "volume")

# --------------------------------------------------------------------- table helpers


def row(
    ts: int = 60_000_000,
    tf: str | None = "M1",
    pt: str | None = "bid",
    o: float | None = 1.0,
    h: float | None = 1.2,
    lo: float | None = 0.9,
    c: float | None = 1.1,
    v: float | None = 10.0,
) -> Row:
    """One row as a dict (a valid M1 bid bar by default)."""
    return {
        "timestamp": ts,
        "timeframe": tf,
        "price_type": pt,
        "open": o,
        "high": h,
        "low": lo,
        "close": c,
        "volume": v,
    }


def ask(ts: int, tf: str = "M1", d: float = 0.01) -> Row:
    """A valid ask bar ``d`` above the default bid bar."""
    return row(ts=ts, tf=tf, pt="ask", o=1.0 + d, h=1.2 + d, lo=0.9 + d, c=1.1 + d)


def minutes(k: int) -> int:
    """``k`` minutes in µs."""
    return k * 60_000_000


def table(
    rows: Sequence[Row],
    *,
    dictionary: bool = False,
    types: dict[str, pa.DataType] | None = None,
    metadata: dict[str, str] | None = None,
    drop: Sequence[str] = (),
    extra: dict[str, pa.Array] | None = None,
) -> pa.Table:
    """A table from rows: strings (optionally dictionary-encoded), int64, float64."""
    types = types or {}
    arrays: dict[str, pa.Array] = {}
    for name in ("timestamp", "timeframe", "price_type", *VALUE_NAMES):
        if name in drop:
            continue
        values = [r[name] for r in rows]
        default = (
            pa.int64()
            if name == "timestamp"
            else pa.string()
            if name in ("timeframe", "price_type")
            else pa.float64()
        )
        typ = types.get(name, default)
        if pa.types.is_dictionary(typ):
            plain = pa.array(values, type=typ.value_type)
            arrays[name] = plain.dictionary_encode().cast(typ)
        else:
            arr = pa.array(values, type=typ)
            if dictionary and name in ("timeframe", "price_type"):
                arr = arr.dictionary_encode()
            arrays[name] = arr
    arrays.update(extra or {})
    out = pa.table(arrays)
    if metadata is not None:
        out = out.replace_schema_metadata(metadata)
    return out


def batches(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate tables of one schema as separate record batches."""
    out: list[pa.RecordBatch] = []
    for t in tables:
        out.extend(t.to_batches())
    return pa.Table.from_batches(out, schema=tables[0].schema)


def good(n: int) -> list[Row]:
    """``n`` valid bid bars one minute apart."""
    return [row(ts=minutes(k + 1)) for k in range(n)]


# ------------------------------------------------------------------------ the cases


@dataclass(frozen=True, slots=True)
class Case:
    """One bad stream: how to build its table, how to write it, how to load it."""

    name: str
    build: Callable[[], pa.Table]
    require_sorted: bool = False
    stream_format: bool = False


_SHORT: dict[str, str] = {
    "ts": "timestamp",
    "tf": "timeframe",
    "pt": "price_type",
    "o": "open",
    "h": "high",
    "lo": "low",
    "c": "close",
    "v": "volume",
}


def _replace(rows: list[Row], index: int, **changes: Any) -> list[Row]:
    """A copy of ``rows`` with ``row()``-style changes (``ts=``, ``h=``, ...) at ``index``."""
    rows = [dict(r) for r in rows]
    rows[index].update({_SHORT[k]: v for k, v in changes.items()})
    return rows


def _dict_with_null_value() -> pa.Table:
    t = table(good(4))
    indices = pa.array([0, 0, 1, 0], type=pa.int16())
    tf = pa.DictionaryArray.from_arrays(indices, pa.array(["M1", None], type=pa.string()))
    return t.set_column(1, "timeframe", tf)


def _null_type_price_type() -> pa.Table:
    t = table(good(3))
    return t.set_column(2, "price_type", pa.nulls(3, type=pa.null()))


def _uint64_timestamp() -> pa.Table:
    t = table(good(4))
    ts = pa.array([minutes(1), None, 2**63 + 5, 2**64 - 1], type=pa.uint64())
    return t.set_column(0, "timestamp", ts)


def _empty_with_types() -> pa.Table:
    return table([], types={"timeframe": pa.dictionary(pa.int32(), pa.string())})


CASES: tuple[Case, ...] = (
    # ---- phase 1: schema (column order; metadata after columns, before empty)
    Case("s01_missing_timestamp.arrow", lambda: table(good(2), drop=("timestamp",))),
    Case(
        "s02_missing_volume_after_bad_open.arrow",
        lambda: table(good(2), drop=("volume",), types={"open": pa.int8()}).set_column(
            3, "open", pa.array([True, False])
        ),
    ),
    Case("s03_timestamp_float.arrow", lambda: table(good(2), types={"timestamp": pa.float64()})),
    Case("s04_timestamp_uint64_overflow.arrow", _uint64_timestamp),
    Case("s05_timeframe_int.arrow", lambda: table(good(2)).set_column(1, "timeframe", [[1, 2]])),
    Case(
        "s06_price_type_dict_of_int.arrow",
        lambda: table(good(2)).set_column(
            2, "price_type", pa.array([1, 2], type=pa.int64()).dictionary_encode()
        ),
    ),
    Case(
        "s07_high_int64_beyond_2_53.arrow",
        lambda: table(
            [*_replace(good(3), 1, h=2**53 + 1), row(ts=minutes(9), h=-(2**60))],
            types={"high": pa.int64()},
        ),
    ),
    Case(
        "s08_low_uint64_beyond_2_53.arrow",
        lambda: table(_replace(good(3), 2, lo=2**60), types={"low": pa.uint64()}),
    ),
    Case(
        "s09_close_decimal.arrow",
        lambda: table(good(2)).set_column(6, "close", pa.array([1, 2], type=pa.decimal128(5, 1))),
    ),
    Case(
        "s10_volume_timestamp_tz.arrow",
        lambda: table(good(2)).set_column(
            7, "volume", pa.array([1, 2], type=pa.timestamp("us", tz="UTC"))
        ),
    ),
    Case(
        "s11_timeframe_ordered_dict_of_binary.arrow",
        lambda: table(good(2)).set_column(
            1,
            "timeframe",
            pa.DictionaryArray.from_arrays(
                pa.array([0, 0], type=pa.uint8()), pa.array([b"M1"]), ordered=True
            ),
        ),
    ),
    Case(
        "s19_price_type_string_view.arrow",
        lambda: table(good(2), types={"price_type": pa.string_view()}),
    ),
    Case(
        "s12_meta_bad_version.arrow",
        lambda: table(good(2), metadata={"omega.schema_version": "2"}),
    ),
    Case(
        "s13_meta_tick_not_float.arrow",
        lambda: table(good(2), metadata={"omega.tick_size": "1e-5 pips"}),
    ),
    Case(
        "s14_meta_tick_zero.arrow",
        lambda: table(good(2), metadata={"omega.symbol": "X", "omega.tick_size": "0.0"}),
    ),
    Case(
        "s15_meta_contract_nan_quote.arrow",
        lambda: table(good(2), metadata={"omega.contract_size": " nan'"}),
    ),
    Case(
        "s16_meta_contract_underscore_negative.arrow",
        lambda: table(good(2), metadata={"omega.contract_size": "\u3000-1_0 "}),
    ),
    Case(
        "s17_column_error_beats_metadata.arrow",
        lambda: (
            table(good(2))
            .set_column(7, "volume", pa.array(["1", "2"]))
            .replace_schema_metadata({"omega.tick_size": "x"})
        ),
    ),
    Case(
        "s18_metadata_beats_empty.arrow",
        lambda: table([], metadata={"omega.tick_size": "-1e-05"}),
    ),
    # ---- phase 2: empty
    Case("e01_empty_no_batches.arrow", _empty_with_types),
    Case(
        "e02_empty_unicode_digit_metadata.arrow",
        lambda: table(
            [], metadata={"omega.contract_size": "\u0661\u0660\u00a0", "omega.symbol": "\u00e9"}
        ),
    ),
    # ---- phase 3: per row
    Case("r01_null_timestamp.arrow", lambda: table(_replace(good(5), 3, ts=None))),
    Case(
        "r02_null_open_and_volume_and_nan.arrow",
        lambda: table(_replace(good(4), 2, o=None, v=None, h=float("nan"))),
    ),
    Case("r03_null_dictionary_value.arrow", _dict_with_null_value),
    Case("r04_null_type_price_type.arrow", _null_type_price_type),
    Case("r05_unknown_timeframe.arrow", lambda: table(_replace(good(6), 4, tf="m1"))),
    Case(
        "r06_unknown_timeframe_escapes.arrow",
        lambda: table(
            _replace(
                good(3), 1, tf="M1\u00e9\t\x00\x7f\u200b\U0001f600\\\xa0\U000e0001\u0378\u2028"
            ),
            dictionary=True,
        ),
    ),
    Case(
        "r07_unknown_price_type_quote.arrow",
        lambda: table(_replace(good(3), 0, pt="bid'"), dictionary=True),
    ),
    Case(
        "r08_unknown_timeframe_and_price_type.arrow",
        lambda: table(_replace(good(3), 2, tf="", pt="BID", o=-1.0)),
    ),
    Case(
        "r09_nan_open_beats_nonpositive.arrow",
        lambda: table(_replace(good(3), 1, o=float("nan"), c=-2.0)),
    ),
    Case(
        "r10_inf_volume_beats_ohlc.arrow",
        lambda: table(_replace(good(3), 1, v=float("inf"), lo=5.0)),
    ),
    Case("r11_neg_inf_low.arrow", lambda: table(_replace(good(3), 2, lo=float("-inf")))),
    Case(
        "r12_negative_zero_open.arrow",
        lambda: table(_replace(good(3), 1, o=-0.0, h=-1.0)),
    ),
    Case("r13_zero_low_and_close.arrow", lambda: table(_replace(good(3), 2, c=0.0, lo=0.0))),
    Case(
        "r14_low_above_min_beats_high.arrow",
        lambda: table(_replace(good(3), 1, o=1.0, c=1.1, lo=1.05, h=1.05)),
    ),
    Case(
        "r15_high_below_max.arrow",
        lambda: table(_replace(good(3), 1, o=1e-05, c=1.2e-05, lo=1e-05, h=1.1e-05)),
    ),
    Case(
        "r16_negative_volume_after_negzero.arrow",
        lambda: table(_replace(_replace(good(4), 1, v=-0.0), 3, v=-0.5)),
    ),
    Case(
        "r17_lowest_row_wins.arrow",
        lambda: table(_replace(_replace(good(6), 5, ts=None), 3, h=0.95)),
    ),
    Case(
        "r18_float32_values.arrow",
        lambda: table(
            _replace(good(3), 2, o=0.1, lo=0.2, h=0.3, c=0.25),
            types={name: pa.float32() for name in ("open", "high", "low", "close")},
        ),
    ),
    Case(
        "r19_int_columns.arrow",
        lambda: table(
            [row(ts=k * 60, o=3, h=5, lo=2, c=4, v=7) for k in range(3)]
            + [row(ts=400, o=3, h=5, lo=4, c=4, v=7)],
            types={
                "timestamp": pa.int16(),
                "open": pa.int32(),
                "high": pa.uint16(),
                "low": pa.int64(),
                "close": pa.uint64(),
                "volume": pa.uint8(),
            },
        ),
    ),
    Case(
        "r20_multi_batch.arrow",
        lambda: batches(
            [
                table(good(3)),
                table([row(ts=minutes(10 + k)) for k in range(4)]),
                table(_replace([row(ts=minutes(20 + k)) for k in range(3)], 1, lo=1e16)),
            ]
        ),
    ),
    Case(
        "r21_big_and_tiny_values.arrow",
        lambda: table(_replace(good(3), 1, o=1e16, h=1.5e16, lo=2e16, c=1.25e16)),
    ),
    Case(
        "r22_float16_volume.arrow",
        lambda: table(
            _replace(good(3), 2, v=-1.5),
            types={"volume": pa.float16()},
        ),
    ),
    Case(
        "r23_large_string_and_dict_keys.arrow",
        lambda: table(
            _replace(good(4), 3, pt="Ask"),
            types={
                "timeframe": pa.large_string(),
                "price_type": pa.dictionary(pa.uint16(), pa.large_string()),
            },
        ),
    ),
    Case(
        "r24_extra_columns_ignored.arrow",
        lambda: table(
            _replace(good(3), 2, lo=1.15),
            extra={"note": pa.array([True, None, False]), "open2": pa.array(["x", "y", "z"])},
        ),
    ),
    # ---- phase 4: duplicates
    Case(
        "d01_duplicate_lowest_second.arrow",
        lambda: table(
            [
                row(ts=minutes(1)),
                row(ts=minutes(5)),
                row(ts=minutes(2)),
                row(ts=minutes(2)),
                row(ts=minutes(5)),
            ]
        ),
    ),
    Case(
        "d02_duplicate_beats_bid_ask.arrow",
        lambda: table([row(ts=minutes(3)), ask(minutes(3), d=-0.5), row(ts=minutes(3))]),
    ),
    Case(
        "d03_duplicate_dict_negative_ts.arrow",
        lambda: table(
            [row(ts=-minutes(1), tf="H4"), row(ts=minutes(2)), row(ts=-minutes(1), tf="H4")],
            dictionary=True,
            types={"timestamp": pa.int32()},
        ),
    ),
    # ---- phase 5: bid/ask
    Case(
        "b01_bid_ask_low.arrow",
        lambda: table(
            [
                row(ts=minutes(1)),
                ask(minutes(1)),
                row(ts=minutes(2)),
                row(ts=minutes(2), pt="ask", o=1.0, h=1.3, lo=0.8, c=1.1),
                row(ts=minutes(3)),
                row(ts=minutes(3), pt="ask", o=0.5, h=1.3, lo=0.4, c=1.1),
            ]
        ),
    ),
    Case(
        "b02_bid_ask_ask_first.arrow",
        lambda: table(
            [
                row(ts=minutes(4), pt="ask", o=1.0, h=1.1, lo=0.9, c=1.0),
                row(ts=minutes(1)),
                ask(minutes(1), d=-0.001),
                row(ts=minutes(4), o=1.0, h=1.2, lo=0.9, c=1.1),
            ]
        ),
    ),
    Case(
        "b03_bid_ask_beats_unsorted.arrow",
        lambda: table([row(ts=minutes(2)), row(ts=minutes(1)), ask(minutes(1), d=-0.1)]),
        require_sorted=True,
    ),
    Case(
        "b04_bid_ask_other_timeframe_ok.arrow",
        lambda: table(
            [row(ts=minutes(5), tf="M5"), ask(minutes(5), tf="M1", d=-0.2), row(ts=minutes(5))]
        ),
    ),
    # ---- phase 6: order (require_sorted)
    Case(
        "o01_unsorted_timestamp.arrow",
        lambda: table([row(ts=minutes(k)) for k in (1, 2, 4, 3, 5, 0)]),
        require_sorted=True,
    ),
    Case(
        "o02_unsorted_ask_before_bid.arrow",
        lambda: table([row(ts=minutes(1)), ask(minutes(2)), row(ts=minutes(2))], dictionary=True),
        require_sorted=True,
    ),
    Case(
        "o03_unsorted_timeframe.arrow",
        lambda: table([row(ts=minutes(60), tf="H1"), row(ts=minutes(60), tf="M1")]),
        require_sorted=True,
    ),
    Case(
        "o04_unsorted_multi_batch_negative.arrow",
        lambda: batches([table([row(ts=-5), row(ts=-4)]), table([row(ts=-3), row(ts=-2 - 2**62)])]),
        require_sorted=True,
    ),
    # ---- IPC stream format (no file magic): the loader's fallback
    Case(
        "f01_stream_format_ohlc.arrow",
        lambda: table(_replace(good(3), 1, h=1.05), dictionary=True),
        stream_format=True,
    ),
    Case(
        "f02_stream_format_multi_batch_unsorted.arrow",
        lambda: batches([table(good(2)), table([row(ts=minutes(1), pt="ask")])]),
        require_sorted=True,
        stream_format=True,
    ),
)


# ------------------------------------------------------------------------ writing


def write_case(case: Case, path: Path) -> None:
    """Write the case's table as an Arrow IPC file (or stream), one batch per chunk."""
    tbl = case.build()
    options = ipc.IpcWriteOptions(compression=None)
    with pa.OSFile(str(path), "wb") as sink:
        opener = ipc.new_stream if case.stream_format else ipc.new_file
        with opener(sink, tbl.schema, options=options) as writer:
            for batch in tbl.to_batches():
                writer.write_batch(batch)


def expected_line(case: Case, path: Path) -> str:
    """``name<TAB>sorted<TAB>class<TAB>message`` from the legacy loader."""
    try:
        load_stream(path, require_sorted=case.require_sorted)
    except StreamError as exc:
        message = str(exc)
        if "\t" in message or "\n" in message or "\r" in message:
            raise SystemExit(f"{case.name}: message has a tab or newline: {message!r}") from None
        if message.startswith("cannot read"):
            raise SystemExit(f"{case.name}: unreadable file: {message}") from None
        flag = "1" if case.require_sorted else "0"
        return f"{case.name}\t{flag}\t{type(exc).__name__}\t{message}"
    raise SystemExit(f"{case.name}: the legacy loader accepted it")


def build_fixtures(out_dir: Path) -> None:
    """Write every case and ``expected.txt`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [case.name for case in CASES]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate case names")
    lines = []
    for case in CASES:
        path = out_dir / case.name
        write_case(case, path)
        lines.append(expected_line(case, path))
    (out_dir / EXPECTED).write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------- unicode tables


def _ranges(codes: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for c in codes:
        if out and out[-1][1] == c - 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


def _decimal_zeros() -> list[int]:
    zeros: list[int] = []
    covered = 0
    for c in range(0x110000):
        if unicodedata.decimal(chr(c), -1) == 0:
            run = [unicodedata.decimal(chr(c + k), -1) for k in range(10)]
            if run != list(range(10)):
                raise SystemExit(f"decimal digits at U+{c:04X} are not a run of ten")
            zeros.append(c)
            covered += 10
    total = sum(1 for c in range(0x110000) if unicodedata.decimal(chr(c), -1) >= 0)
    if total != covered:
        raise SystemExit("decimal digits outside runs of ten")
    return zeros


def unicode_tables_source() -> str:
    """The Rust source of ``stream/unicode_tables.rs``."""
    non_printable = _ranges([c for c in range(0x110000) if not chr(c).isprintable()])
    spaces = [c for c in range(0x110000) if chr(c).isspace()]
    zeros = _decimal_zeros()
    out = [
        "//! Character tables of `CPython`'s `str` (Unicode "
        f"{unicodedata.unidata_version}, Python "
        f"{sys.version_info.major}.{sys.version_info.minor}).",
        "//!",
        "//! GENERATED by `scripts/gen_stream_error_fixtures.py`; do not edit.",
        "",
        "#![allow(clippy::unreadable_literal)]",
        "",
        "/// Inclusive ranges of code points for which `str.isprintable()` is false.",
        "#[rustfmt::skip]",
        "pub(super) static NON_PRINTABLE: &[(u32, u32)] = &[",
    ]
    out.extend(f"    (0x{a:04X}, 0x{b:04X})," for a, b in non_printable)
    out.append("];")
    out.append("")
    out.append("/// Code points for which `str.isspace()` is true, ascending.")
    out.append("#[rustfmt::skip]")
    out.append("pub(super) static SPACES: &[u32] = &[")
    out.extend(f"    0x{c:04X}," for c in spaces)
    out.append("];")
    out.append("")
    out.append(
        "/// The digit-zero code point of every run of ten decimal digits (`Nd`), ascending."
    )
    out.append("#[rustfmt::skip]")
    out.append("pub(super) static DECIMAL_ZEROS: &[u32] = &[")
    out.extend(f"    0x{c:04X}," for c in zeros)
    out.append("];")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------- repr / float() cases


def _rust_str(text: str) -> str:
    """A Rust string literal for ``text`` (non-ASCII and controls as ``\\u{..}``)."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    out.append('"')
    return "".join(out)


def _float_samples() -> list[float]:
    rng = random.Random(20260105)
    xs: list[float] = [0.0, -0.0, math.inf, -math.inf, 5e-324, -5e-324, 2.2250738585072014e-308]
    xs += [sys.float_info.max, -sys.float_info.max, 0.1, 0.2, 0.3, 1.1, 1 / 3, 2 / 3, 123.456]
    for e in range(-8, 24):
        for m in (1.0, 1.5, 9.999999999999999, 1.0000000000000002, 0.9999999999999999):
            xs.append(m * 10.0**e)
            xs.append(-m * 10.0**e)
    xs += [float(2**53), float(2**53 + 2), float(2**63), 1e16 - 2, 1e16 - 1, 12345678901234567.0]
    xs += [1.2e-05, 1e-05, 0.0001, 0.00012, 1e15, 1e16, 1e22, 1e23, 1e-7, 9.5367431640625e-07]
    # Exact midpoints between two shortest candidates (CPython rounds half to even).
    xs += [1e15 + j * 0.125 for j in range(64)] + [2.0**e * 5 for e in range(50, 70)]
    xs += [float(m * 2**e) for m in (2**53 - 1, 2**52 + 1, 3, 7) for e in range(-80, 80, 7)]
    for _ in range(400):
        bits = rng.getrandbits(64)
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if not math.isnan(x):
            xs.append(x)
    for _ in range(200):
        xs.append(round(rng.uniform(-1e6, 1e6), rng.randint(0, 9)))
        xs.append(rng.uniform(0.0, 1.0) * 10.0 ** rng.randint(-30, 30))
    return xs


def _str_samples() -> list[str]:
    out = ["", "M1", "bid'", 'a"b', "'\"", "\\", "\t\n\r\x00\x1f\x7f\x80\x9f\xa0\xad\xff"]
    out += ["\u0100\u0378\u2028\u200b\ufeff\uffff", "\U0001f600\U000e0001\U0010ffff"]
    codes = [c for c in range(0, 0x110000, 61) if not 0xD800 <= c <= 0xDFFF]
    out += ["".join(chr(c) for c in codes[k : k + 16]) for k in range(0, len(codes), 16)]
    return out


def _parse_samples() -> list[str]:
    out = ["1.0", " 1.0 ", "1e-05", "1_000.5", "1__0", "_1", "1_", "1_.5", "1._5", "1e1_0", "in_f"]
    out += ["inf", "-Infinity", "nan", "+NaN", "-nan", "1e999", "-1e-999", ".5", "5.", ".", "e5"]
    out += ["", " ", "1e", "0x10", "\x1c1.0", "1.0\x1f", "\u3000-1_0 ", "\u0661\u0660", "\xa01.5"]
    out += ["\u0661.\u0665e\u0662", "1\x00", "\x7f1", "1.5\x85", "\u20001.5\u2029", "++1", "1e+"]
    out += ["\U0001d7ce\U0001d7cf", "\uff11", "\u00b2", "1 0", "0.1e-3_0", "9" * 400]
    return out


def pyrepr_cases_source() -> str:
    """The Rust source of ``stream/pyrepr_cases.rs`` (test data only)."""

    def bits(x: float) -> str:
        return f"0x{struct.unpack('<Q', struct.pack('<d', x))[0]:016x}"

    out = [
        "//! `CPython` outputs for the unit tests of `pyrepr` "
        f"(Python {sys.version_info.major}.{sys.version_info.minor}).",
        "//!",
        "//! GENERATED by `scripts/gen_stream_error_fixtures.py`; do not edit.",
        "",
        "#![allow(clippy::unreadable_literal)]",
        "",
        "/// `(f64 bits, repr(x))`.",
        "#[rustfmt::skip]",
        "pub(super) static FLOAT_REPR: &[(u64, &str)] = &[",
    ]
    out.extend(f'    ({bits(x)}, "{x!r}"),' for x in _float_samples())
    out.append("];")
    out.append("")
    out.append("/// `(s, repr(s))`.")
    out.append("#[rustfmt::skip]")
    out.append("pub(super) static STR_REPR: &[(&str, &str)] = &[")
    out.extend(f"    ({_rust_str(t)}, {_rust_str(repr(t))})," for t in _str_samples())
    out.append("];")
    out.append("")
    out.append("/// `(s, float(s) bits or None on ValueError)`.")
    out.append("#[rustfmt::skip]")
    out.append("pub(super) static PARSE_FLOAT: &[(&str, Option<u64>)] = &[")
    for t in _parse_samples():
        try:
            value: float | None = float(t)
        except ValueError:
            value = None
        shown = "None" if value is None else f"Some({bits(value)})"
        out.append(f"    ({_rust_str(t)}, {shown}),")
    out.append("];")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def _same_tree(a: Path, b: Path) -> list[str]:
    names_a = sorted(p.name for p in a.iterdir())
    names_b = sorted(p.name for p in b.iterdir()) if b.is_dir() else []
    problems = [f"missing: {n}" for n in names_a if n not in names_b]
    problems += [f"stale: {n}" for n in names_b if n not in names_a]
    for n in names_a:
        if n in names_b and (a / n).read_bytes() != (b / n).read_bytes():
            problems.append(f"differs: {n}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="rebuild in a temp dir, compare")
    args = parser.parse_args(argv)
    sources = {TABLES_RS: unicode_tables_source(), CASES_RS: pyrepr_cases_source()}
    if not args.check:
        build_fixtures(FIXTURE_DIR)
        for path, text in sources.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print(f"wrote {len(CASES)} fixtures to {FIXTURE_DIR}, {TABLES_RS.name}, {CASES_RS.name}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "bad_streams"
        build_fixtures(fresh)
        problems = _same_tree(fresh, FIXTURE_DIR)
    for path, text in sources.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            problems.append(f"differs: {path.relative_to(ROOT)}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {len(CASES)} fixtures and the Unicode tables are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
