"""Training figures: learning curves, the cell comparison table, and accuracy vs sequence length.

They take plain data, each in one form: a dict of `History.history` dicts for the
curves, and the tidy DataFrames that `rnn_tf.compare` returns for the other two
(`compare_cells` and `sweep_delay`), so they never need a model.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.figure
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from rnn_tf.plots import _style as S
from rnn_tf.plots._inputs import numeric_column, require_frame

__all__ = ["plot_training_curves", "plot_comparison_table", "plot_accuracy_vs_length"]

# The columns of `rnn_tf.compare.compare_cells`: (column, panel title, axis label, kind).
_COMPARISON_PANELS = (
    ("final_val_accuracy", "validation accuracy", "fraction correct, higher is better", "acc"),
    # compare_cells trains with cross-entropy (nats) or, on regression tasks, MSE.
    ("final_val_loss", "validation loss", "the task's loss, lower is better", "loss"),
    ("seconds_per_epoch", "training time", "seconds per epoch, lower is better", "time"),
    ("parameters", "parameters", "trainable parameters (count)", "params"),
)
_CURVE_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")


# --- learning curves ----------------------------------------------------------------


def _history_dict(name: str, history) -> Mapping:
    if not isinstance(history, Mapping) and isinstance(getattr(history, "history", None), Mapping):
        raise ValueError(
            f"Argument `histories` entry {name!r} is a {type(history).__name__} object; pass "
            "its per-epoch dict instead: {name: history.history}"
        )
    if not isinstance(history, Mapping) or "loss" not in history:
        received = (
            f"a dict with keys {list(history)}"
            if isinstance(history, Mapping)
            else type(history).__name__
        )
        raise ValueError(
            "Argument `histories` must map each model name to a `History.history` dict "
            f"with at least a 'loss' list; entry {name!r} is {received}"
        )
    return history


def _curve(logs: Mapping, key: str, name: str) -> np.ndarray:
    try:
        values = np.asarray(logs[key], dtype=float)
    except (TypeError, ValueError):
        values = np.empty((0, 0))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"Argument `histories` entry {name!r}: '{key}' must be a non-empty list of numbers "
            "(one per epoch)"
        )
    return values


def plot_training_curves(
    histories, *, loss_label: str = "loss (the training objective)"
) -> matplotlib.figure.Figure:
    """Loss (and accuracy, when recorded) per epoch, one colour per model.

    Training curves are solid, validation curves dashed in the same colour, so a
    widening gap between the two reads as overfitting.

    Args:
        histories: Dict `{model_name: history.history}`: for each model, the per-epoch
            dict that `model.fit(...).history` (or `BPTTTrainer.fit(...).history`)
            holds. `"loss"` is required; `"val_loss"`, `"accuracy"` and
            `"val_accuracy"` are drawn when present, other keys are ignored. Every
            list has one value per epoch.
        loss_label: y-axis label of the loss panel: what the loss is, e.g.
            "cross-entropy (nats)" or "mean squared error".

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    history = model.fit(x, y, validation_split=0.2, epochs=10)
    fig = plot_training_curves({"vanilla": history.history, "lstm": lstm_history.history})
    ```
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(
            "Argument `histories` must be a non-empty dict {model_name: History.history "
            f"dict with 'loss'}}; received {type(histories).__name__}"
            f"{' (empty)' if isinstance(histories, Mapping) else ''}"
        )
    curves = {}
    for name, history in histories.items():
        logs = _history_dict(name, history)
        loss = _curve(logs, "loss", name)
        entry = {"loss": loss}
        for key in _CURVE_KEYS[1:]:
            if key in logs:
                entry[key] = _curve(logs, key, name)
                if entry[key].size != loss.size:
                    raise ValueError(
                        f"Argument `histories` entry {name!r}: '{key}' has {entry[key].size} "
                        f"values but 'loss' has {loss.size}; expected one value per epoch "
                        "(with validation_freq > 1, pass the epochs you validated on only)"
                    )
        curves[str(name)] = entry

    has_accuracy = any("accuracy" in entry for entry in curves.values())
    has_validation = any("val_loss" in entry for entry in curves.values())
    fig = S.new_figure((12.0 if has_accuracy else 7.5, 5.0))
    axes = fig.subplots(1, 2 if has_accuracy else 1, squeeze=False)[0]
    metrics = [("loss", axes[0])] + ([("accuracy", axes[1])] if has_accuracy else [])
    for i, (name, entry) in enumerate(curves.items()):
        color = S.CYCLE[i % len(S.CYCLE)]
        marker = S.MARKERS[i % len(S.MARKERS)]
        for metric, ax in metrics:
            for prefix, linestyle in (("", "-"), ("val_", "--")):
                values = entry.get(prefix + metric)
                if values is None:
                    continue
                epochs = np.arange(1, values.size + 1)
                ax.plot(
                    epochs,
                    values,
                    color=color,
                    linestyle=linestyle,
                    marker=marker,
                    ms=4,
                    markevery=max(1, values.size // 10),
                    lw=2,
                )
    axes[0].set_ylabel(loss_label, fontsize=10)
    axes[0].set_title("loss (lower is better)", fontsize=12)
    if has_accuracy:
        axes[1].set_ylabel("accuracy (fraction correct)", fontsize=10)
        axes[1].set_title("accuracy (higher is better)", fontsize=12)
    for ax in axes:
        ax.set_xlabel("epoch", fontsize=S.LABEL_SIZE)
        ax.grid(alpha=0.3)
        # Epochs are whole numbers.
        ax.xaxis.get_major_locator().set_params(integer=True)
    handles = [
        Line2D(
            [],
            [],
            color=S.CYCLE[i % len(S.CYCLE)],
            marker=S.MARKERS[i % len(S.MARKERS)],
            lw=2,
            label=name,
        )
        for i, name in enumerate(curves)
    ]
    handles.append(Line2D([], [], color=S.GREY, lw=2, label="training"))
    if has_validation:
        handles.append(Line2D([], [], color=S.GREY, lw=2, linestyle="--", label="validation"))
    fig.legend(handles=handles, loc="outside right center", fontsize=10, frameon=False)
    fig.suptitle(
        f"Learning curves: {'loss and accuracy' if has_accuracy else 'loss'} per epoch",
        fontsize=S.TITLE_SIZE,
    )
    return fig


# --- comparison table ---------------------------------------------------------------


def plot_comparison_table(df) -> matplotlib.figure.Figure:
    """The cell comparison as bar panels: accuracy, loss, seconds per epoch, parameters.

    One horizontal bar per cell in every panel, same colour per cell across panels.
    Several rows per cell (e.g. seeds) are averaged, with the standard deviation as
    an error bar.

    Args:
        df: The DataFrame `rnn_tf.compare.compare_cells` returns, or any DataFrame
            with its column names: `cell` (the name on each bar) and at least one of
            `final_val_accuracy` (fractions in [0, 1]), `final_val_loss`,
            `seconds_per_epoch` and `parameters`; one panel per column present with at
            least one value (so a regression task's all-NaN accuracy gets none). An
            optional boolean `diverged` column marks runs whose loss stopped being finite:
            their NaN values are left out of the means, and the cell's label says how
            many of its runs diverged. Other columns are ignored.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    table = pd.DataFrame({"cell": ["vanilla", "gru", "lstm"],
                          "parameters": [4_353, 12_993, 17_217],
                          "seconds_per_epoch": [1.2, 2.9, 3.4],
                          "final_val_accuracy": [0.71, 0.86, 0.87]})
    fig = plot_comparison_table(table)
    ```
    """
    metric_columns = [column for column, *_ in _COMPARISON_PANELS]
    frame = require_frame(df, "df", ["cell"], optional=metric_columns)
    # A column with no value at all (accuracy on a regression task) gets no empty panel.
    panels = [panel for panel in _COMPARISON_PANELS
              if panel[0] in frame.columns and frame[panel[0]].notna().any()]
    if not panels:
        raise ValueError(
            "Argument `df` has no metric column to plot: expected at least one of "
            f"{metric_columns}; received columns {list(map(str, frame.columns))}"
        )
    cells = [str(c) for c in pd.unique(frame["cell"])]
    names = frame["cell"].astype(str)

    fig = S.new_figure((3.6 * len(panels) + 1.2, 1.3 + 0.55 * len(cells) + 1.6))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    positions = np.arange(len(cells))
    colors = [S.CYCLE[i % len(S.CYCLE)] for i in range(len(cells))]
    for ax, (column, title, label, kind) in zip(axes, panels):
        values = pd.Series(numeric_column(frame, column, "df"), index=frame.index)
        if kind == "acc" and ((values < 0) | (values > 1)).any():
            raise ValueError(
                f"Argument `df` column '{column}' must hold accuracies as fractions in [0, 1]; "
                f"received values from {values.min():g} to {values.max():g}"
            )
        grouped = values.groupby(names, sort=False)
        means = grouped.mean().reindex(cells).to_numpy()
        spread = grouped.std().reindex(cells).fillna(0.0).to_numpy()
        ax.barh(
            positions,
            means,
            color=colors,
            edgecolor="#333333",
            height=0.6,
            xerr=spread if spread.any() else None,
            capsize=3,
        )
        for y, value, error in zip(positions, means, spread):
            text = f"{value:,.0f}" if kind == "params" else f"{value:.3g}"
            # Start the number past the error bar's cap so the two never overlap.
            ax.annotate(
                text,
                (value + error, y),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=9.5,
            )
        ax.set_xlabel(label, fontsize=10)
        ax.set_title(title, fontsize=12)
        ax.grid(axis="x", alpha=0.3)
        ax.set_axisbelow(True)
        ax.margins(x=0.25)
        if kind == "acc":
            ax.set_xlim(0, 1.15)
        if kind == "params":
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.tick_params(axis="x", labelrotation=30)
    labels = cells
    if "diverged" in frame.columns:
        diverged = frame["diverged"].eq(True).groupby(names, sort=False).agg(["sum", "count"])
        labels = [f"{cell}\n({n} of {total} diverged)" if n else cell
                  for cell, (n, total) in zip(cells, diverged.reindex(cells).to_numpy())]
    axes[0].set_yticks(positions, labels, fontsize=11)
    axes[0].invert_yaxis()
    axes[0].set_ylabel("cell", fontsize=S.LABEL_SIZE)
    repeated = names.value_counts().max() > 1
    fig.suptitle(
        "Cells compared on one task" + (" (mean ± std over runs)" if repeated else ""),
        fontsize=S.TITLE_SIZE,
    )
    return fig




# --- accuracy against sequence length -----------------------------------------------


def plot_accuracy_vs_length(df, chance: float | None = None) -> matplotlib.figure.Figure:
    """Accuracy against the recall delay per cell: how far back each cell remembers.

    Several rows per (cell, delay), e.g. seeds, are averaged; the band shows their
    min–max range.

    Args:
        df: The DataFrame `rnn_tf.compare.sweep_delay` returns, or any DataFrame with
            its columns `cell`, `delay` (time steps between the symbol to remember
            and the answer) and `accuracy` (fractions in [0, 1]); other columns are
            ignored.
        chance: Optional accuracy of guessing (e.g. 0.5 for two classes), drawn as
            a dotted line.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    rows = [{"cell": c, "delay": d, "accuracy": a} for c, d, a in results]
    fig = plot_accuracy_vs_length(pd.DataFrame(rows), chance=0.5)
    ```
    """
    frame = require_frame(df, "df", ["cell", "delay", "accuracy"])
    x = numeric_column(frame, "delay", "df")
    y = numeric_column(frame, "accuracy", "df")
    if np.nanmin(y) < 0 or np.nanmax(y) > 1:
        raise ValueError(
            "Argument `df` column 'accuracy' must hold accuracies as fractions in [0, 1]; "
            f"received values from {np.nanmin(y):g} to {np.nanmax(y):g}"
        )
    if chance is not None and not 0 <= float(chance) <= 1:
        raise ValueError(f"Argument `chance` must be a fraction in [0, 1]; received {chance!r}")
    tidy = pd.DataFrame({"cell": frame["cell"].astype(str), "x": x, "y": y})

    fig = S.new_figure((8.5, 5.2))
    ax = fig.add_subplot()
    repeated = False
    for i, (cell, part) in enumerate(tidy.groupby("cell", sort=False)):
        stats = part.groupby("x")["y"].agg(["mean", "min", "max", "count"]).sort_index()
        line_style = S.style(i)
        ax.plot(stats.index, stats["mean"], label=cell, lw=2, ms=6, **line_style)
        if (stats["count"] > 1).any():
            repeated = True
            ax.fill_between(
                stats.index,
                stats["min"],
                stats["max"],
                color=line_style["color"],
                alpha=0.15,
                lw=0,
            )
    if chance is not None:
        ax.axhline(float(chance), color=S.GREY, linestyle=":", lw=1.5, label=f"chance ({chance:g})")
    ax.set_xlabel("delay (time steps between the symbol and the answer)", fontsize=S.LABEL_SIZE)
    ax.set_ylabel("accuracy (fraction correct)", fontsize=S.LABEL_SIZE)
    ax.set_ylim(-0.02, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(title="cell" + (" (band: min–max over runs)" if repeated else ""), fontsize=10)
    fig.suptitle(
        "Accuracy as the delay grows: how far back each cell remembers", fontsize=S.TITLE_SIZE
    )
    return fig
