"""The vanilla (Elman) recurrent network in the U/W/V notation, as Keras 3 layers.

Row vectors (x_t is a row of the batch), as in Keras:

    h_t = tanh(x_t U + h_{t-1} W + b)   U: (input_dim, units)   W: (units, units)   b: (units,)
    o_t = h_t V + c                      V: (units, output_dim)  c: (output_dim,)   optional head

`VanillaRNNCell` computes one step and works inside `keras.layers.RNN`.
`VanillaRNN` runs the whole sequence and is a drop-in replacement for
`keras.layers.SimpleRNN` (same arguments, same numbers for the same weights) on
any Keras backend. It projects every input step with one matmul before the loop;
on TensorFlow, without a mask or recurrent dropout (tanh/relu), the whole
sequence runs as one XLA-compiled op with the BPTT gradient written out
(`rnn_tf.bptt.fused`, chosen by `use_fused_bptt`).

TensorFlow is imported only when that op runs: importing this module needs Keras only.
"""

from __future__ import annotations

import keras
from keras import activations, constraints, initializers, ops, regularizers
from keras.src import backend as keras_backend
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from rnn_tf._checks import check_positive_int, check_sequences

FUSED_BPTT_CHOICES = ("auto", True, False)


def _check_rate(name: str, value) -> float:
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"Argument `{name}` must be a float in [0, 1); received {name}={value!r}")
    return float(value)


def _check_use_fused_bptt(value):
    # `is`, not `in`: 1 == True and 0 == False, but only the three exact values are meant.
    if not any(value is choice for choice in FUSED_BPTT_CHOICES[1:]) and value != "auto":
        raise ValueError(
            'Argument `use_fused_bptt` must be "auto", True or False; '
            f"received use_fused_bptt={value!r}"
        )
    return value


# `batch_split="auto"` slices when batch x units^2 (multiply-adds of one step's h W) is
# in [SPLIT_MIN_STEP_WORK, SPLIT_MAX_STEP_WORK). Below, the second XLA call and the
# concatenation cost what the second core gains; above, one XLA call already spreads
# each step's matmul, large by then, over the cores. Keras `train_on_batch` on an Intel Xeon
# (AVX-512, 2 cores, T = 100), time with slices / without: 2^18: 1.04 (16 x 128 units),
# 2^20: 0.85 (64 x 128), 0.94 (256 x 64), 2^21: 0.84-0.87, 2^24: 0.90 (64 x 512,
# 256 x 256), 2^25: 0.99-1.01, 2^26: 1.16 (64 x 1024).
SPLIT_MIN_STEP_WORK = 1 << 20
SPLIT_MAX_STEP_WORK = 1 << 25


def _check_batch_split(value):
    if isinstance(value, str) and value == "auto":
        return value
    try:
        return check_positive_int(value, "batch_split")
    except ValueError:
        raise ValueError(
            f'Argument `batch_split` must be "auto" or a positive integer; '
            f"received batch_split={value!r}"
        ) from None


def _fused_activation_name(activation) -> str | None:
    """ "tanh" or "relu" when `activation` is Keras' tanh/relu (the ones the fused op runs)."""
    for name in ("tanh", "relu"):
        if activation is activations.get(name):
            return name
    return None


def _fused_bptt_error(reason: str) -> str:
    return f"Argument `use_fused_bptt=True` cannot be honoured: {reason}. Use \"auto\" or False"


def _same_size(actual, expected) -> bool:
    return actual is None or expected is None or actual == expected


