"""The dataset registry: plain-data listing, download, verify, and the `datasets` CLI."""

import argparse
import dataclasses
import inspect
import json

import pytest
from tiny_files import sha256

import rnn_tf.data
from rnn_tf.data import Download, _cache, registry


def test_public_api_is_importable():
    for name in rnn_tf.data.__all__:
        assert getattr(rnn_tf.data, name) is not None


def test_list_datasets_returns_plain_json_ready_rows(cache):
    rows = registry.list_datasets(cache)
    assert {row["name"] for row in rows} == set(registry.DATASETS)
    json.dumps(rows)
    for row in rows:
        assert row["status"] in {"cached", "shared", "packaged", "missing"}
        assert {"url", "sha256", "size", "license", "fname"} <= set(row)


def test_packaged_datasets_are_found_offline(cache):
    status = {row["name"]: row["status"] for row in registry.list_datasets(cache)}
    assert status["bokeh_stocks"] == status["sklearn_digits"] == "packaged"
    assert registry.download("sklearn_digits").name == "digits.csv.gz"


def test_every_pinned_hash_is_sha256_hex():
    for info in registry.DATASETS.values():
        if info.sha256 is not None:
            assert len(info.sha256) == 64 and int(info.sha256, 16) >= 0, info.name
        assert info.url is None or info.url.startswith(("http://", "https://"))


@pytest.mark.parametrize("module, name", [("imdb", "imdb_npz"), ("mnist", "mnist")])
def test_hashes_copied_from_keras_match_its_source(module, name):
    import importlib

    source = inspect.getsource(importlib.import_module(f"keras.src.datasets.{module}"))
    assert registry.DATASETS[name].sha256 in source


def test_the_official_imdb_archive_is_pinned():
    info = registry.DATASETS["imdb_reviews"]
    assert info.size == 84_125_825
    assert info.sha256 == "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"


def test_loaders_name_no_file_url_or_hash_of_their_own():
    # The registry is the one list: a loader module that spells a file name, URL or pinned
    # hash would be a second source of truth.
    import pathlib

    facts = [v for info in registry.DATASETS.values() for v in (info.url, info.sha256) if v]
    for module in ("imdb", "imdb_npz", "offline_reviews", "offline_numbers", "offline_play",
                   "stocks", "text", "translation", "digit_strips"):
        source = (pathlib.Path(rnn_tf.data.__file__).parent / f"{module}.py").read_text()
        assert not [fact for fact in facts if fact in source], module
        # Files are reached by registry name only, never by file name through the cache.
        assert "_cache" not in source and "bokeh_sampledata" not in source, module


@pytest.mark.needs_shared_data
def test_pinned_hashes_match_the_shared_sha256sums(shared_data_dir):
    sums = _cache.read_sha256sums(shared_data_dir)
    checked = 0
    for info in registry.DATASETS.values():
        if info.fname in sums and info.sha256:
            assert sums[info.fname] == info.sha256, info.name
            checked += 1
    assert checked >= 5


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="Argument `name`.*shakespeare"):
        registry.download("wikipedia")


@pytest.fixture
def served_text(http_server, monkeypatch):
    """The shakespeare entry pointed at the local server and a tiny file."""
    path = http_server.root / "shakespeare.txt"
    path.write_text("First Citizen:\nSpeak, speak.\n")
    info = dataclasses.replace(registry.DATASETS["shakespeare"],
                               url=http_server.url("shakespeare.txt"), sha256=sha256(path))
    monkeypatch.setitem(registry.DATASETS, "shakespeare", info)
    return http_server


def test_download_then_verify(served_text, cache):
    path = registry.download("shakespeare", download=Download(cache_dir=cache))
    assert path == cache / "shakespeare.txt"
    assert registry.download("shakespeare", download=Download(cache_dir=cache)) == path
    assert served_text.requests["shakespeare.txt"] == 1
    result = registry.verify("shakespeare", cache_dir=cache)
    assert result["ok"] is True and result["path"] == str(path)
    path.write_text("damaged")
    result = registry.verify("shakespeare", cache_dir=cache)
    assert result["ok"] is False and "MISMATCH" in result["detail"]


def test_verify_reports_missing_without_failing(cache):
    result = registry.verify("spa_eng", cache_dir=cache)
    assert result["ok"] is None and result["detail"].startswith("missing")


def _cli(*argv):
    parser = argparse.ArgumentParser(prog="rnn-tf")
    registry.register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["datasets", *argv])
    return args.func(args)


def test_cli_list_download_verify(served_text, cache, capsys):
    assert _cli("list", "--cache-dir", str(cache)) == 0
    assert "shakespeare" in capsys.readouterr().out
    assert _cli("list", "--json", "--cache-dir", str(cache)) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(registry.DATASETS)
    assert _cli("download", "shakespeare", "--cache-dir", str(cache)) == 0
    assert (cache / "shakespeare.txt").exists()
    assert _cli("verify", "shakespeare", "--cache-dir", str(cache)) == 0
    assert "sha256 matches" in capsys.readouterr().out
    (cache / "shakespeare.txt").write_text("damaged")
    assert _cli("verify", "shakespeare", "--cache-dir", str(cache)) == 1


def test_cli_download_failure_sets_exit_code(cache, capsys):
    assert _cli("download", "sp500", "--cache-dir", str(cache)) == 1
    assert "FAILED" in capsys.readouterr().out
