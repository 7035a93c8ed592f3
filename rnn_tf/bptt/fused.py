"""Backpropagation Through Time as one TensorFlow op: the vanilla RNN over a whole
sequence, with the BPTT gradient written out by hand (the NumPy version of the same
equations is `rnn_tf.bptt.reference`). `VanillaRNN(use_fused_bptt=...)` runs it.

Row-vector notation, time-major tensors (T, B, ...):

    p_t = x_t U + b                               hoisted: one matmul for all t
    h_t = f(a_t),  a_t = p_t + h_{t-1} W           the loop
    o_t = h_t V + c                               fused head: one matmul for all t

`vanilla_sequence` computes all h_t (and o_t). Its gradient is the backward
recursion of BPTT written out, instead of TensorFlow differentiating a
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

One XLA computation runs its time steps one after the other, and a step's small
matmul (64 x 128 by 128 x 128) on one core. With `batch_slices` the op runs on
slices of the batch as separate computations, which a plain graph (Keras `fit`
on CPU) runs side by side on different cores.

A non-finite x_t, h_0 or W gives NaN states from there on (row by row), never the
finite numbers XLA's clamped tanh would make of them, so a NaN reaches the loss.
"""

from __future__ import annotations

from keras import activations

from rnn_tf import _machine
from rnn_tf._checks import check_choice, check_positive_int
from rnn_tf._tensorflow import require_tensorflow

tf = require_tensorflow("The fused BPTT op (rnn_tf.bptt.fused)")

SUPPORTED_ACTIVATIONS = ("tanh", "relu")


def activation_name(activation) -> str | None:
    """ "tanh" or "relu" when `activation` is Keras' tanh/relu (the ones this op runs)."""
    for name in SUPPORTED_ACTIVATIONS:
        if activation is activations.get(name):
            return name
    return None


def _apply(activation: str, a):
    if activation == "tanh":
        return tf.tanh(a)
    # relu written as a product, not max(a, 0): with max, XLA on CPU copies the whole
    # (T, B, H) state buffer at every step instead of updating it in place
    # (benchmarks/README.md). Equal to relu for every finite a.
    return a * tf.cast(a > 0, a.dtype)


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


def _non_finite_as_nan(H, P, h0, W):
    """H with NaN wherever a non-finite input, h_0 or W would have made it NaN.

    XLA on CPU computes tanh and min/max with clamps that turn NaN into finite numbers,
    so a NaN in x or in the weights would otherwise come out as plausible states and a
    finite loss. A row turns NaN from the first step whose x_t U + b is not finite (and
    from the start if its h_0 is not); every row, when W is not finite.
    """
    bad_step = tf.reduce_any(tf.logical_not(tf.math.is_finite(P)), axis=-1)       # (T, B)
    bad_start = tf.reduce_any(tf.logical_not(tf.math.is_finite(h0)), axis=-1)     # (B,)
    bad_weights = tf.reduce_any(tf.logical_not(tf.math.is_finite(W)))
    bad = tf.math.cumsum(tf.cast(bad_step, tf.int32), axis=0) > 0
    # expand_dims, not [None] indexing: TFLite has no builtin for the strided slice it makes.
    bad = tf.logical_or(tf.logical_or(bad, tf.expand_dims(bad_start, 0)), bad_weights)
    return tf.where(tf.expand_dims(bad, -1), tf.constant(float("nan"), H.dtype), H)


def _forward(x, h0, U, b, W, V, c, activation: str):
    """H `(T, B, units)` and, with a head (V not None), the logits `(T, B, output_dim)`."""
    P = _matmul_2d(x, U)
    if b is not None:
        P = P + b
    H = _non_finite_as_nan(_forward_loop(P, h0, W, activation), P, h0, W)
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


def exact_here(tensors) -> bool:
    """Whether every derivative TensorFlow may take of this op on `tensors` is right.

    Reverse mode of any order is right everywhere, and forward mode in eager
    execution. Inside a graph (`tf.function`) TensorFlow takes forward-mode
    derivatives of a `tf.custom_gradient` op from its forward computation, which
    here is stop_gradient'ed, so they would be silently zero: False when a
    `tf.autodiff.ForwardAccumulator` tracks any of `tensors` there (TensorFlow's
    private `pack_tangents`, the check its own graph functions make).
    """
    if tf.executing_eagerly():
        return True
    try:
        from tensorflow.python.eager import forwardprop_util

        return not forwardprop_util.pack_tangents(list(tensors)).tangents
    except (ImportError, AttributeError):  # the private API moved: nothing to check with
        return True


