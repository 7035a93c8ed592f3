"""Run by the distribution and resume tests in fresh processes (TensorFlow's device
setup and SIGKILL both need a process of their own). Prints one JSON line of results."""

import argparse
import json
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument(
    "--mode",
    choices=["single", "mirrored", "multiworker", "fit-single", "fit-mirrored"],
    default="single",
)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--checkpoint-dir")
parser.add_argument("--weights-out")
args = parser.parse_args()

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

if args.mode in ("mirrored", "fit-mirrored"):
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
tf.config.experimental.enable_op_determinism()

import keras  # noqa: E402

from rnn_tf import VanillaRNN  # noqa: E402
from rnn_tf.bptt import BPTTTrainer  # noqa: E402

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 8, 3)).astype("float32")
y = rng.integers(0, 4, size=(64, 8))

if args.mode == "multiworker":
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
elif args.mode in ("mirrored", "fit-mirrored"):
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
else:
    strategy = None


def build():
    keras.utils.set_random_seed(0)  # identical initial weights in every mode
    return keras.Sequential(
        [keras.Input((8, 3)), VanillaRNN(16, output_dim=4, return_sequences=True)]
    )


if args.mode.startswith("fit"):
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build()
        model.compile(
            keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        )
    history = model.fit(x, y, batch_size=16, epochs=args.epochs, shuffle=False, verbose=0)
    losses = history.history["loss"]
else:
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build()
    trainer = BPTTTrainer(
        model,
        from_logits=True,
        learning_rate=0.1,
        verbose=0,
        strategy=strategy,
        checkpoint_dir=args.checkpoint_dir,
        checkpoint_every=1 if args.checkpoint_dir else None,
    )
    if args.checkpoint_dir:
        from rnn_tf.bptt.checkpoints import RunCheckpoints

        saving = RunCheckpoints.save

        def announce(self, position):  # lets the parent kill us mid-epoch
            saving(self, position)
            print(f"saved {position.epoch} {position.batch}", flush=True)

        RunCheckpoints.save = announce
    history = trainer.fit(
        x, y, epochs=args.epochs, batch_size=16, shuffle=args.checkpoint_dir is not None
    )
    losses = history.history["loss"]

if args.weights_out:
    np.savez(args.weights_out, *[np.asarray(w) for w in model.weights])
print(
    json.dumps(
        {
            "losses": losses,
            "replicas": (strategy or tf.distribute.get_strategy()).num_replicas_in_sync,
        }
    ),
    flush=True,
)
sys.exit(0)
