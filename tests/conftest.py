"""Shared test setup: no network, quiet TensorFlow, headless matplotlib, seeds, shared-data
lookup, and a spy on the fused op's batch slices."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("AUTOGRAPH_STRICT_CONVERSION", "1")

import ipaddress  # noqa: E402
import pathlib  # noqa: E402
import socket  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def _this_machine(host) -> bool:
    """A loopback address or name, or the wildcard a server binds to."""
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


@pytest.fixture(autouse=True)
def _only_this_machine(monkeypatch):
    """Tests never touch the network: a Python connection (`connect`) or name lookup
    (`getaddrinfo`) beyond this machine raises. Code that opens sockets in C is not seen."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if isinstance(address, tuple) and not _this_machine(address[0]):
            raise OSError(f"tests must not touch the network (connect to {address})")
        return real_connect(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _this_machine(host):
            raise socket.gaierror(f"tests must not touch the network (lookup of {host})")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _seed_everything():
    keras.utils.set_random_seed(1234)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def shared_data_dir():
    """The real datasets of ../shared/data (or RNN_TF_DATA_DIR); skip when absent."""
    candidates = [os.environ.get("RNN_TF_DATA_DIR"), str(SHARED_DATA)]
    for candidate in candidates:
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate)
    pytest.skip("real datasets not found in ../shared/data or RNN_TF_DATA_DIR")


@pytest.fixture
def slices_built(monkeypatch):
    """The slice counts each time the fused op built its sliced path (`slice_sizes` is
    called only there)."""
    from rnn_tf.bptt import fused

    built = []
    original = fused.slice_sizes

    def counting(rows, parts):
        built.append(parts)
        return original(rows, parts)

    monkeypatch.setattr(fused, "slice_sizes", counting)
    return built
