"""Running trained models forward: decoding token sequences, perplexity, sampling text.

Every generator here is autoregressive: the model gives P(next token | tokens so far),
one token is chosen, appended, and fed back in. Three ways to choose:

    greedy   the most likely token
    sample   a draw from softmax(log P / temperature)   (< 1 sharper, > 1 flatter)
    beam     keep the `beam_width` most likely prefixes, return the best at the end

`decode_one_to_many` (a `one_to_many` model, e.g. captioning) and `decode_sequence`
(an `encoder_decoder` model, e.g. translation) offer all three; `sample_text`
continues a prompt with a character-level model using the same temperature sampler.
An RNN generates by carrying its state: `language_model_stepper`, `one_to_many_stepper`
and `encoder_decoder_stepper` turn a trained model into a `Stepper` sharing its weights,
h = step(x_t, h) (and (h, c) for an LSTM), so n tokens cost n steps; the decoders and
`sample_text` use it. A language model's perplexity is

    PPL = exp( -1/N sum_i log P(c_i | c_<i) )

(a uniform guess over V tokens scores exactly V).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import keras
import numpy as np

from rnn_tf._checks import check_choice, check_number, check_positive_int
from rnn_tf._tensorflow import require_tensorflow

DECODING_METHODS = ("greedy", "sample", "beam")

# log(0) would make a row of -inf; this floor keeps every log-probability finite.
_SMALLEST_PROBABILITY = 1e-30


def _check_temperature(temperature: float) -> float:
    return check_number(temperature, "temperature", low=0, low_open=True)


def _log_probabilities(probs) -> np.ndarray:
    return np.log(np.clip(np.asarray(probs, dtype="float64"), _SMALLEST_PROBABILITY, 1.0))


def _sample_with_temperature(
    log_probs: np.ndarray, temperature: float, rng: np.random.Generator
) -> np.ndarray:
    """One id per row of `log_probs (n, vocab)`, drawn from softmax(log_probs / temperature).

    Entries set to -inf are never drawn (each row needs at least one finite entry).
    """
    logits = log_probs / temperature
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.array([rng.choice(p.shape[-1], p=row) for row in p])


# --- decoding -------------------------------------------------------------------------


def _check_decoding(
    method: str, beam_width: int, temperature: float, length_penalty: float
) -> None:
    check_choice(method, DECODING_METHODS, "method")
    check_positive_int(beam_width, "beam_width")
    _check_temperature(temperature)
    check_number(length_penalty, "length_penalty", low=0)


def _length_normalizer(lengths: np.ndarray, alpha: float) -> np.ndarray:
    """GNMT's length penalty ((5 + |Y|) / 6) ** alpha (Wu et al., 2016); 1 when alpha = 0."""
    return ((5.0 + lengths) / 6.0) ** alpha


