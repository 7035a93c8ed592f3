"""BPTTTrainer under user mistakes and faults: bad hyper-parameters, updates that
overflow, odd tf.data inputs, bad validation data, and checkpoint folders that are
unwritable, belong to another run, hold a finished run or a corrupt latest save."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from tagging_task import OUTPUT_DIM, UNITS, tagger, tagging_data

from rnn_tf.bptt import BPTTTrainer, NonFiniteLossError

_data, _tagger = tagging_data, tagger


def _weights(model):
    return [np.asarray(w).copy() for w in model.weights]


def _assert_unchanged(model, before):
    for a, b in zip(_weights(model), before):
        np.testing.assert_array_equal(a, b)


# --- hyper-parameters ------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -0.1, float("nan"), float("inf"), "0.1", True])
def test_learning_rate_must_be_a_finite_positive_number(value):
    with pytest.raises(ValueError, match="`learning_rate`"):
        BPTTTrainer(_tagger(), learning_rate=value)


@pytest.mark.parametrize(
    "name, value",
    [
        ("clip_norm", float("nan")),
        ("clip_norm", float("inf")),
        ("clip_value", -1.0),
        ("clip_value", float("nan")),
        ("clip_value", "1"),
        ("checkpoint_every", 0),
        ("verbose", "loud"),
    ],
)
def test_invalid_hyper_parameters_raise_naming_the_argument(name, value):
    with pytest.raises(ValueError, match=f"`{name}`"):
        BPTTTrainer(_tagger(), **{name: value})


# --- non-finite updates ------------------------------------------------------------------


def _overflowing_trainer(model, **kwargs):
    # The user's own optimizer with a NaN learning rate: loss and gradients are
    # finite, the update is not.
    optimizer = keras.optimizers.SGD(learning_rate=float("nan"))
    return BPTTTrainer(model, from_logits=True, optimizer=optimizer, verbose=0, **kwargs)


@pytest.mark.parametrize("batch_split", [1, 2])
def test_a_non_finite_update_never_reaches_the_weights(batch_split):
    x, y = _data()
    model = _tagger()
    before = _weights(model)
    trainer = _overflowing_trainer(model, batch_split=batch_split)
    with pytest.raises(NonFiniteLossError, match="step 1") as error:
        trainer.train_on_batch(x, y)
    assert "not applied" in str(error.value)
    _assert_unchanged(model, before)


def test_skip_policy_keeps_the_weights_finite():
    x, y = _data()
    model = _tagger()
    before = _weights(model)
    trainer = _overflowing_trainer(model, on_non_finite="skip")
    history = trainer.fit(x, y, epochs=2, batch_size=4)
    assert history.skipped_steps == [1, 2, 3, 4]
    _assert_unchanged(model, before)


# --- tf.data input gets the checks arrays get ------------------------------------------


def _dataset(*tensors, batch=4):
    return tf.data.Dataset.from_tensor_slices(tensors).batch(batch)


def test_dataset_with_float_labels_raises_naming_y():
    x, y = _data()
    with pytest.raises(ValueError, match="`y`.*integer"):
        BPTTTrainer(_tagger(), from_logits=True, verbose=0).fit(_dataset(x, y + 0.5))


def test_empty_dataset_raises():
    x, y = _data()
    empty = _dataset(x, y).take(0)
    with pytest.raises(ValueError, match="`x`.*no batches"):
        BPTTTrainer(_tagger(), from_logits=True, verbose=0).fit(empty)


def test_dataset_of_dicts_raises_naming_the_expected_structure():
    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices({"x": x, "y": y}).batch(4)
    with pytest.raises(ValueError, match=r"\(x, y\) or \(x, y, mask\)"):
        BPTTTrainer(_tagger(), from_logits=True, verbose=0).fit(ds)


def test_dataset_of_single_tensors_raises_naming_the_expected_structure():
    x, _ = _data()
    with pytest.raises(ValueError, match=r"\(x, y\) or \(x, y, mask\)"):
        BPTTTrainer(_tagger(), from_logits=True, verbose=0).fit(_dataset(x))


def test_dataset_labels_outside_output_dim_raise_before_training():
    x, y = _data()
    model = _tagger()
    before = _weights(model)
    y = y.copy()
    y[-1, -1] = OUTPUT_DIM  # only in the last batch
    with pytest.raises(ValueError, match="`y`.*outside"):
        BPTTTrainer(model, from_logits=True, verbose=0).fit(_dataset(x, y))
    _assert_unchanged(model, before)


@pytest.mark.parametrize("as_dataset", [False, True], ids=["arrays", "dataset"])
def test_y_with_another_time_length_raises_before_the_first_step(as_dataset):
    x, y = _data(steps=5)
    y = np.concatenate([y, y[:, :2]], axis=1)  # 7 steps of targets for 5 of input
    model = _tagger()
    before = _weights(model)
    trainer = BPTTTrainer(model, from_logits=True, verbose=0)
    with pytest.raises(ValueError, match="timesteps"):
        trainer.fit(_dataset(x, y)) if as_dataset else trainer.fit(x, y)
    _assert_unchanged(model, before)


@pytest.mark.parametrize(
    "make_validation, message",
    [
        (lambda x, y: (x,), "validation_data"),
        (lambda x, y: (x, y + OUTPUT_DIM), "outside"),
        (lambda x, y: (x[:, :, :2], y), "features|validation_data"),
        (lambda x, y: (x, y[:3]), "same number of sequences"),
        (lambda x, y: "not data", "validation_data"),
    ],
    ids=["one_element", "labels", "features", "lengths", "string"],
)
def test_bad_validation_data_raises_before_the_first_step(make_validation, message):
    x, y = _data()
    model = _tagger()
    before = _weights(model)
    trainer = BPTTTrainer(model, from_logits=True, verbose=0)
    with pytest.raises(ValueError, match=message):
        trainer.fit(x, y, epochs=1, batch_size=4, validation_data=make_validation(x, y))
    _assert_unchanged(model, before)


# --- checkpoints ------------------------------------------------------------------------


def test_unwritable_checkpoint_dir_raises_before_training(tmp_path):
    x, y = _data()
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    model = _tagger()
    before = _weights(model)
    for folder in (blocker, blocker / "checkpoints"):
        with pytest.raises(ValueError, match="`checkpoint_dir`"):
            BPTTTrainer(model, from_logits=True, verbose=0, checkpoint_dir=folder).fit(
                x, y, epochs=1, batch_size=4
            )
    _assert_unchanged(model, before)
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize(
    "change, what",
    [
        ({"units": UNITS + 2}, "weight"),
        ({"batch_size": 2}, "batch_size"),
        ({"steps": 6}, "data"),
        ({"optimizer": "adam"}, "optimizer"),
    ],
)
def test_a_checkpoint_of_another_run_is_refused(tmp_path, change, what):
    x, y = _data()
    BPTTTrainer(_tagger(), from_logits=True, verbose=0, checkpoint_dir=tmp_path).fit(
        x, y, epochs=2, batch_size=4, shuffle=False
    )
    # An unfinished run: its position would be resumed by a matching fit.
    model = _tagger(units=change.get("units", UNITS))
    before = _weights(model)
    optimizer = keras.optimizers.Adam(0.01) if change.get("optimizer") else None
    trainer = BPTTTrainer(
        model, from_logits=True, optimizer=optimizer, verbose=0, checkpoint_dir=tmp_path
    )
    x2, y2 = _data(steps=change.get("steps", 5))
    with pytest.raises(ValueError, match=f"`checkpoint_dir`.*another run(.|\n)*{what}"):
        trainer.fit(x2, y2, epochs=3, batch_size=change.get("batch_size", 4), shuffle=False)
    _assert_unchanged(model, before)


def test_a_finished_run_does_not_make_the_next_fit_a_no_op(tmp_path):
    x, y = _data()
    model = _tagger()
    trainer = BPTTTrainer(model, from_logits=True, verbose=0, checkpoint_dir=tmp_path)
    trainer.fit(x, y, epochs=2, batch_size=4)
    after_first = _weights(model)
    history = trainer.fit(x, y, epochs=2, batch_size=4)
    assert history.epochs == 2
    assert any(not np.array_equal(a, b) for a, b in zip(_weights(model), after_first))


def test_a_corrupt_latest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    x, y = _data()
    BPTTTrainer(_tagger(), from_logits=True, verbose=0, checkpoint_dir=tmp_path).fit(
        x, y, epochs=2, batch_size=4
    )
    newest_data = max(tmp_path.rglob("*.data-*"), key=lambda p: p.stat().st_mtime_ns)
    newest_data.write_bytes(b"\x00" * 16)
    newest_index = max(tmp_path.rglob("*.index"), key=lambda p: p.stat().st_mtime_ns)
    newest_index.write_bytes(b"garbage")
    trainer = BPTTTrainer(_tagger(), from_logits=True, verbose=0, checkpoint_dir=tmp_path)
    history = trainer.fit(x, y, epochs=3, batch_size=4)
    assert history.epochs == 2  # resumed after epoch 1 (the epoch-2 save is unreadable)


def test_a_save_interrupted_mid_write_leaves_nothing_that_breaks_resume(tmp_path, monkeypatch):
    x, y = _data()
    original_write = tf.train.Checkpoint._write
    calls = []

    def killed_on_the_second_save(self, *args, **kwargs):
        calls.append(1)
        result = original_write(self, *args, **kwargs)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed while saving")
        return result

    monkeypatch.setattr(tf.train.Checkpoint, "_write", killed_on_the_second_save)
    with pytest.raises(KeyboardInterrupt):
        BPTTTrainer(_tagger(), from_logits=True, verbose=0, checkpoint_dir=tmp_path).fit(
            x, y, epochs=3, batch_size=4
        )
    monkeypatch.undo()
    trainer = BPTTTrainer(_tagger(), from_logits=True, verbose=0, checkpoint_dir=tmp_path)
    history = trainer.fit(x, y, epochs=3, batch_size=4)
    assert history.epochs == 2  # resumed after epoch 1, the last complete save
    names = [p.name for p in tmp_path.iterdir()]
    assert not [n for n in names if "temp" in n or "partial" in n], names
