"""Decoding (greedy, sampling, beam) and language-model helpers against hand-worked tables."""

import keras
import numpy as np
import pytest

from rnn_tf import architectures
from rnn_tf.generation import (
    DECODING_METHODS,
    _beam_step,
    _generate,
    _sample_with_temperature,
    _top_k_stable,
    decode_one_to_many,
    decode_sequence,
    language_model_stepper,
    next_token_log_probabilities,
    perplexity,
    sample_text,
)
from rnn_tf.metrics import compile_for_tokens

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
    compile_for_tokens(model)
    x = np.random.default_rng(1).integers(1, 4, size=(6, 5))
    y = np.roll(x, -1, axis=1)
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert perplexity(model, x, y) == pytest.approx(np.exp(loss), rel=1e-4)


def test_low_temperature_follows_the_model_and_sampling_is_seeded():
    text = sample_text(always_b_then_c, VOCAB, "a", length=30, temperature=0.05, window=5)
    assert text == "a" + "bca" * 10
    hot = sample_text(always_b_then_c, VOCAB, "a", length=200, temperature=3.0, seed=1, window=5)
    assert hot == sample_text(always_b_then_c, VOCAB, "a", length=200, temperature=3.0, seed=1,
                              window=5)
    assert hot != "a" + "bca" * 66 + "bc" and "[UNK]" not in hot


def test_model_sees_at_most_the_window():
    seen = []

    def recorder(x, training=False):
        seen.append(np.shape(x)[1])
        return uniform(x)

    sample_text(recorder, VOCAB, "abcabc", length=5, window=4)
    assert max(seen) == 4


# --- one temperature sampler -------------------------------------------------------


def test_sampler_follows_softmax_of_log_probabilities_over_temperature():
    log_probs = np.log(np.array([[0.0, 0.6, 0.3, 0.1]]).clip(1e-30))
    rng = np.random.default_rng(0)
    for temperature in (0.5, 1.0, 2.0):
        draws = np.concatenate([
            _sample_with_temperature(log_probs, temperature, rng) for _ in range(20_000)
        ])
        expected = np.array([0.0, 0.6, 0.3, 0.1]) ** (1 / temperature)
        expected /= expected.sum()
        observed = np.bincount(draws, minlength=4) / draws.size
        np.testing.assert_allclose(observed, expected, atol=0.015)


def test_sample_text_and_the_sampling_decoder_share_one_sampler():
    # The same next-token distribution, seed and temperature: the same draws.
    probs = np.array([0.0, 0.5, 0.3, 0.2, 0.0])
    vocabulary = ["[UNK]", "a", "b", "c", "^"]

    def language_model(x, training=False):
        return np.broadcast_to(probs, np.shape(x) + probs.shape)

    text = sample_text(language_model, vocabulary, "a", length=40, temperature=0.7, seed=3,
                       window=1)
    # Start and end are both id 4 ("^"), which has probability 0: no early stop.
    (ids,) = _generate(
        lambda rows, prefixes: np.broadcast_to(probs, (len(prefixes), probs.size)),
        batch=1, start_id=4, end_id=4, max_length=40, method="sample", temperature=0.7,
        seed=3,
    )
    assert text[1:] == "".join(vocabulary[i] for i in ids)
    assert len(set(ids)) == 3


# --- decoding -----------------------------------------------------------------------


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
_ONE_ROW = {"batch": 1, "start_id": 1, "end_id": 2, "max_length": 5}


def test_beam_search_finds_the_sequence_greedy_misses():
    assert _generate(_Table(_TRAP), **_ONE_ROW, method="greedy") == [[3]]
    assert _generate(_Table(_TRAP), **_ONE_ROW, method="beam", beam_width=2) == [[4]]


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
    beam = {"batch": 2, "start_id": 1, "end_id": 2, "max_length": 5, "method": "beam",
            "beam_width": 2}
    assert _generate(_Table(_SHORT_BIAS), **beam) == [[], []]
    assert _generate(_Table(_SHORT_BIAS), **beam, length_penalty=0.0) == [[], []]
    # ((5 + 1) / 6) ** 1 = 1 for the empty output (its end token); (8 / 6) for "a b end":
    # log 0.48 / (8 / 6) = -0.55 > log 0.52 = -0.65.
    assert _generate(_Table(_SHORT_BIAS), **beam, length_penalty=1.0) == [[3, 4], [3, 4]]


