"""Captioning-style one-to-many data: an image of 1-4 handwritten digits -> their words.

A strip is digit images laid side by side (zero-padded on the right to `max_digits`
places); its caption is the digits as words, "three one four". Captions are ids over a
13-token vocabulary (0 padding, `[start]`, `[end]`, zero..nine), shifted for teacher
forcing:

    tokens           = [start] three one four [end] <pad> ...      (max_digits + 2)
    caption_inputs   = tokens[:-1]   (what the decoder reads)      (max_digits + 1)
    caption_targets  = tokens[1:]    (what it must predict)        (max_digits + 1)

Digits: scikit-learn's 1,797 8x8 `load_digits` images (real, offline, the default), or
MNIST's 70,000 28x28 images (downloaded once, sha256-checked; optional). The source images
are divided between train, validation and test before composing, so no digit image ever
appears in two splits.
"""

from __future__ import annotations

import dataclasses
import zipfile
import zlib

import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_choice, check_positive_int, invalid
from rnn_tf.data import registry
from rnn_tf.data._common import (
    REAL,
    SPLITS,
    check_fractions,
    check_source,
    choose,
    make_dataset,
    random_split,
)
from rnn_tf.data.errors import CorruptDataError
from rnn_tf.data.registry import Download, check_download

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
PAD, START, END = "", "[start]", "[end]"
VOCABULARY = (PAD, START, END, *DIGIT_WORDS)
IMAGE_SETS = ("sklearn", "mnist")
_IDS = {token: i for i, token in enumerate(VOCABULARY)}


@dataclasses.dataclass
class DigitStripsData:
    """Digit-strip images with teacher-forced caption ids, split by source image.

    Attributes:
        train: shuffled `tf.data.Dataset` of `((image, caption_input), caption_target)`
            batches; image float32 `(height, width * max_digits, 1)` in [0, 1], captions
            int32 `(max_digits + 1,)`.
        validation: the same, unshuffled.
        test: the same, unshuffled.
        images: `{split: float32 (n, height, width * max_digits, 1)}`.
        caption_inputs: `{split: int32 (n, max_digits + 1)}`, starting with `[start]`.
        caption_targets: `{split: int32 (n, max_digits + 1)}`, ending in `[end]` then 0s.
        captions: `{split: ["three one four", ...]}`.
        digits: `{split: [[3, 1, 4], ...]}`.
        source_images: `{split: [index array per strip]}` of the digit images used.
        vocabulary: `VOCABULARY` (id -> token).
        max_digits: digits per strip at most.
        source: always "real" (both image sets are real handwriting).
        name: "sklearn_digits" or "mnist".
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    images: dict[str, np.ndarray]
    caption_inputs: dict[str, np.ndarray]
    caption_targets: dict[str, np.ndarray]
    captions: dict[str, list[str]]
    digits: dict[str, list[list[int]]]
    source_images: dict[str, list[np.ndarray]]
    vocabulary: list[str]
    max_digits: int
    source: str
    name: str

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """`(height, width * max_digits, 1)`."""
        return tuple(self.images["train"].shape[1:])

    @property
    def caption_length(self) -> int:
        """Decoder steps per caption: `max_digits + 1`."""
        return self.max_digits + 1

    def decode(self, ids) -> str:
        """Caption ids back to words, stopping at `[end]`.

        Example:
            >>> data.decode(data.caption_targets["train"][0])
            'three one four'
        """
        return decode_caption(ids)


def caption_of(digits) -> str:
    """Digits -> caption words.

    Example:
        >>> caption_of([3, 1, 4])
        'three one four'
    """
    return " ".join(DIGIT_WORDS[int(d)] for d in digits)


def decode_caption(ids) -> str:
    """Caption ids -> words, skipping `[start]` and padding, stopping at `[end]`."""
    words = []
    for i in np.asarray(ids).ravel():
        if i == _IDS[END]:
            break
        if i > _IDS[END] and i < len(VOCABULARY):
            words.append(VOCABULARY[i])
    return " ".join(words)


def encode_captions(digit_lists, max_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Teacher-forcing pair `(caption_inputs, caption_targets)`, each `(n, max_digits + 1)`.

    Example:
        >>> encode_captions([[3, 1]], max_digits=3)
        (array([[1, 6, 4, 2]], dtype=int32), array([[6, 4, 2, 0]], dtype=int32))
    """
    tokens = np.zeros((len(digit_lists), max_digits + 2), dtype="int32")
    for row, digits in enumerate(digit_lists):
        if len(digits) > max_digits:
            raise ValueError(f"A caption has {len(digits)} digits, more than max_digits="
                             f"{max_digits}")
        ids = [_IDS[START], *(_IDS[DIGIT_WORDS[d]] for d in digits), _IDS[END]]
        tokens[row, :len(ids)] = ids
    return tokens[:, :-1], tokens[:, 1:]


