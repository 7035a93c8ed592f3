"""A daily price series cut into (lookback -> horizon) forecasting windows, split by time.

The series is split chronologically into train | validation | test, windows are cut inside
each part only (no window straddles two splits), and the `StandardScaler` is fitted on the
training part alone. Targets are daily log returns (or prices); `StockData.unscale` and
`to_prices` turn a model's outputs back into returns or prices, so any forecast (a model's,
or a baseline) is scored in the same units.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from rnn_tf._checks import check_choice, check_positive_int, invalid
from rnn_tf.data._common import (
    REAL,
    SPLITS,
    ArraySplits,
    check_fractions,
    make_dataset,
    split_counts,
)

TARGETS = ("log_return", "price")
FEATURES = ("close", "ohlcv")
# What each input column holds, day t; column 0 is always the target quantity.
OHLCV_FEATURES = ("log_return", "log_high_close", "log_low_close", "log_open_close",
                  "log_volume_change")


@dataclasses.dataclass
class StockData(ArraySplits):
    """Scaled forecasting windows, their dates, the scaler, and what the series is.

    Attributes:
        train: shuffled `tf.data.Dataset` of `(x (lookback, features), y (horizon,))` batches.
        validation: the same, in time order.
        test: the same, in time order.
        x_train: float32 `(n, lookback, len(features))` scaled inputs; likewise x_val, x_test.
        y_train: float32 `(n, horizon)` scaled targets; likewise y_val, y_test.
        dates: `{split: datetime64 (n,)}` date of each window's first target day.
        split_dates: `{split: (first day, last day)}` of the rows each split was cut from.
        last_price: `{split: (n,)}` price on each window's last input day ("today").
        target_prices: `{split: (n, horizon)}` true prices on the target days.
        scaler: `StandardScaler` fitted on the training split's values only, one column
            per feature.
        prices: the clean daily price series (DatetimeIndex).
        ticker: what was loaded ("AAPL", "SP500", a CSV name, "synthetic").
        target: "log_return" or "price".
        features: names of the input columns; the first is the target quantity.
        lookback: input days per window.
        horizon: target days per window.
        source: "real", or "offline" for the synthetic fallback.
        units: what one price is ("index points", "USD", "price", "synthetic price units").
        label: one line for titles and printouts, e.g. "S&P 500 index (^GSPC), daily close".
    """

    dates: dict[str, np.ndarray]
    split_dates: dict[str, tuple[pd.Timestamp, pd.Timestamp]]
    last_price: dict[str, np.ndarray]
    target_prices: dict[str, np.ndarray]
    scaler: StandardScaler
    prices: pd.Series
    ticker: str
    target: str
    features: tuple[str, ...]
    lookback: int
    horizon: int
    source: str
    units: str
    label: str

    def unscale(self, y_scaled) -> np.ndarray:
        """Scaled targets `(n, horizon)` back to log returns (or prices): `y * std + mean`."""
        values = np.asarray(y_scaled, dtype="float64")
        values = values.reshape(len(values), -1)
        return values * self.scaler.scale_[0] + self.scaler.mean_[0]

    def to_prices(self, y_scaled, split: str) -> np.ndarray:
        """Scaled model outputs `(n, horizon)` of `split` back to prices.

        Prices: undo the scaling. Log returns: undo the scaling, then compound from the
        window's last price, `p_{t+k} = p_t * exp(r_{t+1} + ... + r_{t+k})`.

        Example:
            >>> np.allclose(data.to_prices(data.y_test, "test"), data.target_prices["test"])
            True
        """
        check_choice(split, SPLITS, "split")
        unscaled = self.unscale(y_scaled)
        if self.target == "price":
            return unscaled
        return self.last_price[split][:, None] * np.exp(np.cumsum(unscaled, axis=1))

    def metrics(self, y_scaled, split: str) -> dict[str, float]:
        """MAE and RMSE, in price units, of scaled model outputs for `split`."""
        error = self.to_prices(y_scaled, split) - self.target_prices[split]
        if error.size == 0:
            return {"mae": float("nan"), "rmse": float("nan")}
        return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error**2)))}


def _columns(series, target: str, features: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Daily values, one row per day, column 0 the target quantity: (days, features)."""
    prices = series.prices.to_numpy(dtype="float64")
    if target == "price":
        if features != "close":
            raise ValueError(
                "Argument `features` must be 'close' when target='price' (the OHLCV inputs "
                f"are returns and in-day ratios); received features={features!r}")
        return prices[:, None], ("price",)
    # r_t = log(p_t / p_{t-1}) belongs to day t; day 0 has no return, so every column drops it.
    returns = np.diff(np.log(prices))
    if features == "close":
        return returns[:, None], ("log_return",)
    if getattr(series, "ohlcv", None) is None:
        raise ValueError(
            f"Argument `features` is 'ohlcv' but {series.label} has no complete open, high, "
            "low, close and volume columns (a close-only CSV, or the synthetic fallback); "
            "use features='close'")
    raw = series.ohlcv.to_numpy(dtype="float64")
    bad = ~(np.isfinite(raw) & (raw > 0)).all(axis=1)
    if bad.any():
        first = series.ohlcv.index[bad][0].date()
        raise ValueError(
            f"Argument `features` is 'ohlcv' but {series.label} has {int(bad.sum())} day(s) "
            f"with a missing, zero or negative open, high, low, close or volume (first "
            f"{first}); start the series after them (`PriceSeries.between`) or use "
            "features='close'")
    table = np.log(raw)
    open_, high, low, close, volume = table.T
    # In-day ratios are scale-free, so unadjusted OHLC beside an adjusted close still fit.
    columns = np.column_stack([returns, (high - close)[1:], (low - close)[1:],
                               (open_ - close)[1:], np.diff(volume)])
    return columns, OHLCV_FEATURES


