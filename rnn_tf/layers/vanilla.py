"""The vanilla (Elman) recurrent network in the U/W/V notation, as Keras 3 layers.

Row vectors (x_t is a row of the batch), as in Keras:

    h_t = tanh(x_t U + h_{t-1} W + b)   U: (input_dim, units)   W: (units, units)   b: (units,)
    o_t = h_t V + c                      V: (units, output_dim)  c: (output_dim,)   optional head

`VanillaRNNCell` is one step, for `keras.layers.RNN`. `VanillaRNN` runs the whole sequence, a
drop-in replacement for `keras.layers.SimpleRNN` on any Keras backend; on TensorFlow it can run
as one op with the BPTT gradient written out (`rnn_tf.bptt.fused`, imported only then).
"""

from __future__ import annotations

import inspect

import keras
from keras import activations, constraints, initializers, ops, regularizers
from keras.src import backend as keras_backend
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from rnn_tf._checks import check_choice, check_number, check_positive_int, check_sequences, invalid


def _check_batch_split(value):
    if isinstance(value, str) and value == "auto":
        return value
    try:
        return check_positive_int(value, "batch_split")
    except ValueError:
        raise invalid("batch_split", '"auto" or a positive integer', value) from None


# The constructor arguments that configure the weights, by the Keras module serializing them.
_WEIGHT_SETTINGS = (
    (initializers, ("kernel_initializer", "recurrent_initializer", "bias_initializer",
                    "output_initializer", "output_bias_initializer")),
    (regularizers, ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                    "output_regularizer")),
    (constraints, ("kernel_constraint", "recurrent_constraint", "bias_constraint")),
)


def _check_shape(name: str, shape, expected: tuple, what: str, trailing_one=False) -> None:
    """`shape` must be `expected` where both sizes are known (plus an axis of 1 if allowed)."""
    shape = tuple(shape)
    extra = shape[len(expected):]
    if (len(shape) >= len(expected) and extra in (((), (1,), (None,)) if trailing_one else ((),))
            and all(a is None or b is None or a == b for a, b in zip(shape, expected))):
        return
    raise ValueError(f"Argument `{name}` must {what} = {expected}; received shape {shape}")


def _fused():
    from rnn_tf.bptt import fused  # needs TensorFlow; the generic loop does not

    return fused


