"""Price series: the reader's CSV checked with clear errors, the named sources, the fallback."""

import io
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
from rnn_tf.data import CorruptDataError, DataUnavailableError, Download, registry
from rnn_tf.data.stocks import (
    PriceSeries,
    bokeh_tickers,
    load_price_series,
    load_stocks,
    price_series_from_csv,
    read_price_csv,
    synthetic_prices,
    window_series,
)


def csv(text: str) -> io.StringIO:
    return io.StringIO(text)


GOOD = "Date,Close\n2020-01-02,10.0\n2020-01-03,11.0\n2020-01-06,12.0\n"


# === The reader's own CSV: each problem has its own clear error ===


def test_a_clean_csv_reads_as_one_row_per_trading_day():
    series = read_price_csv(csv(GOOD))
    # the weekend between the 3rd and the 6th is no gap: days are not invented
    assert series.index.strftime("%m-%d").tolist() == ["01-02", "01-03", "01-06"]
    assert series.tolist() == [10.0, 11.0, 12.0] and series.index.name == "date"


def test_csv_without_a_date_column():
    with pytest.raises(ValueError, match=r"no date column: expected a column named 'Date'.*"
                                         r"received columns \['day', 'close'\]"):
        read_price_csv(csv("Day,Close\n2020-01-02,10\n"))


def test_csv_without_a_price_column():
    with pytest.raises(ValueError, match=r"no price column: expected 'Close' or 'Adj Close'.*"
                                         r"received columns \['date', 'open'\]"):
        read_price_csv(csv("Date,Open\n2020-01-02,10\n"))


def test_csv_naming_a_column_it_does_not_have():
    with pytest.raises(ValueError, match=r"Argument `column` must be a column of .*"
                                         r"received column='volume'"):
        read_price_csv(csv(GOOD), column="Volume")


def test_csv_with_unsorted_dates_is_refused_not_sorted():
    text = "Date,Close\n2020-01-02,10\n2020-01-06,12\n2020-01-03,11\n"
    with pytest.raises(ValueError, match=r"dates must increase.*row 2 \(2020-01-03\) comes "
                                         r"after 2020-01-06.*oldest first"):
        read_price_csv(csv(text))


def test_csv_with_a_repeated_date():
    text = "Date,Close\n2020-01-02,10\n2020-01-03,11\n2020-01-03,11.5\n"
    with pytest.raises(ValueError, match=r"1 date\(s\) appear more than once \(2020-01-03\); "
                                         r"expected one row per trading day"):
        read_price_csv(csv(text))


def test_csv_with_an_unreadable_date():
    with pytest.raises(ValueError, match=r"1 date\(s\) cannot be read.*'not a date'"):
        read_price_csv(csv("Date,Close\n2020-01-02,10\nnot a date,11\n"))


def test_csv_with_a_gap_of_weeks_is_missing_data():
    text = "Date,Close\n2020-01-02,10\n2020-01-03,11\n2020-02-03,12\n"
    with pytest.raises(ValueError, match=r"a gap of 31 calendar days between 2020-01-03 and "
                                         r"2020-02-03.*max_gap_days=14"):
        read_price_csv(csv(text))
    assert len(read_price_csv(csv(text), max_gap_days=31)) == 3


def test_csv_with_missing_prices():
    text = "Date,Close\n2020-01-02,10\n2020-01-03,\n2020-01-06,null\n2020-01-07,13\n"
    with pytest.raises(ValueError, match=r"2 missing price\(s\).*column 'close', on "
                                         r"2020-01-03, 2020-01-06; pass missing='drop'"):
        read_price_csv(csv(text))


def test_missing_prices_are_dropped_or_filled_only_when_asked():
    text = "Date,Close\n2020-01-02,10\n2020-01-03,\n2020-01-06,null\n2020-01-07,13\n"
    dropped = read_price_csv(csv(text), missing="drop")
    assert dropped.index.strftime("%d").tolist() == ["02", "07"] and dropped.tolist() == [10, 13]
    filled = read_price_csv(csv(text), missing="ffill")
    assert filled.tolist() == [10.0, 10.0, 10.0, 13.0]
    with pytest.raises(ValueError, match="Argument `missing` must be one of"):
        read_price_csv(csv(text), missing="zero")


