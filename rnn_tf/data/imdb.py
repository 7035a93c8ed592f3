"""IMDB movie-review sentiment (many-to-one): raw Stanford texts, or Keras's pre-tokenised npz.

Two real paths and one fallback:

- `load_imdb`: the review texts of the Stanford `aclImdb` archive (the shared repackaged
  `aclImdb_labeled.tar.gz`, or the official `aclImdb_v1.tar.gz`), read straight from the
  tar.gz and tokenised by `keras.layers.TextVectorization` fitted on the training split.
- `load_imdb_npz`: Keras's `imdb.npz` word ranks with its `imdb_word_index.json`, offset as
  Keras does (0 padding, 1 start, 2 out-of-vocabulary, words from index 3 + rank).
- offline: `synthetic_reviews`, generated reviews whose label hinges on negation
  ("not good") and on a cue far from the end of the text. Labelled `source="offline"`.

Either way index 0 is padding, so `keras.layers.Embedding(mask_zero=True)` masks it.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import pickle
import re
import tarfile
import zipfile
import zlib

import keras
import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_positive_int
from rnn_tf.data import registry
from rnn_tf.data._common import (
    OFFLINE,
    REAL,
    ArraySplits,
    check_fractions,
    check_source,
    choose,
    make_dataset,
    random_split,
)
from rnn_tf.data.errors import CorruptDataError

# Keras's imdb.load_data defaults, so ids match tutorials built on keras.datasets.imdb.
PAD_CHAR, START_CHAR, OOV_CHAR, INDEX_FROM = 0, 1, 2, 3
_MEMBER = re.compile(r"^(?:\./)?aclImdb/(train|test)/(pos|neg)/[^/]+\.txt$")


@dataclasses.dataclass
class SentimentData(ArraySplits):
    """Padded token ids and 0/1 labels (1 = positive), split three ways.

    Attributes:
        train: shuffled (seeded) `tf.data.Dataset` of `(ids (max_length,), label)` batches.
        validation: the same, unshuffled, held out from the official training reviews.
        test: the same, unshuffled, from the official test reviews.
        x_train: int32 `(n, max_length)` ids, 0-padded at the end; likewise x_val, x_test.
            A longer review keeps its last `max_length` ids with `truncating="pre"` (the
            default, as `keras.utils.pad_sequences`), its first ones with "post".
        y_train: int32 `(n,)` labels; likewise y_val, y_test.
        vocabulary: token of each id; `vocabulary[0] == ""` is padding.
        source: "real" or "offline" (generated data).
        name: "aclImdb", "imdb.npz", "synthetic_reviews" or "synthetic_npz".
        vectorizer: the fitted `TextVectorization`, returning every id of a text (ragged);
            None on the npz path. `encode` also pads and cuts as the splits were.
        texts: the raw texts per split (None on the npz path).
        max_length: ids per review.
        truncating: which end of a long review was cut, "pre" (its start) or "post".
    """

    vocabulary: list[str]
    source: str
    name: str
    vectorizer: keras.layers.TextVectorization | None = None
    texts: dict[str, list[str]] | None = None
    max_length: int | None = None
    truncating: str = "pre"

    @property
    def vocab_size(self) -> int:
        """Number of ids, padding included (the `input_dim` of an Embedding)."""
        return len(self.vocabulary)

    def decode(self, ids) -> str:
        """Token ids back to text, padding dropped.

        Example:
            >>> data.decode(data.x_train[0])[:30]
            'this film was just brilliant c'
        """
        ids = np.asarray(ids).ravel()
        return " ".join(self.vocabulary[i] for i in ids if 0 < i < len(self.vocabulary))

    def encode(self, texts: list[str]) -> np.ndarray:
        """New review texts to int32 `(len(texts), max_length)` ids, padded and cut as the
        splits were (for `model.predict` on your own reviews).

        Example:
            >>> model.predict(data.encode(["a moving, clever film"]))
        """
        if self.vectorizer is None:
            raise ValueError(
                "`encode` needs the fitted vectorizer of `load_imdb`; data from "
                "`load_imdb_npz` has none (it holds Keras's pre-tokenised ids)"
            )
        if isinstance(texts, str):
            raise ValueError(
                f"Argument `texts` must be a list of review strings; received one string "
                f"{texts[:40]!r}: wrap it in a list"
            )
        return _encode_texts(self.vectorizer, list(texts), self.max_length, self.truncating)


def _encode_texts(vectorizer, texts: list[str], max_length: int, truncating: str) -> np.ndarray:
    """Texts -> every id (ragged) -> padded at the end, cut at the `truncating` end."""
    ids = vectorizer(tf.constant(texts)).to_list() if texts else []
    return _pad(ids, max_length, truncating)


def _pad(ids: list[list[int]], max_length: int, truncating: str) -> np.ndarray:
    if not ids:
        return np.zeros((0, max_length), dtype="int32")
    return keras.utils.pad_sequences(ids, maxlen=max_length, padding="post",
                                     truncating=truncating, value=PAD_CHAR).astype("int32")


def _check_truncating(truncating: str) -> None:
    if truncating not in ("pre", "post"):
        raise ValueError(
            'Argument `truncating` must be "pre" (keep the end of a long review) or "post" '
            f"(keep its start); received truncating={truncating!r}"
        )


# === Offline fallback ===

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


# === aclImdb texts ===


def _clean(text: str) -> str:
    # The reviews keep their HTML line breaks, which would otherwise become a "br" token.
    return text.replace("<br />", " ").replace("<br/>", " ")


def read_aclimdb(
    path: str | os.PathLike, max_examples: int | None = None, verbose: int = 0
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Review texts and labels from an aclImdb tar.gz, read without extracting it.

    Args:
        path: `aclImdb_v1.tar.gz` or `aclImdb_labeled.tar.gz`.
        max_examples: keep at most this many reviews per split (half positive, half
            negative, first in archive order); None keeps all 25,000.
        verbose: 1 shows a `keras.utils.Progbar`.

    Returns:
        `{"train": (texts, labels), "test": (texts, labels)}`, labels int32, 1 = positive.

    Raises:
        CorruptDataError: not a readable tar archive, or no `aclImdb/{train,test}/{pos,neg}`.

    Example:
        >>> splits = read_aclimdb("aclImdb_labeled.tar.gz", max_examples=100)
        >>> len(splits["train"][0])
        100
    """
    per_class = None if max_examples is None else max(1, max_examples // 2)
    buckets = {(split, label): [] for split in ("train", "test") for label in ("neg", "pos")}
    progbar = keras.utils.Progbar(None, verbose=verbose, unit_name="review")
    count = 0
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                match = _MEMBER.match(member.name)
                if match is None or not member.isfile():
                    continue
                bucket = buckets[match.groups()]
                if per_class is not None and len(bucket) >= per_class:
                    if all(len(b) >= per_class for b in buckets.values()):
                        break
                    continue
                bucket.append(_clean(archive.extractfile(member).read().decode("utf-8", "replace")))
                count += 1
                if count % 1000 == 0:
                    progbar.update(count)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise CorruptDataError(
            f"{path} is not a readable aclImdb tar.gz archive ({type(error).__name__}: "
            f"{error}); it is truncated or damaged."
        ) from error
    progbar.update(count, finalize=True)
    missing = [f"aclImdb/{s}/{label}/" for (s, label), texts in buckets.items() if not texts]
    if missing:
        raise CorruptDataError(
            f"{path} holds no reviews under {', '.join(missing)}; expected the aclImdb layout "
            "aclImdb/{train,test}/{pos,neg}/*.txt"
        )
    result = {}
    for split in ("train", "test"):
        negative, positive = buckets[(split, "neg")], buckets[(split, "pos")]
        labels = np.array([0] * len(negative) + [1] * len(positive), dtype="int32")
        result[split] = (negative + positive, labels)
    return result


def _vectorize(splits, *, source, name, vocab_size, max_length, truncating,
               validation_fraction, batch_size, seed) -> SentimentData:
    texts, labels = splits["train"]
    index = random_split(len(texts), validation_fraction, 0.0, seed)
    parts = {
        "train": ([texts[i] for i in index["train"]], labels[index["train"]]),
        "validation": ([texts[i] for i in index["validation"]], labels[index["validation"]]),
        "test": splits["test"],
    }
    # Ragged output: every id of a review, so `truncating` can choose which end to keep.
    vectorizer = keras.layers.TextVectorization(max_tokens=vocab_size, output_mode="int",
                                                ragged=True)
    # Fitted on the training split only: validation and test words stay unseen, as in use.
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(parts["train"][0]).batch(1024))

    x = {split: _encode_texts(vectorizer, batch, max_length, truncating)
         for split, (batch, _) in parts.items()}
    y = {split: np.asarray(lab, dtype="int32") for split, (_, lab) in parts.items()}
    return _result(x, y, vocabulary=vectorizer.get_vocabulary(), source=source, name=name,
                   batch_size=batch_size, seed=seed, vectorizer=vectorizer,
                   texts={split: batch for split, (batch, _) in parts.items()},
                   max_length=max_length, truncating=truncating)


