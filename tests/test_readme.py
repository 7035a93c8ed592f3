"""Every Python block of the README runs as written, top to bottom in one namespace.

The blocks leave their data to the reader (`x`, `y`); the test makes up small arrays of the
shapes the comments give, and runs in a temporary folder so that files the blocks write
(`saved_model`, `model.tflite`) land there.
"""

import pathlib
import re

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.M | re.S)


def test_the_readme_has_python_blocks_to_run():
    blocks = python_blocks(README.read_text())
    assert len(blocks) == README.read_text().count("```python"), "the finder missed a block"
    assert any("model.export" in block for block in blocks)


@pytest.mark.slow
def test_every_python_block_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    # x: (N, T, 8) float sequences, y: (N, T) integer labels, as the quick start says.
    namespace = {"x": rng.normal(size=(64, 12, 8)).astype("float32"),
                 "y": rng.integers(0, 8, size=(64, 12))}
    for number, block in enumerate(python_blocks(README.read_text()), start=1):
        code = compile(block, f"README.md python block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - the README's own code, run as a reader would
    assert (tmp_path / "model.tflite").stat().st_size > 0


@pytest.mark.slow
def test_the_masked_quick_start_model_needs_the_select_ops_lines(tmp_path):
    """What the README claims: the masked model fails with builtin ops alone and converts
    with TensorFlow's ops for its loop."""
    import keras
    import tensorflow as tf

    import rnn_tf

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"),
        keras.layers.Embedding(100, 8, mask_zero=True),
        rnn_tf.VanillaRNN(6),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.export(str(tmp_path / "saved"), verbose=False)
    with pytest.raises(Exception, match="TensorList|tensor_list|element_shape"):
        tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved")).convert()
    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved"))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS,
                                           tf.lite.OpsSet.SELECT_TF_OPS]
    converter._experimental_lower_tensor_list_ops = False
    converted = converter.convert()
    # The loop is kept as TensorFlow ops, which TFLite runs through its Flex delegate
    # (not linked into the Python interpreter of the pip package, so not run here).
    assert b"FlexTensorListReserve" in converted


def test_every_figure_the_readme_shows_is_refreshed_by_make_reproduce():
    makefile = (README.parent / "Makefile").read_text()
    listed = re.search(r"^README_FIGURES := (.*?)(?<!\\)$", makefile, flags=re.M | re.S)
    refreshed = set(listed.group(1).replace("\\\n", " ").split())
    shown = set(re.findall(r"\(docs/figures/([\w-]+)\.png\)", README.read_text()))
    assert shown and shown <= refreshed, shown - refreshed
