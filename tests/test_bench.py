"""The benchmark suite (`benchmarks/`, run as `python -m benchmarks` like `make bench`): it runs
at tiny sizes, prints its tables and writes JSON of the documented shape. Nothing here checks a
speed."""

import json
import logging
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from benchmarks import contenders, machine, report, timing, train_step
from benchmarks.contenders import QUICK_SHAPE, build_contender, make_data

ROOT = pathlib.Path(__file__).resolve().parents[1]
# `python -m benchmarks` in a Python where `import torch` fails as if it were not installed.
HIDE_TORCH_AND_RUN = """
import importlib.abc, runpy, sys

class HideTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, HideTorch())
sys.argv = ["benchmarks", *sys.argv[1:]]
runpy.run_module("benchmarks", run_name="__main__", alter_sys=True)
"""

TRAIN_ROW_KEYS = {
    "name", "label", "framework", "gates", "skipped", "flops_train", "flops_infer", "decisions",
    *(f"{phase}_{key}" for phase in ("train", "infer") for key in (
        "ms", "p25_ms", "p75_ms", "min_ms", "n", "first_call_s", "seq_per_s", "gflops",
        "frac_of_peak",
    )),
}  # fmt: skip
TARGET_KEYS = {
    "target", "contender", "phase", "versus", "at_most", "ratio", "round_ratios",
    "rounds_within", "verdict", "met",
}  # fmt: skip


def _is_positive_number(value):
    return isinstance(value, (int, float)) and value > 0


