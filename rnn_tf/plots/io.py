"""Writing figures to disk in several formats at once."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

import matplotlib
import matplotlib.figure

from rnn_tf._files import atomic_path

__all__ = ["save_figure"]


def save_figure(
    fig: matplotlib.figure.Figure,
    path_without_ext: str | os.PathLike,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 150,
) -> list[pathlib.Path]:
    """Save `fig` once per format, next to each other, and return the written paths.

    Parent folders are created. SVGs are written without a date and with fixed
    element ids, so regenerating an unchanged figure gives an identical file and
    a clean diff.

    Args:
        fig: The figure, e.g. from any `plot_*` function.
        path_without_ext: Target path without extension, e.g. `"figures/unrolled_rnn"`.
        formats: Extensions to write, any format matplotlib supports
            (`"png"`, `"svg"`, `"pdf"`, ...).
        dpi: Resolution of raster formats, in dots per inch (positive integer).

    Returns:
        The written paths, one per format, in the order of `formats`.

    Example:

    ```python
    paths = save_figure(plot_rnn_types(), "figures/rnn_types")
    # [PosixPath('figures/rnn_types.png'), PosixPath('figures/rnn_types.svg')]
    ```
    """
    if not isinstance(fig, matplotlib.figure.Figure):
        raise ValueError(
            f"Argument `fig` must be a matplotlib Figure; received {type(fig).__name__}"
        )
    if isinstance(formats, str):
        formats = (formats,)
    supported = fig.canvas.get_supported_filetypes()
    formats = [str(f).lower().lstrip(".") for f in formats]
    unknown = [f for f in formats if f not in supported]
    if not formats or unknown:
        raise ValueError(
            f"Argument `formats` must be a non-empty list of formats from {sorted(supported)}; "
            f"received {formats or '[]'}"
        )
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise ValueError(f"Argument `dpi` must be a positive integer; received {dpi!r}")
    base = pathlib.Path(path_without_ext)
    if base.suffix.lower().lstrip(".") in supported:
        raise ValueError(
            "Argument `path_without_ext` must not end in an image extension (the formats "
            f"argument adds them); received {str(base)!r}"
        )
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context({"svg.hashsalt": "rnn_tf", "svg.fonttype": "path"}):
        for fmt in formats:
            path = base.with_name(f"{base.name}.{fmt}")
            metadata = {"Date": None} if fmt in ("svg", "pdf") else None
            with atomic_path(path) as temporary:
                fig.savefig(
                    temporary,
                    format=fmt,
                    dpi=dpi,
                    metadata=metadata,
                    facecolor="white",
                    bbox_inches="tight",
                    pad_inches=0.15,
                )
            paths.append(path)
    return paths
