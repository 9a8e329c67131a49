"""The queue lives in the state store's PostgreSQL database, and only there."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from syncframe.cli import cli
from syncframe.worker.database import NotPostgresError, queue_conninfo


def test_the_queue_uses_the_state_databases_server_database_and_options() -> None:
    url = "postgresql+psycopg2://sync:s3cret@db.example:5433/state?options=-csearch_path%3Dtenant1"
    assert queue_conninfo(url) == "postgresql://sync:s3cret@db.example:5433/state?options=-csearch_path%3Dtenant1"
    assert queue_conninfo("postgresql://postgres@127.0.0.1/test") == "postgresql://postgres@127.0.0.1/test"


@pytest.mark.parametrize("state", ["/var/lib/syncframe/state.db", "sqlite:///state.db", "mysql+pymysql://u@h/db"])
def test_anything_but_postgresql_is_refused(state: str) -> None:
    with pytest.raises(NotPostgresError, match="needs a PostgreSQL state store"):
        queue_conninfo(state)


@pytest.mark.parametrize("command", [["worker"], ["worker", "--init"], ["jobs"], ["enqueue", "x"]])
def test_the_cli_refuses_sqlite_state_with_one_line_and_exit_2(tmp_path, command: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--state", str(tmp_path / "state.db"), *command])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs a PostgreSQL state store" in lines[0] and "syncframe serve" in lines[0]
    assert not (tmp_path / "state.db").exists()  # refused before the store was touched


def test_the_cli_without_a_state_store_names_what_it_needs(monkeypatch) -> None:
    monkeypatch.delenv("SYNCFRAME_STATE", raising=False)
    result = CliRunner().invoke(cli, ["jobs"])
    assert result.exit_code == 2
    assert "needs a PostgreSQL state store" in result.stderr
