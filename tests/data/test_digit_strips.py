"""Digit strips (one-to-many): captions, teacher forcing, no image in two splits, MNIST path."""

import logging

import numpy as np
import pytest
from tiny_files import sha256

from rnn_tf.data import CorruptDataError, DataUnavailableError, Download
from rnn_tf.data.digit_strips import (
    DIGIT_WORDS,
    VOCABULARY,
    caption_of,
    decode_caption,
    encode_captions,
    load_digit_strips,
)

SMALL = dict(num_train=60, num_val=20, num_test=20, batch_size=8)


@pytest.fixture(scope="module")
def strips():
    return load_digit_strips(**SMALL)


def test_captions_are_the_digit_words(strips):
    assert caption_of([3, 1, 4]) == "three one four"
    for split in ("train", "validation", "test"):
        for digits, caption in zip(strips.digits[split], strips.captions[split]):
            assert caption == " ".join(DIGIT_WORDS[d] for d in digits)
            assert 1 <= len(digits) <= 4


def test_shapes_vocabulary_and_dataset(strips):
    assert strips.source == "real" and strips.name == "sklearn_digits"
    assert strips.image_shape == (8, 32, 1) and strips.caption_length == 5
    assert strips.vocabulary[0] == "" and len(strips.vocabulary) == 13
    assert 0.0 <= strips.images["train"].min() and strips.images["train"].max() <= 1.0
    (image, caption_in), caption_out = next(iter(strips.train))
    assert image.shape == (8, 8, 32, 1) and caption_in.shape == caption_out.shape == (8, 5)


def test_teacher_forcing_shift_and_decoding(strips):
    inputs, targets = strips.caption_inputs["train"], strips.caption_targets["train"]
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    assert (inputs[:, 0] == VOCABULARY.index("[start]")).all()
    assert ((targets == VOCABULARY.index("[end]")).sum(axis=1) == 1).all()
    for row, caption in zip(targets, strips.captions["train"]):
        assert decode_caption(row) == caption == strips.decode(row)


def test_encode_captions_pads_after_end():
    inputs, targets = encode_captions([[3, 1], [9]], max_digits=3)
    assert inputs.tolist() == [[1, 6, 4, 2], [1, 12, 2, 0]]
    assert targets.tolist() == [[6, 4, 2, 0], [12, 2, 0, 0]]


def test_strip_pixels_are_the_source_images(strips):
    from sklearn.datasets import load_digits

    digits = load_digits().images / 16.0
    image, sources = strips.images["test"][0, :, :, 0], strips.source_images["test"][0]
    for place, index in enumerate(sources):
        np.testing.assert_allclose(image[:, place * 8:(place + 1) * 8], digits[index])
    assert not image[:, len(sources) * 8:].any()  # unused places stay blank


def test_no_digit_image_is_in_two_splits(strips):
    used = {split: set(np.concatenate(strips.source_images[split]).tolist())
            for split in ("train", "validation", "test")}
    assert not used["train"] & used["validation"]
    assert not used["train"] & used["test"]
    assert not used["validation"] & used["test"]


def test_deterministic_under_a_seed():
    first, second = load_digit_strips(seed=3, **SMALL), load_digit_strips(seed=3, **SMALL)
    np.testing.assert_array_equal(first.images["train"], second.images["train"])
    assert first.captions == second.captions
    assert load_digit_strips(seed=4, **SMALL).captions != first.captions


def test_digit_count_limits_are_respected():
    data = load_digit_strips(min_digits=2, max_digits=2, **SMALL)
    assert {len(d) for d in data.digits["train"]} == {2}
    assert data.image_shape == (8, 16, 1)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(max_digits=0), "max_digits"), (dict(min_digits=3, max_digits=2), "min_digits"),
    (dict(num_train=0), "num_train"), (dict(images="cifar"), "images"),
    (dict(source="web"), "source"), (dict(test_fraction=0.0), "test_fraction"),
    (dict(images="mnist", source="offline"), "mnist"),
])
def test_bad_arguments_name_themselves(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        load_digit_strips(**kwargs)


@pytest.fixture
def served_mnist(http_server):
    rng = np.random.default_rng(0)
    np.savez(http_server.root / "mnist.npz",
             x_train=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
             y_train=np.arange(40, dtype=np.uint8) % 10,
             x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
             y_test=np.arange(10, dtype=np.uint8))
    return http_server


def test_mnist_download_pools_and_cache_hit(served_mnist, cache):
    options = dict(images="mnist", source="real",
                   download=Download(origin=served_mnist.url("mnist.npz"),
                                     file_hash=sha256(served_mnist.root / "mnist.npz"),
                                     cache_dir=cache), **SMALL)
    data = load_digit_strips(**options)
    assert data.name == "mnist" and data.image_shape == (28, 112, 1)
    test_images = set(np.concatenate(data.source_images["test"]).tolist())
    assert min(test_images) >= 40  # MNIST's own test images are the test pool
    train_images = set(np.concatenate(data.source_images["train"]).tolist())
    assert not train_images & set(np.concatenate(data.source_images["validation"]).tolist())
    load_digit_strips(**options)
    assert served_mnist.requests["mnist.npz"] == 1


def test_mnist_hash_mismatch_is_an_error(served_mnist, cache):
    with pytest.raises(CorruptDataError):
        load_digit_strips(images="mnist", source="real",
                          download=Download(origin=served_mnist.url("mnist.npz"), cache_dir=cache),
                          **SMALL)
    assert not (cache / "mnist.npz").exists()


def test_mnist_unavailable_real_fails_auto_uses_sklearn_digits(http_server, cache, caplog):
    options = dict(images="mnist",
                   download=Download(origin=http_server.url("absent.npz"), cache_dir=cache),
                   **SMALL)
    with pytest.raises(DataUnavailableError):
        load_digit_strips(source="real", **options)
    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        data = load_digit_strips(source="auto", **options)
    assert data.name == "sklearn_digits" and "OFFLINE FALLBACK" in caplog.text
