"""Loader tests run offline (tests/conftest.py lets only this machine be reached), and a
local HTTP server stands in for the mirrors.

Every test here gets a search path without the shared data folder, so a test sees exactly
the files it built or the folder it passes.
"""

from __future__ import annotations

import collections
import dataclasses
import http.server
import pathlib
import threading
import time

import pytest

from rnn_tf.data import _cache


@pytest.fixture(autouse=True)
def _no_shared_lookup(monkeypatch):
    # Tests that want the real files pass cache_dir=shared_data_dir explicitly; a test that
    # sets RNN_TF_DATA_DIR or RNN_TF_CACHE_DIR gets exactly that folder.
    monkeypatch.setattr(_cache, "checkout_data_dir", lambda: None)
    monkeypatch.delenv(_cache.ENV_VAR, raising=False)
    monkeypatch.delenv(_cache.CACHE_ENV_VAR, raising=False)


@dataclasses.dataclass
class LocalServer:
    """Serves the files of `root`; `requests[name]` counts GETs per file."""

    root: pathlib.Path
    port: int
    requests: collections.Counter

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


@pytest.fixture
def http_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    requests = collections.Counter()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            requests[self.path.lstrip("/")] += 1
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LocalServer(root, server.server_address[1], requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def cache(tmp_path) -> pathlib.Path:
    """An empty cache folder."""
    path = tmp_path / "cache"
    path.mkdir()
    return path


@dataclasses.dataclass
class ScriptedServer:
    """Serves in-memory files `chunk` bytes at a time, `delay` seconds apart.

    `stall_after` bytes into a file the server stops sending (keeps the connection open)
    until the test ends: a mirror that hangs, or a download to kill half way.
    """

    port: int
    files: dict
    requests: collections.Counter

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


@pytest.fixture
def scripted_server():
    servers, released = [], threading.Event()

    def start(files: dict, *, chunk: int = 65536, delay: float = 0.0,
              stall_after: int | None = None) -> ScriptedServer:
        requests = collections.Counter()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                requests[name] += 1
                if name not in files:
                    self.send_error(404)
                    return
                body = files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                limit = len(body) if stall_after is None else stall_after
                try:
                    for start_byte in range(0, limit, chunk):
                        self.wfile.write(body[start_byte:min(start_byte + chunk, limit)])
                        self.wfile.flush()
                        if delay:
                            time.sleep(delay)
                    if stall_after is not None:
                        released.wait(120)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append((server, thread))
        return ScriptedServer(server.server_address[1], files, requests)

    yield start
    released.set()
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()
