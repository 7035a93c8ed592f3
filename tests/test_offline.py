"""The suite's own guard: a test that reaches past this machine fails at once."""

import socket

import pytest


def test_a_connection_to_another_host_is_refused_before_it_is_made():
    with socket.socket() as sock, pytest.raises(OSError, match="must not touch the network"):
        sock.settimeout(1)  # should the guard fail, fail fast rather than wait for a route
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: reserved, never routed


def test_a_name_lookup_is_refused():
    with pytest.raises(socket.gaierror, match="must not touch the network"):
        socket.getaddrinfo("example.com", 443)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "localhost"])
def test_this_machine_stays_reachable(host):
    with socket.socket() as server:
        server.bind(("0.0.0.0", 0))
        server.listen(1)
        with socket.create_connection((host, server.getsockname()[1]), timeout=5):
            pass
