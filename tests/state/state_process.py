"""A separate process for the multi-process tests (not a test module).

``python state_process.py hold URL CONNECTOR HOLDER``: take the lock, print ``HELD``,
then sleep until killed.
``python state_process.py try URL CONNECTOR HOLDER``: try the lock once and print
``LOCKED <message>`` or ``ACQUIRED``.
``python state_process.py write URL CONNECTOR COUNT``: record COUNT small runs with
a journal entry and a link each, then print ``WROTE``.
"""

from __future__ import annotations

import sys
import time

from syncframe.errors import LockedError
from syncframe.state import StateStore


def lock(store: StateStore, action: str, connector: str, holder: str) -> int:
    try:
        with store.lock(connector, holder=holder, lease_seconds=60):
            if action == "try":
                print("ACQUIRED", flush=True)
                return 0
            print("HELD", flush=True)
            time.sleep(120)
    except LockedError as exc:
        print(f"LOCKED {exc}", flush=True)
        return 5
    return 0


def write(store: StateStore, connector: str, count: int) -> int:
    for i in range(count):
        run_id = store.start_run(connector, "sync", "run")
        sid = f"{connector}-{i}"
        jid = store.journal_intent(run_id, connector, {"kind": "create", "source_id": sid, "login": sid})
        store.journal_outcome(jid, True, link=(sid, f"t-{sid}", sid, "created"))
        store.set_bookmark(connector, str(i))
        store.finish_run(run_id, "ok", {"create": 1})
    print("WROTE", flush=True)
    return 0


def main(action: str, url: str, connector: str, arg: str) -> int:
    store = StateStore.open(url)
    try:
        if action == "write":
            return write(store, connector, int(arg))
        return lock(store, action, connector, arg)
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
