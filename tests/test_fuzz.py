"""Fuzz the public API with hypothesis: random shapes, dtypes, NaNs, empty and long
sequences, out-of-range labels. Every case either works or raises a ValueError that
names an argument; nothing else escapes and nothing turns silently into NaN."""

import re

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_tf import VanillaRNN
from rnn_tf.bptt import BPTTTrainer, RNNParams, bptt

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
NAMED = re.compile(r"`\w+`|\w+=")  # the message names the argument it is about

shapes = st.lists(st.integers(0, 6), min_size=1, max_size=4).map(tuple)
dtypes = st.sampled_from(["float32", "float64", "float16", "int32", "bool"])
poison = st.sampled_from([None, np.nan, np.inf, -np.inf, 1e30])


def _array(shape, dtype, bad, seed=0):
    values = np.random.default_rng(seed).normal(size=shape)
    if bad is not None and values.size:
        values.flat[0] = bad
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype)


def _works_or_names_the_problem(call):
    try:
        return call()
    except ValueError as error:
        assert NAMED.search(str(error)), f"error does not name an argument: {error}"
        return None


@FUZZ
@given(shape=shapes, dtype=dtypes, units=st.integers(-2, 5), bad=poison)
def test_vanilla_rnn_on_random_input(shape, dtype, units, bad):
    x = _array(shape, dtype, bad)

    def call():
        return VanillaRNN(units, return_sequences=True)(x)

    out = _works_or_names_the_problem(call)
    if out is not None:
        assert out.shape == (shape[0], shape[1], units)
        if np.issubdtype(x.dtype, np.floating) and np.isfinite(x).all() and np.abs(x).max(
            initial=0
        ) < 1e4:
            assert np.isfinite(np.asarray(out, dtype="float64")).all()


@FUZZ
@given(
    batch=st.integers(0, 4), steps=st.integers(0, 5), features=st.integers(1, 3),
    label_shift=st.sampled_from([0, 0, 5, -1]), bad=poison,
)
def test_trainer_on_random_batches(batch, steps, features, label_shift, bad):
    x = _array((batch, steps, features), "float32", bad)
    y = np.random.default_rng(1).integers(0, 3, size=(batch, steps)) + label_shift
    model = keras.Sequential(
        [keras.Input((None, features)), VanillaRNN(4, output_dim=3, return_sequences=True)]
    )
    trainer = BPTTTrainer(model, from_logits=True, verbose=0, on_non_finite="raise")
    history = _works_or_names_the_problem(lambda: trainer.fit(x, y, epochs=1, batch_size=2))
    if history is not None:
        assert np.isfinite(history.history["loss"][0])


@FUZZ
@given(
    steps=st.integers(0, 6), units=st.integers(1, 4), label_shift=st.sampled_from([0, 3, -1]),
    truncate=st.sampled_from([None, 0, 1, 3]),
)
def test_reference_bptt_on_random_problems(steps, units, label_shift, truncate):
    params = RNNParams.random(2, units, 3)
    x = np.random.default_rng(0).normal(size=(2, steps, 2))
    y = np.random.default_rng(1).integers(0, 3, size=(2, steps)) + label_shift
    grads = _works_or_names_the_problem(lambda: bptt(params, x, y, truncate=truncate))
    if grads is not None:
        assert all(np.isfinite(g).all() for g in grads.as_dict().values())


@pytest.mark.slow
def test_a_long_sequence_runs_with_flat_truncated_memory():
    from rnn_tf.bptt import state_passing_model

    x = np.random.default_rng(0).normal(size=(2, 5000, 2)).astype("float32")
    y = np.zeros((2, 5000), int)
    model = state_passing_model(
        VanillaRNN(8, output_dim=2, return_sequences=True, return_state=True), input_dim=2
    )
    history = BPTTTrainer(model, from_logits=True, truncate=500, verbose=0).fit(x, y)
    assert np.isfinite(history.history["loss"][0])
