"""Backpropagation Through Time: the NumPy reference, and a trainer that needs TensorFlow.

`reference` (NumPy) is imported at once; the trainer and its helpers are imported
on first use, so `rnn_tf.bptt.reference` and `rnn_tf.bptt.fused` load without them.
"""

from rnn_tf.bptt.reference import RNNParams, bptt, forward, sgd_update

_LAZY = {
    "BPTTTrainer": "rnn_tf.bptt.trainer",
    "NonFiniteLossError": "rnn_tf.bptt.non_finite",
    "TrainingHistory": "rnn_tf.bptt.callbacks",
    "state_passing_model": "rnn_tf.bptt.state_passing",
}

__all__ = ["RNNParams", "bptt", "forward", "sgd_update", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        from rnn_tf._tensorflow import require_tensorflow

        require_tensorflow(f"rnn_tf.bptt.{name}")
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
