"""Schematic figures: the unrolled RNN, the RNN types, and Backpropagation Through Time.

Everything is drawn with matplotlib patches in data coordinates (equal aspect),
so the diagrams follow their arguments (number of steps, a real layer's weight
shapes, real per-step losses) instead of being static images.

    a_t = x_t U + h_{t-1} W + b,   h_t = tanh(a_t),   o_t = h_t V + c,   y^_t = softmax(o_t)

Row vectors, as in the code (`x_t @ U`): U is (input_dim, units), W (units, units),
V (units, output_dim). Backward, dL/da_t = (dL_t/dh_t + dL/da_{t+1} W^T) * f'(a_t)
with dL_t/dh_t = (y^_t - y_t) V^T and f'(a_t) = 1 - h_t^2.
"""

from __future__ import annotations

import matplotlib.figure
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rnn_tf.plots import _style as S
from rnn_tf.plots._inputs import as_vector, check_int_range

__all__ = ["plot_unrolled_rnn", "plot_rnn_types", "plot_bptt"]

_MAX_STEPS = 10


# --- the unrolled network -----------------------------------------------------------


def _weight_shape(cell, *names: str) -> tuple[int, ...] | None:
    for name in names:
        weight = getattr(cell, name, None)
        if weight is not None:
            return tuple(int(d) for d in weight.shape)
    return None


def _layer_dims(layer) -> tuple[int, int, int | None, dict[str, tuple[int, ...]]]:
    """(input_dim, units, output_dim or None, shapes) read from a built layer's weights."""
    # Works for VanillaRNN, VanillaRNNCell, keras.layers.SimpleRNN and its cell.
    cell = getattr(layer, "cell", layer)
    u_shape = _weight_shape(cell, "U", "kernel")
    w_shape = _weight_shape(cell, "W", "recurrent_kernel")
    if u_shape is None or w_shape is None:
        raise ValueError(
            "Argument `layer` must be a built VanillaRNN / VanillaRNNCell (or SimpleRNN) "
            "with weights U and W; build it first, e.g. `layer.build((None, T, input_dim))`; "
            f"received {type(layer).__name__} without weights"
        )
    if len(u_shape) != 2 or len(w_shape) != 2 or not w_shape[0] == w_shape[1] == u_shape[1]:
        # GRU/LSTM kernels stack several gates: (input_dim, 3*units) or (input_dim, 4*units).
        raise ValueError(
            "Argument `layer` must be a vanilla RNN: U of shape (input_dim, units) and W of "
            f"shape (units, units); received U {u_shape} and W {w_shape}"
        )
    shapes = {"U": u_shape, "W": w_shape}
    for name in ("b", "V", "c"):
        shape = _weight_shape(cell, name, *(("bias",) if name == "b" else ()))
        if shape is not None:
            shapes[name] = shape
    output_dim = shapes["V"][1] if "V" in shapes else None
    return u_shape[0], u_shape[1], output_dim, shapes


def _check_dim(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Argument `{name}` must be a positive integer; received {value!r}")
    return int(value)


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape) if len(shape) > 1 else f"({shape[0]},)"


def _space(dim: int | None) -> str:
    return rf"$\in\mathbb{{R}}^{{{dim}}}$" if dim is not None else ""


