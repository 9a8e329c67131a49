"""A bad ``--state`` is one line and exit 2; a state store failing while in use is one
line and exit 7 (never a traceback); ``plan`` works on a read-only store.

Issue 13 item 1 and issue 20's state-store failures, through the real CLI.
"""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from syncframe.state import StateStore

from .conftest import Workspace, ident



def one_line_error(result, exit_code: int, *words: str) -> str:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def _not_a_database(tmp: Path) -> str:
    path = tmp / "notes.txt"
    path.write_text("my notes, not a database")
    os.chmod(path, 0o644)
    return str(path)


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        (lambda tmp: "foo://bar", ("unknown database 'foo'", "postgresql://")),
        (lambda tmp: str(tmp), ("is a directory",)),
        (_not_a_database, ("not a SQLite database", "left as it is")),
        (lambda tmp: str(tmp / "typo" / "state.db"), ("does not exist", "default location")),
        (lambda tmp: "postgresql://no_such_role_here@127.0.0.1:5432/test", ("no_such_role_here",)),
        (lambda tmp: "postgresql://postgres:hunter2@127.0.0.1:9/test", ("postgres:***@127.0.0.1:9", "refused")),
    ],
    ids=["unknown-scheme", "directory", "not-a-database", "missing-directory", "role-refused", "server-down"],
)
def test_a_bad_state_setting_is_one_line_and_exit_2(ws: Workspace, setting, words) -> None:
    value = setting(ws.root)
    before = {p: p.stat().st_mode for p in ws.root.rglob("*")}
    for args, env in ((["--state", value, "connector", "list"], {}), (["history"], {"SYNCFRAME_STATE": value})):
        line = one_line_error(ws.cli(*args, json_output=False, env=env), 2, *words)
        assert "hunter2" not in line
    assert not (ws.root / "typo").exists(), "an explicit path never creates its directory"
    assert {p: p.stat().st_mode for p in ws.root.rglob("*")} == before, "nothing was created or changed"
    if setting is _not_a_database:
        assert Path(value).read_text() == "my notes, not a database" and stat.S_IMODE(Path(value).stat().st_mode) == 0o644


def test_a_store_from_a_newer_version_is_refused(ws: Workspace) -> None:
    ws.store().close()
    engine = create_engine(f"sqlite:///{ws.state}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d0000beef'"))
    engine.dispose()
    line = one_line_error(ws.cli("history", json_output=False), 2, "'f00d0000beef'", "newer than this version", "upgrade syncframe")
    assert str(ws.state) in line


@pytest.mark.postgres
def test_postgresql_urls_work_with_the_default_driver(ws: Workspace, postgres_url: str) -> None:
    """``postgresql://`` as the guide shows it (psycopg 3, SQLAlchemy's default driver)."""
    assert postgres_url.startswith("postgresql://")
    ws.set_users([ident(1)])
    assert ws.cli("--state", postgres_url, "run", "--profile", str(ws.profile), "--yes").json["status"] == "ok"
    assert [r.status for r in StateStore.open(postgres_url).runs()] == ["ok"]


@pytest.fixture
def read_only_state(ws: Workspace) -> Iterator[Path]:
    """The workspace's state file made read-only for this process's children (immutable
    for root, mode 0400 for anyone else)."""
    ws.store().close()
    path = ws.state
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not available on this file system")
        try:
            yield path
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        os.chmod(path, 0o400)
        yield path


def test_plan_works_on_a_read_only_store_and_run_fails_in_one_line(ws: Workspace, read_only_state: Path) -> None:
    ws.set_users([ident(1)])
    plan = ws.cli("plan", "--profile", str(ws.profile))
    assert plan.exit_code == 3 and plan.json["counts"]["create"] == 1, plan.stderr
    assert ws.cli("history").json == []
    one_line_error(ws.cli("run", "--profile", str(ws.profile), "--yes", json_output=False), 7, "readonly", str(read_only_state))
    assert ws.logins() == [], "nothing was written to the target"
    error = ws.cli("run", "--profile", str(ws.profile), "--yes").json["error"]
    assert error["code"] == "state" and error["exit"] == 7


def _limit_file_size(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow  # child processes
def test_a_full_disk_during_a_run_is_one_line_and_exit_7_and_the_next_run_finishes(ws: Workspace) -> None:
    ws.set_users([ident(n) for n in range(1, 3)])
    assert ws.run().exit_code == 0
    ws.set_users([ident(n) for n in range(1, 401)])
    size = max(p.stat().st_size for p in ws.root.iterdir() if p.is_file())
    proc = subprocess.run(
        [sys.executable, "-c", "from syncframe.cli import main; main()", "run", "--profile", str(ws.profile), "--yes"],
        env={**os.environ, **ws.env()},
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size(size + 16_384),
    )
    assert proc.returncode == 7, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = [l for l in proc.stderr.splitlines() if l.startswith("Error: ")]
    assert str(ws.state) in line
    again = ws.run()
    assert again.exit_code == 0, again.stdout
    assert len(ws.logins()) == 400 and len(ws.store().links("contoso")) == 400
