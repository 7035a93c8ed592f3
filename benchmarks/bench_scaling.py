"""Time vs sequence length T and vs units (log-log slopes), memory vs T (full vs truncated BPTT).

    python benchmarks/bench_scaling.py                         # about 5-10 minutes on 2 CPUs
    python benchmarks/bench_scaling.py --no-memory --timesteps-grid 10 100 1000
    python benchmarks/bench_scaling.py --memory-grid 100 1000 10000 --truncate 50

The same as `rnn-tf bench scaling ...`; all logic lives in `rnn_tf.bench`.
Prints Markdown tables, writes JSON and three PNG plots to --out (default
benchmarks/results/).
"""

import sys

from rnn_tf.bench import main

if __name__ == "__main__":
    sys.exit(main(["scaling", *sys.argv[1:]]))
