"""Execute the course notebooks headless through a real Jupyter kernel.

`make reproduce` and `rnn-tf notebooks` call `run_notebooks`; the tests call it in
SMOKE mode. Parameters are injected after the cell tagged `parameters` (the
papermill convention, so papermill users get the same behaviour), the executed
copy and an HTML rendering are written to the output folder, and a progress line
with the time and the kernel's peak resident memory is printed per notebook (and, during
a long notebook, every half minute: which cell it is on and how long it has run).
"""

from __future__ import annotations

import pathlib
import time
from dataclasses import dataclass

from rnn_tf._checks import check_positive_int
from rnn_tf._files import write_text_atomic
from rnn_tf._machine import peak_resident_mb

INJECTED_TAG = "injected-parameters"
# During a notebook, a progress line at most this often (seconds).
PROGRESS_EVERY_S = 30.0


@dataclass
class NotebookRun:
    """The outcome of one executed notebook."""

    name: str
    seconds: float
    executed_path: pathlib.Path
    html_path: pathlib.Path | None
    error: str | None = None
    # The kernel's peak resident memory (Linux's VmHWM); None where the OS does not say.
    peak_memory_mb: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def find_notebooks(directory: str | pathlib.Path = "notebooks") -> list[pathlib.Path]:
    """The numbered notebooks (`NN_name.ipynb`) of `directory`, in order."""
    directory = pathlib.Path(directory)
    if not directory.is_dir():
        raise ValueError(
            f"Argument `directory` must be a folder of notebooks; received {directory}"
        )
    return sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))


def select_notebooks(
    directory: str | pathlib.Path = "notebooks", only: list[str] | None = None
) -> list[pathlib.Path]:
    """The numbered notebooks of `directory` whose name contains one of `only` (all if None).

    Raises:
        ValueError: `directory` is not a folder, holds no numbered notebook, or `only`
            matches none of them; running nothing is never reported as success.
    """
    paths = find_notebooks(directory)
    if not paths:
        raise ValueError(
            "Argument `directory` must hold numbered notebooks (NN_name.ipynb); "
            f"received {directory}, which has none"
        )
    if only:
        paths = [p for p in paths if any(name in p.stem for name in only)]
        if not paths:
            raise ValueError(
                f"Argument `only` matched no notebook in {directory}; received {only}"
            )
    return paths


class CellProgress:
    """`NotebookClient.on_cell_executed` hook: a line every `every_s` seconds of a long run.

    Example: ``[3/9] 03_vanishing_exploding_gradients.ipynb: cell 14/41, 95 s``.
    """

    def __init__(self, prefix: str, cells: int, every_s: float = PROGRESS_EVERY_S, clock=None):
        self.prefix, self.cells, self.every_s = prefix, cells, every_s
        self.clock = clock or time.perf_counter
        self.start = self.last = self.clock()

    def __call__(self, cell=None, cell_index: int = 0, execute_reply=None) -> None:
        now = self.clock()
        if now - self.last >= self.every_s:
            self.last = now
            print(f"{self.prefix}: cell {cell_index + 1}/{self.cells}, "
                  f"{now - self.start:.0f} s", flush=True)


class KernelPeakMemory:
    """`NotebookClient.on_cell_executed` hook: the kernel's peak memory after each cell.

    The high-water mark only grows, so the value read after the last cell is the whole
    run's peak, however briefly it was reached.
    """

    def __init__(self, client):
        self.client = client
        self.peak_mb: float | None = None

    def __call__(self, cell=None, cell_index: int = 0, execute_reply=None) -> None:
        process = getattr(getattr(self.client.km, "provisioner", None), "process", None)
        if process is not None:
            self.peak_mb = peak_resident_mb(process.pid) or self.peak_mb


def _call_each(*hooks):
    def call(**kwargs):
        for hook in hooks:
            hook(**kwargs)

    return call


def declared_parameters(notebook) -> list[str]:
    """Names the cell tagged `parameters` assigns, in order (the settings a notebook takes)."""
    cell = _parameters_cell(notebook)
    return [] if cell is None else _assigned_names(cell)


def _assigned_names(cell) -> list[str]:
    import ast

    return [target.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)]


def _parameters_cell(notebook):
    return next((c for c in notebook.cells
                 if "parameters" in c.get("metadata", {}).get("tags", [])), None)


