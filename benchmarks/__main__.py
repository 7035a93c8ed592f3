"""`python -m benchmarks`: see benchmarks/run.py."""

import os
import sys

# Before TensorFlow is imported, which reads it once.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.run import main  # noqa: E402

sys.exit(main())
