import sys

from rnn_tf.cli import main

sys.exit(main())