def _top_k_stable(values: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest values of each row, largest first, ties to the
    lower index: `np.argsort(-values, kind="stable")[:, :k]` in linear time (a partition
    instead of a full sort; beam search ranks width x vocabulary candidates per step)."""
    if k >= values.shape[1]:
        return np.argsort(-values, axis=1, kind="stable")[:, :k]
    kth = -np.partition(-values, k - 1, axis=1)[:, k - 1 : k]
    above, tied = values > kth, values == kth
    # Of the values equal to the k-th largest, the lowest indices fill the remaining places.
    keep = above | (tied & (np.cumsum(tied, axis=1) <= k - above.sum(axis=1, keepdims=True)))
    chosen = np.nonzero(keep)[1].reshape(len(values), k)
    order = np.argsort(-np.take_along_axis(values, chosen, axis=1), axis=1, kind="stable")
    return np.take_along_axis(chosen, order, axis=1)


def _forbidden(start_id: int, end_id: int, vocab: int | None = None) -> tuple[int, ...]:
    """Ids never generated as words: padding (0), and the start token unless it also ends."""
    ids = (0,)
    if start_id != end_id and start_id >= 0 and (vocab is None or start_id < vocab):
        ids += (start_id,)
    return ids


def _beam_step(probs, scores, finished, width: int, forbidden: tuple[int, ...]):
    """One step of beam search over `probs (batch * width, vocab)`.

    Each hypothesis's score plus log P of each next token is a candidate; the `width`
    best candidates of each input survive (ties to the lower beam, then token). Only each
    hypothesis's own `width` best tokens can be among them, so those are found first (a
    partition per row) and their log-probabilities compared: the same choice as ranking
    all width x vocab candidates, without a log or a sort over all of them.

    Returns `(parent, token, scores)`: the hypothesis each survivor extends, its new
    token and its score. A finished hypothesis only extends by padding, at no cost.
    """
    rows, vocab = probs.shape
    batch = rows // width
    # Ranking key per token: the probability as the log will see it (floored at the
    # smallest probability), -1 for forbidden tokens (log 0).
    key = np.clip(probs, _SMALLEST_PROBABILITY, 1.0)
    valid = [i for i in forbidden if i < vocab]
    key[:, valid] = -1.0
    key[finished] = -1.0
    key[finished, 0] = 1.0
    tokens = _top_k_stable(key, min(width, vocab))
    # A hypothesis scoring -inf (an unused copy) ties on every token: the lowest ids rank first.
    tokens[np.isneginf(scores)] = np.arange(tokens.shape[1])
    picked = np.take_along_axis(key, tokens, axis=1)
    originals = np.take_along_axis(probs, tokens, axis=1)
    log_p = np.where(picked < 0, -np.inf, _log_probabilities(originals))
    log_p[finished] = np.where(tokens[finished] == 0, 0.0, -np.inf)
    k = tokens.shape[1]
    candidates = (scores[:, None] + log_p).reshape(batch, width * k)
    beam = np.repeat(np.arange(width), k)[None, :]
    overall = beam * vocab + tokens.reshape(batch, width * k)   # the tie-break order
    order = np.lexsort((overall, -candidates), axis=-1)[:, :width]
    chosen = np.take_along_axis(overall, order, axis=1)
    parent = (chosen // vocab + np.arange(batch)[:, None] * width).ravel()
    return parent, (chosen % vocab).ravel(), np.take_along_axis(candidates, order, 1).ravel()


StepFunction = Callable[[np.ndarray, list], tuple[np.ndarray, list]]


def _decode(
    step: StepFunction,
    states: list,
    *,
    start_id: int,
    end_id: int,
    max_length: int,
    method: str = "greedy",
    beam_width: int = 3,
    temperature: float = 1.0,
    rng: np.random.Generator | None = None,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Autoregressive decoding that carries the state: `step(tokens (n,), states) ->
    (probs (n, vocab), states)`, every state an array with one row per hypothesis.

    `states` hold one row per input (beam search repeats them `beam_width` times and
    reorders them with the beams). Returns, per input, the generated ids after the start
    token and before the end token (at most `max_length`).
    """
    _check_decoding(method, beam_width, temperature, length_penalty)
    check_positive_int(max_length, "max_length")
    rng = np.random.default_rng(0) if rng is None else rng
    batch = len(states[0])
    width = beam_width if method == "beam" else 1
    states = [np.repeat(np.asarray(s), width, axis=0) for s in states]
    tokens = np.full(batch * width, start_id, dtype="int32")
    generated = np.zeros((batch * width, 0), dtype="int32")
    # Beams start as copies of one hypothesis; -inf keeps the copies out of the first top-k.
    scores = np.tile(np.r_[0.0, np.full(width - 1, -np.inf)], batch)
    finished = np.zeros(batch * width, dtype=bool)
    for position in range(max_length):
        probs, states = step(tokens, states)
        if not np.isfinite(probs).all():
            raise ValueError(
                f"The model gave non-finite probabilities (NaN or Inf) for output word "
                f"{position + 1}; its weights may have diverged in training")
        if method == "beam":
            parent, token, scores = _beam_step(
                np.asarray(probs), scores, finished, width, forbidden=_forbidden(start_id, end_id)
            )
            # Each surviving beam continues from its parent's words and state.
            generated, finished = generated[parent], finished[parent]
            states = [s[parent] for s in states]
        else:
            log_probs = _log_probabilities(probs)
            # Padding and the start token are never generated as words.
            log_probs[:, list(_forbidden(start_id, end_id, log_probs.shape[-1]))] = -np.inf
            if method == "greedy":
                token = log_probs.argmax(-1)
            else:
                token = _sample_with_temperature(log_probs, temperature, rng)
        token = np.where(finished, 0, token).astype("int32")
        finished = finished | (token == end_id)
        generated = np.concatenate([generated, token[:, None]], axis=1)
        tokens = token
        if finished.all():
            break
    if method == "beam":
        # A sum of log-probabilities favours short outputs; dividing by the length
        # penalty lets a longer hypothesis win (alpha = 0: the raw sum, best first).
        lengths = (generated != 0).sum(axis=1)
        normalized = scores / _length_normalizer(lengths, length_penalty)
        best = np.argmax(normalized.reshape(batch, width), axis=1)
        generated = generated.reshape(batch, width, -1)[np.arange(batch), best]
    results = []
    for sequence in generated:
        ids = []
        for token in sequence.tolist():
            if token in (end_id, 0):
                break
            ids.append(int(token))
        results.append(ids)
    return results


