"""A model with VanillaRNN exports to a SavedModel and to TFLite and gives Keras's outputs."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

import rnn_tf  # noqa: E402

TIMESTEPS, FEATURES, BATCH = 12, 5, 4


def _model(with_head: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    layer = (
        rnn_tf.VanillaRNN(8, output_dim=3, return_sequences=True)
        if with_head
        else rnn_tf.VanillaRNN(8)
    )
    return keras.Sequential([keras.Input((TIMESTEPS, FEATURES)), layer])


def _inputs() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(BATCH, TIMESTEPS, FEATURES)).astype("float32")


@pytest.fixture(params=[True, False], ids=["with_output_head", "hidden_states_only"])
def exported(request, tmp_path):
    model = _model(request.param)
    path = str(tmp_path / "saved_model")
    model.export(path, verbose=False)
    return model, path


@pytest.mark.slow
def test_saved_model_gives_the_keras_outputs(exported):
    model, path = exported
    x = _inputs()
    loaded = tf.saved_model.load(path)  # keep a reference: its variables die with it
    served = loaded.serve(tf.constant(x)).numpy()
    np.testing.assert_allclose(served, model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.slow
def test_tflite_conversion_gives_the_keras_outputs(exported):
    model, path = exported
    x = _inputs()
    converted = tf.lite.TFLiteConverter.from_saved_model(path).convert()
    interpreter = tf.lite.Interpreter(model_content=converted)
    input_index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(input_index, x.shape)  # TFLite fixes batch 1 by default
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_index, x)
    interpreter.invoke()
    output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(output, model.predict(x, verbose=0), atol=1e-5)
