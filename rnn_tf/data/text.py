"""Character-level language modelling on Shakespeare: predict the next character.

Real data: tiny-shakespeare (`shakespeare.txt`, 1,115,394 characters) from the shared data,
the cache, or the TensorFlow tutorial URL. Offline fallback: `synthetic_play`, play-formatted
text assembled deterministically from a few public-domain Shakespeare passages embedded
below, labelled `source="offline"`.

The text is split by position (train first, then validation, then test) so that no
window crosses splits, mapped to ids with `keras.layers.StringLookup` (0 = `[UNK]`), and
cut into non-overlapping chunks of `seq_len + 1` ids:

    x = chunk[:-1]     y = chunk[1:]     (y_t is the character after x_t)
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import keras
import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_positive_int
from rnn_tf.data import registry
from rnn_tf.data._common import (
    OFFLINE,
    REAL,
    SPLITS,
    ArraySplits,
    check_fractions,
    check_source,
    choose,
    make_dataset,
    split_counts,
)
from rnn_tf.data.errors import CorruptDataError

# Public domain (Sonnets 18, 116, 130; Hamlet III.1; Macbeth V.5), ASCII punctuation.
PASSAGES = """\
Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall Death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
Let me not to the marriage of true minds
Admit impediments. Love is not love
Which alters when it alteration finds,
Or bends with the remover to remove:
O no! it is an ever-fixed mark
That looks on tempests and is never shaken;
It is the star to every wandering bark,
Whose worth's unknown, although his height be taken.
Love's not Time's fool, though rosy lips and cheeks
Within his bending sickle's compass come;
Love alters not with his brief hours and weeks,
But bears it out even to the edge of doom.
If this be error and upon me proved,
I never writ, nor no man ever loved.
My mistress' eyes are nothing like the sun;
Coral is far more red than her lips' red;
If snow be white, why then her breasts are dun;
If hairs be wires, black wires grow on her head.
I have seen roses damask'd, red and white,
But no such roses see I in her cheeks;
And in some perfumes is there more delight
Than in the breath that from my mistress reeks.
I love to hear her speak, yet well I know
That music hath a far more pleasing sound;
I grant I never saw a goddess go;
My mistress, when she walks, treads on the ground:
And yet, by heaven, I think my love as rare
As any she belied with false compare.
To be, or not to be, that is the question:
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune,
Or to take arms against a sea of troubles,
And by opposing end them. To die, to sleep;
No more; and by a sleep to say we end
The heart-ache and the thousand natural shocks
That flesh is heir to: 'tis a consummation
Devoutly to be wish'd. To die, to sleep;
To sleep, perchance to dream: ay, there's the rub;
For in that sleep of death what dreams may come
When we have shuffled off this mortal coil,
Must give us pause: there's the respect
That makes calamity of so long life.
To-morrow, and to-morrow, and to-morrow,
Creeps in this petty pace from day to day,
To the last syllable of recorded time;
And all our yesterdays have lighted fools
The way to dusty death. Out, out, brief candle!
Life's but a walking shadow, a poor player,
That struts and frets his hour upon the stage,
And then is heard no more. It is a tale
Told by an idiot, full of sound and fury,
Signifying nothing.
"""
_SPEAKERS = ("First Citizen", "HAMLET", "MACBETH", "JULIET", "ROMEO", "PORTIA", "KING LEAR",
             "OPHELIA", "Second Citizen", "LADY MACBETH")


@dataclasses.dataclass
class CharTextData(ArraySplits):
    """Next-character sequences of one text, with the character vocabulary.

    Attributes:
        train: shuffled `tf.data.Dataset` of `(x (seq_len,), y (seq_len,))` int32 batches.
        validation: the same, in text order.
        test: the same, in text order.
        x_train: int32 `(n, seq_len)` ids; likewise x_val, x_test.
        y_train: int32 `(n, seq_len)` next ids; likewise y_val, y_test.
        vocabulary: character of each id; `vocabulary[0] == "[UNK]"`.
        ids_from_chars: `StringLookup` from characters to ids.
        chars_from_ids: its inverse.
        text: the text the splits were cut from.
        seq_len: characters per sequence.
        source: "real" or "offline" (generated data).
        name: "shakespeare" or "synthetic_play".
    """

    vocabulary: list[str]
    ids_from_chars: keras.layers.StringLookup
    chars_from_ids: keras.layers.StringLookup
    text: str
    seq_len: int
    source: str
    name: str

    @property
    def vocab_size(self) -> int:
        """Number of ids, `[UNK]` included (the output size of the model)."""
        return len(self.vocabulary)

    def encode(self, text: str) -> np.ndarray:
        """Characters -> int32 ids (unknown characters -> 0).

        Example:
            >>> data.decode(data.encode("To be"))
            'To be'
        """
        return _encode(self.ids_from_chars, text)

    def decode(self, ids) -> str:
        """Ids -> characters; id 0 (`[UNK]`) is dropped."""
        ids = np.asarray(ids).ravel()
        return "".join(self.vocabulary[i] for i in ids if 0 < i < len(self.vocabulary))


def synthetic_play(num_chars: int = 100_000, seed: int = 0) -> str:
    """Play-formatted text built from the embedded passages, deterministic under `seed`.

    Speeches in the layout of tiny-shakespeare ("NAME:\\n" lines, blank line), each 1-4
    consecutive lines of `PASSAGES` starting at a seeded random line.

    Args:
        num_chars: length of the text.
        seed: same seed, same text.

    Returns:
        A string of exactly `num_chars` characters.

    Example:
        >>> synthetic_play(40, seed=0)[:8]
        'PORTIA:\\n'
    """
    check_positive_int(num_chars, "num_chars")
    rng = np.random.default_rng(seed)
    lines = PASSAGES.splitlines()
    speeches, length = [], 0
    while length < num_chars:
        first = int(rng.integers(len(lines)))
        body = "\n".join(lines[first:first + int(rng.integers(1, 5))])
        speech = f"{_SPEAKERS[rng.integers(len(_SPEAKERS))]}:\n{body}\n\n"
        speeches.append(speech)
        length += len(speech)
    return "".join(speeches)[:num_chars]


def _encode(lookup, text: str) -> np.ndarray:
    return np.asarray(lookup(tf.strings.unicode_split(text, "UTF-8")), dtype="int32")


def _chunks(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    count = len(ids) // (seq_len + 1)
    chunks = ids[:count * (seq_len + 1)].reshape(count, seq_len + 1)
    return chunks[:, :-1], chunks[:, 1:]


def _build(text: str, *, source, name, seq_len, validation_fraction, test_fraction,
           batch_size, seed) -> CharTextData:
    # The vocabulary comes from the whole text: a character first seen in the test split
    # is not a label leak, and [UNK] for it would only make generation worse.
    characters = sorted(set(text))
    ids_from_chars = keras.layers.StringLookup(vocabulary=characters, mask_token=None)
    chars_from_ids = keras.layers.StringLookup(vocabulary=characters, mask_token=None,
                                               invert=True)
    ids = _encode(ids_from_chars, text)
    counts = split_counts(len(ids), validation_fraction, test_fraction)
    bounds = np.cumsum((0,) + counts)
    x, y = {}, {}
    for split, start, stop, count in zip(SPLITS, bounds[:-1], bounds[1:], counts):
        if count and count < seq_len + 1:
            raise ValueError(
                f"The {split} split has {count} characters, fewer than seq_len + 1 = "
                f"{seq_len + 1}; reduce `seq_len` or use more text")
        x[split], y[split] = _chunks(ids[start:stop], seq_len)
    datasets = {split: make_dataset(x[split], y[split], batch_size=batch_size,
                                    shuffle=split == "train", seed=seed) for split in SPLITS}
    return CharTextData(
        train=datasets["train"], validation=datasets["validation"], test=datasets["test"],
        x_train=x["train"], y_train=y["train"], x_val=x["validation"], y_val=y["validation"],
        x_test=x["test"], y_test=y["test"],
        vocabulary=[str(c) for c in ids_from_chars.get_vocabulary()],
        ids_from_chars=ids_from_chars, chars_from_ids=chars_from_ids, text=text,
        seq_len=seq_len, source=source, name=name)


def read_text(path: str | os.PathLike) -> str:
    """A UTF-8 text file; `CorruptDataError` if it is not UTF-8 text or is empty."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorruptDataError(f"{path} is not UTF-8 text ({error})") from error
    if not text.strip():
        raise CorruptDataError(f"{path} is empty")
    return text


