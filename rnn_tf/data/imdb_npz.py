"""Keras's pre-tokenised IMDB (`imdb.npz` with `imdb_word_index.json`), Keras's id offsets.

Ids follow `keras.datasets.imdb.load_data`: 0 padding, 1 start of review, 2 out of
vocabulary, the word of rank r at r + 3. The result is the same `SentimentData` as
`load_imdb`'s, without a vectorizer.
"""

from __future__ import annotations

import collections
import json
import pickle
import zipfile

import numpy as np

from rnn_tf._checks import check_positive_int, invalid
from rnn_tf.data import registry
from rnn_tf.data._common import OFFLINE, REAL, choose, random_split
from rnn_tf.data.errors import CorruptDataError
from rnn_tf.data.imdb import PAD_CHAR, SentimentData, check_common, pad_ids, sentiment_data
from rnn_tf.data.offline_reviews import synthetic_reviews
from rnn_tf.data.registry import Download, check_download

# Keras's imdb.load_data defaults, so ids match tutorials built on keras.datasets.imdb.
START_CHAR, OOV_CHAR, INDEX_FROM = 1, 2, 3


def load_word_index(download: Download | None = None) -> dict[str, int]:
    """Keras's IMDB `{word: rank}` index (rank 1 = most frequent), sha256-checked.

    Example:
        >>> load_word_index()["the"]
        1
    """
    return registry.read_dataset_file("imdb_word_index", _read_word_index,
                                      check_download(download))


def _read_word_index(path) -> dict[str, int]:
    try:
        with open(path, encoding="utf-8") as handle:
            index = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CorruptDataError(f"{path} is not a JSON word index ({error})") from error
    if not isinstance(index, dict) or not all(isinstance(v, int) for v in index.values()):
        raise CorruptDataError(f"{path} is not a {{word: rank}} JSON object")
    return index


