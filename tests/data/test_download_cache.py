"""The download cache under faults: killed downloads, two processes, slow mirrors, user files.

Every test serves its bytes from a local 127.0.0.1 server it starts, and is bounded in time.
The concurrency and kill tests run real Python processes.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from rnn_tf.data import Download, _cache, _download
from rnn_tf.data._cache import CorruptDataError, DataUnavailableError

WORKTREE = pathlib.Path(__file__).resolve().parents[2]
PAYLOAD = bytes(range(256)) * 1200  # 307,200 bytes
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()

# A child process that imports first, then waits for the test's "go" file, so that two
# children reach the download at the same moment.
CHILD = """
import pathlib, sys, time
from rnn_tf.data import Download, _cache
ready, go, fname, url, digest, cache = sys.argv[1:7]
pathlib.Path(ready).touch()
while not pathlib.Path(go).exists():
    time.sleep(0.01)
print("RESULT", _cache.fetch(fname, Download(url, digest, cache)))
"""


def _child(tmp_path, tag, url, cache) -> tuple[subprocess.Popen, pathlib.Path]:
    ready = tmp_path / f"ready-{tag}"
    env = {**os.environ, "PYTHONPATH": str(WORKTREE), "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ready), str(tmp_path / "go"), "payload.bin", url,
         PAYLOAD_SHA256, str(cache)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, ready


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.timeout(240)
def test_two_processes_filling_an_empty_cache_both_succeed_with_one_download(
        scripted_server, tmp_path, cache):
    # About 2 s per download, so the second process arrives while the first is running.
    server = scripted_server({"payload.bin": PAYLOAD}, chunk=16384, delay=0.1)
    children = [_child(tmp_path, tag, server.url("payload.bin"), cache) for tag in "ab"]
    _wait_for(lambda: all(ready.exists() for _, ready in children), 180, "both imports")
    (tmp_path / "go").touch()
    for process, _ in children:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-2000:]
        assert f"RESULT {cache / 'payload.bin'}" in out
    assert (cache / "payload.bin").read_bytes() == PAYLOAD
    assert server.requests["payload.bin"] == 1


@pytest.mark.timeout(240)
def test_a_killed_download_leaves_no_file_under_the_final_name(scripted_server, tmp_path, cache):
    server = scripted_server({"payload.bin": PAYLOAD}, stall_after=len(PAYLOAD) // 2)
    process, ready = _child(tmp_path, "killed", server.url("payload.bin"), cache)
    (tmp_path / "go").touch()

    def half_written() -> bool:
        return any(p.is_file() and p.stat().st_size >= len(PAYLOAD) // 4
                   for p in cache.rglob("*"))

    try:
        _wait_for(half_written, 180, "half of the download on disk")
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    assert not (cache / "payload.bin").exists()


@pytest.mark.timeout(60)
def test_a_mirror_that_sends_bytes_slowly_hits_the_overall_deadline(scripted_server, cache):
    # One byte every 50 ms: every read succeeds, the whole file would take 15 s.
    server = scripted_server({"payload.bin": PAYLOAD[:300]}, chunk=1, delay=0.05)
    started = time.monotonic()
    with pytest.raises(DataUnavailableError, match="deadline of 2"):
        _cache.fetch("payload.bin", Download(server.url("payload.bin"), cache_dir=cache),
                     deadline=2.0)
    assert time.monotonic() - started < 8
    assert not (cache / "payload.bin").exists()


def _left_in(cache: pathlib.Path) -> list[str]:
    """Files in the cache besides the lock and record folder: a partial download would show."""
    return sorted(p.name for p in cache.iterdir() if p.name != _download.BOOKKEEPING)


@pytest.mark.timeout(60)
def test_a_trickle_under_the_speed_floor_is_abandoned_long_before_the_deadline(
        scripted_server, cache):
    # One byte every 0.2 s (5 bytes/s) against a floor of 1,000 bytes/s over 1 s windows.
    server = scripted_server({"payload.bin": PAYLOAD[:300]}, chunk=1, delay=0.2)
    started = time.monotonic()
    with pytest.raises(DataUnavailableError) as caught:
        _cache.fetch("payload.bin", Download(server.url("payload.bin"), cache_dir=cache),
                     min_speed=1000, min_speed_window=1.0, timeout=10)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert server.url("payload.bin") in message and "floor of 1,000 bytes/s" in message
    received = int(message.split(" bytes received in all")[0].split("(")[-1].replace(",", ""))
    assert 1 <= received < 300
    assert 1.0 <= elapsed < 5, elapsed   # one window, not the 1,800 s deadline
    assert _left_in(cache) == []


@pytest.mark.timeout(60)
def test_a_mirror_that_sends_nothing_is_abandoned_after_the_read_timeout(scripted_server, cache):
    server = scripted_server({"payload.bin": PAYLOAD}, stall_after=0)
    started = time.monotonic()
    with pytest.raises(DataUnavailableError, match=r"no byte arrived for 1 s \(0 bytes"):
        _cache.fetch("payload.bin", Download(server.url("payload.bin"), cache_dir=cache),
                     timeout=1.0)
    assert time.monotonic() - started < 5
    assert _left_in(cache) == []


@pytest.mark.timeout(60)
def test_a_slow_but_steady_download_above_the_floor_completes(scripted_server, cache):
    # 8 KiB every 50 ms, about 160 KB/s for about 2 s: four times the 0.5 s window, and
    # eight times the 20,000 bytes/s floor, the way a slow mirror of the IMDB archive runs.
    server = scripted_server({"payload.bin": PAYLOAD}, chunk=8192, delay=0.05)
    started = time.monotonic()
    path = _cache.fetch("payload.bin",
                        Download(server.url("payload.bin"), PAYLOAD_SHA256, cache),
                        min_speed=20_000, min_speed_window=0.5, timeout=5)
    assert time.monotonic() - started > 1.0   # it really was slow, so the floor was judged
    assert path.read_bytes() == PAYLOAD


def test_the_speed_floor_uses_a_sliding_window_not_the_whole_download():
    # 1 MB in the first second, then 10 bytes a second: the average since the start stays
    # far above 1,000 bytes/s for minutes, the last 2 s window falls under it at once.
    floor = _download._SpeedFloor(1000, 2.0, now=0.0)
    floor.check(1.0, 1_000_000)
    floor.check(2.0, 1_000_010)
    floor.check(2.9, 1_000_019)   # the window still reaches back into the fast second
    with pytest.raises(_download._TooSlow) as caught:
        floor.check(3.5, 1_000_025)
    # Measured from the last sample at or before 3.5 - 2 = 1.5 s: the one at 1.0 s.
    window_bytes, window_seconds = caught.value.args
    assert window_bytes == 25 and window_seconds == pytest.approx(2.5)
    assert 1_000_025 / 3.5 > 1000   # the average since the start was still above the floor


def test_a_users_own_file_in_the_data_folder_is_reported_not_replaced(
        http_server, monkeypatch, tmp_path):
    (http_server.root / "file.txt").write_text("published")
    data_dir, cache_dir = tmp_path / "my-data", tmp_path / "cache"
    data_dir.mkdir()
    (data_dir / "file.txt").write_text("my own edited copy")
    monkeypatch.setenv("RNN_TF_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RNN_TF_CACHE_DIR", str(cache_dir))
    published = hashlib.sha256(b"published").hexdigest()
    with pytest.raises(CorruptDataError, match="my-data/file.txt"):
        _cache.fetch("file.txt", Download(http_server.url("file.txt"), file_hash=published))
    assert (data_dir / "file.txt").read_text() == "my own edited copy"
    assert http_server.requests["file.txt"] == 0


def test_a_file_placed_in_the_cache_by_hand_is_reported_not_replaced(http_server, cache):
    (http_server.root / "file.txt").write_text("published")
    (cache / "file.txt").write_text("copied in by hand")
    with pytest.raises(CorruptDataError, match="did not download"):
        _cache.fetch("file.txt",
                     Download(http_server.url("file.txt"),
                              file_hash=hashlib.sha256(b"published").hexdigest(), cache_dir=cache))
    assert (cache / "file.txt").read_text() == "copied in by hand"


def test_a_typo_in_file_hash_keeps_the_valid_cached_file(http_server, cache):
    (http_server.root / "file.txt").write_text("published")
    good = hashlib.sha256(b"published").hexdigest()
    path = _cache.fetch("file.txt",
                        Download(http_server.url("file.txt"), file_hash=good, cache_dir=cache))
    typo = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(CorruptDataError, match="sha256"):
        _cache.fetch("file.txt",
                     Download(http_server.url("file.txt"), file_hash=typo, cache_dir=cache))
    assert path.read_text() == "published"
    assert _cache.fetch("file.txt",
                        Download(http_server.url("file.txt"), file_hash=good,
                                 cache_dir=cache)) == path


def test_a_cache_path_that_is_a_file_is_a_clear_error(http_server, tmp_path):
    (http_server.root / "file.txt").write_text("published")
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")
    with pytest.raises(NotADirectoryError, match=f"{not_a_folder}.*not a folder"):
        _cache.fetch("file.txt", Download(http_server.url("file.txt"), cache_dir=not_a_folder))
    assert http_server.requests["file.txt"] == 0


def test_an_unwritable_cache_is_a_clear_error_not_a_redirect(http_server, monkeypatch, cache):
    # Root may write anywhere, so the test makes os.access say what a normal user would see.
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if pathlib.Path(path).resolve() == cache.resolve() and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    (http_server.root / "file.txt").write_text("published")
    with pytest.raises(PermissionError, match=f"{cache}.*not writable"):
        _cache.fetch("file.txt", Download(http_server.url("file.txt"), cache_dir=cache))
    assert http_server.requests["file.txt"] == 0


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root can write into a read-only folder")
def test_a_read_only_cache_folder_is_a_clear_error(http_server, cache):
    (http_server.root / "file.txt").write_text("published")
    cache.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            _cache.fetch("file.txt", Download(http_server.url("file.txt"), cache_dir=cache))
    finally:
        cache.chmod(0o755)
