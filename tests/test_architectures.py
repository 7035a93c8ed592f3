"""The five RNN-type builders x four cells: shapes, learning, attention, saving."""

import keras
import numpy as np
import pytest

from rnn_tf import architectures
from rnn_tf.architectures import CELLS
from rnn_tf.metrics import compile_for_tokens

BATCH, T, T_TARGET = 5, 7, 4


def _builders(cell):
    """(model, inputs, expected output shape) for each type."""
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 9, size=(BATCH, T))
    return {
        "one_to_one": (
            architectures.one_to_one(input_dim=6, num_classes=3, cell=cell, units=8),
            rng.normal(size=(BATCH, 6)).astype("float32"),
            (BATCH, 3),
        ),
        "one_to_many": (
            architectures.one_to_many(feature_dim=6, vocab_size=11, cell=cell, units=8),
            [rng.normal(size=(BATCH, 6)).astype("float32"), tokens],
            (BATCH, T, 11),
        ),
        "many_to_one": (
            architectures.many_to_one(2, cell=cell, units=8, input_dim=3),
            rng.normal(size=(BATCH, T, 3)).astype("float32"),
            (BATCH, 2),
        ),
        "many_to_many": (
            architectures.many_to_many(4, cell=cell, units=8, vocab_size=9),
            tokens,
            (BATCH, T, 4),
        ),
        "encoder_decoder": (
            architectures.encoder_decoder(9, 12, cell=cell, units=8),
            [tokens, rng.integers(1, 12, size=(BATCH, T_TARGET))],
            (BATCH, T_TARGET, 12),
        ),
    }


@pytest.mark.parametrize("cell", CELLS)
def test_every_type_has_the_documented_output_shape_and_probabilities(cell):
    for name, (model, inputs, shape) in _builders(cell).items():
        outputs = np.asarray(model(inputs))
        assert outputs.shape == shape, name
        np.testing.assert_allclose(outputs.sum(-1), 1.0, rtol=1e-5, err_msg=name)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_bidirectional_stacks_build(cell):
    model = architectures.many_to_many(
        3, cell=cell, units=4, input_dim=2, num_layers=2, bidirectional=True
    )
    assert model(np.zeros((2, 5, 2), "float32")).shape == (2, 5, 3)
    assert sum("bidirectional" in layer.name for layer in model.layers) == 2


def _fit_losses(model, x, y, padding_id=None, epochs=15):
    compile_for_tokens(model, learning_rate=1e-2, padding_id=padding_id)
    return model.fit(x, y, epochs=epochs, batch_size=32, verbose=0).history["loss"]


def test_each_type_learns_a_tiny_task():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n = 128
    falls = {}

    x = rng.normal(size=(n, 4)).astype("float32")
    losses = _fit_losses(architectures.one_to_one(4, 2, units=8), x, (x[:, 0] > 0).astype(int))
    falls["one_to_one"] = (losses[0], losses[-1])

    start = rng.integers(1, 6, size=n)
    targets = (start[:, None] + np.arange(4)) % 6 + 1
    decoder_in = np.concatenate([np.full((n, 1), 7), targets[:, :-1]], axis=1)
    model = architectures.one_to_many(6, vocab_size=8, units=16)
    losses = _fit_losses(model, [np.eye(6, dtype="float32")[start], decoder_in], targets, 0)
    falls["one_to_many"] = (losses[0], losses[-1])

    seq = rng.normal(size=(n, 6, 1)).astype("float32")
    losses = _fit_losses(
        architectures.many_to_one(2, units=8, input_dim=1), seq, (seq.sum((1, 2)) > 0).astype(int)
    )
    falls["many_to_one"] = (losses[0], losses[-1])

    losses = _fit_losses(
        architectures.many_to_many(2, units=8, input_dim=1), seq, (seq[..., 0] > 0).astype(int)
    )
    falls["many_to_many"] = (losses[0], losses[-1])

    source = rng.integers(1, 6, size=(n, 4))
    target = np.concatenate([source[:, ::-1], np.full((n, 1), 7)], axis=1)
    target_in = np.concatenate([np.full((n, 1), 6), target[:, :-1]], axis=1)
    model = architectures.encoder_decoder(6, 8, cell="vanilla", units=16)
    losses = _fit_losses(model, [source, target_in], target, 0)
    falls["encoder_decoder"] = (losses[0], losses[-1])

    for name, (first, last) in falls.items():
        assert last < 0.8 * first, f"{name}: loss {first:.3f} -> {last:.3f}"


def test_attention_scores_are_distributions_over_unpadded_source_steps():
    model = architectures.encoder_decoder(6, 8, cell="gru", units=8, attention=True)
    source = np.array([[1, 2, 3, 0, 0]])
    scores = architectures.attention_scores(model, source, np.array([[6, 1, 2]]))
    assert scores.shape == (1, 3, 5)
    np.testing.assert_allclose(scores.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_less(scores[0, :, 3:], 1e-6)
    with pytest.raises(ValueError, match="attention=True"):
        architectures.attention_scores(architectures.encoder_decoder(6, 8), source, source)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: architectures.many_to_one(2, cell="rnn", input_dim=1), "`cell`"),
        (lambda: architectures.many_to_one(2, input_dim=1, vocab_size=3), "exactly one"),
        (lambda: architectures.many_to_one(2), "exactly one"),
        (lambda: architectures.one_to_one(0, 2), "input_dim"),
        (lambda: architectures.many_to_many(2, units=-1, input_dim=1), "units"),
        (lambda: architectures.many_to_one(2, input_dim=1, num_layers=0), "num_layers"),
        (lambda: architectures.many_to_one(2, vocab_size=5, embedding_dim=0), "embedding_dim"),
        (lambda: architectures.one_to_many(3, 5, embedding_dim=0), "embedding_dim"),
        (lambda: architectures.encoder_decoder(4, 4, embedding_dim=-2), "embedding_dim"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_compiled_token_model_saves_and_loads_in_safe_mode(tmp_path):
    model = architectures.encoder_decoder(6, 8, cell="vanilla", units=4, attention=True)
    compile_for_tokens(model, padding_id=0)
    source, target_in = np.array([[1, 2, 3]]), np.array([[6, 1]])
    model.evaluate([source, target_in], np.array([[1, 7]]), verbose=0)
    model.save(tmp_path / "translator.keras")
    loaded = keras.saving.load_model(tmp_path / "translator.keras", safe_mode=True)
    np.testing.assert_allclose(loaded([source, target_in]), model([source, target_in]), rtol=1e-6)
    assert architectures.attention_scores(loaded, source, target_in).shape == (1, 2, 3)




def test_attention_is_chosen_by_name_not_by_position():
    with pytest.raises(TypeError):
        architectures.encoder_decoder(4, 4, "gru", 8, None, True)
    assert architectures.encoder_decoder(4, 4, attention=True).get_layer("attention")
