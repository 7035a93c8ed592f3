"""VanillaRNN's `batch_split`: when "auto" asks the fused op for batch slices
(`rnn_tf.bptt.fused.batch_slicing`), that an int is used as given, that it survives
get_config, and that Keras `fit` with slices trains like the whole batch."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_tf import VanillaRNN, _machine
from rnn_tf.bptt import fused

UNITS = 4
AUTO_SLICES = {"batch_slices": 2, "min_step_work": fused.SPLIT_MIN_STEP_WORK,
               "max_step_work": fused.SPLIT_MAX_STEP_WORK}
WHOLE = {"batch_slices": 1}


@pytest.fixture
def cores(monkeypatch):
    """Set how many CPUs the process may use, as `rnn_tf._machine` reports them."""
    def set_cores(count):
        monkeypatch.setattr(_machine, "usable_cpus", lambda: count)

    return set_cores


def _resolved(layer, where):
    """The op's slicing arguments that `layer` asks for when the op is built `where`."""
    if where == "eager":
        return fused.batch_slicing(layer.batch_split)
    seen = []

    @tf.function(jit_compile=where == "jit_compile")
    def trace():
        seen.append(fused.batch_slicing(layer.batch_split))
        return tf.constant(0)

    trace()
    return seen[0]


@pytest.mark.skipif(bool(tf.config.list_logical_devices("GPU")), reason="CPU-only rule")
@pytest.mark.parametrize(
    "where,cpus,expected",
    [("tf.function", 2, AUTO_SLICES), ("tf.function", 1, WHOLE), ("eager", 2, WHOLE),
     ("jit_compile", 2, WHOLE)],
    ids=["plain_graph", "one_core", "eager", "inside_xla"],
)
def test_auto_asks_for_two_slices_only_in_a_plain_graph_on_several_cores(
    where, cpus, expected, cores
):
    cores(cpus)
    assert _resolved(VanillaRNN(UNITS), where) == expected


@pytest.mark.skipif(bool(tf.config.list_logical_devices("GPU")), reason="CPU-only rule")
@pytest.mark.parametrize(
    "known_batch,training,expected",
    [(False, True, AUTO_SLICES), (True, False, AUTO_SLICES), (False, False, WHOLE)],
    ids=["training_any_batch", "inference_known_batch", "inference_any_batch"],
)
def test_auto_leaves_an_inference_graph_for_any_batch_size_whole(known_batch, training,
                                                                 expected, cores):
    # What `model.export` traces: a run-time choice would be a tf.cond TFLite cannot convert.
    cores(2)
    layer = VanillaRNN(UNITS)
    seen = []

    @tf.function
    def trace():
        seen.append(fused.batch_slicing(layer.batch_split, known_batch=known_batch,
                                        training=training))
        return tf.constant(0)

    trace()
    assert seen == [expected]


def test_auto_leaves_the_batch_whole_in_a_strategy_with_several_replicas(cores, monkeypatch):
    cores(2)

    class TwoReplicas:
        num_replicas_in_sync = 2

    monkeypatch.setattr(tf.distribute, "get_strategy", lambda: TwoReplicas())
    assert _resolved(VanillaRNN(UNITS), "tf.function") == WHOLE


def test_auto_leaves_the_batch_whole_when_tensorflow_runs_one_op_at_a_time(cores,
                                                                            monkeypatch):
    cores(2)
    monkeypatch.setattr(tf.config.threading, "get_inter_op_parallelism_threads", lambda: 1)
    assert _resolved(VanillaRNN(UNITS), "tf.function") == WHOLE


@pytest.mark.parametrize("where", ["eager", "tf.function", "jit_compile"])
def test_an_int_batch_split_is_used_everywhere(where, cores):
    cores(1)
    assert _resolved(VanillaRNN(UNITS, batch_split=3), where) == {"batch_slices": 3}


def test_a_numpy_int_batch_split_is_a_python_int():
    batch_split = VanillaRNN(UNITS, batch_split=np.int64(2)).batch_split
    assert batch_split == 2 and type(batch_split) is int


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "two", "Auto", None])
def test_invalid_batch_split_raises_naming_the_argument(value):
    with pytest.raises(ValueError, match='`batch_split` must be "auto" or a positive integer'):
        VanillaRNN(UNITS, batch_split=value)


def test_batch_split_survives_get_config():
    layer = VanillaRNN(UNITS, batch_split=2)
    assert VanillaRNN.from_config(layer.get_config()).batch_split == 2
    assert VanillaRNN(UNITS).get_config()["batch_split"] == "auto"


def _fitted_weights(batch_split, units, samples, batch_size):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 3, 2)).astype("float32")
    y = rng.integers(0, 3, size=(samples, 3))
    inputs = keras.Input((3, 2))
    outputs = VanillaRNN(units, output_dim=3, return_sequences=True,
                         batch_split=batch_split)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # A last batch smaller than the others: Keras traces with an unknown batch size.
    model.fit(x, y, batch_size=batch_size, epochs=2, shuffle=False, verbose=0)
    return model.get_weights()


@pytest.mark.skipif(bool(tf.config.list_logical_devices("GPU")), reason="CPU-only rule")
@pytest.mark.parametrize(
    "batch_split,units,samples,batch_size",
    [(2, 4, 13, 4),
     # Batches of 64 rows x 128^2 reach SPLIT_MIN_STEP_WORK; the last one of 2 rows does not.
     ("auto", 128, 130, 64)],
    ids=["two_slices", "auto"],
)
def test_keras_fit_with_slices_trains_like_the_whole_batch(batch_split, units, samples,
                                                            batch_size, cores, slices_built):
    cores(2)
    whole = _fitted_weights(1, units, samples, batch_size)
    assert slices_built == []
    sliced = _fitted_weights(batch_split, units, samples, batch_size)
    assert slices_built, "the sliced path was never built"
    for expected, actual in zip(whole, sliced):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
