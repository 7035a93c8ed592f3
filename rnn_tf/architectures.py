"""The four types of RNN as ready Keras models, one builder per type.

Every builder takes `cell=` one of `CELLS`:

    "vanilla"  rnn_tf.VanillaRNN (the U/W/V cell of this course)
    "simple"   keras.layers.SimpleRNN
    "gru"      keras.layers.GRU
    "lstm"     keras.layers.LSTM

| builder           | inputs                                   | output                    |
| ----------------- | ---------------------------------------- | ------------------------- |
| `one_to_one`      | (batch, input_dim)                       | (batch, num_classes)      |
| `one_to_many`     | (batch, feature_dim), (batch, T) ids     | (batch, T, vocab_size)    |
| `many_to_one`     | (batch, T, input_dim) or (batch, T) ids  | (batch, num_classes)      |
| `many_to_many`    | (batch, T, input_dim) or (batch, T) ids  | (batch, T, num_classes)   |
| `encoder_decoder` | (batch, T_s) ids, (batch, T_t) ids       | (batch, T_t, target_vocab)|

All outputs are probabilities (softmax). Token ids use 0 for padding: embeddings mask
it, and `rnn_tf.metrics.compile_for_tokens(..., padding_id=0)` leaves it out of loss and
accuracy. Trained sequence models generate with `rnn_tf.generation` (`decode_one_to_many`,
`decode_sequence`, `sample_text`: greedy, temperature sampling or beam search), one step
per token: `language_model_stepper`, `one_to_many_stepper` and `encoder_decoder_stepper`
turn a model built here into a step model sharing its weights, h = step(x_t, h).

Every recurrent layer computes, with row vectors as in the code,
h_t = f(x_t U + h_{t-1} W + b), U of shape (input_dim, units); a `Dense` head on top
computes o_t = h_t V + c.
"""

from __future__ import annotations

import keras
import numpy as np

from rnn_tf._checks import check_choice, check_positive_int
from rnn_tf.layers import VanillaRNN

CELLS = ("vanilla", "simple", "gru", "lstm")

_KERAS_LAYERS = {
    "simple": keras.layers.SimpleRNN,
    "gru": keras.layers.GRU,
    "lstm": keras.layers.LSTM,
}


def _check_cell(cell: str) -> str:
    check_choice(cell, CELLS, "cell")
    return cell


def recurrent_layer(
    cell: str,
    units: int,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    name: str | None = None,
    **kwargs,
) -> keras.layers.Layer:
    """One recurrent layer of the given cell type (extra keyword arguments go to the layer).

    With `return_state=True` the layer also returns its final states: one tensor for
    vanilla/simple/gru (h_T), two for lstm (h_T, c_T) — see `num_states`.
    """
    _check_cell(cell)
    check_positive_int(units, "units")
    layer_class = VanillaRNN if cell == "vanilla" else _KERAS_LAYERS[cell]
    return layer_class(
        units, return_sequences=return_sequences, return_state=return_state, name=name, **kwargs
    )


def num_states(cell: str) -> int:
    """How many state tensors the cell carries (LSTM: h and c; the others: h)."""
    return 2 if _check_cell(cell) == "lstm" else 1


