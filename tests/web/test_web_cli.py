"""``syncframe web add-admin`` and ``syncframe web`` without its extra installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from syncframe.cli import cli
from syncframe.state import StateStore
from syncframe.web.passwords import verify_password


def _cli(state: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--state", str(state), *args], input=stdin, catch_exceptions=False)


def test_add_admin_from_a_password_file_keeps_only_a_hash(tmp_path):
    state, secret = tmp_path / "state.db", tmp_path / "pw"
    secret.write_text("a long enough password\nignored second line\n")
    result = _cli(state, "web", "add-admin", "alice", "--password-file", str(secret))
    assert result.exit_code == 0, result.output
    assert "alice saved (administrator)" in result.output and "a long enough password" not in result.output
    with StateStore.open(str(state)) as store:
        row = store.get_admin("alice")
        assert row.password_hash.startswith("$argon2id$") and not row.read_only
        assert verify_password(row.password_hash, "a long enough password")
        assert not verify_password(row.password_hash, "a long enough passwor")
        assert "argon2" not in repr(row)


def test_add_admin_prompts_twice_and_read_only_sets_the_role(tmp_path):
    state = tmp_path / "state.db"
    result = _cli(state, "web", "add-admin", "rita", "--read-only", stdin="another password\nanother password\n")
    assert result.exit_code == 0, result.output
    assert "rita saved (read-only)" in result.output
    with StateStore.open(str(state)) as store:
        assert store.get_admin("rita").read_only


def test_a_short_password_is_refused_and_nothing_is_saved(tmp_path):
    state, secret = tmp_path / "state.db", tmp_path / "pw"
    secret.write_text("short\n")
    result = _cli(state, "web", "add-admin", "bob", "--password-file", str(secret))
    assert result.exit_code == 2 and "at least 10 characters" in result.output
    with StateStore.open(str(state)) as store:
        assert store.get_admin("bob") is None


def test_without_the_web_extra_the_command_says_what_to_install(tmp_path):
    # starlette made unimportable, as on an install without the extra
    code = "import sys; sys.modules['starlette'] = None; from syncframe.cli import main; main()"
    env = {**os.environ, "SYNCFRAME_STATE": str(tmp_path / "state.db")}
    done = subprocess.run([sys.executable, "-c", code, "web", "--port", "1"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "pip install 'syncframe[web]'" in done.stderr
    # the rest of the CLI works
    listed = subprocess.run([sys.executable, "-c", code, "connector", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr


def test_web_help_names_its_options():
    result = CliRunner().invoke(cli, ["web", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--behind-https", "--forwarded-allow-ips", "--runs", "add-admin"):
        assert option in result.output


def _login_cookie(base: str, **headers: str) -> str:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(f"{base}/login", headers=headers), timeout=10) as response:
        return response.headers["set-cookie"].lower()


def test_behind_a_trusted_proxy_forwarded_https_makes_cookies_secure(tmp_path):
    from web_support import serve_console

    state = tmp_path / "state.db"
    with serve_console(state, "--forwarded-allow-ips", "127.0.0.1") as base:
        assert "secure" in _login_cookie(base, **{"X-Forwarded-Proto": "https"})
        assert "secure" not in _login_cookie(base)
    # without --forwarded-allow-ips the header is not trusted
    with serve_console(state) as base:
        assert "secure" not in _login_cookie(base, **{"X-Forwarded-Proto": "https"})
