"""Backpropagation Through Time: the NumPy reference and the compiled trainer."""

from rnn_tf.bptt.reference import RNNParams, bptt, forward, sgd_update
from rnn_tf.bptt.trainer import (
    BPTTTrainer,
    NonFiniteLossError,
    TrainingHistory,
    state_passing_model,
)

__all__ = [
    "BPTTTrainer",
    "NonFiniteLossError",
    "RNNParams",
    "TrainingHistory",
    "bptt",
    "forward",
    "sgd_update",
    "state_passing_model",
]
