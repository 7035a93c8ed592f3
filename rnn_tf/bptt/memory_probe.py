"""Peak memory of BPTT training, full against truncated, each measured in a fresh process.

A process's peak resident memory (`VmHWM` in `/proc/self/status`, Linux only) never goes
down, so one process cannot measure several settings: each point here is a new Python
process that builds a `VanillaRNN` (through `state_passing_model`), trains it on one batch
with `BPTTTrainer(truncate=...)` and prints its own peak. The peak includes the Python
interpreter and TensorFlow themselves; what differs between the points is the training.

    memory = peak_memory_by_length((100, 1000), truncate=50)
    memory[1000]["full"], memory[1000]["truncated"]      # MB

The child is this module run as a script: `python -m rnn_tf.bptt.memory_probe '<JSON>'`.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

from rnn_tf._checks import check_positive_int
from rnn_tf._machine import peak_resident_mb

STATUS = pathlib.Path("/proc/self/status")
RESULT_PREFIX = "PEAK_MEMORY_MB "


def peak_memory_supported() -> bool:
    """Whether this system reports a process's peak memory (Linux, Colab)."""
    return STATUS.exists()


def _spec(steps: int, truncate: int | None, batch: int, units: int, features: int,
          seed: int) -> dict:
    return {"steps": steps, "truncate": truncate, "batch": batch, "units": units,
            "features": features, "seed": seed}


def _command(spec: dict) -> list[str]:
    return [sys.executable, "-m", "rnn_tf.bptt.memory_probe", json.dumps(spec)]


def peak_memory_by_length(
    lengths,
    truncate: int,
    *,
    batch: int = 128,
    units: int = 128,
    features: int = 8,
    seed: int = 0,
) -> dict[int, dict[str, float]]:
    """Peak resident memory (MB) of one training batch, full and truncated BPTT, at each T.

    For every sequence length T in `lengths`, two fresh processes run side by side (each
    reads only its own peak): full BPTT and `BPTTTrainer(truncate=truncate)`, on `batch`
    sequences of T steps with `features` inputs, a `units`-wide `VanillaRNN` and as many
    output classes as inputs.

    Returns:
        `{T: {"full": MB, "truncated": MB}}` in the order of `lengths`.

    Raises:
        ValueError: an argument is not a positive integer, or `lengths` is empty.
        OSError: the system does not report peak memory (see `peak_memory_supported`).
        RuntimeError: a measuring process failed (its error output is included).
    """
    lengths = [check_positive_int(steps, "lengths") for steps in lengths]
    if not lengths:
        raise ValueError("Argument `lengths` must hold at least one sequence length; received "
                         "an empty collection")
    truncate = check_positive_int(truncate, "truncate")
    sizes = {name: check_positive_int(value, name) for name, value in
             (("batch", batch), ("units", units), ("features", features))}
    if not peak_memory_supported():
        raise OSError(f"Peak memory is read from {STATUS}, which this system does not have "
                      "(Linux only)")
    memory = {}
    for steps in lengths:
        specs = {"full": _spec(steps, None, seed=seed, **sizes),
                 "truncated": _spec(steps, truncate, seed=seed, **sizes)}
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        runs = {mode: subprocess.Popen(_command(spec), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=env)
                for mode, spec in specs.items()}
        try:
            memory[steps] = {mode: _peak_mb(run, specs[mode]) for mode, run in runs.items()}
        finally:
            # When one measurement fails, the other is not left running.
            for run in runs.values():
                if run.poll() is None:
                    run.kill()
                    run.communicate()
    return memory


def _peak_mb(run: subprocess.Popen, spec: dict) -> float:
    out, err = run.communicate()
    found = re.search(rf"^{RESULT_PREFIX}([0-9.]+)$", out, re.M)
    if run.returncode != 0 or not found:
        raise RuntimeError(
            f"The memory measurement {spec} failed (exit code {run.returncode}):\n{err[-2000:]}"
        )
    return float(found.group(1))


def measure(spec: dict) -> float:
    """Train one batch as `spec` says, in this process; return its peak memory in MB."""
    import keras
    import numpy as np

    from rnn_tf.bptt import BPTTTrainer, state_passing_model
    from rnn_tf.layers import VanillaRNN

    keras.utils.set_random_seed(spec["seed"])
    shape = (spec["batch"], spec["steps"], spec["features"])
    x = np.random.default_rng(spec["seed"]).normal(size=shape).astype("float32")
    y = np.zeros(shape[:2], "int64")
    layer = VanillaRNN(spec["units"], output_dim=spec["features"], return_sequences=True,
                       return_state=True)
    model = state_passing_model(layer, input_dim=spec["features"])
    BPTTTrainer(model, from_logits=True, truncate=spec["truncate"], verbose=0).fit(
        x, y, batch_size=spec["batch"])
    return peak_resident_mb()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m rnn_tf.bptt.memory_probe '<JSON spec>'", file=sys.stderr)
        return 2
    print(f"{RESULT_PREFIX}{measure(json.loads(argv[0]))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
