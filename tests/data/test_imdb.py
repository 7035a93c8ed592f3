"""IMDB sentiment loaders: aclImdb texts, Keras imdb.npz offsets, the synthetic fallback."""

import logging
import re

import numpy as np
import pytest
import tiny_files
from tiny_files import sha256, truncate, write_aclimdb, write_imdb_npz, write_word_index

from rnn_tf.data import (
    CorruptDataError,
    DataUnavailableError,
    Download,
    imdb,
    imdb_npz,
    load_imdb,
    load_imdb_npz,
    offline_reviews,
    synthetic_reviews,
)

SMALL = dict(max_length=12, vocab_size=60, validation_fraction=0.25, batch_size=4, verbose=0)


@pytest.fixture
def served_aclimdb(http_server):
    write_aclimdb(http_server.root / "aclImdb_v1.tar.gz", per_class=4)
    return http_server


def _tiny_hash(server) -> str:
    return sha256(server.root / "aclImdb_v1.tar.gz")


def test_aclimdb_download_tokenise_and_cache_hit(served_aclimdb, cache):
    url = served_aclimdb.url("aclImdb_v1.tar.gz")
    data = load_imdb(source="real",
                     download=Download(origin=url, file_hash=_tiny_hash(served_aclimdb),
                                       cache_dir=cache), **SMALL)
    assert (data.source, data.name) == ("real", "aclImdb")
    assert data.x_train.shape == (6, 12) and data.x_val.shape == (2, 12)
    assert data.x_test.shape == (8, 12) and data.x_train.dtype == np.int32
    assert sorted(data.y_test.tolist()) == [0] * 4 + [1] * 4
    assert data.vocabulary[:2] == ["", "[UNK]"]
    assert (data.x_test[:, -1] == 0).all()  # short reviews are 0-padded at the end
    for row in np.concatenate([data.x_train, data.x_test]):  # 0 only as trailing padding,
        assert (np.trim_zeros(row, "b") != 0).all()  # so Embedding(mask_zero=True) is right
    assert "<br" not in " ".join(data.texts["train"]) and "br" not in data.vocabulary
    assert data.decode(data.x_test[0]).split()[0] in {"an", "a"}
    x, y = next(iter(data.train))
    assert x.shape == (4, 12) and y.shape == (4,)

    again = load_imdb(source="real",
                      download=Download(origin=url, file_hash=_tiny_hash(served_aclimdb),
                                        cache_dir=cache), **SMALL)
    np.testing.assert_array_equal(again.x_train, data.x_train)
    assert served_aclimdb.requests["aclImdb_v1.tar.gz"] == 1


def test_vectorizer_is_fitted_on_the_training_split_only(served_aclimdb, cache):
    data = load_imdb(source="real",
                     download=Download(origin=served_aclimdb.url("aclImdb_v1.tar.gz"),
                                       file_hash=_tiny_hash(served_aclimdb), cache_dir=cache),
                     **SMALL)
    assert "test" not in data.vocabulary  # "(test i)" appears only in test reviews


def test_user_supplied_hash_mismatch_raises_and_removes_the_file(served_aclimdb, cache):
    with pytest.raises(CorruptDataError, match="sha256"):
        load_imdb(source="real",
                  download=Download(origin=served_aclimdb.url("aclImdb_v1.tar.gz"),
                                    file_hash="0" * 64, cache_dir=cache), **SMALL)
    assert [p for p in cache.iterdir() if not p.name.startswith(".")] == []


def test_the_official_archives_pinned_hash_rejects_another_archive(served_aclimdb, cache):
    with pytest.raises(CorruptDataError, match="c40f74a18d3b61f90feba1e17730e0d38e8b97c05"):
        load_imdb(source="real",
                  download=Download(origin=served_aclimdb.url("aclImdb_v1.tar.gz"),
                                    cache_dir=cache), **SMALL)
    assert not (cache / "aclImdb_v1.tar.gz").exists()


