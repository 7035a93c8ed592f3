"""English -> Spanish loader: spa.txt parsing, standardisation, number grammar, teacher forcing."""

import numpy as np
import pytest
from tiny_files import SPA_LINES, sha256, truncate, write_spa_zip

from rnn_tf.data import CorruptDataError, DataUnavailableError, Download
from rnn_tf.data.offline_numbers import english_number, number_pairs, spanish_number
from rnn_tf.data.translation import load_translation, parse_pairs, read_spa_eng, standardize

SMALL = dict(sequence_length=8, validation_fraction=0.2, test_fraction=0.2, batch_size=4)


def test_parse_pairs_reads_two_and_three_column_lines():
    text = "Go.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\n\nHi.\tHola.\n"
    assert parse_pairs(text) == [("Go.", "Ve."), ("Hi.", "Hola.")]


def test_parse_pairs_skips_malformed_lines():
    assert parse_pairs("no tab here\nHi.\tHola.\n\tempty english\n") == [("Hi.", "Hola.")]


def test_standardize_normalises_lowercases_and_spaces_punctuation():
    assert standardize("¿Dónde está el baño?") == "¿ dónde está el baño ?"
    # NFKC: a decomposed "é" and a non-breaking space become their plain forms.
    assert standardize("Cafe\u0301\u00a0Tom, hi!") == "café tom , hi !"
    assert standardize("I don't know.") == "i don't know ."


@pytest.mark.parametrize("n, words", [
    (0, "cero"), (1, "uno"), (15, "quince"), (16, "dieciséis"), (21, "veintiuno"),
    (22, "veintidós"), (23, "veintitrés"), (30, "treinta"), (31, "treinta y uno"),
    (100, "cien"), (101, "ciento uno"), (199, "ciento noventa y nueve"),
    (500, "quinientos"), (700, "setecientos"), (900, "novecientos"), (1000, "mil"),
    (1001, "mil uno"), (1100, "mil cien"), (2000, "dos mil"),
    (1999, "mil novecientos noventa y nueve"), (9999, "nueve mil novecientos noventa y nueve"),
])
def test_spanish_number_grammar(n, words):
    assert spanish_number(n) == words


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (13, "thirteen"), (40, "forty"), (42, "forty-two"), (100, "one hundred"),
    (1234, "one thousand two hundred thirty-four"), (9000, "nine thousand"),
])
def test_english_number_words(n, words):
    assert english_number(n) == words


def test_number_words_reject_out_of_range():
    with pytest.raises(ValueError, match="Argument `n`"):
        spanish_number(10_000)


def test_number_pairs_are_sentences_for_every_number():
    pairs = number_pairs()
    assert len(pairs) == 10_000 and len(set(pairs)) == 10_000
    assert pairs[21] == ("Twenty-one.", "Veintiuno.")


@pytest.fixture
def served_zip(http_server):
    write_spa_zip(http_server.root / "spa-eng.zip")
    return http_server


def _load(server, cache, **kwargs):
    options = dict(source="real",
                   download=Download(origin=server.url("spa-eng.zip"),
                                     file_hash=sha256(server.root / "spa-eng.zip"),
                                     cache_dir=cache), **SMALL)
    return load_translation(**{**options, **kwargs})


def test_download_builds_teacher_forcing_arrays_and_hits_cache(served_zip, cache):
    data = _load(served_zip, cache)
    assert data.source == "real" and data.name == "spa-eng"
    assert data.dropped == 1  # the one over-long pair
    total = sum(len(v) for v in data.pairs.values())
    assert total == len(SPA_LINES) - 1
    for split in ("train", "validation", "test"):
        enc, dec_in, dec_out = (data.encoder_inputs[split], data.decoder_inputs[split],
                                data.decoder_targets[split])
        assert enc.shape == dec_in.shape == dec_out.shape == (len(data.pairs[split]), 8)
        np.testing.assert_array_equal(dec_in[:, 1:], dec_out[:, :-1])  # shifted by one
        assert (dec_in[:, 0] == data.start_id).all()
        assert ((dec_out == data.end_id).sum(axis=1) == 1).all()
    english, spanish = data.pairs["train"][0]
    assert data.decode_target(data.decoder_targets["train"][0]) == spanish
    assert data.source_vocabulary[:2] == ["", "[UNK]"]
    (enc, dec), target = next(iter(data.train))
    assert enc.shape[1] == dec.shape[1] == target.shape[1] == 8

    _load(served_zip, cache)
    assert served_zip.requests["spa-eng.zip"] == 1


def test_written_pairs_are_the_file_sentences_of_each_standardised_pair(http_server, cache):
    # "GO." / "VE." standardises to the same pair as "Go." / "Ve.": each keeps its own writing.
    lines = SPA_LINES + ["GO.\tVE."]
    write_spa_zip(http_server.root / "spa-eng.zip", lines=lines)
    data = _load(http_server, cache)
    in_file = [tuple(line.split("\t")[:2]) for line in lines]
    for split in ("train", "validation", "test"):
        assert len(data.written_pairs[split]) == len(data.pairs[split])
        for (english, spanish), written in zip(data.pairs[split], data.written_pairs[split]):
            assert written in in_file
            assert (standardize(written[0]), standardize(written[1])) == (english, spanish)
    # The three ways to write "go": one split (by English sentence), in file order.
    go = [written for split in data.written_pairs.values() for written in split
          if written[0].lower() == "go."]
    assert go == [("Go.", "Ve."), ("Go.", "Vete."), ("GO.", "VE.")]