def _generate(
    next_probs: Callable[[np.ndarray, np.ndarray], np.ndarray],
    *,
    batch: int,
    start_id: int,
    end_id: int,
    max_length: int,
    seed: int = 0,
    **options,
) -> list[list[int]]:
    """Decoding by re-running the prefix: `next_probs(rows, prefixes) -> (n, vocab)`.

    The slow way (each new token re-reads every earlier one), kept as the reference the
    stateful decoders are tested against: the prefix is the "state" `_decode` carries.
    `rows` says which input each prefix belongs to.
    """

    def step(tokens, states):
        rows, prefixes = states
        prefixes = np.concatenate([prefixes, np.asarray(tokens)[:, None]], axis=1)
        return np.asarray(next_probs(rows, prefixes)), [rows, prefixes]

    states = [np.arange(batch), np.zeros((batch, 0), dtype="int32")]
    return _decode(step, states, start_id=start_id, end_id=end_id, max_length=max_length,
                   rng=np.random.default_rng(seed), **options)


def _decode_in_batches(stepper: Stepper, inputs, batch_size: int, **options):
    """`_decode` over `inputs` `batch_size` at a time: memory bounded by one batch."""
    check_positive_int(batch_size, "batch_size")
    rng = np.random.default_rng(options.pop("seed"))
    results = []
    for begin in range(0, len(inputs), batch_size):
        states = stepper.start(inputs[begin : begin + batch_size])
        results += _decode(stepper.step, states, rng=rng, **options)
    return results


def decode_one_to_many(
    model: keras.Model,
    features,
    start_id: int,
    end_id: int,
    max_length: int,
    *,
    method: str = "greedy",
    beam_width: int = 3,
    temperature: float = 1.0,
    seed: int = 0,
    length_penalty: float = 0.0,
    batch_size: int = 256,
) -> list[list[int]]:
    """Generate a token sequence from each feature vector with a `one_to_many` model.

    The decoder carries its state (`one_to_many_stepper`): each token costs one step.

    Args:
        model: a trained `architectures.one_to_many` model.
        features: `(batch, feature_dim)` input vectors.
        start_id, end_id: the start token fed first and the token that ends a sequence.
        max_length: most tokens generated per sequence (at most the model's fixed
            length, when its token input has one).
        method: "greedy" (most likely token), "sample" (from softmax(log p / temperature))
            or "beam" (keep the `beam_width` most likely prefixes).
        beam_width: prefixes kept by beam search.
        temperature: sampling only; < 1 sharpens the distribution, > 1 flattens it.
        seed: sampling seed.
        length_penalty: beam search only. 0 (default) returns the beam with the highest
            sum of log-probabilities, which favours short outputs; alpha > 0 divides each
            finished beam's sum by ((5 + length) / 6) ** alpha first (GNMT; 0.6-1.0 is
            usual). The beams kept at each step are the same either way.
        batch_size: inputs decoded together (bounds memory; results do not depend on it
            except for the order of random draws when sampling).

    Returns:
        One list of token ids per input (start and end tokens not included).
    """
    features = np.asarray(features, dtype="float32")
    if features.ndim != 2:
        raise ValueError(
            f"Argument `features` must have shape (batch, feature_dim); received {features.shape}"
        )
    _check_decoding(method, beam_width, temperature, length_penalty)
    fixed = model.inputs[1].shape[1]
    if fixed is not None:
        max_length = min(check_positive_int(max_length, "max_length"), fixed)
    return _decode_in_batches(
        _cached(one_to_many_stepper, model), features, batch_size, start_id=start_id, end_id=end_id,
        max_length=max_length, method=method, beam_width=beam_width,
        temperature=temperature, seed=seed, length_penalty=length_penalty,
    )