def test_truncated_archive_is_a_clear_error_and_is_removed(http_server, cache):
    truncate(write_aclimdb(http_server.root / "aclImdb_v1.tar.gz", per_class=40), 0.5)
    with pytest.raises(CorruptDataError, match="truncated or damaged"):
        load_imdb(source="real",
                  download=Download(origin=http_server.url("aclImdb_v1.tar.gz"),
                                    file_hash=_tiny_hash(http_server), cache_dir=cache), **SMALL)
    assert not (cache / "aclImdb_v1.tar.gz").exists()


def test_archive_without_the_aclimdb_layout_is_rejected(http_server, cache):
    write_aclimdb(http_server.root / "aclImdb_v1.tar.gz", labels=("pos",))
    with pytest.raises(CorruptDataError, match="aclImdb/train/neg/"):
        load_imdb(source="real",
                  download=Download(origin=http_server.url("aclImdb_v1.tar.gz"),
                                    file_hash=_tiny_hash(http_server), cache_dir=cache), **SMALL)


def test_max_examples_keeps_both_classes(tmp_path):
    path = write_aclimdb(tmp_path / "a.tar.gz", per_class=5)
    splits = imdb.read_aclimdb(path, max_examples=4)
    for texts, labels in splits.values():
        assert len(texts) == 4 and labels.tolist() == [0, 0, 1, 1]


@pytest.fixture
def served_npz(http_server):
    write_imdb_npz(http_server.root / "imdb.npz")
    write_word_index(http_server.root / "imdb_word_index.json")
    return http_server


def _npz(server, cache, file_hash="served", **kwargs):
    # file_hash="served" is the hash of the served file; None and "" go through as given.
    if file_hash == "served":
        file_hash = sha256(server.root / "imdb.npz")
    index_hash = sha256(server.root / "imdb_word_index.json")
    options = dict(source="real", num_words=None, max_length=6, validation_fraction=0.0,
                   download=Download(server.url("imdb.npz"), file_hash, cache),
                   word_index_download=Download(server.url("imdb_word_index.json"), index_hash,
                                                cache))
    return load_imdb_npz(**{**options, **kwargs})


def test_npz_uses_keras_offsets_and_decodes(served_npz, cache):
    data = _npz(served_npz, cache)
    assert data.source == "real" and data.name == "imdb.npz"
    # start=1, oov=2, rank r -> r + 3, then 0-padding at the end
    expected_train = {(1, 4, 5, 6, 7, 0), (1, 4, 5, 6, 8, 0), (1, 4, 9, 6, 7, 0),
                      (1, 4, 9, 6, 8, 0)}
    assert {tuple(row) for row in data.x_train.tolist()} == expected_train
    assert {tuple(row) for row in data.x_test.tolist()} == {(1, 5, 6, 7, 0, 0),
                                                            (1, 9, 6, 8, 0, 0)}
    assert data.vocabulary[:4] == ["", "[START]", "[UNK]", "[UNUSED]"]
    texts = {data.decode(row): label for row, label in zip(data.x_train, data.y_train)}
    assert texts["[START] the movie was great"] == 1
    assert texts["[START] the plot was awful"] == 0
    row = data.x_test[0]
    assert imdb_npz.decode_npz_review(row, tiny_files.WORD_INDEX) == data.decode(row)

    _npz(served_npz, cache)
    assert served_npz.requests["imdb.npz"] == served_npz.requests["imdb_word_index.json"] == 1


def test_npz_num_words_maps_rare_words_to_oov(served_npz, cache):
    data = _npz(served_npz, cache, num_words=7)  # ids >= 7 ("great", "awful", "plot") -> 2
    assert data.x_train.max() < 7 and (data.x_train == imdb_npz.OOV_CHAR).any()
    assert data.vocab_size == 7


def test_npz_is_never_loaded_without_a_hash(served_npz, cache):
    with pytest.raises(ValueError, match="download.file_hash"):
        _npz(served_npz, cache, file_hash="")
    # None means the registry's pin (Keras's), which this tiny file does not match.
    with pytest.raises(CorruptDataError, match="sha256"):
        _npz(served_npz, cache, file_hash=None)
    assert not (cache / "imdb.npz").exists()


