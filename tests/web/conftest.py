"""Fixtures for the web console's tests: a world (state store, connector, accounts)
and a signed-in Starlette TestClient."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from starlette.testclient import TestClient

from syncframe.web import create_app
from web_support import World, build_world, signed_in


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = build_world(tmp_path)
    yield w
    w.store.close()


@pytest.fixture
def app(world: World):  # type: ignore[no-untyped-def]
    application = create_app(world.store, world.pm)
    yield application
    application.state.jobs.wait(30)


@pytest.fixture
def admin_client(app) -> TestClient:  # type: ignore[no-untyped-def]
    return signed_in(app)
