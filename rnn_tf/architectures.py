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
it, and `compile_for_tokens(..., padding_id=0)` leaves it out of loss and accuracy.
Sequence generators (`decode_one_to_many`, `decode_sequence`) run the trained model on
the growing prefix with greedy, temperature-sampling or beam-search decoding.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from rnn_tf._checks import check_positive_int
from rnn_tf.layers import VanillaRNN

CELLS = ("vanilla", "simple", "gru", "lstm")
DECODING_METHODS = ("greedy", "sample", "beam")

_KERAS_LAYERS = {
    "simple": keras.layers.SimpleRNN,
    "gru": keras.layers.GRU,
    "lstm": keras.layers.LSTM,
}


def _check_cell(cell: str) -> str:
    if cell not in CELLS:
        raise ValueError(f"Argument `cell` must be one of {CELLS}; received {cell!r}")
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
    cell: str,
    units: int,
    num_layers: int,
    bidirectional: bool,
    return_sequences: bool,
    prefix: str,
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
    input_dim: int | None, vocab_size: int | None, embedding_dim: int | None, mask_padding: bool
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
    The vector is fed as a sequence of one step, so h_1 = f(U x + b) and the
    recurrent weight W never acts: an MLP written as an RNN.
    """
    check_positive_int(input_dim, "input_dim")
    check_positive_int(num_classes, "num_classes")
    inputs = keras.Input((input_dim,), name="vector")
    x = keras.layers.Reshape((1, input_dim), name="one_step")(inputs)
    x = _stack(x, cell, units, num_layers, False, False, "recurrent")
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
    the decoder's initial state (`h_0 = tanh(A z + a)`, and `c_0` likewise for LSTM);
    training uses teacher forcing (the true previous token goes in, starting with a
    start token). `max_length`, when given, fixes T in the input shape; generate with
    `decode_one_to_many`.
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
    return _sequence_model("many_to_one", False, "classifier", num_classes, cell, units,
                           input_dim, vocab_size, embedding_dim, num_layers, bidirectional,
                           mask_padding)


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

    Input as in `many_to_one`; output `(batch, T, num_classes)`: o_t = softmax(V h_t + c)
    at every step. Bidirectional models see the whole sequence before tagging, so use
    them for labelling, not for forecasting. Pass `mask_padding=False` when id 0 is
    never padding (e.g. a character language model): unmasked sequences take the
    vanilla layer's fused fast path.
    """
    return _sequence_model("many_to_many", True, "tagger", num_classes, cell, units,
                           input_dim, vocab_size, embedding_dim, num_layers, bidirectional,
                           mask_padding)


def _sequence_model(kind, return_sequences, head, num_classes, cell, units, input_dim,
                    vocab_size, embedding_dim, num_layers, bidirectional, mask_padding):
    """The body shared by `many_to_one` (last state) and `many_to_many` (every state)."""
    check_positive_int(num_classes, "num_classes")
    inputs, x = _sequence_input(input_dim, vocab_size, embedding_dim, mask_padding)
    x = _stack(x, cell, units, num_layers, bidirectional, return_sequences, "recurrent")
    outputs = keras.layers.Dense(num_classes, activation="softmax", name=head)(x)
    return keras.Model(inputs, outputs, name=f"{kind}_{cell}")


def encoder_decoder(
    source_vocab: int,
    target_vocab: int,
    cell: str = "gru",
    units: int = 64,
    embedding_dim: int | None = None,
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


@keras.saving.register_keras_serializable(package="rnn_tf")
class MaskedAccuracy(keras.metrics.Mean):
    """Token accuracy that skips positions whose true id is the padding id."""

    def __init__(self, padding_id: int = 0, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.padding_id = padding_id

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = keras.ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):  # (batch, T, 1) labels
            y_true = keras.ops.squeeze(y_true, axis=-1)
        correct = keras.ops.cast(
            keras.ops.equal(y_true, keras.ops.cast(keras.ops.argmax(y_pred, -1), "int32")),
            self.dtype,
        )
        weight = keras.ops.cast(keras.ops.not_equal(y_true, self.padding_id), self.dtype)
        if sample_weight is not None:
            weight = weight * keras.ops.cast(sample_weight, self.dtype)
        super().update_state(correct, sample_weight=weight)

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}


