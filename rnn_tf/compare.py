"""SimpleRNN vs GRU vs LSTM (and the vanilla cell) on the same task, budget and seed.

Two long-range tasks separate the cells:

- `recall_task`: one symbol, then `delay` distractor symbols; the label is the first
  symbol. The gradient that teaches it has to travel back `delay` steps.
- `adding_problem`: two marked numbers among `length` random ones; the target is their
  sum (regression; predicting the mean 1.0 gives an MSE of about 1/6). The first value is
  held for at least half the sequence, 3/4 of it on average.

`compare_cells` trains one model per cell (the recurrent layer, then a `Dense` head) and
returns a tidy `pandas.DataFrame`; `compare_over_seeds` repeats it over seeds of data and
initial weights, and `sweep_delay` over recall delays for the accuracy-vs-length plot
(`rnn_tf.plots.plot_accuracy_vs_length`); `seed_summary` reduces the runs to mean, standard
deviation and the single runs per cell.

Besides the four `CELLS`, `LAYERS` names three initialisations that help a cell carry
state over long gaps: `"irnn"` (relu vanilla cell with W = I, Le, Jaitly & Hinton 2015) and
the gated cells with chrono gate biases (`"gru_chrono"`, `"lstm_chrono"`, Tallec & Ollivier
2018; see `rnn_tf.initializers`). Every model trains with Adam and the gradients' global
norm clipped at `clip_norm` (Keras `global_clipnorm`, as `tf.clip_by_global_norm`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from rnn_tf import architectures
from rnn_tf._checks import check_choice, check_number, check_positive_int
from rnn_tf.initializers import CHRONO_CELLS, chrono_layer_arguments
from rnn_tf.layers import VanillaRNN

CELLS = architectures.CELLS
LAYERS = CELLS + ("irnn",) + CHRONO_CELLS


def recurrent_layer(cell: str, units: int, *, t_max: float | None = None) -> keras.layers.Layer:
    """The recurrent layer named `cell` (one of `LAYERS`), returning its last state h_T.

    `t_max` (the longest dependency, > 2) sets the chrono biases of `"gru_chrono"` and
    `"lstm_chrono"`; the other cells ignore it. Weights are drawn from Keras's and NumPy's
    global seeds (`keras.utils.set_random_seed`).
    """
    check_choice(cell, LAYERS, "cell")
    check_positive_int(units, "units")
    if cell == "irnn":
        return VanillaRNN(units, activation="relu", recurrent_initializer="identity")
    if cell in CHRONO_CELLS:
        gated, arguments = chrono_layer_arguments(cell, t_max)
        layer = keras.layers.LSTM if gated == "lstm" else keras.layers.GRU
        return layer(units, **arguments)
    return architectures.recurrent_layer(cell, units)


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

    The first marker falls uniformly in the first half of the sequence and the second in
    the second half, so the first marked value must be held for at least `length / 2`
    steps after it is shown, and for 3/4 of the sequence on average.
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


class _StopWhenSolved(keras.callbacks.Callback):
    """End a run at the first epoch whose validation accuracy reaches `accuracy`."""

    def __init__(self, accuracy: float):
        super().__init__()
        self.accuracy = accuracy

    def on_epoch_end(self, epoch, logs=None):
        if (logs or {}).get("val_accuracy", 0.0) >= self.accuracy:
            self.model.stop_training = True


def _build(
    cell: str, *, input_dim: int, units: int, learning_rate: float, num_classes: int | None,
    t_max: float | None, clip_norm: float,
) -> keras.Model:
    """Layer + `Dense` head: softmax over `num_classes`, or one linear output when None."""
    inputs = keras.Input((None, input_dim))
    hidden = recurrent_layer(cell, units, t_max=t_max)(inputs)
    optimizer = keras.optimizers.Adam(learning_rate, global_clipnorm=clip_norm)
    if num_classes is None:
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden), name=f"regressor_{cell}")
        model.compile(optimizer=optimizer, loss="mse")
        return model
    outputs = keras.layers.Dense(num_classes, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs, name=f"classifier_{cell}")
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _check_cell_names(cells) -> None:
    # A lone string is iterable too: "gru" would run the cells "g", "r" and "u".
    if isinstance(cells, str) or len(cells) == 0:
        raise ValueError(
            f"Argument `cells` must be a non-empty sequence of names from {LAYERS}, such "
            f"as ['gru']; received {cells!r}"
        )
    for cell in cells:
        check_choice(cell, LAYERS, "cell")  # a bad name fails before any training


def compare_cells(
    data,
    cells: Sequence[str] = CELLS,
    units: int = 32,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    seed: int = 0,
    target: float | None = None,
    t_max: float | None = None,
    clip_norm: float = 1.0,
    stop_at: float | None = None,
    verbose: int = 1,
) -> pd.DataFrame:
    """Train one model per cell on the same data, budget and seed; one row per cell.

    Args:
        data: `((x_train, y_train), (x_val, y_val))`. Integer `y` means classification
            (`many_to_one`, cross-entropy, accuracy); float `y` means regression (MSE).
        cells: names from `LAYERS`.
        units, epochs, batch_size, learning_rate: the shared budget (Adam).
        seed: the same initial seed for every cell.
        target: validation accuracy (classification, default 0.9) or validation loss
            (regression, default 0.05) that counts as "reached" for `epochs_to_target`.
        t_max: the chrono cells' longest dependency; default the sequences' length.
        clip_norm: the largest global norm of the gradients (Keras `global_clipnorm`).
        stop_at: classification only: a run ends after the first epoch whose validation
            accuracy reaches this (a solved task is not trained further); None trains
            every run for `epochs`. The final accuracy is then that epoch's.
        verbose: 1 shows a progress bar over the cells.

    Returns:
        DataFrame with columns `cell, parameters, seconds_per_epoch, final_train_loss,
        final_val_loss, final_train_accuracy, final_val_accuracy, epochs_to_target,
        diverged` (accuracies NaN for regression; epochs_to_target NaN if never reached;
        `diverged` True when the final training or validation loss is NaN or infinite:
        training stops at the first such training batch, the history keeps what was seen,
        and the row's final losses and accuracies are NaN, left out of means) and
        `attrs["histories"]` = {cell: per-epoch history dict} for the training curves.
    """
    try:
        train, validation = data
    except (TypeError, ValueError):
        raise ValueError("Argument `data` must be ((x_train, y_train), (x_val, y_val))") from None
    x, y = _check_split(train, "data[0]")
    x_val, y_val = _check_split(validation, "data[1]")
    _check_cell_names(cells)
    clip_norm = check_number(clip_norm, "clip_norm", low=0, low_open=True)
    if t_max is None:
        t_max = x.shape[1]
    classification = np.issubdtype(y.dtype, np.integer)
    num_classes = int(max(y.max(), y_val.max())) + 1 if classification else None
    if target is None:
        target = 0.9 if classification else 0.05
    callbacks = []
    if stop_at is not None:
        if not classification:
            raise ValueError("Argument `stop_at` applies to classification (integer labels); "
                             f"received stop_at={stop_at!r} for a regression task")
        callbacks.append(_StopWhenSolved(check_number(stop_at, "stop_at", low=0, high=1,
                                                      low_open=True)))

    rows, histories = [], {}
    progress = keras.utils.Progbar(len(cells), verbose=verbose, unit_name="cell")
    for i, cell in enumerate(cells, start=1):
        keras.utils.set_random_seed(seed)
        model = _build(
            cell, input_dim=x.shape[-1], units=units, learning_rate=learning_rate,
            num_classes=num_classes, t_max=t_max, clip_norm=clip_norm,
        )
        timer = _EpochTimer()
        history = model.fit(
            x, y, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
            # A run whose loss is no longer finite has nothing left to learn: stop it there.
            verbose=0, callbacks=[timer, keras.callbacks.TerminateOnNaN(), *callbacks],
        ).history
        histories[cell] = history
        if classification:
            reached = [e for e, acc in enumerate(history["val_accuracy"], 1) if acc >= target]
        else:
            reached = [e for e, loss in enumerate(history["val_loss"], 1) if loss <= target]
        final = {name: history.get(name, [np.nan])[-1]
                 for name in ("loss", "val_loss", "accuracy", "val_accuracy")}
        diverged = not np.isfinite([final["loss"], final["val_loss"]]).all()
        if diverged:  # an infinite loss would swamp every mean it joins: NaN is left out
            final = dict.fromkeys(final, np.nan)
        rows.append({
            "cell": cell,
            "parameters": model.count_params(),
            # The first epoch includes tracing; the median is the steady-state cost.
            "seconds_per_epoch": float(np.median(timer.seconds)),
            "final_train_loss": final["loss"],
            "final_val_loss": final["val_loss"],
            "final_train_accuracy": final["accuracy"],
            "final_val_accuracy": final["val_accuracy"],
            "epochs_to_target": reached[0] if reached else np.nan,
            "diverged": diverged,
        })
        progress.update(i, [("val_loss", history["val_loss"][-1])])
    table = pd.DataFrame(rows)
    table.attrs["histories"] = histories
    return table


def compare_over_seeds(
    make_data,
    cells: Sequence[str] = CELLS,
    seeds: Sequence[int] = (0,),
    n_train: int = 2000,
    n_val: int | None = None,
    verbose: int = 1,
    **budget,
) -> pd.DataFrame:
    """`compare_cells` once per seed: one row per cell and seed (a `seed` column added).

    For each seed, training data `make_data(n_train, seed)` and held-out data
    `make_data(n_val, seed + 1)` (default `n_val = n_train // 4`); that same random seed
    also fixes the initial weights. `budget` goes to `compare_cells` (units, epochs,
    learning_rate, ...).
    `attrs["histories"]` holds every run's per-epoch history, keyed "<cell>, seed <seed>".
    """
    _check_cell_names(cells)
    check_positive_int(n_train, "n_train")
    n_val = check_positive_int(max(n_train // 4, 1) if n_val is None else n_val, "n_val")
    if len(seeds) == 0:
        raise ValueError(f"Argument `seeds` must be a non-empty sequence; received {seeds!r}")
    frames, histories = [], {}
    for seed in seeds:
        data = (make_data(n_train, seed), make_data(n_val, seed + 1))
        if verbose:
            print(f"seed {seed}:")
        table = compare_cells(data, cells, seed=seed, verbose=verbose, **budget)
        histories.update({f"{cell}, seed {seed}": history
                          for cell, history in table.attrs.pop("histories").items()})
        frames.append(table.assign(seed=seed))
    runs = pd.concat(frames, ignore_index=True)
    runs.attrs["histories"] = histories  # {"<cell>, seed <seed>": per-epoch history}
    return runs


def sweep_delay(
    cells: Sequence[str] = CELLS,
    delays: Sequence[int] = (5, 10, 20, 40),
    n_train: int = 2000,
    epochs: int = 10,
    units: int = 32,
    num_symbols: int = 4,
    seed: int = 0,
    verbose: int = 1,
    seeds: Sequence[int] | None = None,
    **budget,
) -> pd.DataFrame:
    """Recall accuracy per cell as the delay grows: columns `cell, delay, seed, accuracy, ...`.

    For each delay and each seed (`seeds`, default `(seed,)`), fresh training data
    (`n_train` sequences) and a held-out set a quarter that size are generated and
    `compare_cells` runs with the same budget (`budget`: learning_rate, batch_size, ...);
    the chrono cells get `t_max = delay + 1`. `accuracy` is the final validation accuracy.
    """
    _check_cell_names(cells)
    frames = []
    for delay in delays:
        if verbose:
            print(f"delay {delay}:")
        table = compare_over_seeds(
            lambda n, s, delay=delay: recall_task(n, delay, num_symbols, seed=s),
            cells, seeds=(seed,) if seeds is None else seeds, n_train=n_train, units=units,
            epochs=epochs, verbose=verbose, **budget,
        )
        table.attrs.clear()
        frames.append(table.assign(delay=delay, accuracy=table["final_val_accuracy"]))
    return pd.concat(frames, ignore_index=True)


def seed_summary(runs: pd.DataFrame, value: str, by: Sequence[str] = ("cell",)) -> pd.DataFrame:
    """Mean, standard deviation (over seeds, ddof 1), run count and the single runs of `value`.

    One row per group of `by` (in order of first appearance); `runs` is what
    `compare_over_seeds` or `sweep_delay` returned (or any frame with those columns).
    """
    missing = [c for c in (*by, value) if c not in runs.columns]
    if missing:
        raise ValueError(
            f"Argument `runs` must have the columns {[*by, value]}; missing {missing}"
        )
    groups = runs.groupby(list(by), sort=False)[value]
    table = groups.agg(["mean", "std", "count"]).reset_index()
    table["runs"] = list(groups.agg(lambda v: ", ".join(f"{x:.3g}" for x in v)))
    return table
