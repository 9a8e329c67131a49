"""A console's world for the web tests: a state store, a connector on the MEMORY
source and the ``memory`` target of :mod:`syncframe.testing`, brought by real runs
to a state with something to look at: changes pending, removals held, a conflict,
a notice, and history."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import syncframe.testing
from syncframe import Identity
from syncframe.connector import load_profile
from syncframe.engine import ConnectorRunner
from syncframe.plugins import get_plugin_manager
from syncframe.state import StateStore
from syncframe.testing import seed_accounts, write_identities
from syncframe.web.passwords import hash_password
from starlette.testclient import TestClient

NAME = "contoso"
ADMIN, READER = "alice", "rita"
PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    """The test password's argon2 hash, made once per process (a hash takes a while)."""
    return hash_password(PASSWORD)


def ident(n: int | str, username: str | None = None, **kw: Any) -> Identity:
    kw.setdefault("display_name", f"User {n}")
    return Identity(source_id=f"id-{n}", username=username or f"user{n}@contoso.com", **kw)


def memory_profile(root: Path, title: str = "Contoso users") -> str:
    return "\n".join(
        [
            f"title = {json.dumps(title)}",
            'mode = "sync"',
            'interval = "1h"',
            "[guard]",
            "max_per_run = 0  # every removal is held until a person releases it",
            "[source]",
            'type = "MEMORY"',
            f"path = {json.dumps(str(root / 'users.json'))}",
            "[target]",
            'type = "memory"',
            f"path = {json.dumps(str(root / 'accounts.db'))}",
            "",
        ]
    )


@dataclass
class World:
    root: Path
    state: Path | str  # a SQLite file, or a PostgreSQL URL
    store: StateStore
    pm: Any

    def users(self, identities: list[Identity]) -> None:
        write_identities(self.root / "users.json", identities)

    def run(self) -> dict[str, Any]:
        connector = load_profile(self.store.get_connector(NAME).profile_text, self.pm, NAME)
        return ConnectorRunner(connector, self.pm, self.store, echo=lambda line: None).run(operator="test").report.to_dict()


def build_world(root: Path, state_url: str | None = None) -> World:
    """One run of connector ``contoso`` and a change in the directory: afterwards its
    plan has a create (user5), two held removals (user3, user4) and a conflict (two
    accounts match mmeier@contoso.com), and the run left a notice (user6 adopted and
    renamed). The state store is a SQLite file under ``root`` unless ``state_url`` is given."""
    root.mkdir(parents=True, exist_ok=True)
    state = state_url or root / "state.db"
    store = StateStore.open(str(state))
    pm = get_plugin_manager(extra_plugins=[syncframe.testing])
    world = World(root, state, store, pm)
    seed_accounts(root / "accounts.db", [{"login": "user6", "email": "other6@contoso.com"}, {"login": "mmeier"}, {"login": "m.meier", "email": "mmeier@contoso.com"}])
    store.add_connector(NAME, memory_profile(root))
    world.users([ident(1), ident(2), ident(3), ident(4), ident(6), ident(7, "mmeier@contoso.com")])
    report = world.run()
    assert report["status"] == "ok", report
    world.users([ident(1), ident(2), ident(5), ident(6), ident(7, "mmeier@contoso.com")])
    store.save_admin(ADMIN, password_hash())
    store.save_admin(READER, password_hash(), read_only=True)
    return world


def csrf_of(page: str) -> str:
    """The CSRF token a page carries (its hidden form field)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def signed_in(app, name: str = ADMIN, password: str = PASSWORD) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="http://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_console(state: Path | str, *options: str) -> Iterator[str]:
    """``syncframe web OPTIONS`` in a child process on ``state``; yields its base URL."""
    port = _free_port()
    env = {**os.environ, "SYNCFRAME_PLUGIN_MODULES": "syncframe.testing", "SYNCFRAME_STATE": str(state)}
    server = subprocess.Popen(
        [sys.executable, "-m", "syncframe", "web", "--host", "127.0.0.1", "--port", str(port), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to ~30 s for the child to import and listen
            if server.poll() is not None:
                raise AssertionError(f"syncframe web exited: {server.stdout.read() if server.stdout else ''}")
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("syncframe web did not answer")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