def compose_strips(
    images: np.ndarray,
    labels: np.ndarray,
    pool: np.ndarray,
    num_strips: int,
    *,
    min_digits: int,
    max_digits: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[list[int]], list[np.ndarray]]:
    """Strips of 1..max_digits digit images drawn from `pool` only, right-padded with zeros.

    Args:
        images: `(N, height, width)` in [0, 1].
        labels: `(N,)` digit of each image.
        pool: indices this split may use.
        num_strips: strips to make.
        min_digits: digits per strip at least.
        max_digits: digits per strip at most (sets the strip width).
        rng: NumPy generator (seeded by the caller).

    Returns:
        `(strips (num_strips, height, width * max_digits), digits, source indices)`.
    """
    height, width = images.shape[1:]
    strips = np.zeros((num_strips, height, width * max_digits), dtype="float32")
    digits, sources = [], []
    for row in range(num_strips):
        chosen = rng.choice(pool, size=int(rng.integers(min_digits, max_digits + 1)))
        for place, index in enumerate(chosen):
            strips[row, :, place * width:(place + 1) * width] = images[index]
        digits.append([int(labels[i]) for i in chosen])
        sources.append(chosen)
    return strips, digits, sources


def _sklearn_digits(validation_fraction, test_fraction, seed):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype("float32")  # pixel values are 0..16
    pools = random_split(len(images), validation_fraction, test_fraction, seed)
    return images, bunch.target.astype("int32"), pools


def _read_mnist(path) -> tuple[np.ndarray, ...]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return archive["x_train"], archive["y_train"], archive["x_test"], archive["y_test"]
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, zlib.error) as error:
        raise CorruptDataError(f"{path} is not a Keras mnist.npz ({error})") from error


def _mnist(validation_fraction, test_fraction, seed, where: Download):
    x_train, y_train, x_test, y_test = registry.read_dataset_file("mnist", _read_mnist, where)
    images = (np.concatenate([x_train, x_test]) / 255.0).astype("float32")
    labels = np.concatenate([y_train, y_test]).astype("int32")
    # MNIST's own test images stay the test pool; validation comes out of its train images.
    inner = random_split(len(x_train), validation_fraction, 0.0, seed)
    pools = {"train": inner["train"], "validation": inner["validation"],
             "test": np.arange(len(x_train), len(images))}
    return images, labels, pools


