"""BPTTTrainer(batch_split=k): the gradients of k slices of the batch, summed, give the
same step as the whole batch; "timed" splits only models whose rows do not interact, and
only when timing the first batch shows the slices clearly faster.

Whether the slices really run on different cores is a speed question: see
`benchmarks/` (`rnn-tf bench train-step`), not these tests."""

import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from tagging_task import INPUT_DIM, OUTPUT_DIM, UNITS, tagger, tagging_data

from rnn_tf import VanillaRNN, _machine
from rnn_tf.bptt import BPTTTrainer, scale, state_passing_model


def _data(batch=9, steps=8, seed=0):
    return tagging_data(batch, steps, seed, with_mask=True)


def _train(batch_split, steps=3, time_reduction="sum", with_mask=False, batch=9, **kwargs):
    x, y, mask = _data(batch=batch)
    model = tagger()
    trainer = BPTTTrainer(
        model,
        from_logits=True,
        optimizer=keras.optimizers.Adam(0.01),
        time_reduction=time_reduction,
        batch_split=batch_split,
        verbose=0,
        **kwargs,
    )
    logs = [trainer.train_on_batch(x, y, mask if with_mask else None) for _ in range(steps)]
    return trainer, logs, model.get_weights()


@pytest.mark.parametrize("time_reduction", ["sum", "mean"])
@pytest.mark.parametrize("with_mask", [False, True], ids=["no_mask", "mask"])
@pytest.mark.parametrize("batch_split", [2, 3])
def test_split_steps_equal_whole_batch_steps(batch_split, with_mask, time_reduction):
    # 9 rows: slices of 5 + 4 or 3 + 3 + 3; three Adam steps so that the optimizer
    # state must match too.
    _, whole_logs, whole = _train(1, time_reduction=time_reduction, with_mask=with_mask)
    trainer, split_logs, split = _train(
        batch_split, time_reduction=time_reduction, with_mask=with_mask
    )
    assert trainer.parts == batch_split
    for a, b in zip(split_logs, whole_logs):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-5)
        assert (a["hits"], a["count"]) == (b["hits"], b["count"])
    for a, b in zip(split, whole):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_split_truncated_bptt_carries_each_slices_states():
    x, y, _ = _data(steps=10)
    results = []
    for batch_split in (1, 2):
        keras.utils.set_random_seed(0)
        layer = VanillaRNN(UNITS, output_dim=OUTPUT_DIM, return_sequences=True, return_state=True)
        model = state_passing_model(layer, INPUT_DIM)
        trainer = BPTTTrainer(
            model, from_logits=True, truncate=4, batch_split=batch_split, verbose=0
        )
        logs = trainer.train_on_batch(x, y)
        results.append((logs["loss"], model.get_weights()))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-5)
    for a, b in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_batch_smaller_than_the_slices_trains_whole():
    _, whole_logs, whole = _train(1, steps=1, batch=2)
    trainer, logs, weights = _train(4, steps=1, batch=2)
    assert trainer.parts == 4
    # Only the whole-batch step was traced, no slice.
    assert trainer.tracing_counts() == {"whole_step": 1, "slice_gradient": 0, "split_step": 0}
    assert logs[0]["loss"] == pytest.approx(whole_logs[0]["loss"], rel=1e-6)
    for a, b in zip(weights, whole):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_split_retraces_once_per_slice_shape():
    trainer, _, _ = _train(2, steps=4)  # 9 rows: slices of 5 and 4
    assert trainer.tracing_counts()["slice_gradient"] == 2


@pytest.fixture
def two_cpus_no_gpu(monkeypatch):
    monkeypatch.setattr(_machine, "usable_cpus", lambda: 2)
    real = tf.config.list_logical_devices
    monkeypatch.setattr(
        tf.config,
        "list_logical_devices",
        lambda kind=None: [] if kind == "GPU" else real(kind),
    )


def _auto_parts(model, **kwargs):
    x, y, _ = _data()
    trainer = BPTTTrainer(model, from_logits=True, verbose=0, **kwargs)
    trainer.train_on_batch(x, y)
    return trainer.parts


def _timed_as(monkeypatch, *sessions):
    """Make the timing sessions see these (whole_s, split_s); they still run every call."""
    ran = []
    sessions = iter(sessions)

    def fake_fastest_times(calls, **_):
        for name, call in calls.items():
            ran.append((name, float(call().numpy())))
        whole_s, split_s = next(sessions)
        return {"whole": whole_s, "split": split_s}

    monkeypatch.setattr(scale, "fastest_times", fake_fastest_times)
    return ran