def decode_sequence(
    model: keras.Model,
    source_ids,
    start_id: int,
    end_id: int,
    max_length: int,
    *,
    method: str = "greedy",
    beam_width: int = 3,
    temperature: float = 1.0,
    seed: int = 0,
    length_penalty: float = 0.0,
    batch_size: int = 256,
) -> list[list[int]]:
    """Translate each source sequence with an `encoder_decoder` model.

    The encoder runs once per source; the decoder carries its state
    (`encoder_decoder_stepper`), one step per token. Same decoding options as
    `decode_one_to_many`; `source_ids` is `(batch, T_s)` ints (0 = padding). Returns one
    list of target ids per source.
    """
    source_ids = np.asarray(source_ids)
    if source_ids.ndim != 2 or not np.issubdtype(source_ids.dtype, np.integer):
        raise ValueError(
            "Argument `source_ids` must be integer token ids of shape (batch, T_s); "
            f"received dtype {source_ids.dtype} and shape {source_ids.shape}"
        )
    _check_decoding(method, beam_width, temperature, length_penalty)
    return _decode_in_batches(
        _cached(encoder_decoder_stepper, model), source_ids.astype("int32"), batch_size,
        start_id=start_id, end_id=end_id, max_length=max_length, method=method,
        beam_width=beam_width, temperature=temperature, seed=seed,
        length_penalty=length_penalty,
    )


# --- carrying the state: one step at a time -------------------------------------------


class Stepper:
    """A trained recurrent model run one step (or one chunk) at a time, carrying its state.

    Built from a trained model by `language_model_stepper`, `one_to_many_stepper` or
    `encoder_decoder_stepper`; it shares the model's weights (the same variables, no copy),
    so training the model further changes the stepper too. The idea of TensorFlow's
    text_generation `OneStep` model: generating n tokens costs n steps, not 1 + 2 + ... + n.

    Attributes:
        model: `[tokens (batch, T), *states] -> [probs (batch, T, vocab), *new_states]`.
            `states` are the recurrent states (h per layer; h and c for an LSTM) followed
            by what every step reads unchanged (an attention model's encoder states and
            source mask), which `model` takes but does not return.
        start: callable giving the states before the first token (see the builders).

    Methods `step` and `run` take and return NumPy arrays; both go through one
    `tf.function` traced with `reduce_retracing`, so new batch sizes or lengths do not
    pile up graphs.
    """

    def __init__(self, model, start, num_recurrent_states: int):
        self.model = model
        self.start = start
        self.num_recurrent_states = num_recurrent_states
        tf = require_tensorflow("Stateful generation")
        self._call = tf.function(
            lambda tokens, states: model([tokens, *states], training=False),
            reduce_retracing=True,
        )

    def run(self, tokens, states) -> tuple[np.ndarray, list[np.ndarray]]:
        """Feed `tokens (batch, T)` from `states`: `(probs (batch, T, vocab), new states)`."""
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
            raise ValueError(
                "Argument `tokens` must be integer ids of shape (batch, T); received dtype "
                f"{tokens.dtype} and shape {tokens.shape}"
            )
        if len(states) != len(self.model.inputs) - 1:
            raise ValueError(
                f"Argument `states` must hold {len(self.model.inputs) - 1} arrays (from "
                f"`start`); received {len(states)}"
            )
        outputs = self._call(tokens.astype("int32"), [np.asarray(s) for s in states])
        # What every step reads unchanged (attention memory) is passed on as it came.
        carried = [np.asarray(s) for s in outputs[1:]]
        return np.asarray(outputs[0]), carried + list(states[self.num_recurrent_states :])

    def step(self, tokens, states) -> tuple[np.ndarray, list[np.ndarray]]:
        """One step, h = step(x_t, h): `tokens (batch,)` -> `(probs (batch, vocab), states)`."""
        probs, states = self.run(np.asarray(tokens).reshape(-1, 1), states)
        return probs[:, 0], states


_STEPPERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(builder, model) -> Stepper:
    """One `Stepper` per model and builder, built on first use (the weights are shared, so
    it stays right as the model trains); repeated calls reuse its traced graph instead of
    building and tracing a new one each time."""
    try:
        per_model = _STEPPERS.setdefault(model, {})
    except TypeError:  # not weak-referenceable: build it each time
        return builder(model)
    if builder not in per_model:
        per_model[builder] = builder(model)
    return per_model[builder]


def _recurrent(layer):
    """A new `keras.layers.RNN` around the trained layer's cell (same weights), returning
    every step's output and its final state(s), so a step can start from given states."""
    if isinstance(layer, keras.layers.Bidirectional):
        raise ValueError(
            f"Layer {layer.name!r} is bidirectional: it reads the future, so it cannot "
            "generate one token at a time"
        )
    if getattr(layer, "go_backwards", False):
        raise ValueError(f"Layer {layer.name!r} reads backwards: it cannot generate forwards")
    return keras.layers.RNN(layer.cell, return_sequences=True, return_state=True,
                            name=f"{layer.name}_stepwise")


def _state_inputs(cell, prefix: str) -> list:
    sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
    return [keras.Input((int(size),), name=f"{prefix}_state_{i}") for i, size in enumerate(sizes)]


def _zeros(inputs):
    return lambda batch: [np.zeros((batch, s.shape[-1]), dtype="float32") for s in inputs]


def _has_recurrence(layer) -> bool:
    if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
        return True
    return any(_has_recurrence(inner) for inner in getattr(layer, "layers", ()))


def _reads(node: dict) -> tuple[list[str], list[str]]:
    """The layers a call (one serialized inbound node) reads: its positional tensors, and its
    keyword tensors other than the mask Keras passes along by itself."""
    def histories(value):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                return [value["config"]["keras_history"][0]]
            return [name for v in value.values() for name in histories(v)]
        if isinstance(value, (list, tuple)):
            return [name for v in value for name in histories(v)]
        return []
    keywords = {k: v for k, v in node.get("kwargs", {}).items() if k != "mask"}
    return histories(node.get("args", [])), histories(keywords)