def run_bench(*args, torch_absent=False):
    """`python -m benchmarks ...` from the repository root, as the Makefile runs it."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-m", "benchmarks", *args]
    if torch_absent:  # a machine without PyTorch: its contender must be skipped, not crash
        command = [sys.executable, "-c", HIDE_TORCH_AND_RUN, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=900, check=False)


def test_the_makefile_runs_the_bench_command_line():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(PY) -m benchmarks --out benchmarks/results" in makefile


def test_help_lists_the_options():
    proc = run_bench("--help")
    assert proc.returncode == 0, proc.stderr
    for option in ("--out", "--quick", "--contenders", "--repeats", "--rounds", "--no-memory",
                   "train-step", "scaling"):
        assert option in proc.stdout, option


def test_out_that_is_a_file_is_a_one_line_error(tmp_path):
    (tmp_path / "file").write_text("")
    proc = run_bench("--quick", "--out", str(tmp_path / "file" / "results"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "argument --out" in proc.stderr


def test_flop_formula_of_the_default_shapes():
    s = contenders.Shape()
    args = (s.batch, s.timesteps, s.input_dim, s.units, s.output_dim)
    assert contenders.rnn_flops(*args) == 891_289_600
    assert contenders.rnn_flops(*args, training=False) == 314_572_800
    # A GRU's three gate blocks triple the cell's matmuls, not the head's.
    assert contenders.rnn_flops(*args, gates=3, training=False) == 2 * 64 * 100 * (
        3 * 32 * 128 + 3 * 128 * 128 + 128 * 32
    )


def test_loglog_slope_recovers_the_exponent():
    xs = np.array([10, 100, 1000])
    assert timing.fit_loglog_slope(xs, 3.0 * xs**2) == pytest.approx(2.0)
    assert timing.fit_loglog_slope([10], [1.0]) is None


def test_targets_are_named_by_what_they_measure():
    names = {(t.contender, t.name) for t in train_step.TARGETS}
    assert ("vanilla_bptt_xla", "train step vs SimpleRNN <= 0.7x") in names
    assert ("vanilla_fit", "inference vs torch.nn.RNN <= 0.8x") in names
    for target in train_step.TARGETS:
        assert target.contender in contenders.CONTENDERS
        assert target.versus in contenders.CONTENDERS


@pytest.mark.slow
def test_train_step_suite_prints_the_table_and_writes_its_json(tmp_path):
    proc = run_bench("train-step", "--quick", "--out", str(tmp_path), torch_absent=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = proc.stdout
    assert "| contender | train ms" in printed
    assert "| vanilla_bptt |" in printed and "| simple_rnn |" in printed
    assert "torch_rnn | skipped" in printed
    assert "vanilla_bptt: train step vs SimpleRNN <= 0.7x: ratio " in printed
    assert "issue" not in printed.lower()
    assert "| contender | train ms | vs SimpleRNN | inference ms | vs SimpleRNN |" in printed
    assert "| keras SimpleRNN + Dense | " in printed and " | 1.00x | " in printed

    results = json.loads((tmp_path / "train_step_latest.json").read_text())
    assert len(list(tmp_path.glob("train_step_2*.json"))) == 1
    assert not list(tmp_path.glob(".*.tmp"))
    assert f"wrote {next(tmp_path.glob('train_step_2*.json'))}" in printed
    assert results["suite"] == "train_step"
    assert results["schema_version"] == train_step.SCHEMA_VERSION
    for key in ("date_utc", "cpu_count", "cpus_usable", "cpu_model", "cpu_identity",
                "tensorflow", "keras", "numpy", "torch"):
        assert key in results["machine"]
    assert results["config"]["shape"] == vars(QUICK_SHAPE)
    assert _is_positive_number(results["peak"]["gflops"])

    rows = {row["name"]: row for row in results["contenders"]}
    assert list(rows) == results["config"]["contenders"]
    for name, row in rows.items():
        assert set(row) == TRAIN_ROW_KEYS, name
    assert "not installed" in rows["torch_rnn"]["skipped"]
    # jit_compile=False: the trainer never splits, so there was nothing to time.
    assert rows["vanilla_bptt"]["decisions"] == {
        "batch_slices": 1, "split_measurement": None, "first_step_s": None
    }
    assert rows["simple_rnn"]["decisions"] is None
    assert rows["torch_rnn"]["train_ms"] is None
    for name in ("vanilla_bptt", "simple_rnn"):
        assert rows[name]["skipped"] is None
        for key in ("train_ms", "infer_ms", "train_seq_per_s", "train_gflops"):
            assert _is_positive_number(rows[name][key]), (name, key)

    ratios = results["ratios"]["vanilla_bptt"]
    assert _is_positive_number(ratios["train_vs_simple_rnn"])
    assert ratios["train_vs_torch_rnn"] is None
    assert {t["contender"] for t in results["targets"]} == {"vanilla_bptt"}
    assert "train step vs SimpleRNN <= 0.7x" in {t["target"] for t in results["targets"]}
    for target in results["targets"]:
        assert set(target) == TARGET_KEYS
        assert target["verdict"] in ("met", "not met", "mixed", "n/a")
        assert target["met"] == {"met": True, "not met": False}.get(target["verdict"])
        if target["versus"] == "torch_rnn":  # torch is absent
            assert target["ratio"] is None
            assert target["round_ratios"] == [] and target["verdict"] == "n/a"
        else:  # --quick runs two rounds
            assert len(target["round_ratios"]) == 2
            assert all(_is_positive_number(r) for r in target["round_ratios"])
    assert "rounds " in printed and " within) -> " in printed


def test_round_ratios_pair_each_rounds_medians():
    ours = timing.Timing(rounds_ms=[[1.0, 3.0, 2.0], [10.0, 12.0]])
    other = timing.Timing(rounds_ms=[[4.0, 4.0, 4.0], [20.0, 24.0]])
    assert timing.round_ratios(ours, other) == [0.5, 0.5]


@pytest.mark.parametrize(
    "ratios, verdict",
    [([0.6, 0.7], "met"), ([0.71, 0.9], "not met"), ([0.6, 0.75], "mixed"), ([], "n/a")],
)
def test_a_target_is_met_only_when_every_round_meets_it(ratios, verdict):
    assert timing.target_verdict(ratios, at_most=0.7) == verdict


def test_interleaving_keeps_the_samples_of_each_round():
    calls = []
    timings = timing.time_interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        repeats=6,
        rounds=3,
        warmup=0,
    )
    for result in timings.values():
        assert [len(r) for r in result.rounds_ms] == [2, 2, 2]
        assert sum(result.rounds_ms, []) == result.samples_ms
    # Rounds rotate the order, so neither task always runs first.
    assert calls == ["a", "a", "b", "b", "b", "b", "a", "a", "a", "a", "b", "b"]


KERAS_CONTENDERS = [name for name in contenders.CONTENDERS if name != "torch_rnn"]


@pytest.mark.slow
@pytest.mark.parametrize("name", KERAS_CONTENDERS)
def test_every_keras_contender_trains_and_infers(name):
    x, y = make_data(QUICK_SHAPE)
    contender = build_contender(name, QUICK_SHAPE, x, y)
    contender.train()
    assert tuple(contender.infer().shape) == (4, 8, 3)


def test_an_unknown_contender_is_named():
    x, y = make_data(QUICK_SHAPE)
    with pytest.raises(ValueError, match="Argument `name` must be one of .* name='nope'"):
        build_contender("nope", QUICK_SHAPE, x, y)


@pytest.mark.slow
def test_inference_of_many_contenders_traces_each_once_without_a_retracing_warning(caplog):
    # One inference function per contender is intended; TensorFlow must not call it
    # "excessive retracing" (it keys its warning by the function's code, not the instance).
    x, y = make_data(QUICK_SHAPE)
    infers = [build_contender("simple_rnn", QUICK_SHAPE, x, y).infer for _ in range(6)]
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for infer in infers:
            for _ in range(3):
                infer()
    retracing = [r.getMessage() for r in caplog.records if "retracing" in r.getMessage()]
    assert retracing == []


def test_torch_contender_runs_when_torch_is_installed():
    pytest.importorskip("torch")
    x, y = make_data(QUICK_SHAPE)
    contender = build_contender("torch_rnn", QUICK_SHAPE, x, y, torch_threads=1)
    loss = contender.train()
    assert np.isfinite(loss)
    assert tuple(contender.infer().shape) == (4, 8, 3)


@pytest.mark.slow
def test_scaling_suite_writes_json_plots_and_tables(tmp_path):
    proc = run_bench("scaling", "--quick", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = proc.stdout
    assert "Time vs timesteps" in printed and "Time vs units" in printed
    assert "Peak RSS growth while training" in printed

    results = json.loads((tmp_path / "scaling_latest.json").read_text())
    assert results["suite"] == "scaling"
    for section, param in (("time_vs_timesteps", "timesteps"), ("time_vs_units", "units")):
        points = results[section]["points"]
        assert sorted(p[param] for p in points) == sorted(results["config"][f"{param}_grid"])
        assert all(_is_positive_number(p["train_ms"]) for p in points)
        slopes = results[section]["slopes"]["vanilla_bptt"]
        assert set(slopes) == {"train_all", "train_upper_half", "infer_all", "infer_upper_half"}
    memory = results["memory_vs_timesteps"]["points"]
    assert {p["mode"] for p in memory} == {"full", "truncated"}
    for point in memory:
        assert "error" not in point, point.get("error")
        assert _is_positive_number(point["peak_rss_mb"])
    assert set(results["figures"]) == {"time_vs_timesteps", "time_vs_units",
                                       "memory_vs_timesteps"}
    for png in results["figures"].values():
        assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    stamped = next(tmp_path.glob("scaling_2*.json"))
    assert json.loads(stamped.read_text())["figures"] == results["figures"]


def test_plots_return_figures_without_pyplot_state():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    results = {
        "config": {"contenders": ["vanilla_bptt"], "truncate": 4},
        "time_vs_units": {
            "points": [
                {"contender": "vanilla_bptt", "units": u, "batch": 2, "train_ms": u, "infer_ms": 1}
                for u in (4, 8)
            ],
            "slopes": {"vanilla_bptt": {"train_upper_half": 1.0, "infer_upper_half": 0.0}},
        },
        "memory_vs_timesteps": {"points": []},
    }
    fig = report.plot_time_vs(results, "units")
    assert len(fig.axes) == 2
    assert report.plot_memory_vs_timesteps(results).axes
    assert plt.get_fignums() == before


AMD_ZEN5 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
stepping\t: 1
flags\t\t: fpu sse2 avx2 avx512f avx512bw
"""
INTEL_SPR = """vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
stepping\t: 8
flags\t\t: avx2 avx512f amx_bf16 amx_tile amx_int8
"""


