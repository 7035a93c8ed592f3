"""What the numbers depend on: the CPU, memory, library versions, thread settings and load."""

from __future__ import annotations

import datetime
import os
import pathlib
import platform
import re
from typing import Any, Callable

import numpy as np

from rnn_tf._machine import cpu_model, usable_cpus


def memory_total_mb() -> float | None:
    try:
        text = pathlib.Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"MemTotal:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else None


def process_status_kb(field_name: str) -> int | None:
    """A kB field of /proc/self/status (VmRSS, VmHWM, ...), or None off Linux."""
    try:
        text = pathlib.Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field_name}:\s+(\d+) kB", text, flags=re.M)
    return int(match.group(1)) if match else None


def _vector_units(flags: set[str]) -> str:
    """The widest vector unit, and the matrix unit (AMX) where there is one."""
    widest = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"))
                   if flag in flags), "no AVX2")
    return f"{widest}, AMX" if "amx_tile" in flags else widest


def cpu_identity(cpuinfo: str | None = None) -> str | None:
    """Vendor, family, model, stepping and widest vector unit, from /proc/cpuinfo.

    A model name such as "AMD EPYC" is shared by CPU generations that run the same
    code at different speeds; these fields tell them apart (AMD family 26 is Zen 5).
    """
    if cpuinfo is None:
        try:
            cpuinfo = pathlib.Path("/proc/cpuinfo").read_text()
        except OSError:
            return None

    def field(name: str) -> str | None:
        match = re.search(rf"^{name}\s*:\s*(.*)$", cpuinfo, flags=re.M)
        return match.group(1).strip() if match else None

    vendor = field("vendor_id")
    if vendor is None:
        return None
    flags = set((field("flags") or "").split())
    return (f"{vendor} family {field('cpu family')} model {field('model')} "
            f"stepping {field('stepping')}, {_vector_units(flags)}")


def describe_cpu(machine: dict) -> str:
    """The CPU as the tables name it: model name, then its identity when known."""
    name = machine.get("cpu_model") or "unknown CPU"
    identity = machine.get("cpu_identity")
    return f"{name} ({identity})" if identity else name


def load_average() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def _torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def machine_info() -> dict[str, Any]:
    """CPU, memory, library versions, thread settings and load at the start of a run."""
    import keras
    import tensorflow as tf

    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable_cpus(),
        "cpu_model": cpu_model(),
        "cpu_identity": cpu_identity(),
        "mem_total_mb": memory_total_mb(),
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
        "loadavg_start": load_average(),
    }


def noise_notes(machine: dict) -> list[str]:
    """Warnings about the run: other processes loaded the machine."""
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


def matmul_task(n: int = 2048) -> Callable[[], Any]:
    """A compiled `tf.matmul` of two n x n float32 matrices: the machine's reachable GFLOP/s."""
    import tensorflow as tf

    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4))
    # Reduce to a scalar so the timing is not a copy of n*n floats back to Python.
    fn = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    return lambda: fn().numpy()
