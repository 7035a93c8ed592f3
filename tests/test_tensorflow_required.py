"""Without TensorFlow, every part that needs it says so in one line naming the install."""

import os
import subprocess
import sys
import textwrap

import pytest

PARTS = {
    "from rnn_tf.bptt import BPTTTrainer": "rnn_tf.bptt.BPTTTrainer needs TensorFlow",
    "import rnn_tf.data": "rnn_tf.data (the dataset loaders) needs TensorFlow",
    "import rnn_tf.diagnostics": "rnn_tf.diagnostics (the gradient lab) needs TensorFlow",
    "import rnn_tf.bptt.fused": "The fused BPTT op (rnn_tf.bptt.fused) needs TensorFlow",
}


@pytest.mark.parametrize("statement", PARTS, ids=lambda s: s.split()[-1])
def test_a_tensorflow_part_raises_one_clear_import_error(statement):
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["tensorflow"] = None  # as if TensorFlow were not installed
        import rnn_tf.bptt.reference  # NumPy only: still importable
        try:
            {statement}
        except ImportError as error:
            print(error)
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    message = out.stdout.strip().splitlines()[-1]
    assert message.startswith(PARTS[statement])
    assert 'pip install "rnn-tf[cpu]"' in message
