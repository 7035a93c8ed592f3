"""Daily stock prices as (lookback -> horizon) forecasting windows, split by time.

Where the prices come from:

- `ticker="SP500"` (the default, or `"^GSPC"`): `sp500_daily_1927_2023.csv` from a data
  folder or the cache (no public URL; pass `origin=` to download a copy from a mirror).
  With `source="auto"` and no copy on this machine, the real AAPL prices below are used
  instead, with a logged warning;
- `ticker` in AAPL, GOOG, IBM, MSFT (and FB): the `bokeh-sampledata` package (a dependency,
  so real on any machine, offline), public domain (Quandl WIKI, 2000-2013), split-adjusted
  close in USD by default;
- `csv_path=`: any CSV with `Date` and `Close` columns (read with pandas);
- `provider="yfinance"`: Yahoo Finance through the optional `yfinance` package;
- offline fallback: `synthetic_prices`, geometric Brownian motion with regime changes,
  labelled `source="offline"`, used only when asked for or when nothing real is available.

The series is split chronologically into train | validation | test, windows are cut inside
each part only (no window straddles two splits), and the `StandardScaler` is fitted on the
training part alone. Targets are prices or log returns; `to_prices` and `metrics` turn a
model's outputs back into prices, so any forecast (a model's, or a baseline computed from
`last_price`) is scored in the same units.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from rnn_tf._checks import check_positive_int
from rnn_tf.data import registry
from rnn_tf.data._common import (
    OFFLINE,
    REAL,
    SPLITS,
    ArraySplits,
    check_fractions,
    check_source,
    choose,
    make_dataset,
    split_counts,
)
from rnn_tf.data.errors import DataUnavailableError

logger = logging.getLogger("rnn_tf.data")

SP500 = "SP500"
# Real prices used by source="auto" when the S&P 500 file is not on this machine.
SUBSTITUTE_TICKER = "AAPL"
_SP500_ALIASES = {"SP500", "^GSPC", "GSPC", "S&P500"}
TARGETS = ("price", "log_return")
PROVIDERS = ("auto", "yfinance")
MISSING = ("drop", "ffill")


@dataclasses.dataclass
class StockData(ArraySplits):
    """Scaled forecasting windows, their dates, the scaler, and what the series is.

    Attributes:
        train: shuffled `tf.data.Dataset` of `(x (lookback, 1), y (horizon,))` batches.
        validation: the same, in time order.
        test: the same, in time order.
        x_train: float32 `(n, lookback, 1)` scaled inputs; likewise x_val, x_test.
        y_train: float32 `(n, horizon)` scaled targets; likewise y_val, y_test.
        dates: `{split: datetime64 (n,)}` date of each window's first target day.
        split_dates: `{split: (first day, last day)}` of the rows each split was cut from.
        last_price: `{split: (n,)}` price on each window's last input day ("today").
        target_prices: `{split: (n, horizon)}` true prices on the target days.
        scaler: `StandardScaler` fitted on the training split's values only.
        prices: the clean daily price series (DatetimeIndex).
        ticker: what was loaded ("AAPL", "SP500", a CSV name, "synthetic").
        target: "price" or "log_return".
        lookback: input days per window.
        horizon: target days per window.
        source: "real", or "offline" for the synthetic fallback.
        units: what one price is: "index points" (S&P 500), "USD" (bokeh-sampledata
            stocks), "price" (a CSV or yfinance), "synthetic price units".
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
    lookback: int
    horizon: int
    source: str
    units: str
    label: str

    def to_prices(self, y_scaled, split: str) -> np.ndarray:
        """Scaled model outputs `(n, horizon)` of `split` back to prices.

        Prices: undo the scaling. Log returns: undo the scaling, then compound from the
        window's last price, `p_{t+k} = p_t * exp(r_{t+1} + ... + r_{t+k})`.

        Example:
            >>> np.allclose(data.to_prices(data.y_test, "test"), data.target_prices["test"])
            True
        """
        _check_split(split)
        values = np.asarray(y_scaled, dtype="float64")
        values = values.reshape(len(values), -1)
        unscaled = self.scaler.inverse_transform(values.reshape(-1, 1)).reshape(values.shape)
        if self.target == "price":
            return unscaled
        return self.last_price[split][:, None] * np.exp(np.cumsum(unscaled, axis=1))

    def metrics(self, y_scaled, split: str) -> dict[str, float]:
        """MAE and RMSE, in price units, of scaled model outputs for `split`."""
        return _errors(self.to_prices(y_scaled, split), self.target_prices[split])


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(
            f"Received an invalid value for argument `split`, expected one of {SPLITS}, "
            f"received split={split!r}")


