"""Gate-bias initialisers: the "chrono" initialisation of Tallec & Ollivier (2018).

A gate at bias b keeps sigma(b) of its state per step when its input terms are small, so
sigma(b)^T after T steps. A gated cell whose keep gate starts near one half forgets a
symbol within a few steps, before training has had a gradient to open the gate. The
chrono initialisation ("Can recurrent neural networks warp time?", ICLR 2018) spreads the
keep biases so that the cell's time scales, about 1 / (1 - sigma(b)), cover 1 to T_max:

    LSTM  b_f ~ log U(1, T_max - 1),  b_i = -b_f,  the other biases 0
    GRU   the update gate z plays the forget gate (Keras keeps h_t = z h_{t-1} + (1 - z) h~),
          so b_z ~ log U(1, T_max - 1), the other biases 0

Use with `keras.layers.LSTM(units, unit_forget_bias=False, bias_initializer=ChronoBias(...))`
(with `unit_forget_bias=True` Keras builds the bias from three slices and adds 1 to the
forget slice; the shape check catches that unless `units` is a multiple of 4, so always pass
`unit_forget_bias=False`) or `keras.layers.GRU(units, bias_initializer=ChronoBias("gru", ...))`.
"""

from __future__ import annotations

import keras
import numpy as np

from rnn_tf._checks import check_choice, check_number

__all__ = ["ChronoBias", "chrono_bias"]


def chrono_bias(cell: str, units: int, t_max: float, rng: np.random.Generator,
                reset_after: bool = True) -> np.ndarray:
    """The chrono bias of a Keras `"lstm"` or `"gru"` cell as a NumPy array of Keras's shape.

    LSTM: `(4 units,)` in Keras's gate order i, f, g, o. GRU: gate order z, r, h; with
    `reset_after=True` Keras keeps two bias rows `(2, 3 units)` (input and recurrent) that
    are added inside z, so the draw goes in row 0 and row 1 stays 0.
    """
    check_choice(cell, ("lstm", "gru"), "cell")
    check_number(units, "units", low=1, integer=True)
    check_number(t_max, "t_max", low=2, low_open=True)
    keep = np.log(rng.uniform(1.0, t_max - 1.0, size=units))
    zeros = np.zeros(units)
    if cell == "lstm":
        return np.concatenate([-keep, keep, zeros, zeros])
    row = np.concatenate([keep, zeros, zeros])
    return np.stack([row, np.zeros_like(row)]) if reset_after else row


class ChronoBias(keras.initializers.Initializer):
    """A Keras bias initialiser for `LSTM`/`GRU` layers: see `chrono_bias`.

    Args:
        cell: `"lstm"` or `"gru"`.
        t_max: the longest dependency the task needs (e.g. the recall delay + 1); must be > 2.
        seed: integer seed; None draws it from NumPy's global generator, which
            `keras.utils.set_random_seed` seeds.
    """

    def __init__(self, cell: str, t_max: float, seed: int | None = None):
        self.cell = check_choice(cell, ("lstm", "gru"), "cell")
        self.t_max = float(check_number(t_max, "t_max", low=2, low_open=True))
        self.seed = seed

    def __call__(self, shape, dtype=None):
        shape = tuple(int(d) for d in shape)
        gates = 4 if self.cell == "lstm" else 3
        units = shape[-1] // gates if shape else 0
        allowed = [(4 * units,)] if self.cell == "lstm" else [(2, 3 * units), (3 * units,)]
        if units == 0 or shape not in allowed:
            hint = (" (with unit_forget_bias=True Keras asks for slices of it: pass "
                    "unit_forget_bias=False)" if self.cell == "lstm" else "")
            raise ValueError(
                f"Argument `shape` must be the bias shape of a Keras {self.cell.upper()} "
                f"layer, {' or '.join(map(str, allowed))} for {units} units{hint}; "
                f"received shape={shape}"
            )
        seed = self.seed if self.seed is not None else int(np.random.randint(2**31 - 1))
        bias = chrono_bias(self.cell, units, self.t_max,
                           np.random.default_rng(seed), reset_after=len(shape) == 2)
        return keras.ops.convert_to_tensor(bias, dtype=dtype or keras.config.floatx())

    def get_config(self):
        return {"cell": self.cell, "t_max": self.t_max, "seed": self.seed}


CHRONO_CELLS = ("gru_chrono", "lstm_chrono")


def chrono_layer_arguments(name: str, t_max: float | None) -> tuple[str, dict]:
    """For `"gru_chrono"` or `"lstm_chrono"`: the Keras cell family (`"gru"`, `"lstm"`) and
    the constructor arguments that give it chrono biases for dependencies up to `t_max`.

    The LSTM needs `unit_forget_bias=False`: Keras would otherwise build its bias in slices
    and add 1 to the forget gate's.
    """
    check_choice(name, CHRONO_CELLS, "name")
    if t_max is None:
        raise ValueError(f"Argument `t_max` must be a number > 2 for {name!r}; received None")
    gated = name.split("_")[0]
    arguments = {"bias_initializer": ChronoBias(gated, t_max)}
    if gated == "lstm":
        arguments["unit_forget_bias"] = False
    return gated, arguments
