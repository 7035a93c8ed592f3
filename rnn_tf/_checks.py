"""Early, named checks on user input, shared by the layers, the trainer and the reference.

Every check raises `ValueError` saying which argument was wrong, what it received
and what was expected, before any computation can turn bad input into NaNs.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def check_sequences(shape, name: str = "sequences", input_dim: int | None = None) -> None:
    """A batch of sequences must be `(batch, timesteps, input_dim)` with timesteps > 0."""
    shape = tuple(shape)
    if len(shape) != 3:
        raise ValueError(
            f"Argument `{name}` must have rank 3 (batch, timesteps, input_dim); "
            f"received shape {shape} of rank {len(shape)}"
        )
    if shape[1] is not None and shape[1] == 0:
        raise ValueError(
            f"Argument `{name}` is an empty sequence: it must have at least one "
            f"timestep; received shape {shape}"
        )
    if input_dim is not None and shape[2] is not None and shape[2] != input_dim:
        raise ValueError(
            f"Argument `{name}` has {shape[2]} features per step but the layer was "
            f"built for input_dim={input_dim}; received shape {shape}"
        )


def check_finite(array, name: str) -> None:
    """Reject NaN or infinite values (the trainer calls this when `check_inputs=True`)."""
    values = np.asarray(array)
    if np.issubdtype(values.dtype, np.floating) and not np.all(np.isfinite(values)):
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(
            f"Argument `{name}` contains {bad} non-finite value(s) (NaN or Inf); "
            "expected finite numbers"
        )


def check_labels(labels, num_classes: int, name: str = "y") -> None:
    """Integer class labels must lie in [0, num_classes)."""
    values = np.asarray(labels)
    if not np.issubdtype(values.dtype, np.integer):
        raise ValueError(
            f"Argument `{name}` must hold integer class ids; received dtype {values.dtype}"
        )
    if values.size and (values.min() < 0 or values.max() >= num_classes):
        raise ValueError(
            f"Argument `{name}` holds labels outside [0, {num_classes}): received "
            f"min={int(values.min())}, max={int(values.max())}"
        )


def invalid(name: str, expected: str, value) -> ValueError:
    """The one message format: the argument, what was expected, what was received."""
    return ValueError(f"Argument `{name}` must be {expected}; received {name}={value!r}")


def check_choice(value, choices, name: str):
    """`value` must be one of `choices` (compared with ==); returns it."""
    choices = tuple(choices)
    # Type-strict, so that True never passes for 1, nor 1 for 1.0.
    if not any(type(value) is type(choice) and value == choice for choice in choices):
        raise invalid(name, f"one of {choices}", value)
    return value


def check_number(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
):
    """`value` must be a finite real number (an integer if `integer`) within the bounds.

    Bounds are inclusive unless `low_open` / `high_open`; returns the value as a Python
    `int` or `float`, so NumPy scalars never leak into configs or graphs.
    """
    kind = numbers.Integral if integer else numbers.Real
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    expected = f"{'an integer' if integer else 'a finite number'} in {interval}"
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        raise invalid(name, expected, value)
    if low is not None and (value <= low if low_open else value < low):
        raise invalid(name, expected, value)
    if high is not None and (value >= high if high_open else value > high):
        raise invalid(name, expected, value)
    return int(value) if integer else float(value)


def check_positive_int(value, name: str) -> int:
    """A positive integer (a count, a size, a width); returns it as a Python int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise invalid(name, "a positive integer", value)
    return int(value)