def test_beam_of_width_one_is_greedy_and_sampling_is_seeded():
    rows = {"batch": 3, "start_id": 1, "end_id": 2, "max_length": 6}
    greedy = _generate(_Table(_TRAP), **rows, method="greedy")
    assert _generate(_Table(_TRAP), **rows, method="beam", beam_width=1) == greedy
    first = _generate(_Table(_TRAP), **rows, method="sample", seed=7)
    assert first == _generate(_Table(_TRAP), **rows, method="sample", seed=7)
    assert all(seq and set(seq) <= {3, 4} for seq in first)


def test_decoders_never_emit_padding_or_the_start_token():
    # P(pad | start) = 0.5 and P(start | start) = 0.3: both must be skipped for "a" (0.2).
    table = [[1, 0, 0, 0, 0], [0.5, 0.3, 0, 0.2, 0], [1, 0, 0, 0, 0],
             [0, 0, 1.0, 0, 0], [0, 0, 1.0, 0, 0]]
    for method, width in (("greedy", 1), ("beam", 2), ("sample", 1)):
        assert _generate(
            _Table(table), batch=2, start_id=1, end_id=2, max_length=6, method=method,
            beam_width=width,
        ) == [[3], [3]], method


def test_decoders_follow_the_model_and_stop_at_max_length():
    model = architectures.encoder_decoder(6, 8, units=8, attention=True)
    source = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    for method in DECODING_METHODS:
        ids = decode_sequence(model, source, 6, 7, max_length=3, method=method)
        assert len(ids) == 2 and all(len(seq) <= 3 for seq in ids)
        assert all(0 < token < 8 and token != 7 for seq in ids for token in seq)
    greedy = decode_sequence(model, source, 6, 7, max_length=3)
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
    ids = decode_one_to_many(captioner, np.ones((2, 3)), 4, 5, 10, method="beam")
    assert len(ids) == 2 and all(len(seq) <= 4 for seq in ids)


def test_decoding_options_are_passed_by_name():
    model = architectures.encoder_decoder(4, 4, units=4)
    with pytest.raises(TypeError):
        decode_sequence(model, np.ones((1, 2), int), 1, 2, 3, "beam")


def _skip_connection_model():
    """Embedding -> GRU, plus the embedding added back: not one chain of layers."""
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(7, 4)(tokens)
    hidden = keras.layers.GRU(4, return_sequences=True)(embedded)
    summed = keras.layers.Add(name="add")([hidden, embedded])
    return keras.Model(tokens, keras.layers.Dense(7, activation="softmax")(summed))


