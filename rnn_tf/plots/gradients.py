"""Gradient figures: norms over time per cell, the spectral-radius sweep, and clipping.

With row vectors, h_t = f(a_t), a_t = x_t U + h_{t-1} W + b, one step of BPTT is
dL_T/dh_{t-1} = (dL_T/dh_t * f'(a_t)) W^T, so the gradient that reaches step t from
the last loss is a product of Jacobians,

    dL_T/dh_t = dL_T/dh_T diag(f'(a_T)) W^T diag(f'(a_{T-1})) W^T ... diag(f'(a_{t+1})) W^T,

and its norm shrinks or grows roughly like rho(W)^(T - t): these figures show that
on a log scale.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.figure
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Rectangle

from rnn_tf.plots import _style as S
from rnn_tf.plots._inputs import check_positive, numeric_column, require_frame

__all__ = ["plot_gradient_norms", "plot_spectral_radius_sweep", "plot_clipping"]

_NORM_LABEL = r"gradient norm $\|\partial L_T / \partial h_t\|_2$ (log scale)"
_T_LABEL = "time step t (backprop starts at the last step T and runs leftwards)"

# Blue for shrinking, grey at the edge rho = 1, vermillion for growing: a diverging
# pair that stays distinct for the common colour-vision deficiencies.
_RADIUS_CMAP = LinearSegmentedColormap.from_list(
    "rnn_tf_vanish_explode", [S.BLUE, "#8C8C8C", S.VERMILLION]
)


def _loggable(values: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    """Norms ready for a log axis: negatives are an error, zeros and inf become gaps."""
    finite = values[np.isfinite(values)]
    if np.any(finite < 0):
        raise ValueError(
            f"Argument `{name}` holds negative values ({finite[finite < 0][0]!r}); "
            "gradient norms must be >= 0"
        )
    # Underflow to 0 or overflow to inf is the very effect being shown; log axes cannot
    # draw either, so leave a gap and say so on the figure.
    hidden = ~np.isfinite(values) | (values <= 0)
    return np.where(hidden, np.nan, values), int(hidden.sum())


def _norm_series(norms_by_cell) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{cell: (t, norm)} from a dict {cell: 1-D array of norms, entry i at t = i + 1}."""
    expected = "a dict {cell_name: 1-D array of norms, entry i at step t = i + 1}"
    if isinstance(norms_by_cell, pd.DataFrame):
        raise ValueError(
            f"Argument `norms_by_cell` must be {expected}, as "
            "`rnn_tf.diagnostics.gradient_norms_by_cell` returns; received a DataFrame"
        )
    if not isinstance(norms_by_cell, Mapping) or not norms_by_cell:
        raise ValueError(
            f"Argument `norms_by_cell` must be {expected}; received "
            f"{type(norms_by_cell).__name__}"
            f"{' (empty)' if isinstance(norms_by_cell, Mapping) else ''}"
        )
    series = {}
    for cell, values in norms_by_cell.items():
        try:
            norms = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            norms = np.empty((0, 0))
        if norms.ndim != 1 or norms.size == 0:
            raise ValueError(
                f"Argument `norms_by_cell` must be {expected}; entry {cell!r} has shape "
                f"{np.shape(values)}"
            )
        series[str(cell)] = (np.arange(1, norms.size + 1, dtype=float), norms)
    return series