@tf.function(autograph=False, reduce_retracing=True)
def _bptt_derivative(sources, upstream_of_grads, activation, has_bias, has_head):
    """d/d(sources) of sum <upstream, BPTT gradients>: the gradient of the gradient.

    `sources` are dL/dh_t (and dL/do_t) and the inputs of `vanilla_sequence`. The
    BPTT equations run here as plain graph ops, H is recomputed from the inputs so
    that its dependence on them counts, and `tf.gradients` differentiates them. A
    graph function (not a GradientTape) so it also works where TensorFlow pauses
    tapes: inside `tf.autodiff.ForwardAccumulator`, which builds forward-mode
    derivatives from this one.
    """
    with_head = 1 if has_head else 0
    dH, dO = sources[0], (sources[1] if has_head else None)
    x, h0, U, W, *rest = sources[1 + with_head :]
    b = rest.pop(0) if has_bias else None
    V, c = rest if has_head else (None, None)
    H, _ = _forward(x, h0, U, b, W, None, None, activation)
    dA, dU, db, dW, dV, dc = _backward(dH, dO, x, h0, W, V, H, activation, has_bias)
    grads = [dA, dU, dW] + ([db] if has_bias else []) + ([dV, dc] if has_head else [])
    total = tf.add_n([tf.reduce_sum(g * u) for g, u in zip(grads, upstream_of_grads)])
    return tf.gradients(total, sources, unconnected_gradients=tf.UnconnectedGradients.ZERO)


