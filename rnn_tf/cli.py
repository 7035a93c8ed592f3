"""The `rnn-tf` command (also `python -m rnn_tf`): figures, notebooks, datasets.

The benchmarks are a source-checkout tool with their own command line:
`python -m benchmarks` (or `make bench`) from the repository root.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import sys

from rnn_tf._files import write_text_atomic


class UsageError(Exception):
    """A mistake in the command's arguments: printed as one line, exit code 2."""


def writable_folder(path: str | os.PathLike, option: str) -> pathlib.Path:
    """`path` as a folder this process can write into, created if missing.

    Checked before any long work starts, so a typo costs a second, not the whole run.
    """
    folder = pathlib.Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"Argument `{option}` must be a folder; received {folder}, a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"Argument `{option}` must be a folder that can be created; received {folder} "
            f"({error.strerror or error})"
        ) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"Argument `{option}` must be a writable folder; received {folder}")
    return folder


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; received {text!r}")
    return value


def _figure_formats(formats: list[str]) -> tuple[str, ...]:
    from matplotlib.backend_bases import FigureCanvasBase

    supported = FigureCanvasBase.get_supported_filetypes()
    unknown = [f for f in formats if f.lower().lstrip(".") not in supported]
    if unknown:
        raise UsageError(
            f"Argument `--formats` must name formats from {sorted(supported)}; "
            f"received {' '.join(unknown)}"
        )
    return tuple(formats)


def _figures(args) -> int:
    formats = _figure_formats(args.formats)
    out = writable_folder(args.out, "--out")
    from rnn_tf.figures import render_all

    paths = render_all(out, formats=formats, quick=args.quick)
    print(f"wrote {len(paths)} files to {out}")
    return 0


def _notebooks(args) -> int:
    from rnn_tf.notebooks import run_notebooks, select_notebooks

    try:
        paths = select_notebooks(args.directory, args.only)
    except ValueError as error:
        # The library names its arguments; the command's options are the same names.
        raise UsageError(str(error).replace("Argument `", "Argument `--")) from None
    out = writable_folder(args.out, "--out")
    figures = str(writable_folder(args.figures, "--figures").resolve())
    parameters = {"SMOKE": args.smoke, "DATA_SOURCE": args.data_source, "FIGURES_DIR": figures}
    if args.scale is not None:
        parameters["SCALE"] = args.scale
        import nbformat

        from rnn_tf.notebooks import declared_parameters

        takers = [p.stem[:2] for p in paths
                  if "SCALE" in declared_parameters(nbformat.read(p, as_version=4))]
        print(f"SCALE={args.scale!r} acts in notebooks {', '.join(takers) or '(none selected)'}; "
              "the others have one size")
    # Second precision, as the reports' dates have: a report of this run is never left out.
    began = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    runs = run_notebooks(args.directory, out, parameters, only=args.only, jobs=args.jobs)
    elapsed = (datetime.datetime.now(datetime.timezone.utc) - began).total_seconds()
    failed = [run.name for run in runs if not run.ok]
    from rnn_tf.course import results_report
    from rnn_tf.notebooks import runs_table

    table = runs_table(runs, jobs=args.jobs, elapsed_seconds=elapsed)
    print(table)
    report = results_report(figures, table, since=began)
    if report:
        results = out / "results.md"
        write_text_atomic(results, report)
        print(f"results table: {results}")
    for run in runs:
        if not run.ok:
            print(f"--- {run.name} failed:\n{run.error}", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    from rnn_tf.data.registry import register_cli

    parser = argparse.ArgumentParser(
        prog="rnn-tf",
        description="rnn_tf: figures, notebooks and datasets "
        "(benchmarks: `python -m benchmarks` in a source checkout)",
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
    notebooks.add_argument(
        "--scale", choices=["cpu", "full"],
        help='SCALE of the notebooks that take one (default: each notebook\'s own, "cpu"); '
        '"full" is the tutorial-size setting: hours on a CPU')
    notebooks.add_argument("--only", nargs="*", help="run only notebooks whose name contains these")
    notebooks.add_argument(
        "--jobs", type=_positive_int, default=1,
        help="notebooks run at a time, each in its own kernel (default 1); 2 suits 2 cores")
    notebooks.set_defaults(func=_notebooks)

    register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one `rnn-tf` command; returns its exit code (2 for a mistake in the arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
