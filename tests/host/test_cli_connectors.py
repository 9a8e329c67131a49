"""The connector commands, ``plugins`` and ``sandbox``, through the command line."""

from __future__ import annotations

import json
import tomllib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncframe.cli import cli

PROFILE = """\
title = "Microsoft 365 users"
mode = "upsert"
interval = "1h"

[source]
type = "MSUSER"
tenant = "contoso.onmicrosoft.com"
client_id = "11111111-2222-3333-4444-555555555555"
auth = "client_secret"
client_secret_env = "TEST_M365_SECRET"

[target]
type = "pascom"
url = "https://pbx.example.org/contoso"
password_env = "TEST_PASCOM_PASSWORD"
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_M365_SECRET", "not-a-real-secret")
    monkeypatch.setenv("TEST_PASCOM_PASSWORD", "not-a-real-password")
    monkeypatch.delenv("SYNCFRAME_PLUGINS", raising=False)
    monkeypatch.delenv("SYNCFRAME_STATE", raising=False)
    profile = tmp_path / "m365.toml"
    profile.write_text(PROFILE)
    return {"state": str(tmp_path / "state.db"), "profile": str(profile), "tmp": tmp_path}


def sf(env, *args):
    result = CliRunner().invoke(cli, ["--state", env["state"], *args], catch_exceptions=False)
    return result


def test_plugins_json_lists_the_bundled_plugins(env):
    result = sf(env, "--json", "plugins")
    assert result.exit_code == 0, result.output
    plugins = {p["name"]: p for p in json.loads(result.output)}
    assert plugins["msuser"]["sources"] == ["MSUSER"] and plugins["msuser"]["version"]
    assert plugins["pascom"]["targets"] == ["pascom"]
    assert "microsoft365" in plugins["msuser"]["templates"]


def test_add_list_show_remove(env):
    added = sf(env, "--json", "connector", "add", "m365", "--profile", env["profile"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.output) == {"name": "m365", "title": "Microsoft 365 users", "source": "MSUSER", "target": "pascom"}

    again = sf(env, "connector", "add", "m365", "--profile", env["profile"])
    assert again.exit_code == 2 and "already" in again.output

    listed = json.loads(sf(env, "--json", "connector", "list").output)
    assert listed == [{"name": "m365", "title": "Microsoft 365 users", "source": "MSUSER", "target": "pascom", "mode": "upsert", "interval": 3600, "valid": True}]

    shown = json.loads(sf(env, "--json", "connector", "show", "m365").output)
    assert shown["linked_users"] == 0 and shown["has_bookmark"] is False and shown["last_run"] is None
    assert shown["profile"] == PROFILE
    shown_text = sf(env, "connector", "show", "m365").output
    assert "not-a-real" not in shown_text
    # piped (the runner's stdout is no terminal), the output is a profile that loads again
    assert tomllib.loads(shown_text) == tomllib.loads(PROFILE) and shown_text.startswith("# connector m365:")

    removed = sf(env, "connector", "remove", "m365", "--yes")
    assert removed.exit_code == 0
    assert json.loads(sf(env, "--json", "connector", "list").output) == []
    assert sf(env, "connector", "show", "m365").exit_code == 2


def test_add_refuses_a_bad_profile_with_every_error(env):
    bad = Path(env["tmp"]) / "bad.toml"
    bad.write_text(PROFILE.replace('mode = "upsert"', 'mode = "mirror"').replace("[target]", "[target]\nbogus = 1"))
    result = sf(env, "connector", "add", "m365", "--profile", str(bad))
    assert result.exit_code == 2
    assert "mode: Must be one of: sync, upsert." in result.output
    assert "[target].bogus: Unknown field." in result.output
    assert json.loads(sf(env, "--json", "connector", "list").output) == []


def test_template_is_a_valid_starting_point(env):
    listed = json.loads(sf(env, "--json", "connector", "template").output)
    assert "microsoft365" in {t["name"] for t in listed}
    text = sf(env, "connector", "template", "microsoft365").output
    assert 'type = "MSUSER"' in text and 'type = "pascom"' in text and "#" in text
    assert tomllib.loads(text)["source"]["type"] == "MSUSER"  # valid TOML as it is
    assert sf(env, "connector", "template", "nope").exit_code == 2


def test_sandbox_prints_settings_that_work(env, tmp_path):
    """`syncframe sandbox` keeps both simulators up and its profile plans against them."""
    command = [sys.executable, "-m", "syncframe", "--json", "sandbox", "--users", "30", "--seconds", "60"]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCFRAME_")}
    child_env["SYNCFRAME_SANDBOX_CONTROL"] = str(tmp_path / "sandbox.json")  # not the user's data directory
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env)
    try:
        lines = []
        while True:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
            if line.startswith("}"):
                break
        settings = json.loads("".join(lines))
        profile = tmp_path / "sandbox.toml"
        profile.write_text(settings["profile"])
        plan = subprocess.run(
            [sys.executable, "-m", "syncframe", "--state", str(tmp_path / "s.db"), "--json", "plan", "--profile", str(profile)],
            capture_output=True, text=True, env={**child_env, **settings["environment"]}, timeout=60,
        )
        report = json.loads(plan.stdout)
        assert report["complete"] is True, plan.stderr
        assert plan.returncode == 3, plan.stderr  # the seeded users are pending
        assert report["counts"]["create"] > 0 and report["counts"]["adopt"] >= 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
