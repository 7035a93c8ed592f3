"""The subprocess probe of peak training memory, full against truncated BPTT."""

import json
import subprocess
import sys

import pytest

from rnn_tf.bptt import memory_probe

pytestmark = pytest.mark.skipif(not memory_probe.peak_memory_supported(),
                                reason="peak memory is read from /proc (Linux only)")


def test_each_point_is_a_fresh_process_reporting_its_own_peak():
    # The kernel's own count of a process's children's peak (RUSAGE_CHILDREN) is an
    # independent reading of the same thing. It is read in a fresh Python process, whose only
    # children are the probe's two: in the test process itself, subprocess reaps children
    # left by earlier tests at any new Popen, which would raise that count.
    script = (
        "import json, resource\n"
        "from rnn_tf.bptt import memory_probe\n"
        "memory = memory_probe.peak_memory_by_length((4,), truncate=2, batch=2, units=4,"
        " features=2)\n"
        "print(json.dumps([memory[4], resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    memory, children_kb = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(memory) == {"full", "truncated"}
    assert max(memory.values()) == pytest.approx(children_kb / 1024, rel=0.02)  # kB on Linux
    assert min(memory.values()) > 50  # a Python process that imported TensorFlow


def test_a_failing_measurement_raises_with_its_error_output(monkeypatch):
    monkeypatch.setattr(memory_probe, "_command", lambda spec: [
        sys.executable, "-c", "import sys; sys.stderr.write('out of memory here'); sys.exit(3)"])
    with pytest.raises(RuntimeError, match="exit code 3.*\n.*out of memory here"):
        memory_probe.peak_memory_by_length((5,), truncate=2)


def test_a_child_that_prints_no_result_is_a_failure(monkeypatch):
    monkeypatch.setattr(memory_probe, "_command", lambda spec: [sys.executable, "-c", "pass"])
    with pytest.raises(RuntimeError, match="exit code 0"):
        memory_probe.peak_memory_by_length((5,), truncate=2)


@pytest.mark.parametrize("arguments, name", [
    ({"lengths": (), "truncate": 2}, "lengths"),
    ({"lengths": (10, 0), "truncate": 2}, "lengths"),
    ({"lengths": (10,), "truncate": 0}, "truncate"),
    ({"lengths": (10,), "truncate": None}, "truncate"),
    ({"lengths": (10,), "truncate": 2, "batch": 1.5}, "batch"),
    ({"lengths": (10,), "truncate": 2, "units": -1}, "units"),
])
def test_bad_arguments_raise_naming_them(arguments, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        memory_probe.peak_memory_by_length(**arguments)


def test_a_system_without_proc_raises_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(memory_probe, "STATUS", tmp_path / "no_such_status")
    assert not memory_probe.peak_memory_supported()
    with pytest.raises(OSError, match="Linux only"):
        memory_probe.peak_memory_by_length((5,), truncate=2)


def test_the_child_entry_point_refuses_a_missing_spec(capsys):
    assert memory_probe.main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_a_failing_measurement_leaves_no_other_measurement_running(monkeypatch):
    started = []
    real_popen = subprocess.Popen

    def popen(command, **kwargs):
        started.append(real_popen(command, **kwargs))
        return started[-1]

    commands = iter([
        [sys.executable, "-c", "import sys; sys.exit(3)"],                 # "full" fails
        [sys.executable, "-c", "import time; time.sleep(600)"],            # "truncated" hangs
    ])
    monkeypatch.setattr(memory_probe, "_command", lambda spec: next(commands))
    monkeypatch.setattr(memory_probe.subprocess, "Popen", popen)
    with pytest.raises(RuntimeError, match="exit code 3"):
        memory_probe.peak_memory_by_length((5,), truncate=2)
    assert len(started) == 2 and all(run.poll() is not None for run in started)
