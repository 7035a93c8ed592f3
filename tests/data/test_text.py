"""Char-level Shakespeare: download and cache, next-char shift, contiguous splits, fallback."""

import logging

import numpy as np
import pytest
from tiny_files import play_text, sha256

from rnn_tf.data import (
    CorruptDataError,
    DataUnavailableError,
    Download,
    load_shakespeare,
    synthetic_play,
)

SMALL = dict(seq_len=20, batch_size=4)


@pytest.fixture
def served_text(http_server):
    (http_server.root / "shakespeare.txt").write_text(play_text(), encoding="utf-8")
    return http_server


def _load(server, cache, **kwargs):
    options = dict(source="real",
                   download=Download(origin=server.url("shakespeare.txt"),
                                     file_hash=sha256(server.root / "shakespeare.txt"),
                                     cache_dir=cache), **SMALL)
    return load_shakespeare(**{**options, **kwargs})


def test_download_sequences_and_cache_hit(served_text, cache):
    data = _load(served_text, cache)
    text = play_text()
    assert data.source == "real" and data.name == "shakespeare" and data.text == text
    assert data.x_train.shape[1:] == data.y_train.shape[1:] == (20,)
    np.testing.assert_array_equal(data.x_train[:, 1:], data.y_train[:, :-1])  # next char
    assert data.decode(data.x_train[0]) == text[:20]
    assert data.decode(data.y_train[0]) == text[1:21]
    assert data.vocabulary[0] == "[UNK]" and data.vocab_size == len(set(text)) + 1
    x, y = next(iter(data.train))
    assert x.shape == y.shape == (4, 20)

    _load(served_text, cache)
    assert served_text.requests["shakespeare.txt"] == 1


def test_splits_are_contiguous_parts_of_the_text(served_text, cache):
    data = _load(served_text, cache, validation_fraction=0.1, test_fraction=0.1)
    text = data.text
    n_val, n_test = round(len(text) * 0.1), round(len(text) * 0.1)
    start_val = len(text) - n_val - n_test
    assert data.decode(data.x_val[0]) == text[start_val:start_val + 20]
    assert data.decode(data.x_test[0]) == text[start_val + n_val:start_val + n_val + 20]


def test_encode_decode_round_trip_and_unknown_characters(served_text, cache):
    data = _load(served_text, cache)
    assert data.decode(data.encode("First Citizen:")) == "First Citizen:"
    with pytest.raises(ValueError, match="never saw them: '§'"):
        data.encode("First §")


def test_default_pinned_hash_rejects_another_file(served_text, cache):
    with pytest.raises(CorruptDataError, match="sha256"):
        load_shakespeare(source="real",
                         download=Download(origin=served_text.url("shakespeare.txt"),
                                           cache_dir=cache))
    assert not (cache / "shakespeare.txt").exists()


def test_binary_file_is_rejected_and_removed(http_server, cache):
    (http_server.root / "shakespeare.txt").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(CorruptDataError, match="UTF-8"):
        _load(http_server, cache)
    assert not (cache / "shakespeare.txt").exists()


def test_real_never_falls_back_and_auto_warns(http_server, cache, caplog):
    options = dict(max_chars=5000,
                   download=Download(origin=http_server.url("absent.txt"), cache_dir=cache),
                   **SMALL)
    with pytest.raises(DataUnavailableError):
        load_shakespeare(source="real", **options)
    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        data = load_shakespeare(source="auto", **options)
    assert data.source == "offline" and "OFFLINE FALLBACK" in caplog.text


def test_synthetic_play_is_deterministic_and_play_shaped():
    text = synthetic_play(5000, seed=1)
    assert len(text) == 5000 and text == synthetic_play(5000, seed=1)
    assert text != synthetic_play(5000, seed=2)
    assert text.split("\n", 1)[0].endswith(":") and "\n\n" in text


def test_offline_fallback_is_deterministic_and_labelled():
    first = load_shakespeare(source="offline", max_chars=8000, seed=3, **SMALL)
    second = load_shakespeare(source="offline", max_chars=8000, seed=3, **SMALL)
    assert first.source == "offline" and first.name == "synthetic_play"
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(next(iter(first.train))[0], next(iter(second.train))[0])


@pytest.mark.parametrize("kwargs, argument", [
    (dict(seq_len=0), "seq_len"), (dict(max_chars=0), "max_chars"),
    (dict(validation_fraction=0.9, test_fraction=0.2), "fraction"), (dict(source="x"), "source"),
])
def test_bad_arguments_name_themselves(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        load_shakespeare(**{"source": "offline", **kwargs})


@pytest.fixture(scope="module")
def play_data():
    return load_shakespeare(source="offline", max_chars=8000, **SMALL)


def test_encode_maps_each_character_of_a_prompt(play_data):
    ids = play_data.encode("ROMEO:")
    np.testing.assert_array_equal(ids, [play_data.vocabulary.index(c) for c in "ROMEO:"])
    assert play_data.decode(ids) == "ROMEO:"


def test_encode_names_the_characters_the_model_never_saw(play_data):
    assert not {"@", "é", "ж"} & set(play_data.text)
    with pytest.raises(ValueError, match=r"3 character\(s\) never appear in it, so the model "
                                         r"never saw them: '@', 'é', 'ж'"):
        play_data.encode("ROMEO: hé@ ж")


@pytest.mark.parametrize("text, expected", [("", "a non-empty string"),
                                            (["To be"], "a string")])
def test_encode_refuses_an_empty_prompt_or_a_list(play_data, text, expected):
    with pytest.raises(ValueError, match=f"Argument `text` must be {expected}"):
        play_data.encode(text)


def test_seq_len_longer_than_a_split_is_explained():
    with pytest.raises(ValueError, match="seq_len"):
        load_shakespeare(source="offline", max_chars=1000, seq_len=200)


@pytest.mark.needs_shared_data
def test_real_shared_text(shared_data_dir):
    data = load_shakespeare(source="real", max_chars=50_000,
                            download=Download(cache_dir=shared_data_dir))
    assert data.source == "real" and data.text.startswith("First Citizen:\n")
    assert data.x_train.shape == (396, 100)
