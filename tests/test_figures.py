"""`rnn-tf figures` writes one valid, non-blank PNG (and SVG) per tutorial figure."""

import matplotlib.image
import numpy as np
import pytest

from rnn_tf.cli import main

FIGURES = [
    "unrolled_rnn", "rnn_types", "bptt", "gradient_norms", "spectral_radius_sweep",
    "clipping", "gru_cell", "lstm_cell", "training_curves", "comparison", "accuracy_vs_delay",
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    assert main(["figures", "--out", str(out), "--quick"]) == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", FIGURES)
def test_cli_writes_a_valid_non_blank_png(rendered, name):
    path = rendered / f"{name}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(path)
    height, width = pixels.shape[:2]
    assert 200 <= width <= 6000 and 150 <= height <= 6000
    assert np.std(pixels[..., :3]) > 0.02  # not a single colour


@pytest.mark.slow
@pytest.mark.parametrize("name", FIGURES)
def test_cli_writes_an_svg_too(rendered, name):
    assert (rendered / f"{name}.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.slow
def test_comparison_numbers_are_saved_as_csv(rendered):
    import pandas as pd

    table = pd.read_csv(rendered / "comparison.csv")
    assert set(table["cell"]) == {"vanilla", "simple", "gru", "lstm"}