def _read_npz(path) -> dict[str, np.ndarray]:
    # Read only through read_dataset_file, after the sha256 check: the ragged arrays are
    # pickles. Keras >= 3.12 also ships a restricted unpickler that only rebuilds numpy
    # arrays; use it when present.
    try:
        from keras.src.datasets.npz_utils import load_npz
    except ImportError:
        load_npz = None
    try:
        if load_npz is not None:
            arrays = load_npz(path)
        else:
            with np.load(path, allow_pickle=True) as archive:
                arrays = {key: archive[key] for key in archive.files}
        return {key: arrays[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except (zipfile.BadZipFile, pickle.UnpicklingError, ValueError, KeyError, EOFError,
            OSError) as error:
        raise CorruptDataError(
            f"{path} is not a Keras imdb.npz with x_train, y_train, x_test, y_test ({error})"
        ) from error


def _keras_ids(ranks, num_words: int | None) -> tuple[list[list[int]], int]:
    ids = [[START_CHAR] + [int(w) + INDEX_FROM for w in seq] for seq in ranks]
    limit = num_words or max((max(seq) for seq in ids if seq), default=INDEX_FROM) + 1
    return [[w if w < limit else OOV_CHAR for w in seq] for seq in ids], limit


def _npz_vocabulary(word_index: dict[str, int], limit: int) -> list[str]:
    vocabulary = ["", "[START]", "[UNK]", "[UNUSED]"] + ["[UNK]"] * max(0, limit - INDEX_FROM - 1)
    for word, rank in word_index.items():
        if 0 < rank + INDEX_FROM < limit:
            vocabulary[rank + INDEX_FROM] = word
    return vocabulary[:limit]


def _from_ranks(ranks, labels, word_index, *, source, name, num_words, max_length,
                truncating, validation_fraction, batch_size, seed) -> SentimentData:
    index = random_split(len(ranks["train"]), validation_fraction, 0.0, seed)
    parts = {
        "train": [ranks["train"][i] for i in index["train"]],
        "validation": [ranks["train"][i] for i in index["validation"]],
        "test": list(ranks["test"]),
    }
    y = {"train": labels["train"][index["train"]],
         "validation": labels["train"][index["validation"]], "test": labels["test"]}
    ids, limit = _keras_ids(parts["train"] + parts["validation"] + parts["test"], num_words)
    padded = pad_ids(ids, max_length, truncating)
    n_train, n_val = len(parts["train"]), len(parts["validation"])
    x = {"train": padded[:n_train], "validation": padded[n_train:n_train + n_val],
         "test": padded[n_train + n_val:]}
    y = {split: np.asarray(v, dtype="int32") for split, v in y.items()}
    return sentiment_data(x, y, vocabulary=_npz_vocabulary(word_index, limit), source=source,
                   name=name, batch_size=batch_size, seed=seed, max_length=max_length,
                   truncating=truncating)


def decode_npz_review(ids, word_index: dict[str, int]) -> str:
    """Keras-format ids (start 1, OOV 2, words at rank + 3) back to words.

    Example:
        >>> decode_npz_review([1, 4, 2], {"the": 1})
        '[START] the [UNK]'
    """
    words = {rank + INDEX_FROM: word for word, rank in word_index.items()}
    words.update({START_CHAR: "[START]", OOV_CHAR: "[UNK]", INDEX_FROM: "[UNUSED]"})
    return " ".join(words.get(int(i), "[UNK]") for i in np.asarray(ids).ravel() if i != PAD_CHAR)


def load_imdb_npz(
    *,
    source: str = "auto",
    num_words: int | None = 20_000,
    max_length: int = 200,
    truncating: str = "pre",
    validation_fraction: float = 0.2,
    batch_size: int = 32,
    seed: int = 0,
    max_examples: int | None = None,
    download: Download | None = None,
    word_index_download: Download | None = None,
) -> SentimentData:
    """Keras's pre-tokenised IMDB (`imdb.npz`) with Keras's id offsets, padded at the end.

    Ids follow `keras.datasets.imdb.load_data`: 0 padding, 1 start of review, 2 out of
    vocabulary (rank + 3 >= num_words), word of rank r at r + 3. `imdb.npz` stores pickled
    arrays, so it is read only after its sha256 checks out -- there is no unverified path.

    Args:
        source: "real", "offline" or "auto" (see `load_imdb`). The fallback encodes
            `synthetic_reviews` the same way, with a word index built from them.
        num_words: vocabulary size, offsets included; None keeps every word.
        max_length: ids per review (start token included); shorter ones 0-padded at the end.
        truncating: "pre" keeps the last `max_length` ids of a longer review (then without
            its start token, as Keras's `pad_sequences`), "post" keeps the first ones.
        validation_fraction: share of the training reviews held out for validation.
        batch_size: batch size of the datasets.
        seed: shuffling and split seed.
        max_examples: reviews per split (train, test) after a seeded shuffle.
        download: where `imdb.npz` comes from and is kept (`Download(origin=, file_hash=,
            cache_dir=)`); default: the registry's URL and pin (the hash Keras pins) and the
            default cache folder. There is no way to skip the hash check.
        word_index_download: the same for `imdb_word_index.json`; default: the registry's
            URL and pin, in `download`'s cache folder.

    Returns:
        `SentimentData` (no vectorizer; `decode` uses the word index).

    Raises:
        ValueError: `download.file_hash` is empty.
        DataUnavailableError: source="real" and a file is neither local nor downloadable.
        CorruptDataError: a file fails its hash or is not in Keras's format.

    Example:
        >>> data = load_imdb_npz(source="offline", num_words=500, max_length=50)
        >>> int(data.x_train[0, 0])  # every review starts with START_CHAR
        1
    """
    check_common(source, max_length, truncating, validation_fraction, batch_size,
                  max_examples)
    if num_words is not None:
        check_positive_int(num_words, "num_words")
        if num_words <= INDEX_FROM:
            raise invalid("num_words", f"more than {INDEX_FROM} (ids 0-{INDEX_FROM} are reserved)",
                          num_words)
    where = check_download(download)
    if where.file_hash is not None and not where.file_hash:
        raise invalid("download.file_hash", "the sha256 of imdb.npz (the file holds pickled "
                      "arrays, which are never loaded unverified)", where.file_hash)
    word_index_where = (check_download(word_index_download) if word_index_download is not None
                        else Download(cache_dir=where.cache_dir))
    options = dict(num_words=num_words, max_length=max_length, truncating=truncating,
                   batch_size=batch_size, validation_fraction=validation_fraction, seed=seed)

    def real() -> SentimentData:
        arrays = registry.read_dataset_file("imdb_npz", _read_npz, where)
        word_index = load_word_index(word_index_where)
        rng = np.random.default_rng(seed)
        ranks, labels = {}, {}
        for split in ("train", "test"):
            order = rng.permutation(len(arrays[f"x_{split}"]))[:max_examples]
            ranks[split] = [list(arrays[f"x_{split}"][i]) for i in order]
            labels[split] = np.asarray(arrays[f"y_{split}"])[order].astype("int32")
        return _from_ranks(ranks, labels, word_index, source=REAL, name="imdb.npz", **options)

    def offline() -> SentimentData:
        n = max_examples or 2000
        texts, y = synthetic_reviews(2 * n, seed)
        # Like Keras's index, ranks count every review, most frequent word first.
        counts = collections.Counter(word for text in texts for word in text.split())
        word_index = {word: rank for rank, (word, _) in enumerate(counts.most_common(), 1)}
        encoded = [[word_index[w] for w in text.split()] for text in texts]
        ranks = {"train": encoded[:n], "test": encoded[n:]}
        labels = {"train": y[:n], "test": y[n:]}
        return _from_ranks(ranks, labels, word_index, source=OFFLINE, name="synthetic_npz",
                           **options)

    return choose(source, "IMDB (imdb.npz)", real, offline)
