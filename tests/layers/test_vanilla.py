"""VanillaRNNCell / VanillaRNN: shapes, NumPy reference, SimpleRNN parity in every mode,
serialization, use inside other Keras layers, and input validation."""

import inspect
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import initializers, layers, mixed_precision

from rnn_tf import VanillaRNN, VanillaRNNCell

BATCH, STEPS, INPUT_DIM, UNITS, OUTPUT_DIM = 3, 6, 4, 5, 2


def _inputs(seed=0, batch=BATCH, steps=STEPS, input_dim=INPUT_DIM):
    return np.random.default_rng(seed).normal(size=(batch, steps, input_dim)).astype("float32")


def _numpy_rnn(x, U, W, b, h0=None, activation=np.tanh):
    """h_t = f(x_t U + h_{t-1} W + b), written independently of the package."""
    h = np.zeros((x.shape[0], W.shape[0])) if h0 is None else h0
    hs = []
    for t in range(x.shape[1]):
        h = activation(x[:, t] @ U + h @ W + b)
        hs.append(h)
    return np.stack(hs, axis=1)


def _pair(**kwargs):
    """A VanillaRNN and a SimpleRNN with the same settings and copied weights."""
    x = _inputs()
    ours = VanillaRNN(UNITS, **kwargs)
    theirs = layers.SimpleRNN(UNITS, **kwargs)
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    return ours, theirs, x


# --- shapes and weights --------------------------------------------------------


def test_output_shapes_and_weight_counts():
    x = _inputs()
    layer = VanillaRNN(UNITS, return_sequences=True, return_state=True)
    outputs, state = layer(x)
    assert outputs.shape == (BATCH, STEPS, UNITS)
    assert state.shape == (BATCH, UNITS)
    assert [w.shape for w in layer.weights] == [(INPUT_DIM, UNITS), (UNITS, UNITS), (UNITS,)]


def test_output_head_adds_V_and_c_with_output_dim():
    layer = VanillaRNN(UNITS, output_dim=OUTPUT_DIM, return_sequences=True)
    y = layer(_inputs())
    assert y.shape == (BATCH, STEPS, OUTPUT_DIM)
    assert layer.V.shape == (UNITS, OUTPUT_DIM) and layer.c.shape == (OUTPUT_DIM,)
    assert layer.count_params() == INPUT_DIM * UNITS + UNITS * UNITS + UNITS + UNITS * 2 + 2


def test_without_bias_has_no_b():
    layer = VanillaRNN(UNITS, use_bias=False)
    layer(_inputs())
    assert layer.b is None and len(layer.weights) == 2


def test_weight_names_and_keras_aliases_point_to_the_same_variables():
    layer = VanillaRNN(UNITS)
    layer(_inputs())
    assert layer.U is layer.kernel and layer.W is layer.recurrent_kernel and layer.b is layer.bias
    assert [w.name for w in layer.weights] == ["U", "W", "b"]


# --- numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "tf_function"])
def test_matches_numpy_reference(compiled):
    x = _inputs()
    layer = VanillaRNN(UNITS, return_sequences=True)
    layer.build(x.shape)
    call = tf.function(layer) if compiled else layer
    expected = _numpy_rnn(x, *(w.numpy() for w in layer.weights))
    np.testing.assert_allclose(call(x), expected, rtol=1e-5, atol=1e-6)


def test_relu_matches_numpy_reference():
    x = _inputs()
    layer = VanillaRNN(UNITS, activation="relu", return_sequences=True)
    layer.build(x.shape)
    expected = _numpy_rnn(
        x, *(w.numpy() for w in layer.weights), activation=lambda a: np.maximum(a, 0)
    )
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)


def test_exact_numbers_from_constant_initializers():
    # x = ones(1, 2, 1), U = 0.5, W = 0.25, b = 0.1 (one unit):
    # h_1 = tanh(0.5 + 0.1) ; h_2 = tanh(0.5 + 0.25 h_1 + 0.1) ; o_2 = 2 h_2 - 1
    layer = VanillaRNN(
        1,
        output_dim=1,
        return_sequences=True,
        kernel_initializer=initializers.Constant(0.5),
        recurrent_initializer=initializers.Constant(0.25),
        bias_initializer=initializers.Constant(0.1),
        output_initializer=initializers.Constant(2.0),
        output_bias_initializer=initializers.Constant(-1.0),
    )
    y = layer(np.ones((1, 2, 1), "float32")).numpy().ravel()
    h1 = np.tanh(0.6)
    h2 = np.tanh(0.6 + 0.25 * h1)
    np.testing.assert_allclose(y, [2 * h1 - 1, 2 * h2 - 1], rtol=1e-6)


