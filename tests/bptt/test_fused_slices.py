"""Batch slices of the fused op: `vanilla_sequence(batch_slices=...)`.

Slices must give the numbers of the whole batch (outputs, first- and second-order
gradients), with or without bias and head, be built only when the batch is big enough
(decided while tracing when the batch size is known, else at run time), and
`in_xla_computation` must tell where they would run one after the other."""

import numpy as np
import pytest
import tensorflow as tf

from rnn_tf.bptt import fused

STEPS, INPUT_DIM, UNITS, OUTPUT_DIM = 6, 3, 4, 2


def _sequence_inputs(batch, seed=0, bias=True, head=True):
    """x (time-major), h0, U, W, b, V, c in float64 with non-default values everywhere;
    None for the bias and the head's V, c without them."""
    rng = np.random.default_rng(seed)
    shapes = [(STEPS, batch, INPUT_DIM), (batch, UNITS), (INPUT_DIM, UNITS), (UNITS, UNITS),
              (UNITS,) if bias else None, (UNITS, OUTPUT_DIM) if head else None,
              (OUTPUT_DIM,) if head else None]
    return [None if shape is None else tf.constant(rng.normal(scale=0.5, size=shape))
            for shape in shapes]


def _outputs_and_gradients(tensors, *, batch_slices, known_batch=True):
    """H, O and d(a scalar of H and O)/d(every input), computed in a tf.function."""
    present = [t for t in tensors if t is not None]
    batch = tensors[0].shape[1] if known_batch else None
    x_spec = tf.TensorSpec((STEPS, batch, INPUT_DIM), tf.float64)
    h0_spec = tf.TensorSpec((batch, UNITS), tf.float64)
    weight_specs = [tf.TensorSpec(t.shape, tf.float64) for t in present[2:]]

    @tf.function(input_signature=[x_spec, h0_spec, *weight_specs])
    def run(*inputs):
        inputs = list(inputs)
        args = [None if t is None else inputs.pop(0) for t in tensors]
        with tf.GradientTape() as tape:
            tape.watch([a for a in args if a is not None])
            states, logits = fused.vanilla_sequence(*args, batch_slices=batch_slices)
            loss = tf.reduce_sum(tf.sin(states))
            if logits is not None:
                loss += tf.reduce_sum(tf.cos(logits) * logits)
        sources = [a for a in args if a is not None]
        outputs = [states] + ([] if logits is None else [logits])
        return outputs + tape.gradient(loss, sources)

    return [t.numpy() for t in run(*present)]


@pytest.mark.parametrize("known_batch", [True, False], ids=["batch_known", "batch_at_run_time"])
@pytest.mark.parametrize("batch,batch_slices", [(5, 2), (6, 3), (7, 4)])
def test_slices_give_the_whole_batch_outputs_and_gradients(batch, batch_slices, known_batch,
                                                           slices_built):
    tensors = _sequence_inputs(batch)
    whole = _outputs_and_gradients(tensors, batch_slices=1, known_batch=known_batch)
    assert slices_built == []
    sliced = _outputs_and_gradients(tensors, batch_slices=batch_slices, known_batch=known_batch)
    # Forward and backward each build their slices.
    assert slices_built == [batch_slices] * 2
    names = ["H", "O", "dx", "dh0", "dU", "dW", "db", "dV", "dc"]
    for name, expected, actual in zip(names, whole, sliced):
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("known_batch", [True, False], ids=["batch_known", "batch_at_run_time"])
@pytest.mark.parametrize("bias,head", [(False, True), (True, False), (False, False)],
                         ids=["no_bias", "no_head", "neither"])
def test_slices_without_bias_or_head_give_the_whole_batch_numbers(bias, head, known_batch,
                                                                  slices_built):
    tensors = _sequence_inputs(batch=5, bias=bias, head=head)
    whole = _outputs_and_gradients(tensors, batch_slices=1, known_batch=known_batch)
    sliced = _outputs_and_gradients(tensors, batch_slices=2, known_batch=known_batch)
    assert slices_built == [2, 2]
    assert len(sliced) == len(whole) == 1 + head + 4 + bias + 2 * head
    for expected, actual in zip(whole, sliced):
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("known_batch", [True, False], ids=["batch_known", "batch_at_run_time"])
def test_slices_give_the_whole_batch_second_derivative(known_batch, slices_built):
    tensors = _sequence_inputs(batch=5)
    h0, U, W, b, V, c = tensors[1:]

    def penalty(batch_slices):
        spec = tf.TensorSpec((STEPS, 5 if known_batch else None, INPUT_DIM), tf.float64)

        @tf.function(input_signature=[spec])
        def run(x):
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

        return [g.numpy() for g in run(tensors[0])]

    whole = penalty(1)
    sliced = penalty(2)
    assert slices_built
    for expected, actual in zip(whole, sliced):
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
@pytest.mark.parametrize(
    "batch,parts,step_work,rows",
    [
        # UNITS^2 = 16 multiply-adds per row and step: 4 rows are 64, 5 rows 80, 6 rows 96.
        (5, 2, (80, None), [3, 3, 3, 2, 2]),
        (4, 2, (80, None), [4] * 4),
        (5, 2, (80, 96), [3, 3, 3, 2, 2]),
        (6, 2, (80, 96), [6] * 6),
        (7, 3, (0, None), [3, 3, 3, 2, 2, 2, 2]),
        (1, 2, (0, None), [1]),  # fewer rows than slices
        (5, 1, (0, None), [5] * 5),
    ],
    ids=["at_least", "below_least", "in_range", "at_bound", "three_slices", "one_row",
         "one_slice"],
)
def test_slices_are_taken_only_for_batch_sizes_in_range(batch, parts, step_work, rows,
                                                        known_batch):
    assert _slice_rows(batch, parts, step_work, known_batch=known_batch) == rows


def test_no_slices_are_built_when_no_batch_size_is_in_range(slices_built):
    # UNITS^2 = 16 >= the bound: even one row is too much work, whatever the batch.
    assert _slice_rows(5, 2, (0, 16), known_batch=False) == [5] * 5
    assert slices_built == []


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
