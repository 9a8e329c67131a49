"""The reliability lab: both simulators on loopback HTTPS, a profile, and the real CLI.

Every test gets its own :class:`Lab` (own temp directory, own state database, own
simulators), so the suite runs in parallel (``pytest -n 2``). The CLI runs either in
this process (``Lab.run`` through click's runner, fast) or as a child process
(``Lab.spawn``: ``python -m syncframe ...``) when a test must kill it or run two
at once.

Test-side triggers sit *in front of* the real simulators (they never replace
them): :class:`HookedGraph` calls a function on each Graph request before serving
it, :class:`WriteTrap` does the same for each pascom write (or each write of one
kind), and :class:`ListingFilter` cuts down the phone system's user list on its way
out. Tests use them to expire tokens mid-run, to SIGKILL or SIGSTOP a child process
at its k-th write, or to make the user list come back short.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from click.testing import CliRunner

from syncframe import Identity
from syncframe.cli import cli
from syncframe.cli.sandbox import render_profile
from syncframe.state import StateStore
from syncframe_msuser.sandbox import GraphSandbox
from syncframe_msuser.simulator import GraphSimulator
from syncframe_pascom.sandbox import PascomSandbox

DOMAIN = "contoso.onmicrosoft.com"
CONNECTOR = "rel"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def person(n: int, local: str | None = None, **changes: Any) -> Identity:
    """Directory member ``n``: object id ``...-<n>``, UPN ``user<n>@DOMAIN`` unless ``local``."""
    local = local or f"user{n}"
    values: dict[str, Any] = {
        "source_id": f"5e1a0000-0000-4000-8000-{n:012d}",
        "username": f"{local}@{DOMAIN}",
        "display_name": f"User {n}",
        "given_name": "User",
        "surname": str(n),
        "email": f"{local}@{DOMAIN}",
        "phones": (f"+49 89 1234{n:04d}",),
    }
    values.update(changes)
    return Identity(**values)


class HookedGraph(GraphSimulator):
    """The Graph + login simulator, calling ``before(environ)`` ahead of every request."""

    before: Callable[[dict[str, Any]], None] | None = None

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        hook = self.before
        if hook is not None:
            hook(environ)
        return super().wsgi_app(environ, start_response)


#: (method, path) -> whether a write counts for :meth:`WriteTrap.arm`
WriteFilter = Callable[[str, str], bool]


def session_resets(method: str, path: str) -> bool:
    """The writes that end a user's sessions (``DELETE identity/<login>/sessions``)."""
    return method == "DELETE" and path.endswith("/sessions")


class WriteTrap:
    """WSGI middleware in front of the pascom simulator: counts writes (all, or those
    ``matching`` says) and, at the ``at``-th one, calls ``action``: ``when="before"``
    the write is served, ``"instead"`` of serving it (it is answered 503 and never
    performed: for a client killed before its request left), or ``"after"`` it was
    performed, before its answer leaves."""

    def __init__(self, app: Callable[..., Any]):
        self.app = app
        self.writes = 0
        self.at: int | None = None
        self.when = "after"
        self.action: Callable[[], None] | None = None
        self.matching: WriteFilter | None = None
        self.fired = False
        self._lock = threading.Lock()

    def arm(self, at: int, action: Callable[[], None], when: str = "after", matching: WriteFilter | None = None) -> None:
        with self._lock:
            self.writes, self.at, self.action, self.when, self.fired = 0, at, action, when, False
            self.matching = matching

    def disarm(self) -> None:
        with self._lock:
            self.at, self.action = None, None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        fire = False
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if method in WRITE_METHODS and (self.matching is None or self.matching(method, path)):
            with self._lock:
                self.writes += 1
                if self.at is not None and self.writes == self.at and self.action is not None:
                    fire, self.fired = True, True
        if fire and self.when in ("before", "instead"):
            assert self.action is not None
            # the whole request first: a client stopped between its headers and its body
            # (urllib3 sends them apart) would have its write served only once it resumes
            length = int(environ.get("CONTENT_LENGTH") or 0)
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length else b"")
            self.action()
        if fire and self.when == "instead":
            start_response("503 Service Unavailable", [("Content-Type", "application/json"), ("Content-Length", "2")])
            return [b"{}"]
        result = self.app(environ, start_response)
        if fire and self.when == "after":
            result = list(result)  # the write is performed once the body is produced
            assert self.action is not None
            self.action()
        return result


class ListingFilter:
    """WSGI middleware in front of the pascom simulator: while ``keep`` is set, the
    answer to ``GET identity/`` (the whole user list) is ``keep(users)`` instead of the
    users, still ``200`` (a phone system that answers with a short or empty list)."""

    def __init__(self, app: Callable[..., Any]):
        self.app = app
        self.keep: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
        self.served = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        keep = self.keep
        if keep is None or environ.get("REQUEST_METHOD") != "GET" or not environ.get("PATH_INFO", "").rstrip("/").endswith("/services/identity"):
            return self.app(environ, start_response)
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer.update(status=status, headers=headers)
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if not str(answer.get("status", "")).startswith("200"):
            start_response(answer["status"], answer["headers"])
            return [body]
        short = json.dumps(keep(json.loads(body))).encode()
        self.served += 1
        headers = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        start_response(answer["status"], headers + [("Content-Length", str(len(short)))])
        return [short]


