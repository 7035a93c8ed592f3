"""Training by Backpropagation Through Time with a compiled `tf.function` step.

The trainer runs the loop a textbook describes and Keras' `fit` hides:

    for each batch:                       (or each chunk of `truncate` steps of it)
        forward: y^_t for every t         model(x)
        L = sum_t L_t                     per-step loss, masked at padded steps
        dL/dU, dL/dW, dL/dV, ...          tf.GradientTape (BPTT through the unrolled loop)
        clip (by value and/or global norm)
        U <- U - alpha dL/dU, ...         plain SGD by default, any Keras optimizer allowed

Truncated BPTT (`truncate=k`) cuts each sequence into chunks of k steps, carries the
hidden state from one chunk to the next as a plain tensor (so the gradient stops at
the border) and updates after every chunk: memory holds k steps, whatever T is.
That needs a model that takes and returns its states; `state_passing_model` builds one.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_finite, check_labels, check_positive_int
from rnn_tf._machine import usable_cpus as _usable_cpus

_LOSSES = {
    "sparse_categorical_crossentropy": keras.losses.sparse_categorical_crossentropy,
    "mse": keras.losses.mean_squared_error,
    "mean_squared_error": keras.losses.mean_squared_error,
    "binary_crossentropy": keras.losses.binary_crossentropy,
}
_TIME_REDUCTIONS = ("sum", "mean")
_ON_NON_FINITE = ("raise", "skip")
# Layer attributes whose positive value means the layer draws random numbers in training.
_RANDOM_RATES = ("rate", "dropout", "recurrent_dropout", "stddev")


def _batch_coupling(model) -> str | None:
    """Why `model`'s training step on a batch is not the sum of its steps on slices of it.

    Batch normalization and stateful RNNs couple the rows of a batch; random layers
    (dropout, noise) would draw the same numbers for every slice run at once; and
    regularizers and other added losses must be counted once per batch, not per slice.
    """
    for layer in model._flatten_layers(include_self=False, recursive=True):
        name = f"{type(layer).__name__} {layer.name!r}"
        if isinstance(layer, keras.layers.BatchNormalization):
            return f"{name} normalizes over the batch"
        if getattr(layer, "stateful", False):
            return f"{name} is stateful"
        for attr in _RANDOM_RATES:
            value = getattr(layer, attr, None)
            if isinstance(value, (int, float)) and value > 0:
                return f"{name} draws random numbers ({attr}={value})"
        for attr, value in vars(layer).items():
            if attr.endswith("regularizer") and value is not None:
                return f"{name} has a {attr.lstrip('_')}"
    return None


def _dense(grads, variables) -> list[tf.Tensor]:
    """Gradients with zeros where a variable got none (the update needs one per variable)."""
    return [
        tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
        for g, v in zip(grads, variables)
    ]


def _apply_if_finite(loss, norm, grads, apply_step) -> None:
    """Apply the update inside the graph only when loss and gradient norm are finite."""
    finite = tf.math.logical_and(tf.math.is_finite(loss), tf.math.is_finite(norm))

    def update():
        apply_step(grads)
        return tf.constant(True)

    tf.cond(finite, update, lambda: tf.constant(False))


class _SplitUnsupported(Exception):
    """Raised while tracing the split step when the model adds losses of its own."""

    reason = "the model adds losses (regularizers or add_loss) that count once per batch"


def _finite(loss, norm) -> bool:
    return math.isfinite(float(loss)) and math.isfinite(float(norm))


class NonFiniteLossError(FloatingPointError):
    """Raised when a training step produced a NaN/Inf loss or gradient."""


@dataclass
class TrainingHistory:
    """Per-epoch numbers of a `BPTTTrainer.fit` run.

    `history` is shaped like `keras.callbacks.History.history`: a dict from metric
    name ("loss", "accuracy", "grad_norm", "grad_norm_max", "val_loss",
    "val_accuracy", "seconds") to one value per epoch.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    skipped_steps: list[int] = field(default_factory=list)

    def append(self, logs: dict[str, float]) -> None:
        for name, value in logs.items():
            self.history.setdefault(name, []).append(float(value))

    @property
    def epochs(self) -> int:
        return len(self.history.get("loss", []))