def _errors(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    error = np.asarray(predicted, dtype="float64") - np.asarray(actual, dtype="float64")
    if error.size == 0:
        return {"mae": float("nan"), "rmse": float("nan")}
    return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error**2)))}


# === Reading prices ===


def _normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    # "Adj Close", "adj_close" and " Close " all name the same thing across sources.
    frame = frame.copy()
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    return frame


def _clean_series(frame: pd.DataFrame, column: str | None, missing: str, label: str
                  ) -> pd.Series:
    frame = _normalise_columns(frame)
    if "date" not in frame.columns:
        raise ValueError(f"{label} has no Date column; columns are {list(frame.columns)}")
    if column is None:
        column = "adj_close" if "adj_close" in frame.columns else "close"
    column = column.strip().lower().replace(" ", "_")
    if column not in frame.columns:
        raise ValueError(
            f"Received an invalid value for argument `column`: {label} has no {column!r} "
            f"column; columns are {list(frame.columns)}")
    dates = pd.to_datetime(frame["date"], errors="coerce")
    # Yahoo writes "null" for missing quotes; anything non-numeric counts as missing.
    values = pd.to_numeric(frame[column], errors="coerce")
    values = values.where(values > 0)
    series = pd.Series(values.to_numpy(dtype="float64"), index=pd.DatetimeIndex(dates),
                       name=column)
    series = series[series.index.notna()].sort_index()
    series = series[~series.index.duplicated(keep="last")]
    gaps = int(series.isna().sum())
    if missing == "ffill":
        series = series.ffill()
    series = series.dropna()
    if gaps:
        logger.info("%s: %d missing or non-positive %s value(s) %s.", label, gaps, column,
                    "forward-filled" if missing == "ffill" else "dropped")
    series.index.name = "date"
    return series


def read_price_csv(
    path: str | os.PathLike,
    *,
    column: str | None = None,
    missing: str = "drop",
) -> pd.Series:
    """A clean daily price series from a CSV with `Date` and `Close` columns.

    Column names are matched case-insensitively ("Adj Close" == "adj_close"). Rows are
    sorted by date, duplicate dates keep the last row, unparseable dates are dropped, and
    missing, non-numeric ("null") or non-positive prices are dropped or forward-filled.
    Days absent from the file (weekends, holidays, gaps) are not invented: one row is one
    trading day.

    Args:
        path: the CSV file.
        column: price column; default "adj_close" when present, else "close".
        missing: "drop" or "ffill" for missing prices.

    Returns:
        float64 `pd.Series` on a sorted, unique DatetimeIndex named "date".

    Example:
        >>> read_price_csv("sp500_daily_1927_2023.csv").iloc[0]
        17.65999984741211
    """
    _check_missing(missing)
    return _clean_series(pd.read_csv(path), column, missing, str(path))


def _describe(series: pd.Series) -> str:
    return {"adj_close": "adjusted close", "close": "close"}.get(series.name, str(series.name))


def _check_missing(missing: str) -> None:
    if missing not in MISSING:
        raise ValueError(
            f"Received an invalid value for argument `missing`, expected one of {MISSING}, "
            f"received missing={missing!r}")


def bokeh_tickers() -> tuple[str, ...]:
    """Tickers shipped by `bokeh-sampledata` (empty when it is not installed)."""
    path = registry.find_local("bokeh_stocks")
    if path is None:
        return ()
    return tuple(sorted(pd.read_csv(path, usecols=["Ticker"])["Ticker"].unique()))