def plot_unrolled_rnn(
    layer=None,
    timesteps: int = 4,
    input_dim: int | None = None,
    units: int | None = None,
    output_dim: int | None = None,
) -> matplotlib.figure.Figure:
    """The folded RNN (one cell with a self-loop W) beside the same network unrolled over time.

    The unrolled half shows x_t -> h_t -> y^_t for t = 1..T with the *same* U, W and
    V on every step's arrows (weight sharing). Given a built layer, the weight
    shapes are read from its actual weights and written on the folded diagram
    (e.g. ``U: 3×16``).

    The sizes come from one place: a built layer, or the three size arguments
    (each optional), never both.

    Args:
        layer: Optional built `VanillaRNN` / `VanillaRNNCell` (a `keras.layers.SimpleRNN`
            also works); its U, W, b, V, c shapes are annotated. Without an output
            head (`output_dim=None`) the layer outputs h_t and no V row is drawn.
        timesteps: Number of steps T to unroll, 1 to 10.
        input_dim, units, output_dim: Optional sizes to annotate when no layer is
            given.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    layer = rnn_tf.VanillaRNN(16, output_dim=4)
    layer.build((None, 10, 3))
    fig = plot_unrolled_rnn(layer, timesteps=4)  # annotates "U: 3×16", "W: 16×16", "V: 16×4"
    ```
    """
    steps = check_int_range(timesteps, "timesteps", 1, _MAX_STEPS)
    sizes = {"input_dim": input_dim, "units": units, "output_dim": output_dim}
    given = [name for name, value in sizes.items() if value is not None]
    if layer is not None and given:
        raise ValueError(
            "Argument `layer` fixes the sizes from its weights: pass either a layer or "
            "`input_dim`/`units`/`output_dim`, not both; received a layer and "
            + ", ".join(f"{n}={sizes[n]!r}" for n in given)
        )
    if layer is not None:
        d_in, d_h, d_out, shapes = _layer_dims(layer)
        has_head = "V" in shapes
    else:
        d_in, d_h, d_out = (_check_dim(name, value) for name, value in sizes.items())
        has_head = True
        shapes: dict[str, tuple[int, ...]] = {}
        if d_in is not None and d_h is not None:
            shapes["U"] = (d_in, d_h)
        if d_h is not None:
            shapes["W"] = (d_h, d_h)
        if d_h is not None and d_out is not None:
            shapes["V"] = (d_h, d_out)

    def label(name: str) -> str:
        return f"{name}: {_fmt_shape(shapes[name])}" if name in shapes else name

    gap = 2.3  # distance between time steps, in data units
    x0 = 4.8  # where h_0 sits
    rows = {"x": 0.0, "h": 2.2, "y": 4.4}
    top = rows["y"] if has_head else rows["h"]
    right = x0 + gap * steps + 0.9

    xlim, ylim = (-1.3, right), (-1.5, top + 1.2)
    fig = S.new_figure(S.diagram_size(xlim, ylim))
    ax = fig.add_subplot()
    S.diagram_axes(ax, xlim, ylim)

    # Folded: one cell; the loop on h is the recurrence h_{t-1} -> h_t through W.
    wide = 1.6
    fx = S.node(ax, (0, rows["x"]), rf"$x_t$ {_space(d_in)}", "input", width=wide)
    fh = S.node(ax, (0, rows["h"]), rf"$h_t$ {_space(d_h)}", "hidden", width=wide)
    S.arrow(ax, (0, rows["x"]), (0, rows["h"]), S.WEIGHT_COLORS["U"], fx, fh)
    S.weight_label(ax, (0, (rows["x"] + rows["h"]) / 2), label("U"), S.WEIGHT_COLORS["U"])
    # The self-loop leaves the top of h_t and re-enters its side: h_{t-1} feeds h_t.
    S.arrow(
        ax,
        (wide / 2 - 0.3, rows["h"] + 0.4),
        (wide / 2 + 0.02, rows["h"] - 0.12),
        S.WEIGHT_COLORS["W"],
        rad=-1.9,
    )
    S.weight_label(
        ax, (wide / 2 + 0.72, rows["h"] + 0.45), label("W"), S.WEIGHT_COLORS["W"], ha="left"
    )
    if has_head:
        fy = S.node(ax, (0, rows["y"]), rf"$\hat{{y}}_t$ {_space(d_out)}", "output", width=wide)
        S.arrow(ax, (0, rows["h"]), (0, rows["y"]), S.WEIGHT_COLORS["V"], fh, fy)
        S.weight_label(ax, (0, (rows["h"] + rows["y"]) / 2), label("V"), S.WEIGHT_COLORS["V"])
    ax.text(0, top + 0.85, "folded", ha="center", fontsize=13, fontweight="bold")

    # The unfold sign between the two halves.
    ax.annotate(
        "",
        xy=(x0 - 0.75, rows["h"]),
        xytext=(x0 - 2.05, rows["h"]),
        arrowprops={"arrowstyle": "simple,head_width=1.2,head_length=1", "color": S.GREY},
    )
    ax.text(x0 - 1.4, rows["h"] + 0.45, "unfold", ha="center", fontsize=11, color=S.GREY)

    # Unrolled: the same three matrices on every step's arrows.
    h_prev = S.node(ax, (x0, rows["h"]), r"$h_0$", "state", width=0.9, linestyle="--")
    for t in range(1, steps + 1):
        xc = x0 + gap * t
        bx = S.node(ax, (xc, rows["x"]), rf"$x_{{{t}}}$", "input")
        bh = S.node(ax, (xc, rows["h"]), rf"$h_{{{t}}}$", "hidden")
        S.arrow(ax, (xc, rows["x"]), (xc, rows["h"]), S.WEIGHT_COLORS["U"], bx, bh)
        S.weight_label(ax, (xc, (rows["x"] + rows["h"]) / 2), "U", S.WEIGHT_COLORS["U"])
        S.arrow(ax, (xc - gap, rows["h"]), (xc, rows["h"]), S.WEIGHT_COLORS["W"], h_prev, bh)
        S.weight_label(ax, (xc - gap / 2, rows["h"]), "W", S.WEIGHT_COLORS["W"])
        if has_head:
            by = S.node(ax, (xc, rows["y"]), rf"$\hat{{y}}_{{{t}}}$", "output")
            S.arrow(ax, (xc, rows["h"]), (xc, rows["y"]), S.WEIGHT_COLORS["V"], bh, by)
            S.weight_label(ax, (xc, (rows["h"] + rows["y"]) / 2), "V", S.WEIGHT_COLORS["V"])
        h_prev = bh
    ax.text(
        x0 + gap * (steps + 1) / 2,
        top + 0.85,
        f"unrolled over T = {steps} time step{'s' if steps > 1 else ''}",
        ha="center",
        fontsize=13,
        fontweight="bold",
    )

    # The caption states the point of the picture: one set of weights, reused.
    names = [n for n in ("U", "W", "b", "V", "c") if n in shapes]
    if names:
        sizes = "    ".join(f"{n}: {_fmt_shape(shapes[n])}" for n in names)
        caption = f"Shared weights, identical at every step:   {sizes}"
    else:
        caption = "The same U, W, V (and biases b, c) are reused at every time step"
    if layer is not None and not has_head:
        caption += "\n(no output head V, c: the layer outputs h_t itself)"
    ax.text(
        (right - 1.3) / 2, -1.05, caption, ha="center", va="center", fontsize=11, color="#222222"
    )
    fig.suptitle(
        r"The vanilla RNN, folded and unrolled:  $h_t = \tanh(x_t U + h_{t-1} W + b)$"
        + (r",  $\hat{y}_t = \mathrm{softmax}(h_t V + c)$" if has_head else ""),
        fontsize=S.TITLE_SIZE,
    )
    return fig


