"""What is timed: our layer and trainer, Keras SimpleRNN/GRU/LSTM, torch.nn.RNN.

Every contender does the same work: `batch` sequences of `timesteps` steps, a recurrent
layer of `units`, a per-step head of `output_dim` classes, a mean cross-entropy and one
plain gradient descent update per training step. `build_contender` returns two callables
(training step, inference pass) that block until the work is done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

# Contender name -> (label, framework, gates per cell: 1 vanilla, 3 GRU, 4 LSTM).
CONTENDERS: dict[str, tuple[str, str, int]] = {
    "vanilla_bptt": ("VanillaRNN + BPTTTrainer(jit_compile=False)", "rnn_tf", 1),
    "vanilla_bptt_xla": (
        "VanillaRNN + BPTTTrainer (default: XLA, batch split kept if timed faster)", "rnn_tf", 1
    ),
    "vanilla_bptt_generic": (
        "VanillaRNN(use_fused_bptt=False): Keras loop and autodiff, + BPTTTrainer", "rnn_tf", 1
    ),
    "vanilla_fit": ("VanillaRNN, Keras train_on_batch", "rnn_tf", 1),
    "rnn_vanilla_cell": ("keras RNN(VanillaRNNCell) + BPTTTrainer", "rnn_tf", 1),
    "simple_rnn": ("keras SimpleRNN + Dense", "keras", 1),
    "simple_rnn_xla": ("keras SimpleRNN + Dense (jit_compile)", "keras", 1),
    "gru": ("keras GRU + Dense", "keras", 3),
    "lstm": ("keras LSTM + Dense", "keras", 4),
    "torch_rnn": ("torch.nn.RNN + Linear, manual SGD", "torch", 1),
}
DEFAULT_CONTENDERS = tuple(CONTENDERS)
# VanillaRNN + BPTTTrainer contenders, all trained by the same BPTTTrainer.
_TRAINER_CONTENDERS = ("vanilla_bptt", "vanilla_bptt_xla", "vanilla_bptt_generic",
                       "rnn_vanilla_cell")
_KERAS_LAYERS = {"simple_rnn": "SimpleRNN", "simple_rnn_xla": "SimpleRNN", "gru": "GRU",
                 "lstm": "LSTM"}


class ContenderUnavailable(RuntimeError):
    """A contender cannot run here (e.g. PyTorch is not installed); it is skipped."""


@dataclass(frozen=True)
class Shape:
    """The task: `batch` sequences of `timesteps` steps, classify every step into `output_dim`."""

    batch: int = 64
    timesteps: int = 100
    input_dim: int = 32
    units: int = 128
    output_dim: int = 32


QUICK_SHAPE = Shape(batch=4, timesteps=8, input_dim=3, units=8, output_dim=3)


@dataclass
class Contender:
    """Ready-to-time callables of one implementation (each call blocks until done)."""

    name: str
    train: Callable[[], Any]
    infer: Callable[[], Any]
    # What the contender decided for itself while it ran (read after the timing).
    decisions: Callable[[], dict] | None = None


def make_data(shape: Shape, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs `(B, T, D)` float32 and per-step class ids `(B, T)` int32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((shape.batch, shape.timesteps, shape.input_dim)).astype("float32")
    y = rng.integers(0, shape.output_dim, (shape.batch, shape.timesteps)).astype("int32")
    return x, y


def rnn_flops(
    batch: int,
    timesteps: int,
    input_dim: int,
    units: int,
    output_dim: int,
    gates: int = 1,
    training: bool = True,
) -> int:
    """FLOPs of one forward (and, with `training`, backward) pass; 2 FLOPs per multiply-add.

    With B=batch, T=timesteps, D=input_dim, H=units, O=output_dim and g gate
    blocks per cell (1 vanilla/SimpleRNN, 3 GRU, 4 LSTM), every step does
    x_t U (D x gH), h_{t-1} W (H x gH) and the head h_t V (H x O):

        forward  = 2 B T (g D H + g H H + H O)
        backward = 2 B T (g D H + 2 g H H + 2 H O)
            dU = X^T dA                      (x needs no gradient: one matmul)
            dW = H_{t-1}^T dA, dH_{t-1} = dA W^T   (two matmuls)
            dV = H^T dO,       dH = dO V^T         (two matmuls)
        training = forward + backward = 2 B T (2 g D H + 3 g H H + 3 H O)

    Element-wise work (biases, tanh, gate products, softmax, the SGD update) is
    O(B T H) and not counted, so the GFLOP/s derived from this are a lower bound
    of the arithmetic actually done. For the default shapes (64, 100, 32, 128, 32)
    a vanilla training step is 0.891 GFLOP and inference 0.315 GFLOP.
    """
    b, t, d, h, o, g = batch, timesteps, input_dim, units, output_dim, gates
    if training:
        return 2 * b * t * (2 * g * d * h + 3 * g * h * h + 3 * h * o)
    return 2 * b * t * (g * d * h + g * h * h + h * o)


def _inference_fn(model, x, *, jit_compile: bool) -> Callable[[], Any]:
    """The model's forward pass on `x`, traced once into one graph and then only run.

    One wrapper for every Keras contender (not predict_on_batch, whose NumPy round
    trip would add the same constant to everyone and hide differences). The graph is
    traced explicitly, once per contender, and the concrete function is what gets timed:
    building one `tf.function` per contender is intended here, so TensorFlow's warning
    about functions traced again and again does not apply and must not fire.
    """
    import tensorflow as tf

    forward = tf.function(lambda inputs: model(inputs, training=False), jit_compile=jit_compile)
    graph = []

    def infer():
        if not graph:  # the first call traces (and for XLA compiles), like the others'
            graph.append(forward.get_concrete_function(x))
        return graph[0](x)

    return infer


def _vanilla_layer(shape: Shape, *, fused: bool):
    from rnn_tf.layers import VanillaRNN

    return VanillaRNN(shape.units, output_dim=shape.output_dim, return_sequences=True,
                      use_fused_bptt="auto" if fused else False)


def _trainer_contender(name: str, shape: Shape, x, y, learning_rate: float) -> Contender:
    import keras
    import tensorflow as tf

    from rnn_tf.bptt import BPTTTrainer, scale
    from rnn_tf.layers import VanillaRNNCell

    jit = name.endswith("_xla")
    if name == "rnn_vanilla_cell":
        layer = keras.layers.RNN(
            VanillaRNNCell(shape.units, output_dim=shape.output_dim), return_sequences=True
        )
    else:
        layer = _vanilla_layer(shape, fused=name != "vanilla_bptt_generic")
    inputs = keras.Input((shape.timesteps, shape.input_dim))
    model = keras.Model(inputs, layer(inputs), name=name)
    # time_reduction="mean" like Keras' fit and the torch contender: the same
    # work, and a loss whose scale does not grow with T (long-T sweeps stay finite).
    trainer = BPTTTrainer(
        model,
        from_logits=True,
        learning_rate=learning_rate,
        time_reduction="mean",
        jit_compile=jit,
        check_inputs=False,
        verbose=0,
    )
    x_t, y_t = tf.constant(x), tf.constant(y)
    decisions: dict[str, Any] = {"first_step_s": None}
    if jit:
        # batch_split="timed" times its two steps on the first batch and 50 steps later: take
        # the contender past both, to time what a user's run settles on, and record what the
        # first step (compiling and timing) cost instead of its later steps.
        began = time.perf_counter()
        trainer.train_on_batch(x_t, y_t)
        decisions["first_step_s"] = time.perf_counter() - began
        for _ in range(scale.REMEASURE_AFTER):
            trainer.train_on_batch(x_t, y_t)

    def settled():
        return {**decisions, "batch_slices": trainer.parts,
                "split_measurement": trainer.split_measurement}

    return Contender(name, lambda: trainer.train_on_batch(x_t, y_t),
                     _inference_fn(model, x_t, jit_compile=jit), decisions=settled)


def _keras_fit_contender(name: str, shape: Shape, x, y, learning_rate: float) -> Contender:
    import keras
    import tensorflow as tf

    inputs = keras.Input((shape.timesteps, shape.input_dim))
    if name == "vanilla_fit":
        outputs = _vanilla_layer(shape, fused=True)(inputs)
    else:
        rnn = getattr(keras.layers, _KERAS_LAYERS[name])
        hidden = rnn(shape.units, return_sequences=True)(inputs)
        outputs = keras.layers.Dense(shape.output_dim)(hidden)
    model = keras.Model(inputs, outputs, name=name)
    # jit_compile=False is what "auto" resolves to on a CPU-only machine; the
    # *_xla contenders show what XLA changes.
    jit = name.endswith("_xla")
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit,
    )
    x_t, y_t = tf.constant(x), tf.constant(y)
    return Contender(name, lambda: model.train_on_batch(x_t, y_t),
                     _inference_fn(model, x_t, jit_compile=jit))


def _torch_contender(shape: Shape, x, y, learning_rate: float, threads: int | None) -> Contender:
    try:
        import torch
    except ImportError as error:
        raise ContenderUnavailable(f"PyTorch is not installed ({error})") from error

    s = shape
    torch.manual_seed(0)
    if threads:
        torch.set_num_threads(threads)
    rnn = torch.nn.RNN(s.input_dim, s.units, nonlinearity="tanh", batch_first=True)
    head = torch.nn.Linear(s.units, s.output_dim)
    params = [*rnn.parameters(), *head.parameters()]
    x_t = torch.from_numpy(x)
    y_t = torch.from_numpy(y.astype("int64"))

    def train():
        outputs, _ = rnn(x_t)
        logits = head(outputs)
        # Mean over all steps, like the Keras contenders.
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, s.output_dim), y_t.reshape(-1)
        )
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-learning_rate)
        return float(loss.detach())

    def infer():
        with torch.inference_mode():
            outputs, _ = rnn(x_t)
            return head(outputs)

    return Contender("torch_rnn", train, infer)


def build_contender(
    name: str,
    shape: Shape,
    x: np.ndarray,
    y: np.ndarray,
    *,
    learning_rate: float = 0.01,
    torch_threads: int | None = None,
) -> Contender:
    """Build one contender by name (see `CONTENDERS`).

    Raises:
        ValueError: `name` is not a contender.
        ContenderUnavailable: it cannot run here (PyTorch absent).
    """
    if name not in CONTENDERS:
        raise ValueError(
            f"Argument `name` must be one of {sorted(CONTENDERS)}; received name={name!r}"
        )
    if name == "torch_rnn":
        return _torch_contender(shape, x, y, learning_rate, torch_threads)
    if name in _TRAINER_CONTENDERS:
        return _trainer_contender(name, shape, x, y, learning_rate)
    return _keras_fit_contender(name, shape, x, y, learning_rate)
