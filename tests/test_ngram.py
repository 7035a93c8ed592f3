"""The character n-gram baseline against counts worked out by hand."""

import numpy as np
import pytest

from rnn_tf.ngram import CharNGram


def test_probabilities_are_smoothed_counts_worked_by_hand():
    train = np.array([1, 2, 1, 2, 1, 3])  # bigrams: 12 twice, 21 twice, 13 once
    model = CharNGram(order=2, vocab_size=4, k=0.5).fit(train)
    log_p = model.log_probabilities(np.array([1, 2, 1, 3, 0]))
    # Context 1 is followed 3 times (2, 2, 3); context 2 twice (1, 1); context 3 never.
    expected = [(2 + 0.5) / (3 + 2), (2 + 0.5) / (2 + 2), (1 + 0.5) / (3 + 2), 0.5 / (0 + 2)]
    np.testing.assert_allclose(np.exp(log_p), expected)


def test_each_context_gives_a_distribution_and_the_start_uses_a_shorter_one():
    train = np.random.default_rng(0).integers(0, 5, 200)
    model = CharNGram(order=3, vocab_size=5, k=0.1).fit(train)
    for context in ([1, 2], [4, 4], [0, 3]):
        total = sum(np.exp(model.log_probabilities(np.array(context + [c]))[-1])
                    for c in range(5))
        assert total == pytest.approx(1.0)
    # Position 1 has one character before it: the bigram estimate, not the trigram one.
    bigram = CharNGram(order=2, vocab_size=5, k=0.1).fit(train)
    text = np.array([3, 1, 4])
    assert model.log_probabilities(text)[0] == pytest.approx(bigram.log_probabilities(text)[0])
    assert model.log_probabilities(text)[1] != pytest.approx(bigram.log_probabilities(text)[1])


def test_a_longer_context_fits_a_repeating_text_better():
    text = np.tile([1, 2, 3, 1, 3, 2], 50)
    scores = {order: np.exp(-CharNGram(order, 4, k=0.01).fit(text).log_probabilities(text).mean())
              for order in (1, 2, 3)}
    assert scores[3] < scores[2] < scores[1]
    assert scores[3] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: CharNGram(0, 4), "order"),
        (lambda: CharNGram(2, 4, k=0.0), "`k`"),
        (lambda: CharNGram(30, 1000), "2 \\*\\* 62"),
        (lambda: CharNGram(2, 4).fit(np.array([1, 5])), "outside"),
        (lambda: CharNGram(2, 4).fit(np.array([[1, 2]])), "1-D"),
        (lambda: CharNGram(2, 4).log_probabilities(np.array([1, 2])), "not fitted"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
