"""Every dataset the loaders read: file name, canonical URL, pinned sha256, size, license.

This is the one place those facts live; loaders look their files up here by name and read
them through `read_dataset_file`, the one helper that fetches, verifies and discards.

A sha256 is pinned only where it is known for certain: computed here from a file
byte-identical to the canonical one, copied from the hash Keras itself pins in its own
source (`keras/src/datasets/*.py`), or published with the file by public dataset registries.

Also the `rnn-tf datasets list|download|verify` command (`register_cli`).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.resources
import json
import os
import pathlib
from collections.abc import Callable
from typing import TypeVar

from rnn_tf._checks import check_choice
from rnn_tf.data import _cache
from rnn_tf.data._cache import Download, check_download
from rnn_tf.data.errors import CorruptDataError, DataUnavailableError

T = TypeVar("T")

_KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TF_DATA = "https://storage.googleapis.com/download.tensorflow.org/data/"


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """One dataset file.

    Attributes:
        name: registry key, e.g. `"spa_eng"`.
        fname: file name in the cache and shared folders (`None` for packaged data).
        url: canonical public URL (`None`: no stable public URL).
        sha256: pinned hash (`None`: not known offline; the loader checks structure).
        size: bytes, when known.
        license: license or terms of use, in short.
        loader: the `rnn_tf.data` function that reads it.
        description: one line.
        hash_source: where `sha256` comes from.
        package: for data shipped inside a Python package, `"module:relative/path"`.
    """

    name: str
    fname: str | None
    url: str | None
    sha256: str | None
    size: int | None
    license: str
    loader: str
    description: str
    hash_source: str = ""
    package: str | None = None


_COMPUTED = "computed from ../shared/data (byte-identical to the canonical file)"

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        DatasetInfo(
            name="imdb_reviews",
            fname="aclImdb_v1.tar.gz",
            url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
            size=84_125_825,
            license="no explicit license; research use, cite Maas et al. (ACL 2011)",
            loader="load_imdb",
            description="Stanford Large Movie Review Dataset v1: 50,000 labelled reviews",
            hash_source="published with the file by public dataset registries (e.g. Julia's "
                        "MLDatasets); not recomputed here",
        ),
        DatasetInfo(
            name="imdb_reviews_labeled",
            fname="aclImdb_labeled.tar.gz",
            url=None,
            sha256="caddd9bb065fd8e34c1c7cb26bc7dd459c62c83a8b0a8c7cf1a743fbe9032e8e",
            size=29_958_442,
            license="as imdb_reviews",
            loader="load_imdb",
            description="repackaged labelled part of aclImdb_v1 (shared data only, no URL)",
            hash_source="../shared/data/SHA256SUMS",
        ),
        DatasetInfo(
            name="imdb_npz",
            fname="imdb.npz",
            url=_KERAS_DATASETS + "imdb.npz",
            # Pinned by Keras in keras/src/datasets/imdb.py (a test re-reads it there).
            sha256="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
            size=None,
            license="as imdb_reviews (pre-tokenised by the Keras team)",
            loader="load_imdb_npz",
            description="Keras's pre-tokenised IMDB reviews (word ranks, pickled object arrays)",
            hash_source="pinned by Keras in keras/src/datasets/imdb.py; not recomputed here",
        ),
        DatasetInfo(
            name="imdb_word_index",
            fname="imdb_word_index.json",
            url=_KERAS_DATASETS + "imdb_word_index.json",
            sha256="027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
            size=1_641_221,
            license="as imdb_reviews",
            loader="load_imdb_npz",
            description="word -> rank index for imdb.npz (88,584 words)",
            hash_source=_COMPUTED,
        ),
        DatasetInfo(
            name="spa_eng",
            fname="spa-eng.zip",
            # The TF tutorial's URL, plain http as published; the pinned sha256 makes it safe.
            url="http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip",
            sha256="0c4fd7825d3d872488d38c157f784e035edab4f2ff0df25a2a208790ecb5b58f",
            size=2_638_744,
            license="CC BY 2.0 (Tatoeba); attribution www.manythings.org/anki and tatoeba.org",
            loader="load_translation",
            description="118,964 English-Spanish sentence pairs, spa-eng/spa.txt",
            hash_source=_COMPUTED,
        ),
        DatasetInfo(
            name="shakespeare",
            fname="shakespeare.txt",
            url=_TF_DATA + "shakespeare.txt",
            sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            size=1_115_394,
            license="public domain text (tiny-shakespeare, karpathy/char-rnn)",
            loader="load_shakespeare",
            description="tiny-shakespeare, 1,115,394 characters",
            hash_source=_COMPUTED,
        ),
        DatasetInfo(
            name="sp500",
            fname="sp500_daily_1927_2023.csv",
            url=None,
            sha256="baf4e47ab3d5f1328ab22772a836f3579af810d861a95742fd472f33ba180a7c",
            size=2_519_966,
            license="Yahoo Finance terms of use (^GSPC history; personal and educational use)",
            loader="load_stocks",
            description="S&P 500 index daily OHLCV 1927-12-30 .. 2023-12-28 (shared data only)",
            hash_source="../shared/data/SHA256SUMS",
        ),
        DatasetInfo(
            name="mnist",
            fname="mnist.npz",
            url=_KERAS_DATASETS + "mnist.npz",
            # Pinned by Keras in keras/src/datasets/mnist.py (a test re-reads it there).
            sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            size=None,
            license="CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
            loader="load_digit_strips(images='mnist')",
            description="70,000 28x28 handwritten digits (optional, online only)",
            hash_source="pinned by Keras in keras/src/datasets/mnist.py; not recomputed here",
        ),
        DatasetInfo(
            name="bokeh_stocks",
            fname=None,
            url=None,
            sha256=None,
            size=None,
            license="public domain (Quandl WIKI prices)",
            loader="load_stocks",
            description="AAPL, IBM, MSFT (2000-2013), GOOG (2004-2013) daily, in bokeh-sampledata",
            hash_source="installed with the package",
            package="bokeh_sampledata:_data/stocks.csv.gz",
        ),
        DatasetInfo(
            name="sklearn_digits",
            fname=None,
            url=None,
            sha256=None,
            size=None,
            license="CC BY 4.0 (UCI Optical Recognition of Handwritten Digits)",
            loader="load_digit_strips",
            description="1,797 8x8 handwritten digits, in scikit-learn",
            hash_source="installed with the package",
            package="sklearn.datasets:data/digits.csv.gz",
        ),
    ]
}


def get_info(name: str) -> DatasetInfo:
    """The registry entry for `name`; a `ValueError` lists the known names."""
    return DATASETS[check_choice(name, sorted(DATASETS), "name")]


def _package_path(info: DatasetInfo) -> pathlib.Path | None:
    module, relative = info.package.split(":")
    try:
        path = pathlib.Path(str(importlib.resources.files(module).joinpath(relative)))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


def _status(info: DatasetInfo, cache_dir) -> tuple[str, pathlib.Path | None]:
    if info.package is not None:
        path = _package_path(info)
        return ("packaged" if path else "missing"), path
    path = _cache.locate(info.fname, cache_dir)
    if path is None:
        return "missing", None
    cache = _cache.resolve_cache_dir(cache_dir).resolve()
    return ("cached" if path.resolve().parent == cache else "shared"), path


def list_datasets(cache_dir: str | os.PathLike | None = None) -> list[dict]:
    """Every known dataset and where it is on this machine (no hashing, no network).

    Args:
        cache_dir: cache folder (default: see `rnn_tf.data._cache.resolve_cache_dir`).

    Returns:
        One dict per dataset: the `DatasetInfo` fields plus `status` ("cached", "shared",
        "packaged" or "missing") and `path` (str or None).

    Example:
        >>> [d["name"] for d in list_datasets()][:2]
        ['imdb_reviews', 'imdb_reviews_labeled']
    """
    rows = []
    for info in DATASETS.values():
        status, path = _status(info, cache_dir)
        rows.append({**dataclasses.asdict(info), "status": status,
                     "path": None if path is None else str(path)})
    return rows


def download(
    name: str,
    download: Download | None = None,
    *,
    deadline: float = _cache.DEFAULT_DEADLINE,
    verbose: int = 1,
) -> pathlib.Path:
    """Make `name` available locally: cached copy, data-folder copy, or a checked download.

    Args:
        name: a registry key (see `list_datasets`).
        download: a mirror's URL and sha256 instead of the registry's, and the cache folder
            (see `Download`); default: the registry's URL and pin, the default cache.
        deadline: seconds the whole download may take.
        verbose: 1 shows a progress bar while downloading.

    Returns:
        Path to the file (for packaged data, the file inside the installed package).

    Raises:
        DataUnavailableError: offline and not on disk, the dataset has no URL, or the
            download stalled under the speed floor or missed its deadline.
        CorruptDataError: the file does not match its sha256.

    Example:
        >>> download("shakespeare")  # doctest: +SKIP
        PosixPath('.../datasets/.cache/shakespeare.txt')
    """
    return _fetch(name, check_download(download), deadline=deadline, verbose=verbose)


def _fetch(name: str, where: Download, *, deadline: float = _cache.DEFAULT_DEADLINE,
           verbose: int = 1) -> pathlib.Path:
    info = get_info(name)
    if info.package is not None:
        path = _package_path(info)
        if path is None:
            raise DataUnavailableError(
                f"{name} ships in the Python package {info.package.split(':')[0]}, which is "
                "not installed; install rnn_tf's dependencies."
            )
        return path
    return _cache.fetch(info.fname, where.or_defaults(info.url, info.sha256),
                        deadline=deadline, verbose=verbose)


def find_local(name: str, *, cache_dir: str | os.PathLike | None = None
               ) -> pathlib.Path | None:
    """The hash-checked local copy of `name`, or None; never downloads."""
    info = get_info(name)
    if info.package is not None:
        return _package_path(info)
    return _cache.find_local(info.fname, info.sha256, cache_dir)


def read_dataset_file(
    name: str,
    read: Callable[[pathlib.Path], T],
    download: Download | None = None,
) -> T:
    """Fetch `name` (local copy or checked download), then `read` it.

    When `read` finds the file unreadable (`CorruptDataError`), a copy this package
    downloaded is deleted so the next call fetches a fresh one; anyone else's file stays.

    Args:
        name: a registry key.
        read: turns the file's path into data; raises `CorruptDataError` on a bad file.
        download: a mirror's URL and sha256, and the cache folder (see `Download`).

    Returns:
        What `read` returned.

    Example:
        >>> text = read_dataset_file("shakespeare", pathlib.Path.read_text)  # doctest: +SKIP
    """
    where = check_download(download)
    path = _fetch(name, where)
    try:
        return read(path)
    except CorruptDataError:
        _cache.discard(path, where.cache_dir)
        raise


def verify(name: str, *, cache_dir: str | os.PathLike | None = None) -> dict:
    """Check the local copy of `name` against its pinned (or SHA256SUMS) sha256.

    Args:
        name: a registry key.
        cache_dir: cache folder.

    Returns:
        `{"name", "path", "expected", "actual", "ok", "detail"}`; `ok` is True or False,
        or None when there is nothing to compare (missing file, or no known hash).

    Example:
        >>> verify("shakespeare")["ok"]  # doctest: +SKIP
        True
    """
    info = get_info(name)
    status, path = _status(info, cache_dir)
    result = {"name": name, "path": None if path is None else str(path), "expected": None,
              "actual": None, "ok": None, "detail": status}
    if path is None:
        result["detail"] = "missing: not in " + ", ".join(
            str(d) for d in _cache.search_dirs(cache_dir))
        return result
    if info.package is not None:
        result["detail"] = "packaged with its Python package"
        return result
    expected = _cache.expected_sha256(path, info.sha256)
    result["expected"] = expected
    result["actual"] = _cache.sha256_of(path)
    if expected is None:
        result["detail"] = "no pinned sha256; the loader checks the file's structure"
    else:
        result["ok"] = result["actual"] == expected
        result["detail"] = "sha256 matches" if result["ok"] else "sha256 MISMATCH"
    return result


# === Command line ===


def _cli_list(args) -> int:
    rows = list_datasets(args.cache_dir)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"cache folder: {_cache.resolve_cache_dir(args.cache_dir)}")
    for row in rows:
        where = row["path"] or row["url"] or "-"
        print(f"{row['name']:<22} {row['status']:<9} {where}")
    return 0


def _cli_download(args) -> int:
    names = sorted(n for n, i in DATASETS.items() if i.url) if args.all else args.names
    if not names:
        print("name one or more datasets, or pass --all")
        return 2
    failed = 0
    for name in names:
        try:
            print(f"{name}: {download(name, Download(cache_dir=args.cache_dir))}")
        except (DataUnavailableError, OSError, ValueError) as error:
            failed += 1
            print(f"{name}: FAILED: {error}")
    return 1 if failed else 0


def _cli_verify(args) -> int:
    bad = 0
    for name in args.names or list(DATASETS):
        try:
            result = verify(name, cache_dir=args.cache_dir)
        except ValueError as error:
            print(f"{name}: {error}")
            bad += 1
            continue
        bad += result["ok"] is False
        print(f"{name:<22} {result['detail']}  {result['path'] or ''}")
    return 1 if bad else 0


def register_cli(subparsers) -> argparse.ArgumentParser:
    """Add `datasets list|download|verify` to an argparse subparsers object.

    Each subcommand sets `func(args) -> int` (the exit code) as its default.

    Args:
        subparsers: what `ArgumentParser.add_subparsers()` returned.

    Returns:
        The `datasets` parser.

    Example:
        >>> parser = argparse.ArgumentParser(prog="rnn-tf")
        >>> _ = register_cli(parser.add_subparsers(dest="command"))
        >>> args = parser.parse_args(["datasets", "list"])
        >>> args.func(args)  # prints one line per dataset
        0
    """
    parser = subparsers.add_parser("datasets", help="list, download or verify the datasets")
    commands = parser.add_subparsers(dest="datasets_command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--cache-dir", default=None,
                        help=f"cache folder (default: ${_cache.CACHE_ENV_VAR} or datasets/.cache)")

    listing = commands.add_parser("list", parents=[common], help="what exists and where it is")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=_cli_list)

    fetching = commands.add_parser("download", parents=[common],
                                   help="download into the cache (sha256-checked)")
    fetching.add_argument("names", nargs="*", metavar="NAME",
                          help=f"one or more of: {', '.join(DATASETS)}")
    fetching.add_argument("--all", action="store_true", help="every dataset with a URL")
    fetching.set_defaults(func=_cli_download)

    checking = commands.add_parser("verify", parents=[common],
                                   help="check local copies against their sha256")
    checking.add_argument("names", nargs="*", metavar="NAME",
                          help="datasets to check (default: all)")
    checking.set_defaults(func=_cli_verify)
    return parser
