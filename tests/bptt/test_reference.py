"""The hand-written NumPy BPTT against tf.GradientTape and finite differences."""

import numpy as np
import pytest
import tensorflow as tf

from rnn_tf.bptt import RNNParams, bptt, forward, sgd_update


def _problem(batch, steps, input_dim, units, output_dim, seed):
    rng = np.random.default_rng(seed)
    params = RNNParams.random(input_dim, units, output_dim, seed=seed, scale=1.0)
    x = rng.normal(size=(batch, steps, input_dim))
    y = rng.integers(0, output_dim, size=(batch, steps))
    return params, x, y


def _tape_gradients(params, x, y, activation, truncate=None, truncate_per_step=None,
                    mask=None):
    """Independent reference: the same loss in TensorFlow (float64), differentiated by the tape.

    With `truncate=k` the layer runs chunk by chunk (steps 0..k-1, k..2k-1, ...) and the state
    enters each chunk through stop_gradient, so no gradient crosses a chunk border.
    With `truncate_per_step=k`, L_t is computed from h_{t-k} held constant (stop_gradient)
    and k fresh steps, so its gradient cannot reach further back than k steps.
    """
    f = tf.tanh if activation == "tanh" else tf.nn.relu
    variables = {name: tf.Variable(value) for name, value in params.as_dict().items()}
    U, W, V, b, c = (variables[n] for n in "UWVbc")
    x = tf.constant(x)
    batch, steps = y.shape
    weights = tf.ones((batch, steps), tf.float64) if mask is None else tf.constant(mask)

    def run(h, start, stop):
        for s in range(start, stop):
            h = f(x[:, s] @ U + h @ W + b)
        return h

    def step_loss(h_t, t):
        per_sequence = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y[:, t], logits=h_t @ V + c)
        return tf.reduce_sum(weights[:, t] * per_sequence)

    with tf.GradientTape() as tape:
        h0 = tf.zeros((batch, W.shape[0]), tf.float64)
        total = tf.constant(0.0, tf.float64)
        if truncate_per_step is None:
            chunk = truncate or steps
            h = h0
            for start in range(0, steps, chunk):
                h = tf.stop_gradient(h)  # the border: the state crosses, the gradient does not
                for t in range(start, min(start + chunk, steps)):
                    h = run(h, t, t + 1)
                    total += step_loss(h, t)
        else:
            for t in range(steps):
                start = max(0, t + 1 - truncate_per_step)
                h_t = run(tf.stop_gradient(run(h0, 0, start)), start, t + 1)
                total += step_loss(h_t, t)
        loss = total / batch
    grads = tape.gradient(loss, variables)
    return float(loss), {name: g.numpy() for name, g in grads.items()}


