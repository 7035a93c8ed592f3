"""The results on disk and on screen: JSON files, Markdown tables, plots (Figure objects)."""

from __future__ import annotations

import datetime
import json
import math
import pathlib

import numpy as np

from benchmarks.machine import describe_cpu
from rnn_tf._files import write_text_atomic

DEFAULT_OUT = pathlib.Path("benchmarks") / "results"


def clean(value):
    """JSON has no NaN: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        return clean(value.item())
    return value


def write_json(results: dict, out, stem: str, *, path: pathlib.Path | None = None) -> pathlib.Path:
    """Write `<stem>_<UTC time>.json` and `<stem>_latest.json` into `out`; return the first.

    With `path` (what an earlier call returned), that file is rewritten instead of a new one.
    """
    out = pathlib.Path(out) if out is not None else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    if path is None:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
        path = out / f"{stem}_{stamp}.json"
    text = json.dumps(clean(results), indent=2)
    write_text_atomic(path, text)
    write_text_atomic(out / f"{stem}_latest.json", text)
    return path


def fmt(value, spec: str = ".1f") -> str:
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
        f"Machine: {results['machine']['cpus_usable']} CPUs, {describe_cpu(results['machine'])}, "
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
                f"{fmt(row[f'{phase}_ms'])} ({fmt(row[f'{phase}_p25_ms'])}-"
                f"{fmt(row[f'{phase}_p75_ms'])})"
            )
        cells += [fmt(row["train_seq_per_s"], ".0f"), fmt(row["infer_seq_per_s"], ".0f")]
        for phase in ("train", "infer"):
            cells.append(fmt(row[f"{phase}_gflops"]))
            frac = row[f"{phase}_frac_of_peak"]
            cells.append(fmt(None if frac is None else 100 * frac, ".0f"))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for row in results["contenders"]:
        measured = (row.get("decisions") or {}).get("split_measurement")
        first_step_s = (row.get("decisions") or {}).get("first_step_s")
        if measured:
            lines.append(
                f"{row['name']}: batch_split=\"timed\" ran "
                + (f"{measured['slices_kept']} slices" if measured["slices_kept"] > 1
                   else "the whole batch")
                + f" (fastest of {measured['sessions']} timing sessions, up to the update: "
                f"whole batch {measured['whole_ms']:.1f} ms, {measured['slices_tried']} slices "
                f"{measured['split_ms']:.1f} ms"
                + (f"; first step {first_step_s:.1f} s)" if first_step_s is not None else ")")
            )
    for ours, ratio in results["ratios"].items():
        parts = [f"{key.replace('_vs_', ' / ')} = {fmt(value, '.2f')}"
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
            f"{target['contender']}: {target['target']}: "
            f"ratio {fmt(target['ratio'], '.2f')}{spread} -> {verdict}"
        )
    lines += [f"note: {note}" for note in results["notes"]]
    return "\n".join(lines)


def format_readme_table(results: dict) -> str:
    """The README's speed table from one train-step run: what ran where, ms and vs SimpleRNN."""
    machine, s = results["machine"], results["config"]["shape"]
    rows = {row["name"]: row for row in results["contenders"]}
    reference = rows.get("simple_rnn", {})

    def versus(row, phase):
        ratio = (row.get(f"{phase}_ms") or 0) / (reference.get(f"{phase}_ms") or float("nan"))
        return fmt(ratio, ".2f") + "x" if math.isfinite(ratio) else "-"

    lines = [
        f"{machine['date_utc'][:10]}, {describe_cpu(machine)}, "
        f"{machine['cpus_usable']} cores, TensorFlow {machine['tensorflow']}; batch "
        f"{s['batch']}, T = {s['timesteps']}, {s['input_dim']} inputs, {s['units']} units, "
        f"{s['output_dim']} classes per step; medians of {results['config']['repeats']} "
        f"in {results['config']['rounds']} interleaved rounds.",
        "",
        "| contender | train ms | vs SimpleRNN | inference ms | vs SimpleRNN |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in results["contenders"]:
        if row["skipped"]:
            continue
        lines.append(f"| {row['label']} | {fmt(row['train_ms'])} | {versus(row, 'train')} | "
                     f"{fmt(row['infer_ms'])} | {versus(row, 'infer')} |")
    return "\n".join(lines)


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
                cells.append(f"{fmt(match[0].get('train_ms'))} / "
                             f"{fmt(match[0].get('infer_ms'))}" if match else "-")
            lines.append(f"| {value} | " + " | ".join(cells) + " |")
        slope_cells = []
        for name in names:
            sl = section["slopes"].get(name, {})
            slope_cells.append(f"{fmt(sl.get('train_upper_half'), '.2f')} / "
                               f"{fmt(sl.get('infer_upper_half'), '.2f')}")
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
            lines.append(f"| {t} | {fmt(full.get('growth_mb'))} | "
                         f"{fmt(trunc.get('growth_mb'))} | {fmt(full.get('input_mb'), '.2f')} |")
        slopes = results["memory_vs_timesteps"]["slopes"]
        full, trunc = slopes.get("full", {}), slopes.get("truncated", {})
        lines.append(f"| log-log slope | {fmt(full.get('loglog'), '.2f')} | "
                     f"{fmt(trunc.get('loglog'), '.2f')} | |")
        lines.append(f"| MB per 1000 steps (linear fit) | "
                     f"{fmt(full.get('mb_per_1000_steps'), '.1f')} | "
                     f"{fmt(trunc.get('mb_per_1000_steps'), '.1f')} | |")
    lines += [f"note: {note}" for note in results["notes"]]
    return "\n".join(lines)