def test_csv_with_a_non_positive_price():
    text = "Date,Close\n2020-01-02,10\n2020-01-03,0\n2020-01-06,-1\n"
    with pytest.raises(ValueError, match=r"2 price\(s\) in column 'close' are zero or negative "
                                         r"\(on 2020-01-03, 2020-01-06\); expected prices > 0"):
        read_price_csv(csv(text), missing="drop")  # a wrong price is not a missing one


def test_csv_too_short_for_one_window_names_lookback_horizon_and_length():
    series = price_series_from_csv(csv(GOOD + "2020-01-07,13\n"), name="mine")
    with pytest.raises(ValueError, match=r"lookback \+ horizon = 3 \+ 2 = 5 days in each "
                                         r"split, but mine daily close.*has 4 days \(3 "
                                         r"log_return values"):
        window_series(series, lookback=3, horizon=2)


def test_csv_columns_match_case_insensitively_and_prefer_adjusted_close():
    text = "date, CLOSE ,Adj Close\n2020-01-02,10,5\n2020-01-03,11,6\n"
    assert read_price_csv(csv(text)).tolist() == [5.0, 6.0]
    assert read_price_csv(csv(text), column="Close").tolist() == [10.0, 11.0]


def test_csv_from_a_path_with_ohlcv_keeps_all_five_columns(tmp_path):
    path = write_prices_csv(tmp_path / "mine.csv", np.arange(1.0, 11.0))
    series = price_series_from_csv(path)
    assert (series.ticker, series.source, series.units) == ("mine", "real", "price")
    assert str(path) in series.label and series.has_ohlcv
    assert list(series.ohlcv.columns) == ["open", "high", "low", "close", "volume"]
    assert series.ohlcv.index.equals(series.prices.index)
    assert not price_series_from_csv(csv(GOOD)).has_ohlcv


def test_between_keeps_prices_and_ohlcv_aligned(tmp_path):
    series = price_series_from_csv(write_prices_csv(tmp_path / "p.csv", np.arange(1.0, 31.0)))
    part = series.between("2020-01-06", "2020-01-10")
    assert len(part.prices) == 5 and part.ohlcv.index.equals(part.prices.index)
    assert series.between() is series


# === Named sources ===


def test_bokeh_series_is_real_usd_with_ohlcv():
    ibm = load_price_series("IBM")
    assert (ibm.source, ibm.ticker, ibm.units) == ("real", "IBM", "USD")
    assert ibm.label.startswith("IBM daily adjusted close") and ibm.has_ohlcv
    assert ibm.prices.index.is_monotonic_increasing and (ibm.prices > 0).all()


def test_start_and_end_cut_the_series():
    series = load_price_series("MSFT", start="2005-01-01", end="2005-12-31")
    assert series.prices.index[0].year == series.prices.index[-1].year == 2005


def test_unknown_ticker_lists_the_available_ones():
    with pytest.raises(ValueError, match="Argument `ticker`.*AAPL, .*IBM.*MSFT.*SP500"):
        load_price_series("TSLA")
    assert {"AAPL", "GOOG", "IBM", "MSFT"} <= set(bokeh_tickers())


@pytest.mark.parametrize("kwargs, argument", [
    (dict(source="web"), "source"), (dict(provider="quandl"), "provider"),
    (dict(num_days=0), "num_days"),
])
def test_bad_series_arguments_name_themselves(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        load_price_series("AAPL", **kwargs)


def test_yfinance_is_optional_with_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "yfinance", None)  # import fails as if not installed
    with pytest.raises(ImportError, match="pip install yfinance"):
        load_price_series("TSLA", source="real", provider="yfinance")


def test_synthetic_prices_are_deterministic_and_labelled():
    np.testing.assert_array_equal(synthetic_prices(300, seed=4), synthetic_prices(300, seed=4))
    assert not np.array_equal(synthetic_prices(300, seed=4), synthetic_prices(300, seed=5))
    series = synthetic_prices(300, seed=4)
    assert (series > 0).all() and series.iloc[0] == 100.0
    assert isinstance(series.index, pd.DatetimeIndex) and series.index.dayofweek.max() < 5
    offline = load_price_series(source="offline", seed=2, num_days=300)
    assert (offline.source, offline.ticker) == ("offline", "synthetic")
    assert "NOT real" in offline.label and not offline.has_ohlcv
    np.testing.assert_array_equal(offline.prices, synthetic_prices(300, seed=2))


