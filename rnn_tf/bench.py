"""Speed and memory benchmarks: `rnn-tf bench`, `benchmarks/bench_*.py`.

Two suites, both print a table and write JSON (plus PNG plots for scaling):

* ``train-step`` -- one training step and one inference pass of the same task
  (batch 64, T=100, 32 inputs, 128 units, 32 classes per step) for every
  contender, timed in the same process and interleaved round by round so that
  load from other processes hits every contender alike. Reports milliseconds,
  sequences/s, achieved GFLOP/s (see `rnn_flops`) and its fraction of the
  machine's own large-matmul GFLOP/s measured in the same rounds.
* ``scaling`` -- training/inference time vs sequence length T and vs units with
  fitted log-log slopes, and peak memory vs T of full vs truncated BPTT, each
  memory point measured in a fresh subprocess from its peak resident set size.

Nothing here asserts a speed: the numbers and the targets are reported as found.

Example:

```python
from rnn_tf import bench
results, path = bench.run_train_step(bench.TrainStepConfig(repeats=20), out="results")
print(bench.format_train_step_table(results))
```
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from rnn_tf._machine import usable_cpus

# 2: targets carry per-round ratios and a verdict; `met` is null when rounds disagree.
SCHEMA_VERSION = 2
DEFAULT_OUT = pathlib.Path("benchmarks") / "results"

# Contender name -> (label, framework, gates per cell: 1 vanilla, 3 GRU, 4 LSTM).
CONTENDERS: dict[str, tuple[str, str, int]] = {
    "vanilla_bptt": ("VanillaRNN + BPTTTrainer(jit_compile=False)", "rnn_tf", 1),
    "vanilla_bptt_xla": (
        "VanillaRNN + BPTTTrainer (default: XLA, batch split in 2 on multi-core CPUs)", "rnn_tf", 1
    ),
    "vanilla_bptt_generic": ("VanillaRNN generic Keras loop (before) + BPTTTrainer", "rnn_tf", 1),
    "vanilla_fit": ("VanillaRNN, Keras train_on_batch", "rnn_tf", 1),
    "rnn_vanilla_cell": ("keras RNN(VanillaRNNCell) + BPTTTrainer", "rnn_tf", 1),
    "simple_rnn": ("keras SimpleRNN + Dense", "keras", 1),
    "simple_rnn_xla": ("keras SimpleRNN + Dense (jit_compile)", "keras", 1),
    "gru": ("keras GRU + Dense", "keras", 3),
    "lstm": ("keras LSTM + Dense", "keras", 4),
    "torch_rnn": ("torch.nn.RNN + Linear, manual SGD", "torch", 1),
}
DEFAULT_CONTENDERS = tuple(CONTENDERS)
# The contenders the targets of issues 2 and 4 are about, and what they compare to.
OURS = ("vanilla_bptt", "vanilla_bptt_xla")
BASELINE = "simple_rnn"
TORCH = "torch_rnn"
TARGETS = (
    # (issue, what, numerator, denominator, phase, at most)
    (2, "training step <= 0.7x SimpleRNN", BASELINE, "train", 0.7),
    (4, "training step <= 0.6x SimpleRNN", BASELINE, "train", 0.6),
    (4, "inference <= 0.5x SimpleRNN", BASELINE, "infer", 0.5),
    (4, "training step no slower than torch.nn.RNN", TORCH, "train", 1.0),
    (4, "inference no slower than torch.nn.RNN", TORCH, "infer", 1.0),
)


class ContenderUnavailable(RuntimeError):
    """A contender cannot run here (e.g. PyTorch is not installed); it is skipped."""


# --- FLOPs ---------------------------------------------------------------------------


def rnn_flops(
    batch: int,
    timesteps: int,
    input_dim: int,
    units: int,
    output_dim: int,
    gates: int = 1,
    training: bool = True,
) -> int:
    """FLOPs of one forward (and, with `training`, backward) pass; 2 FLOPs per multiply-add.

    With B=batch, T=timesteps, D=input_dim, H=units, O=output_dim and g gate
    blocks per cell (1 vanilla/SimpleRNN, 3 GRU, 4 LSTM), every step does
    x_t U (D x gH), h_{t-1} W (H x gH) and the head h_t V (H x O):

        forward  = 2 B T (g D H + g H H + H O)
        backward = 2 B T (g D H + 2 g H H + 2 H O)
            dU = X^T dA                      (x needs no gradient: one matmul)
            dW = H_{t-1}^T dA, dH_{t-1} = dA W^T   (two matmuls)
            dV = H^T dO,       dH = dO V^T         (two matmuls)
        training = forward + backward = 2 B T (2 g D H + 3 g H H + 3 H O)

    Element-wise work (biases, tanh, gate products, softmax, the SGD update) is
    O(B T H) and not counted, so the GFLOP/s derived from this are a lower bound
    of the arithmetic actually done. For the default shapes (64, 100, 32, 128, 32)
    a vanilla training step is 0.891 GFLOP and inference 0.315 GFLOP.
    """
    b, t, d, h, o, g = batch, timesteps, input_dim, units, output_dim, gates
    if training:
        return 2 * b * t * (2 * g * d * h + 3 * g * h * h + 3 * h * o)
    return 2 * b * t * (g * d * h + g * h * h + h * o)


# --- timing --------------------------------------------------------------------------


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


# --- machine -------------------------------------------------------------------------


def _cpu_model() -> str | None:
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or None
    match = re.search(r"^model name\s*:\s*(.+)$", text, flags=re.M)
    return match.group(1).strip() if match else None


def _torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def machine_info() -> dict[str, Any]:
    """CPU, memory, library versions, thread settings and load: what the numbers depend on."""
    import keras
    import tensorflow as tf

    mem_total_mb = None
    try:
        meminfo = pathlib.Path("/proc/meminfo").read_text()
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
        mem_total_mb = int(match.group(1)) / 1024 if match else None
    except OSError:
        pass
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable_cpus(),
        "cpu_model": _cpu_model(),
        "mem_total_mb": mem_total_mb,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "torch": _torch_version(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "tf_enable_onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def matmul_task(n: int = 2048) -> Callable[[], Any]:
    """A compiled `tf.matmul` of two n x n float32 matrices: the machine's reachable GFLOP/s."""
    import tensorflow as tf

    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4))
    # Reduce to a scalar so the timing is not a copy of n*n floats back to Python.
    fn = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    return lambda: fn().numpy()