def _chain(model: keras.Model) -> list:
    """The model's layers in order, refusing a model whose layers do not form one chain (a
    layer reading two tensors, a skip connection, a branch, a nested model with recurrent
    layers): rebuilding it layer after layer would silently compute something else."""
    layers = [layer for layer in model.layers
              if not isinstance(layer, keras.layers.InputLayer)]
    for layer in layers:
        if isinstance(layer, keras.Model) and _has_recurrence(layer):
            raise ValueError(
                f"Argument `model` ({model.name!r}) holds the model {layer.name!r}, which has "
                "recurrent layers inside: build the language model from its layers directly"
            )
    if isinstance(model, keras.Sequential):
        return layers
    try:
        # The serialized graph is this model's own: a layer also called in another model
        # shows only the call made here.
        graph = model.get_config()
    except NotImplementedError as error:
        raise ValueError(
            f"Argument `model` ({model.name!r}) must be serializable (`get_config`) so that "
            f"its graph can be checked to be one chain of layers: {error}"
        ) from None
    inputs, outputs = graph["input_layers"], graph["output_layers"]
    if not isinstance(inputs[0], str) or not isinstance(outputs[0], str):
        raise ValueError(
            f"Argument `model` ({model.name!r}) must have one input (token ids) and one "
            f"output; received {len(model.inputs)} inputs and {len(model.outputs)} outputs"
        )
    by_name = {entry["name"]: entry for entry in graph["layers"]}
    previous = inputs[0]
    for layer in layers:
        nodes = by_name[layer.name]["inbound_nodes"]
        positional, keywords = _reads(nodes[0]) if len(nodes) == 1 else ([], [])
        if len(nodes) != 1 or positional != [previous] or keywords:
            raise ValueError(
                f"Argument `model` ({model.name!r}) must be one chain of layers, each called "
                f"once on the previous one's output alone; layer {layer.name!r} is not. "
                "Build a `Stepper` for it by hand (see `encoder_decoder_stepper`)"
            )
        previous = layer.name
    if outputs[0] != previous:
        raise ValueError(
            f"Argument `model` ({model.name!r}) must end in its last layer; its output comes "
            f"from {outputs[0]!r}"
        )
    return layers


def language_model_stepper(model: keras.Model) -> Stepper:
    """A `Stepper` for a language model whose layers form one chain (token ids in).

    Any model built by `architectures.many_to_many(..., vocab_size=...)`, or a Keras
    model of the same shape: an `Embedding`, recurrent layers (vanilla, SimpleRNN, GRU,
    LSTM, any number), then `Dense`/`Dropout`/other per-step layers. `start(batch)` gives
    zero states (the model's h_0 = 0). A branched model (skip connections, several
    inputs) is refused.
    """
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x, state_inputs, new_states = tokens, [], []
    for layer in _chain(model):
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            recurrent = _recurrent(layer)
            inputs = _state_inputs(layer.cell, layer.name)
            x, *states = recurrent(x, initial_state=inputs)
            state_inputs += inputs
            new_states += states
        else:
            x = layer(x)
    if not state_inputs:
        raise ValueError(f"Argument `model` ({model.name!r}) has no recurrent layer to step")
    stepwise = keras.Model([tokens, *state_inputs], [x, *new_states],
                           name=f"{model.name}_stepwise")
    return Stepper(stepwise, _zeros(state_inputs), len(state_inputs))


def one_to_many_stepper(model: keras.Model) -> Stepper:
    """A `Stepper` for an `architectures.one_to_many` model: `start(features)` gives the
    decoder's initial state(s) h_0 = tanh(z A + a) (and c_0 for an LSTM)."""
    decoder = model.get_layer("decoder")
    inputs = _state_inputs(decoder.cell, "decoder")
    initial = keras.Model(model.inputs[0], [
        model.get_layer(f"initial_state_{i}").output for i in range(len(inputs))
    ])
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x, *states = _recurrent(decoder)(model.get_layer("embedding")(tokens), initial_state=inputs)
    probs = model.get_layer("next_token")(x)
    stepwise = keras.Model([tokens, *inputs], [probs, *states], name=f"{model.name}_stepwise")

    def start(features):
        return [np.asarray(s) for s in _as_list(initial(np.asarray(features, "float32")))]

    return Stepper(stepwise, start, len(inputs))


