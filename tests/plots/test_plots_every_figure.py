"""Properties every figure shares: a Figure with a title and labelled axes, a sound PNG."""

import matplotlib.figure
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
from plot_samples import FIGURES, PNG_SIGNATURE


def test_returns_a_matplotlib_figure(rendered):
    _, fig, _ = rendered
    assert isinstance(fig, matplotlib.figure.Figure)


def test_has_a_non_empty_title(rendered):
    _, fig, _ = rendered
    assert fig.get_suptitle().strip()


def _visible_axes(fig):
    return [ax for ax in fig.axes if ax.axison]


def test_every_plotting_axis_has_an_x_label(rendered):
    _, fig, _ = rendered
    for ax in _visible_axes(fig):
        if hasattr(ax, "_colorbar"):
            continue
        assert ax.get_xlabel().strip(), f"axes {ax.get_title()!r} has no x label"


def test_every_plotting_axis_has_a_y_label_or_shares_one(rendered):
    _, fig, _ = rendered
    for ax in _visible_axes(fig):
        siblings = ax.get_shared_y_axes().get_siblings(ax)
        assert any(other.get_ylabel().strip() for other in siblings), (
            f"axes {ax.get_title()!r} has no y label"
        )


def test_does_not_leave_figures_open_in_pyplot(rendered):
    name, _, _ = rendered
    before = plt.get_fignums()
    FIGURES[name]()
    assert plt.get_fignums() == before


def test_saved_png_starts_with_the_png_signature(rendered):
    _, _, png = rendered
    assert png.read_bytes()[:8] == PNG_SIGNATURE


def test_saved_png_decodes_to_a_sensible_pixel_size(rendered):
    _, _, png = rendered
    height, width = matplotlib.image.imread(png).shape[:2]
    assert 400 <= width <= 4000 and 250 <= height <= 3000, (width, height)


def test_saved_png_is_not_blank(rendered):
    _, _, png = rendered
    pixels = matplotlib.image.imread(png)[..., :3]
    assert float(np.std(pixels)) > 0.05
