"""A character n-gram language model: the baseline a recurrent language model must beat.

P(c_t | c_{t-n+1} .. c_{t-1}) = (count(context, c_t) + k) / (count(context) + k V)

counted on the training text only (add-k smoothing: every character keeps a small
probability, so an unseen n-gram does not score log 0). It sees exactly `order - 1`
previous characters, where a recurrent model's state can carry the whole text; at the
start of a text, where fewer characters exist, it uses the shorter context.
"""

from __future__ import annotations

import numpy as np

from rnn_tf._checks import check_number, check_positive_int


def _ids(ids, name: str, vocab_size: int) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"Argument `{name}` must be a non-empty 1-D array of integer ids; received "
            f"dtype {ids.dtype} and shape {ids.shape}"
        )
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise ValueError(
            f"Argument `{name}` holds ids outside [0, {vocab_size}): received min "
            f"{int(ids.min())}, max {int(ids.max())}"
        )
    return ids.astype("int64")


def _keys(ids: np.ndarray, length: int, vocab_size: int) -> np.ndarray:
    """Each window of `length` ids as one integer (base `vocab_size`), in text order."""
    windows = np.lib.stride_tricks.sliding_window_view(ids, length)
    return windows @ (vocab_size ** np.arange(length - 1, -1, -1, dtype="int64"))


class CharNGram:
    """Add-k smoothed character n-gram model over ids `0 .. vocab_size - 1`.

    Example:

    ```python
    model = CharNGram(order=3, vocab_size=4, k=0.1).fit(train_ids)
    log_p = model.log_probabilities(test_ids)      # log P(ids[t] | before), t >= 1
    perplexity = float(np.exp(-log_p.mean()))
    ```
    """

    def __init__(self, order: int, vocab_size: int, k: float = 0.1):
        self.order = check_positive_int(order, "order")
        self.vocab_size = check_positive_int(vocab_size, "vocab_size")
        self.k = check_number(k, "k", low=0, low_open=True)
        if self.vocab_size ** self.order >= 2**62:
            raise ValueError(
                f"Arguments `order` and `vocab_size` must keep vocab_size ** order below "
                f"2 ** 62 (n-grams are counted as 64-bit keys); received order={order}, "
                f"vocab_size={vocab_size}"
            )
        self._counts = None

    def fit(self, ids) -> CharNGram:
        """Count every n-gram of length 1 .. order in the training ids; returns self."""
        ids = _ids(ids, "ids", self.vocab_size)
        self._counts = {}
        for length in range(1, self.order + 1):
            if len(ids) < length:
                break
            grams = _keys(ids, length, self.vocab_size)
            self._counts[length] = (np.unique(grams, return_counts=True),
                                    np.unique(grams // self.vocab_size, return_counts=True))
        return self

    @staticmethod
    def _lookup(table, keys: np.ndarray) -> np.ndarray:
        known, counts = table
        at = np.clip(np.searchsorted(known, keys), 0, len(known) - 1)
        return np.where(known[at] == keys, counts[at], 0)

    def log_probabilities(self, ids) -> np.ndarray:
        """log P(ids[t] | the up to `order - 1` ids before it) for t = 1 .. len(ids) - 1."""
        if self._counts is None:
            raise ValueError("This CharNGram is not fitted yet: call `fit(train_ids)` first")
        ids = _ids(ids, "ids", self.vocab_size)
        out = np.empty(len(ids) - 1)
        # Near the start of the text fewer than order - 1 characters exist: shorter context.
        for t in range(1, min(self.order - 1, len(ids))):
            out[t - 1] = self._log_p(ids[None, : t + 1], t + 1)[0]
        first = max(self.order - 1, 1)
        if len(ids) > first:
            windows = np.lib.stride_tricks.sliding_window_view(ids, self.order)
            out[first - 1 :] = self._log_p(windows[first - self.order + 1 :], self.order)
        return out

    def _log_p(self, windows: np.ndarray, length: int) -> np.ndarray:
        if length not in self._counts:
            raise ValueError(
                f"The training ids were shorter than {length}: too short to fit this model"
            )
        grams, contexts = self._counts[length]
        keys = windows @ (self.vocab_size ** np.arange(length - 1, -1, -1, dtype="int64"))
        joint = self._lookup(grams, keys)
        context = self._lookup(contexts, keys // self.vocab_size)
        return np.log((joint + self.k) / (context + self.k * self.vocab_size))