def encoder_decoder_stepper(model: keras.Model) -> Stepper:
    """A `Stepper` for an `architectures.encoder_decoder` model (with or without attention).

    `start(source_ids)` runs the encoder once and returns the decoder's initial state(s)
    (the encoder's final ones) followed, with attention, by the encoder states and the
    source mask that every step reads.
    """
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    encoded = keras.Model(model.inputs[0], encoder.output)
    inputs = _state_inputs(decoder.cell, "decoder")
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    decoded, *states = _recurrent(decoder)(
        model.get_layer("target_embedding")(tokens), initial_state=inputs
    )
    memory = []
    if any(layer.name == "attention" for layer in model.layers):
        units = encoder.cell.units if hasattr(encoder.cell, "units") else inputs[0].shape[-1]
        encoder_states = keras.Input((None, units), name="encoder_states")
        source_mask = keras.Input((None,), dtype="bool", name="source_mask")
        context = model.get_layer("attention")(
            [decoded, encoder_states], mask=[None, source_mask]
        )
        decoded = model.get_layer("decoder_and_context")([decoded, context])
        memory = [encoder_states, source_mask]
    probs = model.get_layer("next_token")(decoded)
    stepwise = keras.Model([tokens, *inputs, *memory], [probs, *states],
                           name=f"{model.name}_stepwise")

    def start(source_ids):
        source_ids = np.asarray(source_ids)
        outputs = [np.asarray(o) for o in _as_list(encoded(source_ids))]
        if memory:
            return outputs[1:] + [outputs[0], source_ids > 0]
        return outputs[1:]

    return Stepper(stepwise, start, len(inputs))


def _as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


# --- language models ------------------------------------------------------------------


