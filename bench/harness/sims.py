"""The benchmark's lab: the Graph and pascom simulators, in the harness's own process.

:class:`Lab` starts the plugins' sandboxes (``GraphSandbox``, ``PascomSandbox``)
with their latency switches set, seeds the directory with the Graph simulator's
deterministic generator, writes a connector profile that points at both, and
reads the simulators' request counters. syncframe itself runs elsewhere, as a
subprocess, exactly as a user runs it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncframe.cli.sandbox import toml_value

#: Graph paths that are the login service, not Graph
LOGIN_MARKERS = ("/oauth2/", "/.well-known/", "/discovery/")


@dataclass
class Churn:
    """What :meth:`Lab.churn` changed in the directory."""

    renamed: list[str]
    updated: list[str]
    deleted: list[str]

    @property
    def total(self) -> int:
        return len(self.renamed) + len(self.updated) + len(self.deleted)

    def as_dict(self) -> dict[str, int]:
        return {"renamed": len(self.renamed), "updated": len(self.updated), "deleted": len(self.deleted), "total": self.total}


class Lab:
    """Both simulators, seeded with ``users`` directory users.

    :param users: How many users the tenant holds (3 % guests and 5 % disabled, as generated).
    :param graph_latency: Seconds the Graph and login simulator waits before every answer.
    :param pascom_latency: Seconds the pascom simulator waits before every answer.
    :param concurrency: The profile's ``concurrency`` (parallel pascom writes).
    :param workdir: Where the profile (and the caller's state) lives.
    """

    def __init__(self, users: int, graph_latency: float, pascom_latency: float, concurrency: int, workdir: Path, seed: int = 1):
        self.users = users
        self.graph_latency = graph_latency
        self.pascom_latency = pascom_latency
        self.concurrency = concurrency
        self.workdir = Path(workdir)
        self.seed = seed
        self.graph: Any = None
        self.pascom: Any = None

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> "Lab":
        from syncframe_msuser.sandbox import GraphSandbox
        from syncframe_pascom.sandbox import PascomSandbox

        self.graph = GraphSandbox()
        self.graph.start()
        self.graph.simulator.tenant.generate_users(self.users, seed=self.seed)
        self.graph.simulator.switches.set_latency(self.graph_latency)
        self.pascom = make_pascom_sandbox(PascomSandbox, self.users)
        self.pascom.start()
        self.pascom_sim.switches.latency = self.pascom_latency
        self.reset_counters()
        return self

    def stop(self) -> None:
        for box in (self.graph, self.pascom):
            if box is not None:
                box.stop()

    def __enter__(self) -> "Lab":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def graph_sim(self) -> Any:
        return self.graph.simulator

    @property
    def pascom_sim(self) -> Any:
        return self.pascom.simulator

    # --- the connector -------------------------------------------------------------

    def profile_text(self, guard_max_per_run: int | None = None) -> str:
        """A profile in the contract's format pointing at both simulators."""
        lines = [
            'title = "syncframe benchmark"',
            'mode = "sync"',
            f"concurrency = {self.concurrency}",
            "",
            "[guard]",
            # 1 % churn deletes more than the default 100 per run at 100,000 users
            f"max_per_run = {guard_max_per_run or max(100, self.users)}",
            "max_percent = 10",
            "min_allowed = 5",
            "",
            "[source]",
            'type = "MSUSER"',
        ]
        lines += [f"{k} = {toml_value(v)}" for k, v in self.graph.profile_section().items()]
        lines += ["", "[target]", 'type = "pascom"']
        lines += [f"{k} = {toml_value(v)}" for k, v in self.pascom.profile_section().items()]
        return "\n".join(lines) + "\n"

    def write_profile(self, name: str = "bench.toml") -> Path:
        path = self.workdir / name
        path.write_text(self.profile_text(), encoding="utf-8")
        return path

    def environment(self) -> dict[str, str]:
        return {**self.graph.environment(), **self.pascom.environment()}

    # --- the directory ----------------------------------------------------------------

    def in_scope_ids(self) -> list[str]:
        """Users the connector manages by default: enabled members (no guests, no disabled)."""
        return [u["id"] for u in self.graph_sim.tenant.users() if in_default_scope(u)]

    def churn(self, fraction: float = 0.01, seed: int = 99) -> Churn:
        """Change ``fraction`` of the in-scope users: a third renamed (new UPN and mail),
        a third updated (display name and mobile phone), a third deleted."""
        tenant = self.graph_sim.tenant
        ids = self.in_scope_ids()
        rng = random.Random(seed)
        picked = rng.sample(ids, max(3, math.ceil(len(ids) * fraction)))
        third = len(picked) // 3
        renamed, updated, deleted = picked[:third], picked[third: 2 * third], picked[2 * third:]
        for number, user_id in enumerate(renamed):
            user = tenant.get_user(user_id)
            local, domain = user["userPrincipalName"].split("@", 1)
            upn = f"{local}.moved{number}@{domain}"
            tenant.rename(user_id, upn, mail=upn)
        for number, user_id in enumerate(updated):
            user = tenant.get_user(user_id)
            tenant.update_user(user_id, displayName=f"{user['displayName']} (Changed)", mobilePhone=f"+49 171 {1000000 + number}")
        for user_id in deleted:
            tenant.soft_delete(user_id)
        return Churn(renamed, updated, deleted)

    # --- counters ---------------------------------------------------------------------

    def reset_counters(self) -> None:
        self.graph_sim.log.clear()
        self.pascom_sim.reset_counters()

    def counts(self) -> dict[str, Any]:
        """Requests since the last reset: Graph (pages and other), login, pascom (and its writes)."""
        graph = login = 0
        by_path: dict[str, int] = {}
        for path, n in self.graph_sim.path_counts().items():
            if any(marker in path for marker in LOGIN_MARKERS):
                login += n
            else:
                graph += n
                by_path[path] = n
        statuses = self.graph_sim.log.status_counts()
        pascom = self.pascom_sim.counters()
        return {
            "graph_requests": graph,
            "graph_by_path": by_path,
            "graph_throttled": statuses.get(429, 0),
            "login_requests": login,
            "pascom_requests": pascom["requests"],
            "pascom_writes": pascom["writes"],
            "pascom_by_method": pascom["by_method"],
            "pascom_by_status": pascom["by_status"],
        }

    def pascom_user_count(self) -> int:
        return len(self.pascom.instance.users)


def in_default_scope(user: dict[str, Any]) -> bool:
    upn = str(user.get("userPrincipalName") or "").lower()
    return user.get("accountEnabled") is not False and user.get("userType") != "Guest" and "#ext#" not in upn


def make_pascom_sandbox(factory: Any, users: int) -> Any:
    """A pascom sandbox whose extension pool holds every user (the default pool is small)."""
    pool = range(1000, 1000 + max(10_000, 2 * users))
    # the request log would hold every record of 100,000 writes; the counters are kept either way
    return factory(pool=pool, keep_log=False)


def lower_bound_pages(n: int, page: int = 999) -> int:
    return max(1, math.ceil(n / page))
