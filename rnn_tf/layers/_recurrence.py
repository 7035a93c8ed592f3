"""The vanilla RNN over a whole sequence with a hand-written BPTT gradient.

    p_t = x_t U + b                               hoisted: one matmul for all t
    h_t = f(a_t),  a_t = p_t + h_{t-1} W           the loop
    o_t = h_t V + c                               fused head: one matmul for all t

`vanilla_sequence` computes all h_t (and o_t) time-major. Its gradient is the
BPTT recursion of the seed written out, instead of TensorFlow differentiating a
`while_loop` (which stacks every per-step intermediate and accumulates dW with
one small matmul per step):

    dH_t    = dL/dh_t from the outputs  (+ dO_t V^T with the head)
    dA_t    = (dH_t + dA_{t+1} W^T) * f'(a_t)      reverse loop, one matmul per step
    dW      = sum_t h_{t-1}^T dA_t = H_prev^T dA    ONE matmul over all steps
    dU      = X^T dA,  db = sum_t dA_t,  dV = H^T dO,  dc = sum_t dO_t
    dX      = dA U^T,  dh_0 = dA_1 W^T

f'(a_t) is read off the stored h_t (tanh: 1 - h_t^2, relu: [h_t > 0]), which is
what TensorFlow's TanhGrad / ReluGrad compute, so the numbers match autodiff.

Forward and backward each run as ONE XLA computation: on CPU that removes the
per-step executor overhead of a graph `while_loop` and fuses the element-wise
passes over the (T, B, units) tensors, which is what dominates a 64 x 128 step.
dX and dh_0 are computed outside XLA so that TensorFlow prunes them when x or
h_0 needs no gradient (x is usually data).
"""

from __future__ import annotations

import os

import tensorflow as tf
from keras import activations

# Set RNN_TF_RECURRENCE_XLA=0 to run the loops as plain graph while_loops (e.g. on a
# TensorFlow build without XLA); the numbers are the same up to float rounding.
USE_XLA = os.environ.get("RNN_TF_RECURRENCE_XLA", "1") != "0"

SUPPORTED_ACTIVATIONS = ("tanh", "relu")


def activation_name(activation) -> str | None:
    """ "tanh" or "relu" when `activation` is Keras' tanh/relu (the ones with a fast path)."""
    for name in SUPPORTED_ACTIVATIONS:
        if activation is activations.get(name):
            return name
    return None


def _check_activation(activation: str) -> None:
    if activation not in SUPPORTED_ACTIVATIONS:
        raise ValueError(
            f"Argument `activation` must be one of {SUPPORTED_ACTIVATIONS}; received {activation!r}"
        )


def _apply(activation: str, a):
    return tf.tanh(a) if activation == "tanh" else tf.nn.relu(a)


def _derivative(activation: str, h):
    if activation == "tanh":
        return 1 - h * h
    return tf.cast(h > 0, h.dtype)


def _matmul_2d(x, w):
    """`(T, B, k) @ (k, n)` as one 2-D matmul (a rank-3 matmul is a slow batch matmul)."""
    shape = tf.shape(x)
    # Explicit sizes, not -1: with zero features or batch, -1 cannot be inferred.
    y = tf.matmul(tf.reshape(x, tf.stack([shape[0] * shape[1], shape[2]])), w)
    return tf.reshape(y, tf.concat([shape[:-1], tf.shape(w)[-1:]], axis=0))


def _flat_t_matmul(a, b):
    """`sum_{t,batch} a[t, i]^T b[t, j]`: a^T b with (T, B) flattened, for weight gradients."""
    a_shape, b_shape = tf.shape(a), tf.shape(b)
    a = tf.reshape(a, tf.stack([a_shape[0] * a_shape[1], a_shape[2]]))
    b = tf.reshape(b, tf.stack([b_shape[0] * b_shape[1], b_shape[2]]))
    return tf.matmul(a, b, transpose_a=True)


def _forward_loop(P, h0, W, activation: str):
    """All h_t, time-major `(T, B, H)`, from `P` `(T, B, H)`, h_0 `(B, H)` and W."""
    steps = tf.shape(P)[0]
    # h_t overwrites p_t once it is read: one (T, B, H) buffer, updated in place
    # under XLA, instead of a second, zero-filled one for the outputs.
    buffer = tf.TensorArray(P.dtype, size=steps).unstack(P)

    def body(t, h, buffer):
        h = _apply(activation, buffer.read(t) + tf.matmul(h, W))
        return t + 1, h, buffer.write(t, h)

    _, _, buffer = tf.while_loop(
        lambda t, *_: t < steps, body, (0, h0, buffer), maximum_iterations=steps
    )
    return buffer.stack()


