"""Fixtures shared by every test: cassette settings, the scrubbing host map, and a
fresh PostgreSQL schema for state stores.

PostgreSQL: one throwaway database per test session (per xdist worker), one
schema per test, both dropped afterwards. When no server answers the tests
that need it are skipped, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

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


POSTGRES_URL = os.environ.get("SYNCFRAME_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """URL of a throwaway PostgreSQL database for this test session."""
    admin_url = make_url(POSTGRES_URL)
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"syncframe_state_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        reason = f"no PostgreSQL server answers at {admin_url.render_as_string(hide_password=True)}: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL is required)")
        pytest.skip(reason)
    try:
        yield admin_url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_database: URL) -> Iterator[str]:
    """URL of a fresh, empty schema (``search_path``) in the session's database."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
