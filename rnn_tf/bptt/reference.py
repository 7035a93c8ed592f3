"""Backpropagation Through Time, written out in NumPy, line for line with the equations.

The model (row-vector convention: a batch of x_t is a matrix whose rows are examples,
so "U x_t" is written `x_t @ U` with U of shape (input_dim, units)):

    (1) a_t  = x_t U + h_{t-1} W + b              forward, t = 1..T, h_0 given (zeros)
    (2) h_t  = f(a_t)                               f = tanh (or relu)
    (3) o_t  = h_t V + c
    (4) y^_t = softmax(o_t)
    (5) L_t  = -sum_k y_{t,k} log y^_{t,k}          cross-entropy at every step
    (6) L    = sum_t L_t                            per sequence (a batch: mean over sequences)

Backward, from the last step to the first (BPTT):

    (7)  dL/do_t   = y^_t - y_t                     softmax + cross-entropy
    (8)  dL/dV    += h_t^T dL/do_t,   dL/dc += sum over batch of dL/do_t
    (9)  dL/dh_t   = dL/do_t V^T + dL/da_{t+1} W^T  (the second term carries the future back)
    (10) dL/da_t   = dL/dh_t * f'(a_t)              f'(a) = 1 - h_t^2 for tanh, [a > 0] for relu
    (11) dL/dU    += x_t^T dL/da_t,  dL/dW += h_{t-1}^T dL/da_t,  dL/db += sum of dL/da_t

Update (plain gradient descent):

    (12) V <- V - alpha dL/dV,  U <- U - alpha dL/dU,  W <- W - alpha dL/dW  (and b, c)

Two truncations, one name each:

- `truncate=k`, chunked truncated BPTT (as `BPTTTrainer(truncate=k)`): the sequence is cut
  into chunks of k steps (steps 1..k, k+1..2k, ...); the state flows forward across a
  border, the gradient does not (dL/da_{t+1} is set to zero there). One call returns the sum
  of the chunks' gradients at the same weights; `BPTTTrainer` also updates the weights after
  every chunk (call `bptt` chunk by chunk with `h0` to reproduce that).
- `truncate_per_step=k`, Williams & Peng's per-step truncation: each L_t sends its gradient
  back through exactly its last k steps (t, t-1, ..., t-k+1), with no fixed borders.

A `mask` (B, T) weighs each L_t (0 for a step without a target), as the trainer's `mask` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnn_tf._checks import check_choice, check_labels, check_positive_int, check_sequences

ACTIVATIONS = ("tanh", "relu")


@dataclass
class RNNParams:
    """The shared weights of the vanilla RNN.

    Attributes:
        U: (input_dim, units) input -> hidden.
        W: (units, units) hidden -> hidden.
        V: (units, output_dim) hidden -> output.
        b: (units,) hidden bias.
        c: (output_dim,) output bias.
    """

    U: np.ndarray
    W: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray

    @classmethod
    def random(
        cls,
        input_dim: int,
        units: int,
        output_dim: int,
        seed: int = 0,
        scale: float = 0.5,
        dtype=np.float64,
    ) -> RNNParams:
        """Small random weights (normal, std `scale / sqrt(fan_in)`), seeded."""
        rng = np.random.default_rng(seed)

        def normal(shape, fan_in):
            return (rng.standard_normal(shape) * scale / np.sqrt(fan_in)).astype(dtype)

        return cls(
            U=normal((input_dim, units), input_dim),
            W=normal((units, units), units),
            V=normal((units, output_dim), units),
            b=normal((units,), units),
            c=normal((output_dim,), units),
        )

    def as_dict(self) -> dict[str, np.ndarray]:
        return {"U": self.U, "W": self.W, "V": self.V, "b": self.b, "c": self.c}


@dataclass
class Forward:
    """Everything the forward pass keeps for the backward pass (shapes for a batch B)."""

    a: np.ndarray  # (B, T, units)       pre-activations a_t
    h: np.ndarray  # (B, T + 1, units)   h[:, 0] = h_0, h[:, t] = h_t
    o: np.ndarray  # (B, T, output_dim)  logits o_t
    y_hat: np.ndarray  # (B, T, output_dim) softmax(o_t)


@dataclass
class Gradients:
    """dL/dU, dL/dW, dL/dV, dL/db, dL/dc and the loss L they belong to."""

    U: np.ndarray
    W: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray
    loss: float
    step_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) batch mean L_t

    def as_dict(self) -> dict[str, np.ndarray]:
        return {"U": self.U, "W": self.W, "V": self.V, "b": self.b, "c": self.c}


def _check_activation(activation: str) -> None:
    check_choice(activation, ACTIVATIONS, "activation")


def softmax(o: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the max so exp never overflows."""
    shifted = o - o.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def forward(
    params: RNNParams, x: np.ndarray, h0: np.ndarray | None = None, activation: str = "tanh"
) -> Forward:
    """Unroll equations (1)-(4) over a batch `x` of shape (B, T, input_dim)."""
    _check_activation(activation)
    x = np.asarray(x)
    check_sequences(x.shape, name="x", input_dim=params.U.shape[0])
    batch, steps, _ = x.shape
    units = params.W.shape[0]
    h = np.zeros((batch, steps + 1, units), dtype=params.W.dtype)
    if h0 is not None:
        h[:, 0] = h0
    a = np.zeros((batch, steps, units), dtype=params.W.dtype)
    for t in range(steps):
        a[:, t] = x[:, t] @ params.U + h[:, t] @ params.W + params.b  # (1)
        h[:, t + 1] = np.tanh(a[:, t]) if activation == "tanh" else np.maximum(a[:, t], 0)  # (2)
    o = h[:, 1:] @ params.V + params.c  # (3), for every t at once
    return Forward(a=a, h=h, o=o, y_hat=softmax(o))  # (4)


