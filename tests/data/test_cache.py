"""Cache folder resolution, shared-data lookup and hash-checked downloads (rnn_tf.data._cache)."""

import logging

import pytest
from tiny_files import sha256

from rnn_tf.data import Download, _cache
from rnn_tf.data._cache import CorruptDataError, DataUnavailableError
from rnn_tf.data._common import check_fractions, check_source, choose


def test_cache_dir_argument_beats_env_beats_checkout(monkeypatch, tmp_path):
    assert _cache.resolve_cache_dir() == _cache.repo_root() / "datasets" / ".cache"
    monkeypatch.setenv(_cache.CACHE_ENV_VAR, str(tmp_path / "env"))
    assert _cache.resolve_cache_dir() == tmp_path / "env"
    assert _cache.resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"


def test_the_data_folder_variable_never_becomes_the_download_cache(monkeypatch, tmp_path):
    monkeypatch.setenv(_cache.ENV_VAR, str(tmp_path))
    assert _cache.resolve_cache_dir() == _cache.repo_root() / "datasets" / ".cache"
    assert tmp_path in _cache.shared_data_dirs()


def test_cache_dir_outside_a_checkout_is_home(monkeypatch, tmp_path):
    monkeypatch.setattr(_cache, "repo_root", lambda: None)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _cache.resolve_cache_dir() == tmp_path / ".rnn_tf"


def test_shared_data_dirs_include_env_and_sibling_shared_folder(monkeypatch, tmp_path):
    sibling = tmp_path / "shared" / "data"
    sibling.mkdir(parents=True)
    monkeypatch.setattr(_cache, "checkout_data_dir", lambda: sibling)
    monkeypatch.setenv(_cache.ENV_VAR, str(tmp_path))
    assert _cache.shared_data_dirs() == [tmp_path, sibling]


def test_download_then_cache_hit_makes_one_request(http_server, cache):
    (http_server.root / "file.txt").write_text("hello")
    expected = sha256(http_server.root / "file.txt")
    first = _cache.fetch("file.txt",
                         Download(http_server.url("file.txt"), file_hash=expected, cache_dir=cache))
    second = _cache.fetch("file.txt",
                          Download(http_server.url("file.txt"), file_hash=expected,
                                   cache_dir=cache))
    assert first == second == cache / "file.txt"
    assert first.read_text() == "hello"
    assert http_server.requests["file.txt"] == 1


def test_hash_mismatch_raises_and_leaves_nothing_in_cache(http_server, cache):
    (http_server.root / "file.txt").write_text("tampered")
    with pytest.raises(CorruptDataError, match="does not match the pinned sha256"):
        _cache.fetch("file.txt",
                     Download(http_server.url("file.txt"), file_hash="0" * 64, cache_dir=cache))
    assert not (cache / "file.txt").exists()


def test_a_stale_copy_downloaded_earlier_is_downloaded_again(http_server, cache, caplog):
    (http_server.root / "file.txt").write_text("old release")
    _cache.fetch("file.txt", Download(http_server.url("file.txt"), cache_dir=cache))
    (http_server.root / "file.txt").write_text("new release")  # and a new pinned hash
    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        path = _cache.fetch("file.txt",
                            Download(http_server.url("file.txt"),
                                     file_hash=sha256(http_server.root / "file.txt"),
                                     cache_dir=cache))
    assert path.read_text() == "new release"
    assert http_server.requests["file.txt"] == 2
    assert "downloaded again" in caplog.text


def test_http_error_is_data_unavailable_with_a_hint(http_server, cache):
    with pytest.raises(DataUnavailableError, match="could not be downloaded.*RNN_TF_DATA_DIR"):
        _cache.fetch("missing.txt", Download(http_server.url("missing.txt"), cache_dir=cache))
    assert not (cache / "missing.txt").exists()


def test_no_url_and_no_file_says_where_it_looked(cache):
    with pytest.raises(DataUnavailableError, match=str(cache)):
        _cache.fetch("nowhere.csv", Download(None, cache_dir=cache))


def test_shared_copy_is_checked_against_its_sha256sums(monkeypatch, tmp_path, cache):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "data.csv").write_text("a,b\n1,2\n")
    (shared / "SHA256SUMS").write_text(f"{sha256(shared / 'data.csv')}  data.csv\n")
    monkeypatch.setattr(_cache, "shared_data_dirs", lambda: [shared])
    assert _cache.fetch("data.csv", Download(None, cache_dir=cache)) == shared / "data.csv"
    (shared / "data.csv").write_text("a,b\n1,3\n")
    with pytest.raises(CorruptDataError, match="data.csv has sha256"):
        _cache.fetch("data.csv", Download(None, cache_dir=cache))


def test_discard_only_deletes_what_it_downloaded_into_the_cache(http_server, tmp_path, cache):
    outside = tmp_path / "shared.txt"
    outside.write_text("keep")
    by_hand = cache / "by-hand.txt"
    by_hand.write_text("keep too")
    (http_server.root / "bad.txt").write_text("unreadable")
    downloaded = _cache.fetch("bad.txt", Download(http_server.url("bad.txt"), cache_dir=cache))
    assert not _cache.discard(outside, cache) and outside.exists()
    assert not _cache.discard(by_hand, cache) and by_hand.exists()
    assert _cache.discard(downloaded, cache)
    assert not downloaded.exists()


def test_unknown_source_names_the_argument():
    with pytest.raises(ValueError, match="Argument `source`.*source='web'"):
        check_source("web")


@pytest.mark.parametrize("validation, test", [(1.0, 0.0), (-0.1, 0.1), (0.5, 0.5), (0.7, 0.4)])
def test_split_fractions_must_leave_training_data(validation, test):
    with pytest.raises(ValueError, match="fraction"):
        check_fractions(validation, test)


def test_auto_falls_back_with_a_warning_and_real_never_does(caplog):
    def unavailable():
        raise DataUnavailableError("offline")

    with caplog.at_level(logging.WARNING, logger="rnn_tf.data"):
        assert choose("auto", "demo", unavailable, lambda: "fallback") == "fallback"
    assert "OFFLINE FALLBACK" in caplog.text
    with pytest.raises(DataUnavailableError):
        choose("real", "demo", unavailable, lambda: "fallback")
    assert choose("offline", "demo", unavailable, lambda: "fallback") == "fallback"


def test_auto_does_not_hide_a_corrupt_file():
    def corrupt():
        raise CorruptDataError("bad hash")

    with pytest.raises(CorruptDataError):
        choose("auto", "demo", corrupt, lambda: "fallback")