@pytest.fixture
def slices_look_faster(monkeypatch):
    """Timing would keep the slices: a test that sees 1 slice saw a rule, not a timing."""
    return _timed_as(monkeypatch, *[(1.0, 0.1)] * 2)


@pytest.mark.parametrize(
    "whole_s, split_s, kept", [(1.0, 0.5, 2), (1.0, 0.95, 1), (0.5, 1.0, 1)],
    ids=["slices_clearly_faster", "near_a_tie", "slices_slower"],
)
def test_auto_keeps_slices_only_when_the_first_batch_times_them_clearly_faster(
    two_cpus_no_gpu, monkeypatch, whole_s, split_s, kept
):
    ran = _timed_as(monkeypatch, (whole_s, split_s))
    x, y, _ = _data()
    trainer = BPTTTrainer(tagger(), from_logits=True, verbose=0)
    assert trainer.split_measurement is None
    trainer.train_on_batch(x, y)
    assert trainer.parts == kept
    assert trainer.split_measurement == {
        "whole_ms": whole_s * 1e3, "split_ms": split_s * 1e3,
        "slices_tried": 2, "slices_kept": kept, "sessions": 1, "batch_shape": list(x.shape),
    }
    assert [name for name, _ in ran] == ["whole", "split"]
    assert all(np.isfinite(norm) for _, norm in ran)
    trainer.train_on_batch(x, y)
    assert len(ran) == 2  # not timed again on the next batch
    # The step that ran is the one kept.
    traced = trainer.tracing_counts()
    assert (traced["split_step"] > 0, traced["whole_step"] > 0) == (kept == 2, kept == 1)


def test_auto_times_again_later_and_keeps_the_fastest_of_both_sessions(
    two_cpus_no_gpu, monkeypatch
):
    # The first session caught a busy moment (slices no faster); the second did not.
    ran = _timed_as(monkeypatch, (0.5, 1.0), (0.9, 0.3))
    x, y, _ = _data()
    trainer = BPTTTrainer(tagger(), from_logits=True, verbose=0)
    for _ in range(1 + scale.REMEASURE_AFTER - 1):
        trainer.train_on_batch(x, y)
    assert trainer.parts == 1 and trainer.split_measurement["sessions"] == 1
    trainer.train_on_batch(x[:7], y[:7])  # another size (an epoch's last batch): not timed
    assert trainer.split_measurement["sessions"] == 1
    trainer.train_on_batch(x, y)
    assert trainer.parts == 2
    assert trainer.split_measurement == {
        "whole_ms": 500.0, "split_ms": 300.0, "slices_tried": 2, "slices_kept": 2,
        "sessions": 2, "batch_shape": list(x.shape),
    }
    for _ in range(scale.REMEASURE_AFTER + 1):
        trainer.train_on_batch(x, y)
    assert len(ran) == 4  # two sessions, then never again


def test_the_measurement_applies_nothing_and_an_explicit_split_skips_it(two_cpus_no_gpu):
    # Real timings: whichever path "timed" keeps, its steps equal the whole batch's.
    _, whole_logs, whole = _train(1)
    trainer, auto_logs, auto = _train("timed")
    measurement = trainer.split_measurement
    assert measurement["whole_ms"] > 0 and measurement["split_ms"] > 0
    assert measurement["slices_kept"] == trainer.parts
    assert int(trainer.optimizer.iterations) == 3  # one update per step, none while timing
    for a, b in zip(auto_logs, whole_logs):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    for a, b in zip(auto, whole):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    explicit, _, _ = _train(2)
    assert explicit.parts == 2 and explicit.split_measurement is None


def test_fastest_times_warms_up_each_call_then_keeps_its_fastest_round(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(scale, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))

    def taking(*durations):
        durations = iter(durations)

        def call():
            clock[0] += next(durations)
            return tf.constant(0.0)

        return call

    # The first two durations of each are the untimed warm-up (tracing, compiling).
    calls = {"whole": taking(9.0, 0.1, 3.0, 1.0, 2.0), "split": taking(9.0, 0.1, 0.5, 0.7, 0.6)}
    times = scale.fastest_times(calls, rounds=3, budget_s=100.0, warmup=2)
    assert times == {"whole": 1.0, "split": 0.5}
    calls = {"whole": taking(9.0, 3.0, 1.0), "split": taking(9.0, 0.5, 0.7)}
    # Past the budget after the first round: one round only.
    times = scale.fastest_times(calls, rounds=3, budget_s=1.0, warmup=1)
    assert times == {"whole": 3.0, "split": 0.5}


