"""Adaptive concurrency (issue 19, item 5) through the real CLI and the real HTTP path:
a pascom simulator with a small hidden capacity (past 3 requests in progress it answers
429) takes an import from a profile whose ``concurrency`` allows 12 writes at once. The
adaptive run completes with no lost or failed user and meets far fewer 429 answers than
the same profile with the adaptive limit switched off (counts, not timings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reliability_lab import Lab, lab_at, person

USERS = 30
CAPACITY = 3


def import_against_hidden_capacity(lab: Lab, adaptive: bool) -> tuple[dict[str, Any], int]:
    """One initial import of ``USERS`` users at ``concurrency = 12``: its report and the 429s."""
    lab.directory(*[person(i) for i in range(1, USERS + 1)])
    lab.instance.switches.latency = 0.05  # requests overlap, so the capacity is reached
    lab.instance.switches.limit_capacity(CAPACITY, over="429", retry_after=0.05)
    profile = lab.profile(concurrency=12, extra={"adaptive_concurrency": adaptive}, target={"max_retries": 20})
    report = lab.run(profile, expect=None)
    return report, lab.instance.switches.over_capacity


def test_adaptive_writes_lose_nobody_and_meet_fewer_429s_than_fixed_high_concurrency(tmp_path: Path) -> None:
    (tmp_path / "adaptive").mkdir()
    (tmp_path / "fixed").mkdir()
    with lab_at(tmp_path / "adaptive") as lab:
        report, adaptive_429s = import_against_hidden_capacity(lab, adaptive=True)
        assert report["status"] == "ok", report
        assert report["counts"]["create"] == USERS and report["counts"].get("error", 0) == 0
        assert report["applied"] == USERS and report.get("not_applied", 0) == 0
        assert sorted(lab.links()) == sorted(person(i).source_id for i in range(1, USERS + 1))
        assert set(lab.logins()) >= {person(i).username for i in range(1, USERS + 1)}
        assert lab.instance.switches.peak_in_progress > CAPACITY  # it did probe past the capacity
    with lab_at(tmp_path / "fixed") as lab:
        _, fixed_429s = import_against_hidden_capacity(lab, adaptive=False)
    assert adaptive_429s < fixed_429s / 2, (adaptive_429s, fixed_429s)
