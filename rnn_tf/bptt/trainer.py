"""Training by Backpropagation Through Time with a compiled `tf.function` step.

The trainer runs the loop a textbook describes and Keras' `fit` hides:

    for each batch:                       (or each chunk of `truncate` steps of it)
        forward: y^_t for every t         model(x)
        L = sum_t L_t                     the cross-entropy (or other loss) summed over time,
                                          masked at padded steps, averaged over the batch
        dL/dU, dL/dW, dL/dV, ...          tf.GradientTape: BPTT through the unrolled loop
        clip (by value and/or global norm)
        U <- U - alpha dL/dU, ...         plain gradient descent by default, any Keras optimizer

Where the gradient comes from: `tf.GradientTape` asks each layer for its gradient.
`VanillaRNN` on TensorFlow answers with the hand-written BPTT of
`rnn_tf.bptt.fused` (the layer's `use_fused_bptt` argument chooses), the same
equations as the NumPy `rnn_tf.bptt.reference`; any other layer (SimpleRNN, GRU,
LSTM, a custom cell) gets TensorFlow's generic autodiff through its time loop.

Truncated BPTT (`truncate=k`) cuts each sequence into chunks of k steps, carries the
hidden state from one chunk to the next as a plain tensor (so the gradient stops at
the border) and updates after every chunk: memory holds k steps, whatever T is.
That needs a model that takes and returns its states; `state_passing_model` builds one.

Around this core, each in its own module: checks of the input (`inputs`), the
non-finite policy (`non_finite`), batch slices and `tf.distribute` (`scale`),
checkpoint/resume (`checkpoints`) and Keras callbacks (`callbacks`).
This module needs TensorFlow.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_choice, check_number, check_positive_int, invalid
from rnn_tf.bptt import checkpoints, inputs, non_finite, scale
from rnn_tf.bptt.callbacks import TrainingHistory, callback_list
from rnn_tf.bptt.non_finite import NonFiniteLossError
from rnn_tf.bptt.state_passing import passes_state, state_passing_model

__all__ = ["BPTTTrainer", "NonFiniteLossError", "TrainingHistory", "state_passing_model"]

_LOSSES = {
    "sparse_categorical_crossentropy": keras.losses.sparse_categorical_crossentropy,
    "binary_crossentropy": keras.losses.binary_crossentropy,
    "mse": keras.losses.mean_squared_error,
    "mean_squared_error": keras.losses.mean_squared_error,
}
_CROSS_ENTROPIES = ("sparse_categorical_crossentropy", "binary_crossentropy")
_TIME_REDUCTIONS = ("sum", "mean")


def _check_batch_split(value):
    if isinstance(value, str) and value == "auto":
        raise invalid(
            "batch_split", '"timed" or a positive integer (the trainer times its choice; '
            '"auto" is the fixed rule of the VanillaRNN layer)', value,
        )
    if isinstance(value, str) and value == "timed":
        return value
    try:
        return check_positive_int(value, "batch_split")
    except ValueError:
        raise invalid("batch_split", '"timed" or a positive integer', value) from None


class BPTTTrainer:
    """Train a Keras model on sequences by (truncated) Backpropagation Through Time.

    Args:
        model: a Keras model mapping x to per-step predictions `(B, T, K)` (or
            `(B, K)` for many-to-one), or a state-passing model from
            `state_passing_model` (needed for `truncate`), or a bare RNN cell
            such as `VanillaRNNCell(units, output_dim=K)`, which is wrapped for you.
        loss: "sparse_categorical_crossentropy" (default), "mse",
            "binary_crossentropy", or a callable `(y_true, y_pred) -> per-step loss`.
        from_logits: whether predictions are logits (the cross-entropy losses).
        optimizer: any Keras optimizer; default plain gradient descent (Keras SGD),
            `W <- W - alpha dL/dW`.
        learning_rate: alpha of the default plain gradient descent, a finite number > 0.
        time_reduction: "sum" (L = sum_t L_t, the cross-entropy summed over time,
            averaged over the batch) or "mean" (average over all unmasked steps).
        clip_value: clip every gradient entry to [-clip_value, clip_value].
        clip_norm: rescale the gradients so their global norm is at most this.
        truncate: chunk length k of truncated BPTT; None for full BPTT.
        jit_compile: compile the gradient step with XLA. "auto" (default) does so on a
            single device and not under a `strategy`.
        batch_split: on one device, split each batch into this many slices whose
            gradients run at the same time on different CPU cores, summed, one
            update: the same step as the whole batch, up to float rounding. "timed"
            (default), on a multi-core CPU with XLA, times the whole step against
            2 slices' on the first batch (compiling both: a second or so more) and
            on a batch of the same shape 50 steps later, and keeps 2 only if they are
            at least 5% faster (`split_measurement` holds the times); else 1. The
            choice can differ between runs, and so can float rounding: pass an int,
            or enable TensorFlow's op determinism, for identical runs (see
            `rnn_tf.bptt.scale`). Not the layer's `VanillaRNN(batch_split="auto")`,
            a fixed rule for plain graphs (benchmarks/README.md).
        check_inputs: check shapes, finiteness and label range of every input form
            before training (a `tf.data.Dataset` is read once for this).
        on_non_finite: "raise" (stop with `NonFiniteLossError` naming the step) or
            "skip" (drop that update and go on). Either way a step whose loss,
            gradient or update is not finite leaves weights and optimizer untouched.
        verbose: 1 shows a `keras.utils.Progbar` per epoch, 0 is silent.
        strategy: a `tf.distribute` strategy (e.g. `MirroredStrategy`); build the
            model under `strategy.scope()`. The batch size is the global one.
            Not combined with `truncate`.
        checkpoint_dir: if set, save model, optimizer and position there (3 kept)
            and resume from the newest readable checkpoint when `fit` starts the
            same run again (see `rnn_tf.bptt.checkpoints`).
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
        *,
        loss: str | Callable = "sparse_categorical_crossentropy",
        from_logits: bool = False,
        optimizer: keras.optimizers.Optimizer | None = None,
        learning_rate: float = 0.01,
        time_reduction: str = "sum",
        clip_value: float | None = None,
        clip_norm: float | None = None,
        truncate: int | None = None,
        jit_compile: bool | str = "auto",
        batch_split: int | str = "timed",
        check_inputs: bool = True,
        on_non_finite: str = "raise",
        verbose: int = 1,
        strategy: tf.distribute.Strategy | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
    ):
        check_choice(time_reduction, _TIME_REDUCTIONS, "time_reduction")
        check_choice(on_non_finite, non_finite.POLICIES, "on_non_finite")
        check_choice(jit_compile, (True, False, "auto"), "jit_compile")
        check_choice(verbose, (0, 1, 2), "verbose")
        if optimizer is None:
            check_number(learning_rate, "learning_rate", low=0, low_open=True)
        for name, value in (("clip_value", clip_value), ("clip_norm", clip_norm)):
            if value is not None:
                check_number(value, name, low=0, low_open=True)
        for name, value in (("truncate", truncate), ("checkpoint_every", checkpoint_every)):
            if value is not None:
                check_positive_int(value, name)
        batch_split = _check_batch_split(batch_split)
        if strategy is not None and truncate is not None:
            raise ValueError(
                "Arguments `truncate` and `strategy` cannot be combined: truncated BPTT "
                "carries per-sequence states between chunks on one device"
            )
        if strategy is not None and batch_split not in ("timed", 1):
            raise ValueError(
                "Arguments `batch_split` > 1 and `strategy` cannot be combined: the "
                f"strategy already splits the batch; received batch_split={batch_split}"
            )
        if isinstance(loss, str):
            check_choice(loss, tuple(sorted(_LOSSES)), "loss")
            self.loss_name, self._elementwise_loss = loss, _LOSSES[loss]
        elif callable(loss):
            self.loss_name, self._elementwise_loss = getattr(loss, "__name__", "custom"), loss
        else:
            raise ValueError(f"Argument `loss` must be a string or a callable; received {loss!r}")
        if not isinstance(model, keras.Model) and not hasattr(model, "state_size"):
            raise ValueError(
                "Argument `model` must be a keras.Model or an RNN cell; "
                f"received {type(model).__name__}"
            )
        # A bare cell is wrapped once the input size is known (in fit).
        self._bare_cell = None if isinstance(model, keras.Model) else model
        self.model = model if self._bare_cell is None else None
        self.strategy = strategy or tf.distribute.get_strategy()
        self.distributed = strategy is not None
        if optimizer is None:
            with self.strategy.scope():
                optimizer = keras.optimizers.SGD(learning_rate=learning_rate)
        self.optimizer = optimizer
        self.from_logits = from_logits
        self.time_reduction = time_reduction
        self.clip_value, self.clip_norm = clip_value, clip_norm
        self.truncate = truncate
        self.jit_compile = (strategy is None) if jit_compile == "auto" else jit_compile
        self.batch_split = batch_split
        self.check_inputs = check_inputs
        self.on_non_finite = on_non_finite
        self.verbose = verbose
        self.checkpoint_dir, self.checkpoint_every = checkpoint_dir, checkpoint_every
        self.steps_done = 0
        self.history = TrainingHistory()
        self._training_step: TrainingStep | None = None  # the step's pieces, once the model exists
        self._step = None  # gradient + update, built on first use
        self._whole_step = None  # the single-device step (also used by batch slices)
        self._eval_step = None

    # --- the model ---------------------------------------------------------------

    def _ensure_model(self, x) -> None:
        if self.model is None:
            if len(x.shape) != 3:
                raise ValueError(
                    "A bare RNN cell needs `x` of shape (batch, timesteps, features); "
                    "token ids need a model with an Embedding layer"
                )
            self.model = state_passing_model(self._bare_cell, int(x.shape[-1]))
        if self.truncate is not None and not self.passes_state:
            raise ValueError(
                "Argument `truncate` needs a model that takes and returns its hidden states "
                "(inputs [x, *h_0], outputs [y, *h_T]); build it with "
                "rnn_tf.bptt.state_passing_model(layer, input_dim)"
            )

    @property
    def passes_state(self) -> bool:
        return passes_state(self.model)

    @property
    def parts(self) -> int:
        """Slices per batch: `batch_split` resolved once the model exists, and for "auto"
        the 2 it tries until its first timing decides."""
        return getattr(self._step, "parts", 1)

    @property
    def split_measurement(self) -> dict | None:
        """What `batch_split="auto"` timed, or None if it timed nothing.

        Keys: "whole_ms" and "split_ms" (the fastest gradient of the whole batch and of
        its slices, up to the update), "slices_tried", "slices_kept", "sessions" (1 after
        the first batch, 2 after the second timing) and "batch_shape" (the batch timed).
        """
        measurement = getattr(self._step, "measurement", None)
        return None if measurement is None else dict(measurement)

    def tracing_counts(self) -> dict[str, int]:
        """How many graphs each compiled training function has traced so far.

        One per batch shape is expected (a last, smaller batch adds one); a count that
        grows with every batch means retracing, which costs a compilation each time.
        Keys: "whole_step", and with batch slices "slice_gradient" and "split_step".
        """
        if self._step is None or self.distributed:
            return {}
        counts = {"whole_step": self._whole_step.experimental_get_tracing_count()}
        if isinstance(self._step, scale.SlicedStep):
            counts.update(self._step.tracing_counts())
        return counts

    def _build_steps(self) -> None:
        with self.strategy.scope():
            self.optimizer.build(self.model.trainable_variables)
        pieces = self._training_step = TrainingStep(self)
        self._eval_step = tf.function(pieces.evaluate, reduce_retracing=True)
        if self.distributed:
            self._step = scale.distributed_step(pieces, self.strategy, self.jit_compile)
            return
        # Gradient, finiteness check and update as ONE compiled call: no host round
        # trip, and with XLA the update fuses with the gradient computation.
        self._whole_step = tf.function(
            pieces.train, reduce_retracing=True, jit_compile=self.jit_compile
        )
        parts = scale.resolve_parts(self.batch_split, self.model, jit_compile=self.jit_compile)
        self._step = self._whole_step
        if parts > 1:
            explicit = self.batch_split != "timed"
            self._step = scale.SlicedStep(pieces, self._whole_step, parts, explicit=explicit)

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
        for start in range(0, x.shape[1], self.truncate):
            stop = start + self.truncate
            yield x[:, start:stop], y[:, start:stop], None if mask is None else mask[:, start:stop]

    def _prepare(self, x) -> None:
        """Wrap a bare cell, check the model suits the settings, build the steps."""
        if isinstance(x, tf.data.Dataset):
            x = inputs.unpack(x.element_spec)[0]  # a TensorSpec: shape and dtype
        elif not tf.is_tensor(x):
            x = np.asarray(x)
        if not self.distributed:
            self._ensure_model(x)
        if self._step is None:
            self._build_steps()

    def train_on_batch(self, x, y, mask=None) -> dict[str, float]:
        """One optimizer update per chunk of the batch; returns loss and gradient norms."""
        self._prepare(x)
        if not self.distributed:
            x = tf.convert_to_tensor(x)
        states: list = []
        losses, norms, hits_total, count_total = [], [], 0.0, 0.0
        for x_chunk, y_chunk, m_chunk in self._chunks(x, y, mask):
            loss, norm, applied, hits, count, states = self._step(x_chunk, y_chunk, m_chunk, states)
            self.steps_done += 1
            if not bool(applied):
                if self.on_non_finite == "raise":
                    message = non_finite.error_message(self.steps_done, float(loss), float(norm))
                    raise NonFiniteLossError(message)
                self.history.skipped_steps.append(self.steps_done)
                continue
            losses.append(float(loss))
            norms.append(float(norm))
            hits_total += float(hits)
            count_total += float(count)
        # With time_reduction="sum" the chunks' losses add up to the sequence's L.
        add_up = self.truncate and self.time_reduction == "sum" and losses
        return {
            "loss": float(np.sum(losses)) if add_up else float(np.mean(losses or [np.nan])),
            "grad_norm": float(np.mean(norms)) if norms else float("nan"),
            "grad_norm_max": float(np.max(norms)) if norms else float("nan"),
            "hits": hits_total,
            "count": count_total,
        }

    def evaluate(self, x, y=None, *, mask=None, batch_size: int = 256) -> dict[str, float]:
        """Loss and accuracy (sparse cross-entropy only) without updating the weights."""
        self._prepare(x)
        dataset = inputs.make_dataset(x, y, mask, batch_size=batch_size, shuffle=False, seed=None)
        total, sequences, hits_total, count_total = 0.0, 0, 0.0, 0.0
        for batch in dataset:
            xb, yb, mb = inputs.unpack(batch)
            states = self._training_step.states_or_initial(xb, [])
            batch_loss = 0.0
            for x_chunk, y_chunk, m_chunk in self._chunks(xb, yb, mb):
                loss, hits, count, states = self._eval_step(x_chunk, y_chunk, m_chunk, states)
                batch_loss += float(loss)
                hits_total += float(hits)
                count_total += float(count)
            total += batch_loss * int(xb.shape[0])
            sequences += int(xb.shape[0])
        logs = {"loss": total / max(sequences, 1)}
        if count_total:
            logs["accuracy"] = hits_total / count_total
        return logs

    # --- the loop over epochs ------------------------------------------------------------

    def _check_fit_inputs(self, x, y, mask, validation_data) -> None:
        expect = inputs.Expectations.of(self.model, self.loss_name)
        if isinstance(x, tf.data.Dataset):
            if self.check_inputs:
                inputs.check_dataset(x, expect)
            else:
                inputs.unpack(x.element_spec)  # the structure, at least
        elif self.check_inputs:
            inputs.check_arrays(x, y, mask, expect)
        if validation_data is not None:
            inputs.check_validation_data(validation_data, expect)

    def _open_checkpoints(self, x, batch_size):
        """The run's checkpoints, and where the run stands (restored if resumable)."""
        if self.checkpoint_dir is None:
            return None, checkpoints.Position()
        key = checkpoints.run_key(model=self.model, optimizer=self.optimizer,
                                  loss_name=self.loss_name, batch_size=batch_size, x=x)
        saving = checkpoints.RunCheckpoints(
            self.checkpoint_dir, model=self.model, optimizer=self.optimizer, key=key
        )
        return saving, saving.resume(log=print if self.verbose else _silent)

    def fit(
        self,
        x,
        y=None,
        *,
        epochs: int = 1,
        batch_size: int = 32,
        mask=None,
        validation_data=None,
        shuffle: bool = True,
        seed: int | None = 0,
        callbacks: list[keras.callbacks.Callback] | None = None,
    ) -> TrainingHistory:
        """Train for `epochs` passes over (x, y); returns the per-epoch `TrainingHistory`.

        Args:
            x: (N, T, features) floats or (N, T) token ids; or a `tf.data.Dataset`
                yielding (x, y) or (x, y, mask) batches.
            y: targets, (N, T) class ids (or (N,) for many-to-one), or floats for "mse".
            epochs: passes over the data.
            batch_size: sequences per update (the global batch under a strategy).
            mask: optional (N, T) 0/1 weights; 0 marks padded steps that add no loss.
            validation_data: optional (x_val, y_val), (x_val, y_val, mask_val) or a
                dataset of such batches, evaluated after every epoch.
            shuffle: reshuffle the sequences every epoch (seeded per epoch, so a
                resumed run sees the same order as an uninterrupted one).
            seed: shuffle seed.
            callbacks: Keras callbacks (`keras.callbacks.EarlyStopping`, `CSVLogger`,
                `ModelCheckpoint`, `TensorBoard`, `LambdaCallback`, ...), called with
                the usual hooks and logs ("loss", "accuracy", "val_loss", ...); one
                that sets `model.stop_training` ends the run after the current batch.

        Returns:
            `TrainingHistory` (a `keras.callbacks.History`) with loss, accuracy,
            gradient norms (mean and max over the epoch's updates, before clipping),
            seconds, and validation numbers. A resumed run's history holds the epochs
            it ran.
        """
        check_positive_int(epochs, "epochs")
        check_positive_int(batch_size, "batch_size")
        if not isinstance(x, tf.data.Dataset) and y is None:
            raise ValueError("Argument `y` is required when `x` is an array")
        self._prepare(x)
        self._check_fit_inputs(x, y, mask, validation_data)
        saving, position = self._open_checkpoints(x, batch_size)
        self.steps_done = position.steps_done
        self.history = TrainingHistory()
        batches = inputs.make_dataset(x, y, mask, batch_size=batch_size, shuffle=False, seed=None)
        steps = int(batches.cardinality()) if int(batches.cardinality()) > 0 else None
        with self._optimizer_lent_to_model():
            hooks = callback_list(callbacks, self.history, model=self.model, epochs=epochs,
                                  verbose=self.verbose, steps=steps)
            self.model.stop_training = False
            hooks.on_train_begin()
            logs = {}
            for epoch in range(position.epoch, epochs):
                start = time.perf_counter()
                skip = position.batch if epoch == position.epoch else 0
                epoch_seed = None if seed is None else seed + epoch
                dataset = inputs.make_dataset(
                    x, y, mask, batch_size=batch_size, shuffle=shuffle, seed=epoch_seed
                )
                hooks.on_epoch_begin(epoch)
                if self.verbose:
                    print(f"Epoch {epoch + 1}/{epochs}")
                logs = self._run_epoch(dataset, steps, epoch, skip, hooks, saving)
                if validation_data is not None:
                    logs.update({f"val_{k}": v for k, v in self._validate(validation_data).items()})
                logs["seconds"] = time.perf_counter() - start
                hooks.on_epoch_end(epoch, logs)
                if saving is not None:
                    finished = epoch + 1 == epochs or self.model.stop_training
                    saving.save(checkpoints.Position(epoch + 1, 0, self.steps_done, finished))
                if self.model.stop_training:
                    break
            hooks.on_train_end(logs)
            return self.history

    @contextlib.contextmanager
    def _optimizer_lent_to_model(self):
        """Callbacks such as TensorBoard and LearningRateScheduler read `model.optimizer`.

        The trainer lends its optimizer for the run only, so that a model trained again by
        another trainer (and its checkpoints) never sees this one's optimizer.
        """
        had_attribute = hasattr(self.model, "optimizer")
        lend = getattr(self.model, "optimizer", None) is None
        if lend:
            self.model.optimizer = self.optimizer
        try:
            yield
        finally:
            if lend and had_attribute:
                self.model.optimizer = None
            elif lend:
                # Keras tracks even a None attribute as a checkpoint child: remove it.
                del self.model.optimizer

    def _run_epoch(self, dataset, steps, epoch, skip, hooks, saving) -> dict[str, float]:
        if skip:
            dataset = dataset.skip(skip)
        if self.distributed:
            dataset = self.strategy.experimental_distribute_dataset(dataset)
        progbar = keras.utils.Progbar(
            steps, verbose=self.verbose, stateful_metrics=["loss", "accuracy"]
        )
        losses, norms, norm_max, hits, count = [], [], 0.0, 0.0, 0.0
        logs = {"loss": float("nan")}
        for i, batch in enumerate(dataset, start=skip):
            hooks.on_train_batch_begin(i)
            step_logs = self.train_on_batch(*inputs.unpack(batch))
            if not math.isnan(step_logs["loss"]):
                losses.append(step_logs["loss"])
                norms.append(step_logs["grad_norm"])
                norm_max = max(norm_max, step_logs["grad_norm_max"])
            hits += step_logs["hits"]
            count += step_logs["count"]
            logs = {"loss": float(np.mean(losses)) if losses else float("nan")}
            if count:
                logs["accuracy"] = hits / count
            progbar.update(i + 1, values=list(logs.items()))
            hooks.on_train_batch_end(i, dict(logs))
            every = self.checkpoint_every
            if saving is not None and every and (i + 1) % every == 0:
                saving.save(checkpoints.Position(epoch, i + 1, self.steps_done))
            if self.model.stop_training:
                break
        logs["grad_norm"] = float(np.mean(norms)) if norms else float("nan")
        logs["grad_norm_max"] = norm_max
        return logs

    def _validate(self, validation_data) -> dict[str, float]:
        if isinstance(validation_data, tf.data.Dataset):
            return self.evaluate(validation_data)
        x, y, *mask = validation_data
        return self.evaluate(x, y, mask=mask[0] if mask else None)


