"""Build the course website: the executed notebooks as web pages, the results on the index.

    python docs/build_site.py                       # what `make site` runs
    python docs/build_site.py --executed build --out build/site

The pages are rendered by MkDocs with the mkdocs-jupyter plugin (Material theme). We use
MkDocs rather than Jupyter Book 2 because Jupyter Book 2 fetches its page theme from the
web at build time, while MkDocs builds from installed packages alone, so the site builds on
an offline machine and in CI. MathJax 3 is copied from the `django-static-mathjax`
package (plain static files) instead of the CDN for the same reason.

Each notebook page comes from the executed copy that `make reproduce` wrote to `build/`
when there is one (and it is not older than the notebook); otherwise the notebook is
executed here in SMOKE mode, and its page says so.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SMOKE_NOTE = (
    "> This page was executed in SMOKE mode (tiny data, few epochs) because no full run "
    "of `make reproduce` was found; its numbers are not the course's results."
)

# MathJax 3 with SVG output needs no web fonts. The notebook pages load this small script
# instead of the CDN; it sets `$...$` as inline math (as Jupyter does) and loads MathJax from
# beside itself, so the site works from any folder and offline.
MATHJAX_LOADER = """window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], processEscapes: true},
  svg: {fontCache: "global"}
};
(function () {
  var script = document.createElement("script");
  script.src = document.currentScript.src.replace(/[^/]*$/, "tex-svg-full.js");
  script.async = true;
  document.head.appendChild(script);
})();
"""


# The notebooks' Colab badge image lives on colab.research.google.com; the site shows this
# local one instead (the link still opens Colab), so a page needs nothing from the web.
COLAB_BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
COLAB_BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img"
 aria-label="Open in Colab"><rect width="117" height="20" rx="3" fill="#555"/>
<rect x="20" width="97" height="20" rx="3" fill="#f9ab00"/><rect x="20" width="6" height="20"
 fill="#f9ab00"/><circle cx="10" cy="10" r="5" fill="none" stroke="#f9ab00" stroke-width="2.5"/>
<text x="68" y="14" fill="#fff" font-family="Verdana,sans-serif" font-size="11"
 text-anchor="middle">Open in Colab</text></svg>
"""


