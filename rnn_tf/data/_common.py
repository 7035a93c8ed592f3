"""What every loader shares: the `source=` switch, argument checks, splits, `tf.data`."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_choice, check_number, invalid
from rnn_tf.data.errors import DataUnavailableError

logger = logging.getLogger("rnn_tf.data")

SOURCES = ("auto", "real", "offline")
SPLITS = ("train", "validation", "test")
REAL = "real"
# What `source` says on a result: real data, or the clearly labelled offline fallback.
OFFLINE = "offline"

T = TypeVar("T")


@dataclasses.dataclass
class ArraySplits:
    """The fields every `x -> y` loader returns: batched datasets and the arrays behind them.

    Subclasses (one per dataset) add their own fields after these and document all of them.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def check_source(source: str) -> str:
    """`source` must be one of "auto", "real", "offline"."""
    return check_choice(source, SOURCES, "source")


def check_fractions(validation_fraction: float, test_fraction: float | None = None) -> None:
    """Each split fraction lies in [0, 1) and together they leave a training split."""
    fractions = {"validation_fraction": validation_fraction}
    if test_fraction is not None:
        fractions["test_fraction"] = test_fraction
    for name, value in fractions.items():
        check_number(value, name, low=0, high=1, high_open=True)
    if sum(fractions.values()) >= 1:
        named = ", ".join(f"{k}={v!r}" for k, v in fractions.items())
        raise ValueError(
            f"Split fractions must sum to less than 1 so that a training split is left; "
            f"received {named} (sum {sum(fractions.values())!r})"
        )


def preview(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters for an error message."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def text_list(texts, name: str, what: str) -> list[str]:
    """One string or a list of strings as a list, each holding more than white space.

    Args:
        texts: a string, or a list/tuple of strings.
        name: the argument's name, for the error.
        what: what one string is ("review", "sentence"), for the error.

    Raises:
        ValueError: not a string or a list of strings, or an empty string (naming its index).
    """
    single = isinstance(texts, str)
    items = [texts] if single else texts
    if not isinstance(items, (list, tuple)):
        raise invalid(name, f"a {what} (a string) or a list of them", items)
    for i, text in enumerate(items):
        label = name if single else f"{name}[{i}]"
        if not isinstance(text, str):
            raise invalid(label, f"a {what} (a string)", text)
        if not text.strip():
            raise invalid(label, f"a {what} with at least one word; it is empty", text)
    return list(items)


def choose(source: str, dataset: str, real: Callable[[], T], offline: Callable[[], T]) -> T:
    """Run the real loader or the offline fallback as `source` asks.

    "real" never falls back: its `DataUnavailableError` reaches the caller. "auto" falls
    back only when the real files are unavailable, and logs a warning saying so; a file
    that fails its hash check is an error in every mode.

    Args:
        source: "auto", "real" or "offline".
        dataset: name used in the warning.
        real: builds the result from the real data.
        offline: builds the clearly labelled synthetic/offline result.

    Returns:
        What `real` or `offline` returned.
    """
    check_source(source)
    if source == "offline":
        return offline()
    if source == "real":
        return real()
    try:
        return real()
    except DataUnavailableError as error:
        logger.warning(
            "%s: the real dataset is unavailable, so the OFFLINE FALLBACK is used instead "
            "(pass source='real' to make this an error). Reason: %s",
            dataset, error,
        )
        return offline()


def make_dataset(
    inputs,
    targets,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
) -> tf.data.Dataset:
    """`(inputs, targets)` batches; shuffled with a fixed seed (fresh order each epoch).

    Args:
        inputs: array, or tuple of arrays, with the examples on axis 0.
        targets: array with the examples on axis 0.
        batch_size: examples per batch.
        shuffle: shuffle the examples (training split).
        seed: shuffle seed, so two runs see the same order.

    Returns:
        A batched, prefetched `tf.data.Dataset`.
    """
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        count = len(targets)
        dataset = dataset.shuffle(max(1, min(count, 50_000)), seed=seed,
                                  reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def split_counts(total: int, validation_fraction: float, test_fraction: float) -> tuple[int, ...]:
    """(train, validation, test) sizes for `total` items, the remainder going to train."""
    n_val = int(round(total * validation_fraction))
    n_test = int(round(total * test_fraction))
    return total - n_val - n_test, n_val, n_test


def random_split(
    total: int, validation_fraction: float, test_fraction: float, seed: int
) -> dict[str, np.ndarray]:
    """Seeded, disjoint index sets `{"train": ..., "validation": ..., "test": ...}`."""
    order = np.random.default_rng(seed).permutation(total)
    n_train, n_val, _ = split_counts(total, validation_fraction, test_fraction)
    return {
        "train": np.sort(order[:n_train]),
        "validation": np.sort(order[n_train:n_train + n_val]),
        "test": np.sort(order[n_train + n_val:]),
    }
