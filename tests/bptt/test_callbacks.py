"""BPTTTrainer.fit drives standard Keras callbacks like Model.fit does."""

import csv

import keras
import numpy as np
import pytest
from tagging_task import tagger, tagging_data

from rnn_tf.bptt import BPTTTrainer

_data = tagging_data


def _trainer(**kwargs):
    return BPTTTrainer(tagger(), from_logits=True, learning_rate=0.05, verbose=0, **kwargs)


def test_hooks_run_in_keras_order_with_keras_logs_keys():
    x, y = _data()
    events = []
    recorder = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch)),
        on_train_batch_end=lambda batch, logs: events.append(("batch_end", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: events.append(("train_end",)),
    )
    trainer = _trainer()
    history = trainer.fit(
        x, y, epochs=2, batch_size=4, validation_data=_data(seed=1), callbacks=[recorder]
    )
    batch_keys = ["accuracy", "loss"]
    epoch_keys = sorted(["loss", "accuracy", "grad_norm", "grad_norm_max", "seconds",
                         "val_loss", "val_accuracy"])
    assert events == [
        ("train_begin",),
        ("epoch_begin", 0), ("batch_end", 0, batch_keys), ("batch_end", 1, batch_keys),
        ("epoch_end", 0, epoch_keys),
        ("epoch_begin", 1), ("batch_end", 0, batch_keys), ("batch_end", 1, batch_keys),
        ("epoch_end", 1, epoch_keys),
        ("train_end",),
    ]
    assert isinstance(history, keras.callbacks.History)
    assert history.epoch == [0, 1]
    assert sorted(history.history) == epoch_keys
    assert trainer.model.history is history


def test_early_stopping_ends_the_run():
    x, y = _data()
    # An improvement of 100 is never reached: stop after `patience` epochs without one.
    stop = keras.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=2)
    history = _trainer().fit(x, y, epochs=10, batch_size=4, callbacks=[stop])
    assert history.epoch == [0, 1, 2]
    assert stop.stopped_epoch == 2


def test_stop_training_set_in_a_batch_ends_the_run_after_that_batch():
    x, y = _data(batch=16)
    trainer = _trainer()
    batches = []

    def stop_after_second(batch, logs):
        batches.append(batch)
        if len(batches) == 2:
            trainer.model.stop_training = True

    callback = keras.callbacks.LambdaCallback(on_train_batch_end=stop_after_second)
    history = trainer.fit(x, y, epochs=5, batch_size=4, callbacks=[callback])
    assert batches == [0, 1]
    assert trainer.steps_done == 2
    assert history.epoch == [0]


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    history = _trainer().fit(
        x, y, epochs=3, batch_size=4, validation_data=_data(seed=1),
        callbacks=[keras.callbacks.CSVLogger(str(path))],
    )
    with open(path) as file:
        rows = list(csv.DictReader(file))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for row, loss, val_loss in zip(rows, history.history["loss"], history.history["val_loss"]):
        assert float(row["loss"]) == pytest.approx(loss)
        assert float(row["val_loss"]) == pytest.approx(val_loss)


def test_model_checkpoint_saves_the_best_weights(tmp_path):
    x, y = _data()
    path = tmp_path / "best.weights.h5"
    saver = keras.callbacks.ModelCheckpoint(
        str(path), monitor="val_loss", save_best_only=True, save_weights_only=True
    )
    trainer = _trainer()
    history = trainer.fit(
        x, y, epochs=3, batch_size=4, validation_data=_data(seed=1), callbacks=[saver]
    )
    assert path.exists()
    best_epoch = int(np.argmin(history.history["val_loss"]))
    assert saver.best == pytest.approx(history.history["val_loss"][best_epoch])
    fresh = _trainer()
    fresh.model.load_weights(str(path))
    assert fresh.evaluate(*_data(seed=1))["loss"] == pytest.approx(saver.best, rel=1e-5)


def test_tensorboard_writes_event_files(tmp_path):
    pytest.importorskip("tensorboard", reason="keras.callbacks.TensorBoard needs tensorboard")
    x, y = _data()
    _trainer().fit(
        x, y, epochs=2, batch_size=4, callbacks=[keras.callbacks.TensorBoard(str(tmp_path))]
    )
    assert list((tmp_path / "train").glob("events.out.tfevents.*"))


def test_learning_rate_scheduler_sets_the_trainers_learning_rate():
    x, y = _data()
    trainer = _trainer()
    schedule = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.5 ** (epoch + 1))
    trainer.fit(x, y, epochs=2, batch_size=4, callbacks=[schedule])
    assert float(trainer.optimizer.learning_rate) == pytest.approx(0.25)


def test_callbacks_must_be_keras_callbacks():
    x, y = _data()
    with pytest.raises(ValueError, match="`callbacks`"):
        _trainer().fit(x, y, callbacks=[lambda logs: None])


def test_the_optimizer_is_lent_to_the_model_only_during_fit():
    x, y = _data()
    trainer = _trainer()
    seen = []
    probe = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(trainer.model.optimizer)
    )
    trainer.fit(x, y, epochs=1, batch_size=4, callbacks=[probe])
    assert seen == [trainer.optimizer]
    assert not hasattr(trainer.model, "optimizer")  # a later trainer's checkpoints stay its own