def test_output_head_softmax_equals_softmax_of_V_h_plus_c():
    x = _inputs()
    layer = VanillaRNN(UNITS, output_dim=3, output_activation="softmax", return_sequences=True)
    y = layer(x).numpy()
    h = _numpy_rnn(x, layer.U.numpy(), layer.W.numpy(), layer.b.numpy())
    o = h @ layer.V.numpy() + layer.c.numpy()
    expected = np.exp(o) / np.exp(o).sum(-1, keepdims=True)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


# --- drop-in for keras.layers.SimpleRNN, mode by mode -------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"return_sequences": True},
        {"return_state": True},
        {"return_sequences": True, "return_state": True},
        {"go_backwards": True, "return_sequences": True},
        {"unroll": True, "return_sequences": True},
        {"activation": "relu", "return_sequences": True},
        {"use_bias": False},
    ],
    ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "default",
)
def test_equals_simple_rnn_with_copied_weights(kwargs):
    ours, theirs, x = _pair(**kwargs)
    for a, b in zip(tf.nest.flatten(ours(x)), tf.nest.flatten(theirs(x))):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


MASK_WITH_GAPS = np.array([[1, 1, 0, 1, 1, 1], [1, 0, 0, 1, 0, 1], [0, 1, 1, 1, 1, 0]], dtype=bool)


