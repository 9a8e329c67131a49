"""Automation: ``syncframe serve`` runs the connector at its interval, live and replayed.

The connector is registered with ``connector add`` (interval one minute) and served
with ``--time-scale 0.03`` (a minute becomes 1.8 s) and ``--max-runs 2``. Between
the two runs a new user appears in the directory; the second run must create it
(through the delta link the first run saved). While live, a watcher thread makes
that change as soon as the state store shows the first run finished; replayed, the
cassette holds both runs' exchanges (``tests/cassettes/test_e2e_automation/``).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from e2e_scenarios import ANNA, BEN, counts
from e2e_support import CONNECTOR, Lab, Result, facts_path, live_lab, recorded_facts, records_now, save_facts
from syncframe.state import StateStore

MODULE = Path(__file__).stem
INTERVAL = 60
TIME_SCALE = 0.03
#: a safety net: serve stops after this long even if a run never ends
SERVE_AT_MOST = "60"


class ChangeAfterFirstRun(threading.Thread):
    """Adds BEN to the directory as soon as the state store shows a finished run."""

    def __init__(self, lab: Lab, deadline: float = 20.0):
        super().__init__(name="e2e-watcher", daemon=True)
        self.lab = lab
        self.deadline = deadline
        self.errors: list[BaseException] = []

    def run(self) -> None:
        store = StateStore.open(self.lab.state)  # ``connector add`` created it
        try:
            stop = time.monotonic() + self.deadline
            while time.monotonic() < stop:
                if any(r.finished_at is not None for r in store.runs(CONNECTOR)):
                    self.lab.directory(BEN)
                    return
                time.sleep(0.02)
            raise AssertionError("the first run did not finish in time")
        except BaseException as exc:  # reported by the test thread
            self.errors.append(exc)
        finally:
            store.close()


def automation(lab: Lab) -> Result:
    """Register the connector, serve it for two runs, return both runs' reports."""
    lab.directory(ANNA)
    lab.cli("connector", "add", CONNECTOR, "--profile", str(lab.profile(interval="1m")))
    watcher = ChangeAfterFirstRun(lab) if lab.live else None
    if watcher is not None:
        watcher.start()
    served = lab.invoke("serve", "--max-runs", "2", "--time-scale", str(TIME_SCALE), "--duration", SERVE_AT_MOST)
    if watcher is not None:
        watcher.join(5)
        assert not watcher.is_alive() and not watcher.errors, watcher.errors
    history = lab.cli("history", CONNECTOR)
    runs = sorted(history, key=lambda r: r["id"])
    reports = [lab.cli("history", CONNECTOR, "--run", str(r["id"])) for r in runs]
    events = [json.loads(line) for line in served.stdout.splitlines() if line.strip()]
    return Result(runs, lab.accounts(), extra={"events": events, "journals": reports})


def facts(result: Result) -> list[dict[str, Any]]:
    """What must be identical live and replayed: each run's status, counts and journal."""
    return [
        {
            "kind": run["kind"],
            "mode": run["mode"],
            "status": run["status"],
            "counts": run["counts"],
            "journal": sorted([j["kind"], j["login"], j["state"]] for j in journal["journal"]),
        }
        for run, journal in zip(result.reports, result.extra["journals"])
    ]


def expect_automation(result: Result) -> None:
    runs = result.reports
    assert len(runs) == 2 and [r["status"] for r in runs] == ["ok", "ok"] and {r["kind"] for r in runs} == {"run"}
    first, second = runs
    counts(first, create=1)
    counts(second, create=1)
    journals = result.extra["journals"]
    assert [(j["kind"], j["login"]) for j in journals[0]["journal"]] == [("create", ANNA.username)]
    assert [(j["kind"], j["login"]) for j in journals[1]["journal"]] == [("create", BEN.username)]
    # the second run came an interval (scaled) after the first ended
    gap = datetime.fromisoformat(second["started_at"]) - datetime.fromisoformat(first["finished_at"])
    assert gap.total_seconds() >= 0.9 * INTERVAL * TIME_SCALE
    events = [e for e in result.extra["events"] if e.get("event") == "run"]
    # next_in is the real wait: the interval with --time-scale applied
    assert [(e["name"], e["status"], e["counts"]["create"], round(e["next_in"], 6)) for e in events] == [(CONNECTOR, "ok", 1, round(INTERVAL * TIME_SCALE, 6))] * 2
    if result.accounts is not None:
        assert set(result.accounts) == {"admin", ANNA.username, BEN.username}


def test_serve_runs_the_connector_at_its_interval_live(tmp_path: Path) -> None:
    with live_lab(tmp_path) as lab:
        result = automation(lab)
    expect_automation(result)
    assert facts(result) == recorded_facts(facts_path(MODULE, "automation"))


@pytest.mark.vcr
def test_serve_runs_the_connector_at_its_interval_replayed(tmp_path: Path, recording: bool, host_map: Any, vcr: Any) -> None:
    if records_now(recording, vcr):
        with live_lab(tmp_path, concurrency=1, host_map=host_map) as lab:
            result = automation(lab)
        save_facts(facts_path(MODULE, "automation"), facts(result))
    else:
        result = automation(Lab(tmp_path, concurrency=1))
        assert vcr.all_played
    expect_automation(result)
    assert facts(result) == recorded_facts(facts_path(MODULE, "automation"))
