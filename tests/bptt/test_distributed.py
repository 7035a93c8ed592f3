"""tf.distribute and fault tolerance, each run in fresh processes by train_script.py:
MirroredStrategy over 2 logical CPUs, MultiWorkerMirroredStrategy with 2 workers on
127.0.0.1, and a SIGKILL mid-epoch followed by a resume from the last checkpoint."""

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).with_name("train_script.py")
LOSS_RTOL = 1e-5  # float32 sums in a different order across replicas

pytestmark = pytest.mark.slow


def _run(*args, env=None, timeout=300):
    out = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_trainer_under_mirrored_strategy_matches_single_device():
    single = _run("--mode", "single")
    mirrored = _run("--mode", "mirrored")
    assert mirrored["replicas"] == 2
    np.testing.assert_allclose(mirrored["losses"], single["losses"], rtol=LOSS_RTOL)


def test_keras_fit_under_mirrored_strategy_matches_single_device():
    single = _run("--mode", "fit-single")
    mirrored = _run("--mode", "fit-mirrored")
    assert mirrored["replicas"] == 2
    np.testing.assert_allclose(mirrored["losses"], single["losses"], rtol=LOSS_RTOL)


def test_trainer_under_two_worker_multi_worker_strategy_matches_single_device():
    single = _run("--mode", "single")
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            subprocess.Popen(
                [sys.executable, str(SCRIPT), "--mode", "multiworker"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env={**os.environ, "TF_CONFIG": json.dumps(config)},
            )
        )
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=300)
        assert process.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    for result in results:
        assert result["replicas"] == 2
        np.testing.assert_allclose(result["losses"], single["losses"], rtol=LOSS_RTOL)


def _weights(path):
    with np.load(path) as data:
        return [data[k] for k in sorted(data.files, key=lambda k: int(k.split("_")[1]))]


def test_sigkill_mid_epoch_then_resume_ends_with_the_uninterrupted_weights(tmp_path):
    _run(
        "--epochs",
        "3",
        "--checkpoint-dir",
        str(tmp_path / "straight"),
        "--weights-out",
        str(tmp_path / "straight.npz"),
    )

    checkpoints = str(tmp_path / "killed")
    args = [
        sys.executable,
        str(SCRIPT),
        "--epochs",
        "3",
        "--checkpoint-dir",
        checkpoints,
        "--weights-out",
        str(tmp_path / "resumed.npz"),
    ]
    victim = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in victim.stdout:
        if line.startswith("saved 1 2"):  # epoch 2, half way through its 4 batches
            victim.send_signal(signal.SIGKILL)
            break
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    assert not (tmp_path / "resumed.npz").exists()

    resumed = subprocess.run(args, capture_output=True, text=True, timeout=300, check=True)
    ran = json.loads(resumed.stdout.strip().splitlines()[-1])["losses"]
    assert len(ran) == 2  # it resumed inside epoch 2 instead of starting over
    for a, b in zip(_weights(tmp_path / "straight.npz"), _weights(tmp_path / "resumed.npz")):
        np.testing.assert_array_equal(a, b)


def test_a_save_cut_short_never_replaces_the_last_good_checkpoint(tmp_path):
    import keras

    from rnn_tf import VanillaRNN
    from rnn_tf.bptt import BPTTTrainer

    x = np.random.default_rng(0).normal(size=(16, 5, 3)).astype("float32")
    y = np.random.default_rng(1).integers(0, 4, size=(16, 5))
    model = keras.Sequential(
        [keras.Input((5, 3)), VanillaRNN(8, output_dim=4, return_sequences=True)]
    )
    def killed_in_epoch_2(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt("killed")

    trainer = BPTTTrainer(model, from_logits=True, verbose=0, checkpoint_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(x, y, epochs=2, batch_size=8, callbacks=[
            keras.callbacks.LambdaCallback(on_epoch_begin=killed_in_epoch_2)
        ])
    (good,) = [p.name for p in tmp_path.iterdir()]
    # What a process killed while writing leaves behind: a temporary folder, never
    # a folder under a checkpoint's name.
    partial = tmp_path / ".ckpt-000002.partial-12345"
    partial.mkdir()
    (partial / "weights.index").write_bytes(b"partial")
    resumed = BPTTTrainer(model, from_logits=True, verbose=0, checkpoint_dir=tmp_path)
    history = resumed.fit(x, y, epochs=2, batch_size=8)
    assert history.epochs == 1  # restored epoch 1 from the good checkpoint, ran epoch 2
    assert good == "ckpt-000001"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-000001", "ckpt-000002"]
