"""The end-to-end lab: both simulators (or their cassettes), a profile, and the CLI.

A scenario is a plain function of a :class:`Lab`. It seeds the directory and the
phone system, drives ``syncframe`` through its command line exactly as an
administrator would (``--state <tmp>/state.db --json``), and returns a
:class:`Result`: the facts of every JSON report, plus, when the simulators ran,
the phone system's users afterwards.

The same scenario runs three ways:

* **live**: a Graph + login simulator and a pascom simulator on loopback HTTPS;
* **recording** (``pytest --record-mode=once``): live, with vcrpy writing a scrubbed
  cassette (loopback URLs become ``https://m365.sim.invalid`` and
  ``https://pascom.sim.invalid``) and the report facts saved beside it;
* **replay** (the default): no simulator at all; the profile points at the
  placeholder hosts and vcrpy answers from the cassette. Seeding is skipped (the
  cassette holds its effect) and the facts must equal the recorded ones.

Ids that travel in requests are fixed (tenant, app), so a replayed request is the
recorded one byte for byte once the scrubber has redacted the secrets.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from click.testing import CliRunner

from cassette_support import CASSETTE_ROOT, HostMap
from syncframe import Identity
from syncframe.cli import cli
from syncframe.cli.sandbox import render_profile
from syncframe_msuser.sandbox import SECRET_ENV, GraphSandbox
from syncframe_msuser.simulator import GraphSimulator
from syncframe_pascom.sandbox import PASSWORD_ENV, PascomSandbox

DOMAIN = "contoso.onmicrosoft.com"
#: fixed, so the token requests and the authority's URLs are the same in every recording
TENANT = "c0ffee00-0000-4000-8000-0000000000e2"
CLIENT_ID = "e2e0e2e0-0000-4000-8000-000000000001"
GRAPH_PLACEHOLDER = "https://m365.sim.invalid"
PASCOM_PLACEHOLDER = "https://pascom.sim.invalid"
INSTANCE = "sandbox"
CONNECTOR = "contoso"
#: the app's client secret while recording: no cassette may hold it
RECORDING_SECRET = "e2e-recording-only-client-secret-7"
#: secrets while replaying: sent nowhere, and redacted before matching anyway
REPLAY_ENV = {SECRET_ENV: "replayed-graph-secret", PASSWORD_ENV: "replayed-pascom-password"}


def person(n: int, local: str, display_name: str, **changes: Any) -> Identity:
    """A directory member with a fixed object id (``...-<n>``) and principal name ``local@DOMAIN``."""
    given, _, surname = display_name.partition(" ")
    values: dict[str, Any] = {
        "source_id": f"5e0c0000-0000-4000-8000-{n:012d}",
        "username": f"{local}@{DOMAIN}",
        "display_name": display_name,
        "given_name": given,
        "surname": surname or None,
        "email": f"{local}@{DOMAIN}",
        "phones": (f"+49 89 1234{n:03d}",),
        "mobile_phone": f"+49 170 {n:07d}",
    }
    values.update(changes)
    return Identity(**values)


# --- the facts of a report ------------------------------------------------------------


def item_facts(item: dict[str, Any]) -> dict[str, Any]:
    """What an item of a report says, without ids the target assigned."""
    return {
        "kind": item["kind"],
        "login": item["login"],
        "username": item["username"],
        "rename_from": item["rename_from"],
        "reason": item["reason"],
        "notices": sorted(n["code"] for n in item["notices"]),
        "changes": item["changes"],
        "applied": item["applied"],
        "error": item["error"],
    }


def report_facts(report: dict[str, Any]) -> dict[str, Any]:
    """The parts of a JSON report that must be identical live and replayed."""
    return {
        "kind": report["kind"],
        "mode": report["mode"],
        "status": report["status"],
        "exit_code": report["exit_code"],
        "complete": report["complete"],
        "incremental": report["incremental"],
        "bookmark": report["bookmark"],
        "counts": report["counts"],
        "notices": report["notices"],
        "held": report["held"]["count"],
        "items": sorted((item_facts(i) for i in report["items"]), key=lambda i: (i["kind"], i["login"] or "", i["username"] or "")),
        "conflicts": [{"username": c["username"], "candidates": sorted(c["candidates"])} for c in report["conflicts"]],
        "error": report["error"],
    }


def logins(report: dict[str, Any], kind: str) -> list[str]:
    """The logins of a report's items of one kind, sorted."""
    return sorted(i["login"] for i in report["items"] if i["kind"] == kind)


# --- the lab ----------------------------------------------------------------------------


