"""Where one training step's time goes: `python -m benchmarks profile`.

Runs a contender's training step (see contenders.py) under TensorFlow's profiler, reads
the trace it writes (an XSpace protobuf, the file TensorBoard's profile plugin reads)
and prints two views of it:

- time per op: each op's time per step, by thread, without the executor's own wrapper
  events. XLA computations show their parts by HLO name (`while.3` is a time loop,
  `MatMul.4` a matmul inside the computation).
- the timeline of the median step: every event of at least `min_us`, with its start
  relative to the step. Threads named `tf_Compute` run TensorFlow's ops; threads named
  `..._Eigen` are TensorFlow's intra-op pool, where XLA:CPU also runs its computations,
  so two events there at once are two cores busy.

The profiler adds its own overhead, so compare its times with each other, not with the
bench's. Only TensorFlow contenders can be profiled: PyTorch's work is not in the trace.
"""

from __future__ import annotations

import bisect
import pathlib
import statistics
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from benchmarks.contenders import CONTENDERS, Shape, build_contender, make_data
from benchmarks.machine import machine_info
from benchmarks.report import write_json

STEP_MARKER = "benchmark_step"
# Bookkeeping, one event per op or per buffer: left out of both views.
BOOKKEEPING = frozenset({"ExecutorState::Process", "ExecutorState::ProcessAsync::Done",
                         "MemoryAllocation", "MemoryDeallocation"})
# Events that only wrap the work below them (the executor running a graph, an XLA
# computation being launched or waited for): left out of the time per op too.
WRAPPERS = BOOKKEEPING | {
    STEP_MARKER, "EagerExecute", "TFE_Py_ExecuteCancelable", "EagerKernelExecute",
    "KernelAndDeviceFunc::Run", "FunctionRun", "ExecutorState::ProcessAsync::Start",
    "CpuExecutable::ExecuteAsyncOnStream", "ThunkExecutor::Execute", "BlockUntilReady",
    "ExecutorDoneCallback", "ParallelFor",
}
WRAPPER_PREFIXES = ("EagerLocalExecute", "ThreadpoolListener", "end: ", "__inference_")


@dataclass(frozen=True)
class TraceEvent:
    thread: str          # the trace's line name, e.g. "tf_Compute/123" or "python"
    name: str
    start_us: float
    duration_us: float

    @property
    def end_us(self) -> float:
        return self.start_us + self.duration_us


@dataclass
class ProfileConfig:
    contenders: tuple[str, ...] = ("vanilla_fit",)
    shape: Shape = field(default_factory=Shape)
    steps: int = 20
    warmup: int = 10
    min_us: float = 50.0


def is_wrapper(name: str) -> bool:
    return name in WRAPPERS or name.startswith(WRAPPER_PREFIXES)


def read_events(logdir) -> list[TraceEvent]:
    """Every event of the newest `*.xplane.pb` under `logdir`, in microseconds."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(pathlib.Path(logdir).rglob("*.xplane.pb"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise FileNotFoundError(f"no *.xplane.pb under {logdir}: the profiler wrote no trace")
    space = xplane_pb2.XSpace()
    space.ParseFromString(files[-1].read_bytes())
    events = []
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                start_ps = line.timestamp_ns * 1000 + event.offset_ps
                events.append(TraceEvent(line.name, names.get(event.metadata_id, "?"),
                                         start_ps / 1e6, event.duration_ps / 1e6))
    return events


def steps_of(events: list[TraceEvent]) -> list[TraceEvent]:
    """The step markers, in time order."""
    return sorted((e for e in events if e.name == STEP_MARKER), key=lambda e: e.start_us)


def check_profilable(names) -> None:
    """Raise ValueError naming a contender whose work TensorFlow's profiler cannot see."""
    for name in names:
        if CONTENDERS[name][1] == "torch":
            raise ValueError(f"Argument `contenders` must be TensorFlow contenders: TensorFlow's "
                             f"profiler does not see PyTorch's work; received {name!r}")


def _within(events, step: TraceEvent):
    return [e for e in events if step.start_us <= e.start_us < step.end_us]


def _step_of(starts: list[float], steps: list[TraceEvent], event: TraceEvent):
    """The step `event` starts in (`starts`: the steps' starts, in order), or None."""
    index = bisect.bisect_right(starts, event.start_us) - 1
    if index >= 0 and event.start_us < steps[index].end_us:
        return steps[index]
    return None


