"""The notebooks' report keeps its numbers; the results table is built from them."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from rnn_tf.course import (
    RESULTS_BEGIN,
    RESULTS_END,
    Course,
    replace_results_block,
    results_report,
    results_summary,
    results_table,
    start,
)


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


def test_results_table_names_every_machine(tmp_path):
    course = start(seed=1, figures_dir=tmp_path)
    first = course.report("01 One", {"x": 1})
    second = course.report("02 Two", {"y": 2})
    record = json.loads(second.read_text())
    record["machine"] = "aarch64, 8 CPUs, Darwin"
    second.write_text(json.dumps(record))
    footer = results_table(tmp_path).splitlines()[-1]
    assert json.loads(first.read_text())["machine"] in footer
    assert "aarch64, 8 CPUs, Darwin" in footer


def _backups(root):
    folder = root / "rnn_tf_backups"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _stop_after_two_epochs():
    import keras

    def interrupt(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt  # the kernel is interrupted mid-run

    return keras.callbacks.LambdaCallback(on_epoch_end=interrupt)


def _dense(units):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(units)])
    model.compile("sgd", "mse")
    return model


def _interrupted_fit(course, model, name):
    x, y = np.ones((8, 2), "float32"), np.zeros((8, model.output_shape[-1]), "float32")
    try:
        model.fit(x, y, epochs=5, verbose=0,
                  callbacks=[course.backup(name, model), _stop_after_two_epochs()])
    except KeyboardInterrupt:
        pass
    return x, y


def test_backup_callback_resumes_training_after_an_interruption(tmp_path, monkeypatch):
    import keras

    monkeypatch.setenv("RNN_TF_BACKUP_DIR", str(tmp_path))
    course = start(seed=0, figures_dir=tmp_path / "fig")
    model = _dense(1)
    x, y = _interrupted_fit(course, model, "demo")
    assert len(_backups(tmp_path)) == 1 and _backups(tmp_path)[0].startswith("demo-")
    epochs_run = []
    record = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs_run.append(e))
    model.fit(x, y, epochs=5, verbose=0, callbacks=[course.backup("demo", model), record])
    assert epochs_run == [2, 3, 4]  # resumed after the two finished epochs
    assert _backups(tmp_path) == []  # removed when done


def test_backup_of_another_configuration_is_never_restored(tmp_path, monkeypatch):
    # A full run and a SMOKE run (or another width) of the same notebook share the
    # name; restoring one's weights into the other would fail on the shapes.
    import keras

    monkeypatch.setenv("RNN_TF_BACKUP_DIR", str(tmp_path))
    full = start(seed=0, figures_dir=tmp_path / "fig")
    _interrupted_fit(full, _dense(3), "demo")
    left = _backups(tmp_path)
    smoke = start(seed=0, figures_dir=tmp_path / "fig", smoke=True)
    for course, model in ((smoke, _dense(3)), (full, _dense(2))):
        epochs_run = []
        record = keras.callbacks.LambdaCallback(
            on_epoch_begin=lambda e, logs: epochs_run.append(e)
        )
        x, y = np.ones((8, 2), "float32"), np.zeros((8, model.output_shape[-1]), "float32")
        model.fit(x, y, epochs=3, verbose=0, callbacks=[course.backup("demo", model), record])
        assert epochs_run == [0, 1, 2]  # a fresh start, not the other run's epoch 2
    assert _backups(tmp_path) == left  # the interrupted run's backup is still there


def test_backup_needs_a_built_model(tmp_path):
    import keras

    course = start(seed=0, figures_dir=tmp_path / "fig")
    with pytest.raises(ValueError, match="`model` must be built"):
        course.backup("demo", keras.Sequential([keras.layers.Dense(1)]))


def test_report_keeps_arrays_and_formats_numpy_floats(tmp_path, capsys):
    course = start(seed=0, figures_dir=tmp_path)
    path = course.report("arrays", {"per class": np.array([0.5, 0.25]), "f": np.float32(0.123456)})
    assert "0.1235" in capsys.readouterr().out
    assert json.loads(path.read_text())["numbers"]["per class"] == [0.5, 0.25]


def test_result_files_are_written_whole_or_not_at_all(tmp_path):
    from rnn_tf._files import atomic_path, write_text_atomic

    target = tmp_path / "results.json"
    write_text_atomic(target, "first")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half of the sec")
        raise RuntimeError("the process dies mid-write")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]   # no temporary left


def test_summary_has_one_row_per_report_and_the_report_holds_the_readme_block(tmp_path):
    course = start(seed=0, figures_dir=tmp_path)
    course.report("04 gates", {"chrono LSTM": 0.98765, "tanh": 0.25})
    course.report("09 characters", {"perplexity": 5.5})
    rows = results_summary(tmp_path).splitlines()
    assert rows[2:4] == ["| 04 gates | chrono LSTM: 0.9877; tanh: 0.25 |",
                         "| 09 characters | perplexity: 5.5 |"]
    report = results_report(tmp_path, runs_table="| 04 | ok | 1 min 00 s | 900 MB |")
    block, rest = report.split(RESULTS_END)
    assert "| 04 gates | chrono LSTM: 0.9877; tanh: 0.25 |" in block
    assert "| 04 | ok | 1 min 00 s | 900 MB |" in rest   # the runs table stays in results.md
    assert "| 04 gates | chrono LSTM | 0.9877 |" in rest


def test_reports_from_before_the_run_are_left_out(tmp_path):
    import datetime

    course = start(seed=0, figures_dir=tmp_path)
    old = course.report("03 renamed since", {"x": 1})
    record = json.loads(old.read_text())
    record["date"] = "2020-01-01T00:00:00+00:00"
    old.write_text(json.dumps(record))
    course.report("04 this run", {"y": 2})
    since = datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc)
    assert "03 renamed since" in results_summary(tmp_path)
    assert "03 renamed since" not in results_summary(tmp_path, since=since)
    assert "04 this run" in results_summary(tmp_path, since=since)


def test_the_readme_block_is_replaced_and_nothing_else():
    readme = f"# title\n\nintro\n{RESULTS_BEGIN}\nold table\n{RESULTS_END}\n\n## after\n"
    report = f"{RESULTS_BEGIN}\nnew table\n{RESULTS_END}\n\n## Every reported number\n..."
    assert replace_results_block(readme, report) == (
        f"# title\n\nintro\n{RESULTS_BEGIN}\nnew table\n{RESULTS_END}\n\n## after\n")
    with pytest.raises(ValueError, match="Argument `document` must hold exactly one results block"):
        replace_results_block("# no markers", report)
    with pytest.raises(ValueError, match="Argument `report` must hold exactly one results block"):
        replace_results_block(readme, report + RESULTS_BEGIN)


def test_readme_results_script_updates_the_file_in_place(tmp_path):
    import subprocess
    import sys

    script = pathlib.Path(__file__).resolve().parents[1] / "docs" / "readme_results.py"
    readme, report = tmp_path / "README.md", tmp_path / "results.md"
    readme.write_text(f"a\n{RESULTS_BEGIN}\nold\n{RESULTS_END}\nb\n")
    report.write_text(f"{RESULTS_BEGIN}\nnew\n{RESULTS_END}\n")
    done = subprocess.run([sys.executable, str(script), str(report), str(readme)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert readme.read_text() == f"a\n{RESULTS_BEGIN}\nnew\n{RESULTS_END}\nb\n"
    report.write_text("no markers")
    done = subprocess.run([sys.executable, str(script), str(report), str(readme)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "Argument `report`" in done.stderr
    assert readme.read_text() == f"a\n{RESULTS_BEGIN}\nnew\n{RESULTS_END}\nb\n"   # untouched


def test_the_readme_row_shows_the_headline_and_results_md_every_number(tmp_path):
    course = start(seed=0, figures_dir=tmp_path)
    course.report("05 captions", {"exact match": 0.9, "seconds": 12.5, "verdict": "GRU ahead"},
                  headline=["exact match", "verdict"])
    assert "| 05 captions | exact match: 0.9; verdict: GRU ahead |" in results_summary(tmp_path)
    assert "| 05 captions | seconds | 12.5 |" in results_table(tmp_path)
    with pytest.raises(ValueError, match=r"Argument `headline` must name keys of `numbers`; "
                                         r"received \['accuracy'\]"):
        course.report("05 captions", {"exact match": 0.9}, headline=["accuracy"])


def test_a_report_of_some_notebooks_does_not_drop_the_others_rows():
    header = f"{RESULTS_BEGIN}\n| notebook | x |\n| --- | --- |\n"
    readme = f"{header}| 03 a | 1 |\n| 04 b | 2 |\n{RESULTS_END}"
    partial = f"{header}| 03 a | 5 |\n{RESULTS_END}"
    with pytest.raises(ValueError, match=r"lacks \['04 b'\]"):
        replace_results_block(readme, partial)


def test_peak_memory_grows_with_what_the_process_touched_and_says_when_unmeasured(
        monkeypatch):
    if not pathlib.Path("/proc/self/status").exists():
        assert Course.peak_memory() == "not measured (Linux only)"
        return
    # A fresh process: this one's high-water mark may already be above anything added here.
    script = ("import numpy as np\nfrom rnn_tf.course import Course\n"
              "before = Course.peak_memory()\n"
              "block = np.ones(40_000_000)\n"  # 320 MB, written so that it is resident
              "del block\nprint(before, Course.peak_memory())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = map(int, done.stdout.split()[-2:])
    assert after - before > 250  # the high-water mark keeps the block after del
    monkeypatch.setattr("rnn_tf.course.peak_resident_mb", lambda: None)
    assert Course.peak_memory() == "not measured (Linux only)"
