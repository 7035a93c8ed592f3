"""English -> Spanish translation pairs for encoder-decoder models, with teacher forcing.

Real data: `spa-eng/spa.txt` inside `spa-eng.zip` (Tatoeba via manythings.org/anki), one
`english<TAB>spanish` pair per line, newer exports adding a third attribution column.
Offline fallback: every number 0-9999 written out in English and in Spanish words
(`number_pairs`, rnn_tf.data.offline_numbers), labelled `source="offline"`.

Both sides are Unicode-normalised (NFKC), lowercased and have punctuation split off
(`standardize`); the Spanish side is wrapped in `[start] ... [end]`. Ids come from two
`keras.layers.TextVectorization` layers fitted on the training pairs; 0 is padding.

    encoder_inputs   = ids(english)                         (n, sequence_length)
    decoder_inputs   = ids([start] spanish [end])[:, :-1]   (n, sequence_length)
    decoder_targets  = ids([start] spanish [end])[:, 1:]    (n, sequence_length)

so at step t the decoder reads the true word t-1 and predicts word t (teacher forcing).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import unicodedata
import zipfile
import zlib

import keras
import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_number, check_positive_int, invalid
from rnn_tf.data import registry
from rnn_tf.data._common import (
    OFFLINE,
    REAL,
    SPLITS,
    check_fractions,
    check_source,
    choose,
    make_dataset,
    preview,
    random_split,
    text_list,
)
from rnn_tf.data.errors import CorruptDataError
from rnn_tf.data.offline_numbers import number_pairs
from rnn_tf.data.registry import Download, check_download

logger = logging.getLogger("rnn_tf.data")

START, END = "[start]", "[end]"
_PUNCTUATION = re.compile(r"([¿¡?!.,;:\"“”«»()])")


@dataclasses.dataclass
class TranslationData:
    """Encoder inputs, teacher-forced decoder inputs and targets, split three ways.

    Attributes:
        train: shuffled `tf.data.Dataset` of `((encoder_inputs, decoder_inputs),
            decoder_targets)` batches, each `(batch, sequence_length)` int32.
        validation: the same, unshuffled.
        test: the same, unshuffled.
        encoder_inputs: `{"train"|"validation"|"test": int32 (n, sequence_length)}`.
        decoder_inputs: the same shape; starts with the `[start]` id.
        decoder_targets: the same shape; decoder inputs shifted left, ending in `[end]`.
        pairs: the standardised `(english, spanish)` pairs of each split.
        written_pairs: the same pairs as written in the data (cased, punctuation
            attached), in the same order: the references to score translations against.
        source_vectorizer: fitted `TextVectorization` for English (expects standardised text).
        target_vectorizer: fitted `TextVectorization` for `[start] spanish [end]`.
        source_vocabulary: English token of each id (0 = padding, 1 = `[UNK]`).
        target_vocabulary: Spanish token of each id.
        sequence_length: ids per sequence.
        source: "real" or "offline" (generated data).
        name: "spa-eng" or "synthetic_numbers".
        dropped: pairs removed by the length filter.
    """

    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    encoder_inputs: dict[str, np.ndarray]
    decoder_inputs: dict[str, np.ndarray]
    decoder_targets: dict[str, np.ndarray]
    pairs: dict[str, list[tuple[str, str]]]
    written_pairs: dict[str, list[tuple[str, str]]]
    source_vectorizer: keras.layers.TextVectorization
    target_vectorizer: keras.layers.TextVectorization
    source_vocabulary: list[str]
    target_vocabulary: list[str]
    sequence_length: int
    source: str
    name: str
    dropped: int = 0

    @property
    def start_id(self) -> int:
        """Id of `[start]`, the first decoder input when translating."""
        return self.target_vocabulary.index(START)

    @property
    def end_id(self) -> int:
        """Id of `[end]`: stop decoding when it is predicted."""
        return self.target_vocabulary.index(END)

    def encode_source(self, sentences: str | list[str]) -> np.ndarray:
        """Your own English sentences as encoder ids `(n, sequence_length)`.

        Args:
            sentences: one sentence (a string, giving one row) or a list of them. Each is
                standardised like the training pairs (`standardize`: NFKC, lowercase,
                punctuation split off); words never seen in training become `[UNK]` (id 1).
                A sentence in another script (Cyrillic, Greek, CJK, ...) keeps its letters
                through `standardize`, but none of its words is in the English vocabulary.

        Returns:
            int32 `(n, sequence_length)` ids, 0-padded at the end.

        Raises:
            ValueError: a sentence that is not a string, is empty, has no word the
                vocabulary knows (all `[UNK]`; the error names the script when it is not
                Latin), or has more than `sequence_length` words (the model saw none
                longer; cutting it would translate another sentence), naming the sentence.

        Example:
            >>> data.encode_source("Two hundred.").shape
            (1, 20)
        """
        single = isinstance(sentences, str)
        sentences = text_list(sentences, "sentences", "sentence")
        if not sentences:
            return np.zeros((0, self.sequence_length), dtype="int32")
        known = set(self.source_vocabulary[2:])   # not padding, not [UNK]
        standardised = []
        for i, sentence in enumerate(sentences):
            label = "sentences" if single else f"sentences[{i}]"
            words = standardize(sentence).split()
            if len(words) > self.sequence_length:
                raise invalid(label, f"a sentence of at most sequence_length="
                              f"{self.sequence_length} words (punctuation counts as a word); "
                              f"it has {len(words)}", preview(sentence))
            # Punctuation alone is no sentence to translate.
            if not known.intersection(w for w in words if not _PUNCTUATION.fullmatch(w)):
                scripts = sorted(_scripts(sentence) - {"LATIN"})
                names = ", ".join(s if s == "CJK" else s.title() for s in scripts)
                why = (f"it is written in {names} script, and "
                       "the vocabulary holds English words only" if scripts else
                       f"all of its words are out of the vocabulary "
                       f"({', '.join(map(repr, words[:8]))}{', ...' if len(words) > 8 else ''})")
                raise invalid(label, "a sentence with at least one word the vocabulary "
                              f"knows; {why}, so the encoder would read only [UNK]",
                              preview(sentence))
            standardised.append(" ".join(words))
        return np.asarray(self.source_vectorizer(tf.constant(standardised)), dtype="int32")

    def decode_target(self, ids) -> str:
        """Spanish ids -> words, dropping `[start]` and padding, stopping at `[end]`.

        Example:
            >>> data.decode_target(data.decoder_targets["train"][0])
            'doscientos .'
        """
        words = []
        for i in np.asarray(ids).ravel():
            if i == self.end_id:
                break
            if 0 < i < len(self.target_vocabulary) and i != self.start_id:
                words.append(self.target_vocabulary[i])
        return " ".join(words)


def _scripts(text: str) -> set[str]:
    """The scripts of the letters in `text`, from their Unicode names ("LATIN", "CYRILLIC")."""
    return {unicodedata.name(char, "UNKNOWN").split()[0] for char in text if char.isalpha()}


def standardize(text: str) -> str:
    """NFKC-normalise, lowercase and space out punctuation (accents are kept).

    Example:
        >>> standardize("¿Dónde está el baño?")
        '¿ dónde está el baño ?'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_PUNCTUATION.sub(r" \1 ", text).split())


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """`english<TAB>spanish[<TAB>attribution]` lines -> `(english, spanish)` pairs.

    Blank lines are skipped; lines without two non-empty fields are skipped with a warning.

    Example:
        >>> parse_pairs("Go.\\tVe.\\tCC-BY 2.0 (France) Attribution: tatoeba.org\\n")
        [('Go.', 'Ve.')]
    """
    pairs, bad = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            bad += 1
            continue
        pairs.append((fields[0].strip(), fields[1].strip()))
    if bad:
        logger.warning("Skipped %d line(s) that are not 'english<TAB>spanish'.", bad)
    return pairs


