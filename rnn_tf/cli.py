"""The `rnn-tf` command (also `python -m rnn_tf`): figures, notebooks, bench, datasets."""

from __future__ import annotations

import argparse
import pathlib
import sys


def _figures(args) -> int:
    from rnn_tf.figures import render_all

    paths = render_all(args.out, formats=tuple(args.formats), quick=args.quick)
    print(f"wrote {len(paths)} files to {args.out}")
    return 0


def _notebooks(args) -> int:
    from rnn_tf.notebooks import run_notebooks

    figures = str(pathlib.Path(args.figures).resolve())
    parameters = {"SMOKE": args.smoke, "DATA_SOURCE": args.data_source, "FIGURES_DIR": figures}
    runs = run_notebooks(args.directory, args.out, parameters, only=args.only)
    failed = [run.name for run in runs if not run.ok]
    total = sum(run.seconds for run in runs)
    print(f"{len(runs) - len(failed)}/{len(runs)} notebooks ran in {total:.0f} s")
    from rnn_tf.course import results_table

    table = results_table(figures)
    if table:
        results = pathlib.Path(args.out) / "results.md"
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(table + "\n")
        print(f"results table: {results}")
    for run in runs:
        if not run.ok:
            print(f"--- {run.name} failed:\n{run.error}", file=sys.stderr)
    return 1 if failed else 0


def _bench(args) -> int:
    from rnn_tf.bench import main as bench_main

    return bench_main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnn-tf", description="rnn_tf: figures, notebooks, benchmarks and datasets"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    figures = sub.add_parser("figures", help="render every tutorial figure headless")
    figures.add_argument("--out", default="figures", help="output folder (default: figures)")
    figures.add_argument("--formats", nargs="+", default=["png", "svg"])
    figures.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
    figures.set_defaults(func=_figures)

    notebooks = sub.add_parser("notebooks", help="execute the notebooks headless")
    notebooks.add_argument("--directory", default="notebooks")
    notebooks.add_argument("--out", default="build", help="executed copies and HTML")
    notebooks.add_argument("--figures", default="figures", help="where notebooks save figures")
    notebooks.add_argument("--smoke", action="store_true", help="tiny data and epochs")
    notebooks.add_argument("--data-source", default="auto", choices=["auto", "real", "offline"])
    notebooks.add_argument("--only", nargs="*", help="run only notebooks whose name contains these")
    notebooks.set_defaults(func=_notebooks)

    bench = sub.add_parser("bench", help="speed and memory benchmarks (see benchmarks/)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_bench)

    try:
        from rnn_tf.data.registry import register_cli
    except ImportError:  # the datasets command is optional until the loaders exist
        register_cli = None
    if register_cli is not None:
        register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
