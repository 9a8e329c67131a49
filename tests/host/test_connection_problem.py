"""Transport errors are told in words an administrator can act on, not by class name."""

from __future__ import annotations

import socket
import threading

import pytest
import requests
import urllib3

from syncframe.sdk import connection_problem


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _caught(url: str, **kwargs) -> requests.RequestException:
    with pytest.raises(requests.RequestException) as info:
        requests.get(url, **kwargs)
    return info.value


def test_nothing_listening_is_connection_refused() -> None:
    exc = _caught(f"http://127.0.0.1:{_closed_port()}/")
    assert connection_problem(exc) == "connection refused (nothing listens at that address and port)"


def test_a_server_that_hangs_up_is_a_closed_connection() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def hang_up() -> None:
            conn, _ = server.accept()
            conn.recv(1024)
            conn.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        exc = _caught(f"http://127.0.0.1:{server.getsockname()[1]}/", timeout=5)
        thread.join(5)
    assert connection_problem(exc) == "the connection was closed or reset by the other side"


def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        exc = _caught(f"http://127.0.0.1:{server.getsockname()[1]}/", timeout=0.2)
    assert connection_problem(exc) == "no answer in time (read timeout)"


def test_a_name_that_does_not_resolve_says_dns() -> None:
    # urllib3 raises this from getaddrinfo; built here because tests may not ask a resolver
    pool = urllib3.HTTPConnectionPool("no-such-host.invalid")
    reason = urllib3.exceptions.NameResolutionError("no-such-host.invalid", pool.ConnectionCls("no-such-host.invalid"), socket.gaierror(-2, "Name or service not known"))
    exc = requests.ConnectionError(urllib3.exceptions.MaxRetryError(pool, "/", reason))
    assert connection_problem(exc) == "the host name does not resolve (DNS)"
