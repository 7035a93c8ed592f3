"""Colab: badges and install cells agree with pyproject.toml, and a notebook installs and runs.

The simulation is as close to Colab as this machine allows: a fresh virtual environment with
only what a Colab runtime already has that matters here (TensorFlow, ipykernel, nbclient), a
stub `google.colab` module, the install URL pointed at a local `git+file://` clone of this
repository, and a notebook executed in SMOKE mode through its own install cell.
"""

import importlib.metadata
import importlib.util
import json
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
KERNEL = "colab-simulation"
RUNNER_TOOLING = ("[notebooks]", "ipykernel", "nbconvert", "nbclient", "pytest")


def _load_colab_cells():
    spec = importlib.util.spec_from_file_location("colab_cells", ROOT / "docs" / "colab_cells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab_cells = _load_colab_cells()


def _install_source(path: pathlib.Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return next("".join(c["source"]) for c in cells if "google.colab" in "".join(c["source"]))


def test_every_badge_and_install_cell_agrees_with_pyproject():
    assert colab_cells.main(["--check"]) == 0


def test_the_check_fails_when_a_badge_points_at_another_repository(tmp_path):
    copy = tmp_path / NOTEBOOKS[0].name
    copy.write_text(NOTEBOOKS[0].read_text().replace("colab.research.google.com/github/",
                                                     "colab.research.google.com/github/fork-"))
    assert colab_cells.main(["--check", "--notebooks", str(tmp_path)]) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_install_cell_installs_no_notebook_runner_tooling(path):
    source = _install_source(path)
    assert f'REPOSITORY = "{colab_cells.repository_url()}"' in source
    for name in RUNNER_TOOLING:
        assert name not in source


def test_the_translation_notebook_also_installs_sacrebleu_and_only_it():
    (translation,) = [p for p in NOTEBOOKS if "translation" in p.name]
    assert '"sacrebleu"' in _install_source(translation)
    others = [p for p in NOTEBOOKS if p != translation]
    assert all('"sacrebleu"' not in _install_source(p) for p in others)


@pytest.fixture(scope="module")
def colab_runtime(tmp_path_factory):
    """A fresh venv with TensorFlow, ipykernel and nbclient, and a stub google.colab."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to clone the repository for the install cell")
    tmp = tmp_path_factory.mktemp("colab")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Colab's pip is recent; the venv's bundled one may be too old for `git+file:` URLs.
    subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    tensorflow = f"tensorflow-cpu=={importlib.metadata.version('tensorflow-cpu')}"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", tensorflow, "ipykernel", "nbclient"], check=True
    )
    # Its own kernel name, so Jupyter cannot pick another Python's "python3" kernel.
    subprocess.run([python, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL],
                   check=True, capture_output=True)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    colab = pathlib.Path(site) / "google" / "colab"  # no google/__init__.py: a namespace package
    colab.mkdir(parents=True)
    (colab / "__init__.py").write_text('"""Stand-in for Colab\'s google.colab module."""\n')
    # Colab's runtime has google.colab imported before any cell runs; a .pth line does that here.
    (pathlib.Path(site) / "colab_runtime.pth").write_text("import google.colab\n")
    clone = tmp / "rnn_tf"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return python, clone


def _installed(python) -> set[str]:
    listed = subprocess.run([python, "-m", "pip", "list", "--format=json"], check=True,
                            capture_output=True, text=True).stdout
    return {package["name"].lower() for package in json.loads(listed)}


@pytest.mark.slow
@pytest.mark.notebook
def test_a_notebook_installs_rnn_tf_through_its_own_cell_and_runs(colab_runtime, tmp_path):
    import nbformat

    from rnn_tf.notebooks import inject_parameters

    python, clone = colab_runtime
    assert "rnn-tf" not in _installed(python)
    source = clone / "notebooks" / NOTEBOOKS[0].name
    notebook = nbformat.read(source, as_version=4)
    url = colab_cells.repository_url()
    for cell in notebook.cells:
        cell.source = cell.source.replace(f'"{url}"', f'"file://{clone}"')
    inject_parameters(notebook, {"SMOKE": True, "FIGURES_DIR": str(tmp_path / "figures")})
    prepared = tmp_path / source.name
    nbformat.write(notebook, prepared)
    run = (
        "import nbformat, nbclient, sys\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nbclient.NotebookClient(nb, timeout=900, kernel_name=sys.argv[2]).execute()\n"
    )
    result = subprocess.run([python, "-c", run, str(prepared), KERNEL], capture_output=True,
                            text=True,
                            cwd=tmp_path, timeout=1500)
    assert result.returncode == 0, result.stderr[-3000:]
    installed = _installed(python)
    assert "rnn-tf" in installed
    assert not {"nbconvert", "pytest", "ruff"} & installed


@pytest.mark.slow
def test_a_failed_install_stops_with_the_next_step(colab_runtime, tmp_path):
    python, _ = colab_runtime
    source = _install_source(NOTEBOOKS[0]).replace(
        colab_cells.repository_url(), f"file://{tmp_path}/no-such-repository"
    )
    result = subprocess.run([python, "-c", source], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "Could not install rnn_tf" in result.stderr and "make wheel" in result.stderr
