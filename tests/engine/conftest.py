"""Fixtures for the engine tests: a workspace of files a MEMORY source and a
``memory`` (SQLite file) target read, and the ``syncframe`` CLI to drive them.

Every test gets its own directory (tmp_path), so tests run in parallel (-n 2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pytest
from click.testing import CliRunner

from syncframe import Identity
from syncframe.cli import cli
from syncframe.state import StateStore
from syncframe.testing import seed_accounts, target_accounts, write_identities

PLUGIN_ENV = {"SYNCFRAME_PLUGIN_MODULES": "syncframe.testing"}


def ident(n: int | str, upn: str | None = None, **kw: Any) -> Identity:
    """A member identity: source id ``id-<n>``, principal name ``user<n>@contoso.com``."""
    upn = upn or f"user{n}@contoso.com"
    kw.setdefault("display_name", f"User {n}")
    return Identity(source_id=f"id-{n}", username=upn, **kw)


@dataclass
class Workspace:
    """One connector's files: identities JSON, accounts DB, state DB, profile."""

    root: Path
    name: str = "contoso"
    source_extra: dict[str, Any] = field(default_factory=dict)
    target_extra: dict[str, Any] = field(default_factory=dict)

    @property
    def users(self) -> Path:
        return self.root / "users.json"

    @property
    def accounts_db(self) -> Path:
        return self.root / "accounts.db"

    @property
    def state(self) -> Path:
        return self.root / "state.db"

    @property
    def profile(self) -> Path:
        return self.root / f"{self.name}.toml"

    def env(self, **extra: str) -> dict[str, str]:
        return {**PLUGIN_ENV, "SYNCFRAME_STATE": str(self.state), **extra}

    def write_profile(self, mode: str = "sync", guard: Mapping[str, Any] | None = None, interval: str | None = None, **top: Any) -> str:
        lines = ['title = "Test connector"', f'mode = "{mode}"']
        if interval:
            lines.append(f'interval = "{interval}"')
        for key, value in top.items():
            lines.append(f"{key} = {json.dumps(value)}")
        if guard:
            lines.append("[guard]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in guard.items()]
        lines += ["[source]", 'type = "MEMORY"', f"path = {json.dumps(str(self.users))}"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in self.source_extra.items()]
        lines += ["[target]", 'type = "memory"', f"path = {json.dumps(str(self.accounts_db))}"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in self.target_extra.items()]
        text = "\n".join(lines) + "\n"
        self.profile.write_text(text)
        return text

    def set_users(self, identities: Iterable[Identity], **meta: Any) -> None:
        write_identities(self.users, identities, **meta)

    def seed(self, *accounts: Mapping[str, Any]) -> None:
        seed_accounts(self.accounts_db, accounts)

    def accounts(self) -> list[dict[str, Any]]:
        return target_accounts(self.accounts_db)

    def logins(self) -> list[str]:
        return [a["login"] for a in self.accounts()]

    def store(self) -> StateStore:
        return StateStore.open(str(self.state))

    def cli(self, *args: str, json_output: bool = True, env: Mapping[str, str] | None = None) -> "Result":
        """``syncframe [--json] ARGS`` in-process, with the test plugins loaded."""
        argv = (["--json"] if json_output else []) + list(args)
        result = CliRunner().invoke(cli, argv, env=self.env(**(env or {})), catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    def plan(self, *args: str) -> "Result":
        return self.cli("plan", "--profile", str(self.profile), *args)

    def run(self, *args: str) -> "Result":
        return self.cli("run", "--profile", str(self.profile), "--yes", *args)

    def subprocess(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``syncframe ARGS`` in a child process (for crash and signal tests)."""
        full_env = {**os.environ, **self.env(**(env or {}))}
        return subprocess.run(
            [sys.executable, "-c", "from syncframe.cli import main; main()", *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    def item(self, **match: Any) -> dict[str, Any]:
        """The one report item whose keys equal ``match``."""
        found = [i for i in self.json["items"] if all(i.get(k) == v for k, v in match.items())]
        assert len(found) == 1, (match, self.json["items"])
        return found[0]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path)
    workspace.set_users([])
    workspace.seed()  # creates the accounts file
    workspace.write_profile()
    return workspace
