"""The fused BPTT op (rnn_tf.bptt.fused) against autodiff and finite differences.

VanillaRNN with `use_fused_bptt` on must give the same outputs and the same gradients
(first and second order, reverse and forward mode) as the generic Keras `while_loop`
differentiated by TensorFlow, for tanh and relu, in every mode the op covers; with
`use_fused_bptt="auto"` the modes it does not cover take the generic loop."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_tf import VanillaRNN
from rnn_tf.bptt import fused as fused_module
from rnn_tf.bptt.fused import vanilla_sequence

BATCH, STEPS, INPUT_DIM, UNITS, OUTPUT_DIM = 3, 7, 4, 5, 2


def _inputs(seed=0, steps=STEPS, dtype="float32"):
    return np.random.default_rng(seed).normal(size=(BATCH, steps, INPUT_DIM)).astype(dtype)


def _fused_and_generic(x, **kwargs):
    """Two VanillaRNNs with the same weights in x's dtype: the fused path and the generic loop."""
    fused = VanillaRNN(UNITS, dtype=str(x.dtype), use_fused_bptt=True, **kwargs)
    generic = VanillaRNN(UNITS, dtype=str(x.dtype), use_fused_bptt=False, **kwargs)
    fused.build(x.shape)
    generic.build(x.shape)
    rng = np.random.default_rng(1)
    # Non-default weights (a non-zero bias, a W that is not orthogonal) so that
    # every term of the gradient is exercised.
    weights = [rng.normal(scale=0.5, size=w.shape).astype(x.dtype) for w in fused.get_weights()]
    fused.set_weights(weights)
    generic.set_weights(weights)
    return fused, generic


def _weighted_sum(output, offset):
    """A scalar that weights every entry differently, so no gradient term can cancel."""
    dtype = "float64" if output.dtype == tf.float64 else "float32"
    output = tf.cast(output, dtype)
    weights = tf.sin(tf.cast(tf.range(tf.size(output)), dtype) + float(offset))
    return tf.reduce_sum(output * tf.reshape(weights, tf.shape(output)))


def _outputs_and_gradients(layer, x, h0=None, compiled=False, jit_compile=False):
    """Layer outputs and d(sum of outputs * fixed weights)/d(weights, x, h0)."""
    x = tf.convert_to_tensor(x)
    h0 = None if h0 is None else tf.convert_to_tensor(h0)

    def run(x, h0):
        with tf.GradientTape() as tape:
            tape.watch(x)
            if h0 is not None:
                tape.watch(h0)
            out = layer(x) if h0 is None else layer(x, initial_state=[h0])
            flat = tf.nest.flatten(out)
            loss = tf.add_n([_weighted_sum(o, i) for i, o in enumerate(flat)])
        sources = [*layer.trainable_variables, x] + ([h0] if h0 is not None else [])
        return flat, tape.gradient(loss, sources)

    if compiled:
        run = tf.function(run, jit_compile=jit_compile)
    return run(x, h0)


# The fused and generic paths sum in different orders; in float64 they agree to
# ~1e-15, while float32 gradients that are sums of many terms differed by 4e-5
# relative between runs (oneDNN/Eigen reduction order), so equality is checked in float64.
def _assert_same(fused, generic, x, h0=None, rtol=1e-10, atol=1e-12, **kwargs):
    out_f, grads_f = _outputs_and_gradients(fused, x, h0, **kwargs)
    out_g, grads_g = _outputs_and_gradients(generic, x, h0, **kwargs)
    assert len(out_f) == len(out_g)
    for a, b in zip(out_f, out_g):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    assert len(grads_f) == len(grads_g)
    for a, b in zip(grads_f, grads_g):
        assert a is not None and b is not None
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"return_sequences": True},
        {},
        {"return_sequences": True, "return_state": True},
        {"return_sequences": True, "go_backwards": True},
        {"return_sequences": True, "output_dim": OUTPUT_DIM},
        {"output_dim": OUTPUT_DIM, "output_activation": "softmax", "return_state": True},
        {"return_sequences": True, "use_bias": False},
    ],
    ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "default",
)
def test_fused_outputs_and_gradients_equal_generic_loop(activation, kwargs):
    x = _inputs(dtype="float64")
    fused, generic = _fused_and_generic(x, activation=activation, **kwargs)
    _assert_same(fused, generic, x)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradient_reaches_the_initial_state(activation):
    x = _inputs(dtype="float64")
    fused, generic = _fused_and_generic(x, activation=activation, return_sequences=True)
    h0 = np.random.default_rng(2).normal(size=(BATCH, UNITS))
    _assert_same(fused, generic, x, h0=h0)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["tf_function", "jit_compile"])
