"""Suite 2: time vs sequence length T and vs units (log-log slopes), memory vs T.

Each memory point (full vs truncated BPTT) runs in a fresh process
(`python -m benchmarks.memory_worker`), so its peak resident set size is its own.
"""

from __future__ import annotations

import gc
import json
import os
import pathlib
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from benchmarks.contenders import Contender, ContenderUnavailable, Shape, build_contender, make_data
from benchmarks.machine import load_average, machine_info, noise_notes
from benchmarks.report import plot_memory_vs_timesteps, plot_time_vs, write_json
from benchmarks.timing import fit_loglog_slope, time_interleaved
from benchmarks.train_step import SCHEMA_VERSION
from rnn_tf._machine import usable_cpus

# The folder that holds the `benchmarks` package: the memory worker's import path.
_SOURCE_ROOT = pathlib.Path(__file__).resolve().parents[1]


@dataclass
class ScalingConfig:
    """Settings of the scaling suite; the defaults run in well under 10 minutes on 2 CPUs."""

    contenders: tuple[str, ...] = ("vanilla_bptt", "simple_rnn", "torch_rnn")
    # Time vs T, at a batch small enough that T=10,000 stays affordable.
    timesteps_grid: tuple[int, ...] = (10, 32, 100, 316, 1000, 3162, 10000)
    timesteps_batch: int = 16
    # Time vs units at the train-step shapes.
    units_grid: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)
    base: Shape = field(default_factory=Shape)
    # Memory vs T, full vs truncated BPTT; one fresh subprocess per point.
    memory_grid: tuple[int, ...] = (100, 316, 1000, 3162, 10000)
    memory_batch: int = 16
    truncate: int = 100
    memory_jobs: int = 1
    memory: bool = True
    # Repeats per point: as many as fit in `budget_s` (all contenders, train and
    # inference), within [min_repeats, max_repeats], spread over `rounds` rounds.
    budget_s: float = 4.0
    min_repeats: int = 3
    max_repeats: int = 30
    rounds: int = 3
    learning_rate: float = 0.01
    seed: int = 0


def _time_point(contenders: dict[str, Contender], config: ScalingConfig) -> dict[str, dict]:
    """Train and inference timings of every contender at one point, interleaved."""
    tasks = {f"{name}:{phase}": getattr(c, phase)
             for name, c in contenders.items() for phase in ("train", "infer")}
    first, probe = {}, {}
    for key, task in tasks.items():
        start = time.perf_counter()
        task()  # traces / compiles
        first[key] = time.perf_counter() - start
        start = time.perf_counter()
        task()
        probe[key] = time.perf_counter() - start
    # As many repeats as fit in the budget for one round-robin over all tasks.
    repeats = int(min(max(config.budget_s / max(sum(probe.values()), 1e-6),
                          config.min_repeats), config.max_repeats))
    timings = time_interleaved(tasks, repeats, rounds=min(config.rounds, repeats), warmup=0)
    results: dict[str, dict] = {name: {} for name in contenders}
    for key, timing in timings.items():
        name, phase = key.split(":")
        summary = timing.summary()
        results[name].update(
            {
                f"{phase}_ms": summary["median_ms"],
                f"{phase}_p25_ms": summary["p25_ms"],
                f"{phase}_p75_ms": summary["p75_ms"],
                f"{phase}_n": summary["n"],
                f"{phase}_first_call_s": first[key],
            }
        )
    return results


def _sweep(
    param: str, grid, shape_of: Callable[[int], Shape], config: ScalingConfig, log
) -> list[dict]:
    import keras

    points = []
    for value in grid:
        shape = shape_of(value)
        x, y = make_data(shape, config.seed)
        contenders = {}
        for name in config.contenders:
            keras.utils.set_random_seed(config.seed)
            try:
                contenders[name] = build_contender(
                    name, shape, x, y, learning_rate=config.learning_rate,
                    torch_threads=usable_cpus(),
                )
            except ContenderUnavailable as error:
                log(f"  {name}: skipped ({error})")
        base = {param: value, "batch": shape.batch}
        try:
            timings = _time_point(contenders, config)
        except Exception as error:  # one failed point must not lose the whole sweep
            log(f"  {param}={value:>6} failed: {type(error).__name__}: {error}")
            points += [{"contender": name, **base, "error": f"{type(error).__name__}: {error}"}
                       for name in contenders]
            timings = {}
        for name, timing in timings.items():
            points.append({"contender": name, **base, **timing})
            log(f"  {param}={value:>6} {name:<18} train {timing['train_ms']:9.2f} ms  "
                f"infer {timing['infer_ms']:9.2f} ms")
        del contenders
        keras.backend.clear_session()
        gc.collect()
    return points