@keras.saving.register_keras_serializable(package="rnn_tf")
class VanillaRNNCell(keras.layers.Layer, DropoutRNNCell):
    """One step of the vanilla RNN: `h_t = tanh(x_t U + h_{t-1} W + b)`, `o_t = h_t V + c`.

    Follows the Keras cell contract (`state_size`, `output_size`,
    `get_initial_state`), so it runs inside `keras.layers.RNN`, `Bidirectional`
    and any functional or subclassed model.

    Args:
        units: Positive integer, size of the hidden state h_t.
        activation: Hidden activation, `"tanh"` (default) or `"relu"`, or any
            Keras activation. `None` means linear.
        use_bias: Whether the hidden pre-activation has the bias b.
        output_dim: If set, add the output head `o_t = h_t V + c` with
            `output_dim` units; the cell then outputs o_t while its state stays
            h_t. If `None` (default) the cell outputs h_t, like `SimpleRNNCell`.
        output_activation: Activation of the head, e.g. `"softmax"` for
            y^_t = softmax(o_t). Default `None` (the head returns the logits o_t).
        kernel_initializer, recurrent_initializer, bias_initializer,
        output_initializer, output_bias_initializer: Initializers of U, W, b, V, c.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        output_regularizer: Regularizers of U, W, b, V.
        kernel_constraint, recurrent_constraint, bias_constraint: Constraints of U, W, b.
        dropout: Fraction of the input units x_t to drop, in [0, 1).
        recurrent_dropout: Fraction of the state units h_{t-1} to drop, in [0, 1).
        seed: Seed of the dropout masks.

    Call arguments:
        inputs: x_t, shape `(batch, input_dim)`.
        states: `[h_{t-1}]`, each of shape `(batch, units)`.
        training: Whether dropout is active.

    Returns:
        `(output, [h_t])` where output is h_t, or o_t when `output_dim` is set.

    Attributes:
        U `(input_dim, units)`, W `(units, units)`, b `(units,)` (None without
        `use_bias`), with the Keras aliases `kernel`, `recurrent_kernel`, `bias`;
        V `(units, output_dim)` and c `(output_dim,)` (None without a head).

    Example:

    ```python
    cell = VanillaRNNCell(16, output_dim=4)
    layer = keras.layers.RNN(cell, return_sequences=True)
    y = layer(np.zeros((8, 10, 3), "float32"))  # The output has shape (8, 10, 4).
    ```
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        output_dim: int | None = None,
        output_activation=None,
        kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
        bias_initializer="zeros", output_initializer="glorot_uniform",
        output_bias_initializer="zeros",
        kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
        output_regularizer=None,
        kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        arguments = dict(locals())  # read by name below, as get_config writes them
        check_positive_int(units, "units")
        if output_dim is not None:
            check_positive_int(output_dim, "output_dim")
        super().__init__(**kwargs)
        self.units = units
        self.output_dim = output_dim
        self.activation = activations.get(activation)
        self.output_activation = activations.get(output_activation)
        self.use_bias = use_bias
        for module, names in _WEIGHT_SETTINGS:
            for name in names:
                setattr(self, name, module.get(arguments[name]))
        self.dropout = check_number(dropout, "dropout", low=0.0, high=1.0, high_open=True)
        self.recurrent_dropout = check_number(
            recurrent_dropout, "recurrent_dropout", low=0.0, high=1.0, high_open=True
        )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = units
        self.output_size = output_dim if output_dim is not None else units

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                "Argument `inputs` must have a known last dimension (input_dim); "
                f"received input_shape={tuple(input_shape)}"
            )
        weight = self.add_weight
        self.U = weight(shape=(input_dim, self.units), name="U",
                        initializer=self.kernel_initializer,
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.W = weight(shape=(self.units, self.units), name="W",
                        initializer=self.recurrent_initializer,
                        regularizer=self.recurrent_regularizer,
                        constraint=self.recurrent_constraint)
        self.b = self.V = self.c = None
        if self.use_bias:
            self.b = weight(shape=(self.units,), name="b", initializer=self.bias_initializer,
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        if self.output_dim is not None:
            self.V = weight(shape=(self.units, self.output_dim), name="V",
                            initializer=self.output_initializer,
                            regularizer=self.output_regularizer)
            self.c = weight(shape=(self.output_dim,), name="c",
                            initializer=self.output_bias_initializer)

    # Keras-compatible names, so code written for SimpleRNNCell keeps working.
    kernel = property(lambda self: self.U)
    recurrent_kernel = property(lambda self: self.W)
    bias = property(lambda self: self.b)

    @property
    def has_output_head(self) -> bool:
        return self.output_dim is not None

    def output_head(self, h):
        """y^ = output_activation(h V + c) for any leading shape of `h`."""
        o = ops.matmul(h, self.V) + self.c
        if self.output_activation is not None:
            o = self.output_activation(o)
        return o

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        dp_mask = self.get_dropout_mask(inputs)
        rec_dp_mask = self.get_recurrent_dropout_mask(h_prev)
        if training and dp_mask is not None:
            inputs = inputs * dp_mask
        a = ops.matmul(inputs, self.U)
        if self.b is not None:
            a = a + self.b
        if training and rec_dp_mask is not None:
            h_prev = h_prev * rec_dp_mask
        a = a + ops.matmul(h_prev, self.W)
        h = self.activation(a) if self.activation is not None else a
        new_state = [h] if isinstance(states, (list, tuple)) else h
        output = self.output_head(h) if self.has_output_head else h
        return output, new_state

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.state_size), dtype=self.compute_dtype)]

    def arguments(self) -> dict:
        """This cell's constructor arguments, serialized; `VanillaRNN.get_config` has them too."""
        config = {name: getattr(self, name) for name in (
            "units", "use_bias", "output_dim", "dropout", "recurrent_dropout", "seed")}
        for name in ("activation", "output_activation"):
            activation = getattr(self, name)
            config[name] = None if activation is None else activations.serialize(activation)
        for module, names in _WEIGHT_SETTINGS:
            config.update({name: module.serialize(getattr(self, name)) for name in names})
        return config

    def get_config(self):
        return {**super().get_config(), **self.arguments()}