def load_shakespeare(
    *,
    source: str = "auto",
    seq_len: int = 100,
    batch_size: int = 64,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    max_chars: int | None = None,
    seed: int = 0,
    origin: str | None = None,
    file_hash: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> CharTextData:
    """Shakespeare as next-character sequences for a char-level language model.

    Args:
        source: "real" (`shakespeare.txt` from shared data, cache or `origin`; error if
            unavailable), "offline" (`synthetic_play` only), or "auto" (real when on disk
            or downloadable, else the fallback with a logged warning).
        seq_len: characters per input sequence.
        batch_size: batch size of the datasets.
        validation_fraction: share of the text (after the training part) for validation.
        test_fraction: share of the text, at its end, for test.
        max_chars: use only the first `max_chars` characters (quick runs); the fallback
            generates this many (default 100,000).
        seed: shuffling seed (and the fallback's generator).
        origin: URL of `shakespeare.txt` (default: the registry's).
        file_hash: its sha256 (default: the registry's pin).
        cache_dir: cache folder.

    Returns:
        `CharTextData`.

    Raises:
        DataUnavailableError: source="real" and the text is neither local nor downloadable.
        CorruptDataError: the file fails its hash or is not text.

    Example:
        >>> data = load_shakespeare(source="offline", seq_len=50, max_chars=20_000)
        >>> data.x_train.shape, data.source
        ((313, 50), 'offline')
    """
    check_source(source)
    check_positive_int(seq_len, "seq_len")
    check_positive_int(batch_size, "batch_size")
    check_fractions(validation_fraction, test_fraction)
    if max_chars is not None:
        check_positive_int(max_chars, "max_chars")
    options = dict(seq_len=seq_len, validation_fraction=validation_fraction,
                   test_fraction=test_fraction, batch_size=batch_size, seed=seed)

    def real() -> CharTextData:
        text = registry.read_dataset_file("shakespeare", read_text, origin=origin,
                                          file_hash=file_hash, cache_dir=cache_dir)
        return _build(text[:max_chars], source=REAL, name="shakespeare", **options)

    def offline() -> CharTextData:
        return _build(synthetic_play(max_chars or 100_000, seed), source=OFFLINE,
                      name="synthetic_play", **options)

    return choose(source, "Shakespeare text", real, offline)
