"""The notebooks' report keeps its numbers; the results table is built from them."""

import json

import numpy as np

from rnn_tf.course import results_table, start


def test_report_writes_json_and_the_table_lists_every_number(tmp_path, capsys):
    course = start(seed=1, figures_dir=tmp_path, smoke=True)
    numbers = {"MAE": np.float32(1.5), "data": "sp500", "max |a - b|": 0.25}
    path = course.report("07 Stock forecasting", numbers)
    assert "MAE" in capsys.readouterr().out
    record = json.loads(path.read_text())
    assert path.name == "07_stock_forecasting.json"
    assert record["numbers"]["MAE"] == 1.5 and record["smoke"] is True
    table = results_table(tmp_path)
    assert "| 07 Stock forecasting (SMOKE) | MAE | 1.5 |" in table
    assert "| 07 Stock forecasting (SMOKE) | data | sp500 |" in table
    assert "| 07 Stock forecasting (SMOKE) | max \\|a - b\\| | 0.25 |" in table  # pipes escaped
    assert results_table(tmp_path / "missing") == ""


def test_backup_callback_resumes_training_after_an_interruption(tmp_path, monkeypatch):
    import keras

    monkeypatch.setenv("RNN_TF_BACKUP_DIR", str(tmp_path))
    course = start(seed=0, figures_dir=tmp_path / "fig")
    x, y = np.ones((8, 2), "float32"), np.zeros((8, 1), "float32")

    class StopAfterTwoEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt  # the kernel is interrupted mid-run

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    try:
        model.fit(x, y, epochs=5, verbose=0,
                  callbacks=[course.backup("demo"), StopAfterTwoEpochs()])
    except KeyboardInterrupt:
        pass
    assert (tmp_path / "rnn_tf_backups" / "demo").exists()
    epochs_run = []
    record = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs_run.append(e))
    model.fit(x, y, epochs=5, verbose=0, callbacks=[course.backup("demo"), record])
    assert epochs_run == [2, 3, 4]  # resumed after the two finished epochs
    assert not (tmp_path / "rnn_tf_backups" / "demo").exists()  # removed when done


def test_report_keeps_arrays_and_formats_numpy_floats(tmp_path, capsys):
    course = start(seed=0, figures_dir=tmp_path)
    path = course.report("arrays", {"per class": np.array([0.5, 0.25]), "f": np.float32(0.123456)})
    assert "0.1235" in capsys.readouterr().out
    assert json.loads(path.read_text())["numbers"]["per class"] == [0.5, 0.25]