# The arguments VanillaRNN hands to its cell: all of the cell's own.
_CELL_ARGUMENTS = [name for name in inspect.signature(VanillaRNNCell).parameters
                   if name != "kwargs"]


@keras.saving.register_keras_serializable(package="rnn_tf")
class VanillaRNN(keras.layers.RNN):
    """The vanilla U/W/V recurrent network over a whole sequence.

    A drop-in replacement for `keras.layers.SimpleRNN`: the same constructor
    and call arguments give the same numbers for the same weights, in every
    mode (masking, `go_backwards`, `stateful`, `initial_state`,
    `return_state`, `zero_output_for_mask`, `unroll`, dropout). On top of
    that it can carry the output head `o_t = h_t V + c` (`output_dim`).

        h_t = tanh(x_t U + h_{t-1} W + b)
        o_t = h_t V + c            (only with output_dim)

    `x_t U + b` for every step is one matmul before the time loop, `h_t V + c` one
    after it. On TensorFlow the whole sequence can run as one XLA-compiled op whose
    gradient is BPTT written out (`rnn_tf.bptt.fused`), with the same numbers,
    second-order and forward-mode derivatives included; elsewhere the Keras loop runs.

    Args:
        units, activation, use_bias, output_dim, output_activation, the
        initializers, regularizers and constraints of U, W, b, V, c, dropout,
        recurrent_dropout, seed: as in `VanillaRNNCell`.
        activity_regularizer: Regularizer of the layer's output.
        return_sequences: Return the output at every step instead of the last.
        return_state: Also return the last state h_T.
        go_backwards: Process the sequence backwards (and return it reversed).
        stateful: Carry the last state of each batch entry into the next batch.
        unroll: Unroll the time loop in the graph (short sequences only).
        zero_output_for_mask: Output zeros (instead of the previous output) at
            masked steps.
        use_fused_bptt: Which time loop runs, like `use_cudnn` of Keras' own
            recurrent layers. `"auto"` (default): the fused BPTT op when the
            backend is TensorFlow and the call is one it covers (no mask, no
            `unroll`, no recurrent dropout in training, tanh or relu), else the
            generic Keras loop. `False`: always the generic Keras loop. `True`:
            always the fused op, and a ValueError naming the reason when the
            backend or the call is one it does not cover. On the fused op a
            non-finite input or weight gives NaN outputs from that step on.
        batch_split: On the fused op, run this many slices of the batch as
            separate XLA computations, which a plain graph runs side by side on
            different CPU cores; same numbers up to float rounding. An int: that
            many slices wherever the fused op runs. `"auto"` (default): 2 or 1 by
            the fixed rule of `rnn_tf.bptt.fused.batch_slicing` (a plain graph on
            a multi-core CPU, batch x units^2 within a window), decided when the
            graph is traced. Why and how it was measured: benchmarks/README.md.

    Call arguments:
        sequences: `(batch, timesteps, input_dim)` float tensor.
        initial_state: optional `[h_0]` of shape `(batch, units)`.
        mask: optional boolean `(batch, timesteps)`; False steps are skipped
            (the state is carried over unchanged).
        training: Whether dropout is active.

    Returns:
        `(batch, units_out)` or, with `return_sequences`, `(batch, timesteps,
        units_out)`, where `units_out` is `output_dim` if set, else `units`;
        with `return_state`, followed by h_T of shape `(batch, units)`.

    Attributes:
        U, W, b, V, c: the weights (see `VanillaRNNCell`); `kernel`,
        `recurrent_kernel` and `bias` are aliases of U, W and b.

    Example:

    ```python
    inputs = keras.Input((20, 8))
    h = rnn_tf.layers.VanillaRNN(32)(inputs)  # The output has shape (None, 32).
    y = keras.layers.Dense(1, activation="sigmoid")(h)
    model = keras.Model(inputs, y)
    ```

    A `.keras` file holding this layer loads in a process that has imported
    `rnn_tf` (the import registers the classes); else Keras reports "Could not
    locate class 'VanillaRNN'".
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        output_dim: int | None = None,
        output_activation=None,
        kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
        bias_initializer="zeros", output_initializer="glorot_uniform",
        output_bias_initializer="zeros",
        kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
        output_regularizer=None, activity_regularizer=None,
        kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        seed: int | None = None,
        use_fused_bptt="auto",
        batch_split="auto",
        **kwargs,
    ):
        check_choice(use_fused_bptt, ("auto", True, False), "use_fused_bptt")
        batch_split = _check_batch_split(batch_split)
        arguments = dict(locals())
        cell = VanillaRNNCell(
            **{name: arguments[name] for name in _CELL_ARGUMENTS}, name="vanilla_rnn_cell",
            dtype=kwargs.get("dtype", None), trainable=kwargs.get("trainable", True),
        )
        super().__init__(
            cell, return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            activity_regularizer=activity_regularizer, **kwargs,
        )
        self.use_fused_bptt = use_fused_bptt
        self.batch_split = batch_split
        # No InputSpec: check_sequences gives a clearer error naming the argument.
        if use_fused_bptt is True:
            self._fused_bptt_refusal()  # raises now for what no call can change

    def build(self, sequences_shape, initial_state_shape=None):
        check_sequences(sequences_shape, name="sequences")
        super().build(sequences_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        check_sequences(sequences.shape, name="sequences", input_dim=self.cell.U.shape[0])
        batch = sequences.shape[0]
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != 1:
                raise ValueError(
                    "Argument `initial_state` must hold one state, h_0 of shape (batch, units); "
                    f"received {len(states)} states"
                )
            _check_shape("initial_state", states[0].shape, (batch, self.cell.units),
                         "be [h_0] with h_0 of shape (batch, units)")
        # Keras may hand over [sequence_mask, *state_masks].
        sequence_mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        if sequence_mask is not None:
            _check_shape("mask", sequence_mask.shape, (batch, sequences.shape[1]),
                         "have shape (batch, timesteps), like the sequences,", trailing_one=True)
        return super().call(sequences, mask=mask, training=training, initial_state=initial_state)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        refusal = self._fused_bptt_refusal(mask, training, sequences, initial_state[0])
        if refusal is not None and mask is not None and cell.has_output_head:
            # The head applied after the loop would differ from the per-step cell at
            # masked steps (they carry o_{t-1}, or zeros): keep the exact Keras semantics.
            return super().inner_loop(sequences, initial_state, mask, training=training)
        if training and cell.dropout > 0:
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        if refusal is None:
            return self._fused_loop(sequences, initial_state[0], training)

        # Hoisted input projection: x_t U + b for all t in one matmul.
        projected = ops.matmul(sequences, cell.U)
        if cell.b is not None:
            projected = projected + cell.b
        rec_dp_mask = None
        if training and cell.recurrent_dropout > 0:
            rec_dp_mask = cell.get_recurrent_dropout_mask(initial_state[0])

        def step(projected_t, states):
            h_prev = states[0] if rec_dp_mask is None else states[0] * rec_dp_mask
            a_t = projected_t + ops.matmul(h_prev, cell.W)
            h_t = cell.activation(a_t) if cell.activation is not None else a_t
            return h_t, [h_t]

        last_output, outputs, states = keras_backend.rnn(
            step, projected, list(initial_state), go_backwards=self.go_backwards, mask=mask,
            unroll=self.unroll, input_length=sequences.shape[1],
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )
        if cell.has_output_head:
            # Fused output projection: h_t V + c for all t in one matmul.
            last_output = cell.output_head(last_output)
            if self.return_sequences:
                outputs = cell.output_head(outputs)
        return last_output, outputs, states

    def _fused_bptt_refusal(self, mask=None, training=False, sequences=None, h0=None):
        """Why this call runs the generic loop, or None when it runs the fused op: the one
        place that decides. With `use_fused_bptt=True` a reason is a ValueError instead.
        Without tensors (the constructor) only what no call can change is checked."""
        reason = None
        if self.use_fused_bptt is False:
            return "use_fused_bptt=False"
        if keras.backend.backend() != "tensorflow":
            reason = f"the Keras backend is {keras.backend.backend()!r}, not 'tensorflow'"
        elif self.unroll:
            reason = "unroll=True asks for the unrolled Keras loop"
        elif _fused().activation_name(self.cell.activation) is None:
            reason = ("activation must be tanh or relu; received "
                      f"activation={activations.serialize(self.cell.activation)!r}")
        elif mask is not None:
            reason = "a mask carries the state over masked steps, which the op does not do"
        elif training and self.cell.recurrent_dropout > 0:
            reason = "recurrent_dropout in training needs a mask inside the loop"
        elif sequences is not None and not _fused().exact_here(
            [sequences, h0, *(ops.cast(w, self.compute_dtype) for w in self.cell.weights)]
        ):
            reason = ("a forward accumulator tracks it inside tf.function, where TensorFlow "
                      "cannot take forward-mode derivatives of the op")
        if reason is not None and self.use_fused_bptt is True:
            raise ValueError(
                f"Argument `use_fused_bptt=True` cannot be honoured: {reason}. "
                'Use "auto" or False'
            )
        return reason

    def _fused_loop(self, sequences, h0, training):
        """`inner_loop`'s result from the fused op (`rnn_tf.bptt.fused`)."""
        fused, cell, dtype = _fused(), self.cell, self.compute_dtype
        # Integer or bool inputs compute in the layer's float dtype, as in the generic loop.
        # Time-major inside: the loop reads and writes whole (batch, units) slabs.
        inputs = ops.transpose(ops.cast(sequences, dtype), (1, 0, 2))
        if self.go_backwards:
            inputs = ops.flip(inputs, axis=0)
        # The head runs inside the op only when every o_t is returned; otherwise only
        # o_T is needed, computed from h_T below.
        head_inside = cell.has_output_head and self.return_sequences
        weights = [cell.U, cell.W, cell.b] + ([cell.V, cell.c] if head_inside else [None, None])
        U, W, b, V, c = [None if w is None else ops.cast(w, dtype) for w in weights]
        slicing = fused.batch_slicing(
            self.batch_split, known_batch=sequences.shape[0] is not None, training=training
        )
        states, logits = fused.vanilla_sequence(
            inputs, ops.cast(h0, dtype), U, W, b=b, V=V, c=c,
            activation=fused.activation_name(cell.activation), **slicing,
        )
        h_last = states[-1]
        if not self.return_sequences:
            last_output = cell.output_head(h_last) if cell.has_output_head else h_last
            return last_output, ops.expand_dims(last_output, 1), [h_last]  # RNN.call drops it
        outputs = states
        if head_inside:
            outputs = logits
            if cell.output_activation is not None:
                outputs = cell.output_activation(outputs)
        return outputs[-1], ops.transpose(outputs, (1, 0, 2)), [h_last]

    # SimpleRNN exposes the cell's settings on the layer; so do we.
    units = property(lambda self: self.cell.units)
    output_dim = property(lambda self: self.cell.output_dim)
    activation = property(lambda self: self.cell.activation)
    output_activation = property(lambda self: self.cell.output_activation)
    use_bias = property(lambda self: self.cell.use_bias)
    dropout = property(lambda self: self.cell.dropout)
    recurrent_dropout = property(lambda self: self.cell.recurrent_dropout)
    U = property(lambda self: self.cell.U)
    W = property(lambda self: self.cell.W)
    b = property(lambda self: self.cell.b)
    V = property(lambda self: self.cell.V)
    c = property(lambda self: self.cell.c)
    kernel = property(lambda self: self.cell.U)
    recurrent_kernel = property(lambda self: self.cell.W)
    bias = property(lambda self: self.cell.b)

    def get_config(self):
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **self.cell.arguments(), "use_fused_bptt": self.use_fused_bptt,
                "batch_split": self.batch_split}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
