"""SimpleRNN vs GRU vs LSTM (and the vanilla cell) on the same task, budget and seed.

Two long-range tasks separate the cells:

- `recall_task`: one symbol, then `delay` distractor symbols; the label is the first
  symbol. The gradient that teaches it has to travel back `delay` steps.
- `adding_problem`: two marked numbers among `length` random ones; the target is their
  sum (regression; predicting the mean 1.0 gives an MSE of about 1/6).

`compare_cells` trains one `architectures.many_to_one` model per cell and returns a tidy
`pandas.DataFrame`; `sweep_delay` repeats the recall task over delays for the
accuracy-vs-length plot (`rnn_tf.plots.plot_accuracy_vs_length`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from rnn_tf import architectures
from rnn_tf._checks import check_positive_int
from rnn_tf.metrics import compile_for_tokens

CELLS = architectures.CELLS


def recall_task(
    n: int, delay: int, num_symbols: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Copy/recall after a delay: `x (n, delay + 1, num_symbols)` one-hot, `y (n,)` ints.

    Step 1 shows the symbol to remember; the next `delay` steps show random
    distractor symbols from the same alphabet. Chance accuracy is `1 / num_symbols`.
    """
    check_positive_int(n, "n")
    check_positive_int(delay, "delay")
    if isinstance(num_symbols, bool) or not isinstance(num_symbols, int) or num_symbols < 2:
        raise ValueError(
            f"Argument `num_symbols` must be an integer >= 2; received {num_symbols!r}"
        )
    rng = np.random.default_rng(seed)
    symbols = rng.integers(0, num_symbols, size=(n, delay + 1))
    x = np.eye(num_symbols, dtype="float32")[symbols]
    return x, symbols[:, 0].astype("int32")


