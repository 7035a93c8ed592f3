"""Running trained models forward: decoding token sequences, perplexity, sampling text.

Every generator here is autoregressive: the model gives P(next token | tokens so far),
one token is chosen, appended, and fed back in. Three ways to choose:

    greedy   the most likely token
    sample   a draw from softmax(log P / temperature)   (< 1 sharper, > 1 flatter)
    beam     keep the `beam_width` most likely prefixes, return the best at the end

`decode_one_to_many` (a `one_to_many` model, e.g. captioning) and `decode_sequence`
(an `encoder_decoder` model, e.g. translation) offer all three; `sample_text`
continues a prompt with a character-level model using the same temperature sampler.
A language model's perplexity is

    PPL = exp( -1/N sum_i log P(c_i | c_<i) )

(a uniform guess over V tokens scores exactly V).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from rnn_tf._checks import check_positive_int

if TYPE_CHECKING:
    import keras

DECODING_METHODS = ("greedy", "sample", "beam")

# log(0) would make a row of -inf; this floor keeps every log-probability finite.
_SMALLEST_PROBABILITY = 1e-30


def _check_temperature(temperature: float) -> float:
    if not (
        isinstance(temperature, (int, float, np.number))
        and not isinstance(temperature, bool)
        and np.isfinite(temperature)
        and temperature > 0
    ):
        raise ValueError(
            f"Argument `temperature` must be a finite number > 0; received {temperature!r}"
        )
    return float(temperature)


def _log_probabilities(probs) -> np.ndarray:
    return np.log(np.clip(np.asarray(probs, dtype="float64"), _SMALLEST_PROBABILITY, 1.0))


def _sample_with_temperature(
    log_probs: np.ndarray, temperature: float, rng: np.random.Generator
) -> np.ndarray:
    """One id per row of `log_probs (n, vocab)`, drawn from softmax(log_probs / temperature).

    Entries set to -inf are never drawn (each row needs at least one finite entry).
    """
    logits = log_probs / temperature
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.array([rng.choice(p.shape[-1], p=row) for row in p])


# --- decoding -------------------------------------------------------------------------


def _check_decoding(
    method: str, beam_width: int, temperature: float, length_penalty: float
) -> None:
    if method not in DECODING_METHODS:
        raise ValueError(
            f"Argument `method` must be one of {DECODING_METHODS}; received {method!r}"
        )
    check_positive_int(beam_width, "beam_width")
    _check_temperature(temperature)
    if not (
        isinstance(length_penalty, (int, float, np.number))
        and not isinstance(length_penalty, bool)
        and np.isfinite(length_penalty)
        and length_penalty >= 0
    ):
        raise ValueError(
            f"Argument `length_penalty` must be a finite number >= 0; received {length_penalty!r}"
        )


def _length_normalizer(lengths: np.ndarray, alpha: float) -> np.ndarray:
    """GNMT's length penalty ((5 + |Y|) / 6) ** alpha (Wu et al., 2016); 1 when alpha = 0."""
    return ((5.0 + lengths) / 6.0) ** alpha