def _section(markdown: str, heading: str) -> str:
    """The text of `## heading` up to the next `## ` heading (empty if absent)."""
    match = re.search(rf"^## {re.escape(heading)}.*?$(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    return match.group(1).strip() if match else ""


def _title(notebook_path: pathlib.Path) -> str:
    import nbformat

    notebook = nbformat.read(notebook_path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook_path.stem.replace("_", " ")


def executed_notebooks(
    notebooks_dir: pathlib.Path, executed_dir: pathlib.Path, smoke_dir: pathlib.Path
) -> list[tuple[pathlib.Path, bool]]:
    """(executed notebook, ran in SMOKE) for every course notebook, executing what is missing."""
    from rnn_tf.notebooks import find_notebooks, run_notebook

    sources = find_notebooks(notebooks_dir)
    if not sources:
        raise SystemExit(f"error: no notebooks found in {notebooks_dir}")
    pages = []
    for source in sources:
        executed = executed_dir / source.name
        if executed.is_file() and executed.stat().st_mtime >= source.stat().st_mtime:
            pages.append((executed, False))
            continue
        print(f"{source.name}: no executed copy in {executed_dir}; running it in SMOKE mode",
              flush=True)
        parameters = {"SMOKE": True, "FIGURES_DIR": str(smoke_dir / "figures")}
        run = run_notebook(source, smoke_dir, parameters, html=False)
        if not run.ok:
            raise SystemExit(f"error: {source.name} failed in SMOKE mode:\n{run.error}")
        pages.append((run.executed_path, True))
    return pages


def index_page(readme: str, pages: list[tuple[str, str]]) -> str:
    """The index: what the course is, its notebooks, and the README's results table."""
    intro = readme.split("\n## ", 1)[0]
    intro = "\n".join(line for line in intro.splitlines() if not line.startswith("# "))
    lines = ["# rnn_tf: recurrent networks, taught in the page", "", intro.strip(), "",
             "## The course", ""]
    lines += [f"{i}. [{title}]({page})" for i, (page, title) in enumerate(pages, start=1)]
    results = _section(readme, "Results")
    if results:
        lines += ["", "## Results", "", results]
    return "\n".join(lines) + "\n"


def _copy_local_images(markdown: str, source_root: pathlib.Path, docs: pathlib.Path) -> None:
    """Copy the images the markdown shows by relative path (the README's figures) into the site."""
    for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", markdown):
        source = source_root / target
        if "://" not in target and source.is_file():
            (docs / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, docs / target)


def _mkdocs_config(site_dir: pathlib.Path, nav: list[tuple[str, str]]) -> str:
    nav_lines = "\n".join(f"  - {title!r}: {page}" for page, title in nav)
    return f"""site_name: rnn_tf course
site_dir: {site_dir}
use_directory_urls: false
theme:
  name: material
  font: false
nav:
  - Home: index.md
{nav_lines}
markdown_extensions:
  - tables
plugins:
  - search
  - mkdocs-jupyter:
      include_source: true
      execute: false
      ignore_h1_titles: false
      custom_mathjax_url: assets/mathjax/load.js
"""


def build_site(
    notebooks: list[tuple[pathlib.Path, bool]],
    out_dir: pathlib.Path,
    readme_path: pathlib.Path = ROOT / "README.md",
    work_dir: pathlib.Path | None = None,
) -> pathlib.Path:
    """Write the static site to `out_dir` from executed notebooks; return its index.html."""
    import mathjax  # the MathJax 3 files, from the django-static-mathjax package
    import nbformat

    out_dir = out_dir.resolve()
    work_dir = (work_dir or out_dir.with_name(out_dir.name + "-src")).resolve()
    docs = work_dir / "docs"
    if docs.exists():
        shutil.rmtree(docs)  # ours: rebuilt from scratch on every run
    docs.mkdir(parents=True)
    nav = []
    for executed, smoke in notebooks:
        notebook = nbformat.read(executed, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = cell.source.replace(COLAB_BADGE_URL, "assets/colab-badge.svg")
        if smoke:
            notebook.cells.insert(0, nbformat.v4.new_markdown_cell(SMOKE_NOTE))
        nbformat.write(notebook, docs / executed.name)
        nav.append((executed.name, _title(executed)))
    mathjax_dir = docs / "assets" / "mathjax"
    mathjax_dir.mkdir(parents=True)
    bundle = pathlib.Path(mathjax.__file__).parent / "static/mathjax/es5/tex-svg-full.js"
    shutil.copy2(bundle, mathjax_dir / bundle.name)
    (mathjax_dir / "load.js").write_text(MATHJAX_LOADER, encoding="utf-8")
    (docs / "assets" / "colab-badge.svg").write_text(COLAB_BADGE_SVG, encoding="utf-8")
    readme = readme_path.read_text(encoding="utf-8")
    pages = [(name.replace(".ipynb", ".html"), title) for name, title in nav]
    index = index_page(readme, pages)
    (docs / "index.md").write_text(index, encoding="utf-8")
    _copy_local_images(index, readme_path.parent, docs)
    config = work_dir / "mkdocs.yml"
    config.write_text(_mkdocs_config(out_dir, nav), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "--clean", "-f", str(config)],
        check=True,
    )
    return out_dir / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", default=str(ROOT / "notebooks"))
    parser.add_argument("--executed", default=str(ROOT / "build"),
                        help="where `make reproduce` wrote the executed notebooks")
    parser.add_argument("--out", default=str(ROOT / "build" / "site"))
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    notebooks = executed_notebooks(
        pathlib.Path(args.notebooks), pathlib.Path(args.executed), out.with_name("site-smoke")
    )
    index = build_site(notebooks, out)
    print(f"site: {index} ({len(notebooks) + 1} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
