"""Generated movie reviews, the offline stand-in for IMDB: labels that need negation and memory.

`load_imdb(source="offline")` and `load_imdb_npz(source="offline")` use these reviews, and
label the result `source="offline"`.
"""

from __future__ import annotations

import numpy as np

from rnn_tf._checks import check_positive_int

_ASPECTS = ("acting", "plot", "story", "script", "music", "ending", "dialogue", "cast",
            "direction", "soundtrack", "pacing", "camera work")
_ADJECTIVES = {
    1: ("good", "great", "wonderful", "brilliant", "moving", "superb", "enjoyable", "clever"),
    0: ("bad", "awful", "boring", "terrible", "dull", "weak", "clumsy", "predictable"),
}
_FILLERS = ("i watched it on a sunday afternoon", "the cinema was almost empty",
            "it runs for about two hours", "my friend had read the book first",
            "the director made a documentary before this one", "it was shot in a small town",
            "the trailer gave away very little", "we sat near the back of the hall",
            "it opened in only a few theatres", "the lead actor also wrote the songs")


def synthetic_reviews(num_examples: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Generated movie reviews whose label needs negation and long-range memory.

    Half the reviews state 1-3 verdicts, each either direct ("the plot was great") or a
    negated opposite ("the plot was not boring"), between neutral filler sentences. The other
    half open with an expectation ("i expected the music to be dull"), run 3-6 filler
    sentences, and end with "and it was" (the expectation holds) or "but it was not" (it
    flips) -- the label needs the first adjective and the last words together.

    Args:
        num_examples: how many reviews; labels are balanced.
        seed: same seed, same reviews.

    Returns:
        `(texts, labels)`: list of lowercase strings, int32 array, 1 = positive.

    Example:
        >>> texts, labels = synthetic_reviews(4, seed=0)
        >>> len(texts), labels.dtype
        (4, dtype('int32'))
    """
    check_positive_int(num_examples, "num_examples")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(num_examples) % 2).astype("int32")
    texts = []
    for label in labels:
        fillers = list(rng.permutation(len(_FILLERS)))
        if rng.random() < 0.5:
            sentences = []
            for _ in range(rng.integers(1, 4)):
                aspect = _ASPECTS[rng.integers(len(_ASPECTS))]
                if rng.random() < 0.5:
                    adjective = _ADJECTIVES[label][rng.integers(8)]
                    verdict = f"the {aspect} was {adjective}"
                else:
                    adjective = _ADJECTIVES[1 - label][rng.integers(8)]
                    verdict = f"the {aspect} was not {adjective}"
                filler_count = rng.integers(0, 3)
                sentences += [_FILLERS[fillers.pop()] for _ in range(filler_count)] + [verdict]
        else:
            expected = int(rng.integers(2))
            aspect = _ASPECTS[rng.integers(len(_ASPECTS))]
            adjective = _ADJECTIVES[expected][rng.integers(8)]
            sentences = [f"i expected the {aspect} to be {adjective}"]
            sentences += [_FILLERS[fillers.pop()] for _ in range(rng.integers(3, 7))]
            sentences.append("and it was" if expected == label else "but it was not")
        texts.append(" . ".join(sentences) + " .")
    return texts, labels

