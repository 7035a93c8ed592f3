"""Shared test setup: quiet TensorFlow, headless matplotlib, seeds, shared-data lookup,
and a spy on the fused op's batch slices."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("AUTOGRAPH_STRICT_CONVERSION", "1")

import pathlib  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed_everything():
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def shared_data_dir():
    """The real datasets of ../shared/data (or RNN_TF_DATA_DIR); skip when absent."""
    candidates = [os.environ.get("RNN_TF_DATA_DIR"), str(SHARED_DATA)]
    for candidate in candidates:
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate)
    pytest.skip("real datasets not found in ../shared/data or RNN_TF_DATA_DIR")


@pytest.fixture
def slices_built(monkeypatch):
    """The slice counts each time the fused op built its sliced path (`slice_sizes` is
    called only there)."""
    from rnn_tf.bptt import fused

    built = []
    original = fused.slice_sizes

    def counting(rows, parts):
        built.append(parts)
        return original(rows, parts)

    monkeypatch.setattr(fused, "slice_sizes", counting)
    return built