# --- contenders ----------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """The task: `batch` sequences of `timesteps` steps, classify every step into `output_dim`."""

    batch: int = 64
    timesteps: int = 100
    input_dim: int = 32
    units: int = 128
    output_dim: int = 32


@dataclass
class Contender:
    """Ready-to-time callables of one implementation (each call blocks until done)."""

    name: str
    train: Callable[[], Any]
    infer: Callable[[], Any]


def make_data(shape: Shape, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs `(B, T, D)` float32 and per-step class ids `(B, T)` int32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((shape.batch, shape.timesteps, shape.input_dim)).astype("float32")
    y = rng.integers(0, shape.output_dim, (shape.batch, shape.timesteps)).astype("int32")
    return x, y


def _inference_fn(model, x, jit_compile: bool) -> Callable[[], Any]:
    import tensorflow as tf

    # One wrapper for every Keras contender (not predict_on_batch, whose NumPy
    # round trip would add the same constant to everyone and hide differences).
    fn = tf.function(lambda inputs: model(inputs, training=False), jit_compile=jit_compile)
    return lambda: fn(x)


def _keras_contender(name: str, shape: Shape, x, y, learning_rate: float) -> Contender:
    import keras
    import tensorflow as tf

    from rnn_tf.bptt import BPTTTrainer
    from rnn_tf.layers import VanillaRNN, VanillaRNNCell

    s = shape
    jit = name.endswith("_xla")
    x_t, y_t = tf.constant(x), tf.constant(y)
    inputs = keras.Input((s.timesteps, s.input_dim))

    if name in ("vanilla_bptt", "vanilla_bptt_xla", "vanilla_bptt_generic", "rnn_vanilla_cell"):
        if name == "rnn_vanilla_cell":
            layer = keras.layers.RNN(
                VanillaRNNCell(s.units, output_dim=s.output_dim), return_sequences=True
            )
        else:
            layer = VanillaRNN(s.units, output_dim=s.output_dim, return_sequences=True)
            # The generic contender is the layer as it was before the hand-written
            # BPTT path (rnn_tf.layers._recurrence): keras' while_loop, autodiff.
            layer._fused_recurrence = name != "vanilla_bptt_generic"
        model = keras.Model(inputs, layer(inputs), name=name)
        # time_reduction="mean" like Keras' fit and the torch contender: the same
        # work, and a loss whose scale does not grow with T (long-T sweeps stay finite).
        trainer = BPTTTrainer(
            model,
            from_logits=True,
            learning_rate=learning_rate,
            time_reduction="mean",
            jit_compile=jit,
            check_inputs=False,
            verbose=0,
        )
        return Contender(
            name, lambda: trainer.train_on_batch(x_t, y_t), _inference_fn(model, x_t, jit)
        )

    if name == "vanilla_fit":
        outputs = VanillaRNN(s.units, output_dim=s.output_dim, return_sequences=True)(inputs)
    elif name in ("simple_rnn", "simple_rnn_xla", "gru", "lstm"):
        rnn = {
            "simple_rnn": keras.layers.SimpleRNN,
            "simple_rnn_xla": keras.layers.SimpleRNN,
            "gru": keras.layers.GRU,
            "lstm": keras.layers.LSTM,
        }[name]
        hidden = rnn(s.units, return_sequences=True)(inputs)
        outputs = keras.layers.Dense(s.output_dim)(hidden)
    else:
        raise ValueError(f"Unknown contender {name!r}; known: {sorted(CONTENDERS)}")
    model = keras.Model(inputs, outputs, name=name)
    # jit_compile=False is what "auto" resolves to on a CPU-only machine; the
    # *_xla contenders show what XLA changes.
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit,
    )
    return Contender(
        name, lambda: model.train_on_batch(x_t, y_t), _inference_fn(model, x_t, jit)
    )