def _backward_loop(dH, H, h0, W, activation: str):
    """dA `(T, B, H)` and dW from the upstream dL/dh_t `(T, B, H)` and the stored h_t."""
    steps = tf.shape(H)[0]
    # dA_t overwrites dL/dh_t once it is read (one buffer, in place under XLA).
    buffer = tf.TensorArray(dH.dtype, size=steps).unstack(dH)
    states = tf.TensorArray(H.dtype, size=steps).unstack(H)
    last = steps - 1
    dA_last = buffer.read(last) * _derivative(activation, states.read(last))
    buffer = buffer.write(last, dA_last)

    def body(t, dA_next, buffer):
        dh = buffer.read(t) + tf.matmul(dA_next, W, transpose_b=True)
        dA_t = dh * _derivative(activation, states.read(t))
        return t - 1, dA_t, buffer.write(t, dA_t)

    _, _, buffer = tf.while_loop(
        lambda t, *_: t >= 0, body, (last - 1, dA_last, buffer), maximum_iterations=last
    )
    dA = buffer.stack()
    # h_{t-1} for every t: h_0, h_1, ..., h_{T-1}.
    H_prev = tf.concat([h0[None], H[:-1]], axis=0)
    return dA, _flat_t_matmul(H_prev, dA)


def _forward(x, h0, U, b, W, V, c, activation: str):
    """H `(T, B, units)` and, with a head (V not None), the logits `(T, B, output_dim)`."""
    P = _matmul_2d(x, U)
    if b is not None:
        P = P + b
    H = _forward_loop(P, h0, W, activation)
    if V is None:
        return H, None
    return H, _matmul_2d(H, V) + c


def _backward(dH, dO, x, h0, W, V, H, activation: str, has_bias: bool):
    """dA and the weight gradients dU, db, dW, dV, dc (None where there is no weight)."""
    dV = dc = db = None
    if V is not None:
        dH = dH + _matmul_2d(dO, tf.transpose(V))
        dV = _flat_t_matmul(H, dO)
        dc = tf.reduce_sum(dO, axis=(0, 1))
    dA, dW = _backward_loop(dH, H, h0, W, activation)
    dU = _flat_t_matmul(x, dA)
    if has_bias:
        db = tf.reduce_sum(dA, axis=(0, 1))
    return dA, dU, db, dW, dV, dc


def _compiled(fn):
    return tf.function(fn, jit_compile=True, autograph=False, reduce_retracing=True)


_forward_xla = _compiled(_forward)
_backward_xla = _compiled(_backward)


def vanilla_sequence(
    x, h0, U, W, b=None, V=None, c=None, activation: str = "tanh", use_xla: bool | None = None
):
    """h_t (and o_t = h_t V + c) for all t, differentiable by the hand-written BPTT above.

    Args:
        x: `(T, B, input_dim)` time-major inputs.
        h0: `(B, units)` initial state.
        U: `(input_dim, units)`, W: `(units, units)`, b: `(units,)` or None.
        V: `(units, output_dim)` or None (no head), c: `(output_dim,)` (with V).
        activation: "tanh" or "relu".
        use_xla: compile forward and backward with XLA (default: `USE_XLA`).

    All tensors must share one float dtype (cast variables to the compute dtype
    first). There are no second derivatives through this op.

    Returns:
        `(H, O)`: H `(T, B, units)` = h_1..h_T, and O `(T, B, output_dim)` (the
        head's logits, before any output activation) or None without V.
    """
    _check_activation(activation)
    xla = USE_XLA if use_xla is None else use_xla
    forward = _forward_xla if xla else _forward
    backward = _backward_xla if xla else _backward
    has_bias, has_head = b is not None, V is not None
    args = [x, h0, U, W] + ([b] if has_bias else []) + ([V, c] if has_head else [])

    # The compiled parts are called on stop_gradient'ed inputs: the gradient is
    # `grad` below, and a tape watching the XLA call would make TensorFlow rebuild
    # it to output its loop intermediates, which XLA cannot hand back.
    @tf.custom_gradient
    def _sequence(*args):
        x, h0, U, W, *rest = (tf.stop_gradient(a) for a in args)
        b = rest.pop(0) if has_bias else None
        V, c = rest if has_head else (None, None)
        H, logits = forward(x, h0, U, b, W, V, c, activation)

        def grad(*upstream):
            dH = tf.stop_gradient(upstream[0])
            dO = tf.stop_gradient(upstream[1]) if has_head else None
            dA, dU, db, dW, dV, dc = backward(dH, dO, x, h0, W, V, H, activation, has_bias)
            # Outside XLA, so both are pruned from the graph when nothing needs them.
            dx = _matmul_2d(dA, tf.transpose(U))
            dh0 = tf.matmul(dA[0], W, transpose_b=True)
            return [dx, dh0, dU, dW] + ([db] if has_bias else []) + ([dV, dc] if has_head else [])

        return ((H, logits) if has_head else H), grad

    result = _sequence(*args)
    return tuple(result) if has_head else (result, None)
