"""rnn_tf: the vanilla U/W/V recurrent network, BPTT written out, and the classic RNN uses."""

from rnn_tf._version import __version__
from rnn_tf.layers import VanillaRNN, VanillaRNNCell

__all__ = ["__version__", "VanillaRNN", "VanillaRNNCell"]