def _random_shape(seed):
    rng = np.random.default_rng(100 + seed)
    return dict(
        batch=int(rng.integers(1, 4)),
        steps=int(rng.integers(2, 8)),
        input_dim=int(rng.integers(1, 5)),
        units=int(rng.integers(2, 7)),
        output_dim=int(rng.integers(2, 5)),
    )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize(
    "truncation",
    [{}, {"truncate": 1}, {"truncate": 3}, {"truncate_per_step": 1},
     {"truncate_per_step": 3}],
    ids=["full", "chunks_of_1", "chunks_of_3", "per_step_1", "per_step_3"],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_bptt_equals_gradient_tape(activation, truncation, seed):
    params, x, y = _problem(**_random_shape(seed), seed=seed)
    ours = bptt(params, x, y, activation=activation, **truncation)
    loss, expected = _tape_gradients(params, x, y, activation, **truncation)
    assert ours.loss == pytest.approx(loss, rel=1e-10)
    for name in "UWVbc":
        np.testing.assert_allclose(getattr(ours, name), expected[name], rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("truncation", [{}, {"truncate": 2}, {"truncate_per_step": 2}],
                         ids=["full", "chunks", "per_step"])
def test_masked_loss_and_gradients_equal_gradient_tape(truncation):
    params, x, y = _problem(3, 7, 2, 4, 3, seed=21)
    mask = np.ones(y.shape)
    mask[:, :3] = 0.0  # no target in the first three steps, as in a delayed echo
    mask[1, -1] = 0.0
    ours = bptt(params, x, y, mask=mask, **truncation)
    loss, expected = _tape_gradients(params, x, y, "tanh", mask=mask, **truncation)
    assert ours.loss == pytest.approx(loss, rel=1e-10)
    assert ours.loss < bptt(params, x, y, **truncation).loss  # the masked steps left out
    for name in "UWVbc":
        np.testing.assert_allclose(getattr(ours, name), expected[name], rtol=1e-5, atol=1e-12)


def test_chunked_truncation_is_the_sum_of_the_chunks_run_one_by_one():
    """`truncate=k` equals full BPTT on each chunk started from the state the forward pass
    carried into it (what `BPTTTrainer(truncate=k)` computes per chunk), summed."""
    params, x, y = _problem(2, 7, 3, 4, 3, seed=22)
    chunked = bptt(params, x, y, truncate=3)
    h = np.zeros((2, 4))
    summed = {name: 0.0 for name in "UWVbc"}
    loss = 0.0
    for start in (0, 3, 6):  # chunks of 3, 3 and 1 steps
        part = bptt(params, x[:, start:start + 3], y[:, start:start + 3], h0=h)
        summed = {name: summed[name] + getattr(part, name) for name in "UWVbc"}
        loss += part.loss
        h = forward(params, x[:, start:start + 3], h0=h).h[:, -1]
    assert chunked.loss == pytest.approx(loss, rel=1e-12)
    for name in "UWVbc":
        np.testing.assert_allclose(getattr(chunked, name), summed[name], rtol=1e-10)


def test_chunk_borders_and_per_step_truncation_are_different_algorithms():
    params, x, y = _problem(2, 8, 3, 4, 3, seed=23)
    chunked = bptt(params, x, y, truncate=4)
    per_step = bptt(params, x, y, truncate_per_step=4)
    assert not np.allclose(chunked.W, per_step.W)
    np.testing.assert_allclose(chunked.V, per_step.V)  # dL/dV never travels through time


@pytest.mark.parametrize("truncation", ["truncate", "truncate_per_step"])
def test_truncation_changes_the_gradient_of_W(truncation):
    params, x, y = _problem(2, 8, 3, 4, 3, seed=5)
    full = bptt(params, x, y)
    truncated = bptt(params, x, y, **{truncation: 2})
    assert not np.allclose(full.W, truncated.W)
    np.testing.assert_allclose(full.V, truncated.V)  # dL/dV never travels through time
    assert truncated.loss == pytest.approx(full.loss)  # the loss is the same L


@pytest.mark.parametrize("truncation", ["truncate", "truncate_per_step"])
def test_truncation_longer_than_sequence_equals_full_bptt(truncation):
    params, x, y = _problem(2, 5, 3, 4, 3, seed=6)
    np.testing.assert_allclose(bptt(params, x, y, **{truncation: 50}).W, bptt(params, x, y).W)


def test_finite_differences_agree_with_hand_bptt():
    params, x, y = _problem(1, 3, 2, 3, 2, seed=7)
    grads = bptt(params, x, y)
    eps = 1e-6
    for name in "UWVbc":
        weights = params.as_dict()[name]
        numeric = np.zeros_like(weights)
        for index in np.ndindex(weights.shape):
            original = weights[index]
            weights[index] = original + eps
            plus = bptt(params, x, y).loss
            weights[index] = original - eps
            minus = bptt(params, x, y).loss
            weights[index] = original
            numeric[index] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(getattr(grads, name), numeric, rtol=1e-6, atol=1e-8)


def test_step_losses_sum_to_the_total_loss():
    params, x, y = _problem(3, 6, 2, 4, 3, seed=8)
    grads = bptt(params, x, y)
    assert grads.step_losses.shape == (6,)
    assert grads.step_losses.sum() == pytest.approx(grads.loss)


def test_forward_keeps_h0_and_every_state():
    params, x, _ = _problem(2, 4, 3, 5, 2, seed=9)
    h0 = np.ones((2, 5))
    fwd = forward(params, x, h0=h0)
    assert fwd.h.shape == (2, 5, 5) and np.array_equal(fwd.h[:, 0], h0)
    np.testing.assert_allclose(fwd.y_hat.sum(-1), 1.0)


def test_sgd_update_moves_every_weight_against_its_gradient():
    params, x, y = _problem(2, 4, 3, 5, 2, seed=10)
    grads = bptt(params, x, y)
    new = sgd_update(params, grads, learning_rate=0.1)
    for name in "UWVbc":
        np.testing.assert_allclose(
            getattr(new, name), params.as_dict()[name] - 0.1 * getattr(grads, name)
        )
    assert bptt(new, x, y).loss < grads.loss


def test_labels_out_of_range_raise_naming_y():
    params, x, y = _problem(2, 4, 3, 5, 2, seed=11)
    with pytest.raises(ValueError, match="`y`.*outside"):
        bptt(params, x, y + 5)


def test_unknown_activation_raises_naming_activation():
    params, x, y = _problem(2, 4, 3, 5, 2, seed=12)
    with pytest.raises(ValueError, match="activation"):
        bptt(params, x, y, activation="sigmoid")


def test_mismatched_input_size_raises_naming_x():
    params, x, y = _problem(2, 4, 3, 5, 2, seed=13)
    with pytest.raises(ValueError, match="`x`"):
        bptt(params, x[:, :, :2], y)


@pytest.mark.parametrize("truncation", ["truncate", "truncate_per_step"])
def test_non_positive_truncation_raises_naming_it(truncation):
    params, x, y = _problem(2, 4, 3, 5, 2, seed=14)
    with pytest.raises(ValueError, match=f"`{truncation}`"):
        bptt(params, x, y, **{truncation: 0})


def test_both_truncations_at_once_raise_naming_both():
    params, x, y = _problem(2, 4, 3, 5, 2, seed=15)
    with pytest.raises(ValueError, match="`truncate`.*`truncate_per_step`"):
        bptt(params, x, y, truncate=2, truncate_per_step=2)


def test_mask_of_the_wrong_shape_raises_naming_mask():
    params, x, y = _problem(2, 4, 3, 5, 2, seed=16)
    with pytest.raises(ValueError, match="`mask`.*\\(2, 4\\)"):
        bptt(params, x, y, mask=np.ones((2, 3)))
    with pytest.raises(ValueError, match="`mask`.*finite"):
        bptt(params, x, y, mask=np.full((2, 4), np.nan))
