"""The reading figure: p(positive) after each word, one panel per text, one line per model."""

import matplotlib.figure
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from plot_samples import PNG_SIGNATURE

from rnn_tf.plots import plot_reading, save_figure
from rnn_tf.plots.reading import MAX_WORD_LABELS

WORDS = ["this", "film", "was", "not", "good", "at", "all"]
CURVES = {"gru": [0.5, 0.55, 0.5, 0.4, 0.6, 0.3, 0.2],
          "pooled": [0.5, 0.6, 0.55, 0.5, 0.7, 0.65, 0.6]}


def _panels(fig):
    return [ax for ax in fig.axes if ax.get_legend() is not None]


def test_returns_a_titled_figure_without_touching_pyplot():
    before = plt.get_fignums()
    fig = plot_reading({"negation": (WORDS, CURVES)})
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.get_suptitle().strip()
    assert plt.get_fignums() == before


def test_one_panel_per_text_each_titled_and_labelled():
    fig = plot_reading({"negation": (WORDS, CURVES), "short": (["great"], {"gru": [0.9]})})
    panels = _panels(fig)
    assert [ax.get_title() for ax in panels] == ["negation", "short"]
    for ax in panels:
        assert ax.get_xlabel().strip() and ax.get_ylabel().strip()


def test_each_model_is_a_line_through_its_probabilities_at_word_positions():
    (ax,) = _panels(plot_reading({"negation": (WORDS, CURVES)}))
    lines = {line.get_label(): line for line in ax.get_lines()
             if not line.get_label().startswith("_")}
    assert sorted(lines) == ["gru", "pooled"]
    for name, values in CURVES.items():
        np.testing.assert_array_equal(lines[name].get_xdata(), np.arange(1, len(WORDS) + 1))
        np.testing.assert_allclose(lines[name].get_ydata(), values)


def test_the_undecided_line_is_drawn_at_one_half():
    (ax,) = _panels(plot_reading({"negation": (WORDS, CURVES)}))
    flat = [line for line in ax.get_lines() if np.ptp(line.get_ydata()) == 0]
    assert [float(line.get_ydata()[0]) for line in flat] == [0.5]


def test_a_short_text_writes_every_word_under_the_axis():
    (ax,) = _panels(plot_reading({"negation": (WORDS, CURVES)}))
    assert [label.get_text() for label in ax.get_xticklabels()] == WORDS


def test_a_long_text_writes_at_most_the_label_budget_and_says_so():
    words = [f"w{i}" for i in range(3 * MAX_WORD_LABELS + 7)]
    fig = plot_reading({"long": (words, {"gru": np.linspace(0, 1, len(words))})})
    (ax,) = _panels(fig)
    labels = [label.get_text() for label in ax.get_xticklabels()]
    assert 0 < len(labels) <= MAX_WORD_LABELS
    assert labels[0] == "w0" and set(labels) <= set(words)
    assert "one word in 4 written" in ax.get_title()


@pytest.mark.parametrize(
    "readings, match",
    [
        ([], r"`readings` must be a non-empty dict"),
        ({}, r"`readings` must be a non-empty dict"),
        ({"t": WORDS}, r"entry 't' must be a \(words"),
        ({"t": ("not good", CURVES)}, r"entry 't' must have a non-empty list of word strings"),
        ({"t": ([], {"gru": []})}, r"non-empty list of word strings"),
        ({"t": (WORDS, {})}, r"must map at least one model name"),
        ({"t": (WORDS, {"gru": [0.5] * 3})}, r"'gru': expected one probability per word \(7\)"),
        ({"t": (WORDS, {"gru": [1.5] + [0.5] * 6})}, r"model 'gru': probabilities .* in \[0, 1\]"),
        ({"t": (WORDS, {"gru": [np.nan] * 7})}, r"model 'gru': probabilities must be finite"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(readings, match):
    with pytest.raises(ValueError, match=match):
        plot_reading(readings)


def test_saves_a_sound_non_blank_png(tmp_path):
    fig = plot_reading({"negation": (WORDS, CURVES)})
    (png,) = save_figure(fig, tmp_path / "reading", formats=("png",), dpi=72)
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    pixels = matplotlib.image.imread(png)[..., :3]
    height, width = pixels.shape[:2]
    assert 400 <= width <= 4000 and 200 <= height <= 3000, (width, height)
    assert float(np.std(pixels)) > 0.05
