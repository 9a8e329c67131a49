"""Fixtures for the GOOGLE source tests: a running Workspace simulator and sources
pointed at it through real HTTPS (google-auth and requests unmodified)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from google_helpers import Waits
from syncframe import ConnectorContext
from syncframe.sdk import RetryPolicy
from syncframe_google.schema import GoogleSchema
from syncframe_google.simulator import GoogleSimulator
from syncframe_google.source import GoogleSource


@pytest.fixture
def sim() -> Iterator[GoogleSimulator]:
    simulator = GoogleSimulator(domain="example.com")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def key_file(sim: GoogleSimulator, tmp_path: Path) -> Path:
    """The default service account's key, mode 0600."""
    assert sim.key is not None
    return sim.key.write(tmp_path / "google-sa.json")


@pytest.fixture
def section(sim: GoogleSimulator, key_file: Path) -> dict[str, Any]:
    """A ``[source]`` section pointing at the simulator."""
    return {"subject": sim.admin, "credentials_file": str(key_file), "api_url": sim.url, "token_url": sim.token_url, "ca_bundle": sim.ca_bundle}


@pytest.fixture
def make_source(section: dict[str, Any], waits: Waits) -> Iterator[Callable[..., GoogleSource]]:
    """Build a GOOGLE source for the simulator; keyword arguments override [source] keys
    (None removes one)."""
    opened: list[GoogleSource] = []

    def make(**overrides: Any) -> GoogleSource:
        values = {k: v for k, v in {**section, **overrides}.items() if v is not None}
        source = GoogleSource(GoogleSchema().load(values), ConnectorContext(name="google", profile={}),
                              policy=RetryPolicy(attempts=6, budget_seconds=600, backoff_base=1.0, backoff_max=64.0, sleep=waits))
        opened.append(source)
        return source

    yield make
    for source in opened:
        source.close()