def state_passing_model(
    recurrent_layer: keras.layers.Layer,
    input_dim: int,
    head: keras.layers.Layer | None = None,
    input_dtype: str = "float32",
) -> keras.Model:
    """Wrap a recurrent layer (or a bare cell) as `[x, *h_0] -> [y, *h_T]`.

    Truncated BPTT needs to hand the last state of one chunk to the next; a model
    whose states are explicit inputs and outputs makes that a plain function call.

    Args:
        recurrent_layer: a Keras RNN layer built with `return_sequences=True,
            return_state=True` (e.g. `VanillaRNN(64, output_dim=10, ...)`), or a
            cell such as `VanillaRNNCell`, which is wrapped in `keras.layers.RNN`.
        input_dim: features per step of x.
        head: optional layer applied to the sequence output (e.g. a Dense).
        input_dtype: dtype of x.

    Returns:
        A functional model with inputs `[x (B, T, input_dim), *states]` and
        outputs `[y (B, T, ...), *final_states]`.

    Example:

    ```python
    model = state_passing_model(VanillaRNNCell(32, output_dim=5), input_dim=5)
    y, h_T = model([x, h_0])   # y: (B, T, 5), h_T: (B, 32)
    ```
    """
    check_positive_int(input_dim, "input_dim")
    layer = recurrent_layer
    if not isinstance(layer, keras.layers.RNN):
        if not hasattr(layer, "state_size"):
            raise ValueError(
                "Argument `recurrent_layer` must be a Keras RNN layer or an RNN cell "
                f"(with a `state_size`); received {type(layer).__name__}"
            )
        layer = keras.layers.RNN(layer, return_sequences=True, return_state=True)
    if not (layer.return_sequences and layer.return_state):
        raise ValueError(
            "Argument `recurrent_layer` must be built with return_sequences=True and "
            f"return_state=True; received return_sequences={layer.return_sequences}, "
            f"return_state={layer.return_state}"
        )
    x = keras.Input((None, input_dim), dtype=input_dtype, name="x")
    states = [keras.Input((size,), name=f"h0_{i}") for i, size in enumerate(layer.state_size)]
    y, *final_states = layer(x, initial_state=states)
    if head is not None:
        y = head(y)
    return keras.Model([x, *states], [y, *final_states], name="state_passing_rnn")


