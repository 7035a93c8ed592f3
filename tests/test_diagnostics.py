"""The gradient lab: autodiff norms vs the Jacobian product by hand, the spectral-radius law."""

import keras
import numpy as np
import pandas as pd
import pytest

from rnn_tf import VanillaRNN, diagnostics, plots


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_hand_jacobian_product_equals_autodiff_norms(activation):
    x = np.random.default_rng(0).normal(size=(3, 25, 5))
    keras.utils.set_random_seed(1)
    layer = VanillaRNN(12, activation=activation, dtype="float64")
    layer.build((None, 25, 5))
    tape = diagnostics.gradient_norms_over_time(layer, x)
    hand = diagnostics.hand_jacobian_norms(
        layer.U.numpy(), layer.W.numpy(), layer.b.numpy(), x, activation=activation
    )
    assert tape.shape == hand.shape == (25,)
    # Stated tolerance: both are float64; only summation order differs.
    np.testing.assert_allclose(tape, hand, rtol=1e-10)
    assert tape[-1] == pytest.approx(1.0)  # dL_T/dh_T = r, a unit vector


def test_every_cell_gives_one_finite_norm_per_step():
    x = np.random.default_rng(0).normal(size=(2, 9, 4)).astype("float32")
    norms = diagnostics.gradient_norms_by_cell(["vanilla", "simple", "gru", "lstm"], x, units=6)
    assert list(norms) == ["vanilla", "simple", "gru", "lstm"]
    for name, values in norms.items():
        assert values.shape == (9,) and np.all(np.isfinite(values)) and np.all(values > 0), name
        assert values[-1] == pytest.approx(1.0, rel=1e-5), name
    # The dict is the one form plot_gradient_norms takes.
    assert len(plots.plot_gradient_norms(norms).axes[0].lines) == 4


def test_chrono_cells_start_with_open_keep_gates_and_keep_more_gradient():
    lstm = diagnostics.make_cell("lstm_chrono", 8, seed=1, t_max=40)
    lstm.build((None, 3))
    b_i, b_f, _, _ = np.split(lstm.bias.numpy(), 4)
    assert not lstm.unit_forget_bias and np.all(b_f >= 0) and np.all(b_f <= np.log(39))
    np.testing.assert_allclose(b_i, -b_f)
    x = np.random.default_rng(0).normal(size=(4, 40, 3)).astype("float32")
    norms = diagnostics.gradient_norms_by_cell(["lstm", "lstm_chrono", "gru", "gru_chrono"], x,
                                               units=8)
    # sigma(1)^40 and sigma(0)^40 are about 3e-6 and 1e-12; chrono keep biases up to log 39
    # keep most of the gradient of their slow units.
    assert norms["lstm_chrono"][0] > 100 * norms["lstm"][0]
    assert norms["gru_chrono"][0] > 100 * norms["gru"][0]


@pytest.mark.parametrize("cell_class", [keras.layers.LSTMCell, keras.layers.GRUCell])
def test_gated_cell_norms_match_finite_differences(cell_class):
    # An independent check for the cells with no hand Jacobian: perturb h_t (the LSTM's
    # c_t held fixed, as the tape's partial derivative does) and rerun the later steps.
    keras.utils.set_random_seed(0)
    cell = cell_class(4, dtype="float64")
    x = np.random.default_rng(0).normal(size=(1, 6, 3))
    norms = diagnostics.gradient_norms_over_time(cell, x)
    r = diagnostics.readout_direction(4, 0)

    def run(states, start):
        for t in range(start, x.shape[1]):
            _, states = cell(x[:, t], states)
            states = list(states) if isinstance(states, (list, tuple)) else [states]
        return states

    zeros = [np.zeros((1, 4)) for _ in range(2 if cell_class is keras.layers.LSTMCell else 1)]
    eps = 1e-6
    for t in (0, 3):
        states = zeros
        for step in range(t + 1):  # the states after step t (norms[t] is for h_{t+1})
            _, states = cell(x[:, step], states)
            states = [np.asarray(s) for s in (states if isinstance(states, (list, tuple))
                                              else [states])]
        gradient = []
        for i in range(4):
            shift = np.zeros((1, 4))
            shift[0, i] = eps
            up = run([states[0] + shift, *states[1:]], t + 1)[0]
            down = run([states[0] - shift, *states[1:]], t + 1)[0]
            gradient.append(float(np.sum((np.asarray(up) - np.asarray(down)) * r)) / (2 * eps))
        assert np.linalg.norm(gradient) == pytest.approx(norms[t], rel=1e-6), t


