"""``worker --init``, ``enqueue``, ``jobs`` and one worker process, on the real PostgreSQL server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.test_json_shapes import assert_same_keys, documented
from syncframe.cli import cli
from syncframe.state import StateStore
from syncframe.testing import generate_identities, target_accounts, write_identities

from .conftest import PLUGIN_ENV, child_env, events, memory_profile, seed_memory_connector, syncframe_argv

pytestmark = pytest.mark.postgres


def _cli(state: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--json", "--state", state, *args], env=PLUGIN_ENV, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def state(postgres_url: str, tmp_path: Path) -> str:
    seed_memory_connector(tmp_path, "acme", generate_identities(4))
    with StateStore.open(postgres_url) as store:
        store.add_connector("acme", memory_profile(tmp_path, "acme", interval=None))
    return postgres_url


def test_init_creates_the_queue_once_and_jobs_asks_for_it_before(state: str) -> None:
    code, out, _err = _cli(state, "jobs")
    assert code == 2 and "syncframe worker --init" in json.loads(out)["error"]["message"]  # --json: errors too
    assert _cli(state, "worker", "--init")[:2] == (0, json.dumps({"initialized": True}, indent=2) + "\n")
    assert json.loads(_cli(state, "worker", "--init")[1]) == {"initialized": False}
    assert _cli(state, "jobs")[:2] == (0, "[]\n")


def test_enqueue_prints_the_job_id_and_a_second_one_finds_it_waiting(state: str) -> None:
    _cli(state, "worker", "--init")
    code, out, _ = _cli(state, "enqueue", "acme")
    first = json.loads(out)
    assert code == 0 and first["already_queued"] is False and isinstance(first["job_id"], int)
    second = json.loads(_cli(state, "enqueue", "acme")[1])
    assert second == {"connector": "acme", "job_id": first["job_id"], "already_queued": True}
    listed = json.loads(_cli(state, "jobs")[1])
    assert [(j["id"], j["connector"], j["state"], j["queue"]) for j in listed] == [(first["job_id"], "acme", "queued", "syncframe")]
    assert_same_keys(documented()["jobs"][0], listed[0])  # the guide's example of the shape
    code, out, _err = _cli(state, "enqueue", "nobody")
    assert code == 2 and "no connector named 'nobody'" in json.loads(out)["error"]["message"]


def test_run_with_queue_defers_like_enqueue(state: str) -> None:
    _cli(state, "worker", "--init")
    code, out, _ = _cli(state, "run", "acme", "--queue", "--allow-removals", "2")
    first = json.loads(out)
    assert code == 0 and first["connector"] == "acme" and first["already_queued"] is False
    assert_same_keys(documented()["enqueue"], first)
    assert json.loads(_cli(state, "enqueue", "acme")[1]) == {**first, "already_queued": True}
    assert json.loads(_cli(state, "run", "acme", "--queue")[1]) == {**first, "already_queued": True}
    [job] = json.loads(_cli(state, "jobs")[1])
    assert (job["id"], job["connector"], job["state"]) == (first["job_id"], "acme", "queued")
    with StateStore.open(state) as store:
        assert store.runs("acme") == []  # nothing ran here
    # a worker runs what is registered: no profile files, no saved plans
    code, out, _ = _cli(state, "run", "--profile", "x.toml", "--queue")
    assert code == 2 and "registered connector" in json.loads(out)["error"]["message"]
    code, out, _ = _cli(state, "run", "nobody", "--queue")
    assert code == 2 and "no connector named 'nobody'" in json.loads(out)["error"]["message"]


def test_run_and_enqueue_help_name_each_other() -> None:
    run_help = CliRunner().invoke(cli, ["run", "--help"]).stdout
    assert "--queue" in run_help and "syncframe enqueue NAME" in run_help
    assert "syncframe run NAME --queue" in CliRunner().invoke(cli, ["enqueue", "--help"]).stdout


def test_a_worker_runs_a_queued_job_and_stops_cleanly_on_sigterm(state: str, tmp_path: Path) -> None:
    _cli(state, "worker", "--init")
    job_id = json.loads(_cli(state, "enqueue", "acme")[1])["job_id"]
    worker = subprocess.Popen(syncframe_argv(state, "worker", "--heartbeat", "1"), env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        with StateStore.open(state) as store:
            while not store.runs("acme") or store.runs("acme")[0].status == "running":
                assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
                assert time.monotonic() < deadline, "the worker did not run the job"
                time.sleep(0.2)
            run = store.runs("acme")[0]
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert run.status == "ok"
    assert len(target_accounts(tmp_path / "acme.db")) == 4
    ran = [e for e in events(out) if e["event"] == "run"]
    assert [(e["name"], e["job_id"], e["status"]) for e in ran] == [("acme", job_id, "ok")]
    assert_same_keys(documented()["worker-run"], ran[0])  # the guide's example of the shape
    assert any(e["event"] == "stopping" for e in events(out))
    assert _cli(state, "jobs")[1] == "[]\n"  # done jobs leave the list


@pytest.mark.slow  # a worker process starts, runs and stops
def test_jobs_lists_a_failed_run_with_its_connector(state: str, tmp_path: Path) -> None:
    write_identities(tmp_path / "acme.json", [], fail="the directory is down")
    _cli(state, "worker", "--init")
    job_id = json.loads(_cli(state, "run", "acme", "--queue")[1])["job_id"]
    worker = subprocess.Popen(syncframe_argv(state, "worker", "--heartbeat", "1"), env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not [j for j in json.loads(_cli(state, "jobs")[1]) if j["state"] == "failed"]:
            assert worker.poll() is None and time.monotonic() < deadline, "the job did not fail"
            time.sleep(0.3)
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    [job] = json.loads(_cli(state, "jobs")[1])
    assert (job["id"], job["connector"], job["state"], job["attempts"]) == (job_id, "acme", "failed", 1)
    with StateStore.open(state) as store:
        assert [r.status for r in store.runs("acme")] == ["failed"]


def test_without_the_worker_extra_the_cli_says_what_to_install(postgres_url: str) -> None:
    code = "import sys; sys.modules['procrastinate'] = None; from syncframe.cli import main; main()"
    result = subprocess.run([sys.executable, "-c", code, "--state", postgres_url, "worker"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "pip install 'syncframe[worker]'" in result.stderr


def test_jobs_tells_a_running_job_from_one_whose_worker_went_silent(state: str) -> None:
    import asyncio

    import psycopg

    from syncframe.worker.database import queue_conninfo
    from syncframe.worker.tasks import build_app, make_connector

    _cli(state, "worker", "--init")
    job_id = json.loads(_cli(state, "enqueue", "acme")[1])["job_id"]
    app = build_app(make_connector(queue_conninfo(state), max_size=2))

    async def take() -> int:
        async with app.open_async():
            worker_id = await app.job_manager.register_worker()
            job = await app.job_manager.fetch_job(queues=None, worker_id=worker_id)
            assert job is not None and job.id == job_id
            return worker_id

    worker_id = asyncio.run(take())
    listed = json.loads(_cli(state, "jobs", "--heartbeat", "10")[1])
    assert [(j["id"], j["connector"], j["state"], j["worker"]) for j in listed] == [(job_id, "acme", "running", f"worker {worker_id}")]
    with psycopg.connect(queue_conninfo(state), autocommit=True) as connection:
        connection.execute("UPDATE procrastinate_workers SET last_heartbeat = NOW() - INTERVAL '1 hour' WHERE id = %s", (worker_id,))
    listed = json.loads(_cli(state, "jobs", "--heartbeat", "10")[1])
    assert [(j["id"], j["state"]) for j in listed] == [(job_id, "stalled")]
