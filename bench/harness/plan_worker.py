"""Planning cost alone: N identities against an in-memory target, in its own process.

``python -m harness.plan_worker N CASE`` where CASE is

- ``initial``: the target is empty, every in-scope user becomes a CREATE;
- ``resync``: every in-scope user already has a linked, in-step account (a full
  read of an unchanged directory: match by link, map, diff -> NOOP), the
  steady state of a connector.

The identities are realistic directory users (the Graph simulator's generator,
3 % guests and 5 % disabled, which are SKIP items) turned into ``Identity``
values as the MSUSER source does; the target is :class:`syncframe.testing.MemoryTarget`.
Only :meth:`Planner.plan` is timed (``time.process_time``: CPU seconds of this
process). Peak RSS is the process's high-water mark after planning, inputs
included; ``rss_before_mb`` is the mark before planning started. One JSON line out.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
import time
from datetime import datetime, timezone


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    n, case = int(sys.argv[1]), sys.argv[2]
    from syncframe import ConnectorContext, ReadResult
    from syncframe.engine import Planner
    from syncframe.plugins import get_plugin_manager
    from syncframe.state.rows import Link
    from syncframe.testing import MemoryTarget, desired_fields
    from syncframe.model import Account
    from syncframe_msuser.simulator.generator import generate_user_records
    from syncframe_msuser.users import out_of_scope, to_identity

    # scoped as the MSUSER source does (guests and disabled users out)
    identities = [i.replace(out_of_scope=out_of_scope(i, False, False)) for i in (to_identity(r) for r in generate_user_records(n, seed=n))]
    accounts: list = []
    links: dict = {}
    if case == "resync":
        now = datetime.now(timezone.utc)
        for number, identity in enumerate(identities):
            if identity.out_of_scope:
                continue
            d = desired_fields(identity)
            target_id = str(number + 1)
            accounts.append(Account(target_id, d["login"], d["email"], d["display_name"], fields={k: v for k, v in d.items() if k != "login"}))
            links[identity.source_id] = Link(identity.source_id, target_id, d["login"], "created", now, now)
    elif case != "initial":
        raise SystemExit(f"unknown case {case!r}")

    pm = get_plugin_manager(load_entrypoints=False)
    profile = {"mode": "sync", "title": "bench"}
    context = ConnectorContext(name="bench", profile=profile)
    target = MemoryTarget({"accounts": accounts}, context)
    planner = Planner("bench", "sync", target, pm, context,
                      guard={"max_per_run": 100, "max_percent": 10, "min_allowed": 5})
    read = ReadResult(tuple(identities), complete=True)
    gc.collect()
    rss_before = peak_rss_mb()

    cpu0, wall0 = time.process_time(), time.perf_counter()
    plan = planner.plan(read, {}, target.list_accounts(), links)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0

    counts = {k: v for k, v in plan.counts().items() if v}
    json.dump(
        {
            "users": n,
            "case": case,
            "plan_cpu_s": round(cpu, 3),
            "plan_wall_s": round(wall, 3),
            "rss_before_mb": round(rss_before, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "counts": counts,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