def test_scaling_sets_the_spectral_radius():
    W = np.random.default_rng(0).normal(size=(10, 10))
    for radius in (0.5, 1.5):
        assert diagnostics.spectral_radius(
            diagnostics.scale_to_spectral_radius(W, radius)
        ) == pytest.approx(radius)


def _slope(sweep, activation, radius):
    slopes = diagnostics.log_slopes(sweep)
    row = slopes[(slopes["activation"] == activation) & (slopes["radius"] == radius)]
    return float(row["slope"].iloc[0])


def test_radius_below_one_vanishes_geometrically_and_relu_above_one_explodes():
    sweep = pd.concat([
        diagnostics.spectral_radius_sweep((0.5, 1.0, 1.5), activation=a, timesteps=40, seed=0)
        for a in ("tanh", "relu")
    ])
    # Per step back in time the norm is multiplied by exp(slope); with rho = 0.5 the
    # Jacobians contract at least as fast as W alone (f' <= 1), so slope <= log 0.5 + slack.
    for activation in ("tanh", "relu"):
        assert _slope(sweep, activation, 0.5) < np.log(0.5) + 0.05
    assert _slope(sweep, "relu", 1.5) > 0.0
    for activation in ("tanh", "relu"):
        slopes = [_slope(sweep, activation, r) for r in (0.5, 1.0, 1.5)]
        assert slopes == sorted(slopes), (activation, slopes)
    # The table is the one form plot_spectral_radius_sweep takes: a panel per activation.
    assert len(plots.plot_spectral_radius_sweep(sweep).axes) == 2 + 1  # and the colour bar


def test_clipping_by_norm_keeps_direction_and_by_value_turns_it():
    effect = diagnostics.clipping_effect([3.0, 0.5], threshold=1.0).set_index("method")
    assert effect.loc["by norm", "norm"] == pytest.approx(1.0)
    assert effect.loc["by norm", "angle_degrees"] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(effect.loc["by value", "vector"], [1.0, 0.5])
    expected = np.degrees(np.arctan2(0.5, 1.0) - np.arctan2(0.5, 3.0))
    assert effect.loc["by value", "angle_degrees"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: diagnostics.gradient_norms_over_time(
            diagnostics.make_cell("gru", 3), np.zeros((2, 4))), "`x`"),
        (lambda: diagnostics.gradient_norms_over_time(
            diagnostics.make_cell("gru", 3), np.full((1, 2, 2), np.nan)), "NaN"),
        (lambda: diagnostics.gradient_norms_over_time(
            diagnostics.make_cell("gru", 3), np.zeros((1, 2, 2)), direction=np.ones(4)),
         "direction"),
        (lambda: diagnostics.make_cell("rnn", 3), "`name`"),
        (lambda: diagnostics.make_cell("gru_chrono", 3), "`t_max`"),
        (lambda: diagnostics.scale_to_spectral_radius(np.eye(2), 0.0), "radius"),
        (lambda: diagnostics.spectral_radius(np.ones((2, 3))), "square"),
        (lambda: diagnostics.clipping_effect([1.0, np.inf], 1.0), "gradient"),
        (lambda: diagnostics.clipping_effect([0.0, 0.0], 1.0), "`gradient` is all zeros"),
        (lambda: diagnostics.hand_jacobian_norms(
            np.ones((4, 3)), np.eye(3), np.zeros(3), np.zeros((1, 2, 2))), "shapes"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
