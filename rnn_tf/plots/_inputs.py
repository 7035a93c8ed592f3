"""Checks on the data handed to the figure functions.

Each raises `ValueError` naming the argument, what was expected and what was
received, so a wrong table fails at the call, not as an empty or misleading plot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def as_frame(data, name: str, expected: str) -> pd.DataFrame:
    """A non-empty DataFrame from `data` (a DataFrame, a dict of columns or a list of rows)."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, (Mapping, list, tuple)):
        try:
            frame = pd.DataFrame(data)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"Argument `{name}` must be a pandas DataFrame {expected}; "
                f"could not build one from the received {type(data).__name__}: {error}"
            ) from None
    else:
        raise ValueError(
            f"Argument `{name}` must be a pandas DataFrame {expected}; "
            f"received {type(data).__name__}"
        )
    if frame.empty:
        raise ValueError(f"Argument `{name}` is empty; expected a DataFrame {expected}")
    return frame


def pick_column(
    frame: pd.DataFrame,
    candidates: Sequence[str],
    name: str,
    role: str,
    required: bool = True,
) -> str | None:
    """The first of `candidates` present in `frame`; a clear error if required and absent."""
    for column in candidates:
        if column in frame.columns:
            return column
    if required:
        raise ValueError(
            f"Argument `{name}` is missing a {role} column: expected one of "
            f"{list(candidates)}; received columns {list(map(str, frame.columns))}"
        )
    return None


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