def test_alternative_translations_stay_in_one_split(served_zip, cache):
    data = _load(served_zip, cache)
    where = {}
    for split, pairs in data.pairs.items():
        for english, _ in pairs:
            where.setdefault(english, set()).add(split)
    assert all(len(splits) == 1 for splits in where.values())
    assert len([s for e, s in sum(data.pairs.values(), []) if e == "go ."]) == 2


def test_encode_source_standardises_raw_text(served_zip, cache):
    data = _load(served_zip, cache, validation_fraction=0.0, test_fraction=0.0)
    ids = data.encode_source(["Hi!"])
    assert ids.shape == (1, 8)
    assert [data.source_vocabulary[i] for i in ids[0] if i] == ["hi", "!"]


@pytest.fixture(scope="module")
def numbers_data():
    return load_translation(source="offline", **SMALL)


def test_encode_source_takes_one_sentence_as_a_string_or_a_list(numbers_data):
    one = numbers_data.encode_source("Two hundred.")
    assert one.shape == (1, 8)
    np.testing.assert_array_equal(one, numbers_data.encode_source(["Two hundred."]))
    vocabulary = numbers_data.source_vocabulary
    np.testing.assert_array_equal(one[0], [vocabulary.index(w) for w in ("two", "hundred", ".")]
                                  + [0] * 5)


@pytest.mark.parametrize("sentences, argument", [("", "sentences"),
                                                 (["One.", " "], r"sentences\[1\]")])
def test_encode_source_refuses_an_empty_sentence(numbers_data, sentences, argument):
    with pytest.raises(ValueError, match=f"Argument `{argument}` must be a sentence with at "
                                         "least one word; it is empty"):
        numbers_data.encode_source(sentences)


def test_encode_source_refuses_a_sentence_of_only_unknown_words(numbers_data):
    # The full stop is in the vocabulary, but punctuation alone is nothing to translate.
    with pytest.raises(ValueError, match=r"all of its words are out of the vocabulary "
                                         r"\('where', 'is', 'the', 'cat', '\?'\)"):
        numbers_data.encode_source("Where is the cat?")


@pytest.mark.parametrize("sentence, script", [("Двести.", "Cyrillic"), ("二百。", "CJK"),
                                              ("Διακόσια.", "Greek")])
def test_encode_source_names_another_script(numbers_data, sentence, script):
    with pytest.raises(ValueError, match=f"written in {script} script, and the vocabulary "
                                         "holds English words only"):
        numbers_data.encode_source(sentence)


def test_encode_source_refuses_a_sentence_longer_than_the_model_saw(numbers_data):
    with pytest.raises(ValueError, match=r"at most sequence_length=8 words .*it has 9"):
        numbers_data.encode_source("one two three four five six seven eight nine")


def test_default_pinned_hash_rejects_another_file(served_zip, cache):
    with pytest.raises(CorruptDataError, match="sha256"):
        load_translation(source="real",
                         download=Download(origin=served_zip.url("spa-eng.zip"), cache_dir=cache))
    assert not (cache / "spa-eng.zip").exists()


def test_truncated_zip_is_a_clear_error_and_is_removed(http_server, cache):
    truncate(write_spa_zip(http_server.root / "spa-eng.zip"), 0.6)
    with pytest.raises(CorruptDataError, match="truncated or damaged"):
        _load(http_server, cache)
    assert not (cache / "spa-eng.zip").exists()


def test_zip_without_spa_txt_is_rejected(tmp_path):
    path = write_spa_zip(tmp_path / "spa-eng.zip", member="spa-eng/other.txt")
    with pytest.raises(CorruptDataError, match="spa.txt"):
        read_spa_eng(path)


def test_offline_numbers_are_deterministic_and_labelled():
    first = load_translation(source="offline", max_pairs=600, **SMALL)
    second = load_translation(source="offline", max_pairs=600, **SMALL)
    assert first.source == "offline" and first.name == "synthetic_numbers"
    np.testing.assert_array_equal(first.encoder_inputs["train"], second.encoder_inputs["train"])
    assert first.pairs == second.pairs
    other = load_translation(source="offline", max_pairs=600, seed=1, **SMALL)
    assert other.pairs["train"] != first.pairs["train"]


def test_offline_fallback_is_big_enough_to_train():
    data = load_translation(source="offline", sequence_length=8)
    assert len(data.pairs["train"]) == 7000 and data.dropped == 0


def test_real_never_falls_back(http_server, cache):
    with pytest.raises(DataUnavailableError):
        load_translation(source="real",
                         download=Download(origin=http_server.url("absent.zip"), cache_dir=cache))


@pytest.mark.parametrize("kwargs, argument", [
    (dict(sequence_length=1), "sequence_length"), (dict(vocab_size=0), "vocab_size"),
    (dict(validation_fraction=0.6, test_fraction=0.5), "fraction"),
    (dict(max_pairs=0), "max_pairs"), (dict(source="online"), "source"),
])
def test_bad_arguments_name_themselves(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        load_translation(**{"source": "offline", **kwargs})


@pytest.mark.needs_shared_data
def test_real_shared_zip_subset(shared_data_dir):
    data = load_translation(source="real", max_pairs=1000,
                            download=Download(cache_dir=shared_data_dir))
    assert data.source == "real" and sum(len(p) for p in data.pairs.values()) == 1000
    assert any("¿" in spanish for _, spanish in data.pairs["train"])