def test_fused_equals_generic_inside_compiled_functions(jit_compile):
    x = _inputs(dtype="float64")
    fused, generic = _fused_and_generic(x, output_dim=OUTPUT_DIM, return_sequences=True)
    _assert_same(fused, generic, x, compiled=True, jit_compile=jit_compile)


def test_single_step_sequence():
    x = _inputs(steps=1, dtype="float64")
    fused, generic = _fused_and_generic(x, return_sequences=True, return_state=True)
    _assert_same(fused, generic, x)


@pytest.fixture
def fused_calls(monkeypatch):
    """A list that grows by one each time the layer calls the fused op."""
    calls = []
    original = fused_module.vanilla_sequence

    def spy(*args, **kw):
        calls.append(1)
        return original(*args, **kw)

    monkeypatch.setattr(fused_module, "vanilla_sequence", spy)
    return calls


def _sequence_args(rng, dtype, steps=4, batch=2, input_dim=3, units=3, output_dim=2):
    shapes = {
        "x": (steps, batch, input_dim),
        "h0": (batch, units),
        "U": (input_dim, units),
        "W": (units, units),
        "b": (units,),
        "V": (units, output_dim),
        "c": (output_dim,),
    }
    return {k: tf.constant(rng.normal(scale=0.7, size=s).astype(dtype)) for k, s in shapes.items()}


