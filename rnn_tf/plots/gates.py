"""The gated cells drawn with their gates: the GRU and the LSTM, in Keras' row-vector form.

Both figures are drawn with matplotlib patches in data coordinates, like the vanilla
diagrams, and write the equations exactly as `keras.layers.GRUCell` (default
`reset_after=True`) and `keras.layers.LSTMCell` compute them, with the gates in the
order their stacked kernels hold them:

    GRU   kernel U (input_dim, 3·units) = [U_z | U_r | U_h],  W (units, 3·units) likewise,
          bias (2, 3·units): row 0 the input biases b, row 1 the recurrent biases b'
          z_t = σ(x_t U_z + h_{t-1} W_z + b_z + b'_z)          update gate
          r_t = σ(x_t U_r + h_{t-1} W_r + b_r + b'_r)          reset gate
          h~_t = tanh(x_t U_h + b_h + r_t ⊙ (h_{t-1} W_h + b'_h))
          h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ h~_t             (z_t = 1 keeps the old state)

    LSTM  kernel U (input_dim, 4·units) = [U_i | U_f | U_g | U_o], bias (4·units,)
          i_t, f_t, o_t = σ(x_t U_• + h_{t-1} W_• + b_•),   g_t = tanh(x_t U_g + h_{t-1} W_g + b_g)
          c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t,   h_t = o_t ⊙ tanh(c_t)
"""

from __future__ import annotations

import matplotlib.figure
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyBboxPatch, Patch

from rnn_tf.plots import _style as S

__all__ = ["plot_gru_cell", "plot_lstm_cell", "plot_gates_along_sequence"]

# A sigmoid gate outputs a fraction in (0, 1); a tanh layer a value in (-1, 1).
_SIGMOID = {"facecolor": "#FBE6BC", "edgecolor": S.ORANGE}
_TANH = {"facecolor": "#D4EBF8", "edgecolor": S.BLUE}
_CELL = {"facecolor": "#F6F6F6", "edgecolor": S.GREY}
_LINE = "#333333"
_STATE_WIDTH = 3.2  # the carried state (h for the GRU, c for the LSTM) is drawn thicker
_OP_RADIUS = 0.3


def _box(ax: Axes, xy, text: str, colors: dict, width=1.5, height=0.95, fontsize=11.5):
    x, y = xy
    patch = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0.02,rounding_size=0.12",
        linewidth=1.8,
        zorder=3,
        **colors,
    )
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4, linespacing=1.3)
    return patch


def _op(ax: Axes, xy, symbol: str) -> Circle:
    """A pointwise operation (⊙, +, 1−) as a small circle."""
    patch = Circle(xy, _OP_RADIUS, facecolor="white", edgecolor=_LINE, linewidth=1.6, zorder=3)
    ax.add_patch(patch)
    ax.text(*xy, symbol, ha="center", va="center", fontsize=13, zorder=4)
    return patch


def _wire(ax: Axes, points, target=None, *, width: float = 1.8, color: str = _LINE) -> None:
    """A wire through `points`; the last segment ends in an arrow clipped at `target`.

    Wires start at the centre of the box they leave: boxes sit above wires (zorder),
    so only the visible part shows.
    """
    xs, ys = zip(*points)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=color, lw=width, zorder=1, solid_capstyle="round")
    S.arrow(ax, points[-2], points[-1], color, patch_b=target, linewidth=width)


def _line(ax: Axes, points, *, width: float = 1.8, color: str = _LINE) -> None:
    xs, ys = zip(*points)
    ax.plot(xs, ys, color=color, lw=width, zorder=1, solid_capstyle="round")


def _cell_frame(ax: Axes, xlim, ylim, cell_box) -> None:
    S.diagram_axes(ax, xlim, ylim)
    (x0, y0), (x1, y1) = cell_box
    ax.add_patch(
        FancyBboxPatch(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            boxstyle="round,pad=0.05,rounding_size=0.4",
            linewidth=1.6,
            zorder=0,
            **_CELL,
        )
    )


