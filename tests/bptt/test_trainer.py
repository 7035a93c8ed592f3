"""BPTTTrainer: one SGD step equals the hand-written update, truncation, clipping,
masking, compilation, non-finite guard, learning a memory task, and input errors."""

import keras
import numpy as np
import pytest
from tagging_task import INPUT_DIM, OUTPUT_DIM, UNITS, tagger, tagging_data

from rnn_tf import VanillaRNN, VanillaRNNCell
from rnn_tf.bptt import (
    BPTTTrainer,
    NonFiniteLossError,
    RNNParams,
    bptt,
    forward,
    sgd_update,
    state_passing_model,
)


def _data(batch=4, steps=7, seed=0):
    return tagging_data(batch, steps, seed)


def _tagger():
    return tagger(seed=None)   # the tests seed (or not) before building


def _params_of(layer) -> RNNParams:
    return RNNParams(
        *(np.asarray(w, dtype=np.float64) for w in (layer.U, layer.W, layer.V, layer.b, layer.c))
    )


def _recall_task(n, delay, symbols=4, seed=0):
    """x: a symbol at t=0, then `delay` random distractor symbols; y: the first symbol."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, symbols, size=(n, delay + 1))
    x = np.zeros((n, delay + 1, symbols + 1), "float32")
    x[np.arange(n)[:, None], np.arange(delay + 1)[None, :], tokens] = 1.0
    x[:, 0, symbols] = 1.0  # marks "remember this one"
    return x, tokens[:, 0]


def test_one_sgd_step_equals_the_reference_update_rule():
    x, y = _data()
    model = _tagger()
    layer = model.layers[0]
    before = _params_of(layer)
    trainer = BPTTTrainer(model, from_logits=True, learning_rate=0.1, verbose=0)
    logs = trainer.train_on_batch(x, y)
    reference = bptt(before, x.astype(np.float64), y)
    expected = sgd_update(before, reference, learning_rate=0.1)
    assert logs["loss"] == pytest.approx(reference.loss, rel=1e-5)
    for name in "UWVbc":
        np.testing.assert_allclose(
            np.asarray(getattr(layer, name)), getattr(expected, name), rtol=1e-4, atol=1e-6
        )


def test_truncated_bptt_equals_reference_chunk_by_chunk():
    x, y = _data(steps=6)
    model = state_passing_model(
        VanillaRNN(UNITS, output_dim=OUTPUT_DIM, return_sequences=True, return_state=True),
        INPUT_DIM,
    )
    layer = model.layers[-1]
    params = _params_of(layer)
    BPTTTrainer(model, from_logits=True, learning_rate=0.1, truncate=3, verbose=0).train_on_batch(
        x, y
    )
    x64 = x.astype(np.float64)
    h = np.zeros((x.shape[0], UNITS))
    for start in (0, 3):  # update after each chunk; the state crosses the border as a constant
        chunk_x, chunk_y = x64[:, start : start + 3], y[:, start : start + 3]
        grads = bptt(params, chunk_x, chunk_y, h0=h)
        h = forward(params, chunk_x, h0=h).h[:, -1]
        params = sgd_update(params, grads, learning_rate=0.1)
    for name in "UWVbc":
        np.testing.assert_allclose(
            np.asarray(getattr(layer, name)), getattr(params, name), rtol=1e-4, atol=1e-6
        )


def test_truncate_requires_a_state_passing_model():
    x, y = _data()
    with pytest.raises(ValueError, match="state_passing_model"):
        BPTTTrainer(_tagger(), truncate=2, verbose=0).fit(x, y)


def test_bare_cell_is_trained_through_a_state_passing_wrapper():
    x, y = _data(batch=32, steps=5)
    trainer = BPTTTrainer(
        VanillaRNNCell(UNITS, output_dim=OUTPUT_DIM),
        from_logits=True,
        learning_rate=0.5,
        truncate=2,
        verbose=0,
    )
    history = trainer.fit(x, y, epochs=15, batch_size=8)
    assert trainer.passes_state
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_clip_norm_bounds_the_update_size():
    x, y = _data()
    model = _tagger()
    before = [np.asarray(w) for w in model.trainable_weights]
    trainer = BPTTTrainer(model, from_logits=True, learning_rate=1.0, clip_norm=1e-3, verbose=0)
    logs = trainer.train_on_batch(x, y)
    step = np.sqrt(
        sum(np.sum((np.asarray(w) - b) ** 2) for w, b in zip(model.trainable_weights, before))
    )
    assert logs["grad_norm"] > 1e-3  # the raw gradient was bigger than the threshold
    assert step == pytest.approx(1e-3, rel=1e-3)


def test_clip_value_bounds_every_entry_of_the_update():
    x, y = _data()
    model = _tagger()
    before = [np.asarray(w) for w in model.trainable_weights]
    BPTTTrainer(
        model, from_logits=True, learning_rate=1.0, clip_value=1e-3, verbose=0
    ).train_on_batch(x, y)
    biggest = max(np.abs(np.asarray(w) - b).max() for w, b in zip(model.trainable_weights, before))
    assert biggest <= 1e-3 + 1e-7


def test_masked_steps_add_no_loss():
    x, y = _data(steps=6)
    mask = np.ones_like(y)
    mask[:, 4:] = 0
    model = _tagger()
    trainer = BPTTTrainer(model, from_logits=True, verbose=0)
    masked = trainer.evaluate(x, y, mask=mask)["loss"]
    shorter = trainer.evaluate(x[:, :4], y[:, :4])["loss"]
    assert masked == pytest.approx(shorter, rel=1e-5)


def test_time_reduction_mean_divides_by_the_number_of_steps():
    x, y = _data(steps=6)
    model = _tagger()
    summed = BPTTTrainer(model, from_logits=True, verbose=0).evaluate(x, y)["loss"]
    averaged = BPTTTrainer(model, from_logits=True, time_reduction="mean", verbose=0).evaluate(
        x, y
    )["loss"]
    assert summed == pytest.approx(6 * averaged, rel=1e-5)


def test_one_graph_per_shape_not_one_per_batch():
    x, y = _data(batch=50, steps=5)
    trainer = BPTTTrainer(_tagger(), from_logits=True, verbose=0)
    trainer.fit(x, y, epochs=3, batch_size=8)  # 6 full batches and a ragged one, per epoch
    # Per shape: the full and the ragged batch; with batch_split="timed" also the whole
    # batch's gradient it timed and a slice's.
    traced = _traces(trainer)
    assert traced <= 4
    trainer.fit(x, y, epochs=2, batch_size=8)
    assert _traces(trainer) == traced


def _traces(trainer) -> int:
    """Graphs the gradient step compiled: whole-batch steps plus batch-slice gradients."""
    counts = trainer.tracing_counts()
    return counts["whole_step"] + counts.get("slice_gradient", 0)


def test_history_has_loss_accuracy_and_gradient_norms_per_epoch():
    x, y = _data(batch=16)
    history = BPTTTrainer(_tagger(), from_logits=True, verbose=0).fit(
        x, y, epochs=2, batch_size=8, validation_data=_data(batch=8, seed=1)
    )
    for name in (
        "loss",
        "accuracy",
        "grad_norm",
        "grad_norm_max",
        "val_loss",
        "val_accuracy",
        "seconds",
    ):
        assert len(history.history[name]) == 2, name
    assert all(0 <= a <= 1 for a in history.history["accuracy"])
    assert all(n > 0 for n in history.history["grad_norm"])


def test_progress_bar_prints_when_verbose_and_not_when_silent(capsys):
    x, y = _data(batch=8)
    BPTTTrainer(_tagger(), from_logits=True, verbose=1).fit(x, y, epochs=1, batch_size=4)
    assert "Epoch 1/1" in capsys.readouterr().out
    BPTTTrainer(_tagger(), from_logits=True, verbose=0).fit(x, y, epochs=1, batch_size=4)
    assert capsys.readouterr().out == ""


def test_any_keras_optimizer_can_replace_sgd():
    x, y = _recall_task(256, delay=3)
    model = keras.Sequential([keras.Input((None, 5)), VanillaRNN(16, output_dim=4)])
    trainer = BPTTTrainer(model, from_logits=True, optimizer=keras.optimizers.Adam(0.01), verbose=0)
    history = trainer.fit(x, y, epochs=5, batch_size=32)
    assert history.history["loss"][-1] < history.history["loss"][0]


def _nan_after(step, calls_per_step=1):
    """A loss that turns NaN from the `step`-th training step on.

    It counts its own calls: a trainer with batch_split=k calls it k times a step."""
    import tensorflow as tf

    counter = tf.Variable(0)

    def loss(y_true, y_pred):
        counter.assign_add(1)
        ce = keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)
        # NaN loss and NaN gradients from the first call of step `step` on.
        scale = tf.where(counter > (step - 1) * calls_per_step, np.nan, 1.0)
        return ce * scale

    return loss


@pytest.mark.parametrize("batch_split", [1, 2])
def test_non_finite_loss_stops_with_the_step_and_keeps_last_good_weights(batch_split):
    x, y = _data(batch=8)
    model = _tagger()
    trainer = BPTTTrainer(
        model, loss=_nan_after(3, batch_split), batch_split=batch_split, verbose=0,
        learning_rate=0.1,
    )
    trainer.train_on_batch(x, y)
    trainer.train_on_batch(x, y)
    good = [np.asarray(w).copy() for w in model.trainable_weights]
    with pytest.raises(NonFiniteLossError, match="step 3"):
        trainer.train_on_batch(x, y)
    for w, g in zip(model.trainable_weights, good):
        np.testing.assert_array_equal(np.asarray(w), g)


@pytest.mark.parametrize("batch_split", [1, 2])
def test_non_finite_skip_policy_records_and_continues(batch_split):
    x, y = _data(batch=8)
    trainer = BPTTTrainer(
        _tagger(), loss=_nan_after(2, batch_split), on_non_finite="skip",
        batch_split=batch_split, verbose=0,
    )
    history = trainer.fit(x, y, epochs=3, batch_size=8)
    assert history.skipped_steps == [2, 3]


@pytest.mark.parametrize(
    "jit_compile, batch_split",
    [(True, 1), (False, 1), (True, 2)],
    ids=["xla", "graph", "xla_split"],
)
def test_skipped_step_leaves_weights_and_optimizer_state_untouched(jit_compile, batch_split):
    # The finiteness check and the update share one compiled call: a NaN step must
    # not move the weights, Adam's moments or its step counter.
    x, y = _data(batch=8)
    model = _tagger()
    optimizer = keras.optimizers.Adam(0.01)
    trainer = BPTTTrainer(
        model, loss=_nan_after(2, batch_split), optimizer=optimizer, on_non_finite="skip",
        jit_compile=jit_compile, batch_split=batch_split, verbose=0,
    )
    trainer.train_on_batch(x, y)
    before = [np.asarray(v).copy() for v in model.trainable_weights + optimizer.variables]
    assert int(optimizer.iterations) == 1
    trainer.train_on_batch(x, y)
    assert trainer.history.skipped_steps == [2]
    after = [np.asarray(v) for v in model.trainable_weights + optimizer.variables]
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


def test_learns_to_recall_the_first_symbol_after_ten_steps():
    x, y = _recall_task(2000, delay=10, seed=0)
    x_val, y_val = _recall_task(500, delay=10, seed=1)
    model = keras.Sequential([keras.Input((None, 5)), VanillaRNN(32, output_dim=4)])
    trainer = BPTTTrainer(model, from_logits=True, optimizer=keras.optimizers.Adam(0.01), verbose=0)
    history = trainer.fit(x, y, epochs=10, batch_size=64, validation_data=(x_val, y_val))
    print("recall-after-10 validation accuracy per epoch:", history.history["val_accuracy"])
    assert history.history["val_accuracy"][-1] > 0.95


# --- bad input -------------------------------------------------------------------------


def test_labels_outside_output_dim_raise_naming_y():
    x, y = _data()
    with pytest.raises(ValueError, match="`y`.*outside"):
        BPTTTrainer(_tagger(), verbose=0).fit(x, y + OUTPUT_DIM)


def test_non_finite_inputs_raise_naming_x():
    x, y = _data()
    x[0, 2, 1] = np.nan
    with pytest.raises(ValueError, match="`x`.*non-finite"):
        BPTTTrainer(_tagger(), verbose=0).fit(x, y)


def test_empty_sequences_raise():
    with pytest.raises(ValueError, match="empty sequence"):
        BPTTTrainer(_tagger(), verbose=0).fit(
            np.zeros((4, 0, INPUT_DIM), "float32"), np.zeros((4, 0), int)
        )


def test_wrong_rank_raises_naming_x():
    with pytest.raises(ValueError, match="`x` must have rank"):
        BPTTTrainer(_tagger(), verbose=0).fit(np.zeros(5, "float32"), np.zeros(5, int))


def test_mismatched_lengths_raise():
    x, y = _data()
    with pytest.raises(ValueError, match="same number of sequences"):
        BPTTTrainer(_tagger(), verbose=0).fit(x, y[:2])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"time_reduction": "max"}, "time_reduction"),
        ({"clip_norm": 0}, "clip_norm"),
        ({"truncate": 0}, "truncate"),
        ({"loss": "hinge"}, "loss"),
        ({"on_non_finite": "ignore"}, "on_non_finite"),
    ],
)
def test_invalid_settings_raise_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        BPTTTrainer(_tagger(), **kwargs)


def test_xla_default_and_plain_graph_take_the_same_step():
    import tensorflow as tf

    x, y = _data()
    weights = _tagger().get_weights()
    losses, results = [], []
    for jit_compile in ("auto", False):
        model = _tagger()
        model.set_weights(weights)
        trainer = BPTTTrainer(model, from_logits=True, jit_compile=jit_compile, verbose=0)
        losses.append(trainer.train_on_batch(x, y)["loss"])
        results.append(model.get_weights())
    assert BPTTTrainer(_tagger(), verbose=0).jit_compile is True  # one device: XLA
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        distributed = _tagger()
    assert BPTTTrainer(distributed, strategy=strategy, verbose=0).jit_compile is False
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="jit_compile"):
        BPTTTrainer(_tagger(), jit_compile="yes")
