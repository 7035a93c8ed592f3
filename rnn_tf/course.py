"""The few lines every notebook starts and ends with: seeds, the figures folder, the report.

A notebook calls `start(...)` once, `save(fig, name)` for each figure (which also
returns the figure so Jupyter shows it), `backup(name, model)` to make a long
`fit` resumable, and `report(...)` at the end to print and keep the numbers it
measured.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import platform
import re
import tempfile

import keras

from rnn_tf._files import write_text_atomic
from rnn_tf._machine import cpu_model, peak_resident_mb

RESULTS_FOLDER = "results"


class Course:
    """Per-notebook settings: seed, SMOKE flag and where figures are written."""

    def __init__(self, seed: int, figures_dir: str | os.PathLike, smoke: bool):
        self.seed = seed
        self.smoke = smoke
        self.figures_dir = pathlib.Path(figures_dir)
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        self.saved: list[pathlib.Path] = []

    def save(self, fig, name: str, dpi: int = 120):
        """Write `fig` as `<figures_dir>/<name>.png` and return it for display."""
        from rnn_tf.plots import save_figure

        self.saved += save_figure(fig, self.figures_dir / name, formats=("png",), dpi=dpi)
        return fig

    def backup(self, name: str, model: keras.Model) -> keras.callbacks.BackupAndRestore:
        """A `BackupAndRestore` callback for `model.fit`: if the kernel dies mid-training,
        running the cell again resumes from the last finished epoch instead of epoch 1.

        The backup lives under `RNN_TF_BACKUP_DIR` (default: the system temp folder) in
        `rnn_tf_backups/<name>-<fingerprint>` and is deleted when training completes. The
        fingerprint hashes the SMOKE flag and the shape and dtype of every weight of
        `model`, so a backup left by another configuration (a SMOKE run, another vocabulary
        or width) is never restored into this one.
        """
        if not model.built:
            raise ValueError(
                f"Argument `model` must be built (its weights decide the backup folder); "
                f"received the unbuilt model {model.name!r}"
            )
        layout = [(tuple(w.shape), str(w.dtype)) for w in model.weights]
        digest = hashlib.sha256(repr((self.smoke, layout)).encode()).hexdigest()[:12]
        root = pathlib.Path(os.environ.get("RNN_TF_BACKUP_DIR", tempfile.gettempdir()))
        return keras.callbacks.BackupAndRestore(str(root / "rnn_tf_backups" / f"{name}-{digest}"))

    @staticmethod
    def peak_memory() -> int | str:
        """This process's peak resident memory so far, in whole MB (Linux's VmHWM), for a
        report; "not measured (Linux only)" elsewhere. A notebook calls it last, from its
        kernel: the peak of the whole run, however briefly it was reached."""
        peak = peak_resident_mb()
        return "not measured (Linux only)" if peak is None else round(peak)

    def report(self, title: str, numbers: dict, headline: list[str] | None = None
               ) -> pathlib.Path:
        """Print the measured numbers as an aligned table and keep them as JSON.

        The JSON (`<figures_dir>/results/<title slug>.json`, with the date, machine
        and SMOKE flag) is what `results_table` (every number, in `build/results.md`) and
        `results_summary` (the README's row for this notebook) are written from.

        Args:
            title: the notebook's name in the tables, e.g. "04 gates (recall task)".
            numbers: `{what was measured: value}`; values are numbers or short strings.
            headline: the keys of `numbers` the README's row shows (default: all of them).
        """
        headline = list(numbers) if headline is None else list(headline)
        missing = [key for key in headline if key not in numbers]
        if missing:
            raise ValueError(
                f"Argument `headline` must name keys of `numbers`; received {missing}, "
                f"which are not among {list(numbers)}")
        width = max(len(k) for k in numbers) if numbers else 0
        print(f"== {title} ==")
        for key, value in numbers.items():
            print(f"{key.ljust(width)}  {_shown(_jsonable(value))}")
        folder = self.figures_dir / RESULTS_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_") + ".json")
        record = {
            "title": title,
            "smoke": self.smoke,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{cpu_model() or platform.machine()}, {os.cpu_count()} CPUs, "
                       f"{platform.system()}",
            "numbers": {k: _jsonable(v) for k, v in numbers.items()},
            "headline": headline,
        }
        write_text_atomic(path, json.dumps(record, indent=1))
        return path


def _shown(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _jsonable(value):
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:  # NumPy scalars
        value = value.item()
    elif hasattr(value, "tolist"):  # arrays
        return value.tolist()
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


RESULTS_BEGIN = "<!-- results: written by make reproduce from build/results.md -->"
RESULTS_END = "<!-- end of results -->"


def _records(figures_dir, since: datetime.datetime | None = None) -> list[dict]:
    """The reports in `figures_dir`, by title; with `since`, only those written from then on
    (so a report left by an earlier run, or by a notebook since renamed, never joins this one's).
    """
    folder = pathlib.Path(figures_dir) / RESULTS_FOLDER
    records = (json.loads(p.read_text()) for p in folder.glob("*.json"))
    if since is not None:
        records = (r for r in records if datetime.datetime.fromisoformat(r["date"]) >= since)
    return sorted(records, key=lambda r: r["title"])


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _machines_line(records: list[dict]) -> str:
    dates = sorted(r["date"] for r in records)
    # Results gathered on several machines say so, rather than naming only one.
    machines = " and ".join(sorted({r["machine"] for r in records}))
    return f"Measured {dates[0][:10]} to {dates[-1][:10]} on {machines}."


def _title(record: dict) -> str:
    return record["title"] + (" (SMOKE)" if record["smoke"] else "")


def _table(header: tuple[str, ...], rows, records: list[dict]) -> str:
    """A Markdown table of `rows` under `header`, then which machines measured them."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines + ["", _machines_line(records)])


def results_table(figures_dir: str | os.PathLike = "figures",
                  since: datetime.datetime | None = None) -> str:
    """A Markdown table of every notebook's reported numbers (from `Course.report`)."""
    records = _records(figures_dir, since)
    if not records:
        return ""
    rows = [(_title(record), key, _shown(value))
            for record in records for key, value in record["numbers"].items()]
    return _table(("notebook", "measure", "value"), rows, records)


def results_summary(figures_dir: str | os.PathLike = "figures",
                    since: datetime.datetime | None = None) -> str:
    """The same numbers, one row per notebook report (the README's results table)."""
    records = _records(figures_dir, since)
    if not records:
        return ""
    rows = [(_title(record), "; ".join(f"{key}: {_shown(record['numbers'][key])}"
                                       for key in record["headline"]))
            for record in records]
    return _table(("notebook", "what the run measured"), rows, records)


def results_report(figures_dir: str | os.PathLike, runs_table: str = "",
                   since: datetime.datetime | None = None) -> str:
    """`build/results.md`: the README's block (one row per notebook), the notebook runs
    (wall time, peak memory), then every reported number.

    The block between `RESULTS_BEGIN` and `RESULTS_END` is what `docs/readme_results.py`
    copies into the README, so the README and the run cannot disagree.
    """
    summary = results_summary(figures_dir, since)
    if not summary and not runs_table:
        return ""
    parts = [RESULTS_BEGIN, summary, RESULTS_END, ""]
    if runs_table:
        parts += ["## Notebook runs (wall time, the kernel's peak resident memory)", "",
                  runs_table, ""]
    parts += ["## Every reported number", "", results_table(figures_dir, since), ""]
    return "\n".join(parts)


def _notebook_rows(block: str) -> set[str]:
    """The notebook titles a results block has rows for (its first column)."""
    return {line.split("|")[1].strip() for line in block.splitlines()
            if line.startswith("| ") and not line.startswith(("| notebook", "| ---"))}


def replace_results_block(document: str, report: str) -> str:
    """`document` with its results block replaced by the one in `report`.

    Raises:
        ValueError: either text lacks the markers (nothing is guessed or appended).
    """
    for name, text in (("document", document), ("report", report)):
        if text.count(RESULTS_BEGIN) != 1 or text.count(RESULTS_END) != 1:
            raise ValueError(
                f"Argument `{name}` must hold exactly one results block between "
                f"{RESULTS_BEGIN!r} and {RESULTS_END!r}; it holds "
                f"{text.count(RESULTS_BEGIN)} start and {text.count(RESULTS_END)} end markers"
            )
    block = report[report.index(RESULTS_BEGIN):report.index(RESULTS_END) + len(RESULTS_END)]
    old = document[document.index(RESULTS_BEGIN):document.index(RESULTS_END)]
    # A run of some notebooks only (`--only 03`) must not drop the others' rows.
    lost = sorted(_notebook_rows(old) - _notebook_rows(block))
    if lost:
        raise ValueError(
            f"Argument `report` must cover every notebook the document's block shows; it lacks "
            f"{lost} (run all the notebooks, as `make reproduce` does)")
    head = document[:document.index(RESULTS_BEGIN)]
    tail = document[document.index(RESULTS_END) + len(RESULTS_END):]
    return head + block + tail


def start(seed: int = 0, figures_dir: str | os.PathLike = "figures", smoke: bool = False) -> Course:
    """Seed Python, NumPy and TensorFlow, create the figures folder, print the setup."""
    keras.utils.set_random_seed(seed)
    import tensorflow as tf

    devices = ", ".join(d.device_type for d in tf.config.list_physical_devices())
    print(
        f"rnn_tf {__import__('rnn_tf').__version__} | TensorFlow {tf.__version__} | "
        f"Keras {keras.__version__} | Python {platform.python_version()} | devices: {devices}"
        f" | SMOKE={smoke}"
    )
    return Course(seed, figures_dir, smoke)
