//! `CPython` and pyarrow spellings: `repr(float)`, `repr(str)`, `float(str)` and
//! `str(pyarrow.DataType)`, so that error messages match the legacy loader byte for byte.

use std::fmt::Write as _;

use arrow_schema::{DataType, Field, IntervalUnit, TimeUnit, UnionMode};

use super::unicode_tables::{DECIMAL_ZEROS, NON_PRINTABLE, SPACES};

/// `CPython`'s `repr(x)` of a float.
///
/// Shortest round-trip digits; positional notation when the decimal exponent `e` (of
/// `d.ddd × 10^e`) satisfies `-4 <= e < 16`, with `.0` appended to integral values;
/// otherwise scientific notation with a signed, at least two-digit exponent
/// (`1e-05`, `1.5e+16`). Special values: `inf`, `-inf`, `nan`, `0.0`, `-0.0`.
#[must_use]
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let (digits, exp) = shortest_digits(x.abs());
    let ndigits = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let decpt = exp + 1; // value = 0.DIGITS × 10^decpt
    let mut out = String::with_capacity(digits.len() + 8);
    if x < 0.0 {
        out.push('-');
    }
    if decpt <= -4 || decpt > 16 {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exp.unsigned_abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
        out.push_str(&digits);
    } else if decpt >= ndigits {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n(
            '0',
            (decpt - ndigits).unsigned_abs() as usize,
        ));
        out.push_str(".0");
    } else {
        let split = decpt.unsigned_abs() as usize;
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    }
    out
}

/// Split Rust's `{:e}` output (`"1.2345e-7"`) into its digits and decimal exponent.
fn sci_parts(sci: &str) -> (String, i32) {
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// Add one unit in the last place to a digit string; `(digits, exponent carry)`.
fn increment(digits: &str) -> (String, i32) {
    let mut bytes = digits.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            let text = String::from_utf8(bytes).unwrap_or_default();
            return (text.trim_end_matches('0').to_owned(), 0);
        }
    }
    ("1".to_owned(), 1)
}

/// The shortest round-trip digits of `x > 0` and the decimal exponent of the first,
/// chosen like David Gay's `dtoa` mode 0 (which `CPython` uses): among the shortest
/// candidates the nearest to `x`, and on an exact tie the one with an even last digit.
///
/// Rust's shortest formatting agrees except on exact ties, where it may round up; a
/// tie is detected exactly (the exact decimal expansion of `x` is the `k + 1`-digit
/// midpoint ending in 5) and resolved to the even neighbour when that round-trips.
fn shortest_digits(x: f64) -> (String, i32) {
    let (digits, exp) = sci_parts(&format!("{x:e}"));
    let k = digits.len();
    if digits.as_bytes()[k - 1] % 2 == 0 {
        return (digits, exp);
    }
    let (fine, fine_exp) = sci_parts(&format!("{x:.k$e}"));
    if !fine.ends_with('5') {
        return (digits, exp);
    }
    // An f64 has at most 767 significant decimal digits: this is its exact expansion.
    let (exact, exact_exp) = sci_parts(&format!("{x:.800e}"));
    if exact_exp != fine_exp || exact.trim_end_matches('0') != fine {
        return (digits, exp);
    }
    let lower = fine[..k].trim_end_matches('0').to_owned();
    let other = if digits == lower && exp == fine_exp {
        let (up, carry) = increment(&fine[..k]);
        (up, fine_exp + carry)
    } else {
        (lower, fine_exp)
    };
    let text = format!("{}.{}e{}", &other.0[..1], &other.0[1..], other.1);
    if text.parse::<f64>().ok() == Some(x) {
        other
    } else {
        (digits, exp)
    }
}

/// `str.isprintable()` of one character (`CPython`'s Unicode tables).
fn is_printable(c: char) -> bool {
    let cp = u32::from(c);
    let idx = NON_PRINTABLE.partition_point(|&(_, hi)| hi < cp);
    NON_PRINTABLE.get(idx).is_none_or(|&(lo, _)| lo > cp)
}

/// `str.isspace()` of one character (`CPython`'s Unicode tables).
fn is_py_space(c: char) -> bool {
    SPACES.binary_search(&u32::from(c)).is_ok()
}