@pytest.mark.parametrize("jit_compile", [False, True], ids=["while_loop", "xla"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_sequence_gradient_equals_finite_differences(jit_compile, activation):
    # float64, so central differences are accurate to ~1e-10 with this delta.
    args = _sequence_args(np.random.default_rng(3), "float64")
    names = list(args)

    def f(*values):
        kwargs = dict(zip(names, values))
        H, logits = vanilla_sequence(**kwargs, activation=activation, jit_compile=jit_compile)
        return tf.reduce_sum(H * tf.sin(H)) + tf.reduce_sum(logits * tf.cos(logits))

    theoretical, numerical = tf.test.compute_gradient(f, list(args.values()), delta=1e-6)
    for name, t, n in zip(names, theoretical, numerical):
        np.testing.assert_allclose(t, n, rtol=1e-6, atol=1e-8, err_msg=name)


def test_xla_and_while_loop_paths_agree():
    args = _sequence_args(np.random.default_rng(4), "float32", steps=9, batch=3, units=6)
    results = []
    for jit_compile in (False, True):
        with tf.GradientTape() as tape:
            tape.watch(list(args.values()))
            H, logits = vanilla_sequence(**args, activation="tanh", jit_compile=jit_compile)
            loss = tf.reduce_sum(H * tf.cos(H)) + tf.reduce_sum(logits * logits)
        results.append([H, logits, *tape.gradient(loss, list(args.values()))])
    for a, b in zip(*results):
        # float32 rounding differs between the two compilations: compare at the
        # scale of each tensor (some gradient entries are ~10, others ~1e-3).
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * float(np.max(np.abs(b))))


def test_mixed_precision_gradients_are_close_to_float32():
    x = _inputs()
    reference, _ = _fused_and_generic(x, return_sequences=True)
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        layer = VanillaRNN(UNITS, return_sequences=True)
        layer.build(x.shape)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    layer.set_weights(reference.get_weights())
    out16, grads16 = _outputs_and_gradients(layer, x)
    out32, grads32 = _outputs_and_gradients(reference, x)
    assert out16[0].dtype == "float16"
    np.testing.assert_allclose(np.asarray(out16[0], "float32"), out32[0], atol=5e-3)
    for a, b in zip(grads16[:3], grads32[:3]):  # U, W, b: float32 variables
        assert a.dtype == "float32"
        np.testing.assert_allclose(a, b, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize(
    "kwargs, call_kwargs",
    [
        ({"unroll": True}, {}),
        ({"activation": "sigmoid"}, {}),
        ({"recurrent_dropout": 0.3, "seed": 1}, {"training": True}),
        ({}, {"mask": np.ones((BATCH, STEPS), bool)}),
    ],
    ids=["unroll", "sigmoid", "recurrent_dropout", "mask"],
)
def test_auto_takes_the_generic_loop_in_uncovered_modes(kwargs, call_kwargs, fused_calls):
    VanillaRNN(UNITS, **kwargs)(_inputs(), **call_kwargs)
    assert not fused_calls
    VanillaRNN(UNITS)(_inputs())
    assert fused_calls  # the spy does see the fused path when it applies


@pytest.mark.parametrize(
    "kwargs, call_kwargs, reason",
    [
        ({"unroll": True}, {}, "unroll"),
        ({"activation": "sigmoid"}, {}, "activation"),
        ({"recurrent_dropout": 0.3, "seed": 1}, {"training": True}, "recurrent_dropout"),
        ({}, {"mask": np.ones((BATCH, STEPS), bool)}, "mask"),
    ],
    ids=["unroll", "sigmoid", "recurrent_dropout", "mask"],
)
def test_use_fused_bptt_true_raises_in_uncovered_modes(kwargs, call_kwargs, reason):
    with pytest.raises(ValueError, match=f"use_fused_bptt=True.*{reason}"):
        VanillaRNN(UNITS, use_fused_bptt=True, **kwargs)(_inputs(), **call_kwargs)


def test_recurrent_dropout_outside_training_keeps_the_fused_path(fused_calls):
    VanillaRNN(UNITS, recurrent_dropout=0.3, use_fused_bptt=True)(_inputs(), training=False)
    assert fused_calls


def test_use_fused_bptt_false_always_takes_the_generic_loop(fused_calls):
    VanillaRNN(UNITS, use_fused_bptt=False, return_sequences=True)(_inputs())
    assert not fused_calls


@pytest.mark.parametrize("value", ["yes", None, 1, "Auto"])
def test_invalid_use_fused_bptt_raises_naming_the_argument(value):
    with pytest.raises(ValueError, match="Argument `use_fused_bptt` must be"):
        VanillaRNN(UNITS, use_fused_bptt=value)


def test_input_dropout_keeps_the_fused_path_and_equals_generic():
    x = _inputs()
    fused, generic = _fused_and_generic(x, dropout=0.4, seed=5, return_sequences=True)
    np.testing.assert_allclose(
        fused(x, training=True), generic(x, training=True), rtol=1e-6, atol=1e-6
    )


def test_unsupported_activation_name_raises():
    with pytest.raises(ValueError, match="activation"):
        zeros = tf.zeros((3, 3))
        vanilla_sequence(tf.zeros((2, 1, 3)), zeros[:1], zeros, zeros, activation="sigmoid")


@pytest.mark.parametrize("dtype", ["int32", "bool", "float32"])
@pytest.mark.parametrize("shape", [(0, 1, 0), (2, 3, 0), (0, 2, 3), (2, 3, 4)])
def test_integer_inputs_and_empty_axes_match_the_generic_loop(dtype, shape):
    # Found by the fuzz test: the fused path must cast like the generic loop and must not
    # infer a reshape size from a zero-sized axis.
    x = (np.arange(np.prod(shape)).reshape(shape) % 3).astype(dtype)
    fused = VanillaRNN(3, return_sequences=True, use_fused_bptt=True)
    generic = VanillaRNN(3, return_sequences=True, use_fused_bptt=False)
    fused.build(shape)
    generic.build(shape)
    generic.set_weights(fused.get_weights())
    np.testing.assert_allclose(fused(x), generic(x), rtol=1e-6, atol=1e-6)


# --- higher-order and forward-mode differentiation, against SimpleRNN -------------------


def _fused_and_simple_rnn(x, use_fused_bptt=True, **kwargs):
    """A VanillaRNN (on the fused path by default) and a SimpleRNN with the same weights."""
    ours = VanillaRNN(UNITS, dtype=str(x.dtype), use_fused_bptt=use_fused_bptt, **kwargs)
    theirs = keras.layers.SimpleRNN(UNITS, dtype=str(x.dtype), **kwargs)
    ours.build(x.shape)
    theirs.build(x.shape)
    rng = np.random.default_rng(1)
    weights = [rng.normal(scale=0.5, size=w.shape).astype(x.dtype) for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    return ours, theirs


def _gradient_penalty_gradients(layer, x):
    """d/d(weights, x) of |dL/dx|^2 + |dL/dW|^2: a tape inside a tape (a gradient penalty)."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            loss = _weighted_sum(layer(x), 0)
        dx, dW = inner.gradient(loss, [x, layer.trainable_variables[1]])
        penalty = tf.reduce_sum(dx * dx) + tf.reduce_sum(dW * dW)
    return outer.gradient(penalty, [*layer.trainable_variables, x])


def _forward_mode_derivative(layer, x):
    """The JVP of the outputs along fixed tangents of every weight and of x."""
    x = tf.convert_to_tensor(x)
    # The tf.Variable behind each Keras variable: what the accumulator watches.
    primals = [*(v.value for v in layer.trainable_variables), x]
    rng = np.random.default_rng(7)
    tangents = [tf.constant(rng.normal(size=p.shape), dtype=p.dtype) for p in primals]
    with tf.autodiff.ForwardAccumulator(primals, tangents) as accumulator:
        outputs = tf.nest.flatten(layer(x))
    return [accumulator.jvp(o) for o in outputs]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True, "go_backwards": True}],
                         ids=["last", "sequences-backwards"])
def test_gradient_penalty_through_the_fused_op_equals_simple_rnn(activation, kwargs):
    x = _inputs(dtype="float64")
    ours, theirs = _fused_and_simple_rnn(x, activation=activation, **kwargs)
    for a, b in zip(
        _gradient_penalty_gradients(ours, x), _gradient_penalty_gradients(theirs, x), strict=True
    ):
        assert a is not None and b is not None
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_gradient_penalty_inside_tf_function_equals_simple_rnn():
    x = _inputs(dtype="float64")
    ours, theirs = _fused_and_simple_rnn(x, return_sequences=True)
    run = tf.function(_gradient_penalty_gradients)
    for a, b in zip(run(ours, x), run(theirs, x), strict=True):
        assert a is not None and b is not None
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_forward_mode_derivative_through_the_fused_op_equals_simple_rnn(activation):
    x = _inputs(dtype="float64")
    ours, theirs = _fused_and_simple_rnn(
        x, activation=activation, return_sequences=True, return_state=True
    )
    for a, b in zip(
        _forward_mode_derivative(ours, x), _forward_mode_derivative(theirs, x), strict=True
    ):
        assert a is not None and b is not None
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_forward_mode_inside_tf_function_is_never_silently_zero():
    # TensorFlow takes graph-mode forward derivatives of a custom-gradient op from its
    # (stop_gradient'ed) forward pass: zeros. "auto" takes the generic loop there, which
    # fails exactly as SimpleRNN does; True refuses with a ValueError.
    x = _inputs(dtype="float64")
    ours, theirs = _fused_and_simple_rnn(x, use_fused_bptt="auto", return_sequences=True)
    run = tf.function(_forward_mode_derivative)
    with pytest.raises(TypeError) as simple_rnn_error:
        run(theirs, x)
    with pytest.raises(TypeError) as our_error:
        tf.function(_forward_mode_derivative)(ours, x)
    assert "variant" in str(simple_rnn_error.value) and "variant" in str(our_error.value)
    forced, _ = _fused_and_simple_rnn(x, use_fused_bptt=True, return_sequences=True)
    with pytest.raises(ValueError, match="use_fused_bptt=True.*forward accumulator"):
        tf.function(_forward_mode_derivative)(forced, x)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["while_loop", "xla"])
def test_second_derivative_of_the_sequence_with_head_equals_finite_differences(jit_compile):
    # The gradient of the op is itself differentiated here: compute_gradient takes
    # finite differences of the hand-written first-order gradient.
    args = _sequence_args(np.random.default_rng(5), "float64")
    names = list(args)

    def first_order(*values):
        kwargs = dict(zip(names, values))
        with tf.GradientTape() as tape:
            tape.watch(values)
            H, logits = vanilla_sequence(**kwargs, activation="tanh", jit_compile=jit_compile)
            loss = tf.reduce_sum(H * tf.sin(H)) + tf.reduce_sum(logits * tf.cos(logits))
        grads = tape.gradient(loss, list(values))
        return tf.add_n([tf.reduce_sum(g * tf.cos(g)) for g in grads])

    theoretical, numerical = tf.test.compute_gradient(first_order, list(args.values()), delta=1e-6)
    for name, t, n in zip(names, theoretical, numerical):
        np.testing.assert_allclose(t, n, rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["while_loop", "xla"])
def test_relu_states_equal_tf_relu(jit_compile):
    args = _sequence_args(np.random.default_rng(3), "float32", steps=6, batch=3)
    x, h0, U, W, b = (args[k] for k in ("x", "h0", "U", "W", "b"))
    H, _ = vanilla_sequence(x, h0, U, W, b, activation="relu", jit_compile=jit_compile)
    h, expected = h0, []
    for t in range(x.shape[0]):
        h = tf.nn.relu(x[t] @ U + b + h @ W)
        expected.append(h)
    np.testing.assert_allclose(H, tf.stack(expected), rtol=1e-5, atol=1e-6)
    assert (np.asarray(H) == 0).any()           # the cut at zero is exercised


@pytest.mark.parametrize("jit_compile", [False, True], ids=["while_loop", "xla"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_a_non_finite_input_or_weight_gives_nan_never_plausible_states(jit_compile, activation):
    args = _sequence_args(np.random.default_rng(4), "float32", steps=6, batch=3)
    x, h0, U, W, b, V, c = (args[k] for k in ("x", "h0", "U", "W", "b", "V", "c"))

    def run(x=x, h0=h0, W=W):
        states, logits = vanilla_sequence(x, h0, U, W, b, V, c, activation=activation,
                                jit_compile=jit_compile)
        return np.asarray(states), np.asarray(logits)

    H, logits = run(x=tf.tensor_scatter_nd_update(x, [[2, 1, 0]], [float("nan")]))
    assert np.isnan(H[2:, 1]).all() and np.isnan(logits[2:, 1]).all()    # row 1 from step 2 on
    assert np.isfinite(H[:2, 1]).all() and np.isfinite(H[:, [0, 2]]).all()
    H, _ = run(h0=tf.tensor_scatter_nd_update(h0, [[0, 1]], [float("inf")]))
    assert np.isnan(H[:, 0]).all() and np.isfinite(H[:, 1:]).all()
    H, _ = run(W=tf.tensor_scatter_nd_update(W, [[0, 0]], [float("nan")]))
    assert np.isnan(H).all()
    H, logits = run()
    assert np.isfinite(H).all() and np.isfinite(logits).all()
