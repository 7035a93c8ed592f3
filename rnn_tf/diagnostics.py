"""The vanishing/exploding gradient lab.

BPTT sends dL_T/dh_T back through every step; for the vanilla cell

    dL_T/dh_{t-1} = (dL_T/dh_t * f'(a_t)) W^T          (row vectors, h_t = f(x_t U + h_{t-1} W + b))

so ||dL_T/dh_t|| is a product of T - t Jacobians: it shrinks geometrically when they
contract (spectral radius of W below 1, saturated tanh) and can grow when they stretch.

To isolate the recurrence from any loss, the "last loss" here is L_T = h_T . r for a
fixed random unit direction r (so dL_T/dh_T = r for every cell). The norms come from
`tf.GradientTape` on the states of a step-by-step run of any Keras RNN cell
(`gradient_norms_over_time`) and, for the vanilla cell, from the Jacobian product
written out in NumPy (`hand_jacobian_norms`), which must agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import keras
import numpy as np
import pandas as pd

from rnn_tf._checks import check_choice, check_positive_int
from rnn_tf._tensorflow import require_tensorflow
from rnn_tf.initializers import CHRONO_CELLS, chrono_layer_arguments
from rnn_tf.layers import VanillaRNNCell

tf = require_tensorflow("rnn_tf.diagnostics (the gradient lab)")

_KERAS_CELLS = {
    "vanilla": VanillaRNNCell,
    "simple": keras.layers.SimpleRNNCell,
    "gru": keras.layers.GRUCell,
    "lstm": keras.layers.LSTMCell,
}


def make_cell(name: str, units: int, seed: int = 0, t_max: float | None = None,
              **kwargs) -> keras.layers.Layer:
    """A Keras RNN cell by name with seeded weights.

    Names: "vanilla", "simple", "gru", "lstm", and "gru_chrono" / "lstm_chrono": the GRU and
    LSTM cells with chrono gate biases for dependencies up to `t_max` steps
    (`rnn_tf.initializers.ChronoBias`; `t_max` is required for them).
    """
    names = (*_KERAS_CELLS, *CHRONO_CELLS)
    check_choice(name, names, "name")
    check_positive_int(units, "units")
    keras.utils.set_random_seed(seed)
    if name in CHRONO_CELLS:
        gated, arguments = chrono_layer_arguments(name, t_max)
        return _KERAS_CELLS[gated](units, **kwargs, **arguments)
    return _KERAS_CELLS[name](units, **kwargs)


def _check_inputs(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(
            f"Argument `x` must have shape (batch, timesteps, features) with no empty axis; "
            f"received {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("Argument `x` contains NaN or Inf")
    return x


def readout_direction(units: int, seed: int = 0) -> np.ndarray:
    """The fixed random unit vector r of L_T = h_T . r (same seed, same r)."""
    r = np.random.default_rng(seed).normal(size=units)
    return r / np.linalg.norm(r)


def _cell_units(cell) -> int:
    size = cell.state_size
    return int(size[0] if isinstance(size, (list, tuple)) else size)


def gradient_norms_over_time(cell, x, direction=None, seed: int = 0) -> np.ndarray:
    """||dL_T/dh_t|| for t = 1..T, averaged over the batch, from `tf.GradientTape`.

    Args:
        cell: a Keras RNN cell (`VanillaRNNCell`, `keras.layers.SimpleRNNCell`, `GRUCell`,
            `LSTMCell`, ...) or a recurrent layer (its `.cell` is used). Built on first use.
        x: inputs `(batch, T, features)`.
        direction: r in L_T = h_T . r, shape `(units,)`; default `readout_direction(units,
            seed)`. For LSTM, h is the output state (c has its own path).
        seed: seeds the default direction.

    Returns:
        Array of T norms; entry t - 1 is the mean over the batch of ||dL_T/dh_t||.
    """
    cell = getattr(cell, "cell", cell)
    x = _check_inputs(x)
    units = _cell_units(cell)
    r = readout_direction(units, seed) if direction is None else np.asarray(direction)
    if r.shape != (units,):
        raise ValueError(f"Argument `direction` must have shape ({units},); received {r.shape}")
    dtype = cell.compute_dtype
    inputs = tf.constant(x, dtype=dtype)
    if not cell.built:
        cell.build(inputs.shape[:1] + inputs.shape[2:])
    batch = x.shape[0]
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    states = [tf.zeros((batch, int(s)), dtype=dtype) for s in sizes]
    hidden = []
    with tf.GradientTape() as tape:
        for t in range(x.shape[1]):
            _, states = cell(inputs[:, t], states)
            states = list(states) if isinstance(states, (list, tuple)) else [states]
            hidden.append(states[0])
        loss = tf.reduce_sum(hidden[-1] * tf.constant(r, dtype=dtype))
    grads = tape.gradient(loss, hidden)
    # A step the loss cannot reach has no gradient at all: its norm is 0.
    return np.array([
        0.0 if g is None else float(tf.reduce_mean(tf.norm(tf.cast(g, "float64"), axis=-1)))
        for g in grads
    ])


def gradient_norms_by_cell(
    cells: Iterable[str], x, units: int = 32, seed: int = 0, t_max: float | None = None
) -> dict[str, np.ndarray]:
    """`gradient_norms_over_time` for several cells built with the same seed and direction.

    Chrono cells (see `make_cell`) get `t_max`, by default the sequences' length.
    """
    x = _check_inputs(x)
    t_max = x.shape[1] if t_max is None else t_max
    return {
        name: gradient_norms_over_time(make_cell(name, units, seed, t_max=t_max), x, seed=seed)
        for name in cells
    }


def hand_jacobian_norms(U, W, b, x, direction=None, activation: str = "tanh", seed: int = 0):
    """The same norms as `gradient_norms_over_time` for the vanilla cell, by hand in NumPy.

    Forward h_t = f(x_t U + h_{t-1} W + b) from h_0 = 0, then from g_T = r:

        g_{t-1} = (g_t * f'(a_t)) W^T,   f'(a_t) = 1 - h_t^2 (tanh) or [a_t > 0] (relu).

    Returns the T batch-mean norms ||g_t||. Use float64 inputs for a tight comparison.
    """
    if activation not in ("tanh", "relu"):
        raise ValueError(f"Argument `activation` must be 'tanh' or 'relu'; received {activation!r}")
    x = _check_inputs(x).astype("float64")
    U, W, b = (np.asarray(a, dtype="float64") for a in (U, W, b))
    units = W.shape[0]
    if U.shape != (x.shape[-1], units) or W.shape != (units, units) or b.shape != (units,):
        raise ValueError(
            f"Arguments `U`, `W`, `b` must have shapes ({x.shape[-1]}, units), (units, units), "
            f"(units,); received {U.shape}, {W.shape}, {b.shape}"
        )
    r = readout_direction(units, seed) if direction is None else np.asarray(direction, "float64")
    h = np.zeros((x.shape[0], units))
    derivatives = []
    for t in range(x.shape[1]):
        a = x[:, t] @ U + h @ W + b
        h = np.tanh(a) if activation == "tanh" else np.maximum(a, 0.0)
        derivatives.append(1.0 - h**2 if activation == "tanh" else (a > 0).astype("float64"))
    g = np.broadcast_to(r, h.shape)
    norms = [np.linalg.norm(g, axis=-1).mean()]
    for t in range(x.shape[1] - 1, 0, -1):
        g = (g * derivatives[t]) @ W.T
        norms.append(np.linalg.norm(g, axis=-1).mean())
    return np.array(norms[::-1])


def spectral_radius(W) -> float:
    """Largest absolute eigenvalue of a square matrix."""
    W = np.asarray(W, dtype="float64")
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"Argument `W` must be a square matrix; received shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_to_spectral_radius(W, radius: float) -> np.ndarray:
    """W rescaled so that its spectral radius equals `radius` (> 0)."""
    if not radius > 0:
        raise ValueError(f"Argument `radius` must be > 0; received {radius!r}")
    current = spectral_radius(W)
    if current == 0:
        raise ValueError("Argument `W` has spectral radius 0 and cannot be rescaled")
    return np.asarray(W, dtype="float64") * (radius / current)


def spectral_radius_sweep(
    radii: Sequence[float] = (0.5, 0.8, 1.0, 1.2, 1.5),
    activation: str = "tanh",
    timesteps: int = 50,
    units: int = 32,
    input_dim: int = 8,
    batch: int = 16,
    input_scale: float = 0.5,
    seed: int = 0,
) -> pd.DataFrame:
    """Gradient norms over time for a vanilla cell whose W is scaled to each radius.

    The same cell weights (U, b, the direction of W) and inputs are used for every radius;
    only the scale of W changes. Returns a tidy DataFrame `activation, radius, t, norm`.
    """
    check_positive_int(timesteps, "timesteps")
    x = np.random.default_rng(seed).normal(scale=input_scale, size=(batch, timesteps, input_dim))
    cell = make_cell("vanilla", units, seed, activation=activation, dtype="float64")
    cell.build((None, input_dim))
    W0 = cell.W.numpy()
    rows = []
    for radius in radii:
        cell.W.assign(scale_to_spectral_radius(W0, radius))
        norms = gradient_norms_over_time(cell, x, seed=seed)
        rows += [
            {"activation": activation, "radius": float(radius), "t": t, "norm": n}
            for t, n in enumerate(norms, start=1)
        ]
    return pd.DataFrame(rows)


def log_slopes(sweep: pd.DataFrame) -> pd.DataFrame:
    """Fitted growth per step going back in time, from a `spectral_radius_sweep` table.

    `slope` is the least-squares slope of log ||dL_T/dh_t|| against (T - t): negative
    means the gradient vanishes as it travels back (per step it is multiplied by about
    exp(slope)), positive means it explodes. Zero norms (underflow) are left out.
    """
    missing = {"radius", "t", "norm"} - set(sweep.columns)
    if missing:
        raise ValueError(f"Argument `sweep` lacks columns {sorted(missing)}")
    keys = ["activation", "radius"] if "activation" in sweep.columns else ["radius"]
    rows = []
    for key, group in sweep.groupby(keys, sort=True):
        group = group[group["norm"] > 0]
        steps_back = group["t"].max() - group["t"]
        slope = np.polyfit(steps_back, np.log(group["norm"]), 1)[0] if len(group) > 1 else np.nan
        rows.append(dict(zip(keys, key if isinstance(key, tuple) else (key,)), slope=slope))
    return pd.DataFrame(rows)


def clipping_effect(gradient, threshold: float) -> pd.DataFrame:
    """What clipping does to one gradient vector: by value (per entry) vs by global norm.

    Uses `tf.clip_by_value` and `tf.clip_by_norm`. Returns one row per method with the
    clipped vector, its norm and its angle (degrees) to the original direction: clipping
    by norm keeps the direction (angle 0), clipping by value can turn it.
    """
    g = np.asarray(gradient, dtype="float64")
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)):
        raise ValueError(
            f"Argument `gradient` must be a finite non-empty 1-D vector; received {g.tolist()}"
        )
    if not np.any(g):
        raise ValueError("Argument `gradient` is all zeros: it has no direction to compare")
    if not threshold > 0:
        raise ValueError(f"Argument `threshold` must be > 0; received {threshold!r}")
    clipped = {
        "none": g,
        "by value": tf.clip_by_value(g, -threshold, threshold).numpy(),
        "by norm": tf.clip_by_norm(g, threshold).numpy(),
    }

    def angle(v):
        cosine = v @ g / (np.linalg.norm(v) * np.linalg.norm(g))
        return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))

    return pd.DataFrame([
        {"method": name, "vector": v.tolist(), "norm": float(np.linalg.norm(v)),
         "angle_degrees": angle(v)}
        for name, v in clipped.items()
    ])