def _result(x, y, *, vocabulary, source, name, batch_size, seed, **extra) -> SentimentData:
    return SentimentData(
        train=make_dataset(x["train"], y["train"], batch_size=batch_size, shuffle=True,
                           seed=seed),
        validation=make_dataset(x["validation"], y["validation"], batch_size=batch_size),
        test=make_dataset(x["test"], y["test"], batch_size=batch_size),
        x_train=x["train"], y_train=y["train"], x_val=x["validation"], y_val=y["validation"],
        x_test=x["test"], y_test=y["test"],
        vocabulary=[str(token) for token in vocabulary], source=source, name=name, **extra)


def _check_common(source, max_length, truncating, validation_fraction, batch_size,
                  max_examples):
    check_source(source)
    check_positive_int(max_length, "max_length")
    _check_truncating(truncating)
    check_positive_int(batch_size, "batch_size")
    check_fractions(validation_fraction)
    if max_examples is not None:
        check_positive_int(max_examples, "max_examples")


def load_imdb(
    *,
    source: str = "auto",
    vocab_size: int = 20_000,
    max_length: int = 200,
    truncating: str = "pre",
    validation_fraction: float = 0.2,
    batch_size: int = 32,
    seed: int = 0,
    max_examples: int | None = None,
    origin: str | None = None,
    file_hash: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    verbose: int = 1,
) -> SentimentData:
    """IMDB reviews as text, tokenised with `TextVectorization` (many-to-one sentiment).

    Real data: the shared `aclImdb_labeled.tar.gz` if found, else the official
    `aclImdb_v1.tar.gz` from the cache, a data folder or `origin`. Both are sha256-pinned in
    the registry, and the archive's layout is checked too.

    Args:
        source: "real" (error if unavailable), "offline" (`synthetic_reviews` only), or
            "auto" (real when on disk or downloadable, else the fallback with a warning).
        vocab_size: `max_tokens` of the vectorizer (padding and `[UNK]` included).
        max_length: ids per review; shorter reviews are 0-padded at the end.
        truncating: "pre" keeps the last `max_length` ids of a longer review (where
            reviewers tend to give their verdict; `keras.utils.pad_sequences`'s default),
            "post" keeps the first ones.
        validation_fraction: share of the training reviews held out for validation.
        batch_size: batch size of the datasets.
        seed: validation split and shuffling seed (and the fallback's generator).
        max_examples: reviews per split (train and test), for quick runs; the fallback
            generates this many (default 2,000) per split.
        origin: URL of `aclImdb_v1.tar.gz` (default: the registry's; override for a mirror).
        file_hash: its sha256 (default: the registry's pin of the official archive).
        cache_dir: cache folder (default `$RNN_TF_DATA_DIR` or `datasets/.cache`).
        verbose: 1 shows progress while reading the archive.

    Returns:
        `SentimentData` with its `vectorizer` and raw `texts`.

    Raises:
        DataUnavailableError: source="real" and the archive is neither local nor downloadable.
        CorruptDataError: the archive fails its hash or layout check (a copy rnn_tf
            downloaded is deleted).

    Example:
        >>> data = load_imdb(source="offline", max_length=64)
        >>> data.x_train.shape, data.source
        ((1600, 64), 'offline')
    """
    _check_common(source, max_length, truncating, validation_fraction, batch_size,
                  max_examples)
    check_positive_int(vocab_size, "vocab_size")
    options = dict(vocab_size=vocab_size, max_length=max_length, truncating=truncating,
                   batch_size=batch_size, validation_fraction=validation_fraction, seed=seed)

    def real() -> SentimentData:
        def read(path):
            return read_aclimdb(path, max_examples, verbose)

        # The repackaged labelled archive, when a data folder has it, needs no download.
        if registry.find_local("imdb_reviews_labeled", cache_dir=cache_dir) is not None:
            splits = registry.read_dataset_file("imdb_reviews_labeled", read,
                                                cache_dir=cache_dir)
        else:
            splits = registry.read_dataset_file("imdb_reviews", read, origin=origin,
                                                file_hash=file_hash, cache_dir=cache_dir)
        return _vectorize(splits, source=REAL, name="aclImdb", **options)

    def offline() -> SentimentData:
        n = max_examples or 2000
        texts, labels = synthetic_reviews(2 * n, seed)
        splits = {"train": (texts[:n], labels[:n]), "test": (texts[n:], labels[n:])}
        return _vectorize(splits, source=OFFLINE, name="synthetic_reviews", **options)

    return choose(source, "IMDB reviews", real, offline)


