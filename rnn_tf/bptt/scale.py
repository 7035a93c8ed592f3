"""Running the trainer's step on more hardware: batch slices on several CPU cores,
and `tf.distribute` strategies.

Both are built from the trainer's `TrainingStep` (its `summed_gradient`,
`gradient`, `clip`, `apply`, `apply_if_finite`) and compute the same step as the
single-device one, up to float rounding: the gradient of the whole batch, clipped,
applied once.

Whether slices are faster depends on the CPU (vendor, cache, vector width) and on
the model's size, so `BPTTTrainer(batch_split="timed")` does not guess: it times both
steps (without applying them) and keeps the slices only if they are clearly faster.
"""

from __future__ import annotations

import math
import os
import time
from functools import partial
from typing import Any, Callable

import keras
import tensorflow as tf

from rnn_tf.bptt import fused, non_finite

# Layer attributes whose positive value means the layer draws random numbers in training.
_RANDOM_RATES = ("rate", "dropout", "recurrent_dropout", "stddev")


def batch_coupling(model) -> str | None:
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


# Slices must beat the whole batch by this factor to be kept: near a tie the whole
# batch, the simple path, wins, which makes a choice that flips with noise (and so
# changes float rounding from run to run) rarer; it cannot rule it out.
SPLIT_MARGIN = 0.95
# Timing rounds of a timing session, and the time after which it stops early.
MEASURE_ROUNDS = 10
MEASURE_BUDGET_S = 1.0
# Untimed calls of each before the rounds: the first traces and compiles, the next
# still run slower (caches, thread pools waking up).
MEASURE_WARMUP = 2
# Steps (of batches with enough rows) between the first measurement and the second:
# one measurement can fall in a moment when another process holds a core, which
# makes slices look no faster; the fastest time of the two sessions decides.
REMEASURE_AFTER = 50


def resolve_parts(batch_split, model, *, jit_compile: bool) -> int:
    """How many slices `batch_split` ("timed" or an int) means for this model here.

    For "timed" this is the candidate: 2 where slices can run on different cores
    (a multi-core CPU, XLA), else 1. `SlicedStep` then measures whether it pays.
    """
    if batch_split != "timed":
        coupling = batch_coupling(model) if batch_split > 1 else None
        if coupling:
            raise ValueError(
                f"Argument `batch_split` must be 1 for this model: {coupling}, so its "
                f"slices' steps do not add up to the batch's; received "
                f"batch_split={batch_split} (\"timed\" picks 1 here)"
            )
        return batch_split
    if not (jit_compile and fused.cores_for_slices()):
        return 1
    return 1 if batch_coupling(model) else 2


def op_determinism_enabled() -> bool:
    """Whether `tf.config.experimental.enable_op_determinism()` is in force.

    TensorFlow has no public getter: its own private one, else the environment
    variable older versions read.
    """
    try:
        from tensorflow.python.framework import config

        return bool(config.is_op_determinism_enabled())
    except (ImportError, AttributeError):
        return os.environ.get("TF_DETERMINISTIC_OPS", "").lower() in ("1", "true")


def fastest_times(calls: dict[str, Callable[[], Any]], *, rounds: int = MEASURE_ROUNDS,
                  budget_s: float = MEASURE_BUDGET_S,
                  warmup: int = MEASURE_WARMUP) -> dict[str, float]:
    """The fastest of `rounds` timings, in seconds, of each call, taken in turn.

    Each call is first made `warmup` times untimed (tracing, compiling) and must
    return a tensor whose value is only known when its work is done. Interleaved
    rounds share the machine's slow and fast moments; the minimum is the estimate
    least touched by other work. Stops after the round that passes `budget_s`.
    """
    for call in calls.values():
        for _ in range(warmup):
            call().numpy()
    fastest = dict.fromkeys(calls, math.inf)
    start = time.perf_counter()
    for _ in range(rounds):
        for name, call in calls.items():
            began = time.perf_counter()
            call().numpy()
            fastest[name] = min(fastest[name], time.perf_counter() - began)
        if time.perf_counter() - start > budget_s:
            break
    return fastest


def split_pays(whole_s: float, split_s: float) -> bool:
    """Whether slices taking `split_s` beat the whole batch's `whole_s` clearly enough."""
    return split_s < SPLIT_MARGIN * whole_s