def read_spa_eng(path: str | os.PathLike) -> list[tuple[str, str]]:
    """All `(english, spanish)` pairs of `spa-eng.zip`, read without extracting it.

    Raises:
        CorruptDataError: not a readable zip, no `spa.txt` inside, or no pairs in it.

    Example:
        >>> read_spa_eng("spa-eng.zip")[0]
        ('Go.', 'Ve.')
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [name for name in archive.namelist() if name.endswith("spa.txt")]
            if not members:
                raise CorruptDataError(f"{path} holds no spa.txt (expected spa-eng/spa.txt)")
            text = archive.read(min(members, key=len)).decode("utf-8")
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, UnicodeDecodeError) as error:
        raise CorruptDataError(
            f"{path} is not a readable spa-eng.zip ({type(error).__name__}: {error}); it is "
            "truncated or damaged."
        ) from error
    pairs = parse_pairs(text)
    if not pairs:
        raise CorruptDataError(f"{path}: spa.txt holds no 'english<TAB>spanish' lines")
    return pairs


# === Building the arrays ===


def _vectorizer(vocab_size: int, length: int, texts: list[str]):
    # Text is standardised in Python (NFKC, accents kept); the layer only splits and maps.
    layer = keras.layers.TextVectorization(max_tokens=vocab_size, output_mode="int",
                                           output_sequence_length=length, standardize=None,
                                           split="whitespace")
    layer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(2048))
    return layer


def _encode(layer, texts: list[str], length: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, length), dtype="int32")
    return np.asarray(layer(tf.constant(texts)), dtype="int32")


def _build(pairs, *, source, name, vocab_size, sequence_length, validation_fraction,
           test_fraction, batch_size, seed, max_pairs) -> TranslationData:
    def fits(english, spanish):
        # [start] + spanish + [end] must fit sequence_length + 1 ids before the shift.
        return (0 < len(english.split()) <= sequence_length
                and 0 < len(spanish.split()) < sequence_length)

    standard_and_written = [((standardize(e), standardize(s)), (e, s)) for e, s in pairs]
    kept = [(standard, written) for standard, written in standard_and_written
            if fits(*standard)]
    dropped = len(standard_and_written) - len(kept)
    if max_pairs is not None and max_pairs < len(kept):
        chosen = np.sort(np.random.default_rng(seed).choice(len(kept), max_pairs, replace=False))
        kept = [kept[i] for i in chosen]
    if not kept:
        raise ValueError(
            f"No pair is short enough for sequence_length={sequence_length}; increase it")
    # Split by English sentence: its alternative translations never straddle two splits.
    english = sorted({standard[0] for standard, _ in kept})
    index = random_split(len(english), validation_fraction, test_fraction, seed)
    split_of = {english[i]: split for split, ids in index.items() for i in ids}
    by_split = {split: [(standard, written) for standard, written in kept
                        if split_of[standard[0]] == split] for split in SPLITS}
    groups = {split: [standard for standard, _ in group] for split, group in by_split.items()}

    train_targets = [f"{START} {s} {END}" for _, s in groups["train"]]
    source_layer = _vectorizer(vocab_size, sequence_length, [e for e, _ in groups["train"]])
    target_layer = _vectorizer(vocab_size, sequence_length + 1, train_targets)
    encoder, decoder_in, decoder_out, datasets = {}, {}, {}, {}
    for split, group in groups.items():
        encoder[split] = _encode(source_layer, [e for e, _ in group], sequence_length)
        full = _encode(target_layer, [f"{START} {s} {END}" for _, s in group],
                       sequence_length + 1)
        decoder_in[split], decoder_out[split] = full[:, :-1], full[:, 1:]
        datasets[split] = make_dataset((encoder[split], decoder_in[split]), decoder_out[split],
                                       batch_size=batch_size, shuffle=split == "train",
                                       seed=seed)
    return TranslationData(
        train=datasets["train"], validation=datasets["validation"], test=datasets["test"],
        encoder_inputs=encoder, decoder_inputs=decoder_in, decoder_targets=decoder_out,
        pairs=groups,
        written_pairs={split: [written for _, written in group]
                       for split, group in by_split.items()},
        source_vectorizer=source_layer, target_vectorizer=target_layer,
        source_vocabulary=[str(t) for t in source_layer.get_vocabulary()],
        target_vocabulary=[str(t) for t in target_layer.get_vocabulary()],
        sequence_length=sequence_length, source=source, name=name, dropped=dropped)


def load_translation(
    *,
    source: str = "auto",
    vocab_size: int = 15_000,
    sequence_length: int = 20,
    validation_fraction: float = 0.15,
    test_fraction: float = 0.15,
    batch_size: int = 64,
    seed: int = 0,
    max_pairs: int | None = None,
    download: Download | None = None,
) -> TranslationData:
    """English -> Spanish pairs as encoder / decoder id arrays and `tf.data` pipelines.

    Args:
        source: "real" (`spa-eng.zip` from shared data, cache or its URL; error if
            unavailable), "offline" (numbers 0-9999 in words), or "auto" (real when on
            disk or downloadable, else the fallback with a logged warning).
        vocab_size: `max_tokens` of each vectorizer.
        sequence_length: ids per sequence; longer pairs are dropped (English more than
            `sequence_length` words, Spanish more than `sequence_length - 1`).
        validation_fraction: share of distinct English sentences for validation.
        test_fraction: share of distinct English sentences for test.
        batch_size: batch size of the datasets.
        seed: split, sampling and shuffling seed.
        max_pairs: keep a seeded random sample of this many pairs (after the length filter).
        download: where `spa-eng.zip` comes from and is kept (`Download(origin=,
            file_hash=, cache_dir=)`); default: the registry's URL and pinned sha256, and the
            default cache folder.

    Returns:
        `TranslationData`.

    Raises:
        DataUnavailableError: source="real" and the zip is neither local nor downloadable.
        CorruptDataError: the zip fails its hash or cannot be read (a copy rnn_tf
            downloaded is deleted).

    Example:
        >>> data = load_translation(source="offline", sequence_length=8)
        >>> data.encoder_inputs["train"].shape, data.source
        ((7000, 8), 'offline')
    """
    check_source(source)
    check_positive_int(vocab_size, "vocab_size")
    # At least 2: room for [start] and a word.
    check_number(sequence_length, "sequence_length", low=2, integer=True)
    check_positive_int(batch_size, "batch_size")
    check_fractions(validation_fraction, test_fraction)
    if max_pairs is not None:
        check_positive_int(max_pairs, "max_pairs")
    where = check_download(download)
    options = dict(vocab_size=vocab_size, sequence_length=sequence_length,
                   validation_fraction=validation_fraction, test_fraction=test_fraction,
                   batch_size=batch_size, seed=seed, max_pairs=max_pairs)

    def real() -> TranslationData:
        pairs = registry.read_dataset_file("spa_eng", read_spa_eng, where)
        return _build(pairs, source=REAL, name="spa-eng", **options)

    def offline() -> TranslationData:
        return _build(number_pairs(), source=OFFLINE, name="synthetic_numbers", **options)

    return choose(source, "English-Spanish translation", real, offline)