# === Keras imdb.npz ===


def load_word_index(
    *,
    origin: str | None = None,
    file_hash: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> dict[str, int]:
    """Keras's IMDB `{word: rank}` index (rank 1 = most frequent), sha256-checked.

    Example:
        >>> load_word_index()["the"]
        1
    """
    return registry.read_dataset_file("imdb_word_index", _read_word_index, origin=origin,
                                      file_hash=file_hash, cache_dir=cache_dir)


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
    padded = _pad(ids, max_length, truncating)
    n_train, n_val = len(parts["train"]), len(parts["validation"])
    x = {"train": padded[:n_train], "validation": padded[n_train:n_train + n_val],
         "test": padded[n_train + n_val:]}
    y = {split: np.asarray(v, dtype="int32") for split, v in y.items()}
    return _result(x, y, vocabulary=_npz_vocabulary(word_index, limit), source=source,
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
    origin: str | None = None,
    file_hash: str | None = None,
    word_index_origin: str | None = None,
    word_index_hash: str | None = None,
    cache_dir: str | os.PathLike | None = None,
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
        origin: URL of `imdb.npz` (default: the registry's).
        file_hash: its sha256 (default: the registry's pin, the hash Keras pins); there is
            no way to skip the check.
        word_index_origin: URL of `imdb_word_index.json` (default: the registry's).
        word_index_hash: its sha256 (default: the registry's pin).
        cache_dir: cache folder.

    Returns:
        `SentimentData` (no vectorizer; `decode` uses the word index).

    Raises:
        ValueError: `file_hash` is empty.
        DataUnavailableError: source="real" and a file is neither local nor downloadable.
        CorruptDataError: a file fails its hash or is not in Keras's format.

    Example:
        >>> data = load_imdb_npz(source="offline", num_words=500, max_length=50)
        >>> int(data.x_train[0, 0])  # every review starts with START_CHAR
        1
    """
    _check_common(source, max_length, truncating, validation_fraction, batch_size,
                  max_examples)
    if num_words is not None:
        check_positive_int(num_words, "num_words")
        if num_words <= INDEX_FROM:
            raise ValueError(
                f"Received an invalid value for argument `num_words`, expected more than "
                f"{INDEX_FROM} (ids 0-{INDEX_FROM} are reserved), received num_words={num_words}"
            )
    if file_hash is not None and not file_hash:
        raise ValueError(
            "Argument `file_hash` must be the sha256 of imdb.npz: the file holds pickled "
            "arrays, which are never loaded unverified; received file_hash="
            f"{file_hash!r}"
        )
    options = dict(num_words=num_words, max_length=max_length, truncating=truncating,
                   batch_size=batch_size, validation_fraction=validation_fraction, seed=seed)

    def real() -> SentimentData:
        arrays = registry.read_dataset_file("imdb_npz", _read_npz, origin=origin,
                                            file_hash=file_hash, cache_dir=cache_dir)
        word_index = load_word_index(origin=word_index_origin, file_hash=word_index_hash,
                                     cache_dir=cache_dir)
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
