"""Language-model helpers: perplexity and sampling text one character at a time.

A character-level model (e.g. `architectures.many_to_many(vocab_size, vocab_size=...)`)
outputs P(next character | characters so far) at every step. Its perplexity is

    PPL = exp( -1/N sum_i log P(c_i | c_<i) )

(a uniform guess over V characters scores exactly V), and new text is written by
sampling from softmax(log P / temperature) and feeding the character back in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnn_tf._checks import check_positive_int


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
    if not temperature > 0:
        raise ValueError(f"Argument `temperature` must be > 0; received {temperature!r}")
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
        probs = np.asarray(model(context, training=False), dtype="float64")[0, -1]
        logits = np.log(np.clip(probs, 1e-300, None)) / temperature
        logits[0] = -np.inf
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return "".join(vocabulary[i] for i in ids)
