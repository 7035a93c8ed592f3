"""The project installs the way README says: pyproject and environment.yml agree, the
wheel builds, and an installed wheel works outside the repository."""

import os
import pathlib
import subprocess
import sys
import zipfile

import pytest
import yaml

import rnn_tf

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_matches_installed_metadata():
    from importlib.metadata import version

    assert rnn_tf.__version__ == version("rnn-tf")


def test_environment_yml_installs_this_package_with_declared_extras():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    (requirement,) = pip_section
    assert requirement.startswith("-e .[")
    extras = requirement[len("-e .[") : -1].split(",")
    assert set(extras) <= set(_pyproject()["project"]["optional-dependencies"])
    assert "cpu" in extras


def test_environment_yml_python_satisfies_requires_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minor = int(python.split("=")[1].split(".")[1])
    required = _pyproject()["project"]["requires-python"]
    assert required == ">=3.10" and minor >= 10


def test_tensorflow_is_an_extra_so_gpu_installs_keep_their_build():
    project = _pyproject()["project"]
    assert not any(d.startswith("tensorflow") for d in project["dependencies"])
    assert project["optional-dependencies"]["cpu"][0].startswith("tensorflow-cpu")
    assert project["optional-dependencies"]["gpu"][0].startswith("tensorflow[and-cuda]")


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make reproduce" in (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_wheel_builds_and_works_outside_the_repository(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("rnn_tf-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "rnn_tf/layers/vanilla.py" in names
    assert not any(n.startswith(("tests/", "notebooks/")) for n in names)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True,
    )
    script = (
        "import numpy as np, keras, rnn_tf;"
        "m = keras.Sequential([keras.Input((5, 3)), rnn_tf.VanillaRNN(4)]);"
        "print(rnn_tf.__file__); print(m(np.zeros((2, 5, 3), 'float32')).shape)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, check=True, capture_output=True,
        text=True,
    ).stdout.split("\n")
    assert out[0].startswith(str(target))  # imported from the wheel, not the checkout
    assert out[1] == "(2, 4)"
    cli = subprocess.run(
        [sys.executable, "-m", "rnn_tf", "--help"], cwd=tmp_path, env=env, check=True,
        capture_output=True, text=True,
    ).stdout
    assert "figures" in cli and "notebooks" in cli
