"""omega_rust: the Rust port of the Omega backtest EventEngine (PyO3 extension)."""

from omega_rust._omega_rust import __version__

__all__ = ["__version__"]