def _nested_recurrent_model():
    """A GRU hidden in an inner model: stepping would restart its state at every token."""
    tokens = keras.Input((None,), dtype="int32")
    inner = keras.Sequential([keras.layers.GRU(4, return_sequences=True)])
    embedded = keras.layers.Embedding(7, 4)(tokens)
    return keras.Model(tokens, keras.layers.Dense(7, activation="softmax")(inner(embedded)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sample_text(uniform, VOCAB, "xyz"), "prompt.*never saw.*'x'"),
        (lambda: sample_text(uniform, VOCAB, ""), "prompt"),
        (lambda: sample_text(uniform, VOCAB, "a", temperature=0), "temperature"),
        (lambda: sample_text(uniform, VOCAB, "a", temperature=-1.0, window=3), "temperature"),
        (lambda: decode_sequence(architectures.encoder_decoder(4, 4, units=4),
                                 np.ones((1, 2), int), 1, 2, 3, method="sample",
                                 temperature=float("nan")), "temperature"),
        (lambda: decode_sequence(architectures.encoder_decoder(4, 4, units=4),
                                 np.ones((1, 2), int), 1, 2, 3, method="beam", beam_width=0),
         "beam_width"),
        (lambda: language_model_stepper(architectures.many_to_many(
            4, units=4, vocab_size=4, bidirectional=True)), "bidirectional"),
        (lambda: language_model_stepper(_skip_connection_model()), "one chain.*'add'"),
        (lambda: language_model_stepper(_nested_recurrent_model()), "recurrent layers inside"),
        (lambda: sample_text(lambda x, training=False: x, VOCAB, "a"), "Stepper"),
        (lambda: sample_text(uniform, VOCAB, "a", length=0), "length"),
        (lambda: perplexity(uniform, np.ones((2, 3), int), np.ones((2, 4), int)), "same shape"),
        (lambda: perplexity(uniform, np.ones((2, 3), int), np.full((2, 3), 9)), "outside"),
        (lambda: perplexity(uniform, np.ones((2, 3), int), np.ones((2, 3))), "`y`.*integer"),
        (lambda: perplexity(uniform, np.ones((2, 3)), np.ones((2, 3), int)), "`x`.*integer"),
        (lambda: perplexity(uniform, np.ones((1, 2), int), np.zeros((1, 2), int), padding_id=0),
         "only the padding"),
        (lambda: decode_sequence(
            architectures.encoder_decoder(4, 4), np.zeros((1, 2), "float32"), 1, 2, 3
        ), "source_ids"),
        (lambda: _generate(_Table(_TRAP), **_ONE_ROW, method="top-k"), "method"),
        (lambda: _generate(_Table(_TRAP), **_ONE_ROW, method="sample", temperature=0.0),
         "temperature"),
        (lambda: _generate(_Table(_TRAP), **_ONE_ROW, method="beam", beam_width=2,
                           length_penalty=-1.0), "length_penalty"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- carrying the state ---------------------------------------------------------------

CELLS = ("vanilla", "gru", "lstm")


def _assert_steps_equal_the_forward_pass(model, x):
    """Feed `x` one token at a time through the model's stepper; the probabilities must
    equal one pass of the model over all of `x`. Returns the final states."""
    stepper = language_model_stepper(model)
    states, steps = stepper.start(len(x)), []
    for t in range(x.shape[1]):
        probs, states = stepper.step(x[:, t], states)
        steps.append(probs)
    np.testing.assert_allclose(np.stack(steps, axis=1), np.asarray(model(x)), atol=1e-6)
    return states


@pytest.mark.parametrize("cell", CELLS)
def test_one_step_at_a_time_equals_re_running_the_prefix(cell):
    model = architectures.many_to_many(7, cell=cell, units=5, vocab_size=7, num_layers=2,
                                       mask_padding=False)
    x = np.random.default_rng(0).integers(0, 7, size=(3, 6))
    states = _assert_steps_equal_the_forward_pass(model, x)
    assert len(states) == 2 * architectures.num_states(cell)


def test_layers_first_called_in_another_model_still_step_as_a_chain():
    keras.utils.set_random_seed(0)
    embedding = keras.layers.Embedding(7, 4, mask_zero=True)
    gru, head = keras.layers.GRU(5, return_sequences=True), keras.layers.Dense(7, "softmax")
    first = keras.Input((None,), dtype="int32")
    keras.Model(first, head(gru(embedding(first))))  # e.g. the training model
    tokens = keras.Input((None,), dtype="int32")
    model = keras.Model(tokens, head(gru(embedding(tokens))))
    _assert_steps_equal_the_forward_pass(model, np.random.default_rng(3).integers(1, 7, (2, 4)))


def test_a_sequential_language_model_steps_like_its_own_forward_pass():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((None,), dtype="int32"), keras.layers.Embedding(7, 4),
        keras.layers.LSTM(5, return_sequences=True), keras.layers.Dense(7, activation="softmax"),
    ])
    _assert_steps_equal_the_forward_pass(model, np.random.default_rng(2).integers(0, 7, (2, 5)))


@pytest.mark.parametrize("cell", CELLS)
def test_state_carried_over_chunks_equals_one_pass_over_the_text(cell):
    model = architectures.many_to_many(7, cell=cell, units=5, vocab_size=7, mask_padding=False)
    ids = np.random.default_rng(1).integers(0, 7, size=11)
    probs = np.asarray(model(ids[None]), dtype="float64")[0, :-1]
    expected = np.log(probs[np.arange(10), ids[1:]])
    carried = next_token_log_probabilities(model, ids, chunk_length=3)
    np.testing.assert_allclose(carried, expected, atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("attention", [False, True])
def test_stateful_translation_equals_prefix_re_running(cell, attention):
    model = architectures.encoder_decoder(6, 8, cell=cell, units=8, attention=attention)
    source = np.array([[1, 2, 3, 0], [4, 5, 0, 0], [2, 2, 2, 2]])

    def re_run(rows, prefixes):
        return np.asarray(model([source[rows], prefixes]))[:, -1]

    for method in DECODING_METHODS:
        options = {"max_length": 5, "method": method, "beam_width": 3, "seed": 1}
        # Batches of two for greedy and beam (results do not depend on the batch); one
        # batch when sampling, where it sets the order of the random draws.
        batch_size = 3 if method == "sample" else 2
        stateful = decode_sequence(model, source, 6, 7, batch_size=batch_size, **options)
        assert stateful == _generate(re_run, batch=3, start_id=6, end_id=7, **options), method


@pytest.mark.parametrize("cell", CELLS)
def test_stateful_captioning_equals_prefix_re_running(cell):
    model = architectures.one_to_many(3, vocab_size=6, max_length=4, cell=cell, units=4)
    features = np.random.default_rng(2).normal(size=(2, 3))

    def re_run(rows, prefixes):
        tokens = np.zeros((len(prefixes), 4), dtype="int32")
        tokens[:, : prefixes.shape[1]] = prefixes[:, :4]
        return np.asarray(model([features[rows], tokens]))[:, min(prefixes.shape[1], 4) - 1]

    for method in ("greedy", "beam"):
        stateful = decode_one_to_many(model, features, 4, 5, 10, method=method)
        assert stateful == _generate(re_run, batch=2, start_id=4, end_id=5, max_length=4,
                                     method=method)


def test_stateful_sampling_equals_the_window_while_the_text_fits_and_goes_on_after():
    model = architectures.many_to_many(4, cell="lstm", units=4, vocab_size=4, mask_padding=False)
    short = sample_text(model, VOCAB, "ab", length=8, temperature=0.8, seed=5)
    assert short == sample_text(model, VOCAB, "ab", length=8, temperature=0.8, seed=5,
                                window=10)
    long = sample_text(model, VOCAB, "ab", length=300, seed=5)
    assert len(long) == 302 and long.startswith("ab") and "[UNK]" not in long


def test_top_k_equals_a_stable_full_sort_ties_and_infinities_included():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 4, size=(50, 12)).astype(float)  # many ties
    values[rng.random(values.shape) < 0.3] = -np.inf
    for k in (1, 3, 12):
        np.testing.assert_array_equal(
            _top_k_stable(values, k), np.argsort(-values, axis=1, kind="stable")[:, :k]
        )