def _read_bokeh(ticker: str, column: str | None, missing: str) -> pd.Series:
    frame = pd.read_csv(registry.download("bokeh_stocks"))
    frame = frame[frame["Ticker"] == ticker]
    return _clean_series(frame, column, missing, f"bokeh-sampledata {ticker}")


def _read_yfinance(ticker: str, column: str | None, missing: str, start, end) -> pd.Series:
    try:
        import yfinance
    except ImportError as error:
        raise ImportError(
            "provider='yfinance' needs the optional package yfinance: pip install yfinance"
        ) from error
    frame = yfinance.Ticker(ticker).history(start=start, end=end, auto_adjust=True)
    if frame is None or len(frame) == 0:
        raise DataUnavailableError(f"yfinance returned no prices for {ticker!r}")
    frame = frame.reset_index()
    frame["Date"] = pd.to_datetime(frame["Date"]).dt.tz_localize(None)
    return _clean_series(frame, column or "close", missing, f"yfinance {ticker}")


def synthetic_prices(
    num_days: int = 2520,
    *,
    seed: int = 0,
    start_price: float = 100.0,
    start_date: str = "2000-01-03",
) -> pd.Series:
    """Geometric Brownian motion whose drift and volatility switch between market regimes.

    Each business day `p_t = p_{t-1} exp((mu - sigma^2 / 2) + sigma eps_t)`; a regime (calm
    bull, flat, volatile bear, ...) lasts about a year on average before a new one is drawn.

    Args:
        num_days: business days.
        seed: same seed, same series.
        start_price: price on the first day.
        start_date: first business day.

    Returns:
        float64 `pd.Series` on a business-day DatetimeIndex named "date".

    Example:
        >>> synthetic_prices(5, seed=0).round(2).tolist()[0]
        100.0
    """
    check_positive_int(num_days, "num_days")
    rng = np.random.default_rng(seed)
    regimes = np.array([(0.15, 0.12), (0.05, 0.18), (-0.25, 0.35), (0.30, 0.25), (0.0, 0.08)])
    daily = np.empty((num_days, 2))
    day = 0
    while day < num_days:
        length = int(rng.geometric(1 / 250))
        mu, sigma = regimes[rng.integers(len(regimes))]
        daily[day:day + length] = (mu / 252, sigma / np.sqrt(252))
        day += length
    mu, sigma = daily[:, 0], daily[:, 1]
    steps = (mu - sigma**2 / 2) + sigma * rng.standard_normal(num_days)
    steps[0] = 0.0
    prices = start_price * np.exp(np.cumsum(steps))
    index = pd.bdate_range(start_date, periods=num_days, name="date")
    return pd.Series(prices, index=index, name="close")


# === Windows ===