# --- the RNN types ------------------------------------------------------------------

# (title, example application, input steps, output steps, number of hidden steps)
_TYPES = (
    ("one-to-one", "image classification\n(no recurrence: a plain network)", [0], [0], 1),
    ("one-to-many", "image captioning\n(one image → a sentence)", [0], [0, 1, 2], 3),
    ("many-to-one", "sentiment analysis\n(a review → positive / negative)", [0, 1, 2], [2], 3),
    (
        "many-to-many (equal length)",
        "sequence tagging\n(a label for every word)",
        [0, 1, 2],
        [0, 1, 2],
        3,
    ),
    (
        "many-to-many (encoder–decoder)",
        "machine translation\n(a sentence → a sentence of another length)",
        [0, 1, 2],
        [3, 4, 5],
        6,
    ),
)


def _types_panel(ax: Axes, title, caption, inputs, outputs, n_hidden) -> None:
    gap, rows = 1.35, {"x": 0.0, "h": 1.6, "y": 3.2}
    box = {"width": 0.85, "height": 0.62, "fontsize": 12}
    hidden = []
    for i in range(n_hidden):
        hidden.append(S.node(ax, (i * gap, rows["h"]), rf"$h_{{{i + 1}}}$", "hidden", **box))
        if i:
            S.arrow(
                ax,
                ((i - 1) * gap, rows["h"]),
                (i * gap, rows["h"]),
                S.WEIGHT_COLORS["W"],
                hidden[i - 1],
                hidden[i],
            )
    for k, i in enumerate(inputs):
        bx = S.node(ax, (i * gap, rows["x"]), rf"$x_{{{k + 1}}}$", "input", **box)
        S.arrow(ax, (i * gap, rows["x"]), (i * gap, rows["h"]), S.WEIGHT_COLORS["U"], bx, hidden[i])
    for k, i in enumerate(outputs):
        by = S.node(ax, (i * gap, rows["y"]), rf"$\hat{{y}}_{{{k + 1}}}$", "output", **box)
        S.arrow(ax, (i * gap, rows["h"]), (i * gap, rows["y"]), S.WEIGHT_COLORS["V"], hidden[i], by)
    if n_hidden == 6:
        # The encoder's last state is the only thing the decoder sees of the input.
        for label, first, last in (("encoder", 0, 2), ("decoder", 3, 5)):
            ax.plot(
                [first * gap - 0.45, last * gap + 0.45],
                [rows["h"] - 0.55] * 2,
                color=S.GREY,
                lw=1.2,
            )
            ax.text(
                (first + last) * gap / 2,
                rows["h"] - 0.75,
                label,
                ha="center",
                va="top",
                fontsize=10,
                color=S.GREY,
                style="italic",
            )
    width = (n_hidden - 1) * gap
    S.diagram_axes(ax, (-0.9, width + 0.9), (-1.9, 4.0))
    ax.set_title(title, fontsize=12, fontweight="bold")
    ax.text(width / 2, -0.65, "e.g. " + caption, ha="center", va="top", fontsize=10.5)


