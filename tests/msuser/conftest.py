"""Fixtures for the MSUSER source tests: a running Graph + login simulator and sources
pointed at it through real HTTPS (msal and requests unmodified)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from syncframe import ConnectorContext
from syncframe.http import RetryPolicy
from syncframe.state import StateStore
from syncframe_msuser.sandbox import SECRET_ENV, GraphSandbox
from syncframe_msuser.schema import MsuserSchema
from syncframe_msuser.simulator import GraphSimulator
from syncframe_msuser.source import MsuserSource

from msuser_helpers import Waits


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    simulator = GraphSimulator(tenant_domain="contoso.onmicrosoft.com")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def echoed() -> list[str]:
    return []


@pytest.fixture
def state_store(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore.open(str(tmp_path / "state.db"))
    yield store
    store.close()


@pytest.fixture
def make_source(
    sim: GraphSimulator, monkeypatch: pytest.MonkeyPatch, waits: Waits, echoed: list[str], state_store: StateStore
) -> Callable[..., MsuserSource]:
    """Build an MSUSER source for the simulator; keyword arguments override [source] keys
    (None removes one). ``clock=`` sets the source's clock, ``policy=`` its retries."""
    monkeypatch.setenv(SECRET_ENV, sim.client_secret)
    opened: list[MsuserSource] = []

    def make(clock: Callable[[], float] | None = None, policy: RetryPolicy | None = None, **overrides: Any) -> MsuserSource:
        section = {**GraphSandbox(simulator=sim).profile_section(), **overrides}
        section = {k: v for k, v in section.items() if v is not None}
        config = MsuserSchema().load(section)
        context = ConnectorContext(name="m365", profile={}, token_store=state_store.token_store("m365:source"), echo=echoed.append)
        kwargs: dict[str, Any] = {"policy": policy or RetryPolicy(attempts=5, budget_seconds=600, sleep=waits)}
        if clock is not None:
            kwargs["clock"] = clock
        source = MsuserSource(config, context, **kwargs)
        opened.append(source)
        return source

    yield make
    for source in opened:
        source.close()

