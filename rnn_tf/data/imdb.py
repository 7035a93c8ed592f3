"""IMDB movie-review sentiment (many-to-one) from the review texts, and its result type.

`load_imdb` reads the review texts of the Stanford `aclImdb` archive (the shared repackaged
`aclImdb_labeled.tar.gz`, or the official `aclImdb_v1.tar.gz`) straight from the tar.gz and
tokenises them with a `keras.layers.TextVectorization` fitted on the training split. Offline,
it tokenises `synthetic_reviews` (rnn_tf.data.offline_reviews) the same way, labelled
`source="offline"`. Keras's pre-tokenised `imdb.npz` is `load_imdb_npz` (rnn_tf.data.imdb_npz),
which returns the same `SentimentData`.

Index 0 is padding, so `keras.layers.Embedding(mask_zero=True)` masks it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tarfile
import zlib

import keras
import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_choice, check_positive_int, invalid
from rnn_tf.data import registry
from rnn_tf.data._common import (
    OFFLINE,
    REAL,
    ArraySplits,
    check_fractions,
    check_source,
    choose,
    make_dataset,
    preview,
    random_split,
    text_list,
)
from rnn_tf.data.errors import CorruptDataError
from rnn_tf.data.offline_reviews import synthetic_reviews
from rnn_tf.data.registry import Download, check_download

PAD_CHAR = 0
OOV_ID = 1  # TextVectorization's [UNK]
# What TextVectorization's default standardisation strips (tf_utils' punctuation class).
_PUNCTUATION = str.maketrans("", "", "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'")
TRUNCATING = ("pre", "post")
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

    def encode(self, texts: str | list[str]) -> np.ndarray:
        """Your own reviews as int32 `(n, max_length)` ids, padded and cut as the splits were.

        Args:
            texts: one review (a string, giving one row) or a list of reviews. Each is
                standardised by the vectorizer (lowercased, punctuation removed); words it
                never saw in training become `[UNK]` (id 1).

        Returns:
            int32 `(n, max_length)` ids for `model.predict`. A review longer than
            `max_length` words is cut by the data's `truncating` rule, as the training
            reviews were: "pre" keeps its last `max_length` words, "post" its first ones.

        Raises:
            ValueError: data from `load_imdb_npz` (no vectorizer); a review that is not a
                string, is empty, or has no word the vocabulary knows (the model would
                read nothing but `[UNK]`), naming the review and its unknown words.

        Example:
            >>> model.predict(data.encode("a moving, clever film"))
        """
        if self.vectorizer is None:
            raise ValueError(
                "`encode` needs the fitted vectorizer of `load_imdb`; data from "
                "`load_imdb_npz` has none (it holds Keras's pre-tokenised ids)"
            )
        single = isinstance(texts, str)
        texts = text_list(texts, "texts", "review")
        if not texts:
            return pad_ids([], self.max_length, self.truncating)
        ids = self.vectorizer(tf.constant(texts)).to_list()
        for i, (text, row) in enumerate(zip(texts, ids)):
            label = "texts" if single else f"texts[{i}]"
            if not row:
                raise invalid(label, "a review with at least one word once lowercased and "
                              "stripped of punctuation", preview(text))
            if all(token == OOV_ID for token in row):
                words = text.lower().translate(_PUNCTUATION).split()
                shown = ", ".join(map(repr, words[:8])) + (", ..." if len(words) > 8 else "")
                raise invalid(
                    label, f"a review with at least one word the vocabulary knows; all of its "
                    f"{len(row)} words are out of the vocabulary ({shown}), so the model would "
                    "read only [UNK]", preview(text))
        return pad_ids(ids, self.max_length, self.truncating)


def _encode_texts(vectorizer, texts: list[str], max_length: int, truncating: str) -> np.ndarray:
    """Texts -> every id (ragged) -> padded at the end, cut at the `truncating` end."""
    ids = vectorizer(tf.constant(texts)).to_list() if texts else []
    return pad_ids(ids, max_length, truncating)


def pad_ids(ids: list[list[int]], max_length: int, truncating: str) -> np.ndarray:
    if not ids:
        return np.zeros((0, max_length), dtype="int32")
    return keras.utils.pad_sequences(ids, maxlen=max_length, padding="post",
                                     truncating=truncating, value=PAD_CHAR).astype("int32")


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
    return sentiment_data(x, y, vocabulary=vectorizer.get_vocabulary(), source=source, name=name,
                   batch_size=batch_size, seed=seed, vectorizer=vectorizer,
                   texts={split: batch for split, (batch, _) in parts.items()},
                   max_length=max_length, truncating=truncating)


def sentiment_data(x, y, *, vocabulary, source, name, batch_size, seed, **extra) -> SentimentData:
    return SentimentData(
        train=make_dataset(x["train"], y["train"], batch_size=batch_size, shuffle=True,
                           seed=seed),
        validation=make_dataset(x["validation"], y["validation"], batch_size=batch_size),
        test=make_dataset(x["test"], y["test"], batch_size=batch_size),
        x_train=x["train"], y_train=y["train"], x_val=x["validation"], y_val=y["validation"],
        x_test=x["test"], y_test=y["test"],
        vocabulary=[str(token) for token in vocabulary], source=source, name=name, **extra)


def check_common(source, max_length, truncating, validation_fraction, batch_size,
                  max_examples):
    check_source(source)
    check_positive_int(max_length, "max_length")
    check_choice(truncating, TRUNCATING, "truncating")
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
    download: Download | None = None,
    verbose: int = 1,
) -> SentimentData:
    """IMDB reviews as text, tokenised with `TextVectorization` (many-to-one sentiment).

    Real data: the shared `aclImdb_labeled.tar.gz` if found, else the official
    `aclImdb_v1.tar.gz` from the cache, a data folder or its URL. Both are sha256-pinned in
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
        download: where `aclImdb_v1.tar.gz` comes from and is kept (`Download(origin=,
            file_hash=, cache_dir=)`); default: the registry's URL and pinned sha256, and the
            default cache folder.
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
    check_common(source, max_length, truncating, validation_fraction, batch_size,
                  max_examples)
    check_positive_int(vocab_size, "vocab_size")
    where = check_download(download)
    options = dict(vocab_size=vocab_size, max_length=max_length, truncating=truncating,
                   batch_size=batch_size, validation_fraction=validation_fraction, seed=seed)

    def real() -> SentimentData:
        def read(path):
            return read_aclimdb(path, max_examples, verbose)

        # The repackaged labelled archive, when a data folder has it, needs no download.
        cache_only = Download(cache_dir=where.cache_dir)
        if registry.find_local("imdb_reviews_labeled", cache_dir=where.cache_dir) is not None:
            splits = registry.read_dataset_file("imdb_reviews_labeled", read, cache_only)
        else:
            splits = registry.read_dataset_file("imdb_reviews", read, where)
        return _vectorize(splits, source=REAL, name="aclImdb", **options)

    def offline() -> SentimentData:
        n = max_examples or 2000
        texts, labels = synthetic_reviews(2 * n, seed)
        splits = {"train": (texts[:n], labels[:n]), "test": (texts[n:], labels[n:])}
        return _vectorize(splits, source=OFFLINE, name="synthetic_reviews", **options)

    return choose(source, "IMDB reviews", real, offline)
