"""The small per-step tagging task the trainer tests share: random sequences, random tags
at every step, and a VanillaRNN tagger that emits logits."""

import keras
import numpy as np

from rnn_tf import VanillaRNN

INPUT_DIM, UNITS, OUTPUT_DIM = 3, 6, 4


def tagging_data(batch=8, steps=5, seed=0, with_mask=False):
    """`(x, y)`, or `(x, y, mask)` with a float mask that drops about 30% of the steps."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, INPUT_DIM)).astype("float32")
    y = rng.integers(0, OUTPUT_DIM, size=(batch, steps))
    if not with_mask:
        return x, y
    return x, y, (rng.random((batch, steps)) > 0.3).astype("float32")


def tagger(*layers, units=UNITS, seed=0, **rnn_kwargs):
    """`layers`, then a VanillaRNN with a per-step head; weights drawn under `seed`
    (None: the current random state)."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((None, INPUT_DIM)),
        *layers,
        VanillaRNN(units, output_dim=OUTPUT_DIM, return_sequences=True, **rnn_kwargs),
    ])