/// The value of a Unicode decimal digit (`unicodedata.decimal`), if `c` is one.
fn decimal_value(c: char) -> Option<u32> {
    let cp = u32::from(c);
    let idx = DECIMAL_ZEROS.partition_point(|&zero| zero <= cp);
    let zero = *DECIMAL_ZEROS.get(idx.checked_sub(1)?)?;
    (cp - zero < 10).then_some(cp - zero)
}

/// `CPython`'s `repr(s)` of a string.
///
/// Single quotes unless the text contains `'` and no `"`; `\\`, `\t`, `\n`, `\r` and the
/// quote escaped; other non-printable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
#[must_use]
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if !c.is_ascii() && is_printable(c) => out.push(c),
            c => {
                let cp = u32::from(c);
                let _ = if cp <= 0xff {
                    write!(out, "\\x{cp:02x}")
                } else if cp <= 0xffff {
                    write!(out, "\\u{cp:04x}")
                } else {
                    write!(out, "\\U{cp:08x}")
                };
            }
        }
    }
    out.push(quote);
    out
}

/// `CPython`'s `float(text)`: `None` where Python raises `ValueError`.
///
/// Unicode whitespace around the number and Unicode decimal digits are accepted, and
/// underscores between digits are dropped (PEP 515), exactly as `PyFloat_FromString`
/// does; the remaining grammar (`[sign] digits[.digits][e[sign]digits]`, `inf`,
/// `infinity`, `nan`, case-insensitive) is the same as Rust's `f64::from_str`.
#[must_use]
pub fn parse_py_float(text: &str) -> Option<f64> {
    // _PyUnicode_TransformDecimalAndSpaceToASCII: ASCII (< 127) kept, Unicode spaces
    // become ' ', Unicode decimal digits become ASCII digits, anything else fails.
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        if u32::from(c) < 127 {
            ascii.push(c);
        } else if is_py_space(c) {
            ascii.push(' ');
        } else {
            let d = decimal_value(c)?;
            ascii.push(char::from_digit(d, 10)?);
        }
    }
    // _Py_string_to_number_with_underscores: '_' only between two digits.
    let cleaned = if ascii.contains('_') {
        let mut out = String::with_capacity(ascii.len());
        let mut prev = '\0';
        for c in ascii.chars() {
            if c == '_' {
                if !prev.is_ascii_digit() {
                    return None;
                }
            } else {
                if prev == '_' && !c.is_ascii_digit() {
                    return None;
                }
                out.push(c);
            }
            prev = c;
        }
        if prev == '_' {
            return None;
        }
        out
    } else {
        ascii
    };
    // float_from_string_inner strips ASCII whitespace (Py_ISSPACE) only.
    let trimmed =
        cleaned.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    if trimmed.is_empty() {
        return None;
    }
    trimmed.parse::<f64>().ok()
}

