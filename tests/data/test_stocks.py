"""Stock windows: CSV cleaning, chronological splits, train-only scaler, real data by default."""

import logging
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from tiny_files import sha256, write_prices_csv

import rnn_tf
from rnn_tf.data import CorruptDataError, DataUnavailableError, registry
from rnn_tf.data.stocks import bokeh_tickers, load_stocks, read_price_csv, synthetic_prices


def test_csv_with_missing_days_nan_rows_duplicates_and_disorder(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(
        "Date,Close\n"
        "2020-01-08,13.0\n"       # out of order
        "2020-01-02,10.0\n"
        "2020-01-03,\n"           # empty price
        "2020-01-06,null\n"       # Yahoo's missing marker
        "2020-01-07,12.0\n"
        "2020-01-07,12.5\n"       # duplicate date: the last row wins
        "not a date,99.0\n"
        "2020-01-09,-1\n"         # impossible price
        "2020-01-13,14.0\n",      # 10th (Friday) missing: days are not invented
        encoding="utf-8")
    series = read_price_csv(path)
    assert series.index.is_monotonic_increasing and series.index.is_unique
    assert series.index.strftime("%m-%d").tolist() == ["01-02", "01-07", "01-08", "01-13"]
    assert series.tolist() == [10.0, 12.5, 13.0, 14.0]
    filled = read_price_csv(path, missing="ffill")
    assert filled.loc["2020-01-03"] == 10.0 and filled.loc["2020-01-06"] == 10.0
    assert filled.loc["2020-01-09"] == 13.0


def test_csv_columns_match_case_insensitively_and_prefer_adjusted_close(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("date, CLOSE ,Adj Close\n2020-01-02,10,5\n2020-01-03,11,6\n")
    assert read_price_csv(path).tolist() == [5.0, 6.0]
    assert read_price_csv(path, column="Close").tolist() == [10.0, 11.0]
    with pytest.raises(ValueError, match="argument `column`.*'open'"):
        read_price_csv(path, column="open")


@pytest.mark.parametrize("target", ["price", "log_return"])
def test_splits_are_chronological_with_no_shared_days(target):
    data = load_stocks("AAPL", target=target, lookback=20, horizon=3)
    assert data.source == "real" and data.ticker == "AAPL"
    spans = data.split_dates
    assert spans["train"][1] < spans["validation"][0] <= spans["validation"][1] < spans["test"][0]
    assert data.dates["train"].max() < data.dates["validation"].min()
    assert data.dates["validation"].max() < data.dates["test"].min()
    # every target day of a split lies inside that split's own span
    for split in ("train", "validation", "test"):
        assert data.dates[split].min() >= np.datetime64(spans[split][0])
        assert data.dates[split].max() <= np.datetime64(spans[split][1])


def test_scaler_saw_the_training_prices_only():
    data = load_stocks("IBM", lookback=10)
    train = data.prices.loc[data.split_dates["train"][0]:data.split_dates["train"][1]]
    np.testing.assert_allclose(data.scaler.mean_, [train.mean()])
    np.testing.assert_allclose(data.scaler.scale_, [train.std(ddof=0)])
    assert abs(data.x_train.mean()) < 0.1 and abs(data.x_test.mean()) > 0.1


def test_scaler_saw_the_training_log_returns_only():
    data = load_stocks("MSFT", target="log_return", lookback=10)
    returns = np.log(data.prices).diff().dropna()
    train = returns.loc[data.split_dates["train"][0]:data.split_dates["train"][1]]
    np.testing.assert_allclose(data.scaler.mean_, [train.mean()])
    np.testing.assert_allclose(data.scaler.scale_, [train.std(ddof=0)])


def test_today_and_target_prices_on_a_known_series(tmp_path):
    path = write_prices_csv(tmp_path / "line.csv", np.arange(1.0, 101.0))
    data = load_stocks(csv_path=path, lookback=5, horizon=3, validation_fraction=0.2,
                       test_fraction=0.2)
    # prices rise by 1 a day: the k-th target day is k above "today"
    for split in ("train", "validation", "test"):
        np.testing.assert_allclose(data.target_prices[split],
                                   data.last_price[split][:, None] + np.arange(1, 4))
    # so "tomorrow = today", scored like a model, is off by 1, 2, 3 over the horizon
    naive = np.repeat(data.last_price["test"][:, None], 3, axis=1)
    scaled = data.scaler.transform(naive.reshape(-1, 1)).reshape(naive.shape)
    assert data.metrics(scaled, "test")["mae"] == pytest.approx(2.0)
    assert data.metrics(scaled, "test")["rmse"] == pytest.approx(np.sqrt(14 / 3))
    assert not hasattr(data, "baseline_metrics")  # the baseline is the notebook's lesson


@pytest.mark.parametrize("target", ["price", "log_return"])
def test_to_prices_inverts_scaling(target):
    data = load_stocks("GOOG", target=target, horizon=4)
    for split in ("train", "test"):
        np.testing.assert_allclose(data.to_prices(getattr(data, f"y_{split}"), split),
                                   data.target_prices[split], rtol=1e-5)
    assert data.metrics(data.y_test, "test")["mae"] < 1e-3 * data.prices.mean()


def test_windows_and_dataset_shapes():
    data = load_stocks("MSFT", lookback=15, horizon=2, batch_size=8)
    assert data.x_train.shape[1:] == (15, 1) and data.y_train.shape[1:] == (2,)
    assert data.x_train.dtype == np.float32
    x, y = next(iter(data.train))
    assert x.shape == (8, 15, 1) and y.shape == (8, 2)
    # consecutive validation windows overlap by all but one day
    np.testing.assert_array_equal(data.x_val[1, :-1], data.x_val[0, 1:])


def test_unknown_ticker_lists_the_available_ones():
    with pytest.raises(ValueError, match="argument `ticker`.*AAPL, .*IBM.*MSFT.*SP500"):
        load_stocks("TSLA")
    assert {"AAPL", "GOOG", "IBM", "MSFT"} <= set(bokeh_tickers())


@pytest.mark.parametrize("kwargs, argument", [
    (dict(lookback=0), "lookback"), (dict(horizon=-1), "horizon"),
    (dict(validation_fraction=0.5, test_fraction=0.5), "fraction"),
    (dict(target="diff"), "target"), (dict(missing="zero"), "missing"),
    (dict(source="web"), "source"), (dict(provider="quandl"), "provider"),
    (dict(batch_size=0), "batch_size"),
])
def test_bad_arguments_name_themselves(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        load_stocks("AAPL", **kwargs)


def test_lookback_longer_than_a_split_is_explained():
    with pytest.raises(ValueError, match="validation split has .* lookback"):
        load_stocks(source="offline", num_days=200, lookback=40)


def test_yfinance_is_optional_with_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import fails as if not installed
    with pytest.raises(ImportError, match="pip install yfinance"):
        load_stocks("TSLA", source="real", provider="yfinance")


def test_synthetic_prices_are_deterministic_and_labelled():
    np.testing.assert_array_equal(synthetic_prices(300, seed=4), synthetic_prices(300, seed=4))
    assert not np.array_equal(synthetic_prices(300, seed=4), synthetic_prices(300, seed=5))
    series = synthetic_prices(300, seed=4)
    assert (series > 0).all() and series.iloc[0] == 100.0
    assert isinstance(series.index, pd.DatetimeIndex) and series.index.dayofweek.max() < 5
    first, second = load_stocks(source="offline", seed=2), load_stocks(source="offline", seed=2)
    assert first.source == "offline" and first.ticker == "synthetic"
    assert "NOT real" in first.label
    np.testing.assert_array_equal(first.x_train, second.x_train)


@pytest.fixture
def served_csv(http_server):
    prices = 100 + np.cumsum(np.random.default_rng(0).normal(size=300))
    write_prices_csv(http_server.root / "sp500_daily_1927_2023.csv", prices)
    return http_server


def test_sp500_download_and_cache_hit(served_csv, cache):
    url = served_csv.url("sp500_daily_1927_2023.csv")
    digest = sha256(served_csv.root / "sp500_daily_1927_2023.csv")
    data = load_stocks("^GSPC", source="real", origin=url, file_hash=digest, cache_dir=cache)
    assert data.ticker == "SP500" and data.source == "real" and len(data.prices) == 300
    load_stocks("SP500", source="real", origin=url, file_hash=digest, cache_dir=cache)
    assert served_csv.requests["sp500_daily_1927_2023.csv"] == 1


def test_sp500_download_with_wrong_hash_is_removed(served_csv, cache):
    with pytest.raises(CorruptDataError):
        load_stocks("SP500", source="real", origin=served_csv.url("sp500_daily_1927_2023.csv"),
                    cache_dir=cache)  # the pinned hash is the real file's
    assert not (cache / "sp500_daily_1927_2023.csv").exists()


def test_sp500_without_a_copy_real_fails_and_auto_uses_real_bokeh_prices(cache, caplog):
    with pytest.raises(DataUnavailableError, match="sp500_daily_1927_2023.csv"):
        load_stocks("SP500", source="real", cache_dir=cache)
    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        data = load_stocks(source="auto", cache_dir=cache)  # SP500 is the default
    assert (data.source, data.ticker, data.units) == ("real", "AAPL", "USD")
    assert "bokeh-sampledata" in data.label and "AAPL daily prices" in caplog.text
    assert "OFFLINE FALLBACK" not in caplog.text


def test_synthetic_only_when_nothing_real_is_available(monkeypatch, cache, caplog):
    monkeypatch.setattr(registry, "_package_path", lambda info: None)  # no bokeh-sampledata
    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        data = load_stocks(source="auto", cache_dir=cache)
    assert data.source == "offline" and "OFFLINE FALLBACK" in caplog.text
    assert data.units == "synthetic price units" and "NOT real" in data.label


def test_the_series_says_what_it_is():
    ibm = load_stocks("IBM", lookback=10)
    assert ibm.units == "USD" and ibm.label.startswith("IBM daily adjusted close")


# An installed package: no checkout around it, no data folders, an empty cache, no network.
INSTALLED = """
import socket

def refuse(*args, **kwargs):
    raise OSError("no network in this test")

socket.socket.connect = refuse
socket.getaddrinfo = refuse
from rnn_tf.data import load_stocks
data = load_stocks(source="auto", lookback=10)
print("RESULT", data.source, data.ticker, data.units, sep="|")
"""


@pytest.mark.timeout(300)
def test_stocks_are_real_in_an_installed_package_offline(tmp_path):
    site = tmp_path / "site-packages"
    shutil.copytree(pathlib.Path(rnn_tf.__file__).parent, site / "rnn_tf",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "RNN_TF_DATA_DIR", "RNN_TF_CACHE_DIR"}}
    env.update(PYTHONPATH=str(site), HOME=str(tmp_path / "home"), TF_CPP_MIN_LOG_LEVEL="3",
               RNN_TF_DATA_DIR=str(tmp_path / "nowhere"))
    run = subprocess.run([sys.executable, "-c", INSTALLED], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stderr[-2000:]
    result = [line for line in run.stdout.splitlines() if line.startswith("RESULT")]
    assert result == ["RESULT|real|AAPL|USD"], run.stdout[-2000:]
    assert not (tmp_path / "home" / ".rnn_tf").exists()  # nothing was downloaded


@pytest.mark.needs_shared_data
def test_real_shared_sp500(shared_data_dir):
    data = load_stocks("SP500", source="real", cache_dir=shared_data_dir, start="2000-01-01",
                       target="log_return")
    assert data.source == "real" and data.prices.index[0] >= pd.Timestamp("2000-01-01")
    assert data.prices.index[-1] == pd.Timestamp("2023-12-28")
    assert data.units == "index points" and data.label.startswith("S&P 500 index")
