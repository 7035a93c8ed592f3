"""The benchmarks' command line: `python -m benchmarks` from the repository root (`make bench`).

    python -m benchmarks                                  # both suites, default shapes
    python -m benchmarks train-step --contenders vanilla_bptt_xla simple_rnn --rounds 16
    python -m benchmarks scaling --no-memory --timesteps-grid 10 100 1000
    python -m benchmarks --quick --out /tmp/bench         # seconds: checks that it runs
    python -m benchmarks profile --contenders vanilla_fit simple_rnn   # where a step's time goes
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

from benchmarks.contenders import CONTENDERS, QUICK_SHAPE, Shape
from benchmarks.profile_step import ProfileConfig, check_profilable, format_profile, run_profile
from benchmarks.report import (
    DEFAULT_OUT,
    format_readme_table,
    format_scaling_table,
    format_train_step_table,
)
from benchmarks.scaling import ScalingConfig, run_scaling
from benchmarks.train_step import TrainStepConfig, run_train_step

QUICK_CONTENDERS = ("vanilla_bptt", "simple_rnn", "torch_rnn")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Speed and memory benchmarks of VanillaRNN vs Keras and PyTorch RNNs.",
    )
    parser.add_argument("suite", nargs="?", default="all",
                        choices=["all", "train-step", "scaling", "profile"],
                        help="all (default) runs train-step and scaling; profile is separate")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help=f"folder for JSON and PNG (default: {DEFAULT_OUT})")
    parser.add_argument("--quick", action="store_true",
                        help="tiny shapes and repeats: checks the suite runs, measures nothing")
    shape = parser.add_argument_group("train-step shapes")
    defaults = Shape()
    shape.add_argument("--batch", type=int, default=defaults.batch)
    shape.add_argument("--timesteps", type=int, default=defaults.timesteps)
    shape.add_argument("--input-dim", type=int, default=defaults.input_dim)
    shape.add_argument("--units", type=int, default=defaults.units)
    shape.add_argument("--output-dim", type=int, default=defaults.output_dim)
    timing = parser.add_argument_group("timing")
    timing.add_argument("--contenders", nargs="+", choices=sorted(CONTENDERS),
                        help="train-step contenders (default: all); for profile, the ones "
                             "to profile (default: vanilla_fit)")
    timing.add_argument("--repeats", type=int, default=TrainStepConfig.repeats)
    timing.add_argument("--rounds", type=int, default=TrainStepConfig.rounds)
    timing.add_argument("--warmup", type=int, default=TrainStepConfig.warmup)
    timing.add_argument("--matmul-n", type=int, default=TrainStepConfig.matmul_n)
    timing.add_argument("--threads", type=int, default=None,
                        help="intra-op threads of TensorFlow and PyTorch (default: their own)")
    scaling = parser.add_argument_group("scaling")
    scaling.add_argument("--scaling-contenders", nargs="+", choices=sorted(CONTENDERS))
    scaling.add_argument("--timesteps-grid", type=int, nargs="+")
    scaling.add_argument("--timesteps-batch", type=int)
    scaling.add_argument("--units-grid", type=int, nargs="+")
    scaling.add_argument("--memory-grid", type=int, nargs="+")
    scaling.add_argument("--truncate", type=int)
    scaling.add_argument("--memory-jobs", type=int, help="memory subprocesses run at once")
    scaling.add_argument("--no-memory", action="store_true", help="skip the memory sweep")
    scaling.add_argument("--budget", type=float, help="seconds of timing per scaling point")
    profile = parser.add_argument_group("profile")
    profile.add_argument("--profile-steps", type=int, default=ProfileConfig.steps,
                         help="training steps run under the profiler")
    profile.add_argument("--timeline-min-us", type=float, default=ProfileConfig.min_us,
                         help="shortest event shown in the step's timeline")
    return parser


def _shape_from_args(args: argparse.Namespace) -> Shape:
    return Shape(args.batch, args.timesteps, args.input_dim, args.units, args.output_dim)


def profile_config_from_args(args: argparse.Namespace) -> ProfileConfig:
    """The profile suite's settings from parsed arguments (and `--quick`)."""
    if args.quick:
        config = ProfileConfig(shape=QUICK_SHAPE, steps=2, warmup=1, min_us=0.0)
    else:
        config = ProfileConfig(shape=_shape_from_args(args), steps=args.profile_steps,
                               min_us=args.timeline_min_us)
    if args.contenders:
        config.contenders = tuple(args.contenders)
    return config


def configs_from_args(args: argparse.Namespace) -> tuple[TrainStepConfig, ScalingConfig]:
    """Translate parsed arguments (and `--quick`) into the two suites' settings."""
    shape = _shape_from_args(args)
    train = TrainStepConfig(shape=shape, repeats=args.repeats, rounds=args.rounds,
                            warmup=args.warmup, matmul_n=args.matmul_n,
                            torch_threads=args.threads)
    scaling = ScalingConfig(base=shape)
    if args.quick:
        train = TrainStepConfig(shape=QUICK_SHAPE, contenders=QUICK_CONTENDERS,
                                repeats=2, rounds=2, warmup=1, matmul_n=128,
                                torch_threads=args.threads)
        scaling = ScalingConfig(
            contenders=("vanilla_bptt",), timesteps_grid=(4, 16), timesteps_batch=2,
            units_grid=(4, 8), base=QUICK_SHAPE, memory_grid=(16,), memory_batch=2,
            truncate=4, memory_jobs=2, budget_s=0.0, min_repeats=1, max_repeats=1, rounds=1,
        )
    if args.contenders:
        train.contenders = tuple(args.contenders)
    overrides = {
        "contenders": tuple(args.scaling_contenders) if args.scaling_contenders else None,
        "timesteps_grid": tuple(args.timesteps_grid) if args.timesteps_grid else None,
        "timesteps_batch": args.timesteps_batch,
        "units_grid": tuple(args.units_grid) if args.units_grid else None,
        "memory_grid": tuple(args.memory_grid) if args.memory_grid else None,
        "truncate": args.truncate,
        "memory_jobs": args.memory_jobs,
        "budget_s": args.budget,
    }
    for key, value in overrides.items():
        if value is not None:
            setattr(scaling, key, value)
    if args.no_memory:
        scaling.memory = False
    return train, scaling


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks [all|train-step|scaling] [--out DIR] [--quick] ...`; returns 0."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"argument --out: must be a folder that can be created; received {out} "
                     f"({error.strerror or error})")
    if not os.access(out, os.W_OK | os.X_OK):
        parser.error(f"argument --out: must be a writable folder; received {out}")
    if args.suite == "profile":
        try:
            check_profilable(args.contenders or ())
        except ValueError as error:
            parser.error(f"argument --contenders: profile reads TensorFlow's trace. {error}")
    if args.profile_steps < 1:
        parser.error(f"argument --profile-steps: must be a positive integer; "
                     f"received {args.profile_steps}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.threads:
        import tensorflow as tf

        # Must happen before TensorFlow runs its first op.
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    train, scaling = configs_from_args(args)
    if args.suite in ("all", "train-step"):
        results, path = run_train_step(train, args.out)
        print(format_train_step_table(results))
        print("\nFor the README:\n\n" + format_readme_table(results))
        print(f"\nwrote {path}")
    if args.suite == "profile":
        results, path = run_profile(profile_config_from_args(args), args.out)
        print(format_profile(results))
        print(f"\nwrote {path}")
    if args.suite in ("all", "scaling"):
        results, path = run_scaling(scaling, args.out)
        print(format_scaling_table(results))
        print(f"\nwrote {path} and {', '.join(results['figures'].values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
