"""Batch slices of the fused op: `vanilla_sequence(batch_slices=...)`, and when
`VanillaRNN(batch_split="auto")` asks for them.

Slices must give the numbers of the whole batch (outputs, first- and second-order
gradients, a Keras `fit`), be taken only when the batch is big enough (decided while
tracing when the batch size is known, else at run time), and never inside XLA or in
eager execution, where they would run one after the other."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_tf import VanillaRNN
from rnn_tf.bptt import fused
from rnn_tf.layers import vanilla as vanilla_module

STEPS, INPUT_DIM, UNITS, OUTPUT_DIM = 6, 3, 4, 2


def _sequence_inputs(batch, seed=0):
    """x (time-major), h0, U, W, b, V, c in float64, with non-default values everywhere."""
    rng = np.random.default_rng(seed)
    shapes = [(STEPS, batch, INPUT_DIM), (batch, UNITS), (INPUT_DIM, UNITS), (UNITS, UNITS),
              (UNITS,), (UNITS, OUTPUT_DIM), (OUTPUT_DIM,)]
    return [tf.constant(rng.normal(scale=0.5, size=shape)) for shape in shapes]


def _outputs_and_gradients(tensors, *, batch_slices, known_batch=True):
    """H, O and d(a scalar of H and O)/d(every input), computed in a tf.function."""
    x_spec = tf.TensorSpec((STEPS, tensors[0].shape[1] if known_batch else None, INPUT_DIM),
                           tf.float64)
    h0_spec = tf.TensorSpec((x_spec.shape[1], UNITS), tf.float64)
    weight_specs = [tf.TensorSpec(t.shape, tf.float64) for t in tensors[2:]]

    @tf.function(input_signature=[x_spec, h0_spec, *weight_specs])
    def run(*inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            states, logits = fused.vanilla_sequence(*inputs, batch_slices=batch_slices)
            loss = tf.reduce_sum(tf.sin(states)) + tf.reduce_sum(tf.cos(logits) * logits)
        return [states, logits, *tape.gradient(loss, inputs)]

    return [t.numpy() for t in run(*tensors)]


@pytest.mark.parametrize("known_batch", [True, False], ids=["batch_known", "batch_at_run_time"])
@pytest.mark.parametrize("batch,batch_slices", [(5, 2), (6, 3), (7, 4)])
def test_slices_give_the_whole_batch_outputs_and_gradients(batch, batch_slices, known_batch):
    tensors = _sequence_inputs(batch)
    whole = _outputs_and_gradients(tensors, batch_slices=1, known_batch=known_batch)
    sliced = _outputs_and_gradients(tensors, batch_slices=batch_slices, known_batch=known_batch)
    names = ["H", "O", "dx", "dh0", "dU", "dW", "db", "dV", "dc"]
    for name, expected, actual in zip(names, whole, sliced):
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12, err_msg=name)


def test_slices_give_the_whole_batch_second_derivative():
    tensors = _sequence_inputs(batch=5)
    x, h0, U, W, b, V, c = tensors

    def penalty(batch_slices):
        @tf.function
        def run():
            with tf.GradientTape() as outer:
                outer.watch([W, V])
                with tf.GradientTape() as inner:
                    inner.watch([U, W])
                    states, logits = fused.vanilla_sequence(x, h0, U, W, b, V, c,
                                                  batch_slices=batch_slices)
                    loss = tf.reduce_sum(tf.sin(logits)) + tf.reduce_sum(states**2)
                grads = inner.gradient(loss, [U, W])
                norm = tf.add_n([tf.reduce_sum(g**2) for g in grads])
            return outer.gradient(norm, [W, V])

        return [g.numpy() for g in run()]

    for expected, actual in zip(penalty(1), penalty(2)):
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


def _slice_rows(batch, parts, step_work, *, known_batch):
    """Each batch row labelled with the row count of the slice `_in_batch_slices` ran it in."""
    def rows_of_slice(x, h0):
        return [tf.fill([1, tf.shape(x)[1]], tf.shape(x)[1])]

    spec = tf.TensorSpec((1, batch if known_batch else None, 1), tf.float32)

    @tf.function(input_signature=[spec])
    def run(x):
        h0 = tf.zeros([tf.shape(x)[1], UNITS])
        h0.set_shape([x.shape[1], UNITS])
        batched = [(x, 1), (h0, 0)]
        return fused._in_batch_slices(rows_of_slice, batched, ["concat"], UNITS, parts,
                                      step_work)[0]

    return run(tf.zeros([1, batch, 1])).numpy()[0].tolist()


@pytest.mark.parametrize("known_batch", [True, False], ids=["batch_known", "batch_at_run_time"])
def test_slices_are_taken_only_when_the_batch_is_big_enough(known_batch):
    # UNITS^2 = 16 multiply-adds per row and step: 5 rows are 80, 4 rows 64, 6 rows 96.
    assert _slice_rows(5, 2, (80, None), known_batch=known_batch) == [3, 3, 3, 2, 2]
    assert _slice_rows(4, 2, (80, None), known_batch=known_batch) == [4, 4, 4, 4]
    assert _slice_rows(5, 2, (80, 96), known_batch=known_batch) == [3, 3, 3, 2, 2]
    assert _slice_rows(6, 2, (80, 96), known_batch=known_batch) == [6] * 6
    assert _slice_rows(7, 3, (0, None), known_batch=known_batch) == [3, 3, 3, 2, 2, 2, 2]
    # Fewer rows than slices: the whole batch.
    assert _slice_rows(1, 2, (0, None), known_batch=known_batch) == [1]
    assert _slice_rows(5, 1, (0, None), known_batch=known_batch) == [5] * 5


def test_batch_slices_must_be_a_positive_int():
    tensors = _sequence_inputs(batch=2)
    with pytest.raises(ValueError, match="`batch_slices` must be a positive integer"):
        fused.vanilla_sequence(*tensors, batch_slices=0)


def test_in_xla_computation_knows_where_the_ops_are_built():
    seen = {}

    @tf.function(jit_compile=True)
    def compiled():
        seen["jit_compile=True"] = fused.in_xla_computation()
        called_from_compiled()
        return tf.constant(0)

    @tf.function
    def called_from_compiled():
        seen["plain function called from it"] = fused.in_xla_computation()

    @tf.function
    def plain():
        seen["plain tf.function"] = fused.in_xla_computation()
        return tf.constant(0)

    seen["eager"] = fused.in_xla_computation()
    compiled()
    plain()
    assert seen == {"eager": False, "jit_compile=True": True,
                    "plain function called from it": True, "plain tf.function": False}


def _resolved(layer, where, cpus, monkeypatch):
    """What `layer`'s batch_split means when the op is built `where`, with `cpus` usable."""
    monkeypatch.setattr(vanilla_module._machine, "usable_cpus", lambda: cpus)
    if where == "eager":
        return layer._batch_slices(fused)
    seen = []

    @tf.function(jit_compile=where == "jit_compile")
    def trace():
        seen.append(layer._batch_slices(fused))
        return tf.constant(0)

    trace()
    return seen[0]