def _generate(
    next_probs: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    batch: int,
    start_id: int,
    end_id: int,
    max_length: int,
    method: str = "greedy",
    beam_width: int = 3,
    temperature: float = 1.0,
    seed: int = 0,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Autoregressive decoding around `next_probs(rows, prefixes) -> (n, vocab)`.

    `rows` says which input each prefix belongs to. Returns, per input, the generated
    ids after the start token and before the end token (at most `max_length`).
    """
    _check_decoding(method, beam_width, temperature, length_penalty)
    check_positive_int(max_length, "max_length")
    width = beam_width if method == "beam" else 1
    rows = np.repeat(np.arange(batch), width)
    prefixes = np.full((batch * width, 1), start_id, dtype="int32")
    # Beams start as copies of one hypothesis; -inf keeps the copies out of the first top-k.
    scores = np.tile(np.r_[0.0, np.full(width - 1, -np.inf)], batch)
    finished = np.zeros(batch * width, dtype=bool)
    rng = np.random.default_rng(seed)
    for _ in range(max_length):
        log_probs = _log_probabilities(next_probs(rows, prefixes))
        vocab = log_probs.shape[-1]
        # Padding and the start token are never generated as words.
        log_probs[:, 0] = -np.inf
        if 0 <= start_id < vocab and start_id != end_id:
            log_probs[:, start_id] = -np.inf
        if method == "beam":
            # A finished hypothesis only extends by padding, at no cost.
            log_probs[finished] = -np.inf
            log_probs[finished, 0] = 0.0
            candidates = (scores[:, None] + log_probs).reshape(batch, width * vocab)
            best = np.argsort(-candidates, axis=1, kind="stable")[:, :width]
            parent = (best // vocab + np.arange(batch)[:, None] * width).ravel()
            token = (best % vocab).ravel()
            scores = np.take_along_axis(candidates, best, axis=1).ravel()
            prefixes, finished = prefixes[parent], finished[parent]
        elif method == "greedy":
            token = log_probs.argmax(-1)
        else:
            token = _sample_with_temperature(log_probs, temperature, rng)
        token = np.where(finished, 0, token)
        finished = finished | (token == end_id)
        prefixes = np.concatenate([prefixes, token[:, None].astype("int32")], axis=1)
        if finished.all():
            break
    if method == "beam":
        # A sum of log-probabilities favours short outputs; dividing by the length
        # penalty lets a longer hypothesis win (alpha = 0: the raw sum, best first).
        lengths = (prefixes[:, 1:] != 0).sum(axis=1)
        normalized = scores / _length_normalizer(lengths, length_penalty)
        best = np.argmax(normalized.reshape(batch, width), axis=1)
        prefixes = prefixes.reshape(batch, width, -1)[np.arange(batch), best]
    results = []
    for sequence in prefixes[:, 1:]:
        ids = []
        for token in sequence.tolist():
            if token in (end_id, 0):
                break
            ids.append(int(token))
        results.append(ids)
    return results


def decode_one_to_many(
    model: keras.Model,
    features,
    start_id: int,
    end_id: int,
    max_length: int,
    *,
    method: str = "greedy",
    beam_width: int = 3,
    temperature: float = 1.0,
    seed: int = 0,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Generate a token sequence from each feature vector with a `one_to_many` model.

    Args:
        model: a trained `architectures.one_to_many` model.
        features: `(batch, feature_dim)` input vectors.
        start_id, end_id: the start token fed first and the token that ends a sequence.
        max_length: most tokens generated per sequence.
        method: "greedy" (most likely token), "sample" (from softmax(log p / temperature))
            or "beam" (keep the `beam_width` most likely prefixes).
        beam_width: prefixes kept by beam search.
        temperature: sampling only; < 1 sharpens the distribution, > 1 flattens it.
        seed: sampling seed.
        length_penalty: beam search only. 0 (default) returns the beam with the highest
            sum of log-probabilities, which favours short outputs; alpha > 0 divides each
            finished beam's sum by ((5 + length) / 6) ** alpha first (GNMT; 0.6-1.0 is
            usual). The beams kept at each step are the same either way.

    Returns:
        One list of token ids per input (start and end tokens not included).
    """
    features = np.asarray(features, dtype="float32")
    if features.ndim != 2:
        raise ValueError(
            f"Argument `features` must have shape (batch, feature_dim); received {features.shape}"
        )
    fixed = model.inputs[1].shape[1]

    def next_probs(rows, prefixes):
        tokens = prefixes
        if fixed is not None:
            # Causal: padding after the prefix cannot change the outputs up to it.
            tokens = np.zeros((len(prefixes), fixed), dtype="int32")
            tokens[:, : prefixes.shape[1]] = prefixes[:, :fixed]
        probs = model([features[rows], tokens], training=False)
        return np.asarray(probs)[:, min(prefixes.shape[1], tokens.shape[1]) - 1]

    if fixed is not None:
        max_length = min(max_length, fixed)
    return _generate(
        next_probs, batch=len(features), start_id=start_id, end_id=end_id,
        max_length=max_length, method=method, beam_width=beam_width,
        temperature=temperature, seed=seed, length_penalty=length_penalty,
    )


def decode_sequence(
    model: keras.Model,
    source_ids,
    start_id: int,
    end_id: int,
    max_length: int,
    *,
    method: str = "greedy",
    beam_width: int = 3,
    temperature: float = 1.0,
    seed: int = 0,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Translate each source sequence with an `encoder_decoder` model.

    Same decoding options as `decode_one_to_many`; `source_ids` is `(batch, T_s)` ints
    (0 = padding). Returns one list of target ids per source.
    """
    source_ids = np.asarray(source_ids)
    if source_ids.ndim != 2 or not np.issubdtype(source_ids.dtype, np.integer):
        raise ValueError(
            "Argument `source_ids` must be integer token ids of shape (batch, T_s); "
            f"received dtype {source_ids.dtype} and shape {source_ids.shape}"
        )

    def next_probs(rows, prefixes):
        return np.asarray(model([source_ids[rows], prefixes], training=False))[:, -1]

    return _generate(
        next_probs, batch=len(source_ids), start_id=start_id, end_id=end_id,
        max_length=max_length, method=method, beam_width=beam_width,
        temperature=temperature, seed=seed, length_penalty=length_penalty,
    )


# --- language models ------------------------------------------------------------------


def perplexity(
    model, x, y, batch_size: int = 256, padding_id: int | None = None
) -> float:
    """exp(mean next-token cross-entropy) of `model` on ids `x (n, T)` -> targets `y (n, T)`.

    Computed from the predicted probabilities, independently of the compiled loss.
    With `padding_id`, target positions holding that id are left out of the mean
    (padded batches); otherwise every position counts.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape != y.shape or x.size == 0:
        raise ValueError(
            f"Arguments `x` and `y` must be non-empty id arrays of the same shape (n, T); "
            f"received {x.shape} and {y.shape}"
        )
    for name, ids in (("x", x), ("y", y)):
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                f"Argument `{name}` must hold integer token ids; received dtype {ids.dtype}"
            )
    check_positive_int(batch_size, "batch_size")
    counted = np.ones(y.shape, dtype=bool) if padding_id is None else y != padding_id
    if not counted.any():
        raise ValueError(
            f"Argument `y` holds only the padding id {padding_id}: no position to score"
        )
    total, count = 0.0, 0
    for start in range(0, len(x), batch_size):
        probs = np.asarray(model(x[start : start + batch_size], training=False), dtype="float64")
        targets = y[start : start + batch_size]
        if targets.max() >= probs.shape[-1] or targets.min() < 0:
            raise ValueError(
                f"Argument `y` holds ids outside [0, {probs.shape[-1]}), the model's vocabulary"
            )
        picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
        keep = counted[start : start + batch_size]
        total -= np.log(np.clip(picked[keep], 1e-300, None)).sum()
        count += int(keep.sum())
    return float(np.exp(total / count))


def sample_text(
    model,
    vocabulary: Sequence[str],
    prompt: str,
    length: int = 200,
    temperature: float = 1.0,
    window: int = 100,
    seed: int = 0,
) -> str:
    """Continue `prompt` by `length` characters sampled from a character-level model.

    Args:
        model: maps ids `(batch, T)` to next-character probabilities `(batch, T, vocab)`.
        vocabulary: the character of each id (`vocabulary[i]`); id 0 ("[UNK]" or padding)
            is never sampled.
        prompt: starting text; every character must be in `vocabulary`.
        length: characters to generate.
        temperature: < 1 sharpens the distribution (safer, repetitive), > 1 flattens it
            (more surprising, more mistakes); must be > 0.
        window: the model sees at most the last `window` characters (its training length).
        seed: sampling seed.

    Returns:
        The prompt followed by the generated characters.
    """
    check_positive_int(length, "length")
    check_positive_int(window, "window")
    _check_temperature(temperature)
    index = {char: i for i, char in enumerate(vocabulary)}
    unknown = sorted({c for c in prompt if c not in index})
    if not prompt or unknown:
        raise ValueError(
            f"Argument `prompt` must be non-empty text over the vocabulary; "
            f"characters not in it: {unknown}"
        )
    ids = [index[c] for c in prompt]
    rng = np.random.default_rng(seed)
    for _ in range(length):
        context = np.array([ids[-window:]], dtype="int32")
        log_probs = _log_probabilities(np.asarray(model(context, training=False))[:, -1])
        log_probs[:, 0] = -np.inf
        ids.append(int(_sample_with_temperature(log_probs, temperature, rng)[0]))
    return "".join(vocabulary[i] for i in ids)