def perplexity(
    model, x, y, batch_size: int = 256, padding_id: int | None = None
) -> float:
    """exp(mean next-token cross-entropy) of `model` on ids `x (n, T)` -> targets `y (n, T)`.

    Computed from the predicted probabilities, independently of the compiled loss.
    With `padding_id`, target positions holding that id are left out of the mean
    (padded batches); otherwise every position counts.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape != y.shape or x.size == 0:
        raise ValueError(
            f"Arguments `x` and `y` must be non-empty id arrays of the same shape (n, T); "
            f"received {x.shape} and {y.shape}"
        )
    for name, ids in (("x", x), ("y", y)):
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                f"Argument `{name}` must hold integer token ids; received dtype {ids.dtype}"
            )
    check_positive_int(batch_size, "batch_size")
    counted = np.ones(y.shape, dtype=bool) if padding_id is None else y != padding_id
    if not counted.any():
        raise ValueError(
            f"Argument `y` holds only the padding id {padding_id}: no position to score"
        )
    total, count = 0.0, 0
    for start in range(0, len(x), batch_size):
        probs = np.asarray(model(x[start : start + batch_size], training=False), dtype="float64")
        targets = y[start : start + batch_size]
        if targets.max() >= probs.shape[-1] or targets.min() < 0:
            raise ValueError(
                f"Argument `y` holds ids outside [0, {probs.shape[-1]}), the model's vocabulary"
            )
        picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
        keep = counted[start : start + batch_size]
        total -= np.log(np.clip(picked[keep], 1e-300, None)).sum()
        count += int(keep.sum())
    return float(np.exp(total / count))


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(model):
    """A Keras model's forward pass as one `tf.function` (reduce_retracing: contexts of
    growing length share a graph), cached per model; any other callable as it is."""
    if not isinstance(model, keras.Model):
        return lambda ids: model(ids, training=False)
    if model not in _COMPILED:
        tf = require_tensorflow("Sampling from a Keras model")
        # A weak reference: the cached function must not keep its model (the key) alive.
        owner = weakref.ref(model)
        _COMPILED[model] = tf.function(lambda ids: owner()(ids, training=False),
                                       reduce_retracing=True)
    return _COMPILED[model]


def next_token_log_probabilities(model, ids, chunk_length: int = 1000) -> np.ndarray:
    """log P(ids[t + 1] | ids[0..t]) for every t, the state carried over the whole text.

    The text is read in pieces of `chunk_length` ids, each starting from the state the
    previous one ended in, so no position loses its context (unlike chunks that each
    start from h = 0). `model` is a language model (see `language_model_stepper`) or its
    `Stepper`. Returns `len(ids) - 1` log-probabilities; the perplexity is
    `exp(-mean)`.
    """
    stepper = model if isinstance(model, Stepper) else _cached(language_model_stepper, model)
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            "Argument `ids` must be a 1-D array of at least two integer ids; received "
            f"dtype {ids.dtype} and shape {ids.shape}"
        )
    check_positive_int(chunk_length, "chunk_length")
    vocabulary = stepper.model.outputs[0].shape[-1]
    if ids.min() < 0 or ids.max() >= vocabulary:
        raise ValueError(
            f"Argument `ids` must hold ids in [0, {vocabulary}), the model's vocabulary; "
            f"received ids from {ids.min()} to {ids.max()}"
        )
    states, pieces = stepper.start(1), []
    for begin in range(0, len(ids) - 1, chunk_length):
        inputs = ids[begin : min(begin + chunk_length, len(ids) - 1)]
        probs, states = stepper.run(inputs[None], states)
        targets = ids[begin + 1 : begin + 1 + len(inputs)]
        picked = np.take_along_axis(probs[0].astype("float64"), targets[:, None], -1)[:, 0]
        pieces.append(np.log(np.clip(picked, 1e-300, None)))
    return np.concatenate(pieces)


def sample_text(
    model,
    vocabulary: Sequence[str],
    prompt: str,
    length: int = 200,
    temperature: float = 1.0,
    window: int | None = None,
    seed: int = 0,
) -> str:
    """Continue `prompt` by `length` characters sampled from a character-level model.

    By default the model carries its state (`language_model_stepper`): the prompt is
    read once, then each character costs one step and the state is never reset, so the
    text can be arbitrarily long and the model remembers all of it. With `window`, the
    old way: every step re-runs the model on the last `window` characters (slower, and
    its memory stops there); the two agree while the text fits in the window.

    Args:
        model: a Keras language model mapping ids `(batch, T)` to next-character
            probabilities `(batch, T, vocab)`, or its `Stepper`. With `window`, any
            callable of that kind.
        vocabulary: the character of each id (`vocabulary[i]`); id 0 ("[UNK]" or padding)
            is never sampled.
        prompt: starting text; every character must be in `vocabulary`.
        length: characters to generate.
        temperature: < 1 sharpens the distribution (safer, repetitive), > 1 flattens it
            (more surprising, more mistakes); must be > 0.
        window: None (carry the state), or how many last characters to re-run each step.
        seed: sampling seed.

    Returns:
        The prompt followed by the generated characters.
    """
    check_positive_int(length, "length")
    if window is not None:
        check_positive_int(window, "window")
    _check_temperature(temperature)
    index = {char: i for i, char in enumerate(vocabulary)}
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"Argument `prompt` must be non-empty text; received {prompt!r}")
    unknown = sorted({c for c in prompt if c not in index})
    if unknown:
        raise ValueError(
            f"Argument `prompt` has characters the model never saw: {unknown}; use only "
            "characters of its vocabulary"
        )
    ids = [index[c] for c in prompt]
    rng = np.random.default_rng(seed)

    def draw(probs) -> int:
        log_probs = _log_probabilities(probs)
        log_probs[:, 0] = -np.inf
        return int(_sample_with_temperature(log_probs, temperature, rng)[0])

    if window is None:
        if not isinstance(model, (Stepper, keras.Model)):
            raise ValueError(
                "Argument `model` must be a Keras model or a Stepper to carry the state; "
                f"received {type(model).__name__} (pass `window` to re-run it instead)"
            )
        stepper = model if isinstance(model, Stepper) else _cached(language_model_stepper, model)
        probs, states = stepper.run(np.array([ids]), stepper.start(1))
        probs = probs[:, -1]
        for i in range(length):
            ids.append(draw(probs))
            if i < length - 1:
                probs, states = stepper.step(np.array(ids[-1:]), states)
    else:
        forward = _compiled(model)
        for _ in range(length):
            context = np.array([ids[-window:]], dtype="int32")
            ids.append(draw(np.asarray(forward(context))[:, -1]))
    return "".join(vocabulary[i] for i in ids)