@pytest.mark.skipif(bool(tf.config.list_logical_devices("GPU")), reason="CPU-only rule")
def test_auto_asks_for_two_slices_only_in_a_plain_graph_on_several_cores(monkeypatch):
    layer = VanillaRNN(UNITS)
    two = (2, (vanilla_module.SPLIT_MIN_STEP_WORK, vanilla_module.SPLIT_MAX_STEP_WORK))
    whole = (1, (0, None))
    assert _resolved(layer, "tf.function", 2, monkeypatch) == two
    assert _resolved(layer, "tf.function", 1, monkeypatch) == whole
    assert _resolved(layer, "eager", 2, monkeypatch) == whole
    assert _resolved(layer, "jit_compile", 2, monkeypatch) == whole


@pytest.mark.parametrize("where", ["eager", "tf.function", "jit_compile"])
def test_an_int_batch_split_is_used_everywhere(where, monkeypatch):
    assert _resolved(VanillaRNN(UNITS, batch_split=3), where, 1, monkeypatch) == (3, (0, None))


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "two", None])
def test_invalid_batch_split_raises_naming_the_argument(value):
    with pytest.raises(ValueError, match="`batch_split` must be a positive integer"):
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


@pytest.mark.parametrize(
    "batch_split,units,samples,batch_size",
    [(2, 4, 13, 4),
     # Batches of 64 rows x 128^2 reach SPLIT_MIN_STEP_WORK; the last one of 2 rows does not.
     ("auto", 128, 130, 64)],
    ids=["two_slices", "auto"],
)
def test_keras_fit_with_slices_trains_like_the_whole_batch(batch_split, units, samples,
                                                            batch_size):
    whole = _fitted_weights(1, units, samples, batch_size)
    sliced = _fitted_weights(batch_split, units, samples, batch_size)
    for expected, actual in zip(whole, sliced):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
