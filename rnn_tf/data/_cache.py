"""Where dataset files come from: the download cache, your data folders, or a download.

Two kinds of folder, kept apart:

- the **download cache**, the only folder this package writes to: `cache_dir=` if given,
  else `$RNN_TF_CACHE_DIR`, else `<repo>/datasets/.cache` in a source checkout, else
  `~/.rnn_tf`;
- **data folders**, read and never modified: `$RNN_TF_DATA_DIR` (point it at data you
  already have) and `<repo>/../shared/data`.

A file `fname` is looked up in the cache, then in the data folders, then downloaded into the
cache (see `_download`). Every local copy is hash-checked: against the pinned sha256 when
the caller has one, else against the `SHA256SUMS` file beside it. A copy that fails is
replaced only if this package downloaded it; anything else is reported, never deleted.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pathlib

from rnn_tf._checks import invalid
from rnn_tf.data import _download
from rnn_tf.data._download import sha256_of
from rnn_tf.data.errors import CorruptDataError, DataUnavailableError

__all__ = ["CorruptDataError", "DataUnavailableError", "Download", "fetch", "find_local",
           "sha256_of"]

logger = logging.getLogger("rnn_tf.data")

ENV_VAR = "RNN_TF_DATA_DIR"
CACHE_ENV_VAR = "RNN_TF_CACHE_DIR"
SUMS_FILE = "SHA256SUMS"
DEFAULT_DEADLINE = 1800.0
# A mirror is abandoned when, over the last MIN_SPEED_WINDOW seconds, it sent less than
# MIN_SPEED bytes a second on average (curl's --speed-limit / --speed-time), or when one
# read waits READ_TIMEOUT seconds for a byte. The 84 MB IMDB archive needs about 47 KB/s to
# finish within DEFAULT_DEADLINE; a steady download above MIN_SPEED is never cut short.
MIN_SPEED = 1024.0
MIN_SPEED_WINDOW = 30.0
READ_TIMEOUT = 30.0
_REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Download:
    """Where a dataset file comes from and where it is kept, passed around as one record.

    Every field left `None` takes the default: the registry's URL and pinned sha256, and
    the cache folder of `resolve_cache_dir`. The names are `keras.utils.get_file`'s.

    Attributes:
        origin: URL to download from instead of the registry's (a mirror, a test server).
        file_hash: sha256 of the file at `origin`, instead of the registry's pin.
        cache_dir: the download cache folder.

    Example:
        >>> load_translation(source="real", download=Download(cache_dir="/tmp/data"))
    """

    origin: str | None = None
    file_hash: str | None = None
    cache_dir: str | os.PathLike | None = None

    def or_defaults(self, origin: str | None, file_hash: str | None) -> Download:
        """This record with `origin` / `file_hash` filled in where it has none."""
        return dataclasses.replace(self, origin=self.origin or origin,
                                   file_hash=self.file_hash or file_hash)


def check_download(download) -> Download:
    """`download` as a `Download` (None: every default); a clear error for anything else."""
    if download is None:
        return Download()
    if not isinstance(download, Download):
        raise invalid("download", "None or rnn_tf.data.Download(origin=..., file_hash=..., "
                      "cache_dir=...)", download)
    return download


def repo_root() -> pathlib.Path | None:
    """The source checkout this package runs from, or `None` when installed as a wheel."""
    if (_REPO_ROOT / "pyproject.toml").is_file() and (_REPO_ROOT / "rnn_tf").is_dir():
        return _REPO_ROOT
    return None


def _cache_setting(cache_dir) -> tuple[pathlib.Path, str]:
    if cache_dir is not None:
        return pathlib.Path(cache_dir).expanduser(), f"cache_dir={str(cache_dir)!r}"
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return pathlib.Path(env).expanduser(), f"${CACHE_ENV_VAR}"
    root = repo_root()
    if root is not None:
        return root / "datasets" / ".cache", "the checkout's datasets/.cache"
    return pathlib.Path.home() / ".rnn_tf", "the default ~/.rnn_tf"


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> pathlib.Path:
    """The folder downloads go to.

    Args:
        cache_dir: explicit folder; wins over everything else.

    Returns:
        `cache_dir`, else `$RNN_TF_CACHE_DIR`, else `<repo>/datasets/.cache` in a source
        checkout, else `~/.rnn_tf`. The folder is not created here.

    Example:
        >>> resolve_cache_dir("/tmp/data")
        PosixPath('/tmp/data')
    """
    return _cache_setting(cache_dir)[0]


def checkout_data_dir() -> pathlib.Path | None:
    """`../shared/data` beside a source checkout, when it exists."""
    root = repo_root()
    if root is None or not (root.parent / "shared" / "data").is_dir():
        return None
    return root.parent / "shared" / "data"


def shared_data_dirs() -> list[pathlib.Path]:
    """Existing data folders, read-only for this package: `$RNN_TF_DATA_DIR`, `../shared/data`."""
    candidates = []
    env = os.environ.get(ENV_VAR)
    if env:
        candidates.append(pathlib.Path(env).expanduser())
    checkout = checkout_data_dir()
    if checkout is not None:
        candidates.append(checkout)
    return [path for path in candidates if path.is_dir()]


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
    """Folders searched for a file, in order (cache first), without duplicates."""
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

    A copy in the cache that this package downloaded and that no longer matches is skipped
    (the next download replaces it). Any other copy that fails its hash raises: it is
    someone's own file, and nothing here may replace or delete it.

    Args:
        fname: file name, e.g. `"spa-eng.zip"`.
        sha256: pinned hash; `None` falls back to the folder's `SHA256SUMS` entry.
        cache_dir: cache folder (see `resolve_cache_dir`).

    Returns:
        The path, or `None`.

    Raises:
        CorruptDataError: a copy this package did not download fails its hash.
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
        if directory == cache and _download.downloaded_here(candidate, actual):
            logger.warning(
                "Cached %s has sha256 %s, expected %s; it will be downloaded again.",
                candidate, actual, expected,
            )
            continue
        raise CorruptDataError(
            f"{candidate} has sha256 {actual} but {expected} was expected. rnn_tf did not "
            "download this file, so it is left as it is: replace it with the published file, "
            "move it away to download a fresh copy, or pass download=Download(file_hash=...) "
            "if it is the file you mean to use."
        )
    return None


def fetch(
    fname: str,
    download: Download,
    *,
    timeout: float = READ_TIMEOUT,
    deadline: float = DEFAULT_DEADLINE,
    min_speed: float = MIN_SPEED,
    min_speed_window: float = MIN_SPEED_WINDOW,
    verbose: int = 1,
) -> pathlib.Path:
    """A local, hash-checked path to `fname`, downloading it into the cache when needed.

    Two processes asking for the same missing file share one download: the second waits
    for the first (a lock in the cache folder), then finds the file.

    Args:
        fname: file name in the cache and data folders.
        download: its URL (`origin`; `None` when the file has no public URL), its sha256
            (`file_hash`, checked on local copies and downloads; `None` skips the check and
            the caller must check the file's structure) and the cache folder.
        timeout: seconds the connection or any one read may wait for a byte.
        deadline: seconds the whole download may take.
        min_speed: bytes per second the download must average over `min_speed_window`.
        min_speed_window: seconds of the sliding window `min_speed` is measured over.
        verbose: 1 shows a progress bar while downloading.

    Returns:
        Path to the file.

    Raises:
        DataUnavailableError: not on disk and the download failed, stalled under
            `min_speed`, missed its deadline, or there is no URL.
        CorruptDataError: a local copy or the download does not match `file_hash`.
        NotADirectoryError, PermissionError: the cache folder is a file or not writable.

    Example:
        >>> path = fetch("shakespeare.txt", Download(SHAKESPEARE_URL, SHAKESPEARE_SHA256))
    """
    sha256, cache_dir = download.file_hash, download.cache_dir
    local = find_local(fname, sha256, cache_dir)
    if local is not None:
        return local
    cache, setting = _cache_setting(cache_dir)
    if download.origin is None:
        searched = ", ".join(str(d) for d in search_dirs(cache_dir))
        raise DataUnavailableError(
            f"{fname} was not found in {searched} and has no download URL; put the file in "
            f"one of these folders or point {ENV_VAR} at a folder holding it."
        )
    _download.check_writable_folder(cache, setting=setting)
    with _download.exclusive(cache, fname, wait=deadline + 60):
        # Another process may have downloaded it while this one waited for the lock.
        local = find_local(fname, sha256, cache_dir)
        if local is not None:
            return local
        try:
            return _download.download(
                download.origin, cache / fname, sha256=sha256, deadline=deadline,
                timeout=timeout, min_speed=min_speed, min_speed_window=min_speed_window,
                verbose=verbose)
        except DataUnavailableError as error:
            raise DataUnavailableError(
                f"{error} When offline, copy the file into {cache} or point {ENV_VAR} at a "
                "folder holding it.") from error


def discard(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> bool:
    """Delete `path` if this package downloaded it into the cache and it is unchanged.

    Loaders call this when a downloaded file turns out unreadable, so the next call
    downloads a fresh copy instead of failing forever. Files in data folders, and files
    placed in the cache by hand, are never deleted.

    Returns:
        Whether the file was deleted.
    """
    path = pathlib.Path(path)
    cache = resolve_cache_dir(cache_dir)
    if not (path.is_file() and path.resolve().parent == cache.resolve()):
        return False
    if not _download.downloaded_here(path):
        logger.warning("%s is unreadable; rnn_tf did not download it, so it is left in place.",
                       path)
        return False
    try:
        _download.forget(path)
    except OSError:  # a read-only cache: report, do not mask the real error
        return False
    logger.warning("Deleted the unreadable downloaded file %s.", path)
    return True