def test_npz_hash_mismatch_raises_and_removes_the_file(served_npz, cache):
    with pytest.raises(CorruptDataError):
        _npz(served_npz, cache, file_hash="f" * 64)
    assert not (cache / "imdb.npz").exists()


def test_npz_that_is_not_a_zip_is_corrupt(http_server, cache):
    (http_server.root / "imdb.npz").write_bytes(b"not an npz")
    with pytest.raises(CorruptDataError, match="not a Keras imdb.npz"):
        load_imdb_npz(source="real",
                      download=Download(origin=http_server.url("imdb.npz"),
                                        file_hash=sha256(http_server.root / "imdb.npz"),
                                        cache_dir=cache))


def _label_from_text(text: str) -> int:
    """The generator's rule, re-derived from the words: negation flips, the end resolves."""
    polarity = {w: p for p, words in offline_reviews._ADJECTIVES.items() for w in words}
    opening = re.match(r"i expected the .+? to be (\w+) \.", text)
    if opening:
        held = text.endswith("and it was .")
        return polarity[opening.group(1)] if held else 1 - polarity[opening.group(1)]
    verdicts = re.findall(r"was (not )?(\w+) \.", text)
    labels = {polarity[word] if not negated else 1 - polarity[word]
              for negated, word in verdicts}
    assert len(labels) == 1, text
    return labels.pop()


def test_synthetic_reviews_follow_negation_and_long_range_rules():
    texts, labels = synthetic_reviews(200, seed=3)
    assert [_label_from_text(t) for t in texts] == labels.tolist()
    assert labels.mean() == 0.5
    assert any(" not " in t and not t.startswith("i expected") for t in texts)
    assert any(t.startswith("i expected") and t.endswith("but it was not .") for t in texts)


def test_synthetic_reviews_are_deterministic_under_a_seed():
    assert synthetic_reviews(20, seed=1)[0] == synthetic_reviews(20, seed=1)[0]
    assert synthetic_reviews(20, seed=1)[0] != synthetic_reviews(20, seed=2)[0]


@pytest.mark.parametrize("loader", [load_imdb, load_imdb_npz])
def test_offline_fallback_is_deterministic_and_labelled(loader):
    first = loader(source="offline", max_examples=100, max_length=24, seed=5)
    second = loader(source="offline", max_examples=100, max_length=24, seed=5)
    assert first.source == second.source == "offline"
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)
    batch_a, batch_b = next(iter(first.train)), next(iter(second.train))
    np.testing.assert_array_equal(batch_a[0], batch_b[0])  # seeded shuffle


def test_offline_npz_fallback_round_trips_through_decode():
    data = load_imdb_npz(source="offline", max_examples=50, max_length=64)
    assert (data.x_train[:, 0] == imdb_npz.START_CHAR).all()
    assert data.decode(data.x_test[0]).startswith("[START] ")


def test_auto_falls_back_with_warning_when_offline(http_server, cache, caplog):
    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        data = load_imdb(source="auto", max_examples=40,
                         download=Download(origin=http_server.url("absent.tar.gz"),
                                           cache_dir=cache), **SMALL)
    assert data.source == "offline" and "OFFLINE FALLBACK" in caplog.text