def test_load_stocks_is_the_two_steps_composed(tmp_path):
    composed = window_series(load_price_series("GOOG", start="2006"), lookback=12, horizon=3)
    shortcut = load_stocks("GOOG", start="2006", lookback=12, horizon=3)
    np.testing.assert_array_equal(shortcut.x_test, composed.x_test)
    assert isinstance(load_price_series("GOOG"), PriceSeries)
    path = write_prices_csv(tmp_path / "line.csv", np.arange(1.0, 101.0))
    mine = load_stocks(csv_path=path, lookback=5)
    assert mine.ticker == "line" and len(mine.prices) == 100
    with pytest.raises(ValueError, match="with `csv_path` only column, missing, start and end"):
        load_stocks(csv_path=path, provider="yfinance")


@pytest.fixture
def served_csv(http_server):
    prices = 100 + np.cumsum(np.random.default_rng(0).normal(size=300))
    write_prices_csv(http_server.root / "sp500_daily_1927_2023.csv", prices)
    return http_server


def test_sp500_download_and_cache_hit(served_csv, cache):
    url = served_csv.url("sp500_daily_1927_2023.csv")
    digest = sha256(served_csv.root / "sp500_daily_1927_2023.csv")
    series = load_price_series("^GSPC", source="real", download=Download(url, digest, cache))
    assert series.ticker == "SP500" and series.source == "real" and len(series.prices) == 300
    load_price_series("SP500", source="real", download=Download(url, digest, cache))
    assert served_csv.requests["sp500_daily_1927_2023.csv"] == 1


def test_sp500_download_with_wrong_hash_is_removed(served_csv, cache):
    with pytest.raises(CorruptDataError):
        load_price_series("SP500", source="real",
                          # the pinned hash is the real file's, not the served one's
                          download=Download(served_csv.url("sp500_daily_1927_2023.csv"),
                                            cache_dir=cache))
    assert not (cache / "sp500_daily_1927_2023.csv").exists()


def test_sp500_without_a_copy_real_fails_and_auto_uses_real_bokeh_prices(cache, caplog):
    with pytest.raises(DataUnavailableError, match="sp500_daily_1927_2023.csv"):
        load_price_series("SP500", source="real", download=Download(cache_dir=cache))
    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        # SP500 is the default ticker
        data = load_price_series(source="auto", download=Download(cache_dir=cache))
    assert (data.source, data.ticker, data.units) == ("real", "AAPL", "USD")
    assert "bokeh-sampledata" in data.label and "AAPL daily prices" in caplog.text
    assert "OFFLINE FALLBACK" not in caplog.text


def test_synthetic_only_when_nothing_real_is_available(monkeypatch, cache, caplog):
    monkeypatch.setattr(registry, "_package_path", lambda info: None)  # no bokeh-sampledata
    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        data = load_price_series(source="auto", download=Download(cache_dir=cache))
    assert data.source == "offline" and "OFFLINE FALLBACK" in caplog.text
    assert data.units == "synthetic price units" and "NOT real" in data.label


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
    series = load_price_series("SP500", source="real", start="2000-01-01",
                               download=Download(cache_dir=shared_data_dir))
    assert series.source == "real" and series.prices.index[0] >= pd.Timestamp("2000-01-01")
    assert series.prices.index[-1] == pd.Timestamp("2023-12-28")
    assert series.units == "index points" and series.label.startswith("S&P 500 index")
    # the file has OHLCV, with volumes from 2000 on, so the OHLCV inputs can be cut
    data = window_series(series, lookback=10, horizon=5, features="ohlcv")
    assert data.x_test.shape[1:] == (10, 5)


def test_csv_with_an_infinite_price_names_the_day():
    text = "Date,Close\n2020-01-02,10\n2020-01-03,1e400\n2020-01-06,11\n"
    with pytest.raises(ValueError, match=r"infinite or too large.*2020-01-03"):
        read_price_csv(csv(text))


@pytest.mark.parametrize("text, what", [("", "which is empty"),
                                        ("Date,Close\n", "which has a header only")])
def test_an_empty_csv_is_refused_naming_it(text, what):
    with pytest.raises(ValueError, match=f"Argument `path_or_buffer`.*{what}"):
        read_price_csv(csv(text))
