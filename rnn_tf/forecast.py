"""Judging return forecasts: error ratio to a baseline with a block-bootstrap interval,
direction accuracy, and one table for a model and its baselines.

A forecast of a `k`-day log return is compared with the naive forecast (a zero return:
"the price in `k` days is today's") on the same test days. The ratio of their mean absolute
errors (MAE) is below 1 when the model is better; its interval comes from a moving-block
bootstrap of the test days: consecutive test targets overlap (a `k`-day return shares
`k - 1` days with the next) and volatility clusters for weeks, so errors of neighbouring days
are correlated, and resampling blocks of consecutive days keeps that correlation where
resampling single days would make the interval too narrow. The blocks wrap around the end of
the test period (the circular block bootstrap of Politis and Romano), so every day is drawn
equally often, even with only a few blocks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnn_tf._checks import check_number, check_positive_int, invalid

NAIVE = "naive (zero return)"


def _vectors(**arrays) -> list[np.ndarray]:
    vectors = [np.asarray(value, dtype="float64").reshape(-1) for value in arrays.values()]
    sizes = {name: len(v) for name, v in zip(arrays, vectors)}
    if len(set(sizes.values())) != 1 or not vectors[0].size:
        raise ValueError(
            f"Arguments {', '.join(f'`{n}`' for n in sizes)} must be non-empty and of one "
            f"length; received lengths {sizes}")
    for name, vector in zip(arrays, vectors):
        if not np.isfinite(vector).all():
            bad = int((~np.isfinite(vector)).sum())
            raise ValueError(f"Argument `{name}` must hold finite numbers; received {bad} "
                             "NaN or infinite value(s)")
    return vectors


def block_bootstrap_indices(n: int, *, resamples: int = 1000, block_length: int = 20,
                            seed: int = 0) -> np.ndarray:
    """Circular block bootstrap: `(resamples, n)` day indices, each row blocks of consecutive
    days.

    Each resample draws `ceil(n / block_length)` block starts uniformly from `0 .. n - 1`,
    takes `block_length` consecutive days from each (wrapping from the last day to the
    first), lays the blocks end to end and keeps the first `n` days.

    Example:
        >>> block_bootstrap_indices(6, resamples=2, block_length=3, seed=0).shape
        (2, 6)
    """
    check_positive_int(n, "n")
    check_positive_int(resamples, "resamples")
    check_positive_int(block_length, "block_length")
    if block_length > n:
        raise invalid("block_length", f"at most the number of days n={n}", block_length)
    blocks = -(-n // block_length)
    starts = np.random.default_rng(seed).integers(0, n, size=(resamples, blocks))
    days = (starts[:, :, None] + np.arange(block_length)) % n
    return days.reshape(resamples, -1)[:, :n]


def mae_ratio(actual, predicted, baseline) -> float:
    """MAE of `predicted` divided by MAE of `baseline` (below 1: better than the baseline)."""
    actual, predicted, baseline = _vectors(actual=actual, predicted=predicted, baseline=baseline)
    denominator = np.abs(baseline - actual).sum()
    if denominator == 0:
        raise ValueError("Argument `baseline` is exact on every day, so no ratio to it exists")
    return float(np.abs(predicted - actual).sum() / denominator)


def mae_ratio_interval(actual, predicted, baseline, *, resamples: int = 1000,
                       block_length: int = 20, level: float = 0.95, seed: int = 0
                       ) -> tuple[float, float, float]:
    """The MAE ratio and its percentile interval over a circular block bootstrap of the days.

    Returns:
        `(ratio, low, high)`; the model beats the baseline when `high < 1`.
    """
    check_number(level, "level", low=0, high=1, low_open=True, high_open=True)
    actual, predicted, baseline = _vectors(actual=actual, predicted=predicted, baseline=baseline)
    days = block_bootstrap_indices(len(actual), resamples=resamples,
                                   block_length=block_length, seed=seed)
    model_errors = np.abs(predicted - actual)[days].sum(axis=1)
    baseline_errors = np.abs(baseline - actual)[days].sum(axis=1)
    ratios = model_errors / np.maximum(baseline_errors, np.finfo("float64").tiny)
    low, high = np.percentile(ratios, [50 * (1 - level), 50 * (1 + level)])
    return mae_ratio(actual, predicted, baseline), float(low), float(high)


def direction_accuracy(actual, predicted) -> float:
    """Share of days whose predicted sign matches the actual one.

    A prediction > 0 says "up", < 0 says "down"; a prediction of exactly 0 (the naive
    forecast) says nothing and is left out, so a forecast that never moves gives NaN. An
    actual return of exactly 0 counts as "not up".
    """
    actual, predicted = _vectors(actual=actual, predicted=predicted)
    said = predicted != 0
    if not said.any():
        return float("nan")
    return float(np.mean((predicted[said] > 0) == (actual[said] > 0)))


def direction_gap_interval(actual, predicted, *, resamples: int = 1000,
                           block_length: int = 20, level: float = 0.95, seed: int = 0
                           ) -> tuple[float, float, float]:
    """Direction accuracy minus the "always up" score, with a block-bootstrap interval.

    Returns:
        `(gap, low, high)`; the forecast calls the direction better than "always up" when
        `low > 0`. NaN throughout for a forecast that never predicts a direction.
    """
    check_number(level, "level", low=0, high=1, low_open=True, high_open=True)
    actual, predicted = _vectors(actual=actual, predicted=predicted)
    said = predicted != 0
    if not said.any():
        return float("nan"), float("nan"), float("nan")
    days = block_bootstrap_indices(len(actual), resamples=resamples,
                                   block_length=block_length, seed=seed)
    right = ((predicted > 0) == (actual > 0)) & said
    with np.errstate(invalid="ignore"):
        gaps = right[days].sum(axis=1) / said[days].sum(axis=1) - (actual[days] > 0).mean(axis=1)
    low, high = np.nanpercentile(gaps, [50 * (1 - level), 50 * (1 + level)])
    gap = direction_accuracy(actual, predicted) - float(np.mean(actual > 0))
    return gap, float(low), float(high)


def compare_forecasts(actual, forecasts: dict, *, resamples: int = 1000,
                      block_length: int = 20, level: float = 0.95, seed: int = 0
                      ) -> pd.DataFrame:
    """One table: each forecast's MAE, its ratio to the naive (zero-return) forecast with a
    bootstrap interval, whether the interval lies below 1, and its direction accuracy; the
    naive and "always up" rows are added.

    Args:
        actual: the true returns of the test windows, `(n,)`.
        forecasts: `{name: predicted returns (n,)}` (models and other baselines, e.g. drift).
        resamples, block_length, level, seed: the bootstrap (see `mae_ratio_interval`);
            every forecast is resampled on the same days.

    Returns:
        `pd.DataFrame` indexed by forecast name with columns "MAE", "MAE / naive", "low",
        "high", "beats naive" and "direction accuracy".
    """
    actual = _vectors(actual=actual)[0]
    naive = np.zeros_like(actual)
    rows = {}
    for name, predicted in {**forecasts, NAIVE: naive}.items():
        ratio, low, high = mae_ratio_interval(actual, predicted, naive, resamples=resamples,
                                              block_length=block_length, level=level, seed=seed)
        rows[name] = {"MAE": float(np.mean(np.abs(np.asarray(predicted).reshape(-1) - actual))),
                      "MAE / naive": ratio, "low": low, "high": high, "beats naive": high < 1,
                      "direction accuracy": direction_accuracy(actual, predicted)}
    # "Always up" predicts a direction only, so it has no MAE.
    rows["always up"] = {"MAE": np.nan, "MAE / naive": np.nan, "low": np.nan, "high": np.nan,
                         "beats naive": False, "direction accuracy": float(np.mean(actual > 0))}
    return pd.DataFrame.from_dict(rows, orient="index")