def adding_problem(n: int, length: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: `x (n, length, 2)` = (value in [0, 1), marker), `y (n,)` = sum.

    One marker falls in the first half of the sequence and one in the second, so the
    first marked value must be held for about `length / 2` steps.
    """
    check_positive_int(n, "n")
    if isinstance(length, bool) or not isinstance(length, int) or length < 2:
        raise ValueError(f"Argument `length` must be an integer >= 2; received {length!r}")
    rng = np.random.default_rng(seed)
    values = rng.random((n, length))
    markers = np.zeros((n, length))
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    x = np.stack([values, markers], axis=-1).astype("float32")
    y = (values[np.arange(n), first] + values[np.arange(n), second]).astype("float32")
    return x, y


def _check_split(data, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        x, y = data
    except (TypeError, ValueError):
        raise ValueError(f"Argument `{name}` must be a pair (x, y) of arrays") from None
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 3 or len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"Argument `{name}` must be (x, y) with x of shape (n, timesteps, features) and "
            f"y of length n > 0; received x {x.shape}, y {y.shape}"
        )
    return x, y


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _build(
    cell: str, *, input_dim: int, units: int, learning_rate: float, num_classes: int | None
) -> keras.Model:
    """A `many_to_one` classifier, or a regressor (one linear output) when `num_classes` is None."""
    if num_classes is not None:
        model = architectures.many_to_one(
            num_classes, cell=cell, units=units, input_dim=input_dim
        )
        return compile_for_tokens(model, learning_rate=learning_rate)
    inputs = keras.Input((None, input_dim))
    hidden = architectures.recurrent_layer(cell, units)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden), name=f"regressor_{cell}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0), loss="mse")
    return model


def _check_cell_names(cells) -> None:
    # A lone string is iterable too: "gru" would run the cells "g", "r" and "u".
    if isinstance(cells, str) or len(cells) == 0:
        raise ValueError(
            f"Argument `cells` must be a non-empty sequence of names from {CELLS}, such "
            f"as ['gru']; received {cells!r}"
        )
    for cell in cells:
        architectures.recurrent_layer(cell, 1)  # a bad name fails before any training


def compare_cells(
    data,
    cells: Sequence[str] = CELLS,
    units: int = 32,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    seed: int = 0,
    target: float | None = None,
    verbose: int = 1,
) -> pd.DataFrame:
    """Train one model per cell on the same data, budget and seed; one row per cell.

    Args:
        data: `((x_train, y_train), (x_val, y_val))`. Integer `y` means classification
            (`many_to_one`, cross-entropy, accuracy); float `y` means regression (MSE).
        cells: names from `CELLS`.
        units, epochs, batch_size, learning_rate: the shared budget (Adam, clipnorm 1).
        seed: the same initial seed for every cell.
        target: validation accuracy (classification, default 0.9) or validation loss
            (regression, default 0.05) that counts as "reached" for `epochs_to_target`.
        verbose: 1 shows a progress bar over the cells.

    Returns:
        DataFrame with columns `cell, parameters, seconds_per_epoch, final_train_loss,
        final_val_loss, final_train_accuracy, final_val_accuracy, epochs_to_target`
        (accuracies NaN for regression; epochs_to_target NaN if never reached) and
        `attrs["histories"]` = {cell: per-epoch history dict} for the training curves.
    """
    try:
        train, validation = data
    except (TypeError, ValueError):
        raise ValueError("Argument `data` must be ((x_train, y_train), (x_val, y_val))") from None
    x, y = _check_split(train, "data[0]")
    x_val, y_val = _check_split(validation, "data[1]")
    _check_cell_names(cells)
    classification = np.issubdtype(y.dtype, np.integer)
    num_classes = int(max(y.max(), y_val.max())) + 1 if classification else None
    if target is None:
        target = 0.9 if classification else 0.05

    rows, histories = [], {}
    progress = keras.utils.Progbar(len(cells), verbose=verbose, unit_name="cell")
    for i, cell in enumerate(cells, start=1):
        keras.utils.set_random_seed(seed)
        model = _build(
            cell, input_dim=x.shape[-1], units=units, learning_rate=learning_rate,
            num_classes=num_classes,
        )
        timer = _EpochTimer()
        history = model.fit(
            x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
            verbose=0, callbacks=[timer],
        ).history
        histories[cell] = history
        if classification:
            reached = [e for e, acc in enumerate(history["val_accuracy"], 1) if acc >= target]
        else:
            reached = [e for e, loss in enumerate(history["val_loss"], 1) if loss <= target]
        rows.append({
            "cell": cell,
            "parameters": model.count_params(),
            # The first epoch includes tracing; the median is the steady-state cost.
            "seconds_per_epoch": float(np.median(timer.seconds)),
            "final_train_loss": history["loss"][-1],
            "final_val_loss": history["val_loss"][-1],
            "final_train_accuracy": history.get("accuracy", [np.nan])[-1],
            "final_val_accuracy": history.get("val_accuracy", [np.nan])[-1],
            "epochs_to_target": reached[0] if reached else np.nan,
        })
        progress.update(i, [("val_loss", history["val_loss"][-1])])
    table = pd.DataFrame(rows)
    table.attrs["histories"] = histories
    return table


def sweep_delay(
    cells: Sequence[str] = CELLS,
    delays: Sequence[int] = (5, 10, 20, 40),
    n_train: int = 2000,
    epochs: int = 10,
    units: int = 32,
    num_symbols: int = 4,
    seed: int = 0,
    verbose: int = 1,
) -> pd.DataFrame:
    """Recall accuracy per cell as the delay grows: columns `cell, delay, accuracy, ...`.

    For each delay, fresh training data (`n_train` sequences) and a held-out set a
    quarter that size are generated and `compare_cells` runs with the same budget.
    `accuracy` is the final validation accuracy.
    """
    _check_cell_names(cells)
    frames = []
    for delay in delays:
        train = recall_task(n_train, delay, num_symbols, seed=seed)
        validation = recall_task(max(n_train // 4, 1), delay, num_symbols, seed=seed + 1)
        if verbose:
            print(f"delay {delay}:")
        table = compare_cells(
            (train, validation), cells, units=units, epochs=epochs, seed=seed, verbose=verbose
        )
        frames.append(table.assign(delay=delay, accuracy=table["final_val_accuracy"]))
    return pd.concat(frames, ignore_index=True)