def _slopes(points: list[dict], param: str, contenders) -> dict[str, dict[str, float | None]]:
    slopes: dict[str, dict[str, float | None]] = {}
    for name in contenders:
        mine = sorted((p for p in points if p["contender"] == name and "error" not in p),
                      key=lambda p: p[param])
        if not mine:
            continue
        # The upper half of the grid (at least two points): the asymptotic regime,
        # away from the fixed per-call overheads that flatten the small sizes.
        upper = mine[min(len(mine) // 2, max(len(mine) - 2, 0)) :]
        slopes[name] = {}
        for phase in ("train", "infer"):
            xs = [p[param] for p in mine]
            ys = [p[f"{phase}_ms"] for p in mine]
            slopes[name][f"{phase}_all"] = fit_loglog_slope(xs, ys)
            slopes[name][f"{phase}_upper_half"] = fit_loglog_slope(
                [p[param] for p in upper], [p[f"{phase}_ms"] for p in upper]
            )
    return slopes


def _memory_point(spec: dict) -> dict:
    """One memory point in a fresh `python -m benchmarks.memory_worker` process."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_SOURCE_ROOT), env.get("PYTHONPATH")) if p
    )
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_worker", json.dumps(spec)],
        capture_output=True, text=True, env=env, cwd=_SOURCE_ROOT, check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return {**spec, **json.loads(line[len("RESULT ") :])}
    return {**spec, "error": (proc.stderr or proc.stdout).strip()[-2000:]}


def memory_sweep(config: ScalingConfig, log=print) -> list[dict]:
    """Peak memory of full vs truncated BPTT at every T of `config.memory_grid`."""
    base = config.base
    specs = [
        {"mode": mode, "timesteps": t, "batch": config.memory_batch,
         "input_dim": base.input_dim, "units": base.units, "output_dim": base.output_dim,
         "truncate": None if mode == "full" else config.truncate}
        for t in config.memory_grid
        for mode in ("full", "truncated")
    ]
    with ThreadPoolExecutor(max_workers=max(config.memory_jobs, 1)) as pool:
        points = list(pool.map(_memory_point, specs))
    for p in points:
        if "error" in p:
            log(f"  memory T={p['timesteps']:>6} {p['mode']:<9} failed: {p['error'][-300:]}")
        else:
            log(f"  memory T={p['timesteps']:>6} {p['mode']:<9} peak {p['peak_rss_mb']:8.1f} MB"
                f"  growth {p['growth_mb']:8.1f} MB")
    return points


def run_scaling(
    config: ScalingConfig | None = None, out=None, log=print
) -> tuple[dict, pathlib.Path]:
    """Time vs T and vs units (with log-log slopes) and memory vs T; write JSON and PNGs."""
    config = config or ScalingConfig()
    machine = machine_info()
    base = config.base
    start = time.perf_counter()
    log(f"time vs T (batch {config.timesteps_batch})")
    by_t = _sweep(
        "timesteps", config.timesteps_grid,
        lambda t: Shape(config.timesteps_batch, t, base.input_dim, base.units, base.output_dim),
        config, log,
    )
    log(f"time vs units (batch {base.batch}, T={base.timesteps})")
    by_units = _sweep(
        "units", config.units_grid,
        lambda h: Shape(base.batch, base.timesteps, base.input_dim, h, base.output_dim),
        config, log,
    )
    memory = []
    if config.memory:
        log(f"memory vs T (batch {config.memory_batch}, truncate={config.truncate})")
        memory = memory_sweep(config, log)
    machine["loadavg_end"] = load_average()
    results = {
        "suite": "scaling",
        "schema_version": SCHEMA_VERSION,
        "machine": machine,
        "config": {**asdict(config), "contenders": list(config.contenders)},
        "time_vs_timesteps": {"points": by_t,
                              "slopes": _slopes(by_t, "timesteps", config.contenders)},
        "time_vs_units": {"points": by_units,
                          "slopes": _slopes(by_units, "units", config.contenders)},
        "memory_vs_timesteps": {"points": memory,
                                "slopes": _memory_slopes(memory)},
        "seconds": time.perf_counter() - start,
        "notes": noise_notes(machine),
    }
    path = write_json(results, out, "scaling")
    figures = {
        "time_vs_timesteps": plot_time_vs(results, "timesteps"),
        "time_vs_units": plot_time_vs(results, "units"),
        "memory_vs_timesteps": plot_memory_vs_timesteps(results),
    }
    results["figures"] = {}
    for stem, fig in figures.items():
        png = path.parent / f"{stem}.png"
        fig.savefig(png, dpi=120)
        results["figures"][stem] = str(png)
    return results, write_json(results, out, "scaling", path=path)


def _memory_slopes(points: list[dict]) -> dict[str, dict[str, float | None]]:
    """Per mode: the log-log slope of the growth, and its linear slope in MB per 1000 steps.

    The growth has a T-independent floor (graphs, XLA executables, the allocator's
    pools), which flattens the log-log slope; the linear slope is the memory that
    each extra step costs.
    """
    slopes: dict[str, dict[str, float | None]] = {}
    for mode in ("full", "truncated"):
        mine = [p for p in points if p.get("mode") == mode and p.get("growth_mb")]
        ts = [p["timesteps"] for p in mine]
        growth = [p["growth_mb"] for p in mine]
        slopes[mode] = {
            "loglog": fit_loglog_slope(ts, growth),
            "mb_per_1000_steps": float(np.polyfit(ts, growth, 1)[0] * 1000)
            if len(mine) >= 2 else None,
        }
    return slopes
