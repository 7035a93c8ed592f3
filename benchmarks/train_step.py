"""Suite 1: one training step and one inference pass of every contender, and the targets.

Batch 64, T = 100, 32 inputs, 128 units, 32 classes per step by default; every contender
timed in one process, interleaved round by round, beside a large matmul that gives the
machine's own reachable GFLOP/s. A target is a bound on the time of one of our contenders
divided by the time of a reference, judged round by round (see `timing.target_verdict`).
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from benchmarks.contenders import (
    CONTENDERS,
    DEFAULT_CONTENDERS,
    Contender,
    ContenderUnavailable,
    Shape,
    build_contender,
    make_data,
    rnn_flops,
)
from benchmarks.machine import load_average, machine_info, matmul_task, noise_notes
from benchmarks.report import write_json
from benchmarks.timing import round_ratios, target_verdict, time_interleaved
from rnn_tf._machine import usable_cpus

# 3: targets are named by what they measure and carry `phase` and `versus`.
# 4: machine.cpu_identity; contenders[].decisions (the trainer's batch slices kept).
SCHEMA_VERSION = 4
REFERENCES = {"simple_rnn": "SimpleRNN", "torch_rnn": "torch.nn.RNN"}
PHASES = {"train": "train step", "infer": "inference"}


@dataclass(frozen=True)
class Target:
    """`contender`'s `phase` time is at most `at_most` times `versus`'s, in every round."""

    contender: str
    phase: str
    versus: str
    at_most: float

    @property
    def name(self) -> str:
        return f"{PHASES[self.phase]} vs {REFERENCES[self.versus]} <= {self.at_most:g}x"


def _trainer_targets(contender: str) -> tuple[Target, ...]:
    return (
        Target(contender, "train", "simple_rnn", 0.7),
        Target(contender, "train", "simple_rnn", 0.6),
        Target(contender, "infer", "simple_rnn", 0.5),
        Target(contender, "train", "torch_rnn", 1.0),
        Target(contender, "infer", "torch_rnn", 1.0),
    )


TARGETS: tuple[Target, ...] = (
    *_trainer_targets("vanilla_bptt"),
    *_trainer_targets("vanilla_bptt_xla"),
    Target("vanilla_bptt_xla", "train", "simple_rnn", 0.5),
    # The layer inside a user's own Keras model, trained by Keras.
    Target("vanilla_fit", "train", "simple_rnn", 0.5),
    Target("vanilla_fit", "train", "torch_rnn", 0.7),
    Target("vanilla_fit", "infer", "simple_rnn", 0.5),
    Target("vanilla_fit", "infer", "torch_rnn", 0.8),
)


@dataclass
class TrainStepConfig:
    """Settings of the train-step suite."""

    shape: Shape = field(default_factory=Shape)
    contenders: tuple[str, ...] = DEFAULT_CONTENDERS
    repeats: int = 40
    # Eight rounds of five: enough per-round ratios to tell a met target from noise.
    rounds: int = 8
    warmup: int = 3
    matmul_n: int = 2048
    learning_rate: float = 0.01
    torch_threads: int | None = None  # None: the usable CPUs, like TensorFlow's default
    seed: int = 0


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def _row(name: str, shape: Shape, timings: dict, skipped: str | None, peak_gflops: float):
    label, framework, gates = CONTENDERS[name]
    flops = {
        phase: rnn_flops(shape.batch, shape.timesteps, shape.input_dim, shape.units,
                         shape.output_dim, gates, training=phase == "train")
        for phase in ("train", "infer")
    }
    row: dict[str, Any] = {
        "name": name, "label": label, "framework": framework, "gates": gates,
        "skipped": skipped, "flops_train": flops["train"], "flops_infer": flops["infer"],
    }
    for phase in ("train", "infer"):
        timing = timings.get(f"{name}:{phase}")
        summary = timing.summary() if timing else {}
        ms = summary.get("median_ms")
        gflops = flops[phase] / (ms * 1e-3) / 1e9 if ms else None
        row.update({
            f"{phase}_ms": ms,
            f"{phase}_p25_ms": summary.get("p25_ms"),
            f"{phase}_p75_ms": summary.get("p75_ms"),
            f"{phase}_min_ms": summary.get("min_ms"),
            f"{phase}_n": summary.get("n"),
            f"{phase}_first_call_s": summary.get("first_call_s"),
            f"{phase}_seq_per_s": shape.batch / (ms * 1e-3) if ms else None,
            f"{phase}_gflops": gflops,
            f"{phase}_frac_of_peak": gflops / peak_gflops if gflops else None,
        })
    return row


def _judge(target: Target, by_name: dict, timings: dict) -> dict:
    ratio = _ratio(by_name[target.contender].get(f"{target.phase}_ms"),
                   by_name.get(target.versus, {}).get(f"{target.phase}_ms"))
    ours = timings.get(f"{target.contender}:{target.phase}")
    theirs = timings.get(f"{target.versus}:{target.phase}")
    per_round = round_ratios(ours, theirs) if ratio is not None else []
    verdict = target_verdict(per_round, target.at_most)
    return {
        "target": target.name,
        "contender": target.contender,
        "phase": target.phase,
        "versus": target.versus,
        "at_most": target.at_most,
        "ratio": ratio,
        "round_ratios": per_round,
        "rounds_within": sum(r <= target.at_most for r in per_round),
        "verdict": verdict,
        "met": {"met": True, "not met": False}.get(verdict),
    }


def run_train_step(config: TrainStepConfig | None = None, out=None) -> tuple[dict, pathlib.Path]:
    """Time every contender's training step and inference; write JSON to `out`.

    Returns:
        `(results, path)`: the JSON-ready dict (fields in benchmarks/README.md)
        and the file it was written to (`train_step_<UTC time>.json` in `out`,
        default benchmarks/results/, also copied to `train_step_latest.json`).
    """
    import keras

    config = config or TrainStepConfig()
    shape = config.shape
    torch_threads = config.torch_threads or usable_cpus()
    keras.utils.set_random_seed(config.seed)
    machine = machine_info()
    x, y = make_data(shape, config.seed)

    built: dict[str, Contender] = {}
    skipped: dict[str, str] = {}
    for name in config.contenders:
        try:
            built[name] = build_contender(name, shape, x, y, learning_rate=config.learning_rate,
                                          torch_threads=torch_threads)
        except ContenderUnavailable as error:
            skipped[name] = str(error)

    tasks: dict[str, Callable[[], Any]] = {"matmul": matmul_task(config.matmul_n)}
    for name, contender in built.items():
        tasks[f"{name}:train"] = contender.train
        tasks[f"{name}:infer"] = contender.infer
    timings = time_interleaved(tasks, config.repeats, config.rounds, config.warmup)

    matmul_ms = timings["matmul"].median
    peak_gflops = 2 * config.matmul_n**3 / (matmul_ms * 1e-3) / 1e9
    rows = [_row(name, shape, timings, skipped.get(name), peak_gflops)
            for name in config.contenders]
    for row in rows:
        contender = built.get(row["name"])
        row["decisions"] = contender.decisions() if contender and contender.decisions else None
    by_name = {row["name"]: row for row in rows}
    ours = [name for name in dict.fromkeys(t.contender for t in TARGETS)
            if name in built]
    ratios = {
        name: {
            f"{phase}_vs_{other}": _ratio(by_name[name].get(f"{phase}_ms"),
                                          by_name.get(other, {}).get(f"{phase}_ms"))
            for other in REFERENCES
            for phase in ("train", "infer")
        }
        for name in ours
    }
    targets = [_judge(t, by_name, timings) for t in TARGETS if t.contender in built]
    machine["loadavg_end"] = load_average()
    results = {
        "suite": "train_step",
        "schema_version": SCHEMA_VERSION,
        "machine": machine,
        "config": {**asdict(config), "torch_threads": torch_threads,
                   "contenders": list(config.contenders)},
        "peak": {"matmul_n": config.matmul_n, "matmul_ms": matmul_ms, "gflops": peak_gflops,
                 **{k: v for k, v in timings["matmul"].summary().items() if k != "median_ms"}},
        "contenders": rows,
        "ratios": ratios,
        "targets": targets,
        "notes": noise_notes(machine),
    }
    return results, write_json(results, out, "train_step")
