"""Fixtures shared by every test: cassette settings and the scrubbing host map."""

from __future__ import annotations

from pathlib import Path

import pytest

from cassette_support import CASSETTE_ROOT, HOSTS, HostMap, is_recording, vcr_settings


@pytest.fixture(scope="module")
def vcr_config() -> dict:
    return vcr_settings()


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    # tests/cassettes/<test module>/<test name>.yaml, whichever folder the test lives in
    return str(CASSETTE_ROOT / Path(request.node.fspath).stem)


@pytest.fixture(autouse=True)
def host_map() -> HostMap:
    """The placeholder map the scrubber applies; empty at the start of every test."""
    HOSTS.clear()
    yield HOSTS
    HOSTS.clear()


@pytest.fixture
def recording(request: pytest.FixtureRequest) -> bool:
    """True while cassettes are being (re-)recorded: start the simulators then."""
    return is_recording(request.config)
