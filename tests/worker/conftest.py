"""Fixtures for the worker tests.

PostgreSQL comes from the shared fixtures in tests/conftest.py (``postgres_url``): a
throwaway database per test session, a fresh schema (``search_path``) per test, so the
queue's tables of one test never meet another's. No server: skipped, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from syncframe.testing import seed_accounts, write_identities


PLUGIN_ENV = {"SYNCFRAME_PLUGIN_MODULES": "syncframe.testing"}


def memory_profile(root: Path, name: str, *, interval: str | None = "60s", latency: float = 0.0, concurrency: int | None = None, **target: Any) -> str:
    """A MEMORY → memory profile whose files live under ``root/name``."""
    lines = [f'title = "{name}"']
    if interval:
        lines.append(f'interval = "{interval}"')
    if concurrency:
        lines.append(f"concurrency = {concurrency}")
    lines += ["[source]", 'type = "MEMORY"', f'path = "{root / name}.json"', "[target]", 'type = "memory"', f'path = "{root / name}.db"']
    if latency:
        lines.append(f"latency = {latency}")
    lines += [f"{k} = {v!r}" for k, v in target.items()]
    return "\n".join(lines) + "\n"


def seed_memory_connector(root: Path, name: str, identities: list[Any]) -> None:
    write_identities(root / f"{name}.json", identities)
    seed_accounts(root / f"{name}.db", [])


@pytest.fixture
def pm() -> Any:
    import syncframe.testing
    from syncframe.plugins import get_plugin_manager

    return get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing])


def syncframe_argv(state: str, *args: str) -> list[str]:
    """``syncframe --json --state STATE ARGS`` as a child process's argv."""
    return [sys.executable, "-c", "from syncframe.cli import main; main()", "--json", "--state", state, *args]


def child_env(**extra: str) -> dict[str, str]:
    # unbuffered: a worker that is SIGKILLed has printed every event it had
    return {**os.environ, **PLUGIN_ENV, "PYTHONUNBUFFERED": "1", **extra}


def events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
