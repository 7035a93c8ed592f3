"""Reading figures: a classifier's verdict after each word, as a recurrent network reads.

A many-to-one model (one verdict from the last state h_T) read as many-to-many: the same
weights give p(positive) from every h_t, so the curve shows where in a text the verdict
forms, flips or fades.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.figure
import numpy as np

from rnn_tf.plots import _style as S

__all__ = ["plot_reading"]

# More words than this on one axis and only every k-th word is written under it.
MAX_WORD_LABELS = 60


def _check_text(title, entry) -> tuple[list[str], dict[str, np.ndarray]]:
    expected = "a (words, {model name: probability after each word}) pair"
    if not (isinstance(entry, Sequence) and not isinstance(entry, str) and len(entry) == 2):
        raise ValueError(
            f"Argument `readings` entry {title!r} must be {expected}; "
            f"received {type(entry).__name__}"
        )
    words, curves = entry
    if (
        isinstance(words, str)
        or not isinstance(words, Sequence)
        or not words
        or not all(isinstance(word, str) for word in words)
    ):
        raise ValueError(
            f"Argument `readings` entry {title!r} must have a non-empty list of word strings "
            f"first; received {words!r:.80}"
        )
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(
            f"Argument `readings` entry {title!r} must map at least one model name to its "
            f"probabilities; received {curves!r:.80}"
        )
    checked = {}
    for name, values in curves.items():
        try:
            values = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            values = np.empty(0)
        if values.shape != (len(words),):
            raise ValueError(
                f"Argument `readings` entry {title!r}, model {name!r}: expected one probability "
                f"per word ({len(words)}); received shape {values.shape}"
            )
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
            raise ValueError(
                f"Argument `readings` entry {title!r}, model {name!r}: probabilities must be "
                f"finite and in [0, 1]; received values from {np.min(values):g} to "
                f"{np.max(values):g}"
            )
        checked[str(name)] = values
    return list(words), checked


def plot_reading(
    readings: Mapping[str, tuple[Sequence[str], Mapping[str, Sequence[float]]]],
    *,
    ylabel: str = "p(positive) after this word",
) -> matplotlib.figure.Figure:
    """p(positive) after each word of each text, one panel per text, one line per model.

    Args:
        readings: `{text title: (words, {model name: probabilities})}`; `words` are the
            tokens the models read, in order, and each model gives one probability in
            [0, 1] per word: its verdict having read up to and including that word.
        ylabel: the y-axis label (what the probability is of).

    Returns:
        The `matplotlib.figure.Figure`: a dotted line at 0.5 (undecided), words under
        the x axis (every k-th one on a long text).

    Example:

    ```python
    words = ["not", "good", "at", "all"]
    fig = plot_reading({"negation": (words, {"gru": [0.4, 0.6, 0.3, 0.2]})})
    ```
    """
    if not isinstance(readings, Mapping) or not readings:
        raise ValueError(
            "Argument `readings` must be a non-empty dict {text title: (words, {model name: "
            f"probabilities}})}}; received {type(readings).__name__}"
        )
    texts = {str(title): _check_text(title, entry) for title, entry in readings.items()}
    longest = max(len(words) for words, _ in texts.values())
    fig = S.new_figure((min(16.0, max(8.0, 0.16 * min(longest, 100) + 3)), 0.9 + 2.9 * len(texts)))
    axes = fig.subplots(len(texts), 1, squeeze=False, sharey=True)[:, 0]
    for ax, (title, (words, curves)) in zip(axes, texts.items()):
        positions = np.arange(1, len(words) + 1)
        for i, (name, values) in enumerate(curves.items()):
            line_style = S.style(i)
            if len(words) > MAX_WORD_LABELS:
                line_style["marker"] = None
            ax.plot(positions, values, label=name, lw=1.8, ms=4, **line_style)
        ax.axhline(0.5, color=S.GREY, linestyle=":", lw=1.2)
        every = int(np.ceil(len(words) / MAX_WORD_LABELS))
        ax.set_xticks(positions[::every], words[::every], rotation=90, fontsize=8)
        ax.set_xlim(0.5, len(words) + 0.5)
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(title if every == 1 else f"{title} (one word in {every} written)",
                     fontsize=S.LABEL_SIZE)
        ax.set_ylabel(ylabel, fontsize=S.LABEL_SIZE)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="best")
    axes[-1].set_xlabel("word read (in order; dotted line: undecided, 0.5)",
                        fontsize=S.LABEL_SIZE)
    for ax in axes[:-1]:
        ax.set_xlabel("word read", fontsize=S.LABEL_SIZE)
    fig.suptitle("The verdict after each word, as each model reads", fontsize=S.TITLE_SIZE)
    return fig
