"""Daily price series: where they come from, checked and labelled (windowing is in `windows`).

Where the prices come from:

- `load_price_series("SP500")` (the default, or `"^GSPC"`): `sp500_daily_1927_2023.csv` from
  a data folder or the cache (no public URL; pass `download=Download(origin=...)` to fetch
  a copy from a mirror). With `source="auto"` and no copy on this machine, the real AAPL
  prices below are used instead, with a logged warning;
- `load_price_series(ticker)` for AAPL, GOOG, IBM, MSFT (and FB): the `bokeh-sampledata`
  package (a dependency, so real on any machine, offline), public domain (Quandl WIKI,
  2000-2013), split-adjusted close in USD by default;
- `price_series_from_csv(path)` / `read_price_csv(path)`: the reader's own CSV, checked
  strictly (see `read_price_csv` for what is refused and why);
- `provider="yfinance"`: Yahoo Finance through the optional `yfinance` package;
- offline fallback: `synthetic_prices`, geometric Brownian motion with regime changes,
  labelled `source="offline"`, used only when asked for or when nothing real is available.

Every source gives a `PriceSeries`; `rnn_tf.data.windows.window_series` cuts one into
forecasting windows. `load_stocks` does both in one call.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import numpy as np
import pandas as pd

from rnn_tf._checks import check_choice, check_number, check_positive_int, invalid
from rnn_tf.data import registry
from rnn_tf.data._common import OFFLINE, REAL, check_source, choose
from rnn_tf.data.errors import DataUnavailableError
from rnn_tf.data.registry import Download
from rnn_tf.data.windows import StockData, window_series

__all__ = [
    "PriceSeries",
    "StockData",
    "bokeh_tickers",
    "load_price_series",
    "load_stocks",
    "price_series_from_csv",
    "read_price_csv",
    "synthetic_prices",
    "window_series",
]

logger = logging.getLogger("rnn_tf.data")

SP500 = "SP500"
# Real prices used by source="auto" when the S&P 500 file is not on this machine.
SUBSTITUTE_TICKER = "AAPL"
_SP500_ALIASES = {"SP500", "^GSPC", "GSPC", "S&P500"}
PROVIDERS = ("auto", "yfinance")
MISSING = ("raise", "drop", "ffill")
OHLCV = ("open", "high", "low", "close", "volume")
# Weekends and holidays leave up to a few days between trading days (the longest in the
# S&P 500 file, the 1933 bank holiday, is 12); a longer hole means missing data.
MAX_GAP_DAYS = 14


@dataclasses.dataclass(frozen=True)
class PriceSeries:
    """A clean daily price series and what it is.

    Attributes:
        prices: float64 `pd.Series` of positive prices on a sorted, unique DatetimeIndex
            named "date"; one row per trading day (days off are not invented).
        ticker: what was loaded ("AAPL", "SP500", a CSV's name, "synthetic").
        source: "real", or "offline" for the synthetic fallback.
        units: what one price is: "index points", "USD", "price", "synthetic price units".
        label: one line for titles and printouts.
        ohlcv: float64 open, high, low, close, volume on the same dates, when the source
            has all five columns (as read: a value may be missing or zero, e.g. the
            S&P 500's volume before 1950); else None. Open/high/low/close may be
            unadjusted while `prices` is adjusted: only ratios within one day are meaningful.
    """

    prices: pd.Series
    ticker: str
    source: str
    units: str
    label: str
    ohlcv: pd.DataFrame | None = None

    @property
    def has_ohlcv(self) -> bool:
        return self.ohlcv is not None

    def between(self, start=None, end=None) -> PriceSeries:
        """The same series restricted to `start`..`end` (dates or strings, both included)."""
        if start is None and end is None:
            return self
        ohlcv = None if self.ohlcv is None else self.ohlcv.loc[start:end]
        return dataclasses.replace(self, prices=self.prices.loc[start:end], ohlcv=ohlcv)


# === Checking a table of prices ===


def _normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    # "Adj Close", "adj_close" and " Close " all name the same thing across sources.
    frame = frame.copy()
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    return frame


def _shown_dates(dates) -> str:
    dates = [str(pd.Timestamp(d).date()) for d in dates]
    return ", ".join(dates[:3]) + (f" and {len(dates) - 3} more" if len(dates) > 3 else "")


def _checked_dates(frame: pd.DataFrame, label: str) -> pd.DatetimeIndex:
    if "date" not in frame.columns:
        raise ValueError(
            f"{label} has no date column: expected a column named 'Date' (any case); "
            f"received columns {list(frame.columns)}")
    dates = pd.to_datetime(frame["date"], errors="coerce", format="mixed")
    unreadable = frame["date"][dates.isna()]
    if len(unreadable):
        raise ValueError(
            f"{label}: {len(unreadable)} date(s) cannot be read as dates, e.g. "
            f"{unreadable.astype(str).tolist()[:3]}; expected one date per row such as "
            "2020-01-31")
    dates = pd.DatetimeIndex(dates)
    repeated = dates[dates.duplicated()].unique()
    if len(repeated):
        raise ValueError(
            f"{label}: {len(repeated)} date(s) appear more than once ({_shown_dates(repeated)}); "
            "expected one row per trading day")
    steps = np.diff(dates.asi8)
    if (steps < 0).any():
        row = int(np.argmax(steps < 0)) + 1
        raise ValueError(
            f"{label}: dates must increase from row to row (oldest first); row {row} "
            f"({_shown_dates([dates[row]])}) comes after {_shown_dates([dates[row - 1]])}. "
            "Sort the file by date, oldest first (files saved newest first are common), "
            "and read it again")
    return dates


def _checked_values(frame: pd.DataFrame, column: str, dates: pd.DatetimeIndex,
                    missing: str, label: str) -> pd.Series:
    # Yahoo writes "null" for missing quotes; anything non-numeric counts as missing.
    values = pd.Series(pd.to_numeric(frame[column], errors="coerce").to_numpy("float64"),
                       index=dates, name=column)
    infinite = values[np.isinf(values)]
    if len(infinite):
        raise ValueError(
            f"{label}: {len(infinite)} price(s) in column {column!r} are infinite or too large "
            f"for a float (on {_shown_dates(infinite.index)}); expected finite prices")
    non_positive = values[values <= 0]
    if len(non_positive):
        raise ValueError(
            f"{label}: {len(non_positive)} price(s) in column {column!r} are zero or negative "
            f"(on {_shown_dates(non_positive.index)}); expected prices > 0")
    gaps = values[values.isna()]
    if len(gaps) and missing == "raise":
        raise ValueError(
            f"{label}: {len(gaps)} missing price(s) (empty, NaN or text such as 'null') in "
            f"column {column!r}, on {_shown_dates(gaps.index)}; pass missing='drop' to leave "
            "those days out or missing='ffill' to repeat the previous price")
    if missing == "ffill":
        values = values.ffill()
    values = values.dropna()
    if len(gaps):
        logger.info("%s: %d missing %s value(s) %s.", label, len(gaps), column,
                    "forward-filled" if missing == "ffill" else "dropped")
    values.index.name = "date"
    return values


def _checked_gaps(prices: pd.Series, max_gap_days: int, label: str) -> None:
    if len(prices) < 2:
        return
    days = np.diff(prices.index.values).astype("timedelta64[D]").astype(int)
    if days.max() > max_gap_days:
        row = int(np.argmax(days))
        raise ValueError(
            f"{label}: a gap of {int(days[row])} calendar days between "
            f"{_shown_dates(prices.index[row:row + 2]).replace(', ', ' and ')}; weekends and "
            f"holidays are normal, but more than max_gap_days={max_gap_days} days without a "
            "price means missing data (one 'daily' return would span the whole gap). Fill "
            "the file, start after the gap, or raise `max_gap_days`")


def _ohlcv(frame: pd.DataFrame, prices: pd.Series) -> pd.DataFrame | None:
    if not set(OHLCV) <= set(frame.columns):
        return None
    table = frame.loc[:, list(OHLCV)].apply(pd.to_numeric, errors="coerce")
    # Kept as read: the windowing checks the rows it uses (old rows often lack a volume).
    return table.astype("float64").loc[prices.index]


def _series_from_table(frame: pd.DataFrame, *, column: str | None, missing: str,
                       max_gap_days: int, label: str) -> tuple[pd.Series, pd.DataFrame | None]:
    check_choice(missing, MISSING, "missing")
    check_number(max_gap_days, "max_gap_days", low=1, integer=True)
    frame = _normalise_columns(frame)
    dates = _checked_dates(frame, label)
    if column is None:
        column = "adj_close" if "adj_close" in frame.columns else "close"
        if column not in frame.columns:
            raise ValueError(
                f"{label} has no price column: expected 'Close' or 'Adj Close' (any case), or "
                f"name one with `column=`; received columns {list(frame.columns)}")
    column = column.strip().lower().replace(" ", "_")
    if column not in frame.columns:
        raise invalid("column", f"a column of {label} (one of {list(frame.columns)})", column)
    prices = _checked_values(frame, column, dates, missing, label)
    _checked_gaps(prices, max_gap_days, label)
    return prices, _ohlcv(frame.set_index(dates), prices)


# === Sources ===


def price_series_from_csv(
    path_or_buffer,
    *,
    column: str | None = None,
    missing: str = "raise",
    max_gap_days: int = MAX_GAP_DAYS,
    name: str | None = None,
) -> PriceSeries:
    """The reader's own CSV of daily prices as a checked `PriceSeries` (see `read_price_csv`).

    Args:
        path_or_buffer: a path, or anything `pandas.read_csv` reads (e.g. `io.StringIO`).
        column: price column; default "adj_close" when present, else "close".
        missing: "raise" (default), "drop" or "ffill" for missing prices.
        max_gap_days: the most calendar days allowed between two consecutive rows.
        name: the ticker to show; default the file's name.

    Returns:
        `PriceSeries` with `source="real"`, `units="price"`, and `ohlcv` when the file has
        Open, High, Low, Close and Volume.
    """
    shown = os.fspath(path_or_buffer) if isinstance(path_or_buffer, (str, os.PathLike)) \
        else "the CSV"
    try:
        table = pd.read_csv(path_or_buffer)
    except pd.errors.EmptyDataError:
        raise ValueError(f"Argument `path_or_buffer` must be a CSV with a header and price rows; "
                         f"received {shown}, which is empty") from None
    if table.empty:
        raise ValueError(f"Argument `path_or_buffer` must be a CSV with price rows; received "
                         f"{shown}, which has a header only")
    prices, ohlcv = _series_from_table(table, column=column, missing=missing,
                                       max_gap_days=max_gap_days, label=shown)
    ticker = name or (os.path.splitext(os.path.basename(shown))[0] if shown != "the CSV"
                      else "CSV")
    return PriceSeries(prices, ticker=ticker, source=REAL, units="price",
                       label=f"{ticker} daily {_describe(prices)} ({shown})", ohlcv=ohlcv)


def read_price_csv(
    path_or_buffer,
    *,
    column: str | None = None,
    missing: str = "raise",
    max_gap_days: int = MAX_GAP_DAYS,
) -> pd.Series:
    """A clean daily price series from a CSV with `Date` and `Close` columns.

    Column names match case-insensitively ("Adj Close" == "adj_close"). The file is
    checked, never silently repaired; a `ValueError` names what is wrong when:

    - there is no date column, or no price column (or `column` names none);
    - a date cannot be read, a date is repeated, or the dates do not increase (the file
      is not sorted for you: a reversed or shuffled file is said to be so);
    - a price is zero or negative;
    - a price is missing (empty, NaN, or text such as Yahoo's "null"), unless
      `missing="drop"` leaves those days out or `missing="ffill"` repeats the last price;
    - two consecutive rows are more than `max_gap_days` calendar days apart. Days without
      a row are normal (weekends, holidays: one row is one trading day, nothing is
      invented); a longer hole is missing data, which would turn into one huge "daily"
      return.

    Whether the series is long enough is decided by the windowing, which knows the
    lookback and horizon (`window_series` says how many days are needed).

    Args:
        path_or_buffer: a path, or anything `pandas.read_csv` reads.
        column: price column; default "adj_close" when present, else "close".
        missing: "raise", "drop" or "ffill" for missing prices.
        max_gap_days: the most calendar days allowed between two consecutive rows.

    Returns:
        float64 `pd.Series` on a sorted, unique DatetimeIndex named "date".

    Example:
        >>> read_price_csv("sp500_daily_1927_2023.csv").iloc[0]
        17.65999984741211
    """
    return price_series_from_csv(path_or_buffer, column=column, missing=missing,
                                 max_gap_days=max_gap_days).prices


def _describe(series: pd.Series) -> str:
    return {"adj_close": "adjusted close", "close": "close"}.get(series.name, str(series.name))


def bokeh_tickers() -> tuple[str, ...]:
    """Tickers shipped by `bokeh-sampledata` (empty when it is not installed)."""
    path = registry.find_local("bokeh_stocks")
    if path is None:
        return ()
    return tuple(sorted(pd.read_csv(path, usecols=["Ticker"])["Ticker"].unique()))


def _bokeh(ticker: str, column: str | None) -> PriceSeries:
    frame = pd.read_csv(registry.download("bokeh_stocks"))
    label = f"bokeh-sampledata {ticker}"
    prices, ohlcv = _series_from_table(frame[frame["Ticker"] == ticker], column=column,
                                       missing="raise", max_gap_days=MAX_GAP_DAYS, label=label)
    return PriceSeries(prices, ticker=ticker, source=REAL, units="USD", ohlcv=ohlcv,
                       label=f"{ticker} daily {_describe(prices)} in USD (bokeh-sampledata)")


def _sp500(column: str | None, download: Download | None) -> PriceSeries:
    def read(path):
        return _series_from_table(pd.read_csv(path), column=column, missing="raise",
                                  max_gap_days=MAX_GAP_DAYS, label=str(path))

    prices, ohlcv = registry.read_dataset_file("sp500", read, download)
    return PriceSeries(prices, ticker=SP500, source=REAL, units="index points", ohlcv=ohlcv,
                       label=f"S&P 500 index (^GSPC), daily {_describe(prices)}")


def _yfinance(ticker: str, column: str | None, start, end) -> PriceSeries:
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
    prices, ohlcv = _series_from_table(frame, column=column or "close", missing="drop",
                                       max_gap_days=MAX_GAP_DAYS, label=f"yfinance {ticker}")
    return PriceSeries(prices, ticker=ticker, source=REAL, units="price", ohlcv=ohlcv,
                       label=f"{ticker} daily close (Yahoo Finance)")


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


def load_price_series(
    ticker: str = SP500,
    *,
    source: str = "auto",
    provider: str = "auto",
    column: str | None = None,
    start: str | None = None,
    end: str | None = None,
    num_days: int = 2520,
    seed: int = 0,
    download: Download | None = None,
) -> PriceSeries:
    """A real daily price series by name, or the labelled synthetic fallback.

    Args:
        ticker: "SP500" (a data folder or the cache), "AAPL", "GOOG", "IBM", "MSFT"
            (bokeh-sampledata, offline), or any symbol with `provider="yfinance"`.
        source: "real" (the prices asked for, or an error), "offline" (`synthetic_prices`
            only), or "auto": real when available (for "SP500" without a local copy, the
            real AAPL prices of bokeh-sampledata, with a logged warning), else the
            synthetic fallback with a logged warning. `PriceSeries.source` says which.
        provider: "auto" (bokeh-sampledata / shared CSV) or "yfinance" (online, optional).
        column: price column; default "adj_close" when present (split-adjusted), else "close".
        start: first date kept, e.g. "2005-01-01".
        end: last date kept.
        num_days: length of the synthetic fallback series.
        seed: seed of the synthetic fallback series.
        download: for the S&P 500 CSV, a mirror's URL (it has no canonical public URL), its
            sha256 (default: the registry's pin) and the cache folder (see `Download`).

    Returns:
        `PriceSeries`.

    Raises:
        ValueError: a bad argument, naming it (e.g. unknown ticker, listing those available).
        ImportError: provider="yfinance" without the yfinance package.
        DataUnavailableError: source="real" and the prices are unavailable.

    Example:
        >>> series = load_price_series("IBM")
        >>> series.source, series.units, series.has_ohlcv
        ('real', 'USD', True)
    """
    check_source(source)
    check_choice(provider, PROVIDERS, "provider")
    check_positive_int(num_days, "num_days")
    name = str(ticker).upper()
    if provider == "auto" and source != "offline":
        available = bokeh_tickers()
        if name not in available and name not in _SP500_ALIASES:
            raise ValueError(
                f"Argument `ticker` must be a series available offline ("
                f"{', '.join(available + (SP500,))}); received ticker={ticker!r}. Use "
                "price_series_from_csv for your own CSV or provider='yfinance' to download "
                "any symbol")

    def real() -> PriceSeries:
        if provider == "yfinance":
            return _yfinance(name, column, start, end)
        if name not in _SP500_ALIASES:
            return _bokeh(name, column)
        if source == "real":
            return _sp500(column, download)
        try:
            return _sp500(column, download)
        except DataUnavailableError as error:
            logger.warning(
                "The S&P 500 file is not on this machine, so the real %s daily prices of "
                "bokeh-sampledata are used instead (pass source='real' to make this an "
                "error). Reason: %s", SUBSTITUTE_TICKER, error)
            return _bokeh(SUBSTITUTE_TICKER, column)

    def offline() -> PriceSeries:
        return PriceSeries(synthetic_prices(num_days, seed=seed), ticker="synthetic",
                           source=OFFLINE, units="synthetic price units",
                           label="synthetic prices (geometric Brownian motion), NOT real data")

    return choose(source, f"stock prices ({ticker})", real, offline).between(start, end)


_SERIES_OPTIONS = ("source", "provider", "column", "start", "end", "num_days", "download")


def load_stocks(ticker: str = SP500, *, csv_path=None, **options) -> StockData:
    """`load_price_series` (or `price_series_from_csv` with `csv_path`), then `window_series`.

    A shortcut for the two steps: each keyword goes to the step that names it
    (`seed` to both), e.g. `load_stocks("IBM", start="2005", lookback=20, horizon=5)`.

    Example:
        >>> data = load_stocks("IBM", lookback=20)
        >>> data.x_train.shape[1:], data.source, data.units
        ((20, 1), 'real', 'USD')
    """
    series_options = {key: options.pop(key) for key in _SERIES_OPTIONS if key in options}
    if csv_path is None:
        series = load_price_series(ticker, seed=options.get("seed", 0), **series_options)
    else:
        column, start, end = (series_options.pop(key, None) for key in ("column", "start", "end"))
        missing = options.pop("missing", "raise")
        if series_options:
            raise ValueError(
                f"Arguments {sorted(series_options)} choose a named series; with `csv_path` "
                f"only column, missing, start and end apply; received csv_path={csv_path!r}")
        series = price_series_from_csv(csv_path, column=column, missing=missing,
                                       name=None if ticker == SP500 else ticker
                                       ).between(start, end)
    return window_series(series, **options)