def _stack(
    x,
    *,
    cell: str,
    units: int,
    num_layers: int,
    bidirectional: bool = False,
    return_sequences: bool = False,
    prefix: str = "recurrent",
):
    """`num_layers` recurrent layers; all but the last return sequences."""
    check_positive_int(num_layers, "num_layers")
    for i in range(num_layers):
        last = i == num_layers - 1
        layer = recurrent_layer(
            cell, units, return_sequences=return_sequences or not last, name=f"{prefix}_{i}"
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{prefix}_{i}")
        x = layer(x)
    return x


def _embedding_size(embedding_dim: int | None, default: int) -> int:
    """`embedding_dim`, or `default` when it is None (0 and negatives are errors)."""
    if embedding_dim is None:
        return default
    return check_positive_int(embedding_dim, "embedding_dim")


def _sequence_input(
    *,
    input_dim: int | None,
    vocab_size: int | None,
    embedding_dim: int | None,
    mask_padding: bool,
):
    """Float features (batch, T, input_dim), or token ids (batch, T) embedded (0 masked)."""
    if (input_dim is None) == (vocab_size is None):
        raise ValueError(
            "Pass exactly one of `input_dim` (float features per step) and `vocab_size` "
            f"(token ids, 0 = padding); received input_dim={input_dim!r}, "
            f"vocab_size={vocab_size!r}"
        )
    if input_dim is not None:
        check_positive_int(input_dim, "input_dim")
        inputs = keras.Input((None, input_dim), name="sequence")
        return inputs, inputs
    check_positive_int(vocab_size, "vocab_size")
    inputs = keras.Input((None,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(
        vocab_size, _embedding_size(embedding_dim, 32), mask_zero=mask_padding, name="embedding"
    )(inputs)
    return inputs, embedded


def one_to_one(
    input_dim: int,
    num_classes: int,
    cell: str = "vanilla",
    units: int = 32,
    num_layers: int = 1,
) -> keras.Model:
    """Fixed input -> fixed output: the degenerate T = 1 recurrence (e.g. classification).

    Input `(batch, input_dim)` floats; output `(batch, num_classes)` probabilities.
    The vector is fed as a sequence of one step, so h_1 = f(x U + b) and the
    recurrent weight W never acts: an MLP written as an RNN.
    """
    check_positive_int(input_dim, "input_dim")
    check_positive_int(num_classes, "num_classes")
    inputs = keras.Input((input_dim,), name="vector")
    x = keras.layers.Reshape((1, input_dim), name="one_step")(inputs)
    x = _stack(x, cell=cell, units=units, num_layers=num_layers)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"one_to_one_{cell}")


def one_to_many(
    feature_dim: int,
    vocab_size: int,
    max_length: int | None = None,
    cell: str = "vanilla",
    units: int = 32,
    embedding_dim: int | None = None,
) -> keras.Model:
    """One vector -> a sequence of tokens (captioning, music generation).

    Inputs: `[features (batch, feature_dim), previous_tokens (batch, T)]`; output
    `(batch, T, vocab_size)` probabilities of the next token. The feature vector sets
    the decoder's initial state (`h_0 = tanh(z A + a)`, and `c_0` likewise for LSTM);
    training uses teacher forcing (the true previous token goes in, starting with a
    start token). `max_length`, when given, fixes T in the input shape; generate with
    `rnn_tf.generation.decode_one_to_many`.
    """
    check_positive_int(feature_dim, "feature_dim")
    check_positive_int(vocab_size, "vocab_size")
    if max_length is not None:
        check_positive_int(max_length, "max_length")
    _check_cell(cell)
    features = keras.Input((feature_dim,), name="features")
    tokens = keras.Input((max_length,), dtype="int32", name="previous_tokens")
    initial_state = [
        keras.layers.Dense(units, activation="tanh", name=f"initial_state_{i}")(features)
        for i in range(num_states(cell))
    ]
    embedded = keras.layers.Embedding(
        vocab_size, _embedding_size(embedding_dim, units), mask_zero=True, name="embedding"
    )(tokens)
    states = recurrent_layer(cell, units, return_sequences=True, name="decoder")(
        embedded, initial_state=initial_state
    )
    outputs = keras.layers.Dense(vocab_size, activation="softmax", name="next_token")(states)
    return keras.Model([features, tokens], outputs, name=f"one_to_many_{cell}")


def many_to_one(
    num_classes: int,
    cell: str = "vanilla",
    units: int = 32,
    *,
    input_dim: int | None = None,
    vocab_size: int | None = None,
    embedding_dim: int | None = None,
    num_layers: int = 1,
    bidirectional: bool = False,
    mask_padding: bool = True,
) -> keras.Model:
    """A sequence -> one output (sentiment, sequence classification).

    Input: `(batch, T, input_dim)` floats, or `(batch, T)` token ids (0 = padding,
    masked unless `mask_padding=False`) when `vocab_size` is given. Output
    `(batch, num_classes)` probabilities from the last state h_T (both directions' last
    states when bidirectional).
    """
    return _sequence_model(
        kind="many_to_one", return_sequences=False, head="classifier",
        num_classes=num_classes, cell=cell, units=units, input_dim=input_dim,
        vocab_size=vocab_size, embedding_dim=embedding_dim, num_layers=num_layers,
        bidirectional=bidirectional, mask_padding=mask_padding,
    )


def many_to_many(
    num_classes: int,
    cell: str = "vanilla",
    units: int = 32,
    *,
    input_dim: int | None = None,
    vocab_size: int | None = None,
    embedding_dim: int | None = None,
    num_layers: int = 1,
    bidirectional: bool = False,
    mask_padding: bool = True,
) -> keras.Model:
    """A sequence -> a sequence of the same length (tagging, per-step forecasting).

    Input as in `many_to_one`; output `(batch, T, num_classes)`: softmax(h_t V + c)
    at every step. Bidirectional models see the whole sequence before tagging, so use
    them for labelling, not for forecasting. Pass `mask_padding=False` when id 0 is
    never padding (e.g. a character language model): unmasked sequences take the
    vanilla layer's fused fast path.
    """
    return _sequence_model(
        kind="many_to_many", return_sequences=True, head="tagger",
        num_classes=num_classes, cell=cell, units=units, input_dim=input_dim,
        vocab_size=vocab_size, embedding_dim=embedding_dim, num_layers=num_layers,
        bidirectional=bidirectional, mask_padding=mask_padding,
    )


def _sequence_model(
    *,
    kind: str,
    return_sequences: bool,
    head: str,
    num_classes: int,
    cell: str,
    units: int,
    input_dim: int | None,
    vocab_size: int | None,
    embedding_dim: int | None,
    num_layers: int,
    bidirectional: bool,
    mask_padding: bool,
) -> keras.Model:
    """The body shared by `many_to_one` (last state) and `many_to_many` (every state)."""
    check_positive_int(num_classes, "num_classes")
    inputs, x = _sequence_input(
        input_dim=input_dim, vocab_size=vocab_size, embedding_dim=embedding_dim,
        mask_padding=mask_padding,
    )
    x = _stack(
        x, cell=cell, units=units, num_layers=num_layers, bidirectional=bidirectional,
        return_sequences=return_sequences,
    )
    outputs = keras.layers.Dense(num_classes, activation="softmax", name=head)(x)
    return keras.Model(inputs, outputs, name=f"{kind}_{cell}")


def encoder_decoder(
    source_vocab: int,
    target_vocab: int,
    cell: str = "gru",
    units: int = 64,
    embedding_dim: int | None = None,
    *,
    attention: bool = False,
) -> keras.Model:
    """Sequence -> sequence of another length (translation): an encoder and a decoder RNN.

    Inputs: `[source_ids (batch, T_s), decoder_input_ids (batch, T_t)]`, 0 = padding;
    the decoder input is the target shifted right behind a start token (teacher
    forcing). Output `(batch, T_t, target_vocab)` probabilities of the next target token.
    The encoder's final state(s) become the decoder's initial state. With `attention`,
    a dot-product (Luong) `keras.layers.Attention` lets every decoder step read a
    weighted sum of all encoder states (the context), concatenated with the decoder
    state before the output layer; see `attention_scores`.
    """
    check_positive_int(source_vocab, "source_vocab")
    check_positive_int(target_vocab, "target_vocab")
    _check_cell(cell)
    embedding_dim = _embedding_size(embedding_dim, units)
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="decoder_inputs")

    source_embedded = keras.layers.Embedding(
        source_vocab, embedding_dim, mask_zero=True, name="source_embedding"
    )(source)
    encoder = recurrent_layer(
        cell, units, return_sequences=attention, return_state=True, name="encoder"
    )
    encoded = encoder(source_embedded)
    encoder_states = list(encoded[1:])

    target_embedded = keras.layers.Embedding(
        target_vocab, embedding_dim, mask_zero=True, name="target_embedding"
    )(target_in)
    decoder = recurrent_layer(cell, units, return_sequences=True, name="decoder")
    decoded = decoder(target_embedded, initial_state=encoder_states)

    if attention:
        # The scores are an output of the graph so `attention_scores` can read them.
        context, _ = keras.layers.Attention(name="attention")(
            [decoded, encoded[0]], return_attention_scores=True
        )
        # Straight into the output layer: a tanh "attentional" layer in between (Luong)
        # trained far slower here (spa-eng, 6000 pairs, 4 epochs: 0.24 vs 0.37 val acc).
        decoded = keras.layers.Concatenate(name="decoder_and_context")([decoded, context])
    outputs = keras.layers.Dense(target_vocab, activation="softmax", name="next_token")(decoded)
    suffix = "_attention" if attention else ""
    return keras.Model([source, target_in], outputs, name=f"encoder_decoder_{cell}{suffix}")


def attention_scores(model: keras.Model, source_ids, decoder_input_ids) -> np.ndarray:
    """Attention weights `(batch, T_t, T_s)` of an `encoder_decoder(..., attention=True)`.

    Row t says how much decoder step t read from each encoder step (rows sum to 1 over
    the non-padded source steps).
    """
    try:
        layer = model.get_layer("attention")
    except ValueError:
        raise ValueError(
            "Argument `model` has no attention layer; build it with "
            "`encoder_decoder(..., attention=True)`"
        ) from None
    probe = keras.Model(model.inputs, layer.output[1])
    inputs = [np.asarray(source_ids), np.asarray(decoder_input_ids)]
    return np.asarray(probe(inputs, training=False))
