"""``syncframe auth`` and ``syncframe check`` driving the MSUSER source (and a pascom target)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from engine.test_json_shapes import assert_same_shape, documented
from syncframe_msuser.sandbox import GraphSandbox
from syncframe_pascom.sandbox import PascomSandbox

from syncframe.cli import cli
from syncframe.cli.sandbox import render_profile


@pytest.fixture
def pascom(monkeypatch: pytest.MonkeyPatch):
    sandbox = PascomSandbox()
    sandbox.start()
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def profile(sim, pascom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    graph = GraphSandbox(simulator=sim)
    for key, value in graph.environment().items():
        monkeypatch.setenv(key, value)

    def write(**source_overrides) -> Path:
        section = {**graph.profile_section(), **source_overrides}
        section = {k: v for k, v in section.items() if v is not None}
        path = tmp_path / "m365.toml"
        path.write_text(render_profile("MSUSER", "pascom", section, pascom.profile_section(), title="Microsoft 365 users"))
        return path

    return write


def run(tmp_path: Path, *args: str):
    return CliRunner().invoke(cli, ["--state", str(tmp_path / "state.db"), *args], catch_exceptions=False)


def test_check_passes_for_a_granted_app(sim, profile, tmp_path) -> None:
    result = run(tmp_path, "--json", "check", "--profile", str(profile(groups=None)))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and [(c["side"], c["name"]) for c in report["checks"]][:4] == [
        ("source", "configuration"), ("source", "sign-in"), ("source", "users"), ("source", "delta"),
    ]
    assert report["checks"][-1]["side"] == "target" and report["checks"][-1]["ok"]
    assert_same_shape(documented()["check"], report)  # the guide's example of the shape


def test_check_fails_with_the_missing_permission_and_exit_1(sim, profile, tmp_path) -> None:
    sim.grant_roles(sim.client_id, [])
    result = run(tmp_path, "--json", "check", "--profile", str(profile()))
    assert result.exit_code == 1
    assert_same_shape(documented()["check"], json.loads(result.output))
    failed = [c for c in json.loads(result.output)["checks"] if not c["ok"]]
    assert failed[0]["name"] == "users" and "User.Read.All" in failed[0]["detail"] and "/adminconsent?client_id=" in failed[0]["detail"]
    assert sim.client_secret not in result.output


def test_check_reports_a_missing_secret_as_a_failed_line(sim, profile, tmp_path, monkeypatch) -> None:
    path = profile(client_secret_env="NOT_SET_ANYWHERE")
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    result = run(tmp_path, "check", "--profile", str(path))
    assert result.exit_code == 1 and "NOT_SET_ANYWHERE" in result.output


def test_auth_with_the_device_code_keeps_the_sign_in_for_a_registered_connector(sim, profile, tmp_path) -> None:
    path = profile(auth="delegated", client_secret_env=None)
    assert run(tmp_path, "connector", "add", "m365", "--profile", str(path)).exit_code == 0
    sim.login.auto_approve_after_polls = 0  # the administrator approves before the first poll
    result = run(tmp_path, "auth", "m365")
    assert result.exit_code == 0, result.output
    assert "enter the code" in result.output and "/adminconsent?client_id=" in result.output
    assert f"signed in as admin@{sim.tenant.domain}" in result.output
    # unattended from now on: check signs in from the stored cache
    sim.login.auto_approve_after_polls = None
    checked = run(tmp_path, "--json", "check", "m365")
    assert checked.exit_code == 0, checked.output


def test_auth_for_app_only_prints_the_consent_url(sim, profile, tmp_path) -> None:
    result = run(tmp_path, "auth", "--profile", str(profile()))
    assert result.exit_code == 0, result.output
    assert f"{sim.authority}/adminconsent?client_id={sim.client_id}" in result.output
    assert "signed in to" in result.output and sim.client_secret not in result.output


def test_auth_failure_is_one_line_and_exit_1(sim, profile, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WRONG_SECRET", "wrong-secret-value-123")
    result = run(tmp_path, "auth", "--profile", str(profile(client_secret_env="WRONG_SECRET")))
    assert result.exit_code == 1
    assert "Error: sign-in to" in result.output and "AADSTS7000215" in result.output
    assert "Traceback" not in result.output and "wrong-secret-value-123" not in result.output


def test_a_missing_ca_is_named_a_tls_failure_for_the_login_service(sim, profile, tmp_path, monkeypatch) -> None:
    """Issue 13.3: not "unavailable (SSLError) past the retry budget"."""
    monkeypatch.delenv("COLUMNS", raising=False)  # as in a pipe: table cells are not wrapped
    result = run(tmp_path, "--json", "check", "--profile", str(profile(ca_bundle=None)))
    assert result.exit_code == 1
    # stdout only: the simulator logs the refused handshake on stderr
    sign_in = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "sign-in")
    assert sign_in["detail"].startswith(f"TLS verification of {sim.url} failed (certificate verify failed: ")
    assert "set [source] ca_bundle" in sign_in["detail"] and "unavailable" not in sign_in["detail"]
    planned = run(tmp_path, "--json", "plan", "--profile", str(profile(ca_bundle=None)))
    assert planned.exit_code == 1 and "TLS verification of" in json.loads(planned.stdout)["error"]
    # people's output prints the advice as it is (brackets are not markup) and says what stopped
    for args in (["check"], ["plan"]):
        shown = " ".join(run(tmp_path, *args, "--profile", str(profile(ca_bundle=None))).stdout.split())
        assert "set [source] ca_bundle" in shown, shown
    assert "The plan stopped:" in shown


def test_a_missing_ca_is_named_a_tls_failure_for_graph(sim, make_source) -> None:
    from syncframe import FatalSyncError
    from syncframe.sdk import CASession

    source = make_source()
    source.auth.access_token()  # the login service's certificate verifies
    source.graph.session = CASession(None)  # Graph's does not: the system store lacks the CA
    with pytest.raises(FatalSyncError, match=r"^TLS verification of https://127\.0\.0\.1:\d+ failed \(certificate verify failed: .*set \[source\] ca_bundle"):
        source.graph.request("GET", "users")


def test_check_template_and_guide_agree_on_what_presence_is_for(sim, profile, tmp_path) -> None:
    """Issue 13.9: nothing in the import uses presence; check, template and guide say so."""
    from syncframe import Identity

    GraphSandbox(simulator=sim).put_identity(Identity("0b7c6a52-2f3e-4c61-9d0e-3a1f5b2c4d6e", "anna@contoso.onmicrosoft.com", "Anna"))
    result = run(tmp_path, "--json", "check", "--profile", str(profile(groups=None, presence=True)))
    assert result.exit_code == 0, result.output
    presence = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "presence")
    assert 'extra["presence"] for plugins that use it (the bundled targets do not)' in presence["detail"]
    template = run(tmp_path, "connector", "template", "microsoft365").stdout
    assert 'presence = false                 # not needed for the import' in template
    guide = (Path(__file__).resolve().parents[2] / "docs" / "guide.md").read_text(encoding="utf-8")
    assert "`Presence.Read.All` — not needed for the user import" in guide
