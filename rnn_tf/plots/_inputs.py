"""Checks on the data handed to the figure functions.

Each figure takes its data in exactly one form, documented in its docstring: a pandas
DataFrame with named columns (the tables `rnn_tf.compare` and `rnn_tf.diagnostics`
return), a dict of name -> 1-D sequence, or an array of a stated shape. Anything else
raises `ValueError` naming the argument, what was expected and what was received, so
a wrong input fails at the call, not as an empty or misleading plot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def require_frame(data, name: str, columns: Sequence[str], optional: Sequence[str] = ()):
    """`data` itself if it is a non-empty DataFrame holding every column in `columns`."""
    wanted = ", ".join(f"'{c}'" for c in columns)
    if optional:
        wanted += " (optionally " + ", ".join(f"'{c}'" for c in optional) + ")"
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"Argument `{name}` must be a pandas DataFrame with columns {wanted}; "
            f"received {type(data).__name__}"
        )
    if data.empty:
        raise ValueError(
            f"Argument `{name}` is an empty DataFrame; expected rows with columns {wanted}"
        )
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(
            f"Argument `{name}` is missing column(s) {', '.join(repr(c) for c in missing)}: "
            f"expected columns {wanted}; received columns {list(map(str, data.columns))}"
        )
    return data


def numeric_column(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    """Column values as floats; non-numbers are an error naming the column."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & frame[column].notna().to_numpy()
    if bad.any():
        example = frame[column][bad].iloc[0]
        raise ValueError(
            f"Argument `{name}` column '{column}' must hold numbers; "
            f"received {example!r} in {int(bad.sum())} row(s)"
        )
    return values


def as_vector(values, name: str, expected: str) -> np.ndarray:
    """A non-empty 1-D float array."""
    try:
        array = np.asarray(values, dtype=float)
    except (ValueError, TypeError):
        raise ValueError(
            f"Argument `{name}` must be {expected}; received {type(values).__name__}"
        ) from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"Argument `{name}` must be {expected}; received shape {array.shape}")
    return array


def check_positive(value, name: str) -> float:
    """A finite, strictly positive number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"Argument `{name}` must be a positive number; received {value!r}"
        ) from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"Argument `{name}` must be a positive number; received {value!r}")
    return number


def check_int_range(value, name: str, low: int, high: int) -> int:
    """An integer in [low, high]; larger diagrams get too crowded to read."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"Argument `{name}` must be an integer in [{low}, {high}]; received {value!r}"
        )
    if not low <= value <= high:
        raise ValueError(
            f"Argument `{name}` must be an integer in [{low}, {high}]; received {name}={value}"
        )
    return int(value)
