"""MaskedAccuracy skips padding, compile_for_tokens drops it from the loss, old saves load."""

import json
import zipfile

import keras
import numpy as np
import pytest

from rnn_tf import architectures
from rnn_tf.metrics import MaskedAccuracy, compile_for_tokens


def _as_saved_before_the_move(path, old_path):
    """Rewrite a .keras file as it was written when MaskedAccuracy lived in architectures.

    A saved metric is recorded as {"module", "class_name", "registered_name", "config"};
    only "module" changed with the move ("rnn_tf.architectures" -> "rnn_tf.metrics").
    """
    with zipfile.ZipFile(path) as new, zipfile.ZipFile(old_path, "w") as old:
        for item in new.infolist():
            data = new.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                (metric,) = config["compile_config"]["metrics"]
                assert metric["module"] == "rnn_tf.metrics"
                assert metric["registered_name"] == "rnn_tf>MaskedAccuracy"
                metric["module"] = "rnn_tf.architectures"
                data = json.dumps(config).encode()
            old.writestr(item, data)


def test_masked_accuracy_skips_padding():
    metric = MaskedAccuracy(padding_id=0)
    y_true = np.array([[3, 1, 0, 0]])
    y_pred = np.eye(4)[[[3, 2, 0, 1]]]  # right, wrong, (pad), (pad)
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx(0.5)


def test_masked_accuracy_accepts_labels_with_a_trailing_axis():
    metric = MaskedAccuracy(padding_id=0)
    metric.update_state(np.array([[[3], [1], [0], [0]]]), np.eye(4)[[[3, 2, 0, 1]]])
    assert float(metric.result()) == pytest.approx(0.5)


def test_padding_is_left_out_of_the_loss():
    model = architectures.many_to_many(3, units=4, vocab_size=5)
    compile_for_tokens(model, padding_id=0)
    x = np.array([[1, 2, 3, 4]])
    full = model.evaluate(x, np.array([[1, 2, 0, 0]]), verbose=0, return_dict=True)
    probs = np.asarray(model(x))[0]
    expected = -np.mean(np.log([probs[0, 1], probs[1, 2]]))
    assert full["loss"] == pytest.approx(expected, rel=1e-4)
    assert full["accuracy"] == pytest.approx(np.mean(probs[[0, 1]].argmax(-1) == [1, 2]))


def test_a_model_saved_before_the_metric_moved_still_loads_with_it(tmp_path):
    model = architectures.many_to_many(3, cell="simple", units=2, vocab_size=4)
    compile_for_tokens(model, padding_id=0)
    x, y = np.array([[1, 2, 3, 0]]), np.array([[2, 1, 1, 0]])
    model.evaluate(x, y, verbose=0)
    model.save(tmp_path / "new.keras")
    _as_saved_before_the_move(tmp_path / "new.keras", tmp_path / "old.keras")
    loaded = keras.saving.load_model(tmp_path / "old.keras", safe_mode=True)
    predicted = np.asarray(loaded(x)).argmax(-1)[0]
    scores = loaded.evaluate(x, y, verbose=0, return_dict=True)
    # The padded last position is skipped: 3 scored positions, not 4.
    assert scores["accuracy"] == pytest.approx(np.mean(predicted[:3] == y[0, :3]))


def test_options_are_passed_by_name():
    with pytest.raises(TypeError):
        compile_for_tokens(architectures.many_to_one(2, input_dim=1), 1e-2)


def test_gradients_are_clipped_by_their_global_norm():
    model = compile_for_tokens(architectures.many_to_one(2, input_dim=1), global_clipnorm=0.5)
    assert model.optimizer.global_clipnorm == 0.5
    assert model.optimizer.clipnorm is None
    unclipped = compile_for_tokens(architectures.many_to_one(2, input_dim=1),
                                   global_clipnorm=None)
    assert unclipped.optimizer.global_clipnorm is None
