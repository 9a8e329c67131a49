"""Operating the CLI (issue 13): SIGTERM on ``run``, ``--json`` wherever it stands and
errors as JSON, output in a pipe, ``serve`` lines with their time, a cheap start-up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import Workspace, ident


def _child(ws: Workspace, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from syncframe.cli import main; main()", *args],
        env={**os.environ, **ws.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # a child process that is stopped half way
def test_sigterm_stops_run_between_writes_and_records_it_aborted(ws: Workspace) -> None:
    ws.target_extra = {"latency": 0.3}
    ws.write_profile(concurrency=1)
    ws.set_users([ident(n) for n in range(1, 21)])
    watch = ws.store()
    proc = _child(ws, "--json", "run", "--profile", str(ws.profile), "--yes")
    try:
        deadline = time.monotonic() + 60
        # stop once a write has landed and been journaled
        while time.monotonic() < deadline and not any(j.state == "ok" for r in watch.runs() for j in watch.journal(r.id)):
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and "SIGTERM: stopping after the writes under way" in stderr
    report = json.loads(stdout)
    assert report["status"] == "aborted" and report["bookmark"] is False
    store = ws.store()
    [run] = store.runs()
    assert run.status == "aborted", "history shows the run stopped, not running"
    journal = store.journal(run.id)
    assert journal and not [j for j in journal if j.state == "intent"], "every intent has its outcome"
    landed = ws.logins()
    assert 1 <= len(landed) < 20
    assert sorted(link.login for link in store.links("contoso").values()) == landed
    assert sorted(j.login for j in journal if j.state == "ok") == landed
    assert ws.run().json["counts"]["create"] == 20 - len(landed), "the next run finishes the job"


def test_json_after_the_command_and_before_it_are_the_same(ws: Workspace) -> None:
    ws.set_users([ident(1)])
    before = ws.cli("--json", "plan", "--profile", str(ws.profile), json_output=False)
    after = ws.cli("plan", "--profile", str(ws.profile), "--json", json_output=False)
    assert before.exit_code == after.exit_code == 3
    assert json.loads(after.stdout)["counts"] == json.loads(before.stdout)["counts"] == {**json.loads(before.stdout)["counts"], "create": 1}
    ws.run()
    assert json.loads(ws.cli("history", "--json", json_output=False).stdout)[0]["status"] == "ok"
    assert json.loads(ws.cli("connector", "list", "--json", json_output=False).stdout) == []


@pytest.mark.parametrize(
    ("args", "code", "exit_code", "words"),
    [
        (("plan", "nope", "--json"), "config", 2, "no connector named 'nope'"),
        (("plan", "--bogus", "--json"), "usage", 2, "No such option '--bogus'"),
        (("--json", "history", "--run", "999"), "config", 2, "no run 999"),
        (("--json", "connector", "add", "x", "--profile", "/nonexistent.toml"), "usage", 2, "does not exist"),
    ],
)
def test_errors_are_json_on_stdout_when_json_was_asked_for(ws: Workspace, args, code, exit_code, words) -> None:
    result = ws.cli(*args, json_output=False)
    assert result.exit_code == exit_code
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code and error["exit"] == exit_code and words in error["message"]
    assert result.stderr == ""


def test_a_locked_connector_is_a_json_error_with_exit_5(ws: Workspace) -> None:
    ws.set_users([ident(1)])
    with ws.store().lock("contoso", holder="another run"):
        result = ws.cli("run", "--profile", str(ws.profile), "--yes", "--json", json_output=False)
    assert result.exit_code == 5
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["exit"]) == ("locked", 5)
    assert error["message"].startswith("connector 'contoso' is locked by another run: another run")


def test_without_json_an_error_is_one_line_on_stderr(ws: Workspace) -> None:
    result = ws.cli("plan", "nope", json_output=False)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == ["Error: no connector named 'nope' (see 'syncframe connector list')"]


def test_piped_output_is_neither_wrapped_nor_cut(ws: Workspace) -> None:
    long_name = "A" * 150
    ws.set_users([ident(1)])
    ws.run()
    ws.set_users([ident(1, display_name=long_name)])
    proc = subprocess.run(
        [sys.executable, "-c", "from syncframe.cli import main; main()", "plan", "--profile", str(ws.profile)],
        env={k: v for k, v in {**os.environ, **ws.env()}.items() if k != "COLUMNS"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    assert long_name in proc.stdout, "a 150-character value stays on one line in a pipe"
    assert f"display_name: User 1 → {long_name}" in proc.stdout


def test_serve_lines_carry_their_time_and_the_scaled_wait(ws: Workspace) -> None:
    ws.set_users([ident(1)])
    ws.store().add_connector("contoso", ws.write_profile(interval="60s"))
    people = ws.cli("serve", "--time-scale", "0.01", "--max-runs", "1", json_output=False)
    assert people.exit_code == 0, people.stderr
    [line] = [l for l in people.stdout.splitlines() if "contoso: ok" in l]
    assert line[:4].isdigit() and line[10] == "T", line  # 2024-05-01T12:00:00Z contoso: ok ...
    assert line.endswith("; next in 0.6s"), "60 s scaled by 0.01"
    machine = ws.cli("serve", "--time-scale", "0.01", "--max-runs", "1", "--json", json_output=False)
    [event] = [json.loads(l) for l in machine.stdout.splitlines() if '"run"' in l]
    assert event["next_in"] == pytest.approx(0.6) and event["time"].endswith("Z")


def test_help_and_version_import_no_heavy_module() -> None:
    """Start-up speed is measured in bench/ (start-up scenario); here: what --help loads."""
    probe = (
        "import sys\n"
        "from syncframe.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlalchemy', 'alembic', 'msal', 'requests', 'rich.table', 'marshmallow', 'syncframe.engine', 'syncframe.state', 'syncframe_msuser', 'syncframe_pascom')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    for args in (["--help"], ["--version"], ["plan", "--help"]):
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60)
        assert proc.stderr.strip().splitlines()[-1] == "[]", (args, proc.stderr)
        assert proc.stdout


def test_version_is_the_installed_distribution_s() -> None:
    import importlib.metadata

    from click.testing import CliRunner

    from syncframe.cli import cli

    result = CliRunner().invoke(cli, ["--version"])
    assert result.output.strip() == f"syncframe, version {importlib.metadata.version('syncframe')}"


def test_brackets_in_directory_data_print_as_they_are(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A display name like "Anna [extern]" is data, not rich markup (it vanished from the table)."""
    monkeypatch.delenv("COLUMNS", raising=False)  # as in a pipe: one line per row
    ws.set_users([ident(1)])
    assert ws.run().exit_code == 0
    ws.set_users([ident(1, display_name="Anna [extern] [bold]")])
    shown = ws.cli("plan", "--profile", str(ws.profile), json_output=False)
    assert shown.exit_code == 3
    assert "User 1 → Anna [extern] [bold]" in shown.stdout, shown.stdout


def test_check_on_plugins_without_checks_of_their_own_passes_on_opening(ws: Workspace) -> None:
    # the test doubles offer no checks: that both sides open is what check can say
    result = ws.cli("check", "--profile", str(ws.profile))
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [(c["side"], c["name"], c["ok"]) for c in report["checks"]] == [("source", "opened", True), ("target", "opened", True)]

