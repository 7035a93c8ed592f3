"""One training step and one inference pass, every contender, same process, same shapes.

    python benchmarks/bench_train_step.py                      # defaults of issues 2 and 4
    python benchmarks/bench_train_step.py --repeats 80 --out /tmp/bench
    python benchmarks/bench_train_step.py --contenders vanilla_bptt simple_rnn torch_rnn

The same as `rnn-tf bench train-step ...`; all logic lives in `rnn_tf.bench`.
Prints a Markdown table and writes JSON to --out (default benchmarks/results/).
"""

import sys

from rnn_tf.bench import main

if __name__ == "__main__":
    sys.exit(main(["train-step", *sys.argv[1:]]))