def time_per_op(events: list[TraceEvent], steps: list[TraceEvent]) -> list[dict]:
    """Per (thread kind, op) its time and calls per step, inside the steps, longest first.

    Threads of one kind (the `tf_Compute/...` ones, the pool's) are summed: which of two
    identical threads ran an op is chance.
    """
    if not steps:
        raise ValueError("no step markers in the trace: nothing to divide by")
    total = defaultdict(float)
    calls = defaultdict(int)
    starts = [step.start_us for step in steps]
    for event in events:  # one pass: a trace holds thousands of events per step
        if is_wrapper(event.name) or _step_of(starts, steps, event) is None:
            continue
        key = (event.thread.split("/")[0], event.name)
        total[key] += event.duration_us
        calls[key] += 1
    rows = [{"threads": kind, "op": name, "ms_per_step": total[(kind, name)] / len(steps) / 1e3,
             "calls_per_step": calls[(kind, name)] / len(steps)} for kind, name in total]
    return sorted(rows, key=lambda row: -row["ms_per_step"])


def step_timeline(events: list[TraceEvent], step: TraceEvent, min_us: float) -> list[dict]:
    """The events of `step` that last at least `min_us`, by start (µs from the step's)."""
    rows = [{"start_us": e.start_us - step.start_us, "duration_us": e.duration_us,
             "thread": e.thread, "name": e.name}
            for e in _within(events, step)
            if e.duration_us >= min_us and e.name not in BOOKKEEPING
            and not e.name.startswith(WRAPPER_PREFIXES)]
    return sorted(rows, key=lambda row: (row["start_us"], row["thread"]))


def median_step(steps: list[TraceEvent]) -> TraceEvent:
    ordered = sorted(steps, key=lambda s: s.duration_us)
    return ordered[(len(ordered) - 1) // 2]


def profile_contender(name: str, config: ProfileConfig) -> dict:
    """Run `config.steps` training steps of `name` under the profiler; both views."""
    import tensorflow as tf

    check_profilable([name])
    x, y = make_data(config.shape)
    contender = build_contender(name, config.shape, x, y)
    for _ in range(config.warmup):
        contender.train()
    with tempfile.TemporaryDirectory(prefix="rnn_tf_profile_") as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            for number in range(config.steps):
                with tf.profiler.experimental.Trace(STEP_MARKER, step_num=number, _r=1):
                    contender.train()
        finally:
            tf.profiler.experimental.stop()
        events = read_events(logdir)
    steps = steps_of(events)
    if len(steps) != config.steps:
        raise RuntimeError(f"the trace holds {len(steps)} of the {config.steps} steps run")
    middle = median_step(steps)
    return {
        "contender": name,
        "step_ms": [s.duration_us / 1e3 for s in steps],
        "median_step_ms": statistics.median(s.duration_us for s in steps) / 1e3,
        "ops": time_per_op(events, steps),
        "timeline": step_timeline(events, middle, config.min_us),
    }


def run_profile(config: ProfileConfig, out) -> tuple[dict, pathlib.Path]:
    results = {
        "suite": "profile",
        "machine": machine_info(),
        "shape": asdict(config.shape),
        "steps": config.steps,
        "min_us": config.min_us,
        "profiles": [profile_contender(name, config) for name in config.contenders],
    }
    return results, write_json(results, out, "profile")


def _short(name: str, width: int = 80) -> str:
    """The end of a long op name: TensorFlow's names end with what the op is."""
    return name if len(name) <= width else "…" + name[-(width - 1):]


def format_profile(results: dict, top: int = 25) -> str:
    lines = []
    for profile in results["profiles"]:
        lines.append(f"\n{profile['contender']}: {len(profile['step_ms'])} steps under the "
                     f"profiler, median {profile['median_step_ms']:.2f} ms\n")
        lines.append("| threads | op | ms per step | calls per step |")
        lines.append("| --- | --- | --- | --- |")
        for row in profile["ops"][:top]:
            lines.append(f"| {row['threads']} | {_short(row['op'])} | {row['ms_per_step']:.3f} "
                         f"| {row['calls_per_step']:g} |")
        lines.append(f"\nTimeline of the median step (events of {results['min_us']:g} µs or "
                     "more; µs from its start):\n")
        lines.append("| start | duration | thread | event |")
        lines.append("| --- | --- | --- | --- |")
        for row in profile["timeline"]:
            lines.append(f"| {row['start_us']:.0f} | {row['duration_us']:.0f} | {row['thread']} "
                         f"| {_short(row['name'])} |")
    return "\n".join(lines)