def _beam_step_by_full_sort(probs, scores, finished, width, forbidden):
    """Every width x vocab candidate ranked by one stable sort (the textbook version)."""
    log_probs = np.log(np.clip(np.asarray(probs, "float64"), 1e-30, 1.0))
    log_probs[:, list(forbidden)] = -np.inf
    log_probs[finished] = -np.inf
    log_probs[finished, 0] = 0.0
    vocab = log_probs.shape[1]
    candidates = (scores[:, None] + log_probs).reshape(-1, width * vocab)
    best = np.argsort(-candidates, axis=1, kind="stable")[:, :width]
    parent = (best // vocab + np.arange(len(best))[:, None] * width).ravel()
    return parent, (best % vocab).ravel(), np.take_along_axis(candidates, best, 1).ravel()


@pytest.mark.parametrize("width, vocab", [(1, 6), (3, 6), (3, 2), (4, 50)])
def test_beam_step_equals_ranking_every_candidate(width, vocab):
    rng = np.random.default_rng(width * vocab)
    for trial in range(30):
        batch = 5
        probs = rng.dirichlet(np.full(vocab, 0.3), size=batch * width).astype("float32")
        probs[rng.random(probs.shape) < 0.2] = 0.0                      # floored: ties
        probs[:, : vocab // 2] = np.round(probs[:, : vocab // 2], 1)    # more ties
        scores = np.round(rng.normal(size=batch * width), 1)
        scores[rng.random(batch * width) < 0.2] = -np.inf               # empty beams
        finished = rng.random(batch * width) < 0.3
        forbidden = (0, 1) if vocab > 2 else (0,)
        fast = _beam_step(probs, scores, finished, width, forbidden)
        slow = _beam_step_by_full_sort(probs, scores, finished, width, forbidden)
        for a, b in zip(fast, slow):
            np.testing.assert_array_equal(a, b)


def test_ids_outside_the_vocabulary_are_refused_before_the_model_runs():
    model = architectures.many_to_many(7, cell="gru", units=4, vocab_size=7, mask_padding=False)
    with pytest.raises(ValueError, match=r"Argument `ids` must hold ids in \[0, 7\).*"
                                         r"received ids from 0 to 9"):
        next_token_log_probabilities(model, np.array([0, 9, 1, 2]), chunk_length=2)


def test_a_model_giving_nan_is_refused_not_decoded_as_silence():
    model = architectures.encoder_decoder(4, 4, units=4)
    for weight in model.weights:
        weight.assign(np.full(weight.shape, np.nan, dtype=weight.dtype))
    for method in ("greedy", "beam"):
        with pytest.raises(ValueError, match="non-finite probabilities .* output word 1"):
            decode_sequence(model, np.ones((1, 2), int), 1, 2, 3, method=method)


def test_the_compiled_forward_pass_does_not_keep_its_model_alive():
    import gc
    import weakref

    model = architectures.many_to_many(4, cell="gru", units=4, vocab_size=4, mask_padding=False)
    sample_text(model, VOCAB, "ab", length=3, seed=0, window=4)
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None