def load_digit_strips(
    *,
    images: str = "sklearn",
    source: str = "auto",
    min_digits: int = 1,
    max_digits: int = 4,
    num_train: int = 4000,
    num_val: int = 500,
    num_test: int = 500,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    batch_size: int = 32,
    seed: int = 0,
    download: Download | None = None,
) -> DigitStripsData:
    """Digit strips and their word captions for one-to-many (image -> sequence) models.

    Args:
        images: "sklearn" (8x8 `load_digits`, offline) or "mnist" (28x28, downloaded once).
        source: "real"/"auto"/"offline". Both image sets are real handwriting; "offline"
            means the bundled scikit-learn digits, and "auto" with images="mnist" falls
            back to them, with a logged warning, when MNIST cannot be had.
        min_digits: digits per strip at least.
        max_digits: digits per strip at most; captions are `max_digits + 1` steps.
        num_train: training strips.
        num_val: validation strips.
        num_test: test strips.
        validation_fraction: share of the source images reserved for validation strips
            (MNIST: of its training images).
        test_fraction: share reserved for test strips (MNIST: unused, its own test images
            are the test pool).
        batch_size: batch size of the datasets.
        seed: image split, composition and shuffling seed.
        download: where `mnist.npz` comes from and is kept (`Download(origin=,
            file_hash=, cache_dir=)`); default: the registry's URL and pinned sha256, and the
            default cache folder.

    Returns:
        `DigitStripsData`.

    Raises:
        ValueError: a bad argument, naming it.
        DataUnavailableError: images="mnist", source="real" and MNIST cannot be had.

    Example:
        >>> data = load_digit_strips(num_train=100, num_val=20, num_test=20)
        >>> data.image_shape, data.caption_inputs["train"].shape
        ((8, 32, 1), (100, 5))
    """
    check_source(source)
    check_choice(images, IMAGE_SETS, "images")
    where = check_download(download)
    if images == "mnist" and source == "offline":
        raise ValueError("images='mnist' needs a download; use source='auto' or 'real', or "
                         "images='sklearn' for the offline digits")
    check_positive_int(min_digits, "min_digits")
    check_positive_int(max_digits, "max_digits")
    if min_digits > max_digits:
        raise invalid("min_digits", f"at most max_digits={max_digits}", min_digits)
    counts = {"train": check_positive_int(num_train, "num_train"),
              "validation": check_positive_int(num_val, "num_val"),
              "test": check_positive_int(num_test, "num_test")}
    check_positive_int(batch_size, "batch_size")
    check_fractions(validation_fraction, test_fraction)
    for name, fraction in (("validation_fraction", validation_fraction),
                           ("test_fraction", test_fraction)):
        if fraction == 0:
            raise invalid(name, "more than 0 (every split needs its own digit images)", fraction)

    def build(loaded, name: str) -> DigitStripsData:
        all_images, labels, pools = loaded
        rng = np.random.default_rng(seed)
        parts = {}
        for split in SPLITS:
            strips, digits, sources = compose_strips(
                all_images, labels, pools[split], counts[split], min_digits=min_digits,
                max_digits=max_digits, rng=rng)
            inputs, targets = encode_captions(digits, max_digits)
            parts[split] = (strips[..., None], inputs, targets, digits, sources)
        datasets = {split: make_dataset((p[0], p[1]), p[2], batch_size=batch_size,
                                         shuffle=split == "train", seed=seed)
                    for split, p in parts.items()}
        return DigitStripsData(
            train=datasets["train"], validation=datasets["validation"], test=datasets["test"],
            images={s: p[0] for s, p in parts.items()},
            caption_inputs={s: p[1] for s, p in parts.items()},
            caption_targets={s: p[2] for s, p in parts.items()},
            captions={s: [caption_of(d) for d in p[3]] for s, p in parts.items()},
            digits={s: p[3] for s, p in parts.items()},
            source_images={s: p[4] for s, p in parts.items()},
            vocabulary=list(VOCABULARY), max_digits=max_digits, source=REAL, name=name)

    def sklearn() -> DigitStripsData:
        return build(_sklearn_digits(validation_fraction, test_fraction, seed), "sklearn_digits")

    if images == "sklearn":
        return sklearn()

    def mnist() -> DigitStripsData:
        loaded = _mnist(validation_fraction, test_fraction, seed, where)
        return build(loaded, "mnist")

    return choose(source, "MNIST digit strips", mnist, sklearn)
