"""Forecasting windows: chronological splits, a train-only scaler, returns and OHLCV inputs."""

import io

import numpy as np
import pandas as pd
import pytest
from tiny_files import write_prices_csv

from rnn_tf.data.stocks import load_price_series, price_series_from_csv
from rnn_tf.data.windows import OHLCV_FEATURES, window_series


@pytest.fixture(scope="module")
def aapl():
    return load_price_series("AAPL")


@pytest.mark.parametrize("target", ["price", "log_return"])
def test_splits_are_chronological_with_no_shared_days(aapl, target):
    data = window_series(aapl, target=target, lookback=20, horizon=3)
    spans = data.split_dates
    assert spans["train"][1] < spans["validation"][0] <= spans["validation"][1] < spans["test"][0]
    assert data.dates["train"].max() < data.dates["validation"].min()
    assert data.dates["validation"].max() < data.dates["test"].min()
    for split in ("train", "validation", "test"):  # every target day inside its own split
        assert data.dates[split].min() >= np.datetime64(spans[split][0])
        assert data.dates[split].max() <= np.datetime64(spans[split][1])


def test_scaler_saw_the_training_prices_only():
    data = window_series(load_price_series("IBM"), target="price", lookback=10)
    train = data.prices.loc[data.split_dates["train"][0]:data.split_dates["train"][1]]
    np.testing.assert_allclose(data.scaler.mean_, [train.mean()])
    np.testing.assert_allclose(data.scaler.scale_, [train.std(ddof=0)])
    assert abs(data.x_train.mean()) < 0.1 and abs(data.x_test.mean()) > 0.1


def test_scaler_saw_the_training_ohlcv_columns_only(aapl):
    data = window_series(aapl, features="ohlcv", lookback=10)
    first, last = data.split_dates["train"]
    table = np.log(aapl.ohlcv)
    by_hand = pd.DataFrame({
        "log_return": np.log(aapl.prices).diff(),
        "log_high_close": table["high"] - table["close"],
        "log_low_close": table["low"] - table["close"],
        "log_open_close": table["open"] - table["close"],
        "log_volume_change": table["volume"].diff(),
    }).loc[first:last]
    assert data.features == OHLCV_FEATURES
    np.testing.assert_allclose(data.scaler.mean_, by_hand.mean().to_numpy())
    np.testing.assert_allclose(data.scaler.scale_, by_hand.std(ddof=0).to_numpy())


def test_ohlcv_windows_hold_the_same_days_as_close_windows(aapl):
    close = window_series(aapl, lookback=8, horizon=2)
    ohlcv = window_series(aapl, features="ohlcv", lookback=8, horizon=2)
    assert ohlcv.x_test.shape == close.x_test.shape[:2] + (5,)
    np.testing.assert_allclose(ohlcv.x_test[..., 0], close.x_test[..., 0], rtol=1e-6)
    np.testing.assert_array_equal(ohlcv.y_test, close.y_test)
    np.testing.assert_array_equal(ohlcv.dates["test"], close.dates["test"])


def test_ohlcv_is_refused_where_there_is_none_or_it_is_incomplete(tmp_path):
    with pytest.raises(ValueError, match="has no complete open, high, low, close and volume"):
        window_series(load_price_series(source="offline"), features="ohlcv")
    path = write_prices_csv(tmp_path / "p.csv", np.arange(1.0, 201.0))
    path.write_text(path.read_text().replace(",100\n", ",0\n", 1))  # first volume zero
    with pytest.raises(ValueError, match=r"1 day\(s\) with a missing, zero or negative .* "
                                         r"\(first 2020-01-01\)"):
        window_series(price_series_from_csv(path), features="ohlcv")
    with pytest.raises(ValueError, match="`features` must be 'close' when target='price'"):
        window_series(price_series_from_csv(path), features="ohlcv", target="price")


