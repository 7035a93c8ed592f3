"""`python -m rnn_tf ...` run the way the Makefile and README run it: as a subprocess.

A user's mistake must end in one line on stderr naming what is wrong and a non-zero exit
code, never in a traceback or in a success message for work that was not done.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_cli(*args, cwd=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, "-m", "rnn_tf", *args],
        capture_output=True, text=True, env=env, cwd=cwd or ROOT, timeout=300, check=False,
    )


def assert_one_line_error(proc, *words):
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, proc.stderr
    for word in words:
        assert word in errors[0], errors[0]


def test_help_lists_the_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    for command in ("figures", "notebooks", "datasets"):
        assert command in proc.stdout


def test_figures_into_a_path_that_is_a_file(tmp_path):
    target = tmp_path / "figures.png"
    target.write_text("not a folder")
    proc = run_cli("figures", "--out", str(target), "--quick")
    assert_one_line_error(proc, "--out", str(target))
    assert target.read_text() == "not a folder"


def test_figures_into_a_folder_below_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    proc = run_cli("figures", "--out", str(tmp_path / "file" / "figures"), "--quick")
    assert_one_line_error(proc, "--out")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root may write into a read-only folder")
def test_figures_into_a_read_only_folder(tmp_path):
    target = tmp_path / "read_only"
    target.mkdir()
    target.chmod(0o500)
    try:
        proc = run_cli("figures", "--out", str(target), "--quick")
    finally:
        target.chmod(0o700)
    assert_one_line_error(proc, "--out")


def _fake_notebooks(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("{}")
    return folder


def test_notebooks_only_matching_nothing(tmp_path):
    folder = _fake_notebooks(tmp_path / "nb", "01_first.ipynb", "02_second.ipynb")
    proc = run_cli("notebooks", "--directory", str(folder), "--out", str(tmp_path / "build"),
                   "--figures", str(tmp_path / "fig"), "--only", "nothing_like_this")
    assert_one_line_error(proc, "--only", "nothing_like_this")
    assert "ran" not in proc.stdout


def test_notebooks_in_an_empty_folder(tmp_path):
    folder = _fake_notebooks(tmp_path / "nb")
    proc = run_cli("notebooks", "--directory", str(folder), "--out", str(tmp_path / "build"),
                   "--figures", str(tmp_path / "fig"))
    assert_one_line_error(proc, "--directory", str(folder))
    assert "0/0" not in proc.stdout


def test_notebooks_in_a_missing_folder(tmp_path):
    folder = tmp_path / "no_such_folder"
    proc = run_cli("notebooks", "--directory", str(folder), "--out", str(tmp_path / "build"),
                   "--figures", str(tmp_path / "fig"))
    assert_one_line_error(proc, "--directory", str(folder))
    assert "0/0" not in proc.stdout


@pytest.mark.parametrize("jobs", ["0", "two"])
def test_notebooks_jobs_must_be_a_positive_whole_number(tmp_path, jobs):
    folder = _fake_notebooks(tmp_path / "nb", "01_first.ipynb")
    proc = run_cli("notebooks", "--directory", str(folder), "--jobs", jobs)
    assert_one_line_error(proc, "--jobs", jobs)


def test_notebooks_output_to_a_file(tmp_path):
    folder = _fake_notebooks(tmp_path / "nb", "01_first.ipynb")
    build = tmp_path / "build"
    build.write_text("")
    proc = run_cli("notebooks", "--directory", str(folder), "--out", str(build),
                   "--figures", str(tmp_path / "fig"))
    assert_one_line_error(proc, "--out", str(build))


def test_unknown_option_is_a_usage_error():
    proc = run_cli("figures", "--no-such-option")
    assert proc.returncode == 2
    assert "unrecognized arguments: --no-such-option" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_figures_in_an_unknown_format(tmp_path):
    proc = run_cli("figures", "--out", str(tmp_path), "--formats", "png", "jpeg2000x", "--quick")
    assert_one_line_error(proc, "--formats", "jpeg2000x")
    assert list(tmp_path.iterdir()) == []


def _notebook_writing(folder, name, parameters_source, body):
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(parameters_source, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ])
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / name)


@pytest.mark.notebook
def test_scale_reaches_only_the_notebooks_that_take_one(tmp_path):
    folder, figures = tmp_path / "nb", tmp_path / "fig"
    write = ("import pathlib\n"
             "pathlib.Path(FIGURES_DIR, '{name}.txt').write_text(repr(globals().get('SCALE')))")
    _notebook_writing(folder, "01_sized.ipynb", 'SMOKE = False\nSCALE = "cpu"\nFIGURES_DIR = "f"',
                      write.format(name="01"))
    _notebook_writing(folder, "02_one_size.ipynb", 'SMOKE = False\nFIGURES_DIR = "f"',
                      write.format(name="02"))
    proc = run_cli("notebooks", "--directory", str(folder), "--out", str(tmp_path / "build"),
                   "--figures", str(figures), "--scale", "full")
    assert proc.returncode == 0, proc.stderr
    assert "SCALE='full' acts in notebooks 01;" in proc.stdout
    assert (figures / "01.txt").read_text() == "'full'"
    assert (figures / "02.txt").read_text() == "None"   # never injected where it cannot act
