"""Smoke tests of the benchmark suite (rnn_tf.bench): it runs at tiny sizes, prints its
tables and writes JSON of the documented shape. Nothing here checks a speed."""

import json
import sys

import numpy as np
import pytest

from rnn_tf import bench

TRAIN_ROW_KEYS = {
    "name", "label", "framework", "gates", "skipped", "flops_train", "flops_infer",
    *(f"{phase}_{key}" for phase in ("train", "infer") for key in (
        "ms", "p25_ms", "p75_ms", "min_ms", "n", "first_call_s", "seq_per_s", "gflops",
        "frac_of_peak",
    )),
}  # fmt: skip


def _is_positive_number(value):
    return isinstance(value, (int, float)) and value > 0


def test_flop_formula_of_the_default_shapes():
    s = bench.Shape()
    args = (s.batch, s.timesteps, s.input_dim, s.units, s.output_dim)
    assert bench.rnn_flops(*args) == 891_289_600
    assert bench.rnn_flops(*args, training=False) == 314_572_800
    # A GRU's three gate blocks triple the cell's matmuls, not the head's.
    assert bench.rnn_flops(*args, gates=3, training=False) == 2 * 64 * 100 * (
        3 * 32 * 128 + 3 * 128 * 128 + 128 * 32
    )


def test_loglog_slope_recovers_the_exponent():
    xs = np.array([10, 100, 1000])
    assert bench.fit_loglog_slope(xs, 3.0 * xs**2) == pytest.approx(2.0)
    assert bench.fit_loglog_slope([10], [1.0]) is None


def test_train_step_suite_prints_the_table_and_writes_its_json(tmp_path, capsys, monkeypatch):
    # Without torch: the torch contender must be skipped cleanly, not crash the suite.
    monkeypatch.setitem(sys.modules, "torch", None)
    assert bench.main(["train-step", "--quick", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "| contender | train ms" in printed
    assert "| vanilla_bptt |" in printed and "| simple_rnn |" in printed
    assert "torch_rnn | skipped" in printed
    assert "issue 4 (vanilla_bptt)" in printed

    results = json.loads((tmp_path / "train_step_latest.json").read_text())
    assert len(list(tmp_path.glob("train_step_2*.json"))) == 1
    assert results["suite"] == "train_step"
    assert results["schema_version"] == bench.SCHEMA_VERSION
    for key in ("date_utc", "cpu_count", "cpus_usable", "tensorflow", "keras", "numpy", "torch"):
        assert key in results["machine"]
    assert results["config"]["shape"] == vars(bench.QUICK_SHAPE)
    assert _is_positive_number(results["peak"]["gflops"])

    rows = {row["name"]: row for row in results["contenders"]}
    assert list(rows) == results["config"]["contenders"]
    for name, row in rows.items():
        assert set(row) == TRAIN_ROW_KEYS, name
    assert "not installed" in rows["torch_rnn"]["skipped"]
    assert rows["torch_rnn"]["train_ms"] is None
    for name in ("vanilla_bptt", "simple_rnn"):
        assert rows[name]["skipped"] is None
        for key in ("train_ms", "infer_ms", "train_seq_per_s", "train_gflops"):
            assert _is_positive_number(rows[name][key]), (name, key)

    ratios = results["ratios"]["vanilla_bptt"]
    assert _is_positive_number(ratios["train_vs_simple_rnn"])
    assert ratios["train_vs_torch_rnn"] is None
    issues = {(t["issue"], t["target"]) for t in results["targets"]}
    assert (2, "training step <= 0.7x SimpleRNN") in issues
    for target in results["targets"]:
        assert target["verdict"] in ("met", "not met", "mixed", "n/a")
        assert target["met"] == {"met": True, "not met": False}.get(target["verdict"])
        if target["ratio"] is None:  # torch is absent
            assert target["round_ratios"] == [] and target["verdict"] == "n/a"
        else:  # --quick runs two rounds
            assert len(target["round_ratios"]) == 2
            assert all(_is_positive_number(r) for r in target["round_ratios"])
    assert "rounds " in printed and " within) -> " in printed


def test_round_ratios_pair_each_rounds_medians():
    ours = bench.Timing(rounds_ms=[[1.0, 3.0, 2.0], [10.0, 12.0]])
    other = bench.Timing(rounds_ms=[[4.0, 4.0, 4.0], [20.0, 24.0]])
    assert bench.round_ratios(ours, other) == [0.5, 0.5]


@pytest.mark.parametrize(
    "ratios, verdict",
    [([0.6, 0.7], "met"), ([0.71, 0.9], "not met"), ([0.6, 0.75], "mixed"), ([], "n/a")],
)
def test_a_target_is_met_only_when_every_round_meets_it(ratios, verdict):
    assert bench.target_verdict(ratios, at_most=0.7) == verdict


def test_interleaving_keeps_the_samples_of_each_round():
    calls = []
    timings = bench.time_interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        repeats=6,
        rounds=3,
        warmup=0,
    )
    for timing in timings.values():
        assert [len(r) for r in timing.rounds_ms] == [2, 2, 2]
        assert sum(timing.rounds_ms, []) == timing.samples_ms
    # Rounds rotate the order, so neither task always runs first.
    assert calls == ["a", "a", "b", "b", "b", "b", "a", "a", "a", "a", "b", "b"]


def test_torch_contender_runs_when_torch_is_installed():
    pytest.importorskip("torch")
    x, y = bench.make_data(bench.QUICK_SHAPE)
    contender = bench.build_contender("torch_rnn", bench.QUICK_SHAPE, x, y, torch_threads=1)
    loss = contender.train()
    assert np.isfinite(loss)
    assert tuple(contender.infer().shape) == (4, 8, 3)


def test_scaling_suite_writes_json_plots_and_tables(tmp_path, capsys):
    assert bench.main(["scaling", "--quick", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
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
    for png in results["figures"].values():
        assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


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
    fig = bench.plot_time_vs(results, "units")
    assert len(fig.axes) == 2
    assert bench.plot_memory_vs_timesteps(results).axes
    assert plt.get_fignums() == before