def plot_gradient_norms(norms_by_cell) -> matplotlib.figure.Figure:
    """Gradient norm ||dL_T/dh_t|| against time step t for several cells, on a log axis.

    Straight lines on the log axis are exponential decay (vanishing) or growth
    (exploding); a flat line means the last loss still reaches early steps.

    Args:
        norms_by_cell: Dict `{cell_name: 1-D array}` whose i-th entry is the norm at
            step t = i + 1, as `rnn_tf.diagnostics.gradient_norms_by_cell` returns.
            Norms must be >= 0; zeros and non-finite values (under- and overflow)
            are left as gaps and counted in a note.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    fig = plot_gradient_norms({
        "vanilla": 0.5 ** np.arange(20)[::-1],   # vanishes going back in time
        "lstm": np.full(20, 0.8),
    })
    ```
    """
    series = _norm_series(norms_by_cell)
    fig = S.new_figure((9.0, 5.5))
    ax = fig.add_subplot()
    hidden_total = 0
    for i, (cell, (t, norms)) in enumerate(series.items()):
        shown, hidden = _loggable(norms, "norms_by_cell")
        hidden_total += hidden
        ax.plot(t, shown, label=cell, lw=2, ms=5, markevery=max(1, t.size // 12), **S.style(i))
    if hidden_total == sum(norms.size for _, norms in series.values()):
        raise ValueError(
            "Argument `norms_by_cell` has no positive finite norm to draw on a log axis"
        )
    ax.set_yscale("log")
    ax.set_xlabel(_T_LABEL, fontsize=S.LABEL_SIZE)
    ax.set_ylabel(_NORM_LABEL, fontsize=S.LABEL_SIZE)
    ax.grid(which="major", alpha=0.35)
    ax.grid(which="minor", axis="y", alpha=0.12)
    ax.legend(title="cell", fontsize=10, title_fontsize=10)
    if hidden_total:
        ax.text(
            0.01,
            0.01,
            f"{hidden_total} zero or non-finite value(s) not drawn (log scale)",
            transform=ax.transAxes,
            fontsize=9,
            color=S.GREY,
        )
    fig.suptitle(
        "How much of the last loss reaches step t: gradient norm over time",
        fontsize=S.TITLE_SIZE,
    )
    return fig


def _reference_level(pivot: pd.DataFrame) -> float | None:
    """The norm where backprop starts: at the step where all radii agree most."""
    logs = np.log10(pivot).dropna(how="all")
    if logs.empty:
        return None
    counts = logs.notna().sum(axis=1)
    if logs.shape[1] > 1 and (counts > 1).any():
        spread = (logs.max(axis=1) - logs.min(axis=1))[counts > 1]
        t_ref = spread.idxmin()
    else:
        t_ref = logs.index.max()
    return float(10 ** logs.loc[t_ref].mean())


def plot_spectral_radius_sweep(df) -> matplotlib.figure.Figure:
    """Gradient norm over time, one line per spectral radius rho(W), coloured by rho.

    Radii below 1 (blue) make ||dL_T/dh_t|| shrink geometrically going back in time
    (vanishing); radii above 1 (vermillion) can make it grow (exploding), unless
    tanh saturation pulls it back down. The shaded bands mark norms above and
    below the starting norm (where all radii agree, usually t = T).

    Args:
        df: The DataFrame `rnn_tf.diagnostics.spectral_radius_sweep` returns (several
            concatenated for several activations), or any DataFrame with its columns
            `radius` (spectral radius of W), `t` (time step) and `norm`
            (||dL_T/dh_t||), optionally `activation` (one panel per activation).
            Repeated (radius, t) rows, e.g. several seeds, are averaged.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    rows = [{"radius": r, "t": t, "norm": r ** (20 - t)}
            for r in (0.5, 0.9, 1.0, 1.1, 1.5) for t in range(1, 21)]
    fig = plot_spectral_radius_sweep(pd.DataFrame(rows))
    ```
    """
    frame = require_frame(df, "df", ["radius", "t", "norm"], optional=["activation"])
    frame = frame.assign(
        radius=numeric_column(frame, "radius", "df"),
        t=numeric_column(frame, "t", "df"),
        norm=_loggable(numeric_column(frame, "norm", "df"), "df['norm']")[0],
    )
    if frame["norm"].notna().sum() == 0:
        raise ValueError("Argument `df` has no positive finite 'norm' to draw on a log axis")
    for column in ("radius", "t"):
        if frame[column].isna().any():
            raise ValueError(f"Argument `df` column '{column}' has missing values")
    if (frame["radius"] < 0).any():
        raise ValueError("Argument `df` column 'radius' must be >= 0 (a spectral radius)")
    groups = (
        list(frame.groupby("activation", sort=False))
        if "activation" in frame.columns
        else [(None, frame)]
    )

    radii = np.sort(frame["radius"].unique())
    low, high = float(radii.min()), float(radii.max())
    # Centre the colours on rho = 1 even when all radii sit on one side, so blue
    # always means "< 1" and vermillion "> 1".
    color_norm = TwoSlopeNorm(vcenter=1.0, vmin=min(low, 1.0 - 1e-3), vmax=max(high, 1.0 + 1e-3))

    panels = len(groups)
    fig = S.new_figure((5.0 + 4.2 * panels, 5.6))
    axes = np.atleast_1d(fig.subplots(1, panels, sharey=True, squeeze=False)[0])
    finite = frame["norm"].dropna()
    y_lo, y_hi = float(finite.min()) / 4, float(finite.max()) * 4
    for ax, (activation, part) in zip(axes, groups):
        pivot = part.groupby(["t", "radius"])["norm"].mean().unstack("radius").sort_index()
        for radius in pivot.columns:
            ax.plot(
                pivot.index,
                pivot[radius],
                color=_RADIUS_CMAP(color_norm(radius)),
                lw=2,
                label=f"ρ = {radius:g}",
            )
        ax.set_yscale("log")
        ax.set_ylim(y_lo, y_hi)
        y_ref = _reference_level(pivot)
        if y_ref is not None:
            ax.axhspan(y_ref, y_hi, color=S.VERMILLION, alpha=0.07, lw=0)
            ax.axhspan(y_lo, y_ref, color=S.BLUE, alpha=0.07, lw=0)
            # Under the data: the rho = 1 line runs along it.
            ax.axhline(y_ref, color=S.GREY, lw=1, linestyle=":", zorder=1.5)
        box = {"boxstyle": "round,pad=0.25", "facecolor": "white", "alpha": 0.8, "lw": 0}
        ax.text(
            0.98,
            0.97,
            "exploding: norm above its value at the start of backprop",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=9.5,
            color=S.VERMILLION,
            bbox=box,
        )
        ax.text(
            0.98,
            0.03,
            "vanishing: norm below its value at the start of backprop",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=9.5,
            color=S.BLUE,
            bbox=box,
        )
        ax.set_xlabel("time step t", fontsize=S.LABEL_SIZE)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(which="major", alpha=0.3)
        if activation is not None:
            ax.set_title(f"activation: {activation}", fontsize=12)
    axes[0].set_ylabel(_NORM_LABEL, fontsize=S.LABEL_SIZE)
    colorbar = fig.colorbar(
        ScalarMappable(norm=color_norm, cmap=_RADIUS_CMAP), ax=list(axes), pad=0.02
    )
    colorbar.set_label(r"spectral radius $\rho(W)$ (largest |eigenvalue| of W)", fontsize=10)
    if radii.size <= 12:
        colorbar.set_ticks(radii)
        colorbar.set_ticklabels([f"{r:g}" for r in radii])
    fig.suptitle(
        r"Spectral radius of W decides vanishing ($\rho<1$) or exploding ($\rho>1$) gradients",
        fontsize=S.TITLE_SIZE,
    )
    return fig


_DEFAULT_GRADIENTS = ((2.6, 0.9), (-0.7, -1.9))



def _arrow_from_origin(ax, tip, color, **style) -> None:
    """An arrow from (0, 0) to `tip` (matplotlib `annotate` with an empty label)."""
    ax.annotate(
        "",
        xy=tip,
        xytext=(0, 0),
        arrowprops={"arrowstyle": "-|>", "color": color, "shrinkA": 0, "shrinkB": 0, **style},
    )


def plot_clipping(gradients=None, threshold: float = 1.0) -> matplotlib.figure.Figure:
    """Gradient clipping by value versus by norm, on 2-D gradient vectors.

    Clipping by value (Keras `clipvalue`) caps each component at +-threshold, which
    turns the vector; clipping by norm rescales the whole vector to length threshold
    when it is longer, which keeps its direction. Each vector here stands for all the
    model's gradients joined into one: that is Keras `global_clipnorm`
    (`tf.clip_by_global_norm`, the trainer's `clip_norm`). Keras `clipnorm` instead clips
    each variable's gradient separately, which can turn the joined vector.

    Args:
        gradients: Array of shape `(n, 2)`: 1 to 6 two-dimensional gradients
            `(g_1, g_2)`, finite numbers. Default: two example vectors.
        threshold: The clipping threshold theta, a positive number.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    fig = plot_clipping(np.array([[3.0, 0.5]]), threshold=1.0)  # value-clipped to (1, 0.5)
    ```
    """
    theta = check_positive(threshold, "threshold")
    raw = _DEFAULT_GRADIENTS if gradients is None else gradients
    try:
        vectors = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        vectors = np.empty((0, 0))
    if vectors.ndim != 2 or vectors.shape[1] != 2 or not 1 <= vectors.shape[0] <= 6:
        raise ValueError(
            "Argument `gradients` must be an array of shape (n, 2), one gradient (g1, g2) "
            f"per row, with 1 <= n <= 6; received shape {np.shape(raw)}"
        )
    if not np.all(np.isfinite(vectors)):
        raise ValueError("Argument `gradients` must hold finite numbers")

    by_value = np.clip(vectors, -theta, theta)
    lengths = np.linalg.norm(vectors, axis=1)
    by_norm = vectors * np.minimum(1.0, theta / np.maximum(lengths, 1e-300))[:, None]

    fig = S.new_figure((12.0, 6.4))
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    extent = 1.25 * max(float(np.abs(vectors).max()), theta)
    panels = (
        (
            axes[0],
            by_value,
            "clip by value (Keras clipvalue=θ)",
            Rectangle((-theta, -theta), 2 * theta, 2 * theta),
            "each component in [−θ, θ]",
        ),
        (
            axes[1],
            by_norm,
            "clip by global norm (Keras global_clipnorm=θ)",
            Circle((0, 0), theta),
            "‖g‖ ≤ θ",
        ),
    )
    multiple = vectors.shape[0] > 1
    for ax, clipped, title, region, region_label in panels:
        region.set(facecolor=S.SKY_BLUE, alpha=0.18, edgecolor=S.BLUE, linestyle="--", lw=1.2)
        ax.add_patch(region)
        ax.axhline(0, color="#999999", lw=0.8)
        ax.axvline(0, color="#999999", lw=0.8)
        notes = []
        for i, (g, g_clip) in enumerate(zip(vectors, clipped)):
            color = S.CYCLE[i % len(S.CYCLE)]
            tag = f"^{{({i + 1})}}" if multiple else ""
            # The original gradient faint and dashed, the clipped one bold on top.
            _arrow_from_origin(ax, g, color, lw=1.6, mutation_scale=14, linestyle="--",
                               alpha=0.55)
            _arrow_from_origin(ax, g_clip, color, lw=2.6, mutation_scale=18)
            ax.annotate(
                rf"$g{tag}$",
                g,
                xytext=_label_offset(g, 12),
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=12,
                color=color,
            )
            turned = _angle_degrees(g, g_clip)
            ax.annotate(
                rf"$\tilde g{tag}$",
                g_clip,
                xytext=_side_offset(g_clip, g, 16),
                textcoords="offset points",
                ha="center",
                va="center",
                fontsize=12,
                color=color,
                fontweight="bold",
            )
            notes.append(
                rf"$g{tag}$: length {np.linalg.norm(g):.2f} → {np.linalg.norm(g_clip):.2f},"
                f" direction turned {turned:.1f}°"
            )
        ax.text(
            0.02,
            0.02,
            "\n".join(notes),
            transform=ax.transAxes,
            fontsize=9.5,
            va="bottom",
            bbox={
                "boxstyle": "round,pad=0.3",
                "facecolor": "white",
                "alpha": 0.9,
                "edgecolor": "#CCCCCC",
            },
        )
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal")
        ax.set_title(f"{title}\nshaded: {region_label}", fontsize=12)
        ax.set_xlabel(r"gradient component $g_1 = \partial L/\partial\theta_1$", fontsize=11)
        ax.grid(alpha=0.25)
    axes[0].set_ylabel(r"gradient component $g_2 = \partial L/\partial\theta_2$", fontsize=11)
    handles = [
        Line2D([], [], color=S.GREY, lw=1.6, linestyle="--", alpha=0.7, label="$g$: original"),
        Line2D([], [], color=S.GREY, lw=2.6, label=r"$\tilde g$: clipped"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=11, frameon=False)
    fig.suptitle(
        f"Gradient clipping at θ = {theta:g}: by value turns the gradient, by norm keeps "
        "its direction",
        fontsize=S.TITLE_SIZE,
    )
    return fig


def _angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    denominator = np.linalg.norm(a) * np.linalg.norm(b)
    if denominator == 0:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(a @ b / denominator, -1.0, 1.0))))


def _unit(v: np.ndarray) -> np.ndarray:
    length = np.linalg.norm(v)
    return v / length if length > 0 else np.array([1.0, 0.0])


def _label_offset(v: np.ndarray, points: float) -> tuple[float, float]:
    """Just beyond the arrow tip, along the arrow."""
    return tuple(_unit(v) * points)


def _side_offset(v: np.ndarray, away_from: np.ndarray, points: float) -> tuple[float, float]:
    """Beside the tip of `v`, on the side away from `away_from`, so the labels don't collide."""
    u = _unit(v)
    clockwise = np.array([u[1], -u[0]])
    cross = v[0] * away_from[1] - v[1] * away_from[0]
    side = clockwise if cross >= 0 else -clockwise
    return tuple(side * points)
