"""Perplexity against known values; sampling is seeded, respects temperature and the window."""

import numpy as np
import pytest

from rnn_tf import architectures
from rnn_tf.generation import perplexity, sample_text

VOCAB = ["[UNK]", "a", "b", "c"]


def uniform(x, training=False):
    return np.full(np.shape(x) + (len(VOCAB),), 1.0 / len(VOCAB))


def always_b_then_c(x, training=False):
    """P(next) puts 0.95 on the successor of the current character (a->b->c->a), 0.025 on
    each other character and 0 on id 0."""
    x = np.asarray(x)
    successor = x % 3 + 1
    probs = np.full(x.shape + (len(VOCAB),), 0.05 / 2)
    probs[..., 0] = 0.0
    np.put_along_axis(probs, successor[..., None], 0.95, axis=-1)
    return probs


def test_uniform_model_has_perplexity_equal_to_vocabulary_size():
    x = np.random.default_rng(0).integers(1, 4, size=(7, 5))
    assert perplexity(uniform, x, x, batch_size=3) == pytest.approx(len(VOCAB))


def test_perplexity_matches_exp_of_mean_cross_entropy():
    x = np.array([[1, 2, 3], [3, 1, 2]])
    right = x % 3 + 1
    assert perplexity(always_b_then_c, x, right) == pytest.approx(1 / 0.95)
    wrong = np.ones_like(x) * 1
    probs = always_b_then_c(x)
    expected = np.exp(-np.mean(np.log(np.take_along_axis(probs, wrong[..., None], -1))))
    assert perplexity(always_b_then_c, x, wrong) == pytest.approx(expected)


def test_padded_positions_are_left_out_with_padding_id():
    x = np.array([[1, 2, 3], [3, 1, 2]])
    right = x % 3 + 1
    padded = right.copy()
    padded[0, 2] = padded[1, 1:] = 0  # scored as padding, not as the wrong id 0
    assert perplexity(always_b_then_c, x, padded, padding_id=0) == pytest.approx(1 / 0.95)
    # Without padding_id, the padded targets count (with P = 0, clipped): far worse.
    assert perplexity(always_b_then_c, x, padded) > 100


def test_perplexity_of_a_keras_model_agrees_with_its_loss():
    model = architectures.many_to_many(4, cell="gru", units=4, vocab_size=4)
    architectures.compile_for_tokens(model)
    x = np.random.default_rng(1).integers(1, 4, size=(6, 5))
    y = np.roll(x, -1, axis=1)
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert perplexity(model, x, y) == pytest.approx(np.exp(loss), rel=1e-4)


def test_low_temperature_follows_the_model_and_sampling_is_seeded():
    text = sample_text(always_b_then_c, VOCAB, "a", length=30, temperature=0.05)
    assert text == "a" + "bca" * 10
    hot = sample_text(always_b_then_c, VOCAB, "a", length=200, temperature=3.0, seed=1)
    assert hot == sample_text(always_b_then_c, VOCAB, "a", length=200, temperature=3.0, seed=1)
    assert hot != "a" + "bca" * 66 + "bc" and "[UNK]" not in hot


def test_model_sees_at_most_the_window():
    seen = []

    def recorder(x, training=False):
        seen.append(np.shape(x)[1])
        return uniform(x)

    sample_text(recorder, VOCAB, "abcabc", length=5, window=4)
    assert max(seen) == 4


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sample_text(uniform, VOCAB, "xyz"), "prompt"),
        (lambda: sample_text(uniform, VOCAB, ""), "prompt"),
        (lambda: sample_text(uniform, VOCAB, "a", temperature=0), "temperature"),
        (lambda: sample_text(uniform, VOCAB, "a", length=0), "length"),
        (lambda: perplexity(uniform, np.ones((2, 3), int), np.ones((2, 4), int)), "same shape"),
        (lambda: perplexity(uniform, np.ones((2, 3), int), np.full((2, 3), 9)), "outside"),
        (lambda: perplexity(uniform, np.ones((2, 3), int), np.ones((2, 3))), "`y`.*integer"),
        (lambda: perplexity(uniform, np.ones((2, 3)), np.ones((2, 3), int)), "`x`.*integer"),
        (lambda: perplexity(uniform, np.ones((1, 2), int), np.zeros((1, 2), int), padding_id=0),
         "only the padding"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
