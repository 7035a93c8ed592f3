"""TensorFlow on demand: the layer runs on any Keras backend, some parts need TensorFlow."""

from __future__ import annotations

INSTALL_HINT = 'pip install "rnn-tf[cpu]"'


def require_tensorflow(feature: str = "This part of rnn_tf"):
    """The `tensorflow` module, or an ImportError saying how to install it.

    `feature` names what needs TensorFlow, e.g. "The fused BPTT op".
    """
    try:
        import tensorflow as tf
    except ImportError as error:
        raise ImportError(
            f"{feature} needs TensorFlow, which is not installed. Install it with "
            f'{INSTALL_HINT} (or "rnn-tf[gpu]" for the CUDA build).'
        ) from error
    return tf