def _windows(values: np.ndarray, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    view = np.lib.stride_tricks.sliding_window_view(values, lookback + horizon)
    return view[:, :lookback], view[:, lookback:]


def _build(prices: pd.Series, *, ticker, source, units, label, target, lookback, horizon,
           validation_fraction, test_fraction, batch_size, seed, shuffle) -> StockData:
    price_values = prices.to_numpy(dtype="float64")
    day_index = prices.index.to_numpy()
    if target == "price":
        values, value_prices, value_dates = price_values, price_values, day_index
    else:
        # r_t = log(p_t / p_{t-1}) belongs to day t; day 0 has no return.
        values = np.diff(np.log(price_values))
        value_prices, value_dates = price_values[1:], day_index[1:]
    counts = split_counts(len(values), validation_fraction, test_fraction)
    bounds = np.cumsum((0,) + counts)
    need = lookback + horizon
    for split, count in zip(SPLITS, counts):
        if count < need and (split == "train" or count > 0):
            raise ValueError(
                f"The {split} split has {count} days but lookback + horizon = {need} are "
                f"needed for one window ({len(values)} days in all); reduce `lookback` or "
                f"`horizon`, or change the split fractions")

    scaler = StandardScaler().fit(values[bounds[0]:bounds[1]].reshape(-1, 1))
    scaled = scaler.transform(values.reshape(-1, 1)).ravel()
    x, y, dates, spans, last, truth = {}, {}, {}, {}, {}, {}
    for split, start, stop in zip(SPLITS, bounds[:-1], bounds[1:]):
        spans[split] = ((pd.Timestamp(value_dates[start]), pd.Timestamp(value_dates[stop - 1]))
                        if stop > start else (pd.NaT, pd.NaT))
        if stop - start < need:
            x[split] = np.zeros((0, lookback, 1), dtype="float32")
            y[split] = np.zeros((0, horizon), dtype="float32")
            dates[split] = np.array([], dtype="datetime64[ns]")
            last[split], truth[split] = np.zeros(0), np.zeros((0, horizon))
            continue
        inputs, targets = _windows(scaled[start:stop], lookback, horizon)
        x[split] = inputs[..., None].astype("float32")
        y[split] = targets.astype("float32")
        anchors = start + lookback - 1 + np.arange(len(inputs))  # "today" of each window
        dates[split] = value_dates[anchors + 1]
        last[split] = value_prices[anchors]
        truth[split] = value_prices[anchors[:, None] + 1 + np.arange(horizon)]
    return StockData(
        train=make_dataset(x["train"], y["train"], batch_size=batch_size, shuffle=shuffle,
                           seed=seed),
        validation=make_dataset(x["validation"], y["validation"], batch_size=batch_size),
        test=make_dataset(x["test"], y["test"], batch_size=batch_size),
        x_train=x["train"], y_train=y["train"], x_val=x["validation"], y_val=y["validation"],
        x_test=x["test"], y_test=y["test"], dates=dates, split_dates=spans, last_price=last,
        target_prices=truth, scaler=scaler, prices=prices, ticker=ticker, target=target,
        lookback=lookback, horizon=horizon, source=source, units=units, label=label)


def load_stocks(
    ticker: str = SP500,
    *,
    source: str = "auto",
    csv_path: str | os.PathLike | None = None,
    provider: str = "auto",
    column: str | None = None,
    start: str | None = None,
    end: str | None = None,
    target: str = "price",
    lookback: int = 30,
    horizon: int = 1,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    batch_size: int = 32,
    seed: int = 0,
    shuffle: bool = True,
    missing: str = "drop",
    num_days: int = 2520,
    origin: str | None = None,
    file_hash: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> StockData:
    """Daily prices cut into (lookback -> horizon) windows, split by time, scaled on train.

    Args:
        ticker: "SP500" (a data folder or the cache), "AAPL", "GOOG", "IBM", "MSFT"
            (bokeh-sampledata, offline), or any symbol with `provider="yfinance"`. Only a
            label with `csv_path`.
        source: "real" (the prices asked for, or an error), "offline" (`synthetic_prices`
            only), or "auto": real when available (for "SP500" without a local copy, the
            real AAPL prices of bokeh-sampledata, with a logged warning), else the
            synthetic fallback with a logged warning. `StockData.source` says which.
        csv_path: read this CSV (Date and Close columns) instead.
        provider: "auto" (bokeh-sampledata / shared CSV) or "yfinance" (online, optional).
        column: price column; default "adj_close" when present (split-adjusted), else "close".
        start: first date kept, e.g. "2005-01-01".
        end: last date kept.
        target: "price" or "log_return" (`log(p_t / p_{t-1})`, stationary and scale-free).
        lookback: input days per window.
        horizon: days predicted per window.
        validation_fraction: share of days (after training days) for validation.
        test_fraction: share of the last days for test.
        batch_size: batch size of the datasets.
        seed: shuffling seed of the training dataset (and of the fallback series).
        shuffle: shuffle the training windows (they are independent samples).
        missing: "drop" or "ffill" for missing prices in a CSV.
        num_days: length of the synthetic fallback series.
        origin: URL to download the S&P 500 CSV from (it has no canonical public URL).
        file_hash: sha256 of the S&P 500 CSV (default: the registry's pin).
        cache_dir: cache folder.

    Returns:
        `StockData`.

    Raises:
        ValueError: a bad argument, naming it (e.g. unknown ticker, listing those available).
        ImportError: provider="yfinance" without the yfinance package.
        DataUnavailableError: source="real" and the prices are unavailable.

    Example:
        >>> data = load_stocks("IBM", lookback=20)
        >>> data.x_train.shape[1:], data.source, data.units
        ((20, 1), 'real', 'USD')
    """
    check_source(source)
    check_positive_int(lookback, "lookback")
    check_positive_int(horizon, "horizon")
    check_positive_int(batch_size, "batch_size")
    check_positive_int(num_days, "num_days")
    check_fractions(validation_fraction, test_fraction)
    _check_missing(missing)
    if target not in TARGETS:
        raise ValueError(
            f"Received an invalid value for argument `target`, expected one of {TARGETS}, "
            f"received target={target!r}")
    if provider not in PROVIDERS:
        raise ValueError(
            f"Received an invalid value for argument `provider`, expected one of {PROVIDERS}, "
            f"received provider={provider!r}")
    name = str(ticker).upper()
    if csv_path is None and provider == "auto" and source != "offline":
        available = bokeh_tickers()
        if name not in available and name not in _SP500_ALIASES:
            raise ValueError(
                f"Received an invalid value for argument `ticker`: {ticker!r} is not available "
                f"offline; available: {', '.join(available + (SP500,))}. Use csv_path= for "
                "your own CSV or provider='yfinance' to download any symbol")
    options = dict(target=target, lookback=lookback, horizon=horizon, batch_size=batch_size,
                   validation_fraction=validation_fraction, test_fraction=test_fraction,
                   seed=seed, shuffle=shuffle)

    def window(series: pd.Series) -> pd.Series:
        return series.loc[start:end] if (start or end) else series

    def bokeh(symbol: str) -> StockData:
        series = _read_bokeh(symbol, column, missing)
        return _build(window(series), ticker=symbol, source=REAL, units="USD",
                      label=f"{symbol} daily {_describe(series)} in USD (bokeh-sampledata)",
                      **options)

    def sp500() -> StockData:
        series = registry.read_dataset_file(
            "sp500", lambda path: read_price_csv(path, column=column, missing=missing),
            origin=origin, file_hash=file_hash, cache_dir=cache_dir)
        return _build(window(series), ticker=SP500, source=REAL, units="index points",
                      label=f"S&P 500 index (^GSPC), daily {_describe(series)}", **options)

    def real() -> StockData:
        if csv_path is not None:
            series = read_price_csv(csv_path, column=column, missing=missing)
            return _build(window(series), ticker=name, source=REAL, units="price",
                          label=f"{name} daily {_describe(series)} ({os.fspath(csv_path)})",
                          **options)
        if provider == "yfinance":
            series = _read_yfinance(name, column, missing, start, end)
            return _build(window(series), ticker=name, source=REAL, units="price",
                          label=f"{name} daily close (Yahoo Finance)", **options)
        if name not in _SP500_ALIASES:
            return bokeh(name)
        if source == "real":
            return sp500()
        try:
            return sp500()
        except DataUnavailableError as error:
            logger.warning(
                "The S&P 500 file is not on this machine, so the real %s daily prices of "
                "bokeh-sampledata are used instead (pass source='real' to make this an "
                "error). Reason: %s", SUBSTITUTE_TICKER, error)
            return bokeh(SUBSTITUTE_TICKER)

    def offline() -> StockData:
        series = window(synthetic_prices(num_days, seed=seed))
        return _build(series, ticker="synthetic", source=OFFLINE,
                      units="synthetic price units",
                      label="synthetic prices (geometric Brownian motion), NOT real data",
                      **options)

    return choose(source, f"stock prices ({ticker})", real, offline)
