"""Headless rendering of every figure, drawn once per test module and shared by its tests."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from plot_samples import FIGURES  # noqa: E402

from rnn_tf import plots  # noqa: E402


@pytest.fixture(scope="module", params=sorted(FIGURES))
def rendered(request, tmp_path_factory):
    """(name, figure, png path) for each figure."""
    fig = FIGURES[request.param]()
    base = tmp_path_factory.mktemp("figures") / request.param
    (png,) = plots.save_figure(fig, base, formats=("png",), dpi=72)
    return request.param, fig, png