def _legend(fig: matplotlib.figure.Figure, state: str) -> None:
    handles = [
        Patch(**_SIGMOID, label=r"gate $\sigma$: a fraction in (0, 1) per unit"),
        Patch(**_TANH, label=r"tanh: a value in (−1, 1)"),
        Line2D([], [], color=_LINE, marker="o", markerfacecolor="white", linestyle="",
               markersize=11, label=r"pointwise op: $\odot$ (times), +, 1−"),
        Line2D([], [], color=_LINE, lw=_STATE_WIDTH, label=f"carried state {state}"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=10.5, frameon=False)


def _stacked_weights(layer, kind: str, gates: int) -> tuple[int, int, tuple[int, ...]]:
    """(input_dim, units, bias shape) of a built Keras GRU/LSTM layer or cell."""
    cell = getattr(layer, "cell", layer)
    expected = {"GRU": "keras.layers.GRU / GRUCell", "LSTM": "keras.layers.LSTM / LSTMCell"}[kind]
    kernel = getattr(cell, "kernel", None)
    recurrent = getattr(cell, "recurrent_kernel", None)
    units = getattr(cell, "units", None)
    if kernel is None or recurrent is None or units is None:
        raise ValueError(
            f"Argument `layer` must be a built {expected}; build it first, e.g. "
            f"`layer.build((None, T, input_dim))`; received {type(layer).__name__} without "
            "kernel and recurrent_kernel"
        )
    k_shape, w_shape = tuple(kernel.shape), tuple(recurrent.shape)
    if k_shape[1] != gates * units or w_shape != (units, gates * units):
        raise ValueError(
            f"Argument `layer` must be a {expected} whose kernels stack {gates} blocks of "
            f"`units` columns; received kernel {k_shape} and recurrent_kernel {w_shape} "
            f"for units={units}"
        )
    if kind == "GRU" and not getattr(cell, "reset_after", True):
        raise ValueError(
            "Argument `layer` must use `reset_after=True` (the Keras default drawn here: the "
            "reset gate multiplies h_{t-1} W_h + b'_h); received reset_after=False"
        )
    bias = getattr(cell, "bias", None)
    return int(k_shape[0]), int(units), tuple(bias.shape) if bias is not None else ()


def _shape(*dims: int) -> str:
    return "×".join(str(d) for d in dims)


# Rows shared by both cells: the bus carrying x_t and h_{t-1}, the gates, the write path,
# and the carried state along the top.
BUS, GATE_ROW, MID, TOP = 0.9, 2.8, 4.3, 5.7


def _cell_figure(x_max: float, frame_right: float) -> tuple[matplotlib.figure.Figure, Axes]:
    """An empty cell drawing: x from -2.6 to `x_max`, the cell's frame up to `frame_right`."""
    xlim, ylim = (-2.6, x_max), (-3.6, 6.9)
    fig = S.new_figure(S.diagram_size(xlim, ylim, scale=0.74, extra_height=1.4))
    ax = fig.add_subplot()
    _cell_frame(ax, xlim, ylim, ((-0.2, 0.25), (frame_right, 6.45)))
    return fig, ax


def _caption(fig, ax, caption_x: float, lines: list[str], state: str, title: str):
    """The equations (and Keras weight shapes) under the cell, the legend and the title."""
    ax.text(caption_x, -2.45, "\n".join(lines), ha="center", va="center", fontsize=11.5,
            linespacing=1.9)
    _legend(fig, state)
    fig.suptitle(title, fontsize=S.TITLE_SIZE)
    return fig


def plot_gru_cell(layer=None) -> matplotlib.figure.Figure:
    """The GRU cell with its update gate z_t, reset gate r_t and candidate state h~_t.

    Drawn as Keras' `GRUCell` computes it (row vectors, `reset_after=True`):
    z_t = σ(x_t U_z + h_{t-1} W_z + b_z + b'_z), r_t = σ(x_t U_r + h_{t-1} W_r + b_r + b'_r),
    h~_t = tanh(x_t U_h + b_h + r_t ⊙ (h_{t-1} W_h + b'_h)) and
    h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h~_t. The carried state h runs along the top;
    z_t near 1 keeps it, z_t near 0 overwrites it with the candidate.

    Args:
        layer: Optional built `keras.layers.GRU` or `GRUCell` (default `reset_after=True`);
            its kernel, recurrent kernel and bias shapes are written under the cell.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    cell = keras.layers.GRUCell(32)
    cell.build((None, 4))
    fig = plot_gru_cell(cell)  # caption: "U: 4×96 = [U_z | U_r | U_h]" ...
    ```
    """
    shapes = _stacked_weights(layer, "GRU", 3) if layer is not None else None
    bus, gate_row, mid, top = BUS, GATE_ROW, MID, TOP
    fig, ax = _cell_figure(x_max=11.0, frame_right=8.3)

    S.node(ax, (-1.7, top), r"$h_{t-1}$", "state", width=1.1)
    h_next = S.node(ax, (10.0, top), r"$h_t$", "hidden", width=1.0)
    S.node(ax, (1.3, -0.75), r"$x_t$", "input", width=1.0)

    # The gates and the candidate all read x_t and h_{t-1} (drawn as one bus).
    _line(ax, [(0.5, top), (0.5, bus), (7.3, bus)])
    _wire(ax, [(1.3, -0.75), (1.3, bus)])
    ax.text(7.45, bus, r"$x_t,\ h_{t-1}$", ha="left", va="center", fontsize=10, color=S.GREY)

    update = _box(ax, (2.0, gate_row), "update\n" + r"$z_t=\sigma(\cdot)$", _SIGMOID)
    reset = _box(ax, (3.9, gate_row), "reset\n" + r"$r_t=\sigma(\cdot)$", _SIGMOID)
    recurrent = _box(ax, (5.45, 1.82), r"$h_{t-1}W_h+b'_h$", _TANH | {"facecolor": "white"},
                     width=1.75, height=0.5, fontsize=10)
    reset_op = _op(ax, (5.45, gate_row), r"$\odot$")
    candidate = _box(ax, (6.9, gate_row), "candidate\n" + r"$\tilde h_t=\tanh(\cdot)$", _TANH,
                     width=1.75)
    for gate, x in ((update, 2.0), (reset, 3.9), (candidate, 7.3)):
        _wire(ax, [(x, bus), (x, gate_row)], gate)
    _wire(ax, [(5.45, bus), (5.45, 1.82)], recurrent)
    _wire(ax, [(5.45, 1.82), (5.45, gate_row)], reset_op)
    _wire(ax, [(3.9, gate_row), (5.45, gate_row)], reset_op)
    _wire(ax, [(5.45, gate_row), (6.9, gate_row)], candidate)

    # h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h~_t
    keep = _op(ax, (2.0, top), r"$\odot$")
    one_minus = _op(ax, (4.0, mid), "1−")
    write = _op(ax, (6.9, mid), r"$\odot$")
    add = _op(ax, (6.9, top), "+")
    _wire(ax, [(2.0, gate_row), (2.0, top)], keep)
    _wire(ax, [(2.0, mid), (4.0, mid)], one_minus)
    _wire(ax, [(4.0, mid), (6.9, mid)], write)
    _wire(ax, [(6.9, gate_row), (6.9, mid)], write)
    _wire(ax, [(6.9, mid), (6.9, top)], add)
    _wire(ax, [(-1.7, top), (2.0, top)], keep, width=_STATE_WIDTH)
    _wire(ax, [(2.0, top), (6.9, top)], add, width=_STATE_WIDTH)
    _wire(ax, [(6.9, top), (10.0, top)], h_next, width=_STATE_WIDTH)
    ax.text(2.3, top + 0.45, r"keep: $z_t\odot h_{t-1}$", fontsize=10, color=S.GREY)
    ax.text(7.35, mid, r"write: $(1-z_t)\odot\tilde h_t$", fontsize=10, color=S.GREY,
            va="center")

    lines = [
        r"$z_t=\sigma(x_tU_z+h_{t-1}W_z+b_z+b'_z)$      "
        r"$r_t=\sigma(x_tU_r+h_{t-1}W_r+b_r+b'_r)$",
        r"$\tilde h_t=\tanh(x_tU_h+b_h+r_t\odot(h_{t-1}W_h+b'_h))$      "
        r"$h_t=z_t\odot h_{t-1}+(1-z_t)\odot\tilde h_t$",
    ]
    if shapes is not None:
        d_in, units, bias = shapes
        lines.append(
            f"Keras weights:  U (kernel) {_shape(d_in, 3 * units)} = [U_z | U_r | U_h],   "
            f"W (recurrent_kernel) {_shape(units, 3 * units)},   bias {_shape(*bias)} "
            "(row 0: b, row 1: b')"
        )
    return _caption(
        fig, ax, 4.2, lines, r"$h$ (top line)",
        r"The GRU cell: the update gate $z_t$ decides how much of $h_{t-1}$ to keep,"
        r" the reset gate $r_t$ how much of it the candidate sees",
    )


def plot_lstm_cell(layer=None) -> matplotlib.figure.Figure:
    """The LSTM cell with its input, forget and output gates and the cell state c_t.

    Drawn as Keras' `LSTMCell` computes it (row vectors, gates in the kernel's order
    i, f, g, o): i_t, f_t, o_t = σ(x_t U_• + h_{t-1} W_• + b_•),
    g_t = tanh(x_t U_g + h_{t-1} W_g + b_g), c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t and
    h_t = o_t ⊙ tanh(c_t). The cell state c runs along the top, touched only by a
    product and a sum: f_t near 1 carries it on unchanged.

    Args:
        layer: Optional built `keras.layers.LSTM` or `LSTMCell`; its kernel, recurrent
            kernel and bias shapes are written under the cell.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    cell = keras.layers.LSTMCell(32)
    cell.build((None, 4))
    fig = plot_lstm_cell(cell)  # caption: "U: 4×128 = [U_i | U_f | U_g | U_o]" ...
    ```
    """
    shapes = _stacked_weights(layer, "LSTM", 4) if layer is not None else None
    bus, gate_row, mid, top = BUS, GATE_ROW, MID, TOP
    fig, ax = _cell_figure(x_max=12.4, frame_right=10.0)

    S.node(ax, (-1.7, top), r"$c_{t-1}$", "state", width=1.1)
    S.node(ax, (-1.7, bus), r"$h_{t-1}$", "state", width=1.1)
    c_next = S.node(ax, (11.4, top), r"$c_t$", "state", width=1.0)
    h_next = S.node(ax, (11.4, bus), r"$h_t$", "hidden", width=1.0)
    S.node(ax, (1.0, -0.75), r"$x_t$", "input", width=1.0)

    _line(ax, [(-1.7, bus), (7.6, bus)])
    _wire(ax, [(1.0, -0.75), (1.0, bus)])

    gates = [
        (2.0, "forget\n" + r"$f_t=\sigma(\cdot)$", _SIGMOID),
        (3.85, "input\n" + r"$i_t=\sigma(\cdot)$", _SIGMOID),
        (5.7, "candidate\n" + r"$g_t=\tanh(\cdot)$", _TANH),
        (7.6, "output\n" + r"$o_t=\sigma(\cdot)$", _SIGMOID),
    ]
    for x, text, colors in gates:
        patch = _box(ax, (x, gate_row), text, colors, width=1.6)
        _wire(ax, [(x, bus), (x, gate_row)], patch)

    forget = _op(ax, (2.0, top), r"$\odot$")
    write = _op(ax, (5.7, mid), r"$\odot$")
    add = _op(ax, (5.7, top), "+")
    squash = _box(ax, (9.2, mid), "tanh", _TANH, width=0.9, height=0.55, fontsize=10.5)
    out = _op(ax, (9.2, gate_row), r"$\odot$")
    _wire(ax, [(2.0, gate_row), (2.0, top)], forget)
    _wire(ax, [(3.85, gate_row), (3.85, mid), (5.7, mid)], write)
    _wire(ax, [(5.7, gate_row), (5.7, mid)], write)
    _wire(ax, [(5.7, mid), (5.7, top)], add)
    _wire(ax, [(-1.7, top), (2.0, top)], forget, width=_STATE_WIDTH)
    _wire(ax, [(2.0, top), (5.7, top)], add, width=_STATE_WIDTH)
    _wire(ax, [(5.7, top), (11.4, top)], c_next, width=_STATE_WIDTH)
    _wire(ax, [(9.2, top), (9.2, mid)], squash)
    _wire(ax, [(9.2, mid), (9.2, gate_row)], out)
    _wire(ax, [(7.6, gate_row), (9.2, gate_row)], out)
    _wire(ax, [(9.2, gate_row), (9.2, bus), (11.4, bus)], h_next)
    ax.text(2.3, top + 0.45, r"forget: $f_t\odot c_{t-1}$", fontsize=10, color=S.GREY)
    ax.text(6.0, top + 0.45, r"write: $+\,i_t\odot g_t$", fontsize=10, color=S.GREY)
    ax.text(11.4, 0.2, r"$h_t=o_t\odot\tanh(c_t)$", fontsize=10, color=S.GREY, ha="center")

    lines = [
        r"$i_t=\sigma(x_tU_i+h_{t-1}W_i+b_i)$    $f_t=\sigma(x_tU_f+h_{t-1}W_f+b_f)$    "
        r"$g_t=\tanh(x_tU_g+h_{t-1}W_g+b_g)$",
        r"$o_t=\sigma(x_tU_o+h_{t-1}W_o+b_o)$      $c_t=f_t\odot c_{t-1}+i_t\odot g_t$      "
        r"$h_t=o_t\odot\tanh(c_t)$",
    ]
    if shapes is not None:
        d_in, units, bias = shapes
        lines.append(
            f"Keras weights:  U (kernel) {_shape(d_in, 4 * units)} = [U_i | U_f | U_g | U_o],   "
            f"W (recurrent_kernel) {_shape(units, 4 * units)},   bias {_shape(*bias)}"
        )
    return _caption(
        fig, ax, 4.9, lines, r"$c$ (top line)",
        r"The LSTM cell: the forget gate $f_t$ carries the cell state $c$ on, the input gate"
        r" $i_t$ writes to it, the output gate $o_t$ reads it",
    )


def plot_gates_along_sequence(gates: dict, top: int = 3) -> matplotlib.figure.Figure:
    """How much each unit keeps and writes at every step, one column per cell.

    Args:
        gates: `{cell name: {"keep": array, "write": array}}`, each array `(n, T, units)`
            of gate values in [0, 1] recorded along `n` sequences (e.g. the GRU's keep gate
            z_t and write gate 1 - z_t; the LSTM's f_t and i_t). Step 1 is the symbol to
            remember.
        top: how many of the most keeping units (mean keep over steps 2..T) to draw as
            lines in the bottom row.

    Returns:
        The `matplotlib.figure.Figure`: top row a heatmap of the mean keep gate per unit
        (units sorted, most keeping at the top) and step; bottom row the `top` most keeping
        units' keep gate (solid) and write gate (dashed).

    Example:
        >>> keep = np.random.default_rng(0).uniform(size=(8, 20, 4))   # (n, T, units)
        >>> fig = plot_gates_along_sequence({"gru": {"keep": keep, "write": 1 - keep}})
    """
    if not isinstance(gates, dict) or not gates:
        raise ValueError(
            "Argument `gates` must be a non-empty dict {cell: {'keep': array, 'write': array}}"
            f"; received {type(gates).__name__}"
        )
    means = {}
    for cell, arrays in gates.items():
        if not isinstance(arrays, dict) or set(arrays) != {"keep", "write"}:
            raise ValueError(
                f"Argument `gates[{cell!r}]` must be a dict with the keys 'keep' and 'write'; "
                f"received {arrays if not isinstance(arrays, dict) else sorted(arrays)!r}"
            )
        keep, write = (np.asarray(arrays[k], dtype=float) for k in ("keep", "write"))
        if keep.ndim != 3 or keep.shape != write.shape or keep.shape[1] < 2:
            raise ValueError(
                f"Argument `gates[{cell!r}]` must hold 'keep' and 'write' of the same shape "
                f"(n, T >= 2, units); received {keep.shape} and {write.shape}"
            )
        means[cell] = keep.mean(axis=0).T, write.mean(axis=0).T  # (units, T)
    fig = matplotlib.figure.Figure(figsize=(6 * len(means), 7.5), layout="constrained")
    axes = fig.subplots(2, len(means), sharex=True, squeeze=False)
    for column, (cell, (keep, write)) in enumerate(means.items()):
        steps = np.arange(1, keep.shape[1] + 1)
        order = np.argsort(-keep[:, 1:].mean(axis=1))
        image = axes[0, column].imshow(
            keep[order], aspect="auto", vmin=0, vmax=1, cmap="viridis",
            extent=(0.5, steps[-1] + 0.5, len(order) - 0.5, -0.5),
        )
        axes[0, column].set(title=f"{cell}: keep gate (1 = keep), mean over sequences",
                            ylabel="units (most keeping at the top)")
        for k, unit in enumerate(order[:top]):
            style = S.style(k)
            axes[1, column].plot(steps, keep[unit], color=style["color"], marker="o",
                                 markersize=3, label=f"unit {unit}: keep")
            axes[1, column].plot(steps, write[unit], color=style["color"], linestyle="--",
                                 label=f"unit {unit}: write")
        axes[1, column].axvline(1, color=S.GREY, linestyle=":")
        axes[1, column].set(ylim=(-0.03, 1.03), xlabel="time step t (1 = the symbol to remember)",
                            ylabel="gate value (fraction)",
                            title=f"{cell}: the {top} units that keep the most")
        axes[1, column].legend(fontsize=8, ncols=min(top, 3), loc="best")
    fig.colorbar(image, ax=axes[0, :], label="keep gate value")
    fig.suptitle("Keep and write gates along a recall sequence", fontsize=S.TITLE_SIZE)
    return fig
