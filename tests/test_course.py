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
