"""Early, named checks on user input, shared by the layers, the trainer and the reference.

Every check raises `ValueError` saying which argument was wrong, what it received
and what was expected, before any computation can turn bad input into NaNs.
"""

from __future__ import annotations

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


def check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Argument `{name}` must be a positive integer; received {name}={value!r}")
    return int(value)