def test_the_cpu_is_named_by_vendor_family_model_and_vector_width():
    assert machine.cpu_identity(AMD_ZEN5) == "AuthenticAMD family 26 model 2 stepping 1, AVX-512"
    assert machine.cpu_identity(INTEL_SPR) == (
        "GenuineIntel family 6 model 143 stepping 8, AVX-512, AMX"
    )
    assert machine.cpu_identity("processor : 0\n") is None  # no vendor: nothing to say
    described = machine.describe_cpu(
        {"cpu_model": "AMD EPYC", "cpu_identity": machine.cpu_identity(AMD_ZEN5)}
    )
    assert described == "AMD EPYC (AuthenticAMD family 26 model 2 stepping 1, AVX-512)"
    assert machine.describe_cpu({"cpu_model": None}) == "unknown CPU"


@pytest.mark.parametrize("kept, says", [(2, "ran 2 slices"), (1, "ran the whole batch")])
def test_the_table_says_what_the_trainer_ran_and_what_its_timing_saw(kept, says):
    results = json.loads((ROOT / "benchmarks" / "results" / "train_step_latest.json").read_text())
    row = next(r for r in results["contenders"] if r["name"] == "vanilla_bptt_xla")
    row["decisions"] = {
        "batch_slices": kept, "first_step_s": 2.25,
        "split_measurement": {"whole_ms": 6.25, "split_ms": 5.04, "slices_tried": 2,
                              "slices_kept": kept, "sessions": 2, "batch_shape": [64, 100, 32]},
    }
    printed = report.format_train_step_table(results)
    assert (
        f'vanilla_bptt_xla: batch_split="timed" {says} (fastest of 2 timing sessions, up to '
        "the update: whole batch 6.2 ms, 2 slices 5.0 ms; first step 2.2 s)"
    ) in printed.splitlines()
