"""The trainer speaks Keras' callback protocol: a run's history is a
`keras.callbacks.History`, and user callbacks are driven through
`keras.callbacks.CallbackList` with the hooks and `logs` keys of `Model.fit`."""

from __future__ import annotations

import keras


class TrainingHistory(keras.callbacks.History):
    """Per-epoch numbers of a `BPTTTrainer.fit` run, as `keras.callbacks.History`.

    `history` maps a metric name ("loss", "accuracy", "grad_norm", "grad_norm_max",
    "val_loss", "val_accuracy", "seconds") to one value per epoch; `epoch` lists the
    epochs that ran (0-based, so a resumed run starts past 0); `skipped_steps` the
    training steps dropped by `on_non_finite="skip"`.
    """

    def __init__(self):
        super().__init__()
        self.epoch: list[int] = []
        self.skipped_steps: list[int] = []

    @property
    def epochs(self) -> int:
        """How many epochs this run trained."""
        return len(self.epoch)


def callback_list(callbacks, history: TrainingHistory, *, model, epochs: int, verbose: int,
                  steps: int | None):
    """`callbacks` and `history` behind one `keras.callbacks.CallbackList`.

    The trainer draws its own `keras.utils.Progbar`, so no `ProgbarLogger` is added.
    """
    for callback in callbacks or []:
        if not isinstance(callback, keras.callbacks.Callback):
            raise ValueError(
                "Argument `callbacks` must be a list of keras.callbacks.Callback; "
                f"received an item of type {type(callback).__name__}"
            )
    return keras.callbacks.CallbackList(
        [*(callbacks or []), history],
        add_history=False,
        add_progbar=False,
        model=model,
        epochs=epochs,
        verbose=verbose,
        steps=steps,
    )
