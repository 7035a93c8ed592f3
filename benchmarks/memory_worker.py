"""One memory point of the scaling suite, in a process of its own.

    python -m benchmarks.memory_worker '{"mode": "full", "timesteps": 1000, "batch": 16,
        "input_dim": 32, "units": 128, "output_dim": 32, "truncate": null}'

prints one line ``RESULT {...}`` (JSON) with the peak resident set size while training.
`benchmarks.scaling` starts one such process per point, so no point inherits another's memory.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

from benchmarks.contenders import Shape, make_data
from benchmarks.machine import process_status_kb


def measure_memory(spec: dict) -> dict:
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
    rss_before = process_status_kb("VmRSS")
    peak_reset = True
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        peak_reset = False  # VmHWM then also covers the imports: an upper bound
    start = time.perf_counter()
    for _ in range(spec.get("steps", 2)):
        trainer.train_on_batch(x_t, y_t)
    seconds = (time.perf_counter() - start) / spec.get("steps", 2)
    hwm = process_status_kb("VmHWM")
    return {
        "peak_rss_mb": hwm / 1024 if hwm else None,
        "rss_before_mb": rss_before / 1024 if rss_before else None,
        "growth_mb": (hwm - rss_before) / 1024 if hwm and rss_before else None,
        "input_mb": (x.nbytes + y.nbytes) / 2**20,
        "peak_reset": peak_reset,
        "seconds_per_batch": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m benchmarks.memory_worker '<JSON spec>'", file=sys.stderr)
        return 2
    print("RESULT " + json.dumps(measure_memory(json.loads(argv[0]))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
