"""Tests cannot reach the network: only 127.0.0.1/localhost/::1 (the simulators) are allowed.

127.0.0.2 is loopback too, so even with the guard off this test sends nothing off the
machine; with the guard on (pytest addopts: --block-network) the connect is refused
before any packet leaves.
"""

from __future__ import annotations

import socket

import pytest


def test_network_is_blocked_beyond_the_simulators(request):
    assert request.config.getoption("--block-network"), "run the suite with the project's addopts"
    with pytest.raises(Exception, match="(?i)network"):
        socket.create_connection(("127.0.0.2", 9), timeout=1)
