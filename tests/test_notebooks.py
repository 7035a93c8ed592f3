"""Every notebook is stored clean and runs top to bottom in SMOKE mode on offline data."""

import json
import pathlib
import re
import time

import pytest

from rnn_tf.notebooks import (
    CellProgress,
    NotebookRun,
    declared_parameters,
    find_notebooks,
    inject_parameters,
    run_notebook,
    run_notebooks,
    runs_table,
    select_notebooks,
)

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = find_notebooks(NOTEBOOK_DIR)
ABSOLUTE_PATH = re.compile(r"""["'](/(home|root|work|tmp|Users)/|[A-Z]:\\)""")


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_all_nine_course_notebooks_are_there():
    expected = [
        "01_unfolding_and_bptt", "02_rnn_types", "03_vanishing_exploding_gradients",
        "04_rnn_gru_lstm_comparison", "05_captioning_one_to_many", "06_sentiment_many_to_one",
        "07_stock_forecasting", "08_translation_seq2seq", "09_char_language_model",
    ]
    assert [path.stem for path in NOTEBOOKS] == expected


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    for cell in _cells(path):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_has_colab_badge_and_parameters_cell(path):
    cells = _cells(path)
    assert "colab-badge.svg" in "".join(cells[0]["source"])
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    source = "".join(tagged[0]["source"])
    for name in ("SMOKE", "FIGURES_DIR", "SEED"):  # DATA_SOURCE only where data is loaded
        assert re.search(rf"^{name}\s*=", source, re.M), name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_has_no_hard_coded_absolute_paths(path):
    for cell in _cells(path):
        assert not ABSOLUTE_PATH.search("".join(cell["source"]))


# A decimal in prose, e.g. "0.87" or "−1.5" (not a version such as 3.10.2, nor part of a word).
DECIMAL = re.compile(r"(?<![\w.])[-−]?\d+\.\d+(?![\w.]*\d)")
# Public numbers from other work, quoted with their source named in the same cell; at most 8.
PUBLIC_REFERENCES: dict[str, set[str]] = {
}


def measured_decimals(markdown: str) -> list[str]:
    """Decimals in markdown prose, outside math ($...$, $$...$$), code spans and link targets."""
    prose = re.sub(r"\$\$.*?\$\$", "", markdown, flags=re.S)
    prose = re.sub(r"\$[^$]*\$", "", prose)
    prose = re.sub(r"```.*?```", "", prose, flags=re.S)
    prose = re.sub(r"`[^`]*`", "", prose)
    prose = re.sub(r"\]\([^)]*\)", "]", prose)
    return DECIMAL.findall(prose)


