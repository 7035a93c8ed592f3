"""Keras layers: import these into any Keras model."""

from rnn_tf.layers.vanilla import VanillaRNN, VanillaRNNCell

__all__ = ["VanillaRNN", "VanillaRNNCell"]