def compile_for_tokens(
    model: keras.Model,
    learning_rate: float = 1e-3,
    padding_id: int | None = None,
    clipnorm: float | None = 1.0,
) -> keras.Model:
    """Compile for integer targets: Adam, sparse categorical cross-entropy, accuracy.

    Args:
        model: a model whose output is a softmax over classes or tokens.
        learning_rate: Adam's step size.
        padding_id: target id to leave out of loss and accuracy (0 for padded token
            sequences); None when every id is a real class.
        clipnorm: clip each gradient to this norm (RNNs explode; see notebook 03).
    """
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=padding_id)
    metric = "accuracy" if padding_id is None else MaskedAccuracy(padding_id)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
        loss=loss,
        metrics=[metric],
    )
    return model


# --- generation ------------------------------------------------------------------


def _check_method(
    method: str, beam_width: int, temperature: float, length_penalty: float = 0.0
) -> None:
    if method not in DECODING_METHODS:
        raise ValueError(
            f"Argument `method` must be one of {DECODING_METHODS}; received {method!r}"
        )
    check_positive_int(beam_width, "beam_width")
    if not temperature > 0:
        raise ValueError(f"Argument `temperature` must be > 0; received {temperature!r}")
    if not (
        isinstance(length_penalty, (int, float, np.number))
        and not isinstance(length_penalty, bool)
        and np.isfinite(length_penalty)
        and length_penalty >= 0
    ):
        raise ValueError(
            f"Argument `length_penalty` must be a finite number >= 0; received {length_penalty!r}"
        )


def _length_normalizer(lengths: np.ndarray, alpha: float) -> np.ndarray:
    """GNMT's length penalty ((5 + |Y|) / 6) ** alpha (Wu et al., 2016); 1 when alpha = 0."""
    return ((5.0 + lengths) / 6.0) ** alpha