def test_the_decimal_finder_sees_prose_and_skips_math_and_code():
    text = ("LSTM 0.87 ± 0.02 beat GRU (−0.5). $\\sigma(1)^{40} \\approx 3.1$ and `lr=0.05` "
            "and [the docs](https://x/3.11.2) and\n```\nloss 1.25\n```\n$$a = 0.5$$")
    assert measured_decimals(text) == ["0.87", "0.02", "−0.5"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_measured_number_is_typed_into_markdown(path):
    """Every measured value reaches the reader from the run (a printed table or markdown
    rendered from variables); only the listed public references may be typed."""
    allowed = PUBLIC_REFERENCES.get(path.stem, set())
    typed = [number for cell in _cells(path) if cell["cell_type"] == "markdown"
             for number in measured_decimals("".join(cell["source"])) if number not in allowed]
    assert typed == [], f"measured decimals typed into markdown: {typed}"


def test_public_references_stay_few():
    assert sum(len(numbers) for numbers in PUBLIC_REFERENCES.values()) <= 8


def test_runs_table_shows_time_and_peak_memory_per_notebook():
    runs = [NotebookRun("01_a", 75.4, pathlib.Path("a"), None, peak_memory_mb=1234.4),
            NotebookRun("02_b", 5.0, pathlib.Path("b"), None, "boom", peak_memory_mb=None)]
    assert runs_table(runs).splitlines()[2:] == [
        "| 01_a | ok | 1 min 15 s | 1,234 MB |",
        "| 02_b | FAILED | 0 min 05 s | not measured |",
        "| all | 1/2 ok | 1 min 20 s | 1,234 MB (largest) |",
    ]


def test_runs_side_by_side_give_their_elapsed_time_after_the_table():
    runs = [NotebookRun("01_a", 60.0, pathlib.Path("a"), None),
            NotebookRun("02_b", 60.0, pathlib.Path("b"), None)]
    table = runs_table(runs, jobs=2, elapsed_seconds=70.0)
    assert "| all | 2/2 ok | 2 min 00 s |" in table
    assert table.endswith("2 notebooks at a time: 1 min 10 s elapsed; each wall time above "
                          "includes sharing the CPU with the other.")
    assert "elapsed" not in runs_table(runs, jobs=1, elapsed_seconds=70.0)
    assert "elapsed" not in runs_table(runs[:1], jobs=2, elapsed_seconds=70.0)


def test_a_runner_error_starts_no_further_notebook(tmp_path, monkeypatch):
    import rnn_tf.notebooks as runner

    for name in ("01_a", "02_b", "03_c", "04_d", "05_e"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    started = []

    def fake_run(path, **options):
        started.append(path.stem)
        if path.stem == "01_a":
            raise RuntimeError("the kernel would not start")
        time.sleep(0.5)  # both workers stay busy while the error reaches the runner
        return NotebookRun(path.stem, 0.0, path, None)

    monkeypatch.setattr(runner, "run_notebook", fake_run)
    with pytest.raises(RuntimeError, match="would not start"):
        run_notebooks(tmp_path, tmp_path / "build", verbose=False, jobs=2)
    assert "01_a" in started and len(started) <= 3  # 01, and what each worker took next


@pytest.mark.notebook
@pytest.mark.slow
def test_two_jobs_run_notebooks_at_once_and_return_them_in_order(tmp_path):
    import nbformat

    folder = tmp_path / "nb"
    folder.mkdir()
    for name, body in (("01_sleeps", "import time\ntime.sleep(10)"),
                       ("02_fails", "import time\ntime.sleep(3)\nraise RuntimeError('boom')"),
                       ("03_quick", "x = 1")):
        stamp = f"open({str(tmp_path / name)!r}, 'w').write(f'{{start}} {{time.time()}}')"
        cells = [nbformat.v4.new_code_cell("SMOKE = True", metadata={"tags": ["parameters"]}),
                 nbformat.v4.new_code_cell(f"import time\nstart = time.time()\n{stamp}"),
                 nbformat.v4.new_code_cell(body),
                 nbformat.v4.new_code_cell(f"import time\n{stamp}")]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"{name}.ipynb")
    runs = run_notebooks(folder, tmp_path / "build", html=False, verbose=False, jobs=2)
    assert [run.name for run in runs] == ["01_sleeps", "02_fails", "03_quick"]
    assert [run.ok for run in runs] == [True, False, True] and "boom" in runs[1].error
    first, second = ([float(t) for t in (tmp_path / n).read_text().split()]
                     for n in ("01_sleeps", "02_fails"))
    # The failing 02 never wrote its end: its stamp is its start, twice. One after the
    # other, 02 would start after 01 ended.
    assert first[1] - first[0] >= 10 and second[0] < first[1]
    with pytest.raises(ValueError, match="`jobs`"):
        run_notebooks(folder, tmp_path / "build", jobs=0)


@pytest.mark.notebook
@pytest.mark.slow
def test_a_run_records_its_kernels_peak_memory(tmp_path):
    import nbformat

    def notebook(name, source):
        path = tmp_path / f"{name}.ipynb"
        cells = [nbformat.v4.new_code_cell("SMOKE = True", metadata={"tags": ["parameters"]}),
                 nbformat.v4.new_code_cell(source)]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
        return run_notebook(path, tmp_path / "build", html=False)

    if not pathlib.Path("/proc/self/status").exists():
        pytest.skip("this OS does not report a process's peak memory (Linux's VmHWM)")
    idle = notebook("01_idle", "x = 1")
    # 400 MB touched (ones, not zeros, so the pages are really resident), then freed:
    # the peak must still show it.
    busy = notebook("02_busy", "import numpy as np\nblock = np.ones(50_000_000)\ndel block")
    assert idle.ok and busy.ok
    assert idle.peak_memory_mb is not None and busy.peak_memory_mb is not None
    assert busy.peak_memory_mb - idle.peak_memory_mb > 350, (idle, busy)


def _code(path):
    return [("".join(c["source"]), c) for c in _cells(path) if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_parameter_acts(path):
    code = _code(path)
    index = next(
        i for i, (_, cell) in enumerate(code) if "parameters" in cell["metadata"].get("tags", [])
    )
    names = re.findall(r"^(\w+)\s*=", code[index][0], re.M)
    later = "\n".join(source for source, _ in code[index + 1:])
    unused = [name for name in names if not re.search(rf"\b{name}\b", later)]
    assert names and not unused, unused


def test_bptt_notebook_writes_the_backward_loop_and_checks_it():
    sources = "\n".join(source for source, _ in _code(NOTEBOOK_DIR / "01_unfolding_and_bptt.ipynb"))
    assert "def rnn_bptt(" in sources and "for t in reversed(range(steps))" in sources
    assert "reference.bptt(" in sources and "tf.GradientTape()" in sources
    assert re.search(r"^assert max\(reference_gaps.values\(\)\) < ", sources, re.M)
    assert re.search(r"^assert max\(tape_gaps.values\(\)\) < ", sources, re.M)


def test_bptt_notebook_ends_with_exercises_and_a_collapsed_solution():
    cells = _cells(NOTEBOOK_DIR / "01_unfolding_and_bptt.ipynb")
    assert "## Exercises" in "".join(cells[-2]["source"])
    assert cells[-1]["cell_type"] == "code"
    assert cells[-1]["metadata"]["jupyter"]["source_hidden"] is True


def test_injected_parameters_follow_the_parameters_cell():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("title"),
        nbformat.v4.new_code_cell("SMOKE = False", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(SMOKE)"),
    ])
    assert inject_parameters(nb, {"SMOKE": True, "SCALE": "full"}) == ["SCALE"]
    assert nb.cells[2].source.endswith("SMOKE = True")
    assert "SCALE" not in nb.cells[2].source   # not a setting of this notebook
    inject_parameters(nb, {"SMOKE": False})  # re-injecting replaces, never stacks
    assert len(nb.cells) == 4
    assert declared_parameters(nb) == ["SMOKE"]


def test_selection_refuses_to_run_nothing(tmp_path):
    with pytest.raises(ValueError, match="`directory` must be a folder"):
        select_notebooks(tmp_path / "missing")
    with pytest.raises(ValueError, match="`directory` must hold numbered notebooks"):
        select_notebooks(tmp_path)
    (tmp_path / "01_a.ipynb").write_text("{}")
    (tmp_path / "02_b.ipynb").write_text("{}")
    assert [p.name for p in select_notebooks(tmp_path, ["02"])] == ["02_b.ipynb"]
    with pytest.raises(ValueError, match="`only` matched no notebook"):
        select_notebooks(tmp_path, ["03"])


def test_a_long_notebook_reports_its_cell_and_time_at_most_every_interval(capsys):
    now = [100.0]
    progress = CellProgress("[2/9] 02_x.ipynb", cells=5, every_s=30, clock=lambda: now[0])
    for index, elapsed in enumerate((10, 31, 40, 65, 70)):
        now[0] = 100.0 + elapsed
        progress(cell=None, cell_index=index, execute_reply=None)
    assert capsys.readouterr().out.splitlines() == [
        "[2/9] 02_x.ipynb: cell 2/5, 31 s",
        "[2/9] 02_x.ipynb: cell 4/5, 65 s",
    ]


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_in_smoke_mode(path, tmp_path):
    parameters = {"SMOKE": True, "DATA_SOURCE": "offline", "FIGURES_DIR": str(tmp_path / "fig")}
    run = run_notebook(path, tmp_path / "build", parameters, timeout=600, html=False)
    assert run.ok, run.error
    assert list((tmp_path / "fig").glob("*.png")), "the notebook saved no figure"
