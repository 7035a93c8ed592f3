"""Write each notebook's Colab badge and install cell from the repository URL in pyproject.toml.

    python docs/colab_cells.py            # rewrite the badge and install cell of every notebook
    python docs/colab_cells.py --check    # exit 1 if any notebook disagrees (the tests run this)

`pyproject.toml` `[project.urls] Repository` is the one place the URL is written. Each
install cell installs rnn_tf from there, plus only the extra packages that notebook imports
(never the notebook-runner tooling: Colab ships its own ipykernel), and when the install
fails it stops with the next step to take instead of a later ModuleNotFoundError.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
BADGE = re.compile(
    r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
    r"\([^)]*\)"
)
# Packages a notebook may import that rnn_tf itself does not depend on.
NOTEBOOK_ONLY_PACKAGES = ("sacrebleu",)
INSTALL_MARKER = "# On Colab: install rnn_tf"

INSTALL_CELL = '''{marker} from its repository (Colab already has TensorFlow).
import sys

REPOSITORY = "{url}"
if "google.colab" in sys.modules:
    import subprocess

    packages = [f"rnn-tf @ git+{{REPOSITORY}}"{extra}]
    if subprocess.run([sys.executable, "-m", "pip", "install", "-q", *packages]).returncode:
        raise RuntimeError(
            f"Could not install rnn_tf from {{REPOSITORY}}. Next step: in a copy of the "
            "repository run `make wheel`, upload dist/rnn_tf-*.whl with Colab's Files panel, "
            "run `%pip install rnn_tf-*.whl` in a new cell, then run this notebook again."
        )'''


def repository_url(pyproject: pathlib.Path = ROOT / "pyproject.toml") -> str:
    """The `[project.urls] Repository` of pyproject.toml."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    urls = tomllib.loads(pyproject.read_text())["project"].get("urls", {})
    if "Repository" not in urls:
        raise SystemExit(f"error: {pyproject} has no [project.urls] Repository")
    return urls["Repository"].rstrip("/")


def badge(url: str, notebook_name: str) -> str:
    path = url.removeprefix("https://github.com/")
    return (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{path}/blob/main/notebooks/{notebook_name})"
    )


def extra_packages(notebook) -> list[str]:
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    return [
        name for name in NOTEBOOK_ONLY_PACKAGES
        if re.search(rf"^\s*(import|from)\s+{name}\b", code, re.M)
    ]


def install_cell_source(url: str, packages: list[str]) -> str:
    extra = "".join(f", {name!r}".replace("'", '"') for name in packages)
    return INSTALL_CELL.format(marker=INSTALL_MARKER, url=url, extra=extra)


def _install_cell_index(notebook) -> int:
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and "google.colab" in cell.source:
            return i
    raise ValueError("the notebook has no Colab install cell (a code cell naming google.colab)")


def expected_cells(notebook, name: str, url: str) -> tuple[str, str]:
    """(first markdown cell, install cell) as they should read."""
    intro = notebook.cells[0].source
    if not BADGE.search(intro):
        raise ValueError(f"{name}: the first cell has no Colab badge")
    intro = BADGE.sub(lambda _: badge(url, name), intro)
    return intro, install_cell_source(url, extra_packages(notebook))


def sync(path: pathlib.Path, url: str, *, write: bool) -> bool:
    """Whether the notebook already agrees; with `write`, make it agree."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    intro, install = expected_cells(notebook, path.name, url)
    index = _install_cell_index(notebook)
    agrees = notebook.cells[0].source == intro and notebook.cells[index].source == install
    if write and not agrees:
        notebook.cells[0].source = intro
        notebook.cells[index].source = install
        nbformat.write(notebook, path)
    return agrees


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report disagreements")
    parser.add_argument("--notebooks", default=str(ROOT / "notebooks"))
    args = parser.parse_args(argv)
    url = repository_url()
    paths = sorted(pathlib.Path(args.notebooks).glob("*.ipynb"))
    stale = [p.name for p in paths if not sync(p, url, write=not args.check)]
    if args.check and stale:
        print(f"badge or install cell out of date in: {', '.join(stale)}; "
              "run python docs/colab_cells.py", file=sys.stderr)
        return 1
    print(f"{len(paths)} notebooks {'checked' if args.check else 'written'} against {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