def vanilla_sequence(
    x, h0, U, W, b=None, V=None, c=None, *, activation: str = "tanh", jit_compile: bool = True,
    batch_slices: int = 1, min_step_work: int = 0, max_step_work: int | None = None,
):
    """h_t (and o_t = h_t V + c) for all t, differentiable by the hand-written BPTT above.

    Args:
        x: `(T, B, input_dim)` time-major inputs.
        h0: `(B, units)` initial state.
        U: `(input_dim, units)`, W: `(units, units)`, b: `(units,)` or None.
        V: `(units, output_dim)` or None (no head), c: `(output_dim,)` (with V).
        activation: "tanh" or "relu".
        jit_compile: compile forward and backward with XLA (False: plain graph
            `while_loop`s, e.g. on a TensorFlow build without XLA; same numbers
            up to float rounding).
        batch_slices: run the op on this many slices of the batch side by side
            (their results concatenated, their weight gradients summed), which
            a plain graph runs on different CPU cores; inside an XLA computation
            they would run one after the other. Same numbers up to float rounding.
        min_step_work, max_step_work: slice only when batch x units^2 (the
            multiply-adds of one step's h W) is at least `min_step_work` and
            below `max_step_work` (None: no bound); checked when the graph is
            built if the batch size is known then, else at run time.

    All tensors must share one float dtype (cast variables to the compute dtype
    first). The gradient is itself differentiable (second-order derivatives, a
    gradient penalty, and forward-mode `tf.autodiff.ForwardAccumulator` work):
    its derivative is TensorFlow's autodiff of the same BPTT equations run as
    plain graph ops, which is built only when something asks for it.

    Returns:
        `(H, O)`: H `(T, B, units)` = h_1..h_T, and O `(T, B, output_dim)` (the
        head's logits, before any output activation) or None without V.
    """
    check_choice(activation, SUPPORTED_ACTIVATIONS, "activation")
    batch_slices = check_positive_int(batch_slices, "batch_slices")
    has_bias, has_head = b is not None, V is not None
    step_work = (min_step_work, max_step_work)
    compiled_forward = _forward_xla if jit_compile else _forward
    compiled_backward = _backward_xla if jit_compile else _backward

    # Slices exist only between these two and their callers: the op keeps one H of the
    # whole batch for its backward pass, not one per slice plus their concatenation.
    def forward(x, h0, U, b, W, V, c, activation):
        def run(x, h0):
            H, logits = compiled_forward(x, h0, U, b, W, V, c, activation)
            return [H, logits]

        batched = [(x, 1), (h0, 0)]
        combine = ["concat", "concat" if has_head else None]  # H, logits
        return _in_batch_slices(run, batched, combine, W.shape[0], batch_slices, step_work)

    def backward(dH, dO, x, h0, W, V, H, activation, has_bias):
        def run(dH, dO, x, h0, H):
            return list(compiled_backward(dH, dO, x, h0, W, V, H, activation, has_bias))

        batched = [(dH, 1), (dO, 1), (x, 1), (h0, 0), (H, 1)]
        bias, head = ("sum" if has_bias else None), ("sum" if has_head else None)
        combine = ["concat", "sum", bias, "sum", head, head]  # dA, dU, db, dW, dV, dc
        return _in_batch_slices(run, batched, combine, W.shape[0], batch_slices, step_work)

    def unpack(values):
        x, h0, U, W, *rest = values
        b = rest.pop(0) if has_bias else None
        V, c = rest if has_head else (None, None)
        return x, h0, U, W, b, V, c

    def present(*grads):
        """The gradients of the inputs that exist (no b, V, c when they are None)."""
        dx, dh0, dU, dW, db, dV, dc = grads
        return [dx, dh0, dU, dW] + ([db] if has_bias else []) + ([dV, dc] if has_head else [])

    # The compiled parts are called on stop_gradient'ed inputs: their derivatives
    # are the custom gradients below, and a tape watching the XLA call would make
    # TensorFlow rebuild it to output its loop intermediates, which XLA cannot hand back.
    @tf.custom_gradient
    def _sequence(*args):
        x, h0, U, W, b, V, c = unpack([tf.stop_gradient(a) for a in args])
        H, logits = forward(x, h0, U, b, W, V, c, activation)

        def grad(*upstream):
            dO = upstream[1] if has_head else None
            dA, dU, db, dW, dV, dc = _sequence_gradient(upstream[0], dO, args, H)
            x, h0, U, W, *_ = args
            # Outside the ops, so both are pruned from the graph when nothing needs them.
            dx = _matmul_2d(dA, tf.transpose(U))
            dh0 = tf.matmul(dA[0], W, transpose_b=True)
            return present(dx, dh0, dU, dW, db, dV, dc)

        return ((H, logits) if has_head else H), grad

    def _sequence_gradient(dH, dO, args, H):
        """dA and the weight gradients: the hand-written BPTT, itself differentiable."""
        upstream = [dH] + ([dO] if has_head else [])

        @tf.custom_gradient
        def bptt(*tensors):
            dH, dO = tensors[0], (tensors[1] if has_head else None)
            inputs = unpack([tf.stop_gradient(t) for t in tensors[len(upstream) : -1]])
            x, h0, U, W, b, V, c = inputs
            dA, dU, db, dW, dV, dc = backward(
                tf.stop_gradient(dH),
                None if dO is None else tf.stop_gradient(dO),
                x, h0, W, V, tf.stop_gradient(tensors[-1]), activation, has_bias,
            )
            grads = [dA, dU, dW] + ([db] if has_bias else []) + ([dV, dc] if has_head else [])

            def second_order(*upstream_of_grads):
                upstream_of_grads = [
                    tf.zeros_like(g) if u is None else u for g, u in zip(grads, upstream_of_grads)
                ]
                derivatives = _bptt_derivative(
                    list(tensors[:-1]), upstream_of_grads, activation, has_bias, has_head
                )
                return derivatives + [None]  # H: recomputed from the inputs in there

            return grads, second_order

        dA, dU, dW, *rest = bptt(*upstream, *args, H)
        db = rest.pop(0) if has_bias else None
        dV, dc = rest if has_head else (None, None)
        return dA, dU, db, dW, dV, dc

    result = _sequence(*present(x, h0, U, W, b, V, c))
    return tuple(result) if has_head else (result, None)


