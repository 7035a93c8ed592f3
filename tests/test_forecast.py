"""Return forecasts judged against the naive forecast: block bootstrap, ratio, direction."""

import numpy as np
import pytest

from rnn_tf.forecast import (
    NAIVE,
    block_bootstrap_indices,
    compare_forecasts,
    direction_accuracy,
    direction_gap_interval,
    mae_ratio,
    mae_ratio_interval,
)


def test_block_bootstrap_rows_are_blocks_of_consecutive_days():
    days = block_bootstrap_indices(50, resamples=30, block_length=7, seed=3)
    assert days.shape == (30, 50) and days.min() >= 0 and days.max() <= 49
    for row in days:
        for block in np.split(row, range(7, 50, 7)):
            np.testing.assert_array_equal(np.diff(block) % 50, 1)  # 49 wraps around to 0
    np.testing.assert_array_equal(days, block_bootstrap_indices(50, resamples=30,
                                                                block_length=7, seed=3))
    assert not np.array_equal(days, block_bootstrap_indices(50, resamples=30, block_length=7,
                                                            seed=4))


def test_every_day_is_drawn_equally_often_with_blocks_wrapping_around():
    days = block_bootstrap_indices(12, resamples=6000, block_length=4, seed=0)
    counts = np.bincount(days.ravel(), minlength=12) / days.size
    np.testing.assert_allclose(counts, 1 / 12, rtol=0.03)  # no edge day drawn less often


def test_mae_ratio_against_the_formula():
    actual = np.array([0.01, -0.02, 0.03, 0.0])
    predicted = np.array([0.0, -0.01, 0.01, 0.01])
    baseline = np.zeros(4)
    expected = (0.01 + 0.01 + 0.02 + 0.01) / (0.01 + 0.02 + 0.03 + 0.0)
    assert mae_ratio(actual, predicted, baseline) == pytest.approx(expected)


def test_interval_of_the_baseline_itself_is_one_and_of_a_perfect_forecast_zero():
    actual = np.random.default_rng(0).normal(0, 0.01, 300)
    assert mae_ratio_interval(actual, np.zeros(300), np.zeros(300)) == (1.0, 1.0, 1.0)
    assert mae_ratio_interval(actual, actual, np.zeros(300)) == (0.0, 0.0, 0.0)


def test_interval_matches_a_loop_over_the_same_resamples():
    rng = np.random.default_rng(1)
    actual, predicted = rng.normal(size=120), rng.normal(size=120)
    ratio, low, high = mae_ratio_interval(actual, predicted, np.zeros(120), resamples=400,
                                          block_length=10, level=0.9, seed=7)
    days = block_bootstrap_indices(120, resamples=400, block_length=10, seed=7)
    ratios = sorted(np.abs(predicted[d] - actual[d]).sum() / np.abs(actual[d]).sum()
                    for d in days)
    assert low == pytest.approx(np.percentile(ratios, 5))
    assert high == pytest.approx(np.percentile(ratios, 95))
    assert low < ratio < high


def test_blocks_widen_the_interval_when_neighbouring_errors_are_correlated():
    # Overlapping 5-day sums of independent daily errors: neighbours share 4 days.
    rng = np.random.default_rng(2)
    daily = rng.normal(size=(2, 1004))
    actual, predicted = (np.convolve(row, np.ones(5), "valid") for row in daily)
    baseline = np.zeros_like(actual)
    _, low_1, high_1 = mae_ratio_interval(actual, predicted, baseline, block_length=1)
    _, low_20, high_20 = mae_ratio_interval(actual, predicted, baseline, block_length=20)
    assert high_20 - low_20 > 1.5 * (high_1 - low_1)


def test_a_noise_forecast_does_not_beat_naive_and_a_good_one_does():
    rng = np.random.default_rng(3)
    actual = rng.normal(0, 0.01, 500)
    table = compare_forecasts(actual, {"noise": rng.normal(0, 0.01, 500),
                                       "good": actual + rng.normal(0, 0.002, 500)})
    assert not table.loc["noise", "beats naive"] and table.loc["noise", "low"] > 1
    assert table.loc["good", "beats naive"] and table.loc["good", "high"] < 1
    assert table.loc[NAIVE, "MAE / naive"] == 1.0
    assert table.loc["always up", "direction accuracy"] == pytest.approx(np.mean(actual > 0))
    assert list(table.index) == ["noise", "good", NAIVE, "always up"]


def test_direction_accuracy_by_hand_leaving_out_zero_predictions():
    actual = np.array([0.1, -0.2, 0.3, -0.1, 0.0])
    predicted = np.array([0.2, 0.1, 0.0, -0.3, -0.1])
    # said: up/up(wrong)/nothing/down(right)/down(actual 0 is "not up": right) -> 3 of 4
    assert direction_accuracy(actual, predicted) == 0.75
    assert np.isnan(direction_accuracy(actual, np.zeros(5)))


def test_direction_gap_against_a_loop_and_for_a_forecast_that_knows_the_sign():
    rng = np.random.default_rng(4)
    actual, predicted = rng.normal(size=80), rng.normal(size=80)
    gap, low, high = direction_gap_interval(actual, predicted, resamples=300, block_length=8,
                                            seed=1)
    days = block_bootstrap_indices(80, resamples=300, block_length=8, seed=1)
    gaps = [np.mean((predicted[d] > 0) == (actual[d] > 0)) - np.mean(actual[d] > 0)
            for d in days]
    assert (low, high) == pytest.approx(tuple(np.percentile(gaps, [2.5, 97.5])))
    assert gap == pytest.approx(np.mean((predicted > 0) == (actual > 0)) - np.mean(actual > 0))
    knows, knows_low, _ = direction_gap_interval(actual, np.sign(actual) * 0.01)
    assert knows == pytest.approx(1 - np.mean(actual > 0)) and knows_low > 0
    assert np.isnan(direction_gap_interval(actual, np.zeros(80))[0])


@pytest.mark.parametrize("call, message", [
    (lambda: mae_ratio([1, 2], [1], [0, 0]), "one length"),
    (lambda: mae_ratio([1, np.nan], [1, 1], [0, 0]), "`actual` must hold finite"),
    (lambda: mae_ratio([1, 2], [1, 2], [1, 2]), "`baseline` is exact"),
    (lambda: block_bootstrap_indices(5, block_length=6), "`block_length` must be at most"),
    (lambda: block_bootstrap_indices(5, resamples=0), "`resamples` must be a positive"),
    (lambda: mae_ratio_interval([1, 2], [1, 2], [0, 0], block_length=1, level=1.0), "`level`"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
