"""Checkpoints of a training run, and resuming from them.

Layout of a `checkpoint_dir`:

    ckpt-000007/                 one complete save: model + optimizer, and
        weights.index            state.json (position in the run and the run's key)
        weights.data-00000-of-00001
        state.json
    .ckpt-000008.partial-<pid>/  a save being written; renamed to ckpt-000008 when complete

A save is written to a temporary folder and renamed into place, so a process killed
while saving leaves no half checkpoint that resume could pick; the next run removes
such leftovers. Resume reads the newest checkpoint it can, falling back to older
ones when the newest is unreadable. A checkpoint only resumes the run it belongs to:
the run's key (weight shapes, data shape, batch size, optimizer, loss) must match.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

_COMPLETE = re.compile(r"^ckpt-(\d+)$")
_PARTIAL = re.compile(r"^\.ckpt-\d+\.partial-\d+$")
_PREFIX = "weights"
_STATE = "state.json"


@dataclass
class Position:
    """Where a run stands: `batch` batches of epoch `epoch` (0-based) are done."""

    epoch: int = 0
    batch: int = 0
    steps_done: int = 0
    finished: bool = False


def run_key(*, model, optimizer, loss_name: str, batch_size: int, x) -> dict:
    """What identifies a run: a checkpoint resumes only a run with the same key."""
    key = {
        "weight shapes": [list(w.shape) for w in model.weights],
        "data shape": str(x.element_spec) if isinstance(x, tf.data.Dataset) else np.shape(x),
        "batch_size": batch_size,
        "optimizer": type(optimizer).__name__,
        "loss": loss_name,
    }
    # Lists, not tuples, and plain ints: compares equal to a key read back from JSON.
    return json.loads(json.dumps(key, default=int))


class RunCheckpoints:
    """The checkpoints of one run in `folder` (the trainer's `checkpoint_dir`)."""

    def __init__(self, folder: str | os.PathLike, *, model, optimizer, key: dict, keep: int = 3):
        self.folder = os.fspath(folder)
        self.keep = keep
        self.key = key
        self._checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
        _check_writable(self.folder)
        for name in os.listdir(self.folder):
            if _PARTIAL.match(name):  # left by a process killed while saving
                shutil.rmtree(os.path.join(self.folder, name), ignore_errors=True)

    def _numbers(self) -> list[int]:
        matches = (_COMPLETE.match(name) for name in os.listdir(self.folder))
        return sorted((int(m.group(1)) for m in matches if m), reverse=True)

    def _path(self, number: int) -> str:
        return os.path.join(self.folder, f"ckpt-{number:06d}")

    def resume(self, *, log=print) -> Position:
        """Restore the newest readable checkpoint of this run; its position, or a fresh one.

        Raises `ValueError` when the folder holds another run's checkpoints, or when
        it holds checkpoints none of which can be read.
        """
        numbers = self._numbers()
        for number in numbers:
            path = self._path(number)
            try:
                with open(os.path.join(path, _STATE)) as file:
                    state = json.load(file)
                if state["key"] != self.key:
                    raise ValueError(self._another_run(state["key"], self.key))
                self._checkpoint.read(os.path.join(path, _PREFIX)).assert_existing_objects_matched()
            except (OSError, KeyError, json.JSONDecodeError, tf.errors.OpError) as error:
                log(f"Skipping unreadable checkpoint {path}: {type(error).__name__}")
                continue
            position = Position(**state["position"])
            if position.finished:
                log(f"{path} ends a finished run; starting a new run from the current weights")
                return Position(steps_done=position.steps_done)
            log(f"Resuming from {path}: epoch {position.epoch + 1}, batch {position.batch}")
            return position
        if numbers:
            raise ValueError(
                f"Argument `checkpoint_dir` ({self.folder}) holds checkpoints, none of which "
                "can be read; point `checkpoint_dir` at a new folder to start a new run"
            )
        return Position()

    def _another_run(self, theirs: dict, ours: dict) -> str:
        differences = "; ".join(
            f"{name}: {theirs.get(name)} there, {ours[name]} here"
            for name in ours
            if theirs.get(name) != ours[name]
        )
        return (
            f"Argument `checkpoint_dir` ({self.folder}) holds checkpoints of another run "
            f"({differences}). Point `checkpoint_dir` at a new folder to start this run, "
            "or call fit as that run did to resume it."
        )

    def save(self, position: Position) -> str:
        """Write a new checkpoint atomically and keep the newest `keep`; returns its path."""
        numbers = self._numbers()
        number = (numbers[0] if numbers else 0) + 1
        partial = os.path.join(self.folder, f".ckpt-{number:06d}.partial-{os.getpid()}")
        os.makedirs(partial)
        self._checkpoint.write(os.path.join(partial, _PREFIX))
        with open(os.path.join(partial, _STATE), "w") as file:
            json.dump({"key": self.key, "position": vars(position)}, file)
        os.rename(partial, self._path(number))
        for old in numbers[self.keep - 1 :]:
            shutil.rmtree(self._path(old), ignore_errors=True)
        return self._path(number)


def _check_writable(folder: str) -> None:
    problem = None
    if os.path.exists(folder) and not os.path.isdir(folder):
        problem = "it is a file"
    else:
        try:
            os.makedirs(folder, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            problem = f"{type(error).__name__}: {error.strerror or error}"
    if problem:
        raise ValueError(
            f"Argument `checkpoint_dir` must be a folder this process can write to; "
            f"received checkpoint_dir={folder!r} ({problem})"
        )
