"""Models whose hidden states are explicit inputs and outputs, for truncated BPTT."""

from __future__ import annotations

import keras

from rnn_tf._checks import check_positive_int


def state_passing_model(
    recurrent_layer: keras.layers.Layer,
    input_dim: int,
    *,
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


def passes_state(model) -> bool:
    """Whether `model` takes its initial states as inputs (built by `state_passing_model`)."""
    inputs = getattr(model, "inputs", None)
    return bool(inputs) and len(inputs) > 1
