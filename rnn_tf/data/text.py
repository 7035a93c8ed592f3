"""Character-level language modelling on Shakespeare: predict the next character.

Real data: tiny-shakespeare (`shakespeare.txt`, 1,115,394 characters) from the shared data,
the cache, or the TensorFlow tutorial URL. Offline fallback: `synthetic_play`
(rnn_tf.data.offline_play), play-formatted text assembled deterministically from a few
public-domain Shakespeare passages, labelled `source="offline"`.

The text is split by position (train first, then validation, then test) so that no
window crosses splits, mapped to ids with `keras.layers.StringLookup` (0 = `[UNK]`), and
cut into non-overlapping chunks of `seq_len + 1` ids:

    x = chunk[:-1]     y = chunk[1:]     (y_t is the character after x_t)
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import keras
import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_positive_int, invalid
from rnn_tf.data import registry
from rnn_tf.data._common import (
    OFFLINE,
    REAL,
    SPLITS,
    ArraySplits,
    check_fractions,
    check_source,
    choose,
    make_dataset,
    preview,
    split_counts,
)
from rnn_tf.data.errors import CorruptDataError
from rnn_tf.data.offline_play import synthetic_play
from rnn_tf.data.registry import Download, check_download


@dataclasses.dataclass
class CharTextData(ArraySplits):
    """Next-character sequences of one text, with the character vocabulary.

    Attributes:
        train: shuffled `tf.data.Dataset` of `(x (seq_len,), y (seq_len,))` int32 batches.
        validation: the same, in text order.
        test: the same, in text order.
        x_train: int32 `(n, seq_len)` ids; likewise x_val, x_test.
        y_train: int32 `(n, seq_len)` next ids; likewise y_val, y_test.
        vocabulary: character of each id; `vocabulary[0] == "[UNK]"`.
        ids_from_chars: `StringLookup` from characters to ids.
        chars_from_ids: its inverse.
        text: the text the splits were cut from.
        seq_len: characters per sequence.
        source: "real" or "offline" (generated data).
        name: "shakespeare" or "synthetic_play".
    """

    vocabulary: list[str]
    ids_from_chars: keras.layers.StringLookup
    chars_from_ids: keras.layers.StringLookup
    text: str
    seq_len: int
    source: str
    name: str

    @property
    def vocab_size(self) -> int:
        """Number of ids, `[UNK]` included (the output size of the model)."""
        return len(self.vocabulary)

    def encode(self, text: str) -> np.ndarray:
        """A prompt's characters as int32 ids, one per character.

        Args:
            text: one string (a prompt is one text, so a list is not accepted).

        Returns:
            int32 `(len(text),)` ids.

        Raises:
            ValueError: `text` is not a string, is empty, or holds characters the text had
                none of (the model never saw them), naming each of them.

        Example:
            >>> data.decode(data.encode("To be"))
            'To be'
        """
        if not isinstance(text, str):
            raise invalid("text", "a string (one prompt)", text)
        if not text:
            raise invalid("text", "a non-empty string", text)
        unseen = sorted(set(text) - set(self.vocabulary[1:]))
        if unseen:
            shown = ", ".join(repr(char) for char in unseen[:20])
            raise invalid(
                "text", f"characters of the {self.name} text only; {len(unseen)} "
                f"character(s) never appear in it, so the model never saw them: {shown}"
                f"{', ...' if len(unseen) > 20 else ''}", preview(text))
        return _encode(self.ids_from_chars, text)

    def decode(self, ids) -> str:
        """Ids -> characters; id 0 (`[UNK]`) is dropped."""
        ids = np.asarray(ids).ravel()
        return "".join(self.vocabulary[i] for i in ids if 0 < i < len(self.vocabulary))



def _encode(lookup, text: str) -> np.ndarray:
    return np.asarray(lookup(tf.strings.unicode_split(text, "UTF-8")), dtype="int32")


def _chunks(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    count = len(ids) // (seq_len + 1)
    chunks = ids[:count * (seq_len + 1)].reshape(count, seq_len + 1)
    return chunks[:, :-1], chunks[:, 1:]


def _build(text: str, *, source, name, seq_len, validation_fraction, test_fraction,
           batch_size, seed) -> CharTextData:
    # The vocabulary comes from the whole text: a character first seen in the test split
    # is not a label leak, and [UNK] for it would only make generation worse.
    characters = sorted(set(text))
    ids_from_chars = keras.layers.StringLookup(vocabulary=characters, mask_token=None)
    chars_from_ids = keras.layers.StringLookup(vocabulary=characters, mask_token=None,
                                               invert=True)
    ids = _encode(ids_from_chars, text)
    counts = split_counts(len(ids), validation_fraction, test_fraction)
    bounds = np.cumsum((0,) + counts)
    x, y = {}, {}
    for split, start, stop, count in zip(SPLITS, bounds[:-1], bounds[1:], counts):
        if count and count < seq_len + 1:
            raise ValueError(
                f"The {split} split has {count} characters, fewer than seq_len + 1 = "
                f"{seq_len + 1}; reduce `seq_len` or use more text")
        x[split], y[split] = _chunks(ids[start:stop], seq_len)
    datasets = {split: make_dataset(x[split], y[split], batch_size=batch_size,
                                    shuffle=split == "train", seed=seed) for split in SPLITS}
    return CharTextData(
        train=datasets["train"], validation=datasets["validation"], test=datasets["test"],
        x_train=x["train"], y_train=y["train"], x_val=x["validation"], y_val=y["validation"],
        x_test=x["test"], y_test=y["test"],
        vocabulary=[str(c) for c in ids_from_chars.get_vocabulary()],
        ids_from_chars=ids_from_chars, chars_from_ids=chars_from_ids, text=text,
        seq_len=seq_len, source=source, name=name)


def read_text(path: str | os.PathLike) -> str:
    """A UTF-8 text file; `CorruptDataError` if it is not UTF-8 text or is empty."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorruptDataError(f"{path} is not UTF-8 text ({error})") from error
    if not text.strip():
        raise CorruptDataError(f"{path} is empty")
    return text


