"""Training token models: accuracy that skips padding, and the compile recipe for token targets.

Token ids use 0 for padding (the embeddings of `rnn_tf.architectures` mask it), so a
padded position must count neither in the loss nor in the accuracy.
"""

from __future__ import annotations

import keras


# The registered name "rnn_tf>MaskedAccuracy" is what saved .keras files refer to; keep it
# so models saved with this metric keep loading (`import rnn_tf.metrics` registers it).
@keras.saving.register_keras_serializable(package="rnn_tf")
class MaskedAccuracy(keras.metrics.Mean):
    """Token accuracy that skips positions whose true id is the padding id.

    Args:
        padding_id: the target id to leave out (0 for the padded token sequences here).
        name: the metric's name in logs and histories.

    Example:

    ```python
    metric = MaskedAccuracy(padding_id=0)
    metric.update_state([[3, 1, 0]], keras.ops.one_hot([[3, 2, 1]], 4))
    float(metric.result())  # 0.5: one right, one wrong, the padded position skipped
    ```
    """

    def __init__(self, padding_id: int = 0, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.padding_id = padding_id

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = keras.ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):  # (batch, T, 1) labels
            y_true = keras.ops.squeeze(y_true, axis=-1)
        correct = keras.ops.cast(
            keras.ops.equal(y_true, keras.ops.cast(keras.ops.argmax(y_pred, -1), "int32")),
            self.dtype,
        )
        weight = keras.ops.cast(keras.ops.not_equal(y_true, self.padding_id), self.dtype)
        if sample_weight is not None:
            weight = weight * keras.ops.cast(sample_weight, self.dtype)
        super().update_state(correct, sample_weight=weight)

    def get_config(self):
        return {**super().get_config(), "padding_id": self.padding_id}


def compile_for_tokens(
    model: keras.Model,
    *,
    learning_rate: float = 1e-3,
    padding_id: int | None = None,
    global_clipnorm: float | None = 1.0,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """Compile for integer targets: Adam, sparse categorical cross-entropy, accuracy.

    Args:
        model: a model whose output is a softmax over classes or tokens.
        learning_rate: Adam's step size.
        padding_id: target id to leave out of loss and accuracy (0 for padded token
            sequences); None when every id is a real class.
        global_clipnorm: rescale all gradients together when their global norm exceeds
            this (as `tf.clip_by_global_norm`; the direction of the whole update is kept;
            RNNs explode, see notebook 03); None for no clipping.
        jit_compile: passed to `model.compile`. Keras's "auto" leaves XLA off on a machine
            without a GPU; True compiles each training step with XLA, which fuses the
            time loop (faster on a CPU too; docs/results/README.md records by how much).

    Returns:
        `model`, compiled; its history logs `loss` and `accuracy`.
    """
    loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=padding_id)
    metric = "accuracy" if padding_id is None else MaskedAccuracy(padding_id)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=global_clipnorm),
        loss=loss,
        metrics=[metric],
        jit_compile=jit_compile,
    )
    return model
