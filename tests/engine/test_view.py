"""The saved source view: rewritten when an incremental read brings changes, left alone when not."""

from __future__ import annotations

import sqlite3

from .conftest import Workspace, ident


def count_view_writes(ws: Workspace) -> None:
    """A trigger in the state database counts every row written into the saved view."""
    with sqlite3.connect(ws.state) as db:
        db.execute("CREATE TABLE view_writes (n INTEGER)")
        db.execute("INSERT INTO view_writes VALUES (0)")
        db.execute("CREATE TRIGGER count_view_writes AFTER INSERT ON source_view BEGIN UPDATE view_writes SET n = n + 1; END")


def view_writes(ws: Workspace) -> int:
    with sqlite3.connect(ws.state) as db:
        return db.execute("SELECT n FROM view_writes").fetchone()[0]


def test_a_no_change_delta_round_keeps_the_view_rows_and_advances_the_bookmark(ws: Workspace) -> None:
    ws.source_extra = {"incremental": True}
    ws.write_profile()
    ws.set_users([ident(1), ident(2)])
    assert ws.run().exit_code == 0
    count_view_writes(ws)

    quiet = ws.run()
    assert quiet.exit_code == 0 and quiet.json["bookmark"] is True and quiet.json["incremental"] is True
    assert view_writes(ws) == 0, "an unchanged view is not rewritten"

    ws.set_users([ident(1, display_name="Renamed One"), ident(2)])
    changed = ws.run()
    assert changed.exit_code == 0 and changed.json["counts"]["update"] == 1
    assert view_writes(ws) == 2, "a changed view is saved again"
    assert ws.store().load_view("contoso")["id-1"]["display_name"] == "Renamed One"
