"""Interleaved timing, per-round ratios, verdicts on targets, log-log slopes.

Every task is timed in the same process, round by round, so load from other processes hits
every task alike; a target is judged on the ratio of each round's medians.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Timing:
    """Wall-clock samples of one task, in milliseconds, and its first (tracing) call."""

    samples_ms: list[float] = field(default_factory=list)
    first_call_s: float = float("nan")
    # The samples again, one list per interleaved round (see `time_interleaved`).
    rounds_ms: list[list[float]] = field(default_factory=list)

    def round_medians(self) -> list[float]:
        return [statistics.median(samples) for samples in self.rounds_ms if samples]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else float("nan")

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.samples_ms, q)) if self.samples_ms else float("nan")

    def summary(self) -> dict[str, float]:
        return {
            "median_ms": self.median,
            "p25_ms": self.quantile(0.25),
            "p75_ms": self.quantile(0.75),
            "min_ms": min(self.samples_ms) if self.samples_ms else float("nan"),
            "n": len(self.samples_ms),
            "first_call_s": self.first_call_s,
        }


def time_interleaved(
    tasks: dict[str, Callable[[], Any]], repeats: int, rounds: int = 5, warmup: int = 2
) -> dict[str, Timing]:
    """Median-ready timings of every task, interleaved so shared-machine noise hits all.

    Each task is first called `warmup` times (the first call traces/compiles and
    is recorded separately; `warmup=0` skips this for tasks already warm), then
    `rounds` rounds each run every task `ceil(repeats / rounds)` times, rotating
    the order from round to round so no task always runs right after the same
    neighbour.
    """
    timings = {name: Timing() for name in tasks}
    for name, task in tasks.items():
        if warmup < 1:
            continue
        start = time.perf_counter()
        task()
        timings[name].first_call_s = time.perf_counter() - start
        for _ in range(warmup - 1):
            task()
    names = list(tasks)
    per_round = max(1, math.ceil(repeats / max(rounds, 1)))
    for r in range(max(rounds, 1)):
        order = names[r % len(names) :] + names[: r % len(names)] if names else []
        for name in order:
            task = tasks[name]
            this_round = []
            for _ in range(per_round):
                start = time.perf_counter()
                task()
                this_round.append((time.perf_counter() - start) * 1e3)
            timings[name].samples_ms.extend(this_round)
            timings[name].rounds_ms.append(this_round)
    return timings


def round_ratios(ours: Timing, other: Timing) -> list[float]:
    """`ours / other` of the per-round medians. Within a round both tasks ran seconds
    apart, so a round's ratio is not moved by the machine getting slower between rounds."""
    return [a / b for a, b in zip(ours.round_medians(), other.round_medians()) if b > 0]


def target_verdict(ratios: list[float], at_most: float) -> str:
    """The verdict on a target from the per-round ratios.

    "met" when every round's ratio is within the bound, "not met" when none is,
    "mixed" when the rounds disagree (the noise straddles the bound), "n/a" without rounds.
    """
    if not ratios:
        return "n/a"
    within = [r <= at_most for r in ratios]
    if all(within):
        return "met"
    return "not met" if not any(within) else "mixed"


def fit_loglog_slope(xs, ys) -> float | None:
    """Least-squares slope of log(y) vs log(x): 1 means linear, 2 quadratic."""
    pairs = [(x, y) for x, y in zip(xs, ys) if x and y and x > 0 and y > 0]
    if len(pairs) < 2:
        return None
    lx, ly = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return float(np.polyfit(lx, ly, 1)[0])
