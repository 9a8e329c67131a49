"""Fixtures for the state store tests: a fresh store on SQLite and on PostgreSQL
(``postgres_url``, from ``tests/conftest.py``)."""

from __future__ import annotations

from typing import Iterator

import pytest

from syncframe.state import StateStore


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A URL where no store exists yet, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    store = StateStore.open(store_url)
    try:
        yield store
    finally:
        store.close()
