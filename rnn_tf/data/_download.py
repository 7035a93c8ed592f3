"""One HTTP download into the cache folder: lock, temporary file, deadline, sha256, rename.

`keras.utils.get_file` is not used for the transfer because it writes straight to the final
file name (a killed download leaves a partial file there), sends an unwritable cache folder
to /tmp without saying so, and bounds each socket read but not the whole download (a mirror
that sends a byte a second never ends). Here a download also has a throughput floor: it is
abandoned when its average rate over a sliding window stays under a minimum (curl's
`--speed-limit` / `--speed-time`). The progress bar is still Keras's `Progbar`.

Inside the cache folder, `.downloads/` holds one lock file per name (so a second process
waits for the first download instead of racing it) and one record per downloaded file
(its sha256 and URL). Only a file whose record still matches its bytes counts as
downloaded here, and only such a file may ever be replaced or deleted.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import http.client
import json
import logging
import os
import pathlib
import tempfile
import time
import urllib.error
import urllib.request

import filelock
import keras

from rnn_tf.data.errors import CorruptDataError, DataUnavailableError

logger = logging.getLogger("rnn_tf.data")

BOOKKEEPING = ".downloads"
_CHUNK = 1 << 16


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_writable_folder(folder: pathlib.Path, *, setting: str) -> None:
    """Create `folder` if needed; a clear error when it is a file or cannot be written.

    Args:
        folder: the cache folder.
        setting: where the folder came from, named in the error ("cache_dir=...").

    Raises:
        NotADirectoryError: `folder` (or a parent) is a file.
        PermissionError: `folder` cannot be created or written.
    """
    hint = f"(from {setting}); pass another cache_dir= or set RNN_TF_CACHE_DIR"
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"The download cache {folder} is a file, not a folder {hint}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        raise NotADirectoryError(
            f"The download cache {folder} cannot be created: part of its path is a file, "
            f"not a folder {hint}") from error
    except OSError as error:
        raise PermissionError(
            f"The download cache {folder} is not writable: it cannot be created "
            f"({error.strerror}) {hint}") from error
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"The download cache {folder} is not writable {hint}")


def _record_path(path: pathlib.Path) -> pathlib.Path:
    return path.parent / BOOKKEEPING / f"{path.name}.json"


def downloaded_here(path: pathlib.Path, actual_sha256: str | None = None) -> bool:
    """Whether `path` is a file this downloader wrote and nobody has changed since."""
    try:
        recorded = json.loads(_record_path(path).read_text(encoding="utf-8"))["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return path.is_file() and recorded == (actual_sha256 or sha256_of(path))


def forget(path: pathlib.Path) -> None:
    """Delete a downloaded file and its record."""
    path.unlink(missing_ok=True)
    _record_path(path).unlink(missing_ok=True)


def _write_atomically(path: pathlib.Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".tmp", delete=False, encoding="utf-8") as handle:
        handle.write(text)
    os.replace(handle.name, path)


@contextlib.contextmanager
def exclusive(folder: pathlib.Path, fname: str, *, wait: float):
    """Hold the cross-process lock for `fname` in `folder`, waiting at most `wait` seconds.

    Raises:
        DataUnavailableError: another process held the lock for longer than `wait`.
    """
    bookkeeping = folder / BOOKKEEPING
    bookkeeping.mkdir(exist_ok=True)
    lock = filelock.FileLock(str(bookkeeping / f"{fname}.lock"))
    try:
        lock.acquire(timeout=wait)
    except filelock.Timeout as error:
        raise DataUnavailableError(
            f"Another process has been downloading {fname} into {folder} for more than "
            f"{wait:g} s (lock {lock.lock_file}); try again when it has finished.") from error
    try:
        # Leftovers of a download that was killed: this downloader's own temporary files.
        for leftover in folder.glob(f".{fname}.*.part"):
            leftover.unlink(missing_ok=True)
        yield
    finally:
        lock.release()


class _Deadline(Exception):
    """The whole download took longer than its deadline."""


class _TooSlow(Exception):
    """The average rate over the last window fell under the floor."""


class _SpeedFloor:
    """Average bytes per second over a sliding window of `window` seconds, against `minimum`.

    Judged only once a whole window has passed since the response started, so a slow first
    second (TCP slow start, a busy server) never counts against a mirror.
    """

    def __init__(self, minimum: float, window: float, now: float):
        self.minimum, self.window, self.started = minimum, window, now
        self.samples = collections.deque([(now, 0)])

    def check(self, now: float, received: int) -> None:
        self.samples.append((now, received))
        # Keep one sample at or before the window's start, the reference to measure from.
        while len(self.samples) > 1 and self.samples[1][0] <= now - self.window:
            self.samples.popleft()
        if now - self.started < self.window:
            return
        since, then = self.samples[0]
        if (received - then) / max(now - since, 1e-9) < self.minimum:
            raise _TooSlow(received - then, now - since)


def download(
    url: str,
    target: pathlib.Path,
    *,
    sha256: str | None,
    deadline: float,
    timeout: float | None,
    min_speed: float,
    min_speed_window: float,
    verbose: int,
) -> pathlib.Path:
    """Download `url` to `target` through a temporary file; the caller holds the lock.

    The bytes go to `.<name>.<random>.part` beside `target`, are hashed as they arrive,
    and replace `target` (`os.replace`) only when complete and matching `sha256`. On any
    failure the temporary file, and only it, is deleted.

    Args:
        url: where to download from.
        target: the final path, in the cache folder.
        sha256: expected hex digest, or None to accept any bytes.
        deadline: seconds the whole download may take.
        timeout: seconds the connection or any one read may wait (None: `deadline`).
        min_speed: bytes per second the download must average over `min_speed_window`.
        min_speed_window: seconds of the sliding window the average is taken over.
        verbose: 1 shows a `keras.utils.Progbar`.

    Returns:
        `target`.

    Raises:
        DataUnavailableError: HTTP or network error, an incomplete body, a read that waited
            `timeout`, a rate under `min_speed`, or the deadline.
        CorruptDataError: the bytes do not match `sha256` (nothing under `target` changes).
    """
    started = time.monotonic()
    name = target.name
    part = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{name}.", suffix=".part",
                                       delete=False)
    received, expected_size = 0, None
    digest = hashlib.sha256()
    advice = (f"Retry later, pass download=Download(origin=...) (a mirror), or copy the file "
              f"into {target.parent}.")
    try:
        with part:
            try:
                with urllib.request.urlopen(url, timeout=min(timeout or deadline, deadline)
                                            ) as response:
                    length = response.headers.get("Content-Length", "")
                    expected_size = int(length) if length.isdigit() else None
                    if verbose:
                        print(f"Downloading {name} from {url}")
                    progbar = keras.utils.Progbar(expected_size, verbose=verbose)
                    floor = _SpeedFloor(min_speed, min_speed_window, time.monotonic())
                    while chunk := response.read1(_CHUNK):
                        part.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        progbar.update(received)
                        now = time.monotonic()
                        if now - started > deadline:
                            raise _Deadline
                        floor.check(now, received)
            except _Deadline as error:
                raise DataUnavailableError(
                    f"The download of {name} from {url} did not finish within its deadline "
                    f"of {deadline:g} s ({received:,} bytes received); the mirror is too slow "
                    f"or stalled. {advice}") from error
            except _TooSlow as error:
                window_bytes, window_seconds = error.args
                raise DataUnavailableError(
                    f"The download of {name} from {url} was abandoned: it sent "
                    f"{window_bytes:,} bytes in the last {window_seconds:.0f} s, under the "
                    f"floor of {min_speed:,.0f} bytes/s ({received:,} bytes received in "
                    f"all); the mirror is stalled or too slow. {advice}") from error
            except TimeoutError as error:
                raise DataUnavailableError(
                    f"The download of {name} from {url} was abandoned: no byte arrived for "
                    f"{min(timeout or deadline, deadline):g} s ({received:,} bytes received); "
                    f"the mirror is stalled. {advice}") from error
            except urllib.error.HTTPError as error:
                raise DataUnavailableError(
                    f"{name} could not be downloaded from {url} (HTTP {error.code} "
                    f"{error.reason}).") from error
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                if isinstance(getattr(error, "reason", None), TimeoutError):
                    raise DataUnavailableError(
                        f"{name} could not be downloaded from {url}: the connection was not "
                        f"answered within {min(timeout or deadline, deadline):g} s. "
                        f"{advice}") from error
                raise DataUnavailableError(
                    f"{name} could not be downloaded from {url} ({error}).") from error
        if expected_size is not None and received != expected_size:
            raise DataUnavailableError(
                f"The download of {name} from {url} stopped after {received:,} of "
                f"{expected_size:,} bytes.")
        actual = digest.hexdigest()
        if sha256 and actual != sha256.lower():
            raise CorruptDataError(
                f"The download of {name} from {url} does not match the pinned sha256 "
                f"{sha256} (it has {actual}); it was discarded, and any copy already in "
                f"{target.parent} was left as it was.")
        # The record first: if the rename never happens, the record matches no file.
        _write_atomically(_record_path(target), json.dumps({"sha256": actual, "url": url}))
        os.replace(part.name, target)
    except BaseException:
        pathlib.Path(part.name).unlink(missing_ok=True)
        raise
    logger.info("Downloaded %s (%d bytes, sha256 %s) into %s.", url, received, actual, target)
    return target