def inject_parameters(notebook, parameters: dict) -> list[str]:
    """Insert a cell assigning `parameters` right after the cell tagged `parameters`.

    Only the names that cell declares are injected, so a setting never lands in a notebook
    it cannot act on (SCALE in the synthetic-data notebooks, say).

    Returns:
        The names of `parameters` the notebook does not declare (not injected).
    """
    import nbformat

    if not parameters:
        return []
    parameters_cell = _parameters_cell(notebook)
    if parameters_cell is None:
        raise ValueError(
            "The notebook has no cell tagged `parameters`; tag its first code cell so "
            "settings such as SMOKE can be injected"
        )
    declared = _assigned_names(parameters_cell)
    skipped = [name for name in parameters if name not in declared]
    lines = ["# Injected by rnn_tf.notebooks"] + [
        f"{k} = {v!r}" for k, v in parameters.items() if k in declared]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    cells = notebook.cells
    cells[:] = [c for c in cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    cells.insert(cells.index(parameters_cell) + 1, cell)
    return skipped


def run_notebook(
    path: str | pathlib.Path,
    out_dir: str | pathlib.Path,
    parameters: dict | None = None,
    timeout: int = 3600,
    html: bool = True,
    progress_prefix: str | None = None,
) -> NotebookRun:
    """Execute one notebook top to bottom; the executed copy (and HTML) go to `out_dir`.

    With `progress_prefix`, the run prints a line as it starts and, while it is long, where
    it is every `PROGRESS_EVERY_S` seconds.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = pathlib.Path(path).resolve()
    out_dir = pathlib.Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if progress_prefix:
        print(f"{progress_prefix} ...", flush=True)
    notebook = nbformat.read(path, as_version=4)
    inject_parameters(notebook, parameters or {})
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    memory = KernelPeakMemory(client)
    hooks = [memory]
    if progress_prefix:
        hooks.append(CellProgress(progress_prefix, len(notebook.cells)))
    client.on_cell_executed = _call_each(*hooks)
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        # A failing cell, one past `timeout`, or a kernel killed (out of memory, say): the
        # notebook failed, and the others still run.
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    executed = out_dir / path.name
    write_text_atomic(executed, nbformat.writes(notebook))
    html_path = None
    if html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(notebook)
        html_path = executed.with_suffix(".html")
        write_text_atomic(html_path, body)
    return NotebookRun(path.stem, seconds, executed, html_path, error, memory.peak_mb)


def run_notebooks(
    directory: str | pathlib.Path = "notebooks",
    out_dir: str | pathlib.Path = "build",
    parameters: dict | None = None,
    only: list[str] | None = None,
    html: bool = True,
    verbose: bool = True,
    jobs: int = 1,
) -> list[NotebookRun]:
    """Execute every numbered notebook of `directory`, printing a line each.

    `jobs` notebooks run at a time, each in its own kernel, started in order. A small RNN
    keeps about one core busy (its steps are sequential), so on 2 cores `jobs=2` finishes
    the course sooner; each notebook's own timings then include sharing the machine.

    Returns:
        One `NotebookRun` per notebook, in the notebooks' order.

    Raises:
        ValueError: nothing to run (see `select_notebooks`), or `jobs` < 1.
    """
    paths = select_notebooks(directory, only)
    jobs = check_positive_int(jobs, "jobs")
    labels = [f"[{i}/{len(paths)}] {path.name}" for i, path in enumerate(paths, start=1)]
    calls = [dict(path=path, out_dir=out_dir, parameters=parameters, html=html,
                  progress_prefix=label if verbose else None)
             for path, label in zip(paths, labels)]

    def report(label: str, run: NotebookRun) -> NotebookRun:
        if verbose:
            status = "ok" if run.ok else "FAILED"
            print(f"{label}: {status} in {run.seconds:.0f} s, "
                  f"peak memory {format_megabytes(run.peak_memory_mb)}", flush=True)
        return run

    if jobs == 1 or len(paths) == 1:
        return [report(label, run_notebook(**call)) for label, call in zip(labels, calls)]
    import concurrent.futures

    # Threads suffice: each thread only waits on its kernel, a process of its own.
    runs = {}
    with concurrent.futures.ThreadPoolExecutor(min(jobs, len(paths))) as pool:
        futures = {pool.submit(run_notebook, **call): i for i, call in enumerate(calls)}
        try:
            for future in concurrent.futures.as_completed(futures):
                runs[futures[future]] = report(labels[futures[future]], future.result())
        except BaseException:
            # The runner itself failed (not a notebook's cell) or was interrupted: start no
            # further notebook; the ones running finish before the error is raised.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [runs[i] for i in range(len(paths))]


def _minutes(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def format_megabytes(megabytes: float | None) -> str:
    return "not measured" if megabytes is None else f"{megabytes:,.0f} MB"


def runs_table(runs: list[NotebookRun], jobs: int = 1,
               elapsed_seconds: float | None = None) -> str:
    """A Markdown table of each notebook's outcome, wall time and kernel peak memory.

    With `jobs` > 1 (notebooks run side by side), a line after the table gives the whole
    run's elapsed time, which is then less than the sum of the wall times.
    """
    lines = ["| notebook | outcome | wall time | peak memory |", "| --- | --- | --- | --- |"]
    for run in runs:
        outcome = "ok" if run.ok else "FAILED"
        lines.append(f"| {run.name} | {outcome} | {_minutes(run.seconds)} "
                     f"| {format_megabytes(run.peak_memory_mb)} |")
    ok = sum(run.ok for run in runs)
    peaks = [run.peak_memory_mb for run in runs if run.peak_memory_mb is not None]
    largest = format_megabytes(max(peaks)) + " (largest)" if peaks else "not measured"
    lines.append(f"| all | {ok}/{len(runs)} ok | {_minutes(sum(r.seconds for r in runs))} "
                 f"| {largest} |")
    jobs = min(jobs, len(runs))
    if jobs > 1 and elapsed_seconds is not None:
        others = "the other" if jobs == 2 else "the others"
        lines += ["", f"{jobs} notebooks at a time: {_minutes(elapsed_seconds)} elapsed; each "
                      f"wall time above includes sharing the CPU with {others}."]
    return "\n".join(lines)
