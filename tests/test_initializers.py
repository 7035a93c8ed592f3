"""The chrono gate-bias initialiser: Keras's gate layouts and the retention it sets."""

import keras
import numpy as np
import pytest

from rnn_tf.initializers import ChronoBias, chrono_bias


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def test_lstm_bias_is_minus_b_f_then_b_f_in_keras_gate_order():
    units, t_max = 20_000, 50
    bias = chrono_bias("lstm", units, t_max, np.random.default_rng(3))
    b_i, b_f, b_g, b_o = np.split(bias, 4)
    np.testing.assert_array_equal(b_i, -b_f)
    np.testing.assert_array_equal(b_g, 0)
    np.testing.assert_array_equal(b_o, 0)
    # Tallec & Ollivier: b_f = log u with u ~ U(1, t_max - 1). Checked on the distribution
    # of exp(b_f): its largest gap to the uniform CDF (Kolmogorov-Smirnov statistic) is
    # about 1/sqrt(units) when right, and far larger for another law (log-uniform, or
    # U(0, t_max)).
    # The generator passed in is the one drawn from: same seed, same bias; another, another.
    np.testing.assert_array_equal(bias, chrono_bias("lstm", units, t_max, np.random.default_rng(3)))
    assert not np.array_equal(bias, chrono_bias("lstm", units, t_max, np.random.default_rng(4)))
    u = np.sort(np.exp(b_f))
    assert u[0] >= 1 and u[-1] <= t_max - 1
    uniform_cdf = (u - 1) / (t_max - 2)
    ranks = np.arange(1, units + 1) / units
    assert np.max(np.abs(ranks - uniform_cdf)) < 0.015


def test_keras_lstm_with_zero_kernels_keeps_sigma_b_f_per_step():
    units, steps = 5, 20
    layer = keras.layers.LSTM(units, unit_forget_bias=False, return_state=True,
                              bias_initializer=ChronoBias("lstm", 30, seed=1))
    layer.build((None, steps, 2))
    kernel, recurrent, bias = layer.get_weights()
    layer.set_weights([np.zeros_like(kernel), np.zeros_like(recurrent), bias])
    c0 = np.ones((1, units), "float32")
    _, _, c_T = layer(np.zeros((1, steps, 2), "float32"), initial_state=[c0 * 0, c0])
    b_f = np.split(bias, 4)[1]
    # With U = W = 0: g_t = tanh(0) = 0, so c_t = f c_{t-1} = sigma(b_f) c_{t-1} exactly.
    np.testing.assert_allclose(np.asarray(c_T)[0], _sigmoid(b_f) ** steps, rtol=1e-4)


@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_gru_with_zero_kernels_keeps_sigma_b_z_per_step(reset_after):
    units, steps = 4, 15
    layer = keras.layers.GRU(units, reset_after=reset_after,
                             bias_initializer=ChronoBias("gru", 25, seed=2))
    layer.build((None, steps, 3))
    kernel, recurrent, bias = layer.get_weights()
    assert bias.shape == ((2, 3 * units) if reset_after else (3 * units,))
    b_z = (bias[0] if reset_after else bias)[:units]
    np.testing.assert_array_equal((bias[0] if reset_after else bias)[units:], 0)
    if reset_after:
        np.testing.assert_array_equal(bias[1], 0)
    layer.set_weights([np.zeros_like(kernel), np.zeros_like(recurrent), bias])
    h0 = np.ones((1, units), "float32")
    h_T = layer(np.zeros((1, steps, 3), "float32"), initial_state=h0)
    # Candidate tanh(0) = 0, so h_t = z h_{t-1} = sigma(b_z) h_{t-1}.
    np.testing.assert_allclose(np.asarray(h_T)[0], _sigmoid(b_z) ** steps, rtol=1e-4)


def test_seed_none_follows_keras_global_seed_and_config_round_trips():
    keras.utils.set_random_seed(7)
    first = np.asarray(ChronoBias("gru", 10)((2, 9)))
    keras.utils.set_random_seed(7)
    np.testing.assert_array_equal(first, np.asarray(ChronoBias("gru", 10)((2, 9))))
    initializer = ChronoBias("lstm", 12.0, seed=5)
    again = ChronoBias.from_config(initializer.get_config())
    np.testing.assert_array_equal(np.asarray(initializer((8,))), np.asarray(again((8,))))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ChronoBias("rnn", 10), "`cell`"),
        (lambda: ChronoBias("lstm", 2), "`t_max`"),
        (lambda: ChronoBias("lstm", 10)((3,)), "unit_forget_bias=False"),
        (lambda: ChronoBias("gru", 10)((2, 8)), "`shape`"),
        (lambda: keras.layers.LSTM(5, bias_initializer=ChronoBias("lstm", 10)).build(
            (None, 3, 2)), "unit_forget_bias=False"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