def test_op_determinism_keeps_the_slices_without_timing(two_cpus_no_gpu, monkeypatch):
    monkeypatch.setattr(scale, "fastest_times", lambda *a, **k: pytest.fail("timed"))
    monkeypatch.setattr(scale, "op_determinism_enabled", lambda: True)
    x, y, _ = _data()
    trainer = BPTTTrainer(tagger(), from_logits=True, verbose=0)
    trainer.train_on_batch(x, y)
    assert trainer.parts == 2 and trainer.split_measurement is None


def test_op_determinism_is_read_from_tensorflow():
    from tensorflow.python.framework import config

    assert not scale.op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    try:
        assert scale.op_determinism_enabled()
    finally:
        config.disable_op_determinism()


def test_auto_does_not_split_without_xla_on_one_core_or_on_a_gpu(
    two_cpus_no_gpu, slices_look_faster, monkeypatch
):
    assert _auto_parts(tagger(), jit_compile=False) == 1
    with monkeypatch.context() as patch:
        patch.setattr(_machine, "usable_cpus", lambda: 1)
        assert _auto_parts(tagger()) == 1
    real = tf.config.list_logical_devices
    with monkeypatch.context() as patch:
        patch.setattr(
            tf.config,
            "list_logical_devices",
            lambda kind=None: ["a GPU"] if kind == "GPU" else real(kind),
        )
        assert _auto_parts(tagger()) == 1


@pytest.mark.parametrize(
    "make_model, reason",
    [
        (lambda: tagger(keras.layers.BatchNormalization()), "normalizes over the batch"),
        (lambda: tagger(keras.layers.Dropout(0.2)), "rate=0.2"),
        (lambda: tagger(dropout=0.3), "dropout=0.3"),
        (lambda: tagger(keras.layers.GaussianNoise(0.1)), "stddev=0.1"),
        (lambda: tagger(kernel_regularizer="l2"), "kernel_regularizer"),
    ],
    ids=["batch_norm", "dropout_layer", "rnn_dropout", "noise", "regularizer"],
)
def test_auto_keeps_coupled_models_whole_and_explicit_split_names_why(
    make_model, reason, two_cpus_no_gpu, slices_look_faster
):
    assert _auto_parts(make_model()) == 1
    with pytest.raises(ValueError, match=f"batch_split.*{reason}|{reason}.*batch_split"):
        _auto_parts(make_model(), batch_split=2)


def test_a_stateful_rnn_is_not_split(two_cpus_no_gpu, slices_look_faster):
    model = keras.Sequential(
        [
            keras.Input((8, INPUT_DIM), batch_size=9),
            VanillaRNN(UNITS, output_dim=OUTPUT_DIM, return_sequences=True, stateful=True),
        ]
    )
    assert _auto_parts(model) == 1


class _AddsALoss(keras.layers.Layer):
    """An activation penalty through add_loss: invisible until the model is called."""

    def call(self, inputs):
        self.add_loss(0.01 * tf.reduce_mean(tf.square(inputs)))
        return inputs


def test_added_losses_fall_back_to_the_whole_batch(two_cpus_no_gpu, slices_look_faster):
    x, y, _ = _data()
    results = []
    for batch_split in ("timed", 1):
        model = tagger(_AddsALoss())
        trainer = BPTTTrainer(model, from_logits=True, batch_split=batch_split, verbose=0)
        logs = trainer.train_on_batch(x, y)
        results.append((trainer.parts, logs["loss"], model.get_weights()))
    assert results[0][0] == 1  # auto found the added loss while tracing and did not split
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-6)
    for a, b in zip(results[0][2], results[1][2]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    trainer = BPTTTrainer(tagger(_AddsALoss()), from_logits=True, batch_split=2, verbose=0)
    with pytest.raises(ValueError, match="batch_split.*adds losses"):
        trainer.train_on_batch(x, y)


@pytest.mark.parametrize("value", [0, -2, 1.5, "two", True, "Timed", None])
def test_invalid_batch_split_raises_naming_the_argument(value):
    with pytest.raises(ValueError, match='`batch_split` must be "timed" or a positive integer'):
        BPTTTrainer(tagger(), batch_split=value)


def test_the_layers_auto_spelling_is_refused_naming_the_trainers_policy():
    # "auto" is VanillaRNN's fixed rule; the trainer's timed choice has its own name.
    with pytest.raises(ValueError, match='"timed" or a positive integer.*"auto" is the fixed rule'):
        BPTTTrainer(tagger(), batch_split="auto")
    assert BPTTTrainer(tagger()).batch_split == "timed"


def test_batch_split_and_a_strategy_do_not_combine():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = tagger()
    with pytest.raises(ValueError, match="batch_split.*strategy"):
        BPTTTrainer(model, strategy=strategy, batch_split=2)
