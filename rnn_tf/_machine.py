"""Facts about the machine that more than one module decides by."""

import os
import pathlib
import platform
import re


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def peak_resident_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident memory so far in MB (VmHWM of /proc/<pid>/status), or None.

    Only Linux keeps this high-water mark per process; elsewhere callers say "not
    measured" rather than guess (`resource.getrusage` counts kB on Linux but bytes on
    macOS).
    """
    try:
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, flags=re.M)
    return int(match.group(1)) / 1024 if match else None


def cpu_model() -> str | None:
    """The CPU's model name (from /proc/cpuinfo on Linux), or None when unknown."""
    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or None
    match = re.search(r"^model name\s*:\s*(.+)$", text, flags=re.M)
    return match.group(1).strip() if match else None