class TrainingStep:
    """The pieces of one training step on `trainer`'s model, loss, clipping and optimizer.

    `BPTTTrainer` compiles `train` (and `evaluate`); `rnn_tf.bptt.scale` builds its
    sliced and distributed steps from `summed_gradient`, `gradient`, `clip`, `apply`,
    `apply_if_finite` and `guarded_variables`, so that every way of running a step
    computes the same loss, gradient and guarded update.
    """

    def __init__(self, trainer: BPTTTrainer):
        self.model = trainer.model
        self.optimizer = trainer.optimizer
        self._loss_name, self._elementwise_loss = trainer.loss_name, trainer._elementwise_loss
        self._from_logits, self._time_reduction = trainer.from_logits, trainer.time_reduction
        self._clip_value, self._clip_norm = trainer.clip_value, trainer.clip_norm
        self._passes_state = trainer.passes_state

    # --- forward and loss: L = sum_t L_t ------------------------------------------------

    def states_or_initial(self, x, states) -> list:
        """`states`, or zeros for a state-passing model called without any."""
        if self._passes_state and not states:
            return [
                tf.zeros((tf.shape(x)[0], spec.shape[-1]), dtype=spec.dtype)
                for spec in self.model.inputs[1:]
            ]
        return states

    def _forward(self, x, states, training):
        states = self.states_or_initial(x, states)
        if states:
            y_pred, *new_states = self.model([x, *states], training=training)
            return y_pred, new_states
        return self.model(x, training=training), []

    def _loss_sum(self, y, y_pred, mask):
        """sum_t L_t over the batch (masked), what `time_reduction` divides it by, weights."""
        if self._loss_name in _CROSS_ENTROPIES:
            per_step = self._elementwise_loss(y, y_pred, from_logits=self._from_logits)
        else:
            per_step = self._elementwise_loss(y, y_pred)
        per_step = tf.cast(per_step, tf.float32)
        if per_step.shape.rank == 1:  # many-to-one: one "step" per sequence
            per_step = per_step[:, None]
        weights = tf.ones_like(per_step) if mask is None else tf.cast(mask, tf.float32)
        total = tf.reduce_sum(per_step * weights)
        if self._time_reduction == "sum":
            denominator = tf.cast(tf.shape(per_step)[0], tf.float32)  # sequences
        else:
            denominator = tf.reduce_sum(weights)  # unmasked steps
        return total, denominator, weights

    def _accuracy_counts(self, y, y_pred, weights):
        if self._loss_name != "sparse_categorical_crossentropy":
            return tf.constant(0.0), tf.constant(0.0)
        predicted = tf.cast(tf.argmax(y_pred, axis=-1), tf.int64)
        hits = tf.cast(tf.equal(predicted, tf.cast(y, tf.int64)), tf.float32)
        if hits.shape.rank == 1:
            hits = hits[:, None]
        return tf.reduce_sum(hits * weights), tf.reduce_sum(weights)

    def evaluate(self, x, y, mask, states):
        """Loss, accuracy counts and h_T without training."""
        y_pred, new_states = self._forward(x, states, training=False)
        total, denominator, weights = self._loss_sum(y, y_pred, mask)
        hits, count = self._accuracy_counts(y, y_pred, weights)
        return total / tf.maximum(denominator, 1.0), hits, count, new_states

    # --- gradient, clipping, update -------------------------------------------------------

    def _tape_gradient(self, tape, target) -> list[tf.Tensor]:
        """dtarget/dvariables, zeros where a variable got none (the update needs one each)."""
        variables = self.model.trainable_variables
        grads = tape.gradient(target, variables)
        return [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                for g, v in zip(grads, variables)]

    def gradient(self, x, y, mask, states):
        """Loss, clipped gradients and their norm before clipping, accuracy counts, h_T.

        Under a strategy, one replica's share, divided by the global count and summed over
        replicas, so that norms and clipping see the single-device numbers.
        """
        replica = tf.distribute.get_replica_context()
        with tf.GradientTape() as tape:
            y_pred, new_states = self._forward(x, states, training=True)
            total, denominator, weights = self._loss_sum(y, y_pred, mask)
            denominator = replica.all_reduce(tf.distribute.ReduceOp.SUM, denominator)
            loss = total / tf.maximum(denominator, 1.0)
            if self.model.losses:  # regularizers, add_loss
                added = tf.add_n([tf.cast(r, tf.float32) for r in self.model.losses])
                loss = loss + added / replica.num_replicas_in_sync
        grads = replica.all_reduce(tf.distribute.ReduceOp.SUM, self._tape_gradient(tape, loss))
        grads, norm = self.clip(grads)
        hits, count = self._accuracy_counts(y, y_pred, weights)
        return loss, grads, norm, hits, count, [tf.stop_gradient(s) for s in new_states]

    def summed_gradient(self, x, y, mask, states):
        """One batch slice's share: its summed loss, what `time_reduction` would divide it
        by, the gradient of the sum (unclipped), accuracy counts and h_T; None when the
        model adds losses (regularizers, add_loss), which count once per batch."""
        with tf.GradientTape() as tape:
            y_pred, new_states = self._forward(x, states, training=True)
            total, denominator, weights = self._loss_sum(y, y_pred, mask)
        if self.model.losses:
            return None
        grads = self._tape_gradient(tape, total)
        hits, count = self._accuracy_counts(y, y_pred, weights)
        return total, denominator, grads, hits, count, [tf.stop_gradient(s) for s in new_states]

    def clip(self, grads):
        """The gradients clipped as asked, and their global norm before clipping."""
        norm = tf.linalg.global_norm(grads)
        if self._clip_value is not None:
            grads = [tf.clip_by_value(g, -self._clip_value, self._clip_value) for g in grads]
        if self._clip_norm is not None:
            grads, _ = tf.clip_by_global_norm(grads, self._clip_norm)
        return grads, norm

    def apply(self, grads) -> None:
        """The optimizer's update (per replica: Keras sums over replicas itself, and these
        gradients are already summed, so each replica applies its share)."""
        share = tf.distribute.get_replica_context().num_replicas_in_sync
        self.optimizer.apply([g / share for g in grads], self.model.trainable_variables)

    def guarded_variables(self) -> list:
        """What a non-finite update must not reach: the weights and the optimizer state."""
        return list(self.model.trainable_variables) + list(self.optimizer.variables)

    def apply_if_finite(self, loss, norm, grads):
        """`apply` inside the graph, undone if anything turns non-finite (`non_finite`)."""
        return non_finite.apply_if_finite(loss, norm, grads, self.apply, self.guarded_variables())

    def train(self, x, y, mask, states):
        """The whole step: loss, norm, whether the update was kept, counts, h_T."""
        loss, grads, norm, hits, count, new_states = self.gradient(x, y, mask, states)
        applied = self.apply_if_finite(loss, norm, grads)
        return loss, norm, applied, hits, count, new_states


def _silent(message: str) -> None:
    del message