def _torch_contender(shape: Shape, x, y, learning_rate: float, threads: int | None) -> Contender:
    try:
        import torch
    except ImportError as error:
        raise ContenderUnavailable(f"PyTorch is not installed ({error})") from error

    s = shape
    torch.manual_seed(0)
    if threads:
        torch.set_num_threads(threads)
    rnn = torch.nn.RNN(s.input_dim, s.units, nonlinearity="tanh", batch_first=True)
    head = torch.nn.Linear(s.units, s.output_dim)
    params = [*rnn.parameters(), *head.parameters()]
    x_t = torch.from_numpy(x)
    y_t = torch.from_numpy(y.astype("int64"))

    def train():
        outputs, _ = rnn(x_t)
        logits = head(outputs)
        # Mean over all steps, like the Keras contenders.
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, s.output_dim), y_t.reshape(-1)
        )
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-learning_rate)
        return float(loss.detach())

    def infer():
        with torch.inference_mode():
            outputs, _ = rnn(x_t)
            return head(outputs)

    return Contender("torch_rnn", train, infer)


def build_contender(
    name: str,
    shape: Shape,
    x: np.ndarray,
    y: np.ndarray,
    learning_rate: float = 0.01,
    torch_threads: int | None = None,
) -> Contender:
    """Build one contender by name (see `CONTENDERS`); raises `ContenderUnavailable`."""
    if name not in CONTENDERS:
        raise ValueError(f"Unknown contender {name!r}; known: {sorted(CONTENDERS)}")
    if name == "torch_rnn":
        return _torch_contender(shape, x, y, learning_rate, torch_threads)
    return _keras_contender(name, shape, x, y, learning_rate)


# --- suite 1: the training step ----------------------------------------------------


@dataclass
class TrainStepConfig:
    """Settings of the train-step suite (defaults: the shapes of issues 2 and 4)."""

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