def _generate(
    next_probs: Callable[[np.ndarray, np.ndarray], np.ndarray],
    batch: int,
    start_id: int,
    end_id: int,
    max_length: int,
    method: str,
    beam_width: int,
    temperature: float,
    seed: int,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Autoregressive decoding around `next_probs(rows, prefixes) -> (n, vocab)`.

    `rows` says which input each prefix belongs to. Returns, per input, the generated
    ids after the start token and before the end token (at most `max_length`).
    """
    _check_method(method, beam_width, temperature, length_penalty)
    check_positive_int(max_length, "max_length")
    width = beam_width if method == "beam" else 1
    rows = np.repeat(np.arange(batch), width)
    prefixes = np.full((batch * width, 1), start_id, dtype="int32")
    # Beams start as copies of one hypothesis; -inf keeps the copies out of the first top-k.
    scores = np.tile(np.r_[0.0, np.full(width - 1, -np.inf)], batch)
    finished = np.zeros(batch * width, dtype=bool)
    rng = np.random.default_rng(seed)
    for _ in range(max_length):
        probs = np.asarray(next_probs(rows, prefixes), dtype="float64")
        log_probs = np.log(np.clip(probs, 1e-30, 1.0))
        vocab = log_probs.shape[-1]
        # Padding and the start token are never generated as words.
        log_probs[:, 0] = -np.inf
        if 0 <= start_id < vocab and start_id != end_id:
            log_probs[:, start_id] = -np.inf
        if method == "beam":
            # A finished hypothesis only extends by padding, at no cost.
            log_probs[finished] = -np.inf
            log_probs[finished, 0] = 0.0
            candidates = (scores[:, None] + log_probs).reshape(batch, width * vocab)
            best = np.argsort(-candidates, axis=1, kind="stable")[:, :width]
            parent = (best // vocab + np.arange(batch)[:, None] * width).ravel()
            token = (best % vocab).ravel()
            scores = np.take_along_axis(candidates, best, axis=1).ravel()
            prefixes, finished = prefixes[parent], finished[parent]
        elif method == "greedy":
            token = log_probs.argmax(-1)
        else:
            logits = log_probs / temperature
            p = np.exp(logits - logits.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            token = np.array([rng.choice(vocab, p=row) for row in p])
        token = np.where(finished, 0, token)
        finished = finished | (token == end_id)
        prefixes = np.concatenate([prefixes, token[:, None].astype("int32")], axis=1)
        if finished.all():
            break
    if method == "beam":
        # A sum of log-probabilities favours short outputs; dividing by the length
        # penalty lets a longer hypothesis win (alpha = 0: the raw sum, best first).
        lengths = (prefixes[:, 1:] != 0).sum(axis=1)
        normalized = scores / _length_normalizer(lengths, length_penalty)
        best = np.argmax(normalized.reshape(batch, width), axis=1)
        prefixes = prefixes.reshape(batch, width, -1)[np.arange(batch), best]
    results = []
    for sequence in prefixes[:, 1:]:
        ids = []
        for token in sequence.tolist():
            if token in (end_id, 0):
                break
            ids.append(int(token))
        results.append(ids)
    return results


def decode_one_to_many(
    model: keras.Model,
    features,
    start_id: int,
    end_id: int,
    max_length: int,
    method: str = "greedy",
    beam_width: int = 3,
    temperature: float = 1.0,
    seed: int = 0,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Generate a token sequence from each feature vector with a `one_to_many` model.

    Args:
        model: a trained `one_to_many` model.
        features: `(batch, feature_dim)` input vectors.
        start_id, end_id: the start token fed first and the token that ends a sequence.
        max_length: most tokens generated per sequence.
        method: "greedy" (most likely token), "sample" (from softmax(log p / temperature))
            or "beam" (keep the `beam_width` most likely prefixes).
        length_penalty: beam search only. 0 (default) returns the beam with the highest
            sum of log-probabilities, which favours short outputs; alpha > 0 divides each
            finished beam's sum by ((5 + length) / 6) ** alpha first (GNMT; 0.6-1.0 is
            usual). The beams kept at each step are the same either way.

    Returns:
        One list of token ids per input (start and end tokens not included).
    """
    features = np.asarray(features, dtype="float32")
    if features.ndim != 2:
        raise ValueError(
            f"Argument `features` must have shape (batch, feature_dim); received {features.shape}"
        )
    fixed = model.inputs[1].shape[1]

    def next_probs(rows, prefixes):
        tokens = prefixes
        if fixed is not None:
            # Causal: padding after the prefix cannot change the outputs up to it.
            tokens = np.zeros((len(prefixes), fixed), dtype="int32")
            tokens[:, : prefixes.shape[1]] = prefixes[:, :fixed]
        probs = model([features[rows], tokens], training=False)
        return np.asarray(probs)[:, min(prefixes.shape[1], tokens.shape[1]) - 1]

    if fixed is not None:
        max_length = min(max_length, fixed)
    return _generate(
        next_probs, len(features), start_id, end_id, max_length, method, beam_width,
        temperature, seed, length_penalty,
    )


def decode_sequence(
    model: keras.Model,
    source_ids,
    start_id: int,
    end_id: int,
    max_length: int,
    method: str = "greedy",
    beam_width: int = 3,
    temperature: float = 1.0,
    seed: int = 0,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Translate each source sequence with an `encoder_decoder` model.

    Same decoding options as `decode_one_to_many`; `source_ids` is `(batch, T_s)` ints
    (0 = padding). Returns one list of target ids per source.
    """
    source_ids = np.asarray(source_ids)
    if source_ids.ndim != 2 or not np.issubdtype(source_ids.dtype, np.integer):
        raise ValueError(
            "Argument `source_ids` must be integer token ids of shape (batch, T_s); "
            f"received dtype {source_ids.dtype} and shape {source_ids.shape}"
        )

    def next_probs(rows, prefixes):
        return np.asarray(model([source_ids[rows], prefixes], training=False))[:, -1]

    return _generate(
        next_probs, len(source_ids), start_id, end_id, max_length, method, beam_width,
        temperature, seed, length_penalty,
    )
