"""People see a progress bar while the source is read and the writes are applied."""

from __future__ import annotations

import io

from rich.console import Console

import syncframe.testing
from syncframe.cli import App
from syncframe.cli.runs import progress_factory
from syncframe.connector import load_profile_file
from syncframe.engine.runner import ConnectorRunner
from syncframe.plugins import get_plugin_manager

from .conftest import Workspace, ident


def test_reading_and_applying_show_progress_on_a_terminal(ws: Workspace) -> None:
    ws.write_profile()
    ws.set_users([ident(1), ident(2), ident(3)])
    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[syncframe.testing])
    app = App(state=None, as_json=False, verbose=0, plugin_names=None)
    screen = io.StringIO()
    app.err = Console(file=screen, force_terminal=True, width=100)

    outcome = ConnectorRunner(load_profile_file(ws.profile, pm, "contoso"), pm, ws.store(), progress=progress_factory(app)).run()
    assert outcome.exit_code == 0
    shown = screen.getvalue()
    assert "reading" in shown and "applying" in shown
    assert "3/3" in shown  # the apply bar counts the three creates


def test_no_progress_bar_for_machines(ws: Workspace) -> None:
    app = App(state=None, as_json=True, verbose=0, plugin_names=None)
    screen = io.StringIO()
    app.err = Console(file=screen, force_terminal=True, width=100)
    with progress_factory(app)("applying", 3) as advance:
        advance(3, None)
    assert screen.getvalue() == ""