class BPTTTrainer:
    """Train a Keras model on sequences by (truncated) Backpropagation Through Time.

    Args:
        model: a Keras model mapping x to per-step predictions `(B, T, K)` (or
            `(B, K)` for many-to-one), or a state-passing model from
            `state_passing_model` (needed for `truncate`), or a bare RNN cell
            such as `VanillaRNNCell(units, output_dim=K)`, which is wrapped for you.
        loss: "sparse_categorical_crossentropy" (default), "mse",
            "binary_crossentropy", or a callable `(y_true, y_pred) -> per-step loss`.
        from_logits: whether predictions are logits (cross-entropy losses).
        optimizer: any Keras optimizer; default plain SGD, `W <- W - alpha dL/dW`.
        learning_rate: alpha of the default SGD.
        time_reduction: "sum" (L = sum_t L_t, averaged over the batch; the seed's
            loss) or "mean" (average over all unmasked steps).
        clip_value: clip every gradient entry to [-clip_value, clip_value].
        clip_norm: rescale the gradients so their global norm is at most this.
        truncate: chunk length k of truncated BPTT; None for full BPTT.
        jit_compile: compile the gradient step with XLA. "auto" (default) does so on a
            single device (10-16% faster per step in `benchmarks/`) and not under a
            `strategy`, where the replica step runs as a plain graph.
        batch_split: on one device, split each batch into this many slices whose
            gradients are computed at the same time (each slice one XLA call; a CPU
            runs them on different cores) and summed, then update once: the same
            step as the whole batch, up to float rounding. "auto" (default) uses 2
            slices on a CPU-only machine with 2 or more usable cores when
            `jit_compile` is on (on 2 cores in `benchmarks/`: about 10 ms a
            step instead of 12), and 1 (no split) on GPUs, under a `strategy`, and for
            models whose rows interact or draw random numbers (batch normalization,
            stateful RNNs, dropout, noise, regularizers or other added losses).
        check_inputs: check shapes, finiteness and label range before training.
        on_non_finite: "raise" (stop with `NonFiniteLossError` naming the step;
            the weights stay those of the last good step) or "skip" (drop that
            update and go on).
        verbose: 1 shows a `keras.utils.Progbar` per epoch, 0 is silent.
        strategy: a `tf.distribute` strategy (e.g. `MirroredStrategy`); build the
            model under `strategy.scope()`. The batch size is the global one.
            Not combined with `truncate`.
        checkpoint_dir: if set, save model, optimizer and position there
            (`tf.train.CheckpointManager`, 3 kept) and resume from the latest
            checkpoint when `fit` starts again with the same settings.
        checkpoint_every: save every this many batches (default: every epoch).

    Example:

    ```python
    model = keras.Sequential([keras.Input((None, 8)),
                              VanillaRNN(32, output_dim=8, return_sequences=True)])
    trainer = BPTTTrainer(model, from_logits=True, learning_rate=0.05)
    history = trainer.fit(x, y, epochs=5, batch_size=32)   # x: (N, T, 8), y: (N, T)
    history.history["loss"]                                 # one value per epoch
    ```
    """

    def __init__(
        self,
        model,
        loss: str | Callable = "sparse_categorical_crossentropy",
        from_logits: bool = False,
        optimizer: keras.optimizers.Optimizer | None = None,
        learning_rate: float = 0.01,
        time_reduction: str = "sum",
        clip_value: float | None = None,
        clip_norm: float | None = None,
        truncate: int | None = None,
        jit_compile: bool | str = "auto",
        batch_split: int | str = "auto",
        check_inputs: bool = True,
        on_non_finite: str = "raise",
        verbose: int = 1,
        strategy: tf.distribute.Strategy | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
    ):
        if time_reduction not in _TIME_REDUCTIONS:
            raise ValueError(
                f"Argument `time_reduction` must be one of {_TIME_REDUCTIONS}; "
                f"received {time_reduction!r}"
            )
        if on_non_finite not in _ON_NON_FINITE:
            raise ValueError(
                f"Argument `on_non_finite` must be one of {_ON_NON_FINITE}; "
                f"received {on_non_finite!r}"
            )
        for name, value in (("clip_value", clip_value), ("clip_norm", clip_norm)):
            if value is not None and not value > 0:
                raise ValueError(f"Argument `{name}` must be positive; received {name}={value!r}")
        if truncate is not None:
            check_positive_int(truncate, "truncate")
        if checkpoint_every is not None:
            check_positive_int(checkpoint_every, "checkpoint_every")
        self.strategy = strategy or tf.distribute.get_strategy()
        self.distributed = strategy is not None
        if self.distributed and truncate is not None:
            raise ValueError(
                "Arguments `truncate` and `strategy` cannot be combined: truncated BPTT "
                "carries per-sequence states between chunks on one device"
            )
        if isinstance(loss, str):
            if loss not in _LOSSES:
                raise ValueError(
                    f"Argument `loss` must be one of {sorted(_LOSSES)} or a callable; "
                    f"received {loss!r}"
                )
            self.loss_name = loss
            self._elementwise_loss = _LOSSES[loss]
        elif callable(loss):
            self.loss_name = getattr(loss, "__name__", "custom")
            self._elementwise_loss = loss
        else:
            raise ValueError(f"Argument `loss` must be a string or a callable; received {loss!r}")

        self._bare_cell = None
        if not isinstance(model, keras.Model):
            if not hasattr(model, "state_size"):
                raise ValueError(
                    "Argument `model` must be a keras.Model or an RNN cell; "
                    f"received {type(model).__name__}"
                )
            self._bare_cell = model  # wrapped once the input size is known (in fit)
        self.model = model if self._bare_cell is None else None
        self.from_logits = from_logits
        if optimizer is None:
            with self.strategy.scope():
                optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
        self.optimizer = optimizer
        self.time_reduction = time_reduction
        self.clip_value = clip_value
        self.clip_norm = clip_norm
        self.truncate = truncate
        if jit_compile not in (True, False, "auto"):
            raise ValueError(
                f"Argument `jit_compile` must be True, False or 'auto'; received {jit_compile!r}"
            )
        self.jit_compile = (strategy is None) if jit_compile == "auto" else jit_compile
        if batch_split != "auto":
            check_positive_int(batch_split, "batch_split")
            if self.distributed and batch_split > 1:
                raise ValueError(
                    "Arguments `batch_split` > 1 and `strategy` cannot be combined: the "
                    f"strategy already splits the batch; received batch_split={batch_split}"
                )
        self.batch_split = batch_split
        self.parts = 1  # slices per batch, resolved from batch_split once the model exists
        self.check_inputs = check_inputs
        self.on_non_finite = on_non_finite
        self.verbose = verbose
        self.trace_count = 0  # how many graphs the gradient step compiled (tests read it)
        self.steps_done = 0
        self._step = None  # gradient + update; built on first use
        self._split_step = None  # the same over `parts` slices of the batch at once
        self._eval_step = None
        self.history = TrainingHistory()
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self._checkpoint_manager = None

    # --- model plumbing -------------------------------------------------------

    def _ensure_model(self, input_dim: int | None) -> None:
        if self.model is None:
            if input_dim is None:
                raise ValueError(
                    "A bare RNN cell needs `x` of shape (batch, timesteps, features); "
                    "token ids need a model with an Embedding layer"
                )
            self.model = state_passing_model(self._bare_cell, input_dim)
        if self.truncate is not None and not self.passes_state:
            raise ValueError(
                "Argument `truncate` needs a model that takes and returns its hidden states "
                "(inputs [x, *h_0], outputs [y, *h_T]); build it with "
                "rnn_tf.bptt.state_passing_model(layer, input_dim)"
            )

    @property
    def passes_state(self) -> bool:
        inputs = getattr(self.model, "inputs", None)
        return bool(inputs) and len(inputs) > 1

    def _states_or_initial(self, x, states) -> list:
        """`states`, or zeros for a state-passing model called without any."""
        if self.passes_state and not states:
            return self._initial_states(tf.shape(x)[0])
        return states

    def _initial_states(self, batch_size) -> list[tf.Tensor]:
        return [
            tf.zeros((batch_size, spec.shape[-1]), dtype=spec.dtype)
            for spec in self.model.inputs[1:]
        ]

    def _forward(self, x, states, training):
        if states:
            y_pred, *new_states = self.model([x, *states], training=training)
            return y_pred, new_states
        return self.model(x, training=training), []

    # --- the loss of the seed: L = sum_t L_t ------------------------------------

    def _reduced_loss(self, y, y_pred, mask, replica=None):
        total, denominator, per_step, weights = self._loss_sum(y, y_pred, mask)
        if replica is not None:
            # Each replica sees part of the batch: divide by the global count so the
            # replicas' losses (and gradients) add up to the single-device ones.
            denominator = replica.all_reduce(tf.distribute.ReduceOp.SUM, denominator)
        return total / tf.maximum(denominator, 1.0), per_step, weights

    def _loss_sum(self, y, y_pred, mask):
        """sum_t L_t over the batch (masked), and what it is divided by for `time_reduction`."""
        if self.loss_name in ("mse", "mean_squared_error", "binary_crossentropy"):
            per_step = self._elementwise_loss(y, y_pred)
        elif self.loss_name == "sparse_categorical_crossentropy":
            per_step = self._elementwise_loss(y, y_pred, from_logits=self.from_logits)
        else:
            per_step = self._elementwise_loss(y, y_pred)
        per_step = tf.cast(per_step, tf.float32)
        if per_step.shape.rank == 1:  # many-to-one: one "step" per sequence
            per_step = per_step[:, None]
        weights = tf.ones_like(per_step) if mask is None else tf.cast(mask, tf.float32)
        total = tf.reduce_sum(per_step * weights)
        if self.time_reduction == "sum":
            denominator = tf.cast(tf.shape(per_step)[0], tf.float32)  # sequences
        else:
            denominator = tf.reduce_sum(weights)  # unmasked steps
        return total, denominator, per_step, weights

    def _accuracy_counts(self, y, y_pred, weights):
        if self.loss_name != "sparse_categorical_crossentropy":
            return tf.constant(0.0), tf.constant(0.0)
        predicted = tf.cast(tf.argmax(y_pred, axis=-1), tf.int64)
        hits = tf.cast(tf.equal(predicted, tf.cast(y, tf.int64)), tf.float32)
        if hits.shape.rank == 1:
            hits = hits[:, None]
        return tf.reduce_sum(hits * weights), tf.reduce_sum(weights)

    # --- compiled steps -------------------------------------------------------

    def _build_steps(self) -> None:
        variables = self.model.trainable_variables
        with self.strategy.scope():
            self.optimizer.build(variables)

        def gradient_step(x, y, mask, states):
            self.trace_count += 1  # Python side effect: runs once per trace only
            replica = tf.distribute.get_replica_context()
            states = self._states_or_initial(x, states)
            with tf.GradientTape() as tape:
                y_pred, new_states = self._forward(x, states, training=True)
                loss, _, weights = self._reduced_loss(y, y_pred, mask, replica)
                if self.model.losses:
                    regularization = tf.add_n([tf.cast(r, tf.float32) for r in self.model.losses])
                    loss = loss + regularization / replica.num_replicas_in_sync
            grads = _dense(tape.gradient(loss, variables), variables)
            # The global gradient (a no-op on one device), so that norms and clipping
            # see the same numbers however many replicas share the batch.
            grads = replica.all_reduce(tf.distribute.ReduceOp.SUM, grads)
            grads, norm = self._clipped(grads)
            hits, count = self._accuracy_counts(y, y_pred, weights)
            new_states = [tf.stop_gradient(s) for s in new_states]
            return loss, grads, norm, hits, count, new_states

        def apply_step(grads):
            # Keras optimizers sum gradients over replicas themselves; ours are
            # already summed, so hand each replica its share.
            share = tf.distribute.get_replica_context().num_replicas_in_sync
            self.optimizer.apply([g / share for g in grads], variables)

        def eval_step(x, y, mask, states):
            states = self._states_or_initial(x, states)
            y_pred, new_states = self._forward(x, states, training=False)
            loss, _, weights = self._reduced_loss(y, y_pred, mask)
            hits, count = self._accuracy_counts(y, y_pred, weights)
            return loss, hits, count, new_states

        self._eval_step = tf.function(eval_step, reduce_retracing=True)
        if not self.distributed:
            self._step = self._single_device_step(gradient_step, apply_step)
            self.parts = self._resolve_parts()
            self._split_step = self._batch_split_step(apply_step) if self.parts > 1 else None
            return

        # Under a strategy the replicas' gradients meet on the host: the finiteness
        # check and the update are a second call.
        compiled_gradient_step = tf.function(
            gradient_step, reduce_retracing=True, jit_compile=self.jit_compile
        )
        compiled_apply_step = tf.function(apply_step, reduce_retracing=True)
        strategy = self.strategy
        total = partial(strategy.reduce, tf.distribute.ReduceOp.SUM, axis=None)
        same = partial(strategy.reduce, tf.distribute.ReduceOp.MEAN, axis=None)  # equal anyway

        def distributed_step(x, y, mask, states):
            results = strategy.run(compiled_gradient_step, args=(x, y, mask, states))
            loss, grads, norm, hits, count, new_states = results
            loss, norm = total(loss), same(norm)
            if _finite(loss, norm):
                strategy.run(compiled_apply_step, args=(grads,))
            return loss, norm, total(hits), total(count), new_states

        self._step = distributed_step

    def _clipped(self, grads):
        """The gradients clipped as asked, and their global norm before clipping."""
        norm = tf.linalg.global_norm(grads)
        if self.clip_value is not None:
            grads = [tf.clip_by_value(g, -self.clip_value, self.clip_value) for g in grads]
        if self.clip_norm is not None:
            grads, _ = tf.clip_by_global_norm(grads, self.clip_norm)
        return grads, norm

    def _resolve_parts(self) -> int:
        if self.batch_split != "auto":
            coupling = _batch_coupling(self.model) if self.batch_split > 1 else None
            if coupling:
                raise ValueError(
                    f"Argument `batch_split` must be 1 for this model: {coupling}, so its "
                    f"slices' steps do not add up to the batch's; received "
                    f"batch_split={self.batch_split} (\"auto\" picks 1 here)"
                )
            return self.batch_split
        on_cpu = not tf.config.list_logical_devices("GPU")
        if not (self.jit_compile and on_cpu and _usable_cpus() >= 2):
            return 1
        return 1 if _batch_coupling(self.model) else 2

    def _batch_split_step(self, apply_step):
        """Gradients of `self.parts` slices of the batch at once, summed, one update.

        Each slice's gradient is its own XLA computation; called side by side from a
        plain graph, TensorFlow runs them on different cores (one XLA computation runs
        its time loop on one core). The losses are sums here and divided by the whole
        batch's count at the end, so the step equals the unsplit one.
        """
        variables = self.model.trainable_variables

        def slice_gradient(x, y, mask, states):
            self.trace_count += 1  # Python side effect: runs once per trace only
            states = self._states_or_initial(x, states)
            with tf.GradientTape() as tape:
                y_pred, new_states = self._forward(x, states, training=True)
                total, denominator, _, weights = self._loss_sum(y, y_pred, mask)
            if self.model.losses:
                raise _SplitUnsupported(_SplitUnsupported.reason)
            grads = _dense(tape.gradient(total, variables), variables)
            hits, count = self._accuracy_counts(y, y_pred, weights)
            new_states = [tf.stop_gradient(s) for s in new_states]
            return total, denominator, grads, hits, count, new_states

        def update(totals, denominators, slice_grads):
            denominator = tf.maximum(tf.add_n(denominators), 1.0)
            loss = tf.add_n(totals) / denominator
            grads = [tf.add_n(list(gs)) / denominator for gs in zip(*slice_grads)]
            grads, norm = self._clipped(grads)
            _apply_if_finite(loss, norm, grads, apply_step)
            return loss, norm

        compiled_slice = tf.function(slice_gradient, reduce_retracing=True, jit_compile=True)
        compiled_update = tf.function(update, reduce_retracing=True, jit_compile=True)
        parts = self.parts

        def split(tensor, sizes):
            return [None] * parts if tensor is None else tf.split(tensor, sizes, num=parts)

        def step(x, y, mask, states):
            batch = tf.shape(x)[0]
            # As equal as possible: the first `batch % parts` slices get one more row.
            sizes = batch // parts + tf.cast(tf.range(parts) < batch % parts, tf.int32)
            xs, ys, masks = split(x, sizes), split(y, sizes), split(mask, sizes)
            slice_states = list(zip(*[split(s, sizes) for s in states])) or [[]] * parts
            results = [
                compiled_slice(*args, list(st))
                for *args, st in zip(xs, ys, masks, slice_states)
            ]
            totals, denominators, grads, hits, counts, new_states = zip(*results)
            loss, norm = compiled_update(list(totals), list(denominators), list(grads))
            new_states = [tf.concat(list(s), axis=0) for s in zip(*new_states)]
            return loss, norm, tf.add_n(list(hits)), tf.add_n(list(counts)), new_states

        return tf.function(step, reduce_retracing=True)

    def _single_device_step(self, gradient_step, apply_step):
        """Gradient, finiteness check and update as ONE compiled call.

        One call instead of two saves a host round trip and, with XLA, lets the
        update fuse with the gradient computation (about 1 ms of a 16 ms step in
        benchmarks/). A non-finite loss or norm skips the update inside the graph.
        """

        def train_step(x, y, mask, states):
            loss, grads, norm, hits, count, new_states = gradient_step(x, y, mask, states)
            _apply_if_finite(loss, norm, grads, apply_step)
            return loss, norm, hits, count, new_states

        return tf.function(train_step, reduce_retracing=True, jit_compile=self.jit_compile)

    # --- data -----------------------------------------------------------------

    def _validate(self, x, y, mask) -> None:
        x = np.asarray(x)
        y = np.asarray(y)
        if x.ndim < 2:
            raise ValueError(
                "Argument `x` must have rank 3 (batch, timesteps, features) or rank 2 "
                f"(batch, timesteps) of token ids; received shape {x.shape}"
            )
        if x.shape[0] == 0:
            raise ValueError(f"Argument `x` holds no sequences; received shape {x.shape}")
        if x.shape[1] == 0:
            raise ValueError(
                f"Argument `x` is an empty sequence: it must have at least one timestep; "
                f"received shape {x.shape}"
            )
        if y.shape[0] != x.shape[0]:
            raise ValueError(
                f"Arguments `x` and `y` must hold the same number of sequences; received "
                f"x.shape={x.shape}, y.shape={y.shape}"
            )
        check_finite(x, "x")
        if self.loss_name == "sparse_categorical_crossentropy":
            outputs = getattr(self.model, "outputs", None)
            num_classes = outputs[0].shape[-1] if outputs else None
            if num_classes is not None:
                check_labels(y, num_classes, name="y")
        else:
            check_finite(y, "y")
        if mask is not None and np.asarray(mask).shape != y.shape[:2]:
            raise ValueError(
                f"Argument `mask` must have shape (batch, timesteps) = {y.shape[:2]}; received "
                f"{np.asarray(mask).shape}"
            )

    def _dataset(self, x, y, mask, batch_size, shuffle, seed):
        if isinstance(x, tf.data.Dataset):
            return x
        tensors = (x, y) if mask is None else (x, y, mask)
        ds = tf.data.Dataset.from_tensor_slices(tensors)
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    @staticmethod
    def _unpack(batch):
        if len(batch) == 2:
            return batch[0], batch[1], None
        return batch

    def _chunks(self, x, y, mask):
        """Split a batch along time into chunks of `truncate` steps (one chunk if None)."""
        if self.truncate is None:
            yield x, y, mask
            return
        if len(y.shape) < 2:
            raise ValueError(
                "Argument `truncate` needs a target at every step, y of shape "
                f"(batch, timesteps); received y.shape={tuple(y.shape)}"
            )
        steps = x.shape[1]
        k = self.truncate
        for start in range(0, steps, k):
            stop = start + k
            m = None if mask is None else mask[:, start:stop]
            yield x[:, start:stop], y[:, start:stop], m

    # --- public API -----------------------------------------------------------

    def train_on_batch(self, x, y, mask=None) -> dict[str, float]:
        """One optimizer update per chunk of the batch; returns loss and gradient norm."""
        if not self.distributed:
            x = tf.convert_to_tensor(x)
            self._ensure_model(x.shape[-1] if x.shape.rank == 3 else None)
        if self._step is None:
            self._build_steps()
        states: list = []
        losses, norms, hits_total, count_total = [], [], 0.0, 0.0
        for x_chunk, y_chunk, m_chunk in self._chunks(x, y, mask):
            loss, norm, hits, count, states = self._run_step(x_chunk, y_chunk, m_chunk, states)
            self.steps_done += 1
            if not _finite(loss, norm):
                # The step did not apply this update (checked before the update).
                if self.on_non_finite == "raise":
                    raise NonFiniteLossError(
                        f"Non-finite loss ({float(loss)}) or gradient norm ({float(norm)}) at "
                        f"training step {self.steps_done}; the update was not applied, the "
                        "weights are those of the last good step. Lower the learning rate, "
                        "clip gradients (clip_norm=...) or check the inputs."
                    )
                self.history.skipped_steps.append(self.steps_done)
                continue
            losses.append(float(loss))
            norms.append(float(norm))
            hits_total += float(hits)
            count_total += float(count)
        return {
            # With time_reduction="sum" the chunks' losses add up to the sequence's L.
            "loss": float(np.sum(losses))
            if (self.truncate and self.time_reduction == "sum" and losses)
            else float(np.mean(losses or [np.nan])),
            "grad_norm": float(np.mean(norms)) if norms else float("nan"),
            "grad_norm_max": float(np.max(norms)) if norms else float("nan"),
            "hits": hits_total,
            "count": count_total,
        }

    def _run_step(self, x, y, mask, states):
        if self._split_step is not None and (x.shape[0] or 0) >= self.parts:
            try:
                return self._split_step(x, y, mask, states)
            except _SplitUnsupported:
                # Found while tracing, before anything ran: train unsplit from now on.
                if self.batch_split != "auto":
                    raise ValueError(
                        f"Argument `batch_split` must be 1 for this model: "
                        f"{_SplitUnsupported.reason}; received batch_split={self.batch_split}"
                    ) from None
                self._split_step, self.parts = None, 1
        return self._step(x, y, mask, states)

    def evaluate(self, x, y=None, mask=None, batch_size: int = 256) -> dict[str, float]:
        """Loss and accuracy (sparse cross-entropy only) without updating the weights."""
        if not isinstance(x, tf.data.Dataset):
            x_arr = np.asarray(x)
            self._ensure_model(x_arr.shape[-1] if x_arr.ndim == 3 else None)
        if self._step is None:
            self._build_steps()
        ds = self._dataset(x, y, mask, batch_size, shuffle=False, seed=None)
        total, sequences, hits_total, count_total = 0.0, 0, 0.0, 0.0
        for batch in ds:
            xb, yb, mb = self._unpack(batch)
            states = self._initial_states(tf.shape(xb)[0]) if self.passes_state else []
            batch_loss = 0.0
            for x_chunk, y_chunk, m_chunk in self._chunks(xb, yb, mb):
                loss, hits, count, states = self._eval_step(x_chunk, y_chunk, m_chunk, states)
                batch_loss += float(loss)
                hits_total += float(hits)
                count_total += float(count)
            n = int(xb.shape[0])
            total += batch_loss * n
            sequences += n
        logs = {"loss": total / max(sequences, 1)}
        if count_total:
            logs["accuracy"] = hits_total / count_total
        return logs

    def _checkpointing(self):
        """The checkpoint of model, optimizer and position, created on first use."""
        if self.checkpoint_dir is None:
            return None
        if self._checkpoint_manager is None:
            self._position = {"epoch": tf.Variable(0, dtype=tf.int64),
                              "batch": tf.Variable(0, dtype=tf.int64)}
            checkpoint = tf.train.Checkpoint(
                model=self.model, optimizer=self.optimizer, **self._position
            )
            # CheckpointManager writes the data files first and the `checkpoint`
            # index last, so a save cut short never replaces the last good one.
            self._checkpoint_manager = tf.train.CheckpointManager(
                checkpoint, os.fspath(self.checkpoint_dir), max_to_keep=3
            )
        return self._checkpoint_manager

    def _save(self, epoch: int, batch: int) -> None:
        self._position["epoch"].assign(epoch)
        self._position["batch"].assign(batch)
        self._checkpoint_manager.save(checkpoint_number=self.steps_done)

    def fit(
        self,
        x,
        y=None,
        epochs: int = 1,
        batch_size: int = 32,
        mask=None,
        validation_data: tuple | None = None,
        shuffle: bool = True,
        seed: int | None = 0,
    ) -> TrainingHistory:
        """Train for `epochs` passes over (x, y); returns the per-epoch `TrainingHistory`.

        Args:
            x: (N, T, features) floats or (N, T) token ids; or a `tf.data.Dataset`
                yielding (x, y) or (x, y, mask) batches.
            y: targets, (N, T) class ids (or (N,) for many-to-one), or floats for "mse".
            epochs: passes over the data.
            batch_size: sequences per update (the global batch under a strategy).
            mask: optional (N, T) 0/1 weights; 0 marks padded steps that add no loss.
            validation_data: optional (x_val, y_val) or (x_val, y_val, mask_val).
            shuffle: reshuffle the sequences every epoch (seeded per epoch, so a
                resumed run sees the same order as an uninterrupted one).
            seed: shuffle seed.

        Returns:
            `TrainingHistory` with loss, accuracy, gradient norms (mean and max over
            the epoch's updates, before clipping), seconds, and validation numbers.
            With `checkpoint_dir`, a resumed run's history holds the epochs it ran.
        """
        check_positive_int(epochs, "epochs")
        check_positive_int(batch_size, "batch_size")
        if not isinstance(x, tf.data.Dataset):
            if y is None:
                raise ValueError("Argument `y` is required when `x` is an array")
            x_arr = np.asarray(x)
            self._ensure_model(x_arr.shape[-1] if x_arr.ndim == 3 else None)
            if self.check_inputs:
                self._validate(x_arr, y, mask)
        if self._step is None:
            self._build_steps()
        self.history = TrainingHistory()
        first_epoch, skip_batches = 0, 0
        manager = self._checkpointing()
        if manager is not None and manager.latest_checkpoint:
            manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
            first_epoch = int(self._position["epoch"].numpy())
            skip_batches = int(self._position["batch"].numpy())
            self.steps_done = int(manager.latest_checkpoint.rsplit("-", 1)[1])
            if self.verbose:
                print(f"Resuming from {manager.latest_checkpoint}: epoch {first_epoch + 1}, "
                      f"batch {skip_batches}")

        for epoch in range(first_epoch, epochs):
            start = time.perf_counter()
            epoch_seed = None if seed is None else seed + epoch
            ds = self._dataset(x, y, mask, batch_size, shuffle, epoch_seed)
            steps_per_epoch = int(ds.cardinality()) if int(ds.cardinality()) > 0 else None
            if skip_batches:
                ds = ds.skip(skip_batches)
            if self.distributed:
                ds = self.strategy.experimental_distribute_dataset(ds)
            progbar = keras.utils.Progbar(
                steps_per_epoch, verbose=self.verbose, stateful_metrics=["loss", "accuracy"]
            )
            if self.verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            losses, norms, norm_max, hits, count = [], [], 0.0, 0.0, 0.0
            for i, batch in enumerate(ds, start=skip_batches):
                xb, yb, mb = self._unpack(batch)
                logs = self.train_on_batch(xb, yb, mb)
                if not math.isnan(logs["loss"]):
                    losses.append(logs["loss"])
                    norms.append(logs["grad_norm"])
                    norm_max = max(norm_max, logs["grad_norm_max"])
                hits += logs["hits"]
                count += logs["count"]
                shown = [("loss", float(np.mean(losses)) if losses else np.nan)]
                if count:
                    shown.append(("accuracy", hits / count))
                progbar.update(i + 1, values=shown)
                if manager is not None and self.checkpoint_every and (
                    (i + 1) % self.checkpoint_every == 0
                ):
                    self._save(epoch, i + 1)
            skip_batches = 0
            epoch_logs = {
                "loss": float(np.mean(losses)) if losses else float("nan"),
                "grad_norm": float(np.mean(norms)) if norms else float("nan"),
                "grad_norm_max": norm_max,
            }
            if count:
                epoch_logs["accuracy"] = hits / count
            if validation_data is not None:
                val = self.evaluate(*validation_data)
                epoch_logs.update({f"val_{k}": v for k, v in val.items()})
            epoch_logs["seconds"] = time.perf_counter() - start
            self.history.append(epoch_logs)
            if manager is not None:
                self._save(epoch + 1, 0)
        return self.history