@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("unroll", [False, True])
def test_masking_with_gaps_equals_simple_rnn(zero_output_for_mask, go_backwards, unroll):
    ours, theirs, x = _pair(
        return_sequences=True,
        return_state=True,
        zero_output_for_mask=zero_output_for_mask,
        go_backwards=go_backwards,
        unroll=unroll,
    )
    for a, b in zip(ours(x, mask=MASK_WITH_GAPS), theirs(x, mask=MASK_WITH_GAPS)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_initial_state_equals_simple_rnn():
    ours, theirs, x = _pair(return_sequences=True)
    h0 = np.random.default_rng(1).normal(size=(BATCH, UNITS)).astype("float32")
    np.testing.assert_allclose(
        ours(x, initial_state=[h0]), theirs(x, initial_state=[h0]), rtol=1e-6, atol=1e-6
    )


def test_stateful_over_two_calls_and_after_reset_equals_simple_rnn():
    x = _inputs()
    ours = VanillaRNN(UNITS, stateful=True)
    theirs = layers.SimpleRNN(UNITS, stateful=True)
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    first = ours(x).numpy()
    second = ours(x).numpy()
    np.testing.assert_allclose(first, theirs(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(second, theirs(x), rtol=1e-6, atol=1e-6)
    assert not np.allclose(first, second)  # the state really was carried over
    ours.reset_state()
    theirs.reset_state()
    after_reset = ours(x).numpy()
    np.testing.assert_allclose(after_reset, first, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(after_reset, theirs(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("which", ["dropout", "recurrent_dropout"])
def test_dropout_in_training_equals_simple_rnn_with_same_seed(which):
    ours, theirs, x = _pair(**{which: 0.4, "seed": 7, "return_sequences": True})
    trained = ours(x, training=True)
    np.testing.assert_allclose(trained, theirs(x, training=True), rtol=1e-6, atol=1e-6)
    assert not np.allclose(trained, ours(x, training=False))  # dropout did act


def test_output_head_with_mask_equals_cell_inside_keras_rnn():
    x = _inputs()
    cell = VanillaRNNCell(UNITS, output_dim=OUTPUT_DIM)
    generic = layers.RNN(cell, return_sequences=True, zero_output_for_mask=True)
    ours = VanillaRNN(
        UNITS, output_dim=OUTPUT_DIM, return_sequences=True, zero_output_for_mask=True
    )
    generic.build(x.shape)
    ours.build(x.shape)
    ours.set_weights(generic.get_weights())
    np.testing.assert_allclose(
        ours(x, mask=MASK_WITH_GAPS), generic(x, mask=MASK_WITH_GAPS), rtol=1e-6, atol=1e-6
    )


def test_fast_path_with_output_head_equals_per_step_cell():
    x = _inputs()
    generic = layers.RNN(VanillaRNNCell(UNITS, output_dim=OUTPUT_DIM), return_sequences=True)
    ours = VanillaRNN(UNITS, output_dim=OUTPUT_DIM, return_sequences=True)
    generic.build(x.shape)
    ours.build(x.shape)
    ours.set_weights(generic.get_weights())
    np.testing.assert_allclose(ours(x), generic(x), rtol=1e-6, atol=1e-6)


# --- compiled, mixed precision ------------------------------------------------------


def test_runs_under_jit_compile():
    ours, theirs, x = _pair(return_sequences=True)
    compiled = tf.function(lambda inputs: ours(inputs), jit_compile=True)
    np.testing.assert_allclose(compiled(x), theirs(x), rtol=1e-5, atol=1e-5)


def test_mixed_precision_computes_in_float16_with_float32_weights():
    x = _inputs()
    reference = VanillaRNN(UNITS, return_sequences=True)
    reference.build(x.shape)
    mixed_precision.set_dtype_policy("mixed_float16")
    try:
        layer = VanillaRNN(UNITS, return_sequences=True)
        layer.build(x.shape)
        layer.set_weights(reference.get_weights())
        y = layer(x)
    finally:
        mixed_precision.set_dtype_policy("float32")
    assert y.dtype == "float16"
    assert layer.U.dtype == "float32"
    np.testing.assert_allclose(np.asarray(y, "float32"), reference(x), atol=5e-3)


# --- inside other Keras layers and models -------------------------------------------


def test_cell_inside_keras_rnn_equals_simple_rnn():
    x = _inputs()
    ours = layers.RNN(VanillaRNNCell(UNITS), return_sequences=True)
    theirs = layers.SimpleRNN(UNITS, return_sequences=True)
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6, atol=1e-6)


def test_bidirectional_equals_bidirectional_simple_rnn():
    x = _inputs()
    ours = layers.Bidirectional(VanillaRNN(UNITS, return_sequences=True))
    theirs = layers.Bidirectional(layers.SimpleRNN(UNITS, return_sequences=True))
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    assert ours(x).shape == (BATCH, STEPS, 2 * UNITS)
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6, atol=1e-6)


def test_time_distributed_runs_over_groups_of_sequences():
    groups = np.random.default_rng(0).normal(size=(2, 3, STEPS, INPUT_DIM)).astype("float32")
    layer = layers.TimeDistributed(VanillaRNN(UNITS))
    assert layer(groups).shape == (2, 3, UNITS)


def test_subclassed_model_trains_with_fit():
    class Tagger(keras.Model):
        def __init__(self):
            super().__init__()
            self.rnn = VanillaRNN(UNITS, output_dim=3, return_sequences=True)

        def call(self, inputs):
            return self.rnn(inputs)

    x = _inputs(batch=16)
    y = np.random.default_rng(0).integers(0, 3, size=(16, STEPS))
    model = Tagger()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# --- serialization -------------------------------------------------------------------


# Every constructor argument off its default, each weight setting distinct from the others,
# so a key missing from get_config (restored as its default) or two keys swapped both show.
_CELL_ARGUMENTS = {
    "units": 7,
    "activation": "relu",
    "use_bias": False,
    "output_dim": 3,
    "output_activation": "softmax",
    **{name: initializers.Constant(0.1 * (i + 1)) for i, name in enumerate((
        "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "output_initializer", "output_bias_initializer"))},
    **{name: keras.regularizers.L2(0.01 * (i + 1)) for i, name in enumerate((
        "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "output_regularizer"))},
    **{name: keras.constraints.MaxNorm(i + 2.0) for i, name in enumerate((
        "kernel_constraint", "recurrent_constraint", "bias_constraint"))},
    "dropout": 0.25,
    "recurrent_dropout": 0.35,
    "seed": 11,
}
_LAYER_ARGUMENTS = {
    **_CELL_ARGUMENTS,
    "activity_regularizer": keras.regularizers.L1(0.05),
    "return_sequences": True,
    "return_state": True,
    "go_backwards": True,
    "stateful": True,
    "unroll": True,
    "zero_output_for_mask": True,
    "use_fused_bptt": False,
    "batch_split": 3,
}
_BASE_ARGUMENTS = {"name": "restored", "dtype": "float64", "trainable": False}


def _settings(obj, names, holder_of=lambda name: None) -> dict:
    """What `obj` holds for each argument, comparable across objects: activations by
    identity, initializers, regularizers and constraints by class and config."""
    found = {}
    for name in names:
        value = getattr(holder_of(name) or obj, name)
        if callable(value) and hasattr(value, "get_config"):
            value = (type(value).__name__, value.get_config())
        found[name] = value
    return found


def _expected(arguments) -> dict:
    expected = {}
    for name, value in arguments.items():
        if name.endswith("activation"):
            value = keras.activations.get(value)
        elif hasattr(value, "get_config"):
            value = (type(value).__name__, value.get_config())
        expected[name] = value
    return expected


@pytest.mark.parametrize("cls, arguments", [(VanillaRNNCell, _CELL_ARGUMENTS),
                                            (VanillaRNN, _LAYER_ARGUMENTS)],
                         ids=["cell", "layer"])
def test_get_config_round_trip_restores_every_constructor_argument(cls, arguments):
    parameters = inspect.signature(cls).parameters
    # A new constructor argument must be added here, with a value off its default.
    assert set(arguments) == set(parameters) - {"kwargs"}
    for name, value in arguments.items():
        default = parameters[name].default
        assert default is inspect.Parameter.empty or value != default, name
    original = cls(**arguments, **_BASE_ARGUMENTS)
    restored = cls.from_config(original.get_config())
    # The layer keeps the cell's settings on its cell, its own on itself.
    def holder_of(name, layer=restored):
        return layer.cell if cls is VanillaRNN and name in _CELL_ARGUMENTS else None

    assert _settings(restored, arguments, holder_of) == _expected(arguments)
    assert (restored.name, restored.dtype, restored.trainable) == ("restored", "float64", False)


def test_use_fused_bptt_is_in_the_config_and_old_configs_load():
    layer = VanillaRNN(UNITS, use_fused_bptt=False)
    config = layer.get_config()
    assert config["use_fused_bptt"] is False
    assert VanillaRNN.from_config(config).use_fused_bptt is False
    del config["use_fused_bptt"]  # a config saved before the argument existed
    assert VanillaRNN.from_config(config).use_fused_bptt == "auto"


@pytest.mark.parametrize("use_cell", [False, True], ids=["VanillaRNN", "RNN(VanillaRNNCell)"])
def test_keras_file_round_trip_in_safe_mode_gives_identical_outputs(tmp_path, use_cell):
    x = _inputs()
    inputs = keras.Input((STEPS, INPUT_DIM))
    if use_cell:
        rnn = layers.RNN(VanillaRNNCell(UNITS, output_dim=OUTPUT_DIM), return_sequences=True)
    else:
        rnn = VanillaRNN(UNITS, output_dim=OUTPUT_DIM, return_sequences=True)
    model = keras.Model(inputs, rnn(inputs))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(loaded(x), model(x))


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("units", [0, -3, 2.5, None])
def test_invalid_units_raise_naming_units(units):
    with pytest.raises(ValueError, match="units"):
        VanillaRNN(units)


def test_invalid_output_dim_raises_naming_output_dim():
    with pytest.raises(ValueError, match="output_dim"):
        VanillaRNNCell(4, output_dim=0)


def test_dropout_outside_unit_interval_raises_naming_dropout():
    with pytest.raises(ValueError, match="dropout"):
        VanillaRNN(4, dropout=1.5)


def test_rank_two_input_raises_naming_sequences():
    with pytest.raises(ValueError, match="sequences.*rank 3"):
        VanillaRNN(4)(np.zeros((2, 5), "float32"))


def test_mismatched_feature_size_raises_naming_input_dim():
    layer = VanillaRNN(4)
    layer(np.zeros((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match="input_dim=3"):
        layer(np.zeros((2, 5, 7), "float32"))


def test_empty_sequence_raises():
    with pytest.raises(ValueError, match="empty sequence"):
        VanillaRNN(4)(np.zeros((2, 0, 3), "float32"))


@pytest.mark.parametrize(
    "initial_state, expected",
    [
        ([np.zeros((BATCH, UNITS), "float32")] * 2, "one state"),
        ([np.zeros((BATCH, UNITS + 2), "float32")], r"\(3, 5\); received shape \(3, 7\)"),
        ([np.zeros((BATCH + 1, UNITS), "float32")], r"\(3, 5\); received shape \(4, 5\)"),
        ([np.zeros((UNITS,), "float32")], r"\(3, 5\); received shape \(5,\)"),
    ],
    ids=["two_states", "wrong_units", "wrong_batch", "rank_one"],
)
def test_wrong_initial_state_raises_naming_initial_state(initial_state, expected):
    with pytest.raises(ValueError, match=f"Argument `initial_state` .*{expected}"):
        VanillaRNN(UNITS)(_inputs(), initial_state=initial_state)


@pytest.mark.parametrize(
    "mask_shape", [(BATCH, STEPS - 1), (BATCH + 1, STEPS), (BATCH,), (BATCH, STEPS, 2)]
)
def test_wrong_mask_shape_raises_naming_mask(mask_shape):
    with pytest.raises(ValueError, match=r"Argument `mask` must have shape .*\(3, 6\)"):
        VanillaRNN(UNITS)(_inputs(), mask=np.ones(mask_shape, bool))


def test_mask_with_a_trailing_unit_axis_is_accepted_like_simple_rnn():
    ours, theirs, x = _pair(return_sequences=True)
    mask = MASK_WITH_GAPS[..., None]
    np.testing.assert_allclose(ours(x, mask=mask), theirs(x, mask=mask), rtol=1e-6, atol=1e-6)


# --- backends and imports (fresh interpreters) -------------------------------------------


def _run_python(code, **env):
    """Run `code` in a fresh interpreter that imports this checkout; its stdout, or fail."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, env=environment, timeout=300, cwd=repo,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _jax_available():
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def test_importing_the_layer_does_not_import_tensorflow():
    out = _run_python(
        """
        import sys
        import rnn_tf
        from rnn_tf.layers import VanillaRNN
        print("tensorflow" in sys.modules)
        """,
        KERAS_BACKEND="jax" if _jax_available() else "numpy",
    )
    assert out.split() == ["False"]


@pytest.mark.skipif(not _jax_available(), reason="jax is not installed (pip install 'jax[cpu]')")
def test_on_the_jax_backend_equals_simple_rnn_through_the_generic_loop():
    out = _run_python(
        """
        import keras, numpy as np
        from rnn_tf import VanillaRNN
        assert keras.backend.backend() == "jax"
        x = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
        mask = np.array([[1, 1, 0, 1, 1, 1], [1, 0, 0, 1, 0, 1], [0, 1, 1, 1, 1, 0]], bool)
        for kwargs, call in [
            ({"return_sequences": True}, {}),
            ({"return_state": True, "go_backwards": True}, {}),
            ({"return_sequences": True, "activation": "relu"}, {"mask": mask}),
        ]:
            ours, theirs = VanillaRNN(5, **kwargs), keras.layers.SimpleRNN(5, **kwargs)
            ours.build(x.shape)
            theirs.build(x.shape)
            theirs.set_weights(ours.get_weights())
            for a, b in zip(keras.tree.flatten(ours(x, **call)),
                            keras.tree.flatten(theirs(x, **call))):
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
        try:
            VanillaRNN(5, use_fused_bptt=True)
        except ValueError as error:
            print("fused:", error)
        print("ok")
        """,
        KERAS_BACKEND="jax",
    )
    assert "fused: Argument `use_fused_bptt=True` cannot be honoured" in out
    assert "the Keras backend is 'jax'" in out
    assert out.strip().endswith("ok")


def test_without_tensorflow_the_layer_works_and_the_fused_op_names_the_install():
    backend = "jax" if _jax_available() else "numpy"
    out = _run_python(
        """
        import sys
        sys.modules["tensorflow"] = None  # as if TensorFlow were not installed
        import numpy as np
        from rnn_tf import VanillaRNN
        print(VanillaRNN(3)(np.zeros((2, 4, 5), "float32")).shape)
        from rnn_tf._tensorflow import require_tensorflow
        try:
            require_tensorflow("The fused BPTT op")
        except ImportError as error:
            print(error)
        """,
        KERAS_BACKEND=backend,
    )
    lines = out.strip().splitlines()
    assert lines[0] == "(2, 3)"
    assert lines[1].startswith("The fused BPTT op needs TensorFlow, which is not installed")
    assert 'pip install "rnn-tf[cpu]"' in lines[1]


def test_loading_without_importing_rnn_tf_names_the_class_and_package_up_front(tmp_path):
    inputs = keras.Input((STEPS, INPUT_DIM))
    model = keras.Model(inputs, VanillaRNN(UNITS)(inputs))
    path = tmp_path / "model.keras"
    model.save(path)
    out = _run_python(
        f"""
        import keras
        try:
            keras.saving.load_model({str(path)!r})
        except Exception as error:
            print(str(error)[:1000])
        import rnn_tf  # registers the classes; now it loads
        print("LOADED", type(keras.saving.load_model({str(path)!r}).layers[-1]).__name__)
        """
    )
    head, loaded = out.rsplit("LOADED", 1)
    assert "Could not locate class 'VanillaRNN'" in head
    assert "'module': 'rnn_tf.layers" in head
    assert loaded.split() == ["VanillaRNN"]