def run_train_step(config: TrainStepConfig | None = None, out=None) -> tuple[dict, pathlib.Path]:
    """Time every contender's training step and inference; write JSON to `out`.

    Returns:
        `(results, path)`: the JSON-ready dict (fields in benchmarks/README.md)
        and the file it was written to (`train_step_<UTC time>.json` in `out`,
        default benchmarks/results/, also copied to `train_step_latest.json`).
    """
    import keras

    config = config or TrainStepConfig()
    s = config.shape
    torch_threads = config.torch_threads or usable_cpus()
    keras.utils.set_random_seed(config.seed)
    machine = machine_info()
    x, y = make_data(s, config.seed)

    built: dict[str, Contender] = {}
    skipped: dict[str, str] = {}
    for name in config.contenders:
        try:
            built[name] = build_contender(name, s, x, y, config.learning_rate, torch_threads)
        except ContenderUnavailable as error:
            skipped[name] = str(error)

    tasks: dict[str, Callable[[], Any]] = {"matmul": matmul_task(config.matmul_n)}
    for name, contender in built.items():
        tasks[f"{name}:train"] = contender.train
        tasks[f"{name}:infer"] = contender.infer
    timings = time_interleaved(tasks, config.repeats, config.rounds, config.warmup)

    matmul_ms = timings["matmul"].median
    peak_gflops = 2 * config.matmul_n**3 / (matmul_ms * 1e-3) / 1e9
    rows = []
    for name in config.contenders:
        label, framework, gates = CONTENDERS[name]
        flops = {
            phase: rnn_flops(
                s.batch, s.timesteps, s.input_dim, s.units, s.output_dim, gates,
                training=phase == "train",
            )
            for phase in ("train", "infer")
        }
        row: dict[str, Any] = {
            "name": name,
            "label": label,
            "framework": framework,
            "gates": gates,
            "skipped": skipped.get(name),
            "flops_train": flops["train"],
            "flops_infer": flops["infer"],
        }
        for phase in ("train", "infer"):
            timing = timings.get(f"{name}:{phase}")
            summary = timing.summary() if timing else {}
            ms = summary.get("median_ms")
            gflops = flops[phase] / (ms * 1e-3) / 1e9 if ms else None
            row.update(
                {
                    f"{phase}_ms": ms,
                    f"{phase}_p25_ms": summary.get("p25_ms"),
                    f"{phase}_p75_ms": summary.get("p75_ms"),
                    f"{phase}_min_ms": summary.get("min_ms"),
                    f"{phase}_n": summary.get("n"),
                    f"{phase}_first_call_s": summary.get("first_call_s"),
                    f"{phase}_seq_per_s": s.batch / (ms * 1e-3) if ms else None,
                    f"{phase}_gflops": gflops,
                    f"{phase}_frac_of_peak": gflops / peak_gflops if gflops else None,
                }
            )
        rows.append(row)

    by_name = {row["name"]: row for row in rows}
    ratios: dict[str, dict[str, float | None]] = {}
    targets = []
    for ours in OURS:
        if ours not in by_name or by_name[ours]["skipped"]:
            continue
        ratios[ours] = {
            f"{phase}_vs_{other}": _ratio(
                by_name[ours].get(f"{phase}_ms"), by_name.get(other, {}).get(f"{phase}_ms")
            )
            for other in (BASELINE, TORCH)
            for phase in ("train", "infer")
        }
        for issue, what, other, phase, bound in TARGETS:
            value = ratios[ours][f"{phase}_vs_{other}"]
            mine, theirs = timings.get(f"{ours}:{phase}"), timings.get(f"{other}:{phase}")
            per_round = round_ratios(mine, theirs) if value is not None else []
            verdict = target_verdict(per_round, bound)
            targets.append(
                {
                    "issue": issue,
                    "contender": ours,
                    "target": what,
                    "ratio": value,
                    "round_ratios": per_round,
                    "rounds_within": sum(r <= bound for r in per_round),
                    "at_most": bound,
                    "verdict": verdict,
                    "met": {"met": True, "not met": False}.get(verdict),
                }
            )
    machine["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results = {
        "suite": "train_step",
        "schema_version": SCHEMA_VERSION,
        "machine": machine,
        "config": {
            **asdict(config),
            "torch_threads": torch_threads,
            "contenders": list(config.contenders),
        },
        "peak": {"matmul_n": config.matmul_n, "matmul_ms": matmul_ms, "gflops": peak_gflops,
                 **{k: v for k, v in timings["matmul"].summary().items() if k != "median_ms"}},
        "contenders": rows,
        "ratios": ratios,
        "targets": targets,
        "notes": _noise_notes(machine),
    }
    path = write_json(results, out, "train_step")
    return results, path


def _noise_notes(machine: dict) -> list[str]:
    notes = []
    cpus = machine.get("cpus_usable") or 1
    loads = [machine.get("loadavg_start"), machine.get("loadavg_end")]
    worst = max((load[0] for load in loads if load), default=None)
    if worst is not None and worst > 0.5 * cpus:
        notes.append(
            f"1-minute load average reached {worst:.2f} on {cpus} usable CPUs: other "
            "processes shared the machine; medians of interleaved rounds limit, but do "
            "not remove, the noise (compare p25..p75)"
        )
    return notes