def plot_rnn_types() -> matplotlib.figure.Figure:
    """The RNN types side by side, with an example application under each.

    Five panels: one-to-one, one-to-many, many-to-one, many-to-many with equal
    lengths, and many-to-many with unequal lengths (encoder–decoder). Inputs x are
    at the bottom, hidden states h in the middle, outputs y^ at the top; arrows are
    coloured by the shared weight they apply (U, W, V).

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    fig = plot_rnn_types()
    save_figure(fig, "figures/rnn_types")
    ```
    """
    spans = [max(n - 1, 0) * 1.35 + 1.8 for *_, n in _TYPES]
    fig = S.new_figure((18.0, 5.0))
    # Room between the figure title and the panel titles.
    fig.get_layout_engine().set(h_pad=0.12)
    axes = fig.subplots(1, len(_TYPES), gridspec_kw={"width_ratios": spans})
    for ax, spec in zip(axes, _TYPES):
        _types_panel(ax, *spec)
    handles = [
        Patch(**S.NODE_STYLES["input"], label=r"input $x_t$"),
        Patch(**S.NODE_STYLES["hidden"], label=r"hidden state $h_t$"),
        Patch(**S.NODE_STYLES["output"], label=r"output $\hat{y}_t$"),
        Line2D([], [], color=S.WEIGHT_COLORS["U"], lw=2, label="U (input → hidden)"),
        Line2D([], [], color=S.WEIGHT_COLORS["W"], lw=2, label="W (hidden → hidden)"),
        Line2D([], [], color=S.WEIGHT_COLORS["V"], lw=2, label="V (hidden → output)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=6, fontsize=11, frameon=False)
    fig.suptitle(
        "RNN types: how many inputs go in and how many outputs come out", fontsize=S.TITLE_SIZE
    )
    return fig


# --- Backpropagation Through Time ---------------------------------------------------


def plot_bptt(step_losses=None, timesteps: int = 4) -> matplotlib.figure.Figure:
    """Backpropagation Through Time on the unrolled network.

    Forward arrows (solid, left to right) compute h_t, y^_t and the per-step losses
    L_t, which are summed into L = sum_t L_t. Backward arrows (dashed, vermillion,
    right to left) carry the gradient, in row vectors as in the code:

        dL/da_t = (dL_t/dh_t + dL/da_{t+1} W^T) * f'(a_t),   dL_t/dh_t = (y^_t - y_t) V^T,

    the step's own loss coming down through V^T and the future coming back through
    W^T, both multiplied elementwise by f'(a_t) = 1 - h_t^2.

    Args:
        step_losses: Optional 1-D array of the per-step losses [L_1, ..., L_T]
            (1 to 10 finite numbers, e.g. cross-entropy in nats). When given, T is
            its length, the values are written in the L_t boxes and drawn as bars
            in a second panel.
        timesteps: Number of steps T drawn when `step_losses` is not given (1 to 10).

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    fig = plot_bptt(step_losses=[0.9, 0.7, 0.4, 0.2])  # four steps, L = 2.2
    ```
    """
    losses = None
    if step_losses is not None:
        losses = as_vector(step_losses, "step_losses", "a 1-D array of per-step losses L_t")
        if not np.all(np.isfinite(losses)):
            raise ValueError(
                "Argument `step_losses` must hold finite numbers (one loss L_t per step); "
                f"received {losses.tolist()}"
            )
        check_int_range(losses.size, "len(step_losses)", 1, _MAX_STEPS)
        steps = losses.size
    else:
        steps = check_int_range(timesteps, "timesteps", 1, _MAX_STEPS)

    gap = 2.8
    rows = {"x": 0.0, "h": 2.0, "y": 4.0, "l": 6.0, "L": 8.0}
    right = gap * steps + 2.8
    xlim, ylim = (-0.8, right), (-2.0, 8.8)
    width, height = S.diagram_size(xlim, ylim, scale=0.72, extra_height=1.2)
    width = max(width, 11.0)
    if losses is not None:
        bar_width = 4.5
        fig = S.new_figure((width + bar_width, height))
        ax, bar_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [width, bar_width]})
    else:
        fig = S.new_figure((width, height))
        ax, bar_ax = fig.add_subplot(), None
    S.diagram_axes(ax, xlim, ylim)

    fwd, bwd = S.FORWARD_COLOR, S.BACKWARD_COLOR
    h_prev = S.node(ax, (0, rows["h"]), r"$h_0$", "state", width=0.8, linestyle="--")
    total_x = gap * (steps + 1) / 2
    if losses is not None:
        total_text = rf"$L = \Sigma_t L_t$ = {losses.sum():.3g}"
    else:
        total_text = r"$L = \Sigma_t L_t$"
    total = S.node(ax, (total_x, rows["L"]), total_text, "loss", width=3.0, height=0.75)
    for t in range(1, steps + 1):
        xc = gap * t
        bx = S.node(ax, (xc, rows["x"]), rf"$x_{{{t}}}$", "input")
        bh = S.node(ax, (xc, rows["h"]), rf"$h_{{{t}}}$", "hidden")
        by = S.node(ax, (xc, rows["y"]), rf"$\hat{{y}}_{{{t}}}$", "output")
        text = rf"$L_{{{t}}}$" + (f" = {losses[t - 1]:.3g}" if losses is not None else "")
        bl = S.node(ax, (xc, rows["l"]), text, "loss", width=1.5 if losses is not None else 1.0)
        S.arrow(ax, (xc, rows["x"]), (xc, rows["h"]), fwd, bx, bh)
        S.weight_label(ax, (xc, (rows["x"] + rows["h"]) / 2), "U", S.WEIGHT_COLORS["U"], 10)
        S.arrow(ax, (xc - gap, rows["h"]), (xc, rows["h"]), fwd, h_prev, bh)
        S.weight_label(ax, (xc - gap / 2, rows["h"]), "W", S.WEIGHT_COLORS["W"], 10)
        S.arrow(ax, (xc, rows["h"]), (xc, rows["y"]), fwd, bh, by)
        S.weight_label(ax, (xc, (rows["h"] + rows["y"]) / 2), "V", S.WEIGHT_COLORS["V"], 10)
        S.arrow(ax, (xc, rows["y"]), (xc, rows["l"]), fwd, by, bl)
        S.arrow(ax, (xc, rows["l"]), (total_x, rows["L"]), fwd, bl, total)

        # Backward: the step's own loss reaches h_t through V^T ...
        S.arrow(
            ax,
            (xc + 0.35, rows["l"]),
            (xc + 0.35, rows["h"]),
            bwd,
            bl,
            bh,
            rad=-0.3,
            linestyle="--",
        )
        # ... and dL/da_t flows on to h_{t-1} through W^T.
        if t > 1:
            S.arrow(
                ax,
                (xc, rows["h"]),
                (xc - gap, rows["h"]),
                bwd,
                bh,
                h_prev,
                rad=-0.5,
                linestyle="--",
            )
            if steps <= 6 or t == steps:
                ax.text(
                    xc - gap / 2,
                    rows["h"] - 1.05,
                    rf"$\partial L/\partial a_{{{t}}}\,W^\top$",
                    ha="center",
                    va="center",
                    fontsize=11,
                    color=bwd,
                )
        h_prev = bh
    ax.text(
        gap * steps + 1.1,
        (rows["y"] + rows["l"]) / 2 - 0.1,
        r"$(\hat{y}_t - y_t)\,V^\top$",
        ha="left",
        va="center",
        fontsize=11,
        color=bwd,
    )
    ax.text(
        total_x,
        -1.35,
        r"$\partial L/\partial a_t = \left((\hat{y}_t - y_t)\,V^\top"
        r" + \partial L/\partial a_{t+1}\,W^\top\right) \odot (1-h_t^2)$"
        "   (row vectors)\n"
        r"$\partial L/\partial U = \Sigma_t\, x_t^\top\,\partial L/\partial a_t$,   "
        r"$\partial L/\partial W = \Sigma_t\, h_{t-1}^\top\,\partial L/\partial a_t$,   "
        r"$\partial L/\partial V = \Sigma_t\, h_t^\top (\hat{y}_t - y_t)$",
        ha="center",
        va="center",
        fontsize=12,
        linespacing=1.8,
    )
    handles = [
        Line2D(
            [], [], color=fwd, lw=2, label=r"forward pass: $h_t$, $\hat{y}_t$, $L_t$ (left → right)"
        ),
        Line2D(
            [],
            [],
            color=bwd,
            lw=2,
            linestyle="--",
            label=r"backward pass: $\partial L/\partial a_t$ (right → left)",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=11, frameon=False)

    if bar_ax is not None:
        t_axis = np.arange(1, steps + 1)
        bar_ax.bar(t_axis, losses, color=S.PURPLE, edgecolor="#333333", width=0.6)
        for t, value in zip(t_axis, losses):
            bar_ax.annotate(
                f"{value:.3g}",
                (t, value),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
            )
        bar_ax.set_xticks(t_axis)
        bar_ax.set_xlabel("time step t")
        bar_ax.set_ylabel(r"per-step loss $L_t$ (nats)")
        bar_ax.set_title(rf"$L_t$ per step (sum L = {losses.sum():.3g})", fontsize=12)
        bar_ax.margins(y=0.15)
        bar_ax.grid(axis="y", alpha=0.3)
        bar_ax.set_axisbelow(True)
    fig.suptitle(
        "Backpropagation Through Time: losses summed over steps, gradients flow back through W",
        fontsize=S.TITLE_SIZE,
    )
    return fig