def window_series(
    series,
    *,
    lookback: int = 30,
    horizon: int = 1,
    target: str = "log_return",
    features: str = "close",
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    batch_size: int = 32,
    seed: int = 0,
    shuffle: bool = True,
) -> StockData:
    """A `PriceSeries` cut into scaled (lookback -> horizon) windows, split by time.

    Args:
        series: a `rnn_tf.data.stocks.PriceSeries` (or a positive `pd.Series` of prices
            on a sorted DatetimeIndex).
        lookback: input days per window.
        horizon: target days per window (each a daily value; their sum is the
            `horizon`-day log return).
        target: "log_return" (`log(p_t / p_{t-1})`, stationary and scale-free) or "price".
        features: "close" (the target quantity alone) or "ohlcv": the log return, the
            log ratios high/close, low/close, open/close of the same day, and the log
            change in volume (needs `series.ohlcv`).
        validation_fraction: share of days (after training days) for validation.
        test_fraction: share of the last days for test.
        batch_size: batch size of the datasets.
        seed: shuffling seed of the training dataset.
        shuffle: shuffle the training windows (they are independent samples).

    Returns:
        `StockData`.

    Raises:
        ValueError: a bad argument, naming it; a series too short for one window in each
            split, naming the lookback, the horizon and the length.

    Example:
        >>> data = window_series(load_price_series("IBM"), lookback=20, horizon=5)
        >>> data.x_train.shape[1:], data.y_train.shape[1:]
        ((20, 1), (5,))
    """
    check_positive_int(lookback, "lookback")
    check_positive_int(horizon, "horizon")
    check_positive_int(batch_size, "batch_size")
    check_fractions(validation_fraction, test_fraction)
    check_choice(target, TARGETS, "target")
    check_choice(features, FEATURES, "features")
    series = _as_price_series(series)
    values, names = _columns(series, target, features)
    price_values = series.prices.to_numpy(dtype="float64")
    day_index = series.prices.index.to_numpy()
    if target == "log_return":
        price_values, day_index = price_values[1:], day_index[1:]
    counts = split_counts(len(values), validation_fraction, test_fraction)
    bounds = np.cumsum((0,) + counts)
    need = lookback + horizon
    for split, count in zip(SPLITS, counts):
        if count < need and (split == "train" or count > 0):
            raise ValueError(
                f"Arguments `lookback` and `horizon` need lookback + horizon = {lookback} + "
                f"{horizon} = {need} days in each split, but {series.label} has "
                f"{len(series.prices)} days ({len(values)} {target} values: "
                f"train/validation/test {counts[0]}/{counts[1]}/{counts[2]}), so the {split} "
                f"split has only {count}. Use a longer series, a shorter lookback or horizon, "
                "or other split fractions")

    scaler = StandardScaler().fit(values[bounds[0]:bounds[1]])
    scaled = scaler.transform(values)
    x, y, dates, spans, last, truth = {}, {}, {}, {}, {}, {}
    for split, start, stop in zip(SPLITS, bounds[:-1], bounds[1:]):
        spans[split] = ((pd.Timestamp(day_index[start]), pd.Timestamp(day_index[stop - 1]))
                        if stop > start else (pd.NaT, pd.NaT))
        if stop - start < need:
            x[split] = np.zeros((0, lookback, len(names)), dtype="float32")
            y[split] = np.zeros((0, horizon), dtype="float32")
            dates[split] = np.array([], dtype="datetime64[ns]")
            last[split], truth[split] = np.zeros(0), np.zeros((0, horizon))
            continue
        # Every run of lookback + horizon days: the first lookback are read, the target
        # column of the rest is predicted.
        view = np.lib.stride_tricks.sliding_window_view(scaled[start:stop], need, axis=0)
        x[split] = np.moveaxis(view[:, :, :lookback], 1, 2).astype("float32")
        y[split] = view[:, 0, lookback:].astype("float32")
        anchors = start + lookback - 1 + np.arange(len(view))  # "today" of each window
        dates[split] = day_index[anchors + 1]
        last[split] = price_values[anchors]
        truth[split] = price_values[anchors[:, None] + 1 + np.arange(horizon)]
    return StockData(
        train=make_dataset(x["train"], y["train"], batch_size=batch_size, shuffle=shuffle,
                           seed=seed),
        validation=make_dataset(x["validation"], y["validation"], batch_size=batch_size),
        test=make_dataset(x["test"], y["test"], batch_size=batch_size),
        x_train=x["train"], y_train=y["train"], x_val=x["validation"], y_val=y["validation"],
        x_test=x["test"], y_test=y["test"], dates=dates, split_dates=spans, last_price=last,
        target_prices=truth, scaler=scaler, prices=series.prices, ticker=series.ticker,
        target=target, features=names, lookback=lookback, horizon=horizon,
        source=series.source, units=series.units, label=series.label)


def _as_price_series(series):
    # Imported here: the stocks module imports this one to offer `load_stocks`.
    from rnn_tf.data.stocks import PriceSeries

    if isinstance(series, PriceSeries):
        return series
    if not isinstance(series, pd.Series):
        raise invalid("series", "a PriceSeries or a pd.Series of prices on a DatetimeIndex",
                      type(series).__name__)
    values = series.to_numpy(dtype="float64")
    if not (isinstance(series.index, pd.DatetimeIndex) and series.index.is_monotonic_increasing
            and series.index.is_unique and np.isfinite(values).all() and (values > 0).all()):
        raise ValueError(
            "Argument `series` must be a PriceSeries, or a pd.Series of finite prices > 0 on "
            "a sorted DatetimeIndex without repeated dates (read_price_csv gives one); "
            f"received a pd.Series named {series.name!r} of {len(series)} values")
    name = str(series.name or "series")
    return PriceSeries(series.astype("float64"), ticker=name, source=REAL, units="price",
                       label=f"{name} daily prices")
