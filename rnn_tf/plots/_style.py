"""The shared look of every figure: palette, a headless `Figure` factory, diagram primitives.

Colours are the Okabe–Ito palette, which stays distinguishable under the common
forms of colour blindness; lines also differ by dash and marker so a figure
still reads in greyscale. Weights keep one colour everywhere: U blue, W purple,
V green; backward (gradient) arrows are vermillion and dashed.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.figure
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#666666"

# Strong contrasts first; yellow is last because it is faint on white.
CYCLE = (BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY_BLUE, BLACK, YELLOW)
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

WEIGHT_COLORS = {"U": BLUE, "W": PURPLE, "V": GREEN}
FORWARD_COLOR = "#333333"
BACKWARD_COLOR = VERMILLION

# Node kinds: light fill so black text stays readable, saturated edge for the role.
NODE_STYLES = {
    "input": {"facecolor": "#D4EBF8", "edgecolor": BLUE},
    "hidden": {"facecolor": "#FBE6BC", "edgecolor": ORANGE},
    "output": {"facecolor": "#C7EBDF", "edgecolor": GREEN},
    "loss": {"facecolor": "#F3DCE9", "edgecolor": PURPLE},
    "state": {"facecolor": "#EEEEEE", "edgecolor": GREY},
}

TITLE_SIZE = 14
LABEL_SIZE = 11


def style(index: int) -> dict:
    """Colour, dash and marker of the `index`-th line, so lines differ beyond colour."""
    return {
        "color": CYCLE[index % len(CYCLE)],
        "linestyle": LINESTYLES[index % len(LINESTYLES)],
        "marker": MARKERS[index % len(MARKERS)],
    }


def new_figure(figsize: tuple[float, float]) -> matplotlib.figure.Figure:
    """A `Figure` not registered with pyplot: headless-safe, and never left open."""
    return matplotlib.figure.Figure(figsize=figsize, layout="constrained", facecolor="white")


def diagram_axes(ax: Axes, xlim: Sequence[float], ylim: Sequence[float]) -> None:
    """Equal-aspect, frameless axes for a schematic drawn in data coordinates."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


def node(
    ax: Axes,
    xy: tuple[float, float],
    text: str,
    kind: str,
    width: float = 1.0,
    height: float = 0.7,
    fontsize: float = 13,
    linestyle: str = "-",
) -> FancyBboxPatch:
    """A rounded box centred at `xy` with `text` inside; returns the patch for arrows."""
    x, y = xy
    box = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0.02,rounding_size=0.15",
        linewidth=1.8,
        linestyle=linestyle,
        zorder=3,
        **NODE_STYLES[kind],
    )
    ax.add_patch(box)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)
    return box


def arrow(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    color: str = FORWARD_COLOR,
    patch_a: FancyBboxPatch | None = None,
    patch_b: FancyBboxPatch | None = None,
    rad: float = 0.0,
    linestyle: str = "-",
    linewidth: float = 1.8,
) -> FancyArrowPatch:
    """An arrow from `start` to `end`, clipped at the edges of the boxes it joins."""
    patch = FancyArrowPatch(
        start,
        end,
        patchA=patch_a,
        patchB=patch_b,
        arrowstyle="-|>",
        mutation_scale=16,
        connectionstyle=f"arc3,rad={rad}",
        color=color,
        linestyle=linestyle,
        linewidth=linewidth,
        shrinkA=2,
        shrinkB=2,
        zorder=2,
    )
    ax.add_patch(patch)
    return patch


def weight_label(
    ax: Axes,
    xy: tuple[float, float],
    text: str,
    color: str,
    fontsize: float = 11,
    ha: str = "center",
) -> None:
    """A weight name on an arrow, boxed in the weight's colour so it stays legible over lines."""
    ax.text(
        *xy,
        text,
        ha=ha,
        va="center",
        fontsize=fontsize,
        zorder=5,
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": color, "lw": 1.4},
    )


def diagram_size(
    xlim: Sequence[float], ylim: Sequence[float], scale: float = 0.78, extra_height: float = 0.9
) -> tuple[float, float]:
    """Figure size (inches) that fits an equal-aspect diagram without wide empty margins."""
    width = max(8.0, scale * (xlim[1] - xlim[0]) + 0.4)
    return width, scale * (ylim[1] - ylim[0]) + extra_height
