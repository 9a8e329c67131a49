""""Run now" through the workers' queue: on the real PostgreSQL server with a real
``syncframe worker`` process, the console defers the run instead of running it,
follows its job (queued, running, finished) by htmx polling, and the history shows
the worker's run. Without a worker, or on SQLite, the console runs it itself."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from syncframe.web import create_app
from web_support import ADMIN, NAME, build_world, csrf_of, signed_in

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(240)]

ENV = {**os.environ, "SYNCFRAME_PLUGIN_MODULES": "syncframe.testing", "PYTHONUNBUFFERED": "1"}


def _syncframe(state: str, *args: str) -> list[str]:
    return [sys.executable, "-c", "from syncframe.cli import main; main()", "--json", "--state", state, *args]


def _until(check, seconds: float = 60.0, what: str = "the condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _run_now(client) -> object:  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(f"/connectors/{NAME}").text)
    return client.post(f"/connectors/{NAME}/run", headers={"X-CSRF-Token": token, "HX-Request": "true"})


def test_run_now_goes_to_a_live_worker_and_the_page_follows_its_job(postgres_url: str, tmp_path: Path) -> None:
    world = build_world(tmp_path, postgres_url)
    # each write of the target takes 1.5 s: the run is long enough to be seen running
    profile = world.store.get_connector(NAME).profile_text.replace("[target]\n", "[target]\nlatency = 1.5\n")
    world.store.add_connector(NAME, profile, replace=True)
    init = subprocess.run(_syncframe(postgres_url, "worker", "--init"), env=ENV, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    app = create_app(world.store, world.pm)
    client = signed_in(app)
    # the queue's tables exist, but no worker is alive: the console would run it itself
    assert app.state.jobs.queue.in_use() is False

    worker = subprocess.Popen(_syncframe(postgres_url, "worker", "--heartbeat", "1"), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _until(app.state.jobs.queue.in_use, what="the worker's first heartbeat")
        started = _run_now(client)
        assert started.status_code == 200, started.text
        job_id = int(re.search(r"job (\d+)", started.text).group(1))
        assert 'hx-trigger="every 1s"' in started.text  # the fragment polls its progress
        decision = world.store.decisions(NAME)[0]
        assert (decision.kind, decision.operator, decision.detail["queue_job"]) == ("run", ADMIN, job_id)

        seen: list[str] = []

        def finished() -> str | None:
            fragment = client.get(f"/connectors/{NAME}/progress", headers={"HX-Request": "true"}).text
            seen.append(fragment)
            return fragment if "every 1s" not in fragment else None

        fragment = _until(finished, what="the queued run to finish")
        # while the worker ran it, the page said so, with the run it started
        assert any(f"a worker runs job {job_id} (run 2)" in f for f in seen), seen[-3:]
        assert "Finished: run 2: held" in fragment and "create 1" in fragment
        # the history, swapped in beside the result, shows the worker's run
        assert 'href="/connectors/contoso/runs/2"' in fragment
        assert app.state.jobs._threads == []  # nothing ran in the console's process
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    ran = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "run" and e.get("job_id") == job_id and e.get("run_id") == 2 for e in ran), out
    run = world.store.get_run(2)
    assert run.connector == NAME and run.status == "held"
    world.store.close()


def test_runs_queue_without_the_queue_tables_says_what_to_do_and_runs_nothing(postgres_url: str, tmp_path: Path) -> None:
    world = build_world(tmp_path, postgres_url)
    client = signed_in(create_app(world.store, world.pm, runs="queue"))
    refused = _run_now(client)
    assert refused.status_code == 400 and "syncframe worker --init" in refused.text
    assert len(world.store.runs(NAME)) == 1  # the set-up run only
    world.store.close()


def test_on_sqlite_auto_runs_here_and_queue_is_refused(world) -> None:
    assert create_app(world.store, world.pm).state.jobs.queue.in_use() is False
    refused = _run_now(signed_in(create_app(world.store, world.pm, runs="queue")))
    assert refused.status_code == 400 and "PostgreSQL" in refused.text
    assert len(world.store.runs(NAME)) == 1


def test_a_run_queued_elsewhere_shows_on_every_console(postgres_url: str, tmp_path: Path) -> None:
    world = build_world(tmp_path, postgres_url)
    assert subprocess.run(_syncframe(postgres_url, "worker", "--init"), env=ENV, capture_output=True, timeout=120).returncode == 0
    queued = subprocess.run(_syncframe(postgres_url, "enqueue", NAME), env=ENV, capture_output=True, text=True, timeout=120)
    assert queued.returncode == 0, queued.stderr
    job_id = json.loads(queued.stdout)["job_id"]
    for app in (create_app(world.store, world.pm), create_app(world.store, world.pm)):
        page = signed_in(app).get(f"/connectors/{NAME}").text
        job = re.search(r'<div id="run-job"(.*?)</div>', page, re.S).group(0)
        assert f"queued as job {job_id}: waiting for a worker" in job and "started by the schedule or the CLI" in job
        assert 'hx-trigger="every 1s"' in job  # followed until a worker has run it
    # Run now follows that job instead of queueing a second one
    client = signed_in(create_app(world.store, world.pm, runs="queue"))
    started = _run_now(client)
    assert started.status_code == 200 and f"job {job_id}" in started.text
    world.store.close()