class _SplitUnsupported(Exception):
    """Raised while tracing the split step when the model adds losses of its own."""

    reason = "the model adds losses (regularizers or add_loss) that count once per batch"


class SlicedStep:
    """Gradients of `parts` slices of the batch at once, summed, one update.

    Each slice's gradient is its own XLA computation; called side by side from a
    plain graph, TensorFlow runs them on different cores (one XLA computation runs
    its time loop on one core). The losses are sums here and divided by the whole
    batch's count at the end, so the step equals the unsplit one. A batch with
    fewer rows than slices, or a model found to add losses while tracing (when
    `batch_split="timed"`), runs `whole_step` instead.

    When `batch_split="timed"` chose the slices, timing decides whether they stay.
    On the first batch with enough rows, and again on the first batch of the same
    shape at least `REMEASURE_AFTER` steps later, both steps are timed on that batch
    up to the update, which is left out (`fastest_times`): the whole batch's
    gradient and clipping as one XLA computation, and the slices' gradients, their
    sum and clipping. The slices are kept only if `split_pays` for the fastest times
    of the sessions so far; `measurement` holds them in ms. The first session costs
    the compilation of the whole-batch computation and a few steps' time (the
    budget is `MEASURE_BUDGET_S`), the second a few steps'. With TensorFlow's op
    determinism enabled nothing is timed and the slices are kept: the same path on
    every run.
    """

    def __init__(self, step, whole_step, parts: int, *, explicit: bool):
        """`step`: the trainer's `TrainingStep`; `whole_step`: its compiled `train`."""
        self.parts = parts
        self.slices_tried = parts
        self.measurement: dict | None = None
        self._step = step
        self._whole_step = whole_step
        self._explicit = explicit
        self._steps_since_measured = 0
        self._timed_shape: tuple | None = None
        self._slice_gradient = tf.function(
            self._gradient_of_slice, reduce_retracing=True, jit_compile=True
        )
        self._update_step = tf.function(self._update, reduce_retracing=True, jit_compile=True)
        self._split_step = tf.function(self._sliced_train, reduce_retracing=True)
        # The two steps without their update, for timing; the whole one is the
        # trainer's own gradient step, compiled as `whole_step` compiles it.
        self._whole_unapplied = tf.function(step.gradient, reduce_retracing=True, jit_compile=True)
        self._combine = tf.function(self._combined, reduce_retracing=True, jit_compile=True)
        self._split_unapplied = tf.function(self._split_norm, reduce_retracing=True)

    def tracing_counts(self) -> dict[str, int]:
        """Graphs traced by the slices' gradient and by the split step around them."""
        return {"slice_gradient": self._slice_gradient.experimental_get_tracing_count(),
                "split_step": self._split_step.experimental_get_tracing_count()}

    def _gradient_of_slice(self, x, y, mask, states):
        result = self._step.summed_gradient(x, y, mask, states)
        if result is None:
            raise _SplitUnsupported(_SplitUnsupported.reason)
        return result

    def _combined(self, totals, denominators, slice_grads):
        """The batch's loss, and its gradients (the slices' summed) clipped, and their norm."""
        denominator = tf.maximum(tf.add_n(denominators), 1.0)
        loss = tf.add_n(totals) / denominator
        grads = [tf.add_n(list(gs)) / denominator for gs in zip(*slice_grads)]
        grads, norm = self._step.clip(grads)
        return loss, grads, norm

    def _update(self, totals, denominators, slice_grads):
        loss, grads, norm = self._combined(totals, denominators, slice_grads)
        return loss, norm, self._step.apply_if_finite(loss, norm, grads)

    def _split_norm(self, x, y, mask, states):
        """The split step up to its update: the slices' gradients, summed and clipped."""
        totals, denominators, grads, *_ = zip(*self._slice_results(x, y, mask, states))
        return self._combine(list(totals), list(denominators), list(grads))[2]

    def _slice_results(self, x, y, mask, states):
        """The gradient of every slice, side by side in one graph."""
        parts = self.slices_tried
        batch = tf.shape(x)[0]
        sizes = fused.slice_sizes(batch, parts)

        def split(tensor):
            return [None] * parts if tensor is None else tf.split(tensor, sizes, num=parts)

        slice_states = list(zip(*[split(s) for s in states])) or [[]] * parts
        return [
            self._slice_gradient(*args, list(st))
            for *args, st in zip(split(x), split(y), split(mask), slice_states)
        ]

    def _sliced_train(self, x, y, mask, states):
        results = self._slice_results(x, y, mask, states)
        totals, denominators, grads, hits, counts, new_states = zip(*results)
        loss, norm, applied = self._update_step(list(totals), list(denominators), list(grads))
        new_states = [tf.concat(list(s), axis=0) for s in zip(*new_states)]
        return loss, norm, applied, tf.add_n(list(hits)), tf.add_n(list(counts)), new_states

    @staticmethod
    def _shape(x, states) -> tuple:
        return tuple(x.shape), tuple(tuple(s.shape) for s in states)

    def _measurement_due(self, x, states) -> bool:
        if self._explicit or op_determinism_enabled():
            return False
        if self.measurement is None:
            return True
        # Only a batch of the first one's shape is timed again: times of two shapes do not
        # compare.
        return (self.measurement["sessions"] == 1 and self._shape(x, states) == self._timed_shape
                and self._steps_since_measured >= REMEASURE_AFTER)

    def _measure(self, x, y, mask, states) -> None:
        """Time the whole step against the split one on this batch; keep the clearly faster."""
        states = list(states)
        times = fastest_times(
            {
                "whole": lambda: self._whole_unapplied(x, y, mask, states)[2],
                "split": lambda: self._split_unapplied(x, y, mask, states),
            },
            # Compiled by the first session; one call warms the caches.
            warmup=MEASURE_WARMUP if self.measurement is None else 1,
        )
        before = self.measurement or {"whole_ms": math.inf, "split_ms": math.inf, "sessions": 0}
        whole_ms = min(before["whole_ms"], times["whole"] * 1e3)
        split_ms = min(before["split_ms"], times["split"] * 1e3)
        self.parts = self.slices_tried if split_pays(whole_ms, split_ms) else 1
        self.measurement = {
            "whole_ms": whole_ms,
            "split_ms": split_ms,
            "slices_tried": self.slices_tried,
            "slices_kept": self.parts,
            "sessions": before["sessions"] + 1,
            "batch_shape": list(x.shape),
        }
        self._timed_shape = self._shape(x, states)
        self._steps_since_measured = 0

    def __call__(self, x, y, mask, states):
        if self.slices_tried == 1 or (x.shape[0] or 0) < self.slices_tried:
            return self._whole_step(x, y, mask, states)
        try:
            self._steps_since_measured += 1
            if self._measurement_due(x, states):
                self._measure(x, y, mask, states)
            if self.parts == 1:
                return self._whole_step(x, y, mask, states)
            return self._split_step(x, y, mask, states)
        except _SplitUnsupported:
            # Found while tracing, before anything ran: train unsplit from now on.
            if self._explicit:
                raise ValueError(
                    f"Argument `batch_split` must be 1 for this model: "
                    f"{_SplitUnsupported.reason}; received batch_split={self.parts}"
                ) from None
            self.parts = self.slices_tried = 1
            return self._whole_step(x, y, mask, states)


def distributed_step(step, strategy, jit_compile: bool):
    """The step under `strategy`: per-replica gradients, summed, one update.

    `step` is the trainer's `TrainingStep`. The replicas' gradients meet on the host, so
    the finiteness checks and the update are calls of their own around the compiled
    gradient step.
    """
    gradient = tf.function(step.gradient, reduce_retracing=True, jit_compile=jit_compile)
    apply = tf.function(step.apply, reduce_retracing=True)
    total = partial(strategy.reduce, tf.distribute.ReduceOp.SUM, axis=None)
    same = partial(strategy.reduce, tf.distribute.ReduceOp.MEAN, axis=None)  # equal anyway

    def distributed(x, y, mask, states):
        results = strategy.run(gradient, args=(x, y, mask, states))
        loss, grads, norm, hits, count, new_states = results
        loss, norm = total(loss), same(norm)
        applied = False
        if non_finite.is_finite(float(loss)) and non_finite.is_finite(float(norm)):
            guarded = step.guarded_variables()
            before = non_finite.snapshot(guarded)
            strategy.run(apply, args=(grads,))
            applied = non_finite.keep_if_finite(guarded, before)
        return loss, norm, tf.constant(applied), total(hits), total(count), new_states

    return distributed