@dataclass
class Result:
    """What a scenario returns."""

    #: one JSON report per CLI call that printed one, in order
    reports: list[dict[str, Any]]
    #: the phone system's users by login after the scenario (None while replaying)
    accounts: dict[str, dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def facts(self) -> list[dict[str, Any]]:
        return [report_facts(r) for r in self.reports]


@dataclass
class Lab:
    """Where a scenario runs: simulators (``graph``/``pascom`` set) or placeholders."""

    root: Path
    graph: GraphSandbox | None = None
    pascom: PascomSandbox | None = None
    #: pascom writes in parallel (the profile's ``concurrency``); 1 for cassettes
    concurrency: int = 8

    @property
    def live(self) -> bool:
        return self.graph is not None

    @property
    def state(self) -> Path:
        return self.root / "state.db"

    # -- seeding (no-ops while replaying: the cassette holds the effect) --------------

    def directory(self, *identities: Identity) -> None:
        """Add or replace directory users."""
        if self.graph is not None:
            self.graph.put_identities(identities)

    def remove(self, identity: Identity) -> None:
        """Delete a directory user for good."""
        if self.graph is not None:
            self.graph.remove_identity(identity.source_id)

    def existing(self, login: str, email: str | None = None, display_name: str = "") -> None:
        """A phone-system user an administrator made by hand (password login, paired mobile)."""
        if self.pascom is not None:
            self.pascom.put_account(login, email, display_name)

    def accounts(self) -> dict[str, dict[str, Any]] | None:
        if self.pascom is None:
            return None
        return {a["login"]: a for a in self.pascom.accounts()}

    # -- the profile and the CLI -----------------------------------------------------------

    def source_section(self) -> dict[str, Any]:
        if self.graph is not None:
            return self.graph.profile_section()
        return {
            "tenant": TENANT,
            "client_id": CLIENT_ID,
            "auth": "client_secret",
            "client_secret_env": SECRET_ENV,
            "authority_host": GRAPH_PLACEHOLDER,
            "graph_url": f"{GRAPH_PLACEHOLDER}/v1.0",
            "lab": True,  # a placeholder host is no Microsoft cloud host
        }

    def target_section(self) -> dict[str, Any]:
        if self.pascom is not None:
            return self.pascom.profile_section()
        return {"url": f"{PASCOM_PLACEHOLDER}/{INSTANCE}", "username": "moby", "password_env": PASSWORD_ENV}

    def profile(self, mode: str = "sync", interval: str | None = None, name: str = CONNECTOR) -> Path:
        """Write the connector profile (softphone and mobile device on, the target's default) and return its path."""
        extra: dict[str, Any] = {"mode": mode, "concurrency": self.concurrency}
        if interval:
            extra["interval"] = interval
        text = render_profile("MSUSER", "pascom", self.source_section(), self.target_section(), title="Microsoft 365 users", extra=extra)
        path = self.root / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def environment(self) -> dict[str, str]:
        if self.graph is None or self.pascom is None:
            return dict(REPLAY_ENV)
        return {**self.graph.environment(), **self.pascom.environment()}

    def invoke(self, *args: str, expect: int | None = 0) -> Any:
        """``syncframe --state <tmp>/state.db --json ARGS`` in this process; click's result."""
        runner = CliRunner()
        result = runner.invoke(cli, ["--state", str(self.state), "--json", *args], env=self.environment(), catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, f"syncframe {' '.join(args)} exited {result.exit_code}:\n{result.output}\n{result.stderr}"
        return result

    def cli(self, *args: str, expect: int | None = 0) -> Any:
        """The parsed JSON a command prints."""
        result = self.invoke(*args, expect=expect)
        return json.loads(result.stdout) if result.stdout.strip() else None

    def run(self, profile: Path, *extra: str, expect: int | None = 0) -> dict[str, Any]:
        """``syncframe run NAME --profile FILE --yes``: its JSON report."""
        return self.cli("run", CONNECTOR, "--profile", str(profile), "--yes", *extra, expect=expect)

    def plan(self, profile: Path, expect: int | None = None) -> dict[str, Any]:
        return self.cli("plan", CONNECTOR, "--profile", str(profile), expect=expect)


# --- starting the simulators -------------------------------------------------------------


def graph_sandbox() -> GraphSandbox:
    """A Graph + login simulator with the fixed tenant and app (not started)."""
    simulator = GraphSimulator(tenant_domain=DOMAIN, tenant_id=TENANT, register_default_app=False)
    simulator.default_app = simulator.register_app(client_id=CLIENT_ID, secret=RECORDING_SECRET)
    return GraphSandbox(simulator=simulator)


@contextlib.contextmanager
def live_lab(root: Path, concurrency: int = 8, host_map: HostMap | None = None) -> Iterator[Lab]:
    """Both simulators started; with ``host_map``, their URLs map to the placeholders."""
    with graph_sandbox() as graph, PascomSandbox(instance=INSTANCE) as pascom:
        if host_map is not None:
            url = graph.simulator.url
            host_map.add(url, GRAPH_PLACEHOLDER)
            # msal and Graph also carry the bare host:port (e.g. in the OIDC document)
            host_map.add(url.removeprefix("https://"), GRAPH_PLACEHOLDER.removeprefix("https://"))
            host_map.add(pascom.simulator.url, PASCOM_PLACEHOLDER)
            host_map.add(pascom.simulator.url.removeprefix("https://"), PASCOM_PLACEHOLDER.removeprefix("https://"))
        yield Lab(root, graph, pascom, concurrency)


def records_now(recording: bool, cassette: Any) -> bool:
    """Whether this test records (simulators up) rather than replays.

    ``--record-mode=once`` with a cassette already on disk replays it: only an empty
    cassette is recorded (delete the cassette, or use ``--record-mode=rewrite``).
    """
    return recording and cassette is not None and len(cassette.data) == 0


# --- recorded facts ------------------------------------------------------------------------


def facts_path(module: str, scenario: str) -> Path:
    """Where the facts a recording produced are kept: beside the module's cassettes."""
    return CASSETTE_ROOT / module / f"{scenario}.facts.json"


def save_facts(path: Path, facts: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(facts, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def recorded_facts(path: Path) -> list[dict[str, Any]]:
    assert path.exists(), f"{path} is missing: record the cassettes (pytest tests/e2e --record-mode=once)"
    return json.loads(path.read_text(encoding="utf-8"))


# --- what a cassette shows of the target -------------------------------------------------------


def pascom_writes(cassette: Any) -> list[tuple[str, str, Any]]:
    """(method, path, JSON body) of every pascom write a cassette holds, in order."""
    writes = []
    for request in cassette.requests:
        if not request.uri.startswith(PASCOM_PLACEHOLDER) or request.method == "GET":
            continue
        body = request.body
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        writes.append((request.method, request.uri.removeprefix(f"{PASCOM_PLACEHOLDER}/{INSTANCE}/services"), json.loads(body) if body else None))
    return writes
