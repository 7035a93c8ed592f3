"""What a training step does when numbers stop being finite.

A step's update is applied only when the loss and the gradient norm are finite, and
kept only when every weight and optimizer slot it wrote is finite afterwards: an
update that overflows (a huge learning rate, Adam's moments blowing up) is undone
inside the same compiled call, so no NaN or Inf ever reaches the weights. The
trainer then raises `NonFiniteLossError` or skips the step (`on_non_finite`).
"""

from __future__ import annotations

import tensorflow as tf

POLICIES = ("raise", "skip")


class NonFiniteLossError(FloatingPointError):
    """Raised when a training step produced a NaN/Inf loss, gradient or update."""


def _all_finite(variables) -> tf.Tensor:
    checks = [
        tf.reduce_all(tf.math.is_finite(tf.identity(v)))
        for v in variables
        if tf.as_dtype(v.dtype).is_floating
    ]
    return tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)


def apply_if_finite(loss, norm, grads, apply_step, guarded_variables) -> tf.Tensor:
    """Apply `apply_step(grads)` inside the graph unless something is not finite.

    Returns a boolean tensor: True when the update was applied and kept. When the
    loss or the norm is not finite nothing runs; when the update left a non-finite
    value in `guarded_variables` (weights and optimizer state), all of them get
    their values from before the step back.
    """

    def update():
        # Reads and writes of a variable run in program order inside tf.function.
        before = [tf.identity(v) for v in guarded_variables]
        apply_step(grads)

        def restore():
            for variable, value in zip(guarded_variables, before):
                variable.assign(value)
            return tf.constant(False)

        return tf.cond(_all_finite(guarded_variables), lambda: tf.constant(True), restore)

    inputs_finite = tf.math.logical_and(tf.math.is_finite(loss), tf.math.is_finite(norm))
    return tf.cond(inputs_finite, update, lambda: tf.constant(False))


def snapshot(variables) -> list[tf.Tensor]:
    """Copies of `variables` (eager, in cross-replica context under a strategy)."""
    return [tf.identity(v) for v in variables]


def keep_if_finite(variables, before) -> bool:
    """The eager twin of `apply_if_finite`'s check, for an update already applied."""
    if bool(_all_finite(variables)):
        return True
    for variable, value in zip(variables, before):
        variable.assign(value)
    return False


def error_message(step: int, loss: float, norm: float) -> str:
    """The message of `NonFiniteLossError` for training step `step` (counted from 1)."""
    cause = (
        f"loss ({loss}) or gradient norm ({norm})"
        if not (is_finite(loss) and is_finite(norm))
        else f"update (loss {loss} and gradient norm {norm} were finite, the new weights not)"
    )
    return (
        f"Non-finite {cause} at training step {step}; the update was not applied, so the "
        f"weights are those from before step {step}. Lower the learning rate, clip "
        "gradients (clip_norm=...) or check the inputs."
    )


def is_finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")
