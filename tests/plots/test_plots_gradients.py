"""Gradient figures: norms over time, the spectral-radius sweep, clipping."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Annotation
from plot_samples import all_texts, gradient_norms_by_cell, spectral_sweep_frame

from rnn_tf.plots import plot_clipping, plot_gradient_norms, plot_spectral_radius_sweep

# --- plot_gradient_norms ------------------------------------------------------------


def test_gradient_norms_uses_a_log_y_axis():
    assert plot_gradient_norms(gradient_norms_by_cell()).axes[0].get_yscale() == "log"


def test_gradient_norms_draws_one_line_per_cell():
    assert len(plot_gradient_norms(gradient_norms_by_cell()).axes[0].lines) == 3


def test_gradient_norms_numbers_steps_from_one():
    line = plot_gradient_norms({"vanilla": [0.1, 0.5, 1.0]}).axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])


def test_gradient_norms_asks_for_the_dict_the_diagnostics_return():
    frame = pd.DataFrame({"cell": ["gru"] * 3, "t": [3, 1, 2], "norm": [1.0, 0.25, 0.5]})
    with pytest.raises(ValueError, match="`norms_by_cell`.*gradient_norms_by_cell"):
        plot_gradient_norms(frame)


def test_gradient_norms_leaves_underflowed_zeros_as_gaps():
    line = plot_gradient_norms({"vanilla": [0.0, 0.5, 1.0]}).axes[0].lines[0]
    assert np.isnan(line.get_ydata()[0])


@pytest.mark.parametrize(
    "bad", [[0.1, 0.2], np.array([0.1, 0.2]), {}, {"vanilla": [[0.1, 0.2]]}, "norms"]
)
def test_gradient_norms_rejects_a_wrong_container(bad):
    with pytest.raises(ValueError, match="`norms_by_cell`"):
        plot_gradient_norms(bad)


def test_gradient_norms_rejects_negative_norms():
    with pytest.raises(ValueError, match="`norms_by_cell`.*negative"):
        plot_gradient_norms({"vanilla": [0.5, -1.0]})


# --- plot_spectral_radius_sweep -----------------------------------------------------


def _radius_lines(ax):
    return [line for line in ax.lines if line.get_label().startswith("ρ")]


def test_spectral_sweep_draws_one_line_per_radius():
    fig = plot_spectral_radius_sweep(spectral_sweep_frame(activations=("linear",)))
    assert len(_radius_lines(fig.axes[0])) == 5


def test_spectral_sweep_draws_one_panel_per_activation():
    fig = plot_spectral_radius_sweep(spectral_sweep_frame(activations=("linear", "tanh")))
    assert [ax.get_title() for ax in fig.axes[:2]] == ["activation: linear", "activation: tanh"]


def test_spectral_sweep_works_without_activation_column():
    frame = spectral_sweep_frame(activations=("linear",)).drop(columns="activation")
    assert plot_spectral_radius_sweep(frame).axes[0].get_yscale() == "log"


def test_spectral_sweep_has_a_colorbar_for_the_radius():
    fig = plot_spectral_radius_sweep(spectral_sweep_frame())
    assert "spectral radius" in fig.axes[-1].get_ylabel()


def test_spectral_sweep_colours_radii_below_and_above_one_differently():
    lines = _radius_lines(plot_spectral_radius_sweep(spectral_sweep_frame(("linear",))).axes[0])
    colours = [tuple(np.round(line.get_color(), 3)) for line in lines]
    assert colours[0] != colours[-1]


@pytest.mark.parametrize("regime", ["vanishing", "exploding"])
def test_spectral_sweep_labels_both_regimes(regime):
    assert any(
        regime in text for text in all_texts(plot_spectral_radius_sweep(spectral_sweep_frame()))
    )


def test_spectral_sweep_asks_for_a_dataframe():
    rows = spectral_sweep_frame().to_dict("records")
    with pytest.raises(ValueError, match="`df` must be a pandas DataFrame.*'radius'"):
        plot_spectral_radius_sweep(rows)


def test_spectral_sweep_rejects_a_frame_without_radius():
    frame = spectral_sweep_frame().drop(columns="radius")
    with pytest.raises(ValueError, match="`df`.*'radius'"):
        plot_spectral_radius_sweep(frame)


def test_spectral_sweep_rejects_non_numeric_norms():
    frame = spectral_sweep_frame().astype({"norm": object})
    frame.loc[0, "norm"] = "big"
    with pytest.raises(ValueError, match="`df`.*'norm'"):
        plot_spectral_radius_sweep(frame)


# --- plot_clipping ------------------------------------------------------------------


def _arrow_tips(ax):
    return [
        np.asarray(a.xy, dtype=float)
        for a in ax.texts
        if isinstance(a, Annotation) and a.arrow_patch is not None
    ]


def test_clipping_by_value_caps_each_component():
    fig = plot_clipping([[3.0, 0.5]], threshold=1.0)
    assert any(np.allclose(tip, [1.0, 0.5]) for tip in _arrow_tips(fig.axes[0]))


def test_clipping_by_norm_keeps_the_direction():
    fig = plot_clipping([[3.0, 0.5]], threshold=1.0)
    expected = np.array([3.0, 0.5]) / np.hypot(3.0, 0.5)
    assert any(np.allclose(tip, expected) for tip in _arrow_tips(fig.axes[1]))


def test_clipping_leaves_a_short_gradient_unchanged():
    fig = plot_clipping([[0.3, -0.2]], threshold=1.0)
    assert all(np.allclose(tip, [0.3, -0.2]) for tip in _arrow_tips(fig.axes[1]))


def test_clipping_draws_original_and_clipped_arrows_per_vector():
    fig = plot_clipping([[3.0, 0.5], [-1.0, 2.0], [0.1, 0.1]])
    assert len(_arrow_tips(fig.axes[0])) == 2 * 3


@pytest.mark.parametrize(
    "gradients", [[3.0, 0.5], [1.0, 2.0, 3.0], [[1.0, np.inf]], np.zeros((7, 2))]
)
def test_clipping_rejects_bad_gradients(gradients):
    with pytest.raises(ValueError, match="`gradients`"):
        plot_clipping(gradients)


@pytest.mark.parametrize("threshold", [0, -1.0, np.nan, "one"])
def test_clipping_rejects_a_non_positive_threshold(threshold):
    with pytest.raises(ValueError, match="`threshold`"):
        plot_clipping(threshold=threshold)
