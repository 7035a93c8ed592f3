"""A play-formatted text from a few public-domain Shakespeare passages, the offline stand-in
for tiny-shakespeare.

`load_shakespeare(source="offline")` cuts `synthetic_play` into sequences, labelled
`source="offline"`.
"""

from __future__ import annotations

import numpy as np

from rnn_tf._checks import check_positive_int

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