def step_losses(fwd: Forward, y: np.ndarray) -> np.ndarray:
    """Equation (5): L_t for every sequence and step, shape (B, T)."""
    batch, steps = y.shape
    picked = fwd.y_hat[np.arange(batch)[:, None], np.arange(steps)[None, :], y]
    return -np.log(picked)


def _activation_derivative(fwd: Forward, t: int, activation: str) -> np.ndarray:
    if activation == "tanh":
        return 1.0 - fwd.h[:, t + 1] ** 2  # tanh'(a_t) = 1 - h_t^2
    return (fwd.a[:, t] > 0).astype(fwd.a.dtype)  # relu'(a_t) = [a_t > 0]


def _step_weights(mask, shape: tuple[int, int]) -> np.ndarray:
    """The (B, T) weights of the L_t: ones, or the checked `mask`."""
    if mask is None:
        return np.ones(shape)
    weights = np.asarray(mask, dtype=np.float64)
    if weights.shape != tuple(shape):
        raise ValueError(
            f"Argument `mask` must have shape (B, T) = {tuple(shape)}; received {weights.shape}"
        )
    if not np.isfinite(weights).all():
        raise ValueError("Argument `mask` must hold finite weights; received NaN or infinity")
    return weights


def bptt(
    params: RNNParams,
    x: np.ndarray,
    y: np.ndarray,
    h0: np.ndarray | None = None,
    activation: str = "tanh",
    truncate: int | None = None,
    truncate_per_step: int | None = None,
    mask: np.ndarray | None = None,
) -> Gradients:
    """Gradients of L (6) with respect to U, W, V, b, c by Backpropagation Through Time.

    Args:
        params: the weights.
        x: inputs, (B, T, input_dim).
        y: integer targets, (B, T), each in [0, output_dim).
        h0: initial state (B, units); zeros if None.
        activation: "tanh" or "relu".
        truncate: chunk length k of chunked truncated BPTT (the algorithm of
            `BPTTTrainer(truncate=k)`): the gradient stops at the borders between steps
            k and k+1, 2k and 2k+1, ...; the returned gradients are the chunks' summed at
            these weights. None: no chunk borders.
        truncate_per_step: k of Williams & Peng's per-step truncation: each L_t sends its
            gradient back through its last k steps only. Not combined with `truncate`.
        mask: optional (B, T) weights of the L_t (0 for a step without a target);
            L = sum_t mask_t L_t. None weighs every step 1.

    Returns:
        `Gradients` with the batch mean of the per-sequence L = sum_t L_t and its gradients
        (with truncation, the loss is the same L; only the gradients are truncated).

    Example:

    ```python
    params = RNNParams.random(input_dim=3, units=8, output_dim=4)
    grads = bptt(params, x, y)          # x: (2, 5, 3), y: (2, 5)
    params = sgd_update(params, grads, learning_rate=0.1)
    ```
    """
    _check_activation(activation)
    x = np.asarray(x)
    y = np.asarray(y)
    check_sequences(x.shape, name="x", input_dim=params.U.shape[0])
    if y.shape != x.shape[:2]:
        raise ValueError(f"Argument `y` must have shape (B, T) = {x.shape[:2]}; received {y.shape}")
    check_labels(y, params.V.shape[1], name="y")
    if truncate is not None:
        check_positive_int(truncate, "truncate")
    if truncate_per_step is not None:
        check_positive_int(truncate_per_step, "truncate_per_step")
        if truncate is not None:
            raise ValueError(
                "Arguments `truncate` (chunk borders) and `truncate_per_step` (Williams & "
                "Peng) name two truncation algorithms; pass one of them, received "
                f"truncate={truncate!r}, truncate_per_step={truncate_per_step!r}"
            )
    weights = _step_weights(mask, x.shape[:2])

    batch, steps, _ = x.shape
    fwd = forward(params, x, h0, activation)
    losses = step_losses(fwd, y) * weights
    grads = {name: np.zeros_like(value) for name, value in params.as_dict().items()}

    d_o = fwd.y_hat.copy()  # (7): y^_t - y_t
    d_o[np.arange(batch)[:, None], np.arange(steps)[None, :], y] -= 1.0
    d_o *= weights[..., None] / batch  # masked L_t, the batch mean of per-sequence losses
    grads["V"] = np.einsum("btu,btk->uk", fwd.h[:, 1:], d_o)  # (8)
    grads["c"] = d_o.sum(axis=(0, 1))

    def accumulate(t: int, d_a: np.ndarray) -> None:  # (11)
        grads["U"] += x[:, t].T @ d_a
        grads["W"] += fwd.h[:, t].T @ d_a
        grads["b"] += d_a.sum(axis=0)

    if truncate_per_step is None:
        d_a_next = np.zeros_like(fwd.h[:, 0])
        for t in reversed(range(steps)):
            if truncate is not None and (t + 1) % truncate == 0:
                d_a_next = np.zeros_like(d_a_next)  # a chunk border after step t: cut
            d_h = d_o[:, t] @ params.V.T + d_a_next @ params.W.T  # (9)
            d_a = d_h * _activation_derivative(fwd, t, activation)  # (10)
            accumulate(t, d_a)
            d_a_next = d_a
    else:
        # Each L_t separately, stopped after `truncate_per_step` steps back.
        for t in reversed(range(steps)):
            d_a = (d_o[:, t] @ params.V.T) * _activation_derivative(fwd, t, activation)
            for s in range(t, max(-1, t - truncate_per_step), -1):
                accumulate(s, d_a)
                if s > 0:
                    d_a = (d_a @ params.W.T) * _activation_derivative(fwd, s - 1, activation)

    return Gradients(
        **grads,
        loss=float(losses.sum(axis=1).mean()),
        step_losses=losses.mean(axis=0),
    )


def sgd_update(params: RNNParams, grads: Gradients, learning_rate: float) -> RNNParams:
    """Equation (12): every shared weight moves against its gradient by `learning_rate`."""
    if not learning_rate > 0:
        raise ValueError(
            f"Argument `learning_rate` must be positive; received learning_rate={learning_rate!r}"
        )
    new = {
        name: value - learning_rate * getattr(grads, name)
        for name, value in params.as_dict().items()
    }
    return RNNParams(**new)
