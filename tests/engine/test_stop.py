"""A stop request (SIGTERM under ``serve``) ends a run between writes, and loses nothing."""

from __future__ import annotations

import threading

import syncframe.testing
from syncframe import hookimpl
from syncframe.connector import load_profile_file
from syncframe.engine.runner import ConnectorRunner
from syncframe.plugins import get_plugin_manager

from .conftest import Workspace, ident


class StopAfterFirstWrite:
    """A plugin that asks the run to stop as soon as one write has landed."""

    def __init__(self, stop: threading.Event):
        self.stop = stop

    @hookimpl
    def syncframe_item_applied(self, item):
        self.stop.set()


def test_stop_between_writes_then_rerun_finishes_the_job(ws: Workspace) -> None:
    ws.write_profile(concurrency=1)
    ws.set_users([ident(1), ident(2), ident(3)])
    stop = threading.Event()
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing, StopAfterFirstWrite(stop)])
    connector = load_profile_file(ws.profile, pm, "contoso")
    store = ws.store()

    stopped = ConnectorRunner(connector, pm, store, stop=stop).run()
    assert stopped.report.status in ("aborted", "failed") and stopped.exit_code == 1
    assert stopped.report.bookmark is False
    landed = ws.logins()
    assert 1 <= len(landed) < 3, "the writes already under way finish; no new one starts"
    assert sorted(link.login for link in store.links("contoso").values()) == landed, "every landed write is linked"

    again = ConnectorRunner(connector, get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing]), store).run()
    assert again.exit_code == 0 and again.report.counts["create"] == 3 - len(landed)
    assert ws.logins() == ["user1@contoso.com", "user2@contoso.com", "user3@contoso.com"]