fn unit_name(unit: TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

/// `str(pyarrow.Field)` as it appears inside nested type names: `name: type[ not null]`.
fn field_text(field: &Field) -> String {
    let mut out = format!("{}: {}", field.name(), pyarrow_field_type_name(field));
    if !field.is_nullable() {
        out.push_str(" not null");
    }
    out
}

/// `str(field.type)` in pyarrow: like [`pyarrow_type_name`], but a dictionary's
/// `ordered` flag is taken from the field.
#[must_use]
pub fn pyarrow_field_type_name(field: &Field) -> String {
    type_name(field.data_type(), field.dict_is_ordered().unwrap_or(false))
}

/// `str(t)` of the pyarrow type equivalent to an arrow-rs [`DataType`]
/// (`double`, `halffloat`, `timestamp[us, tz=UTC]`, `list<item: int64>`,
/// `dictionary<values=string, indices=int32, ordered=0>`, ...).
#[must_use]
pub fn pyarrow_type_name(data_type: &DataType) -> String {
    type_name(data_type, false)
}

fn type_name(data_type: &DataType, ordered: bool) -> String {
    match data_type {
        DataType::Null => "null".to_owned(),
        DataType::Boolean => "bool".to_owned(),
        DataType::Int8 => "int8".to_owned(),
        DataType::Int16 => "int16".to_owned(),
        DataType::Int32 => "int32".to_owned(),
        DataType::Int64 => "int64".to_owned(),
        DataType::UInt8 => "uint8".to_owned(),
        DataType::UInt16 => "uint16".to_owned(),
        DataType::UInt32 => "uint32".to_owned(),
        DataType::UInt64 => "uint64".to_owned(),
        DataType::Float16 => "halffloat".to_owned(),
        DataType::Float32 => "float".to_owned(),
        DataType::Float64 => "double".to_owned(),
        DataType::Timestamp(unit, None) => format!("timestamp[{}]", unit_name(*unit)),
        DataType::Timestamp(unit, Some(tz)) => {
            format!("timestamp[{}, tz={tz}]", unit_name(*unit))
        }
        DataType::Date32 => "date32[day]".to_owned(),
        DataType::Date64 => "date64[ms]".to_owned(),
        DataType::Time32(unit) => format!("time32[{}]", unit_name(*unit)),
        DataType::Time64(unit) => format!("time64[{}]", unit_name(*unit)),
        DataType::Duration(unit) => format!("duration[{}]", unit_name(*unit)),
        DataType::Interval(IntervalUnit::YearMonth) => "month_interval".to_owned(),
        DataType::Interval(IntervalUnit::DayTime) => "day_time_interval".to_owned(),
        DataType::Interval(IntervalUnit::MonthDayNano) => "month_day_nano_interval".to_owned(),
        DataType::Binary => "binary".to_owned(),
        DataType::FixedSizeBinary(n) => format!("fixed_size_binary[{n}]"),
        DataType::LargeBinary => "large_binary".to_owned(),
        DataType::BinaryView => "binary_view".to_owned(),
        DataType::Utf8 => "string".to_owned(),
        DataType::LargeUtf8 => "large_string".to_owned(),
        DataType::Utf8View => "string_view".to_owned(),
        DataType::List(f) => format!("list<{}>", field_text(f)),
        DataType::ListView(f) => format!("list_view<{}>", field_text(f)),
        DataType::LargeList(f) => format!("large_list<{}>", field_text(f)),
        DataType::LargeListView(f) => format!("large_list_view<{}>", field_text(f)),
        DataType::FixedSizeList(f, n) => format!("fixed_size_list<{}>[{n}]", field_text(f)),
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields.iter().map(|f| field_text(f)).collect();
            format!("struct<{}>", inner.join(", "))
        }
        DataType::Union(fields, mode) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|(code, f)| format!("{}={code}", field_text(f)))
                .collect();
            let name = match mode {
                UnionMode::Sparse => "sparse_union",
                UnionMode::Dense => "dense_union",
            };
            format!("{name}<{}>", inner.join(", "))
        }
        DataType::Dictionary(keys, values) => format!(
            "dictionary<values={}, indices={}, ordered={}>",
            pyarrow_type_name(values),
            pyarrow_type_name(keys),
            u8::from(ordered)
        ),
        DataType::Decimal32(p, s) => format!("decimal32({p}, {s})"),
        DataType::Decimal64(p, s) => format!("decimal64({p}, {s})"),
        DataType::Decimal128(p, s) => format!("decimal128({p}, {s})"),
        DataType::Decimal256(p, s) => format!("decimal256({p}, {s})"),
        DataType::Map(entries, sorted) => map_name(entries, *sorted),
        DataType::RunEndEncoded(run_ends, values) => format!(
            "run_end_encoded<run_ends: {}, values: {}>",
            pyarrow_field_type_name(run_ends),
            pyarrow_field_type_name(values)
        ),
    }
}

/// Arrow C++ `MapType::ToString`: `map<K, V[, keys_sorted]>`, with non-standard field
/// names in parentheses.
fn map_name(entries: &Field, sorted: bool) -> String {
    let mut out = String::from("map<");
    let DataType::Struct(kv) = entries.data_type() else {
        return format!("map<{}>", pyarrow_field_type_name(entries));
    };
    let named = |out: &mut String, f: &Field, std_name: &str| {
        out.push_str(&pyarrow_field_type_name(f));
        if f.name() != std_name {
            let _ = write!(out, " ('{}')", f.name());
        }
    };
    if let [key, value] = &kv.iter().collect::<Vec<_>>()[..] {
        named(&mut out, key, "key");
        out.push_str(", ");
        named(&mut out, value, "value");
    }
    if sorted {
        out.push_str(", keys_sorted");
    }
    if entries.name() != "entries" {
        let _ = write!(out, " ('{}')", entries.name());
    }
    out.push('>');
    out
}
