"""Copy the results block of `build/results.md` into the README (`make reproduce` runs this).

    python docs/readme_results.py build/results.md README.md

The README's results table is never typed: it is the block `rnn-tf notebooks` wrote from the
run, between the markers of `rnn_tf.course.RESULTS_BEGIN` and `RESULTS_END`.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from rnn_tf._files import write_text_atomic
from rnn_tf.course import replace_results_block


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=pathlib.Path, help="the run's results.md")
    parser.add_argument("readme", type=pathlib.Path, help="the README to update in place")
    args = parser.parse_args(argv)
    try:
        updated = replace_results_block(args.readme.read_text(), args.report.read_text())
    except (OSError, ValueError) as error:
        print(f"readme_results: {error}", file=sys.stderr)
        return 1
    write_text_atomic(args.readme, updated)
    print(f"{args.readme}: results block copied from {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
