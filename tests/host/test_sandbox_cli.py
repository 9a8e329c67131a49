"""``syncframe sandbox`` as an administrator rehearses with it (issue 13.8): start it in
one shell, then add, rename, disable and remove directory users from another and
watch ``run`` follow; ``--users`` grows the target's extension pool to fit."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from engine.test_json_shapes import assert_same_keys, documented

from syncframe.cli import cli
from syncframe.cli.sandbox import seed_scenario
from syncframe.demo import build
from syncframe_msuser.sandbox import GraphSandbox
from syncframe_pascom.sandbox import PascomSandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[dict]:
    """A running ``syncframe sandbox`` child: its control file, profile file and environment."""
    yield from _running_sandbox(tmp_path)


@pytest.fixture
def seeded_sandbox(tmp_path: Path) -> Iterator[dict]:
    """``syncframe sandbox --users 50``, as the guide starts it."""
    yield from _running_sandbox(tmp_path, "--users", "50")


def _running_sandbox(tmp_path: Path, *options: str) -> Iterator[dict]:
    control = tmp_path / "sandbox.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncframe", "--json", "sandbox", "--control", str(control), "--seconds", "300", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        settings = json.loads(_first_document(proc))
        assert_same_keys(documented()["sandbox"], settings)
        profile = tmp_path / "sandbox.toml"
        profile.write_text(settings["profile"])
        yield {"control": control, "profile": profile, "env": settings["environment"], "state": tmp_path / "state.db"}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert not control.exists(), "the control file goes with the sandbox"


def _first_document(proc: subprocess.Popen[str]) -> str:
    lines = []
    for line in proc.stdout:  # type: ignore[union-attr]
        lines.append(line)
        if line.startswith("}"):
            return "".join(lines)
    raise AssertionError(f"the sandbox printed no settings: {proc.stderr.read()}")  # type: ignore[union-attr]


def cli_json(box: dict, *args: str):
    env = {**box["env"], "SYNCFRAME_SANDBOX_CONTROL": str(box["control"])}
    result = CliRunner().invoke(cli, ["--state", str(box["state"]), "--json", *args], env=env, catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def run(box: dict) -> dict:
    code, report = cli_json(box, "run", "--profile", str(box["profile"]), "--yes")
    assert code in (0, 4), report
    return report


@pytest.mark.slow  # a sandbox child process and several runs
def test_rehearse_add_rename_disable_and_remove_from_the_cli(sandbox: dict) -> None:
    assert cli_json(sandbox, "sandbox", "user", "list") == (0, [])
    code, added = cli_json(sandbox, "sandbox", "user", "add", "anna@contoso.onmicrosoft.com", "--name", "Anna Berg")
    assert code == 0 and added["user"]["display_name"] == "Anna Berg"
    assert_same_keys(documented()["sandbox-user"], added)
    cli_json(sandbox, "sandbox", "user", "add", "ben@contoso.onmicrosoft.com")
    cli_json(sandbox, "sandbox", "user", "add", "carl@contoso.onmicrosoft.com")
    first = run(sandbox)
    assert first["counts"]["create"] == 3 and first["status"] == "ok"

    cli_json(sandbox, "sandbox", "user", "rename", "anna@contoso.onmicrosoft.com", "anna.berg@contoso.onmicrosoft.com")
    renamed = run(sandbox)
    assert renamed["counts"]["rename"] == 1 and renamed["changes"][0]["rename_from"] == "anna@contoso.onmicrosoft.com"

    cli_json(sandbox, "sandbox", "user", "disable", "ben@contoso.onmicrosoft.com")
    code, removed = cli_json(sandbox, "sandbox", "user", "remove", "carl@contoso.onmicrosoft.com")
    assert code == 0 and removed["removed"]["username"] == "carl@contoso.onmicrosoft.com"
    last = run(sandbox)
    assert last["counts"]["delete"] == 2, "a disabled user leaves scope, a removed one leaves the directory"
    code, users = cli_json(sandbox, "sandbox", "user", "list")
    assert [(u["username"], u["enabled"]) for u in users] == [("anna.berg@contoso.onmicrosoft.com", True), ("ben@contoso.onmicrosoft.com", False)]


@pytest.mark.slow
def test_a_user_the_sandbox_does_not_have_is_one_clear_error(sandbox: dict) -> None:
    code, answer = cli_json(sandbox, "sandbox", "user", "remove", "nobody@contoso.onmicrosoft.com")
    assert code == 2 and answer["error"]["message"] == "the sandbox has no user 'nobody@contoso.onmicrosoft.com' (see 'syncframe sandbox user list')"


def test_without_a_running_sandbox_the_user_commands_say_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sandbox", "--control", str(tmp_path / "none.json"), "user", "list"])
    assert result.exit_code == 2
    assert "no sandbox is running" in result.stderr and "syncframe sandbox" in result.stderr


def test_the_target_sandbox_pool_grows_with_the_users_seeded() -> None:
    scenario = build(1200)  # more users than the default pool of 900 extensions
    with GraphSandbox() as source, PascomSandbox() as target:
        seed_scenario(source, target, scenario)
        pool = target.instance.extensions
        assert len(pool.pool) >= 2 * (len(scenario.identities) + len(scenario.accounts))
        numbers = {pool.next_free() for _ in range(1200)}
        assert None not in numbers and len(numbers) == 1200


GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide.md"


def guide_sandbox_commands() -> list[list[str]]:
    """The commands of the guide's section 12 in order, without the one starting the sandbox."""
    section = GUIDE.read_text(encoding="utf-8").split("## 12. ", 1)[1].split("\n## ", 1)[0]
    lines = [line.split("#", 1)[0].strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S) for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("syncframe ") and not line.startswith("syncframe sandbox --users")]