def test_today_and_target_prices_on_a_known_series(tmp_path):
    series = price_series_from_csv(write_prices_csv(tmp_path / "line.csv", np.arange(1.0, 101.0)))
    data = window_series(series, target="price", lookback=5, horizon=3,
                         validation_fraction=0.2, test_fraction=0.2)
    # prices rise by 1 a day: the k-th target day is k above "today"
    for split in ("train", "validation", "test"):
        np.testing.assert_allclose(data.target_prices[split],
                                   data.last_price[split][:, None] + np.arange(1, 4))
    # so "tomorrow = today", scored like a model, is off by 1, 2, 3 over the horizon
    naive = np.repeat(data.last_price["test"][:, None], 3, axis=1)
    scaled = data.scaler.transform(naive.reshape(-1, 1)).reshape(naive.shape)
    assert data.metrics(scaled, "test")["mae"] == pytest.approx(2.0)
    assert data.metrics(scaled, "test")["rmse"] == pytest.approx(np.sqrt(14 / 3))


def test_unscaled_targets_are_the_log_returns_of_the_target_days(aapl):
    data = window_series(aapl, lookback=10, horizon=5)
    returns = np.log(data.target_prices["test"]) - np.log(
        np.column_stack([data.last_price["test"], data.target_prices["test"][:, :-1]]))
    np.testing.assert_allclose(data.unscale(data.y_test), returns, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("target", ["price", "log_return"])
def test_to_prices_inverts_scaling(target):
    data = window_series(load_price_series("GOOG"), target=target, horizon=4)
    for split in ("train", "test"):
        np.testing.assert_allclose(data.to_prices(getattr(data, f"y_{split}"), split),
                                   data.target_prices[split], rtol=1e-5)
    assert data.metrics(data.y_test, "test")["mae"] < 1e-3 * data.prices.mean()


def test_windows_and_dataset_shapes():
    data = window_series(load_price_series("MSFT"), lookback=15, horizon=2, batch_size=8)
    assert data.x_train.shape[1:] == (15, 1) and data.y_train.shape[1:] == (2,)
    assert data.x_train.dtype == np.float32
    x, y = next(iter(data.train))
    assert x.shape == (8, 15, 1) and y.shape == (8, 2)
    # consecutive validation windows overlap by all but one day
    np.testing.assert_array_equal(data.x_val[1, :-1], data.x_val[0, 1:])


@pytest.mark.parametrize("kwargs, argument", [
    (dict(lookback=0), "lookback"), (dict(horizon=-1), "horizon"),
    (dict(validation_fraction=0.5, test_fraction=0.5), "fraction"),
    (dict(target="diff"), "target"), (dict(features="volume"), "features"),
    (dict(batch_size=0), "batch_size"),
])
def test_bad_arguments_name_themselves(aapl, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        window_series(aapl, **kwargs)


def test_lookback_longer_than_a_split_is_explained():
    series = load_price_series(source="offline", num_days=200)
    with pytest.raises(ValueError, match=r"lookback \+ horizon = 40 \+ 1 = 41 .* has 200 days "
                                         r"\(199 log_return values.*validation split has only 30"):
        window_series(series, lookback=40)


def test_a_plain_series_of_prices_is_accepted_and_a_bad_one_refused():
    prices = pd.Series(np.arange(1.0, 101.0), index=pd.bdate_range("2020-01-01", periods=100),
                       name="close")
    data = window_series(prices, lookback=5)
    assert data.ticker == "close" and data.x_train.shape[1:] == (5, 1)
    with pytest.raises(ValueError, match="Argument `series` must be a PriceSeries, or a "
                                         "pd.Series of finite prices > 0"):
        window_series(prices[::-1], lookback=5)


def test_a_series_read_from_a_buffer_windows_like_one_from_a_file(tmp_path):
    path = write_prices_csv(tmp_path / "p.csv", 100 + np.arange(60.0))
    from_file = window_series(price_series_from_csv(path), lookback=5)
    from_buffer = window_series(price_series_from_csv(io.StringIO(path.read_text())), lookback=5)
    np.testing.assert_array_equal(from_file.x_test, from_buffer.x_test)


def test_window_series_refuses_what_is_not_a_price_series():
    with pytest.raises(ValueError, match=r"Argument `series` must be a PriceSeries or a pd.Series"
                                         r".*received series='ndarray'"):
        window_series(np.arange(1.0, 100.0), lookback=5)