def _in_batch_slices(run, batched, combine, units: int, parts: int, step_work: tuple):
    """`run(*tensors)` on the whole batch, or on `parts` slices of it side by side when
    the batch is big enough (see `vanilla_sequence`).

    `batched` holds `(tensor or None, axis of its rows)`, the first one a tensor.
    `combine` says per output of `run` how the slices' results make the batch's:
    "concat" along axis 1 (time-major rows), "sum" (weight gradients), or None for an
    output that is None.
    """
    tensors = [t for t, _ in batched]

    def whole():
        return run(*tensors)

    if parts == 1:
        return whole()
    reference, reference_axis = batched[0]

    def sliced():
        rows = tf.shape(reference)[reference_axis]
        sizes = slice_sizes(rows, parts)
        pieces = [
            [None] * parts if t is None else tf.split(t, sizes, num=parts, axis=axis)
            for t, axis in batched
        ]
        results = [run(*args) for args in zip(*pieces)]
        return [
            None if how is None
            else tf.concat(list(outs), axis=1) if how == "concat" else tf.add_n(list(outs))
            for how, outs in zip(combine, zip(*results))
        ]

    least, bound = step_work
    if bound is not None and units * units >= bound:
        return whole()  # no batch size is in range: no slices in the graph at all

    def in_range(rows):
        """For a Python int (decided now) or an int64 tensor (decided at run time)."""
        work = rows * units * units
        return (rows >= parts) & (work >= least) & (True if bound is None else work < bound)

    rows = reference.shape[reference_axis]
    if rows is not None:
        return sliced() if in_range(rows) else whole()

    def present_only(branch):
        return lambda: [out for out in branch() if out is not None]

    rows = tf.shape(reference, out_type=tf.int64)[reference_axis]
    outputs = iter(tf.cond(in_range(rows), present_only(sliced), present_only(whole)))
    return [None if how is None else next(outputs) for how in combine]


def slice_sizes(rows, parts: int):
    """Rows of each of `parts` batch slices, as equal as possible: the first
    `rows % parts` slices get one more row. `rows` is a scalar int tensor."""
    return rows // parts + tf.cast(tf.range(parts) < rows % parts, rows.dtype)


def cores_for_slices() -> bool:
    """Whether batch slices can run on different cores here: no GPU visible to
    TensorFlow, 2 or more CPUs this process may use, and TensorFlow allowed to run
    2 or more ops at once (`inter_op_parallelism_threads`, 0 meaning its default)."""
    inter_op = tf.config.threading.get_inter_op_parallelism_threads()
    return (not tf.config.list_logical_devices("GPU") and _machine.usable_cpus() >= 2
            and inter_op != 1)


def in_xla_computation() -> bool:
    """Whether the ops built now become part of an XLA computation: inside a
    `jit_compile=True` function, or a function it calls.

    There XLA runs independent time loops one after the other, so batch slices
    would only add work. TensorFlow's private `GraphOrParentsInXlaContext` (what its
    own loops ask); True when it moved, so that slices are then never added.
    """
    if tf.executing_eagerly():
        return False
    try:
        from tensorflow.python.ops import control_flow_util

        return bool(control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()))
    except (ImportError, AttributeError):
        return True


# `batch_split="auto"` of `VanillaRNN` slices when batch x units^2 (the multiply-adds of
# one step's h W) is in [SPLIT_MIN_STEP_WORK, SPLIT_MAX_STEP_WORK): below, the second XLA
# call and the concatenation cost what the second core gains; above, one XLA call
# already spreads each step's large matmul over the cores (benchmarks/README.md).
SPLIT_MIN_STEP_WORK = 1 << 20
SPLIT_MAX_STEP_WORK = 1 << 25


def batch_slicing(batch_split, *, known_batch: bool = True, training: bool = True) -> dict:
    """`vanilla_sequence`'s slicing arguments for `VanillaRNN(batch_split=...)`, resolved
    where the op is being built.

    An int is used as given. `"auto"` asks for 2 slices, bounded by the step-work window
    above, only where they can run side by side: a plain graph (not eager, not inside
    an XLA computation), one replica (a distribution strategy's replicas already share
    out the cores), `cores_for_slices()`, and not an inference graph for any batch size
    (what `model.export` traces: a run-time choice would put a tf.cond around the op,
    which TFLite cannot convert). Else 1.
    """
    if batch_split != "auto":
        return {"batch_slices": batch_split}
    side_by_side = not (tf.executing_eagerly() or in_xla_computation())
    one_replica = tf.distribute.get_strategy().num_replicas_in_sync == 1
    exportable = not known_batch and not training
    if side_by_side and one_replica and not exportable and cores_for_slices():
        return {"batch_slices": 2, "min_step_work": SPLIT_MIN_STEP_WORK,
                "max_step_work": SPLIT_MAX_STEP_WORK}
    return {"batch_slices": 1}
