"""Regenerate every tutorial figure headless: `rnn-tf figures --out DIR` (and `make reproduce`).

Each figure is computed from real runs of the package (a built layer, the reference BPTT,
the gradient lab, a cell comparison), seeded, then drawn by one `rnn_tf.plots` function
and written as PNG and SVG. `quick=True` shrinks every run for tests.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Sequence

import keras
import numpy as np
import pandas as pd

from rnn_tf import plots


def _unrolled_rnn(quick: bool):
    from rnn_tf import VanillaRNN

    layer = VanillaRNN(16, output_dim=4)
    layer.build((None, None, 3))
    return plots.plot_unrolled_rnn(layer, timesteps=4)


def _gate_cell(kind: str):
    """A GRU or LSTM cell figure with the weight shapes of a built Keras cell."""
    cell = keras.layers.GRUCell(32) if kind == "gru" else keras.layers.LSTMCell(32)
    cell.build((None, 4))
    return plots.plot_gru_cell(cell) if kind == "gru" else plots.plot_lstm_cell(cell)


def _bptt(quick: bool):
    from rnn_tf.bptt import RNNParams, bptt

    rng = np.random.default_rng(0)
    params = RNNParams.random(input_dim=3, units=8, output_dim=4, seed=0)
    x = rng.normal(size=(16, 4, 3))
    y = rng.integers(0, 4, size=(16, 4))
    return plots.plot_bptt(step_losses=bptt(params, x, y).step_losses)


def _gradient_norms(quick: bool):
    from rnn_tf import compare, diagnostics

    steps = 12 if quick else 60
    x = np.random.default_rng(0).normal(size=(8, steps, 8)).astype("float32")
    norms = diagnostics.gradient_norms_by_cell(compare.CELLS, x, units=32, seed=0)
    return plots.plot_gradient_norms(norms)


def _spectral_radius_sweep(quick: bool):
    from rnn_tf import diagnostics

    steps = 12 if quick else 50
    frames = [
        diagnostics.spectral_radius_sweep(
            radii=(0.5, 0.8, 1.0, 1.2, 1.5), activation=activation, timesteps=steps, seed=0
        )
        for activation in ("tanh", "relu")
    ]
    return plots.plot_spectral_radius_sweep(pd.concat(frames, ignore_index=True))


def _clipping(quick: bool):
    return plots.plot_clipping(np.array([[3.0, 0.5], [0.4, 2.5]]), threshold=1.0)


def _comparison(quick: bool):
    """Train the four cells on one recall task: curves and the summary chart."""
    from rnn_tf import compare

    delay = 5 if quick else 40
    n = 256 if quick else 3000
    data = compare.recall_task(n, delay=delay, seed=0)
    validation = compare.recall_task(n // 4, delay=delay, seed=1)
    table = compare.compare_cells(
        (data, validation), units=32, epochs=2 if quick else 15, seed=0, verbose=0
    )
    return table


def _sweep(quick: bool):
    from rnn_tf import compare

    return compare.sweep_delay(
        compare.CELLS,
        delays=(2, 4) if quick else (10, 40, 100),
        n_train=256 if quick else 2000,
        epochs=2 if quick else 20,
        seed=0,
        verbose=0,
    )


def render_all(
    out: str | os.PathLike = "figures",
    formats: Sequence[str] = ("png", "svg"),
    quick: bool = False,
    verbose: int = 1,
) -> list[pathlib.Path]:
    """Compute and write every tutorial figure; returns the written files.

    Args:
        out: output folder (created).
        formats: file formats per figure.
        quick: tiny runs (seconds) instead of the tutorial sizes (a few CPU minutes).
        verbose: 1 shows a progress bar.

    Returns:
        The paths written, `len(formats)` per figure.
    """
    out = pathlib.Path(out)
    keras.utils.set_random_seed(0)
    simple: list[tuple[str, Callable]] = [
        ("unrolled_rnn", _unrolled_rnn),
        ("rnn_types", lambda quick: plots.plot_rnn_types()),
        ("bptt", _bptt),
        ("gradient_norms", _gradient_norms),
        ("spectral_radius_sweep", _spectral_radius_sweep),
        ("clipping", _clipping),
        ("gru_cell", lambda quick: _gate_cell("gru")),
        ("lstm_cell", lambda quick: _gate_cell("lstm")),
    ]
    progress = keras.utils.Progbar(len(simple) + 2, verbose=verbose, unit_name="figure")
    written: list[pathlib.Path] = []
    for i, (name, make) in enumerate(simple, start=1):
        written += plots.save_figure(make(quick), out / name, formats=formats)
        progress.update(i)

    table = _comparison(quick)
    written += plots.save_figure(
        plots.plot_training_curves(table.attrs["histories"]), out / "training_curves",
        formats=formats,
    )
    written += plots.save_figure(
        plots.plot_comparison_table(table), out / "comparison", formats=formats
    )
    table.to_csv(out / "comparison.csv", index=False)
    progress.update(len(simple) + 1)

    sweep = _sweep(quick)
    written += plots.save_figure(
        plots.plot_accuracy_vs_length(sweep, chance=0.25), out / "accuracy_vs_delay",
        formats=formats,
    )
    sweep.to_csv(out / "accuracy_vs_delay.csv", index=False)
    progress.update(len(simple) + 2)
    return written
