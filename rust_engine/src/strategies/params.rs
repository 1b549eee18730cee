//! Strategy parameters: a typed key/value list, resolved against a strategy's defaults
//! exactly like `legacy_py.strategies.BaseStrategy.__init__`.
//!
//! * keys not in the defaults are an error (`unknown params [...]`, sorted);
//! * an int given for a float parameter becomes a float (`float(value)`);
//! * any other type mismatch is an error naming the parameter and the value;
//! * missing keys take the default.
//!
//! `timeframe` / `higher_timeframe` are not parameters here: the runner receives them
//! separately (see [`super::NativeJob`]).

use crate::indicators::ConfigError;
use crate::stream::{py_float_repr, py_str_repr};

/// One parameter value: Python `int` or `float` (`bool` is neither, as in the legacy check).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamValue {
    /// An integer (Python `int`).
    Int(i64),
    /// A float (Python `float`).
    Float(f64),
}

impl ParamValue {
    /// Python's `repr()` of the value.
    #[must_use]
    pub fn py_repr(self) -> String {
        match self {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(x) => py_float_repr(x),
        }
    }

    /// Python's `type(value).__name__`.
    #[must_use]
    pub fn type_name(self) -> &'static str {
        match self {
            ParamValue::Int(_) => "int",
            ParamValue::Float(_) => "float",
        }
    }
}

/// Parameters in insertion order (a `Vec`, never a hash map).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    entries: Vec<(String, ParamValue)>,
}

impl Params {
    /// No parameters (every default applies).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `key` (replacing an earlier value, keeping its position).
    #[must_use]
    pub fn with(mut self, key: &str, value: ParamValue) -> Self {
        self.set(key, value);
        self
    }

    /// Set `key` (replacing an earlier value, keeping its position).
    pub fn set(&mut self, key: &str, value: ParamValue) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key.to_owned(), value)),
        }
    }

    /// The value of `key`, if given.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<ParamValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// The entries in insertion order.
    #[must_use]
    pub fn entries(&self) -> &[(String, ParamValue)] {
        &self.entries
    }
}

impl FromIterator<(String, ParamValue)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, ParamValue)>>(iter: I) -> Self {
        let mut params = Params::new();
        for (k, v) in iter {
            params.set(&k, v);
        }
        params
    }
}

/// A strategy's parameters after defaulting and type checks.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    values: Vec<(&'static str, ParamValue)>,
}

impl Resolved {
    /// Resolve `given` against `defaults` (declaration order) for strategy `strategy`.
    ///
    /// # Errors
    /// The legacy `ConfigError` messages: unknown keys first, then the first parameter
    /// (in declaration order) whose type does not match its default's.
    pub fn new(
        strategy: &str,
        defaults: &[(&'static str, ParamValue)],
        given: &Params,
    ) -> Result<Self, ConfigError> {
        let mut unknown: Vec<&str> = given
            .entries()
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !defaults.iter().any(|(d, _)| d == k))
            .collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            let list: Vec<String> = unknown.iter().map(|k| py_str_repr(k)).collect();
            return Err(ConfigError::new(format!(
                "strategy {}: unknown params [{}]",
                py_str_repr(strategy),
                list.join(", ")
            )));
        }
        let mut values = Vec::with_capacity(defaults.len());
        for &(key, default) in defaults {
            let value = match (default, given.get(key)) {
                (_, None) => default,
                (ParamValue::Float(_), Some(ParamValue::Int(i))) => {
                    // Python's float(int): exact for |i| <= 2**53, correctly rounded beyond.
                    #[allow(clippy::cast_precision_loss)]
                    ParamValue::Float(i as f64)
                }
                (ParamValue::Int(_), Some(v @ ParamValue::Int(_)))
                | (ParamValue::Float(_), Some(v @ ParamValue::Float(_))) => v,
                (ParamValue::Int(_), Some(v @ ParamValue::Float(_))) => {
                    return Err(ConfigError::new(format!(
                        "strategy {}: param {} must be {}, got {}",
                        py_str_repr(strategy),
                        py_str_repr(key),
                        default.type_name(),
                        v.py_repr()
                    )));
                }
            };
            values.push((key, value));
        }
        Ok(Self { values })
    }

    /// An int parameter (`p_int`); 0 when `key` is not an int parameter.
    #[must_use]
    pub fn int(&self, key: &str) -> i64 {
        match self.lookup(key) {
            Some(ParamValue::Int(i)) => i,
            _ => 0,
        }
    }

    /// A float parameter (`p_float`); NaN when `key` is not a float parameter.
    #[must_use]
    pub fn float(&self, key: &str) -> f64 {
        match self.lookup(key) {
            Some(ParamValue::Float(x)) => x,
            _ => f64::NAN,
        }
    }

    /// The merged parameters in declaration order (Python's `strategy.params`).
    #[must_use]
    pub fn values(&self) -> &[(&'static str, ParamValue)] {
        &self.values
    }

    fn lookup(&self, key: &str) -> Option<ParamValue> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}
