"""The five RNN-type builders x four cells: shapes, learning, decoding, attention."""

import keras
import numpy as np
import pytest

from rnn_tf import architectures
from rnn_tf.architectures import CELLS

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
    architectures.compile_for_tokens(model, learning_rate=1e-2, padding_id=padding_id)
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


def test_masked_accuracy_skips_padding():
    metric = architectures.MaskedAccuracy(padding_id=0)
    y_true = np.array([[3, 1, 0, 0]])
    y_pred = np.eye(4)[[[3, 2, 0, 1]]]  # right, wrong, (pad), (pad)
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx(0.5)


def test_padding_is_left_out_of_the_loss():
    model = architectures.many_to_many(3, units=4, vocab_size=5)
    architectures.compile_for_tokens(model, padding_id=0)
    x = np.array([[1, 2, 3, 4]])
    full = model.evaluate(x, np.array([[1, 2, 0, 0]]), verbose=0, return_dict=True)
    probs = np.asarray(model(x))[0]
    expected = -np.mean(np.log([probs[0, 1], probs[1, 2]]))
    assert full["loss"] == pytest.approx(expected, rel=1e-4)
    assert full["accuracy"] == pytest.approx(np.mean(probs[[0, 1]].argmax(-1) == [1, 2]))


class _Table:
    """next_probs from a fixed table: P(next | last token), independent of the input."""

    def __init__(self, table):
        self.table = np.asarray(table, dtype="float64")

    def __call__(self, rows, prefixes):
        return self.table[prefixes[:, -1]]


# ids: 0 pad, 1 start, 2 end, 3 "a", 4 "b". Greedy takes "a" (0.6) then is forced into a
# poor continuation; "b" (0.4) leads to end with certainty: 0.4 > 0.6 * 0.5.
_TRAP = [
    [1, 0, 0, 0, 0],
    [0, 0, 0, 0.6, 0.4],
    [1, 0, 0, 0, 0],
    [0, 0, 0.5, 0.25, 0.25],
    [0, 0, 1.0, 0, 0],
]


def test_beam_search_finds_the_sequence_greedy_misses():
    greedy = architectures._generate(_Table(_TRAP), 1, 1, 2, 5, "greedy", 1, 1.0, 0)
    beam = architectures._generate(_Table(_TRAP), 1, 1, 2, 5, "beam", 2, 1.0, 0)
    assert greedy == [[3]]
    assert beam == [[4]]


# ids: 0 pad, 1 start, 2 end, 3 "a", 4 "b". Ending at once (0.52) beats "a b" (0.48) on
# the raw sum of log-probabilities; per length, the longer output wins.
_SHORT_BIAS = [
    [1, 0, 0, 0, 0],
    [0, 0, 0.52, 0.48, 0],
    [1, 0, 0, 0, 0],
    [0, 0, 0, 0, 1.0],
    [0, 0, 1.0, 0, 0],
]


def test_length_penalty_lets_the_longer_beam_win():
    args = (_Table(_SHORT_BIAS), 2, 1, 2, 5, "beam", 2, 1.0, 0)
    assert architectures._generate(*args) == [[], []]
    assert architectures._generate(*args, 0.0) == [[], []]
    # ((5 + 1) / 6) ** 1 = 1 for the empty output (its end token); (8 / 6) for "a b end":
    # log 0.48 / (8 / 6) = -0.55 > log 0.52 = -0.65.
    assert architectures._generate(*args, 1.0) == [[3, 4], [3, 4]]


def test_beam_of_width_one_is_greedy_and_sampling_is_seeded():
    args = (_Table(_TRAP), 3, 1, 2, 6)
    greedy = architectures._generate(*args, "greedy", 1, 1.0, 0)
    assert architectures._generate(*args, "beam", 1, 1.0, 0) == greedy
    first = architectures._generate(*args, "sample", 1, 1.0, 7)
    assert first == architectures._generate(*args, "sample", 1, 1.0, 7)
    assert all(seq and set(seq) <= {3, 4} for seq in first)


def test_decoders_follow_the_model_and_stop_at_max_length():
    model = architectures.encoder_decoder(6, 8, units=8, attention=True)
    source = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    for method in architectures.DECODING_METHODS:
        ids = architectures.decode_sequence(model, source, 6, 7, max_length=3, method=method)
        assert len(ids) == 2 and all(len(seq) <= 3 for seq in ids)
        assert all(0 < token < 8 and token != 7 for seq in ids for token in seq)
    greedy = architectures.decode_sequence(model, source, 6, 7, max_length=3)
    # Greedy by hand: feed the argmax back.
    prefix = np.full((2, 1), 6)
    for _ in range(3):
        nxt = np.asarray(model([source, prefix]))[:, -1].argmax(-1)
        prefix = np.concatenate([prefix, nxt[:, None]], axis=1)
    for row, seq in zip(prefix[:, 1:], greedy):
        expected = []
        for token in row:
            if token in (0, 7):
                break
            expected.append(int(token))
        assert seq == expected

    captioner = architectures.one_to_many(3, vocab_size=6, max_length=4, cell="lstm", units=4)
    ids = architectures.decode_one_to_many(captioner, np.ones((2, 3)), 4, 5, 10, method="beam")
    assert len(ids) == 2 and all(len(seq) <= 4 for seq in ids)


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
        (lambda: architectures.decode_sequence(
            architectures.encoder_decoder(4, 4), np.zeros((1, 2), "float32"), 1, 2, 3
        ), "source_ids"),
        (lambda: architectures._generate(_Table(_TRAP), 1, 1, 2, 3, "top-k", 1, 1.0, 0),
         "method"),
        (lambda: architectures._generate(_Table(_TRAP), 1, 1, 2, 3, "sample", 1, 0.0, 0),
         "temperature"),
        (lambda: architectures._generate(_Table(_TRAP), 1, 1, 2, 3, "beam", 2, 1.0, 0, -1.0),
         "length_penalty"),
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
    architectures.compile_for_tokens(model, padding_id=0)
    source, target_in = np.array([[1, 2, 3]]), np.array([[6, 1]])
    model.evaluate([source, target_in], np.array([[1, 7]]), verbose=0)
    model.save(tmp_path / "translator.keras")
    loaded = keras.saving.load_model(tmp_path / "translator.keras", safe_mode=True)
    np.testing.assert_allclose(loaded([source, target_in]), model([source, target_in]), rtol=1e-6)
    assert architectures.attention_scores(loaded, source, target_in).shape == (1, 2, 3)


def test_decoders_never_emit_padding_or_the_start_token():
    # P(pad | start) = 0.5 and P(start | start) = 0.3: both must be skipped for "a" (0.2).
    table = [[1, 0, 0, 0, 0], [0.5, 0.3, 0, 0.2, 0], [1, 0, 0, 0, 0],
             [0, 0, 1.0, 0, 0], [0, 0, 1.0, 0, 0]]
    for method, width in (("greedy", 1), ("beam", 2), ("sample", 1)):
        assert architectures._generate(_Table(table), 2, 1, 2, 6, method, width, 1.0, 0) == [
            [3], [3]
        ], method


def test_masked_accuracy_accepts_labels_with_a_trailing_axis():
    metric = architectures.MaskedAccuracy(padding_id=0)
    metric.update_state(np.array([[[3], [1], [0], [0]]]), np.eye(4)[[[3, 2, 0, 1]]])
    assert float(metric.result()) == pytest.approx(0.5)