def test_real_never_falls_back(http_server, cache):
    with pytest.raises(DataUnavailableError):
        load_imdb(source="real",
                  download=Download(origin=http_server.url("absent.tar.gz"), cache_dir=cache),
                  **SMALL)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(vocab_size=0), "vocab_size"), (dict(max_length=-1), "max_length"),
    (dict(validation_fraction=1.0), "validation_fraction"), (dict(source="web"), "source"),
    (dict(max_examples=0), "max_examples"), (dict(batch_size=0), "batch_size"),
    (dict(truncating="end"), "truncating"),
])
def test_bad_arguments_name_themselves(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        load_imdb(**{"source": "offline", **kwargs})


@pytest.mark.parametrize("loader", [load_imdb, load_imdb_npz])
def test_truncating_chooses_which_end_of_a_long_review_is_kept(loader):
    whole = loader(source="offline", max_examples=60, max_length=400, truncating="post")
    lengths = (whole.x_test > 0).sum(axis=1)
    assert lengths.max() < 400 and (lengths > 5).mean() > 0.5   # nothing cut; most are long
    for truncating, kept in (("pre", lambda ids: ids[-5:]), ("post", lambda ids: ids[:5])):
        cut = loader(source="offline", max_examples=60, max_length=5, truncating=truncating)
        expected = [kept(row[row > 0]) for row in whole.x_test]
        expected = [np.pad(ids, (0, 5 - len(ids))) for ids in expected]   # short: 0 at the end
        np.testing.assert_array_equal(cut.x_test, np.stack(expected))


def test_encode_pads_and_cuts_new_texts_as_the_splits_were():
    for truncating in ("pre", "post"):
        data = load_imdb(source="offline", max_examples=40, max_length=10, truncating=truncating)
        np.testing.assert_array_equal(data.encode(data.texts["test"]), data.x_test)
    with pytest.raises(ValueError, match="load_imdb_npz"):
        load_imdb_npz(source="offline", max_examples=20).encode(["a review"])


@pytest.fixture(scope="module")
def offline_reviews_data():
    return load_imdb(source="offline", max_examples=40, max_length=10)


def test_encode_takes_one_review_as_a_string_or_a_list(offline_reviews_data):
    data = offline_reviews_data
    one = data.encode("the acting was great")
    assert one.shape == (1, 10)
    np.testing.assert_array_equal(one, data.encode(["the acting was great"]))
    np.testing.assert_array_equal(one[0, :4], [data.vocabulary.index(w)
                                               for w in "the acting was great".split()])


@pytest.mark.parametrize("texts, argument", [
    ("", "texts"), ("   \n", "texts"), (["the plot was good", ""], r"texts\[1\]"),
])
def test_encode_refuses_an_empty_review_naming_it(offline_reviews_data, texts, argument):
    with pytest.raises(ValueError, match=f"Argument `{argument}` must be a review with at "
                                         "least one word; it is empty"):
        offline_reviews_data.encode(texts)


def test_encode_refuses_a_review_of_only_unknown_words(offline_reviews_data):
    with pytest.raises(ValueError, match=r"all of its 3 words are out of the vocabulary "
                                         r"\('xyzzy', 'plugh', 'frobozz'\).*only \[UNK\]"):
        offline_reviews_data.encode(["the music was great", "Xyzzy plugh, frobozz!"])


@pytest.mark.parametrize("truncating, kept", [("pre", slice(-10, None)),
                                               ("post", slice(0, 10))])
def test_encode_cuts_a_very_long_review_by_the_truncating_rule(truncating, kept):
    data = load_imdb(source="offline", max_examples=40, max_length=10, truncating=truncating)
    words = [w for w in " ".join(data.texts["train"]).split() if w in data.vocabulary]
    long_review = " ".join(words[:5000])   # 5,000 known words, 500 times max_length
    expected = [data.vocabulary.index(w) for w in words[:5000]][kept]
    np.testing.assert_array_equal(data.encode(long_review)[0], expected)


def test_npz_num_words_must_leave_room_for_words():
    with pytest.raises(ValueError, match="num_words"):
        load_imdb_npz(source="offline", num_words=3)


@pytest.mark.needs_shared_data
def test_real_shared_archive_subset(shared_data_dir):
    data = load_imdb(source="real", max_examples=200, max_length=100, verbose=0,
                     download=Download(cache_dir=shared_data_dir))
    assert data.source == "real" and data.name == "aclImdb"
    assert len(data.y_test) == 200 and data.y_test.mean() == 0.5
    assert len(data.y_train) + len(data.y_val) == 200


@pytest.mark.needs_shared_data
def test_real_shared_word_index(shared_data_dir):
    index = imdb_npz.load_word_index(Download(cache_dir=shared_data_dir))
    assert index["the"] == 1 and len(index) == 88_584
