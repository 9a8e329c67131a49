"""Fixtures for the pascom target tests: a simulator, a fresh instance per test, and
targets pointed at it through the real ``[target]`` schema."""

from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest

from syncframe import ConnectorContext
from syncframe_pascom.schema import PascomTargetSchema
from syncframe_pascom.simulator import Instance, PascomSimulator
from syncframe_pascom.target import PascomTarget

from pascom_helpers import PASSWORD_ENV, Sleeps

_names = itertools.count(1)


@pytest.fixture(scope="session")
def simulator():
    with PascomSimulator() as sim:
        yield sim


@pytest.fixture
def instance(simulator: PascomSimulator, monkeypatch: pytest.MonkeyPatch) -> Instance:
    """A new, empty pascom instance (only the seeded ``admin``), healthy and fast."""
    inst = simulator.add_instance(f"t{next(_names)}")
    monkeypatch.setenv(PASSWORD_ENV, inst.password)
    return inst


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def section(simulator: PascomSimulator, instance: Instance) -> Callable[..., dict[str, Any]]:
    """``section(**overrides)`` -> a raw ``[target]`` section for the test's instance."""

    def make(**overrides: Any) -> dict[str, Any]:
        raw = {"url": simulator.instance_url(instance.name), "password_env": PASSWORD_ENV, "ca_bundle": simulator.ca_bundle}
        raw.update(overrides)
        return {k: v for k, v in raw.items() if v is not None}

    return make


@pytest.fixture
def make_target(section: Callable[..., dict[str, Any]], sleeps: Sleeps):
    """``make_target(profile=None, **target_settings)`` -> an open :class:`PascomTarget`."""
    opened: list[PascomTarget] = []

    def make(profile: dict[str, Any] | None = None, **settings: Any) -> PascomTarget:
        config = PascomTargetSchema().load(section(**settings))
        context = ConnectorContext(name="test", profile=dict(profile or {}))
        target = PascomTarget(config, context, sleep=sleeps)
        opened.append(target)
        return target

    yield make
    for target in opened:
        target.close()


@pytest.fixture
def target(make_target) -> PascomTarget:
    return make_target()