# --- output --------------------------------------------------------------------------


def _clean(value):
    """JSON has no NaN: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def write_json(results: dict, out, stem: str) -> pathlib.Path:
    """Write `<stem>_<UTC time>.json` and `<stem>_latest.json` into `out`; return the first."""
    out = pathlib.Path(out) if out is not None else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    text = json.dumps(_clean(results), indent=2, sort_keys=False)
    path = out / f"{stem}_{stamp}.json"
    path.write_text(text)
    (out / f"{stem}_latest.json").write_text(text)
    return path


def _fmt(value, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def format_train_step_table(results: dict) -> str:
    """The train-step results as a Markdown table plus the ratio and target lines."""
    s = results["config"]["shape"]
    peak = results["peak"]
    lines = [
        f"Training step and inference, batch {s['batch']}, T={s['timesteps']}, "
        f"{s['input_dim']} inputs, {s['units']} units, {s['output_dim']} classes per step; "
        f"median of {results['config']['repeats']} in {results['config']['rounds']} "
        "interleaved rounds after warm-up.",
        f"Machine: {results['machine']['cpus_usable']} CPUs ({results['machine']['cpu_model']}), "
        f"TF {results['machine']['tensorflow']}, {results['machine']['date_utc']}; "
        f"large matmul ({peak['matmul_n']}^2) {peak['gflops']:.1f} GFLOP/s.",
        "",
        "| contender | train ms (p25-p75) | infer ms (p25-p75) | train seq/s | infer seq/s "
        "| train GFLOP/s | % peak | infer GFLOP/s | % peak |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["contenders"]:
        if row["skipped"]:
            lines.append(f"| {row['name']} | skipped: {row['skipped']} |||||||| ")
            continue
        cells = [row["name"]]
        for phase in ("train", "infer"):
            cells.append(
                f"{_fmt(row[f'{phase}_ms'])} ({_fmt(row[f'{phase}_p25_ms'])}-"
                f"{_fmt(row[f'{phase}_p75_ms'])})"
            )
        cells += [_fmt(row["train_seq_per_s"], ".0f"), _fmt(row["infer_seq_per_s"], ".0f")]
        for phase in ("train", "infer"):
            cells.append(_fmt(row[f"{phase}_gflops"]))
            frac = row[f"{phase}_frac_of_peak"]
            cells.append(_fmt(None if frac is None else 100 * frac, ".0f"))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for ours, ratio in results["ratios"].items():
        parts = [f"{key.replace('_vs_', ' / ')} = {_fmt(value, '.2f')}"
                 for key, value in ratio.items()]
        lines.append(f"{ours}: " + ", ".join(parts))
    for target in results["targets"]:
        per_round = target["round_ratios"]
        spread = (
            f" (rounds {min(per_round):.2f}-{max(per_round):.2f}, "
            f"{target['rounds_within']} of {len(per_round)} within)"
            if per_round
            else ""
        )
        verdict = {"not met": "NOT met", "mixed": "MIXED"}.get(target["verdict"], target["verdict"])
        lines.append(
            f"issue {target['issue']} ({target['contender']}): {target['target']}: "
            f"ratio {_fmt(target['ratio'], '.2f')}{spread} -> {verdict}"
        )
    lines += [f"note: {note}" for note in results["notes"]]
    return "\n".join(lines)


# --- suite 2: scaling --------------------------------------------------------------


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


def fit_loglog_slope(xs, ys) -> float | None:
    """Least-squares slope of log(y) vs log(x): 1 means linear, 2 quadratic."""
    pairs = [(x, y) for x, y in zip(xs, ys) if x and y and x > 0 and y > 0]
    if len(pairs) < 2:
        return None
    lx, ly = np.log([p[0] for p in pairs]), np.log([p[1] for p in pairs])
    return float(np.polyfit(lx, ly, 1)[0])


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
                contenders[name] = build_contender(name, shape, x, y, config.learning_rate,
                                                   usable_cpus())
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


def _status_kb(field_name: str) -> int | None:
    text = pathlib.Path("/proc/self/status").read_text()
    match = re.search(rf"^{field_name}:\s+(\d+) kB", text, flags=re.M)
    return int(match.group(1)) if match else None


def memory_worker(spec: dict) -> dict:
    """Peak RSS of BPTT training at one T, in this (fresh) process.

    Builds a state-passing VanillaRNN model and a `BPTTTrainer` (full BPTT when
    `spec["truncate"]` is None), makes the data, then resets the kernel's
    peak-RSS counter (`/proc/self/clear_refs` = 5) so that VmHWM afterwards is
    the peak *during* the training steps, not the import of TensorFlow.
    """
    import keras
    import tensorflow as tf

    from rnn_tf.bptt import BPTTTrainer, state_passing_model
    from rnn_tf.layers import VanillaRNN

    keras.utils.set_random_seed(0)
    shape = Shape(spec["batch"], spec["timesteps"], spec["input_dim"], spec["units"],
                  spec["output_dim"])
    layer = VanillaRNN(shape.units, output_dim=shape.output_dim, return_sequences=True,
                       return_state=True)
    model = state_passing_model(layer, shape.input_dim)
    trainer = BPTTTrainer(model, from_logits=True, truncate=spec["truncate"],
                          time_reduction="mean", check_inputs=False, verbose=0)
    x, y = make_data(shape)
    x_t, y_t = tf.constant(x), tf.constant(y)
    rss_before = _status_kb("VmRSS")
    peak_reset = True
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        peak_reset = False  # VmHWM then also covers the imports: an upper bound
    start = time.perf_counter()
    for _ in range(spec.get("steps", 2)):
        trainer.train_on_batch(x_t, y_t)
    seconds = (time.perf_counter() - start) / spec.get("steps", 2)
    hwm = _status_kb("VmHWM")
    return {
        "peak_rss_mb": hwm / 1024 if hwm else None,
        "rss_before_mb": rss_before / 1024 if rss_before else None,
        "growth_mb": (hwm - rss_before) / 1024 if hwm and rss_before else None,
        "input_mb": (x.nbytes + y.nbytes) / 2**20,
        "peak_reset": peak_reset,
        "seconds_per_batch": seconds,
    }


def _memory_point(spec: dict) -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    package_root = str(pathlib.Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    code = (
        "import json, sys\n"
        "from rnn_tf.bench import memory_worker\n"
        "print('RESULT ' + json.dumps(memory_worker(json.loads(sys.argv[1]))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(spec)],
        capture_output=True, text=True, env=env, check=False,
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
    machine["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
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
        "notes": _noise_notes(machine),
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
    # Rewrite with the figure paths included.
    path.write_text(json.dumps(_clean(results), indent=2))
    (path.parent / "scaling_latest.json").write_text(json.dumps(_clean(results), indent=2))
    return results, path


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


# --- plots (Figure objects, no pyplot state) -----------------------------------------


def plot_time_vs(results: dict, param: str):
    """Log-log training and inference time vs `param` ("timesteps" or "units")."""
    from matplotlib.figure import Figure

    section = results[f"time_vs_{param}"]
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True)
    for ax, phase in zip(axes, ("train", "infer")):
        for name in results["config"]["contenders"]:
            mine = sorted((p for p in section["points"]
                           if p["contender"] == name and "error" not in p),
                          key=lambda p: p[param])
            if not mine:
                continue
            slope = section["slopes"].get(name, {}).get(f"{phase}_upper_half")
            label = f"{name} (slope {slope:.2f})" if slope is not None else name
            ax.loglog([p[param] for p in mine], [p[f"{phase}_ms"] for p in mine], "o-",
                      label=label)
        ax.set_xlabel("sequence length T" if param == "timesteps" else "units H")
        ax.set_ylabel("ms per batch")
        ax.set_title("training step" if phase == "train" else "inference")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    batch = section["points"][0]["batch"] if section["points"] else "?"
    fig.suptitle(f"time vs {param} (batch {batch})")
    return fig


def plot_memory_vs_timesteps(results: dict):
    """Peak RSS growth during training vs T, full vs truncated BPTT (log-log)."""
    from matplotlib.figure import Figure

    points = results["memory_vs_timesteps"]["points"]
    fig = Figure(figsize=(5.5, 4.2), layout="constrained")
    ax = fig.subplots()
    truncate = results["config"]["truncate"]
    for mode in ("full", "truncated"):
        mine = sorted((p for p in points if p.get("mode") == mode and p.get("growth_mb")),
                      key=lambda p: p["timesteps"])
        if mine:
            label = "full BPTT" if mode == "full" else f"truncated BPTT (k={truncate})"
            ax.loglog([p["timesteps"] for p in mine], [p["growth_mb"] for p in mine], "o-",
                      label=label)
    inputs = sorted((p for p in points if p.get("mode") == "full" and "input_mb" in p),
                    key=lambda p: p["timesteps"])
    if inputs:
        ax.loglog([p["timesteps"] for p in inputs], [p["input_mb"] for p in inputs], ":",
                  color="gray", label="the batch itself (x, y)")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("peak RSS growth while training (MB)")
    ax.set_title("memory vs T")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig


def format_scaling_table(results: dict) -> str:
    """The scaling results as Markdown tables (time vs T, vs units, memory vs T)."""
    lines = []
    for param in ("timesteps", "units"):
        section = results[f"time_vs_{param}"]
        names = [n for n in results["config"]["contenders"]
                 if any(p["contender"] == n for p in section["points"])]
        values = sorted({p[param] for p in section["points"]})
        lines += [f"Time vs {param} (ms per batch, train / infer)", "",
                  f"| {param} | " + " | ".join(names) + " |",
                  "|---|" + "---|" * len(names)]
        for value in values:
            cells = []
            for name in names:
                match = [p for p in section["points"]
                         if p["contender"] == name and p[param] == value]
                cells.append(f"{_fmt(match[0].get('train_ms'))} / "
                             f"{_fmt(match[0].get('infer_ms'))}" if match else "-")
            lines.append(f"| {value} | " + " | ".join(cells) + " |")
        slope_cells = []
        for name in names:
            sl = section["slopes"].get(name, {})
            slope_cells.append(f"{_fmt(sl.get('train_upper_half'), '.2f')} / "
                               f"{_fmt(sl.get('infer_upper_half'), '.2f')}")
        lines.append("| log-log slope (upper half) | " + " | ".join(slope_cells) + " |")
        lines.append("")
    memory = results["memory_vs_timesteps"]["points"]
    if memory:
        truncate = results["config"]["truncate"]
        lines += [f"Peak RSS growth while training (MB), batch {results['config']['memory_batch']}",
                  "", f"| T | full BPTT | truncated (k={truncate}) | batch x,y |",
                  "|---|---|---|---|"]
        for t in sorted({p["timesteps"] for p in memory}):
            row = {p["mode"]: p for p in memory if p["timesteps"] == t}
            full, trunc = row.get("full", {}), row.get("truncated", {})
            lines.append(f"| {t} | {_fmt(full.get('growth_mb'))} | "
                         f"{_fmt(trunc.get('growth_mb'))} | {_fmt(full.get('input_mb'), '.2f')} |")
        slopes = results["memory_vs_timesteps"]["slopes"]
        full, trunc = slopes.get("full", {}), slopes.get("truncated", {})
        lines.append(f"| log-log slope | {_fmt(full.get('loglog'), '.2f')} | "
                     f"{_fmt(trunc.get('loglog'), '.2f')} | |")
        lines.append(f"| MB per 1000 steps (linear fit) | "
                     f"{_fmt(full.get('mb_per_1000_steps'), '.1f')} | "
                     f"{_fmt(trunc.get('mb_per_1000_steps'), '.1f')} | |")
    lines += [f"note: {note}" for note in results["notes"]]
    return "\n".join(lines)


# --- command line ------------------------------------------------------------------


QUICK_SHAPE = Shape(batch=4, timesteps=8, input_dim=3, units=8, output_dim=3)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnn-tf bench",
        description="Speed and memory benchmarks of VanillaRNN vs Keras and PyTorch RNNs.",
    )
    parser.add_argument("suite", nargs="?", default="all",
                        choices=["all", "train-step", "scaling"])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for JSON and PNG")
    parser.add_argument("--quick", action="store_true",
                        help="tiny shapes and repeats: checks the suite runs, measures nothing")
    shape = parser.add_argument_group("train-step shapes")
    defaults = Shape()
    shape.add_argument("--batch", type=int, default=defaults.batch)
    shape.add_argument("--timesteps", type=int, default=defaults.timesteps)
    shape.add_argument("--input-dim", type=int, default=defaults.input_dim)
    shape.add_argument("--units", type=int, default=defaults.units)
    shape.add_argument("--output-dim", type=int, default=defaults.output_dim)
    timing = parser.add_argument_group("timing")
    timing.add_argument("--contenders", nargs="+", choices=sorted(CONTENDERS),
                        help="train-step contenders (default: all)")
    timing.add_argument("--repeats", type=int, default=TrainStepConfig.repeats)
    timing.add_argument("--rounds", type=int, default=TrainStepConfig.rounds)
    timing.add_argument("--warmup", type=int, default=TrainStepConfig.warmup)
    timing.add_argument("--matmul-n", type=int, default=TrainStepConfig.matmul_n)
    timing.add_argument("--threads", type=int, default=None,
                        help="intra-op threads of TensorFlow and PyTorch (default: their own)")
    scaling = parser.add_argument_group("scaling")
    scaling.add_argument("--scaling-contenders", nargs="+", choices=sorted(CONTENDERS))
    scaling.add_argument("--timesteps-grid", type=int, nargs="+")
    scaling.add_argument("--timesteps-batch", type=int)
    scaling.add_argument("--units-grid", type=int, nargs="+")
    scaling.add_argument("--memory-grid", type=int, nargs="+")
    scaling.add_argument("--truncate", type=int)
    scaling.add_argument("--memory-jobs", type=int, help="memory subprocesses run at once")
    scaling.add_argument("--no-memory", action="store_true", help="skip the memory sweep")
    scaling.add_argument("--budget", type=float, help="seconds of timing per scaling point")
    return parser


def configs_from_args(args: argparse.Namespace) -> tuple[TrainStepConfig, ScalingConfig]:
    """Translate parsed arguments (and `--quick`) into the two suites' settings."""
    shape = Shape(args.batch, args.timesteps, args.input_dim, args.units, args.output_dim)
    train = TrainStepConfig(shape=shape, repeats=args.repeats, rounds=args.rounds,
                            warmup=args.warmup, matmul_n=args.matmul_n,
                            torch_threads=args.threads)
    scaling = ScalingConfig(base=shape)
    if args.quick:
        train = TrainStepConfig(shape=QUICK_SHAPE, contenders=("vanilla_bptt", BASELINE, TORCH),
                                repeats=2, rounds=2, warmup=1, matmul_n=128,
                                torch_threads=args.threads)
        scaling = ScalingConfig(
            contenders=("vanilla_bptt",), timesteps_grid=(4, 16), timesteps_batch=2,
            units_grid=(4, 8), base=QUICK_SHAPE, memory_grid=(16,), memory_batch=2,
            truncate=4, memory_jobs=2, budget_s=0.0, min_repeats=1, max_repeats=1, rounds=1,
        )
    if args.contenders:
        train.contenders = tuple(args.contenders)
    overrides = {
        "contenders": tuple(args.scaling_contenders) if args.scaling_contenders else None,
        "timesteps_grid": tuple(args.timesteps_grid) if args.timesteps_grid else None,
        "timesteps_batch": args.timesteps_batch,
        "units_grid": tuple(args.units_grid) if args.units_grid else None,
        "memory_grid": tuple(args.memory_grid) if args.memory_grid else None,
        "truncate": args.truncate,
        "memory_jobs": args.memory_jobs,
        "budget_s": args.budget,
    }
    for key, value in overrides.items():
        if value is not None:
            setattr(scaling, key, value)
    if args.no_memory:
        scaling.memory = False
    return train, scaling


def main(argv: list[str] | None = None) -> int:
    """`rnn-tf bench [all|train-step|scaling] [--out DIR] [--quick] ...`; returns 0."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.threads:
        import tensorflow as tf

        # Must happen before TensorFlow runs its first op.
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    train, scaling = configs_from_args(args)
    if args.suite in ("all", "train-step"):
        results, path = run_train_step(train, args.out)
        print(format_train_step_table(results))
        print(f"\nwrote {path}")
    if args.suite in ("all", "scaling"):
        results, path = run_scaling(scaling, args.out)
        print(format_scaling_table(results))
        print(f"\nwrote {path} and {', '.join(results['figures'].values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