@dataclass
class Lab:
    """Both simulators, started, plus a temp directory with the state database."""

    root: Path
    graph: GraphSandbox
    pascom: PascomSandbox
    trap: WriteTrap
    listing: ListingFilter
    #: a state store URL (PostgreSQL) instead of the SQLite file under ``root``
    state_url: str | None = None
    children: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def sim(self) -> HookedGraph:
        return self.graph.simulator  # type: ignore[return-value]

    @property
    def instance(self) -> Any:
        return self.pascom.instance

    @property
    def state(self) -> str:
        """The ``--state`` of every CLI call: the URL, or the SQLite file in ``root``."""
        return self.state_url or str(self.root / "state.db")

    # -- seeding -----------------------------------------------------------------------

    def directory(self, *identities: Identity) -> None:
        for identity in identities:
            self.graph.put_identity(identity)

    def existing(self, login: str, email: str | None = None, display_name: str = "") -> None:
        """A phone-system user made by hand (password login, paired mobile)."""
        self.pascom.put_account(login, email, display_name)

    # -- the phone system ----------------------------------------------------------------

    def accounts(self) -> dict[str, dict[str, Any]]:
        return {a["login"]: a for a in self.pascom.accounts()}

    def logins(self) -> list[str]:
        return sorted(a["login"] for a in self.pascom.accounts())

    def pascom_requests(self) -> int:
        return int(self.pascom.simulator.counters(self.instance.name)["requests"])

    def pascom_writes(self) -> list[tuple[str, str, int]]:
        return [(r.method, r.path, r.status) for r in self.pascom.simulator.requests if r.method in WRITE_METHODS]

    # -- the profile ---------------------------------------------------------------------

    def profile(
        self,
        *,
        mode: str = "sync",
        concurrency: int = 4,
        source: dict[str, Any] | None = None,
        target: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        guard: dict[str, Any] | None = None,
        name: str = CONNECTOR,
        raw_tail: str = "",
    ) -> Path:
        """Write a profile that points at the simulators; ``source``/``target`` override keys."""
        src = {**self.graph.profile_section(), **(source or {})}
        tgt = {**self.pascom.profile_section(), "max_retries": 4, "create_softphone": True, "create_mobile": True, **(target or {})}
        top = {"mode": mode, "concurrency": concurrency, **(extra or {})}
        text = render_profile("MSUSER", "pascom", {k: v for k, v in src.items() if v is not None},
                              {k: v for k, v in tgt.items() if v is not None}, title="reliability", extra=top)
        if guard:
            text += "\n[guard]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in guard.items())
        text += raw_tail
        path = self.root / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def environment(self) -> dict[str, str]:
        return {**self.graph.environment(), **self.pascom.environment()}

    # -- the CLI in this process ---------------------------------------------------------

    def invoke(self, *args: str, env: dict[str, str] | None = None) -> Any:
        """``syncframe --state <tmp>/state.db --json ARGS`` through click's runner."""
        environment = {**self.environment(), **(env or {})}
        return CliRunner().invoke(cli, ["--state", str(self.state), "--json", *args], env=environment, catch_exceptions=False)

    def run(self, profile: Path, *extra: str, expect: int | None = 0, env: dict[str, str] | None = None, name: str = CONNECTOR) -> dict[str, Any]:
        """``syncframe run NAME --profile FILE --yes``: its JSON report."""
        result = self.invoke("run", name, "--profile", str(profile), "--yes", *extra, env=env)
        if expect is not None:
            assert result.exit_code == expect, f"exit {result.exit_code}:\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip() else {"exit_code": result.exit_code, "stderr": result.stderr}

    # -- the CLI as a child process ------------------------------------------------------

    def spawn(self, *args: str, env: dict[str, str] | None = None, json_output: bool = True) -> subprocess.Popen[str]:
        """``python -m syncframe --state ... [--json] ARGS`` as a child (stdout/stderr piped)."""
        environment = {**os.environ, **self.environment(), **(env or {})}
        command = [sys.executable, "-m", "syncframe", "--state", str(self.state), *(["--json"] if json_output else []), *args]
        child = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.root)
        self.children.append(child)
        return child

    def spawn_run(self, profile: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return self.spawn("run", CONNECTOR, "--profile", str(profile), "--yes", *extra, env=env)

    # -- state -------------------------------------------------------------------------

    @contextlib.contextmanager
    def store(self) -> Iterator[StateStore]:
        store = StateStore.open(self.state)
        try:
            yield store
        finally:
            store.close()

    def links(self, name: str = CONNECTOR) -> dict[str, Any]:
        with self.store() as store:
            return store.links(name)


@contextlib.contextmanager
def lab_at(root: Path, state_url: str | None = None) -> Iterator[Lab]:
    """Start a Graph + login simulator and a pascom simulator (with a write trap) for one test."""
    graph = GraphSandbox(simulator=HookedGraph(tenant_domain=DOMAIN))
    pascom = PascomSandbox(instance="rel")
    listing = ListingFilter(pascom.simulator.app)
    trap = WriteTrap(listing)
    pascom.simulator.app = trap  # served from start(): every request passes the trap first
    with graph, pascom:
        lab = Lab(root, graph, pascom, trap, listing, state_url)
        try:
            yield lab
        finally:
            for child in lab.children:
                if child.poll() is None:
                    child.kill()
                child.communicate()
