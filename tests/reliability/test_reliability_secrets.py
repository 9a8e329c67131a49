"""Secrets (issue 9, item 7): a full run at DEBUG (``syncframe -vv``) with retries, a
throttle, a token refresh, creates, a rename and a removal; then its logs, its JSON
report, the state database (a ``.dump`` of every row) and every cassette are scanned
with :func:`cassette_support.find_leaks` for the run's secrets, bearer tokens (JWTs),
and Basic strings."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from typing import Any

from cassette_support import CASSETTE_ROOT, find_leaks
from reliability_lab import DOMAIN, Lab, person

#: the secrets the recorded cassettes were made with (their tests' constants)
RECORDING_SECRETS = ("e2e-recording-only-client-secret-7", "recording-only-password-1")


def lab_secrets(lab: Lab) -> tuple[str, ...]:
    password = lab.instance.password
    basic = base64.b64encode(f"{lab.instance.username}:{password}".encode()).decode()
    return (lab.sim.client_secret, password, basic)


def leaks(text: str, secrets: tuple[str, ...]) -> list[str]:
    """Leaks, minus loopback ports: logs may name the simulators' URLs (no secret)."""
    return [kind for kind in find_leaks(text, secrets) if kind != "loopback port"]


def run_verbose(lab: Lab, profile: Path) -> tuple[str, str, int]:
    # wide, so rich never wraps a log line (a wrapped token would hide from the scanner)
    child = lab.spawn("-vv", "run", "rel", "--profile", str(profile), "--yes", env={"COLUMNS": "100000"})
    out, err = child.communicate(timeout=120)
    return out, err, child.returncode


def test_debug_logs_state_and_report_hold_no_secret(lab: Lab) -> None:
    lab.directory(*[person(i) for i in range(1, 9)])
    lab.existing("user8", email=f"user8@{DOMAIN}")  # adopted and renamed
    profile = lab.profile(source={"page_size": 3, "reconcile_every": 0})
    secrets = lab_secrets(lab)
    # first run: a throttled Graph page, a failed pascom write and a lost answer on the way
    lab.sim.switches.fail_page(2, 503, times=1, endpoint="users")
    lab.instance.switches.fail_write(2, 500)
    lab.instance.switches.lose_write(4, "drop")
    lab.instance.switches.throttle_next(1, retry_after=0.2)
    out1, err1, code1 = run_verbose(lab, profile)
    assert code1 == 0, err1
    # second run: a token that expires mid-run, a rename, an update, a removal, a 401 from pascom at the end
    lab.graph.remove_identity(person(1).source_id)
    lab.directory(person(2, local="moved2"), person(3, display_name="New Name"))
    expired: list[bool] = []

    def expire(environ: dict[str, Any]) -> None:
        if environ["PATH_INFO"] == "/v1.0/users" and "skiptoken" in environ.get("QUERY_STRING", "") and not expired:
            expired.append(True)
            lab.sim.advance_time(7200)

    lab.sim.before = expire
    out2, err2, code2 = run_verbose(lab, profile)
    assert code2 == 0, err2
    assert expired
    lab.instance.switches.reject_credentials = True
    out3, err3, code3 = run_verbose(lab, profile)
    assert code3 == 1 and "401" in err3 + out3
    # the logs really are at DEBUG: requests and retries are in them
    logs = err1 + err2 + err3
    assert "DEBUG" in logs
    for name, text in (("stderr", logs), ("stdout", out1 + out2 + out3)):
        assert leaks(text, secrets) == [], (name, leaks(text, secrets))
    # the state database: every row of every table
    db = sqlite3.connect(lab.state)
    try:
        dump = "\n".join(db.iterdump())
    finally:
        db.close()
    assert "INSERT INTO" in dump and "moved2@" in dump
    assert leaks(dump, secrets) == [], leaks(dump, secrets)


def test_every_cassette_is_free_of_secrets_tokens_and_basic_strings() -> None:
    cassettes = sorted(CASSETTE_ROOT.rglob("*.yaml")) + sorted(CASSETTE_ROOT.rglob("*.json"))
    assert len(cassettes) >= 5
    for path in cassettes:
        text = path.read_text(encoding="utf-8")
        assert find_leaks(text, RECORDING_SECRETS) == [], path
