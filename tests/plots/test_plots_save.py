"""save_figure and the package's public API."""

import inspect

import matplotlib.figure
import pytest

from rnn_tf import plots
from rnn_tf.plots import plot_unrolled_rnn, save_figure


@pytest.fixture(scope="module")
def small_figure():
    fig = matplotlib.figure.Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [1, 0])
    fig.suptitle("small")
    return fig


def test_save_figure_writes_png_and_svg(small_figure, tmp_path):
    paths = save_figure(small_figure, tmp_path / "fig")
    assert [p.name for p in paths] == ["fig.png", "fig.svg"] and all(p.is_file() for p in paths)


def test_save_figure_writes_an_svg_document(small_figure, tmp_path):
    (svg,) = save_figure(small_figure, tmp_path / "fig", formats=("svg",))
    assert "<svg" in svg.read_text()


def test_save_figure_writes_identical_svg_for_a_regenerated_figure(tmp_path):
    # Regenerating the README figures must not show up as a diff (no date, fixed ids).
    (first,) = save_figure(plot_unrolled_rnn(timesteps=1), tmp_path / "a", formats=("svg",))
    (second,) = save_figure(plot_unrolled_rnn(timesteps=1), tmp_path / "b", formats=("svg",))
    assert first.read_bytes() == second.read_bytes()


def test_save_figure_creates_missing_folders(small_figure, tmp_path):
    (png,) = save_figure(small_figure, tmp_path / "new" / "dir" / "fig", formats=("png",))
    assert png.is_file()


def test_save_figure_rejects_an_unknown_format(small_figure, tmp_path):
    with pytest.raises(ValueError, match="`formats`"):
        save_figure(small_figure, tmp_path / "fig", formats=("png", "gif87"))


def test_save_figure_rejects_a_path_with_an_image_extension(small_figure, tmp_path):
    with pytest.raises(ValueError, match="`path_without_ext`"):
        save_figure(small_figure, tmp_path / "fig.png")


def test_save_figure_rejects_a_non_figure(tmp_path):
    with pytest.raises(ValueError, match="`fig`"):
        save_figure("figure", tmp_path / "fig")


@pytest.mark.parametrize("dpi", [0, 72.5, True])
def test_save_figure_rejects_a_bad_dpi(small_figure, tmp_path, dpi):
    with pytest.raises(ValueError, match="`dpi`"):
        save_figure(small_figure, tmp_path / "fig", dpi=dpi)


@pytest.mark.parametrize("name", plots.__all__)
def test_package_exports_each_public_function(name):
    assert callable(getattr(plots, name))


@pytest.mark.parametrize("name", plots.__all__)
def test_public_function_documents_args_returns_and_an_example(name):
    doc = inspect.getdoc(getattr(plots, name))
    assert all(section in doc for section in ("Returns:", "Example:"))


def test_no_plot_module_uses_pyplot():
    # pyplot keeps global figures open; the figure functions build Figure() directly.
    for module in (plots.diagrams, plots.gradients, plots.training, plots.io):
        assert "pyplot" not in inspect.getsource(module)