def load_shakespeare(
    *,
    source: str = "auto",
    seq_len: int = 100,
    batch_size: int = 64,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    max_chars: int | None = None,
    seed: int = 0,
    download: Download | None = None,
) -> CharTextData:
    """Shakespeare as next-character sequences for a char-level language model.

    Args:
        source: "real" (`shakespeare.txt` from shared data, cache or its URL; error if
            unavailable), "offline" (`synthetic_play` only), or "auto" (real when on disk
            or downloadable, else the fallback with a logged warning).
        seq_len: characters per input sequence.
        batch_size: batch size of the datasets.
        validation_fraction: share of the text (after the training part) for validation.
        test_fraction: share of the text, at its end, for test.
        max_chars: use only the first `max_chars` characters (quick runs); the fallback
            generates this many (default 100,000).
        seed: shuffling seed (and the fallback's generator).
        download: where `shakespeare.txt` comes from and is kept (`Download(origin=,
            file_hash=, cache_dir=)`); default: the registry's URL and pinned sha256, and the
            default cache folder.

    Returns:
        `CharTextData`.

    Raises:
        DataUnavailableError: source="real" and the text is neither local nor downloadable.
        CorruptDataError: the file fails its hash or is not text.

    Example:
        >>> data = load_shakespeare(source="offline", seq_len=50, max_chars=20_000)
        >>> data.x_train.shape, data.source
        ((313, 50), 'offline')
    """
    check_source(source)
    check_positive_int(seq_len, "seq_len")
    check_positive_int(batch_size, "batch_size")
    check_fractions(validation_fraction, test_fraction)
    if max_chars is not None:
        check_positive_int(max_chars, "max_chars")
    where = check_download(download)
    options = dict(seq_len=seq_len, validation_fraction=validation_fraction,
                   test_fraction=test_fraction, batch_size=batch_size, seed=seed)

    def real() -> CharTextData:
        text = registry.read_dataset_file("shakespeare", read_text, where)
        return _build(text[:max_chars], source=REAL, name="shakespeare", **options)

    def offline() -> CharTextData:
        return _build(synthetic_play(max_chars or 100_000, seed), source=OFFLINE,
                      name="synthetic_play", **options)

    return choose(source, "Shakespeare text", real, offline)
