"""The trainer's input: checks that every form of it passes before training starts,
and the `tf.data` pipeline that batches arrays.

Arrays, `tf.data.Dataset`s and `validation_data` get the same checks (shapes, time
lengths, feature size, finiteness, label range and dtype), so a mistake stops the
run before the first step instead of deep inside a compiled graph or after an epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from rnn_tf._checks import check_finite, check_labels

_STRUCTURE = "(x, y) or (x, y, mask)"


@dataclass(frozen=True)
class Expectations:
    """What the model and loss expect of x and y (None where the model does not say)."""

    sparse_labels: bool  # y holds class ids (sparse categorical cross-entropy)
    num_classes: int | None
    input_dim: int | None  # features per step of a float x
    per_step_output: bool | None  # the model predicts at every step (output rank 3)

    @classmethod
    def of(cls, model, loss_name: str) -> Expectations:
        inputs = getattr(model, "inputs", None) or []
        outputs = getattr(model, "outputs", None) or []
        input_shape = tuple(inputs[0].shape) if inputs else ()
        output_shape = tuple(outputs[0].shape) if outputs else None
        return cls(
            sparse_labels=loss_name == "sparse_categorical_crossentropy",
            num_classes=output_shape[-1] if output_shape else None,
            input_dim=input_shape[-1] if len(input_shape) == 3 else None,
            per_step_output=len(output_shape) == 3 if output_shape else None,
        )


def check_arrays(x, y, mask, expect: Expectations, names=("x", "y", "mask")) -> None:
    """Raise a `ValueError` naming the argument when (x, y, mask) cannot be trained on."""
    x_name, y_name, mask_name = names
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim not in (2, 3):
        raise ValueError(
            f"Argument `{x_name}` must have rank 3 (batch, timesteps, features) or rank 2 "
            f"(batch, timesteps) of token ids; received shape {x.shape}"
        )
    if x.shape[0] == 0:
        raise ValueError(f"Argument `{x_name}` holds no sequences; received shape {x.shape}")
    if x.shape[1] == 0:
        raise ValueError(
            f"Argument `{x_name}` is an empty sequence: it must have at least one timestep; "
            f"received shape {x.shape}"
        )
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"Arguments `{x_name}` and `{y_name}` must hold the same number of sequences; "
            f"received {x_name}.shape={x.shape}, {y_name}.shape={y.shape}"
        )
    if x.ndim == 3 and expect.input_dim is not None and x.shape[2] != expect.input_dim:
        raise ValueError(
            f"Argument `{x_name}` must have {expect.input_dim} features per step, as the "
            f"model's input; received shape {x.shape}"
        )
    if _has_time_axis(y, expect) and y.shape[1] != x.shape[1]:
        raise ValueError(
            f"Arguments `{x_name}` and `{y_name}` must have the same number of timesteps "
            f"(a target per step); received {x_name}.shape={x.shape}, {y_name}.shape={y.shape}"
        )
    check_finite(x, x_name)
    if expect.sparse_labels:
        if expect.num_classes is not None:
            check_labels(y, expect.num_classes, name=y_name)
        elif not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f"Argument `{y_name}` must hold integer class ids; received dtype {y.dtype}"
            )
    else:
        check_finite(y, y_name)
    if mask is not None and np.asarray(mask).shape != y.shape[:2]:
        raise ValueError(
            f"Argument `{mask_name}` must have shape (batch, timesteps) = {y.shape[:2]}; "
            f"received {np.asarray(mask).shape}"
        )


def _has_time_axis(y, expect: Expectations) -> bool:
    if expect.per_step_output is not None:
        return expect.per_step_output and y.ndim >= 2
    # No static output shape: class ids per step are (N, T), values per step (N, T, K).
    return y.ndim == (2 if expect.sparse_labels else 3)


def unpack(batch, name: str = "x"):
    """(x, y, mask) from a batch of 2 or 3 tensors, with a clear error otherwise."""
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        kind = type(batch).__name__
        size = f" of {len(batch)}" if isinstance(batch, (tuple, list, dict)) else ""
        raise ValueError(
            f"Argument `{name}` must yield {_STRUCTURE} batches; received a {kind}{size}"
        )
    return (batch[0], batch[1], None) if len(batch) == 2 else tuple(batch)


def check_dataset(dataset: tf.data.Dataset, expect: Expectations, name: str = "x") -> int:
    """Read `dataset` once and check every batch like arrays; returns the batch count."""
    spec = dataset.element_spec
    unpack(spec, name)  # the structure, before reading anything
    batches = 0
    for batch in dataset:
        x, y, mask = (None if t is None else t.numpy() for t in unpack(batch, name))
        names = (f"{name} (its x)", f"{name} (its y)", f"{name} (its mask)")
        check_arrays(x, y, mask, expect, names=names if name != "x" else ("x", "y", "mask"))
        batches += 1
    if batches == 0:
        raise ValueError(f"Argument `{name}` is a tf.data.Dataset with no batches")
    return batches


def check_validation_data(validation_data, expect: Expectations) -> None:
    """`validation_data` must be (x, y), (x, y, mask) or a dataset of such batches."""
    if isinstance(validation_data, tf.data.Dataset):
        check_dataset(validation_data, expect, name="validation_data")
        return
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            f"Argument `validation_data` must be {_STRUCTURE} or a tf.data.Dataset of such "
            f"batches; received {type(validation_data).__name__}"
            + (f" of {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
        )
    x, y, mask = unpack(validation_data, "validation_data")
    names = ("validation_data x", "validation_data y", "validation_data mask")
    check_arrays(x, y, mask, expect, names=names)


def make_dataset(x, y, mask, *, batch_size: int, shuffle: bool, seed: int | None):
    """Batches of (x, y) or (x, y, mask); a dataset given as `x` is used as it is."""
    if isinstance(x, tf.data.Dataset):
        return x
    tensors = (x, y) if mask is None else (x, y, mask)
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
