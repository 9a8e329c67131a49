"""A run started from the console stops between writes when the console shuts down
(as ``serve`` does on SIGTERM), and says so in its history."""

from __future__ import annotations

from starlette.testclient import TestClient

from syncframe.testing import target_accounts
from syncframe.web import create_app
from web_support import NAME, csrf_of, ident, memory_profile, signed_in


def test_shutting_down_stops_a_run_between_writes(world):
    # one write at a time, each slowed down, so the run is still writing when the console stops
    profile = memory_profile(world.root).replace('mode = "sync"', 'mode = "sync"\nconcurrency = 1') + "latency = 0.2\n"
    world.store.add_connector(NAME, profile, replace=True)
    world.users([ident(n) for n in range(10, 60)])
    app = create_app(world.store, world.pm)
    with TestClient(app):  # runs the application's lifespan: its shutdown at the end of the block
        admin = signed_in(app)
        admin.post(f"/connectors/{NAME}/run", data={"csrf_token": csrf_of(admin.get("/").text)})
        job = app.state.jobs.get(NAME, "run")
        while job.running and not (job.phase == "applying" and job.done >= 1):
            app.state.jobs.wait(0.05)
    # leaving the block ran the shutdown: the run stopped, with writes left undone
    assert not job.running
    run = world.store.runs(NAME, limit=1)[0]
    assert run.status == "aborted", run
    created = [a for a in target_accounts(world.root / "accounts.db") if a["login"].startswith("user") and 10 <= int(a["login"][4:].split("@")[0]) < 60]
    assert 1 <= len(created) < 50