@pytest.mark.slow  # a sandbox child process and several runs
def test_the_guide_s_rehearsal_runs_as_written(seeded_sandbox: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """A newcomer pastes section 12 line by line: every command does its job (no usage error,
    no unknown user), the run creates Anna, and the last plan shows her removal."""
    commands = guide_sandbox_commands()
    assert len(commands) >= 10 and ["sandbox", "user", "remove", "anna.berg@contoso.com"] in commands
    monkeypatch.chdir(seeded_sandbox["profile"].parent)  # the guide saves the profile as sandbox.toml here
    monkeypatch.delenv("COLUMNS", raising=False)  # as in a pipe: table cells are not wrapped
    env = {**seeded_sandbox["env"], "SYNCFRAME_SANDBOX_CONTROL": str(seeded_sandbox["control"])}
    results = []
    for args in commands:
        result = CliRunner().invoke(cli, ["--state", str(seeded_sandbox["state"]), *args], env=env, catch_exceptions=False)
        assert result.exit_code in (0, 3), (args, result.stdout, result.stderr)
        results.append((args, result))
    created = next(r for a, r in results if a[0] == "run" and "anna@contoso.com" in r.stdout)
    assert "create" in created.stdout
    last_plan = results[-1][1]
    assert results[-1][0][0] == "plan" and "missing from the source" in last_plan.stdout


def test_the_sandbox_prints_a_profile_with_the_removal_to_rehearse(tmp_path: Path) -> None:
    control = ["--control", str(tmp_path / "sandbox.json")]
    bad = CliRunner().invoke(cli, ["sandbox", *control, "--removal", "archive", "--seconds", "0"])
    assert bad.exit_code == 2 and "is not a removal" in bad.output
    good = CliRunner().invoke(cli, ["--json", "sandbox", *control, "--removal", "Disable, delete after 3d", "--seconds", "0"], catch_exceptions=False)
    assert good.exit_code == 0, good.output
    assert 'removal = "disable, delete after 3d"' in json.loads(good.stdout)["profile"]
