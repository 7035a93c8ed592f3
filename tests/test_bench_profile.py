"""`python -m benchmarks profile`: reading TensorFlow's trace into time per op and a
step's timeline. The trace files here are built by hand with known events; one run of
the command checks it profiles a real step. Nothing here checks a speed."""

import json

import pytest

from benchmarks import profile_step
from tests.test_bench import run_bench

xplane_pb2 = pytest.importorskip("tensorflow.tsl.profiler.protobuf.xplane_pb2")

STEP = profile_step.STEP_MARKER


def _write_trace(folder, lines):
    """An XSpace with one plane; `lines` maps a thread name to (event, start µs, µs) tuples."""
    space = xplane_pb2.XSpace()
    plane = space.planes.add(name="/host:CPU")
    ids = {}
    for thread, events in lines.items():
        line = plane.lines.add(name=thread, timestamp_ns=1_000_000)
        for name, start_us, duration_us in events:
            if name not in ids:
                ids[name] = len(ids) + 1
                plane.event_metadata[ids[name]].id = ids[name]
                plane.event_metadata[ids[name]].name = name
            line.events.add(metadata_id=ids[name], offset_ps=int(start_us * 1e6),
                            duration_ps=int(duration_us * 1e6))
    path = folder / "plugins" / "profile" / "run" / "host.xplane.pb"
    path.parent.mkdir(parents=True)
    path.write_bytes(space.SerializeToString())


TRACE = {
    "python": [(STEP, 0, 1000), ("EagerExecute", 10, 900), (STEP, 2000, 1000),
               ("FunctionRun", 2010, 900)],
    "tf_Compute/1": [("MatMul", 100, 200), ("MatMul", 2100, 400), ("MemoryDeallocation", 2600, 60)],
    "tf_Compute/2": [("MatMul", 2500, 100), ("MatMul", 5000, 700)],   # the second: after the steps
    "tf_numa_-1_Eigen/7": [("while.3", 300, 500), ("ThunkExecutor::Execute", 290, 520)],
}


def test_time_per_op_sums_threads_of_a_kind_inside_the_steps_without_wrappers(tmp_path):
    _write_trace(tmp_path, TRACE)
    events = profile_step.read_events(tmp_path)
    steps = profile_step.steps_of(events)
    assert [(s.start_us - 1000, s.duration_us) for s in steps] == [(0, 1000), (2000, 1000)]

    rows = {(r["threads"], r["op"]): r for r in profile_step.time_per_op(events, steps)}
    assert set(rows) == {("tf_Compute", "MatMul"), ("tf_numa_-1_Eigen", "while.3")}
    # (200 + 400 + 100) µs over 2 steps; the MatMul after the last step does not count.
    assert rows[("tf_Compute", "MatMul")]["ms_per_step"] == pytest.approx(0.35)
    assert rows[("tf_Compute", "MatMul")]["calls_per_step"] == 1.5
    assert rows[("tf_numa_-1_Eigen", "while.3")]["ms_per_step"] == pytest.approx(0.25)
    ordered = [r["op"] for r in profile_step.time_per_op(events, steps)]
    assert ordered == ["MatMul", "while.3"]        # longest first


def test_timeline_is_relative_to_its_step_and_keeps_long_events(tmp_path):
    _write_trace(tmp_path, TRACE)
    events = profile_step.read_events(tmp_path)
    second = profile_step.steps_of(events)[1]
    timeline = profile_step.step_timeline(events, second, min_us=150)
    assert [(r["start_us"], r["duration_us"], r["thread"], r["name"]) for r in timeline] == [
        (0, 1000, "python", STEP), (10, 900, "python", "FunctionRun"),
        (100, 400, "tf_Compute/1", "MatMul"),
    ]  # the 100 µs MatMul is too short, deallocations are bookkeeping


def test_the_median_step_is_the_middle_one_by_duration(tmp_path):
    _write_trace(tmp_path, {"python": [(STEP, 0, 30), (STEP, 100, 10), (STEP, 200, 20)]})
    steps = profile_step.steps_of(profile_step.read_events(tmp_path))
    assert profile_step.median_step(steps).duration_us == 20


def test_a_folder_without_a_trace_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        profile_step.read_events(tmp_path)
    with pytest.raises(ValueError, match="no step markers"):
        profile_step.time_per_op([], [])


def test_profile_command_profiles_the_fused_layer_in_keras(tmp_path):
    result = run_bench("profile", "--quick", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| threads | op | ms per step | calls per step |" in result.stdout
    results = json.loads((tmp_path / "profile_latest.json").read_text())
    (profile,) = results["profiles"]
    assert profile["contender"] == "vanilla_fit" and len(profile["step_ms"]) == 2
    ops = {row["op"] for row in profile["ops"]}
    # The fused op's two XLA time loops (forward and backward) ran in the profiled steps.
    assert sum(op.startswith("while") for op in ops) >= 2
    assert not ops & profile_step.WRAPPERS
    assert profile["timeline"][0]["name"] == STEP and profile["timeline"][0]["start_us"] == 0


def test_profile_steps_must_be_positive(tmp_path):
    result = run_bench("profile", "--profile-steps", "0", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "argument --profile-steps: must be a positive integer; received 0" in result.stderr


def test_a_long_op_name_keeps_its_end_in_the_table():
    name = "gradient_tape/simple_rnn_1/while/" * 4 + "MatMul_1:_MklMatMul"
    results = {"min_us": 50.0, "profiles": [{
        "contender": "simple_rnn", "step_ms": [1.0], "median_step_ms": 1.0,
        "ops": [{"threads": "tf_Compute", "op": name, "ms_per_step": 0.5, "calls_per_step": 1}],
        "timeline": [],
    }]}
    row = next(line for line in profile_step.format_profile(results).splitlines()
               if line.startswith("| tf_Compute"))
    shown = row.split(" | ")[1]
    assert len(shown) == 80 and shown.startswith("…") and shown.endswith("MatMul_1:_MklMatMul")


def test_the_torch_contender_cannot_be_profiled(tmp_path):
    result = run_bench("profile", "--contenders", "torch_rnn", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "profile reads TensorFlow's trace" in result.stderr and "torch_rnn" in result.stderr
    with pytest.raises(ValueError, match="TensorFlow contender"):
        profile_step.profile_contender("torch_rnn", profile_step.ProfileConfig())