def _check_mask(mask, sequences_shape) -> None:
    """A mask is `(batch, timesteps)` (or `(batch, timesteps, 1)`) matching the sequences."""
    if isinstance(mask, (list, tuple)):  # Keras may hand over [sequence_mask, *state_masks]
        mask = mask[0]
        if mask is None:
            return
    shape = tuple(mask.shape)
    expected = tuple(sequences_shape[:2])
    if (
        len(shape) not in (2, 3)
        or (len(shape) == 3 and shape[2] not in (None, 1))
        or not all(_same_size(a, b) for a, b in zip(shape[:2], expected))
    ):
        raise ValueError(
            f"Argument `mask` must have shape (batch, timesteps) = {expected}, like the "
            f"sequences; received shape {shape}"
        )


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
        kernel_initializer, recurrent_initializer, bias_initializer: Initializers
            of U, W and b (Keras defaults: glorot_uniform, orthogonal, zeros).
        output_initializer, output_bias_initializer: Initializers of V and c.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        output_regularizer: Regularizers of U, W, b and V.
        kernel_constraint, recurrent_constraint, bias_constraint: Constraints of
            U, W and b.
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
        U: `(input_dim, units)`, alias `kernel`.
        W: `(units, units)`, alias `recurrent_kernel`.
        b: `(units,)`, alias `bias` (`None` without `use_bias`).
        V: `(units, output_dim)` (`None` without a head).
        c: `(output_dim,)` (`None` without a head).

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
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        output_initializer="glorot_uniform",
        output_bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        output_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        check_positive_int(units, "units")
        if output_dim is not None:
            check_positive_int(output_dim, "output_dim")
        super().__init__(**kwargs)
        self.units = units
        self.output_dim = output_dim
        self.activation = activations.get(activation)
        self.output_activation = activations.get(output_activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.output_initializer = initializers.get(output_initializer)
        self.output_bias_initializer = initializers.get(output_bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.output_regularizer = regularizers.get(output_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
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
        self.U = self.add_weight(
            shape=(input_dim, self.units),
            name="U",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.W = self.add_weight(
            shape=(self.units, self.units),
            name="W",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.b = None
        if self.use_bias:
            self.b = self.add_weight(
                shape=(self.units,),
                name="b",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.V = None
        self.c = None
        if self.output_dim is not None:
            self.V = self.add_weight(
                shape=(self.units, self.output_dim),
                name="V",
                initializer=self.output_initializer,
                regularizer=self.output_regularizer,
            )
            self.c = self.add_weight(
                shape=(self.output_dim,),
                name="c",
                initializer=self.output_bias_initializer,
            )

    # Keras-compatible names, so code written for SimpleRNNCell keeps working.
    @property
    def kernel(self):
        return self.U

    @property
    def recurrent_kernel(self):
        return self.W

    @property
    def bias(self):
        return self.b

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

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "output_dim": self.output_dim,
            "output_activation": activations.serialize(self.output_activation)
            if self.output_activation is not None
            else None,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "output_initializer": initializers.serialize(self.output_initializer),
            "output_bias_initializer": initializers.serialize(self.output_bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "output_regularizer": regularizers.serialize(self.output_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        base_config = super().get_config()
        return {**base_config, **config}


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

    The input projection `x_t U + b` is computed for every step with one matmul
    before the time loop, and the head `h_t V + c` with one matmul after it, so
    the loop itself does one `(batch, units) x (units, units)` matmul per step.

    The layer runs on every Keras backend through the generic Keras loop. On
    TensorFlow it can instead run the whole sequence as one XLA-compiled op whose
    gradient is BPTT written out by hand (`rnn_tf.bptt.fused`); the numbers are
    the same, including second-order and forward-mode derivatives.

    Args:
        units: Positive integer, size of the hidden state h_t.
        activation: `"tanh"` (default), `"relu"`, or any Keras activation.
        use_bias: Whether to use the hidden bias b.
        output_dim: If set, add the head o_t = h_t V + c of this size.
        output_activation: Activation of the head (e.g. `"softmax"`).
        kernel_initializer, recurrent_initializer, bias_initializer,
        output_initializer, output_bias_initializer: Initializers of U, W, b, V, c.
        kernel_regularizer, recurrent_regularizer, bias_regularizer,
        output_regularizer, activity_regularizer: Regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: Constraints.
        dropout, recurrent_dropout: Dropout rates on x_t and h_{t-1}, in [0, 1).
        return_sequences: Return the output at every step instead of the last.
        return_state: Also return the last state h_T.
        go_backwards: Process the sequence backwards (and return it reversed).
        stateful: Carry the last state of each batch entry into the next batch.
        unroll: Unroll the time loop in the graph (short sequences only).
        zero_output_for_mask: Output zeros (instead of the previous output) at
            masked steps.
        seed: Seed of the dropout masks.
        use_fused_bptt: Which time loop runs, like `use_cudnn` of Keras' own
            recurrent layers. `"auto"` (default): the fused BPTT op when the
            backend is TensorFlow and the call is one it covers (no mask, no
            `unroll`, no recurrent dropout in training, tanh or relu), else the
            generic Keras loop. `False`: always the generic Keras loop. `True`:
            always the fused op, and a ValueError when the backend or the call
            is one it does not cover. On the fused op a non-finite input or
            weight gives NaN outputs from that step on (a NaN always reaches
            the loss).
        batch_split: On the fused op, run this many slices of the batch as
            separate XLA computations, which TensorFlow runs side by side on
            different CPU cores (one computation runs its time steps one after
            the other, a small step's matmul on one core). `"auto"` (default):
            2 when the call is built in a plain graph (Keras `fit`, `predict`,
            a `tf.function`) on a CPU-only machine with 2 or more cores,
            outside a distribution strategy's replicas, and batch x units^2 is
            from `SPLIT_MIN_STEP_WORK` (2^20, e.g. 64 x 128^2) up to, not
            including, `SPLIT_MAX_STEP_WORK` (2^25), else 1. The range comes
            from training steps measured on one Intel CPU; inference gained
            within it too (benchmarks/README.md).
            Never in eager execution, where the slices would run one after the
            other, nor inside an XLA computation (`jit_compile=True`), which
            ran them one after the other too when measured. An int: that many
            slices wherever the fused op runs. Slices give the same numbers up
            to float rounding. The choice is made when the graph is traced.
            With a batch size unknown then, a training graph (Keras `fit`
            with a last, smaller batch) holds both paths and picks by the
            batch at run time, and an inference graph (what `model.export`
            traces) runs the whole batch, so exported SavedModel and TFLite
            models hold no slices unless an int asks for them.

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

    Saving and loading: a `.keras` file holding this layer loads only in a
    process that has imported `rnn_tf` (the import registers the class under the
    package name `rnn_tf`). Without it Keras reports "Could not locate class
    'VanillaRNN'" followed by the layer's config, whose `module` is `rnn_tf...`:

    ```python
    import rnn_tf  # noqa: F401  (registers VanillaRNN and VanillaRNNCell)
    model = keras.saving.load_model("model.keras")
    ```
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        output_dim: int | None = None,
        output_activation=None,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        output_initializer="glorot_uniform",
        output_bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        output_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
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
        _check_use_fused_bptt(use_fused_bptt)
        batch_split = _check_batch_split(batch_split)
        cell = VanillaRNNCell(
            units,
            activation=activation,
            use_bias=use_bias,
            output_dim=output_dim,
            output_activation=output_activation,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            output_initializer=output_initializer,
            output_bias_initializer=output_bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            output_regularizer=output_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype", None),
            trainable=kwargs.get("trainable", True),
            name="vanilla_rnn_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.use_fused_bptt = use_fused_bptt
        self.batch_split = batch_split
        # No InputSpec: check_sequences gives a clearer error naming the argument.
        if use_fused_bptt is True:
            reason = self._fused_bptt_unsupported_reason(mask=None, training=False)
            if reason is not None:
                raise ValueError(_fused_bptt_error(reason))

    def build(self, sequences_shape, initial_state_shape=None):
        check_sequences(sequences_shape, name="sequences")
        super().build(sequences_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        check_sequences(sequences.shape, name="sequences", input_dim=self.cell.U.shape[0])
        if initial_state is not None:
            self._check_initial_state(initial_state, sequences.shape)
        if mask is not None:
            _check_mask(mask, sequences.shape)
        return super().call(sequences, mask=mask, training=training, initial_state=initial_state)

    def _check_initial_state(self, initial_state, sequences_shape):
        nested = isinstance(initial_state, (list, tuple))
        states = list(initial_state) if nested else [initial_state]
        if len(states) != 1:
            raise ValueError(
                "Argument `initial_state` must hold one state, h_0 of shape (batch, units); "
                f"received {len(states)} states"
            )
        shape = tuple(states[0].shape)
        expected = (sequences_shape[0], self.cell.units)
        if len(shape) != 2 or not all(_same_size(a, b) for a, b in zip(shape, expected)):
            raise ValueError(
                "Argument `initial_state` must be [h_0] with h_0 of shape (batch, units) = "
                f"{expected}; received shape {shape}"
            )

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if self._uses_fused_bptt(mask, training):
            result = self._fused_inner_loop(sequences, initial_state, training)
            if result is not None:
                return result
        if mask is not None and cell.has_output_head:
            # The head applied after the loop would differ from the per-step
            # cell at masked steps (they carry o_{t-1}, or zeros); keep the
            # exact Keras semantics there.
            return super().inner_loop(sequences, initial_state, mask, training=training)

        if training and cell.dropout > 0:
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        # Hoisted input projection: x_t U + b for all t in one matmul.
        projected = ops.matmul(sequences, cell.U)
        if cell.b is not None:
            projected = projected + cell.b

        rec_dp_mask = None
        if training and cell.recurrent_dropout > 0:
            rec_dp_mask = cell.get_recurrent_dropout_mask(initial_state[0])
        W = cell.W
        activation = cell.activation

        def step(projected_t, states):
            h_prev = states[0]
            if rec_dp_mask is not None:
                h_prev = h_prev * rec_dp_mask
            a_t = projected_t + ops.matmul(h_prev, W)
            h_t = activation(a_t) if activation is not None else a_t
            return h_t, [h_t]

        last_output, outputs, states = keras_backend.rnn(
            step,
            projected,
            list(initial_state),
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            input_length=sequences.shape[1],
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )
        if cell.has_output_head:
            # Fused output projection: h_t V + c for all t in one matmul.
            last_output = cell.output_head(last_output)
            if self.return_sequences:
                outputs = cell.output_head(outputs)
        return last_output, outputs, states

    def _fused_bptt_unsupported_reason(self, mask, training) -> str | None:
        """Why the fused op cannot run this call (None when it can)."""
        if keras.backend.backend() != "tensorflow":
            return f"the Keras backend is {keras.backend.backend()!r}, not 'tensorflow'"
        if self.unroll:
            return "unroll=True asks for the unrolled Keras loop"
        if _fused_activation_name(self.cell.activation) is None:
            return (
                "activation must be tanh or relu; received "
                f"activation={activations.serialize(self.cell.activation)!r}"
            )
        if mask is not None:
            return "a mask carries the state over masked steps, which the op does not do"
        if training and self.cell.recurrent_dropout > 0:
            return "recurrent_dropout in training needs a mask inside the loop"
        return None

    def _uses_fused_bptt(self, mask, training) -> bool:
        if self.use_fused_bptt is False:
            return False
        reason = self._fused_bptt_unsupported_reason(mask, training)
        if reason is not None and self.use_fused_bptt is True:
            raise ValueError(_fused_bptt_error(reason))
        return reason is None

    def _fused_inner_loop(self, sequences, initial_state, training):
        """The fused op's outputs, or None where its derivatives would not be exact."""
        from rnn_tf.bptt import fused  # needs TensorFlow; the generic loop does not

        cell = self.cell
        if training and cell.dropout > 0:
            sequences = sequences * ops.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
        # Integer or bool inputs compute in the layer's float dtype, as in the generic loop.
        dtype = self.compute_dtype
        # Time-major inside: the loop reads and writes whole (batch, units) slabs.
        inputs = ops.transpose(ops.cast(sequences, dtype), (1, 0, 2))
        if self.go_backwards:
            inputs = ops.flip(inputs, axis=0)

        def weight(w):
            return None if w is None else ops.cast(w, dtype)

        # The head runs inside the op only when every o_t is returned; otherwise
        # only o_T is needed and is computed from h_T below.
        head_inside = cell.has_output_head and self.return_sequences
        h0 = ops.cast(initial_state[0], dtype)
        U, W, b = weight(cell.U), weight(cell.W), weight(cell.b)
        V = weight(cell.V) if head_inside else None
        c = weight(cell.c) if head_inside else None
        if not fused.exact_here([t for t in (inputs, h0, U, W, b, V, c) if t is not None]):
            if self.use_fused_bptt is True:
                raise ValueError(
                    _fused_bptt_error(
                        "a forward accumulator tracks it inside tf.function, where "
                        "TensorFlow cannot take forward-mode derivatives of the op"
                    )
                )
            return None  # the generic loop: every derivative is TensorFlow's own
        states, logits = fused.vanilla_sequence(
            inputs, h0, U, W, b=b, V=V, c=c, activation=_fused_activation_name(cell.activation),
            **self._slicing(known_batch=sequences.shape[0] is not None, training=training),
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

    def _slicing(self, *, known_batch: bool = True, training: bool = True) -> dict:
        """`batch_split` resolved where the op is being built, as `vanilla_sequence`'s
        slicing arguments."""
        if self.batch_split != "auto":
            return {"batch_slices": self.batch_split}
        import tensorflow as tf

        from rnn_tf.bptt import fused

        # Eager ops and XLA run the slices one after the other; the replicas of a
        # distribution strategy already share the cores out. An inference graph for any
        # batch size is what `model.export` traces: a choice made at run time would put
        # a tf.cond around the op, which TFLite cannot convert.
        side_by_side = not (tf.executing_eagerly() or fused.in_xla_computation())
        one_replica = tf.distribute.get_strategy().num_replicas_in_sync == 1
        exportable = not known_batch and not training
        if side_by_side and one_replica and not exportable and fused.cores_for_slices():
            return {"batch_slices": 2, "min_step_work": SPLIT_MIN_STEP_WORK,
                    "max_step_work": SPLIT_MAX_STEP_WORK}
        return {"batch_slices": 1}

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
        cell_config = self.cell.get_config()
        config = {
            key: cell_config[key]
            for key in (
                "units",
                "activation",
                "use_bias",
                "output_dim",
                "output_activation",
                "kernel_initializer",
                "recurrent_initializer",
                "bias_initializer",
                "output_initializer",
                "output_bias_initializer",
                "kernel_regularizer",
                "recurrent_regularizer",
                "bias_regularizer",
                "output_regularizer",
                "kernel_constraint",
                "recurrent_constraint",
                "bias_constraint",
                "dropout",
                "recurrent_dropout",
                "seed",
            )
        }
        config["use_fused_bptt"] = self.use_fused_bptt
        config["batch_split"] = self.batch_split
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
