"""Where dataset files come from: the cache folder, the shared data folder, or a download.

A file `fname` is looked up in this order, first hit wins:

1. the cache folder: `cache_dir=` if given, else `$RNN_TF_DATA_DIR`, else
   `<repo>/datasets/.cache` when running from a source checkout, else `~/.rnn_tf`;
2. the shared data folders: `$RNN_TF_DATA_DIR` and `<repo>/../shared/data`;
3. a download with `keras.utils.get_file` (progress bar, sha256 check) into the cache folder.

Every local hit is hash-checked: against the pinned sha256 when the caller has one, else
against the `SHA256SUMS` file beside it. Files without any known hash are returned as they
are and the loader checks their structure instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pathlib
import socket

import keras

logger = logging.getLogger("rnn_tf.data")

ENV_VAR = "RNN_TF_DATA_DIR"
SUMS_FILE = "SHA256SUMS"
_REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


class DataUnavailableError(RuntimeError):
    """The real dataset is neither on disk nor downloadable (offline, no URL, HTTP error)."""


class CorruptDataError(ValueError):
    """A dataset file failed its sha256 check or is not in the expected format."""


def repo_root() -> pathlib.Path | None:
    """The source checkout this package runs from, or `None` when installed as a wheel."""
    if (_REPO_ROOT / "pyproject.toml").is_file() and (_REPO_ROOT / "rnn_tf").is_dir():
        return _REPO_ROOT
    return None


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """The folder downloads go to.

    Args:
        cache_dir: explicit folder; wins over everything else.

    Returns:
        `cache_dir`, else `$RNN_TF_DATA_DIR`, else `<repo>/datasets/.cache` in a source
        checkout, else `~/.rnn_tf`. The folder is not created here.

    Example:
        >>> resolve_cache_dir("/tmp/data")
        PosixPath('/tmp/data')
    """
    if cache_dir is not None:
        return pathlib.Path(cache_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return pathlib.Path(env).expanduser()
    root = repo_root()
    if root is not None:
        return root / "datasets" / ".cache"
    return pathlib.Path.home() / ".rnn_tf"


def shared_data_dirs() -> list[pathlib.Path]:
    """Existing folders that may hold the real files: `$RNN_TF_DATA_DIR`, `../shared/data`."""
    candidates = []
    env = os.environ.get(ENV_VAR)
    if env:
        candidates.append(pathlib.Path(env).expanduser())
    root = repo_root()
    if root is not None:
        candidates.append(root.parent / "shared" / "data")
    return [path for path in candidates if path.is_dir()]


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_sha256sums(directory: str | os.PathLike) -> dict[str, str]:
    """`{filename: sha256}` from the `sha256sum`-format `SHA256SUMS` in `directory`, if any."""
    path = pathlib.Path(directory) / SUMS_FILE
    if not path.is_file():
        return {}
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def search_dirs(cache_dir: str | os.PathLike | None = None) -> list[pathlib.Path]:
    """Folders searched for a file, in order, without duplicates."""
    dirs = []
    for path in [resolve_cache_dir(cache_dir), *shared_data_dirs()]:
        if path.resolve() not in [d.resolve() for d in dirs]:
            dirs.append(path)
    return dirs


def locate(fname: str, cache_dir: str | os.PathLike | None = None) -> pathlib.Path | None:
    """First existing copy of `fname` in the search folders, not hash-checked."""
    for directory in search_dirs(cache_dir):
        if (directory / fname).is_file():
            return directory / fname
    return None


def expected_sha256(path: pathlib.Path, sha256: str | None) -> str | None:
    """The hash a local file must have: the pinned one, else its `SHA256SUMS` entry."""
    if sha256:
        return sha256.lower()
    return read_sha256sums(path.parent).get(path.name)


def find_local(
    fname: str, sha256: str | None = None, cache_dir: str | os.PathLike | None = None
) -> pathlib.Path | None:
    """A hash-checked local copy of `fname`, or `None` when there is none.

    A stale copy in the cache folder is skipped (the download overwrites it); a bad copy
    in a shared folder raises, because nothing here may repair it.

    Args:
        fname: file name, e.g. `"spa-eng.zip"`.
        sha256: pinned hash; `None` falls back to the folder's `SHA256SUMS` entry.
        cache_dir: cache folder (see `resolve_cache_dir`).

    Returns:
        The path, or `None`.

    Raises:
        CorruptDataError: a shared copy does not match its hash.
    """
    cache = resolve_cache_dir(cache_dir)
    for directory in search_dirs(cache_dir):
        candidate = directory / fname
        if not candidate.is_file():
            continue
        expected = expected_sha256(candidate, sha256)
        if expected is None:
            return candidate
        actual = sha256_of(candidate)
        if actual == expected:
            return candidate
        if directory == cache:
            logger.warning(
                "Cached %s has sha256 %s, expected %s; it will be downloaded again.",
                candidate, actual, expected,
            )
            continue
        raise CorruptDataError(
            f"{candidate} has sha256 {actual} but {expected} was expected; the file is damaged "
            "or not the published one. Replace it, or remove it to download a fresh copy."
        )
    return None


@contextlib.contextmanager
def _socket_timeout(seconds: float | None):
    # get_file's urlretrieve has no timeout argument; without one a firewall that drops
    # packets makes source="auto" hang for minutes instead of falling back.
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def fetch(
    fname: str,
    origin: str | None,
    *,
    sha256: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    timeout: float | None = 60.0,
) -> pathlib.Path:
    """A local, hash-checked path to `fname`, downloading it into the cache when needed.

    Args:
        fname: file name in the cache and shared folders.
        origin: URL to download from; `None` when the file has no public URL.
        sha256: pinned hash checked on local copies and downloads; `None` skips the check
            (the caller must then check the file's structure).
        cache_dir: cache folder (see `resolve_cache_dir`).
        timeout: socket timeout in seconds for the download.

    Returns:
        Path to the file.

    Raises:
        DataUnavailableError: not on disk and the download failed or there is no URL.
        CorruptDataError: a copy or the download does not match `sha256` (a bad
            download is deleted, never left in the cache).

    Example:
        >>> path = fetch("shakespeare.txt", SHAKESPEARE_URL, sha256=SHAKESPEARE_SHA256)
    """
    local = find_local(fname, sha256, cache_dir)
    if local is not None:
        return local
    cache = resolve_cache_dir(cache_dir)
    searched = ", ".join(str(d) for d in search_dirs(cache_dir))
    if origin is None:
        raise DataUnavailableError(
            f"{fname} was not found in {searched} and has no download URL; put the file in "
            f"one of these folders or point {ENV_VAR} at a folder holding it."
        )
    target = cache / fname
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with _socket_timeout(timeout):
            path = keras.utils.get_file(
                fname=fname,
                origin=origin,
                file_hash=sha256,
                hash_algorithm="sha256",
                cache_dir=str(cache),
                cache_subdir="",
            )
    except ValueError as error:
        # get_file raises ValueError on a hash mismatch and leaves the bad file behind.
        target.unlink(missing_ok=True)
        raise CorruptDataError(
            f"The download of {fname} from {origin} does not match the pinned sha256 "
            f"{sha256}; the file was deleted. ({error})"
        ) from error
    except Exception as error:
        target.unlink(missing_ok=True)
        raise DataUnavailableError(
            f"{fname} is not in {searched} and could not be downloaded from {origin} "
            f"({error}). When offline, copy the file into {cache} or point {ENV_VAR} at a "
            "folder holding it."
        ) from error
    return pathlib.Path(path)


def discard(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> bool:
    """Delete `path` if it lives in the cache folder (never touches shared data).

    Loaders call this when a cached file turns out unreadable, so the next call downloads
    a fresh copy instead of failing forever.

    Returns:
        Whether the file was deleted.
    """
    path = pathlib.Path(path)
    cache = resolve_cache_dir(cache_dir)
    if not (path.is_file() and path.resolve().parent == cache.resolve()):
        return False
    try:
        path.unlink()
    except OSError:  # a read-only folder given as cache: report, do not mask the real error
        return False
    logger.warning("Deleted the unreadable cached file %s.", path)
    return True
