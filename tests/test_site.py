"""The course website builds, and a real browser (headless Chromium) renders it cleanly."""

import base64
import functools
import http.server
import importlib.util
import io
import pathlib
import re
import shutil
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "docs" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_bytes() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1.5))
    figure.add_subplot().plot([0, 1, 2], [1, 0, 1])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _executed_notebook(path: pathlib.Path, title: str) -> pathlib.Path:
    """A small notebook as `make reproduce` leaves it: Colab badge, math, code, an image."""
    import nbformat

    image = nbformat.v4.new_output(
        "display_data", data={"image/png": base64.b64encode(_png_bytes()).decode()}
    )
    printed = nbformat.v4.new_output("stream", name="stdout", text="accuracy 0.93\n")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(
            f"# {title}\n\n[![Open In Colab](https://colab.research.google.com/assets/"
            f"colab-badge.svg)](https://colab.research.google.com/github/o/r/blob/main/{path.name})"
            "\n\nThe update $h_t = \\tanh(x_t U + b)$."
        ),
        nbformat.v4.new_code_cell("print('accuracy 0.93')", outputs=[printed], execution_count=1),
        nbformat.v4.new_code_cell("plot()", outputs=[image], execution_count=2),
    ])
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs_jupyter", reason="the site needs the `site` extra")
    tmp = tmp_path_factory.mktemp("site")
    notebooks = [
        (_executed_notebook(tmp / "01_first.ipynb", "First lesson"), False),
        (_executed_notebook(tmp / "02_second.ipynb", "Second lesson"), True),
    ]
    index = _load_builder().build_site(notebooks, tmp / "out", work_dir=tmp / "src")
    return index.parent


def test_site_has_an_index_and_one_page_per_notebook(site):
    assert (site / "index.html").is_file()
    assert (site / "01_first.html").is_file() and (site / "02_second.html").is_file()
    index = (site / "index.html").read_text()
    assert "01_first.html" in index and "Second lesson" in index


def test_index_carries_the_readme_results_table(site):
    index = (site / "index.html").read_text()
    assert "Results" in index and "<table>" in index


def test_a_page_run_in_smoke_mode_says_so(site):
    assert "SMOKE mode" in (site / "02_second.html").read_text()
    assert "SMOKE mode" not in (site / "01_first.html").read_text()


def test_mathjax_is_served_from_the_site_not_a_cdn(site):
    page = (site / "01_first.html").read_text()
    assert "assets/mathjax/load.js" in page
    assert not re.search(r"https?://[^\"']*mathjax", page, re.I)


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)")
@pytest.mark.parametrize("page", ["index.html", "01_first.html", "02_second.html"])
def test_page_renders_in_chromium_without_errors_or_broken_images(server, page, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    problems = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        tab = browser.new_page()
        tab.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        tab.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        tab.goto(f"{server}/{page}", wait_until="networkidle")
        if page != "index.html":  # MathJax typesets the notebook's $...$ as SVG
            tab.wait_for_selector("mjx-container svg", timeout=15_000)
        broken = tab.eval_on_selector_all(
            "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        images = tab.eval_on_selector_all("img", "imgs => imgs.length")
        shot = tmp_path / f"{page}.png"
        tab.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert not problems, problems
    assert not broken, f"images that did not load: {broken}"
    if page != "index.html":
        assert images >= 1, "the notebook's figure is missing from the page"
    assert shot.stat().st_size > 5_000  # a rendered page, not a blank one
