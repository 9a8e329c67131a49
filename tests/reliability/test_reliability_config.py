"""Bad configuration (issue 9, item 6): refused before any request, with one clear line.

Each case runs ``syncframe run --profile FILE --yes`` through the real CLI with both
simulators up, and then asserts that neither simulator saw a single request.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest

from reliability_lab import Lab, person
from syncframe_msuser.sandbox import SECRET_ENV
from syncframe_pascom.sandbox import PASSWORD_ENV


def private_file(lab: Lab, name: str, text: str, mode: int) -> str:
    path = lab.root / name
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return str(path)


def unknown_keys(lab: Lab) -> tuple[Path, dict[str, Any]]:
    return lab.profile(extra={"colour": "blue"}, source={"tenantt": "typo"}), {}


def missing_graph_secret(lab: Lab) -> tuple[Path, dict[str, Any]]:
    return lab.profile(), {SECRET_ENV: None}


def missing_pascom_password(lab: Lab) -> tuple[Path, dict[str, Any]]:
    return lab.profile(), {PASSWORD_ENV: None}


def http_pascom_url(lab: Lab) -> tuple[Path, dict[str, Any]]:
    url = lab.pascom.profile_section()["url"].replace("https://", "http://")
    return lab.profile(target={"url": url}), {}


def graph_host_outside_the_clouds(lab: Lab) -> tuple[Path, dict[str, Any]]:
    return lab.profile(source={"graph_url": "https://graph.example.net/v1.0"}), {}


def login_host_outside_the_clouds(lab: Lab) -> tuple[Path, dict[str, Any]]:
    return lab.profile(source={"authority_host": "https://login.example.net"}), {}


def secret_file_readable_by_others(lab: Lab) -> tuple[Path, dict[str, Any]]:
    path = private_file(lab, "graph-secret", lab.sim.client_secret, 0o644)
    return lab.profile(source={"client_secret_env": None, "client_secret_file": path}), {}


def password_file_readable_by_group(lab: Lab) -> tuple[Path, dict[str, Any]]:
    path = private_file(lab, "pascom-password", lab.instance.password, 0o640)
    return lab.profile(target={"password_env": None, "password_file": path}), {}


def token_cache_readable_by_others(lab: Lab) -> tuple[Path, dict[str, Any]]:
    path = private_file(lab, "msal-cache.json", "{}", 0o644)
    return lab.profile(source={"token_cache_file": path}), {}


def delegated_token_cache_readable_by_others(lab: Lab) -> tuple[Path, dict[str, Any]]:
    """The delegated sign-in's cache (refresh tokens) in a file others can read."""
    path = private_file(lab, "msal-cache.json", "{}", 0o644)
    return lab.profile(source={"auth": "delegated", "client_secret_env": None, "token_cache_file": path}), {}


CASES: dict[str, tuple[Callable[[Lab], tuple[Path, dict[str, Any]]], tuple[tuple[str, ...], ...]]] = {
    # case: (profile maker, per problem: the words its one line must contain)
    "unknown-keys": (unknown_keys, (("colour", "Unknown field"), ("tenantt", "Unknown field"))),
    "missing-graph-secret": (missing_graph_secret, ((SECRET_ENV, "not set"),)),
    "missing-pascom-password": (missing_pascom_password, ((PASSWORD_ENV, "not set"),)),
    "http-pascom-url": (http_pascom_url, (("http://", "insecure"),)),
    "graph-host-outside-the-clouds": (graph_host_outside_the_clouds, (("graph.example.net", "lab = true"),)),
    "login-host-outside-the-clouds": (login_host_outside_the_clouds, (("login.example.net", "lab = true"),)),
    "secret-file-readable-by-others": (secret_file_readable_by_others, (("graph-secret", "0644"),)),
    "password-file-readable-by-group": (password_file_readable_by_group, (("pascom-password", "0640"),)),
    "token-cache-readable-by-others": (token_cache_readable_by_others, (("msal-cache.json", "0644"),)),
    "delegated-token-cache-readable-by-others": (delegated_token_cache_readable_by_others, (("msal-cache.json", "0644"),)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_configuration_is_refused_before_any_request(lab: Lab, case: str) -> None:
    make, words = CASES[case]
    lab.directory(person(1))
    profile, env = make(lab)
    result = lab.invoke("run", "rel", "--profile", str(profile), "--yes", env=env)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    # --json: the error is a JSON document on stdout, its message the lines a person reads
    error = json.loads(result.stdout)["error"]
    assert error["exit"] == 2 and "Traceback" not in result.stderr, result.stderr
    lines = [line.strip() for line in error["message"].splitlines() if line.strip()]
    # one line per problem (a profile's errors are all listed at once, under one heading)
    assert lines and len(lines) <= 1 + len(words), error
    for problem in words:
        assert any(all(word in line for word in problem) for line in lines), (problem, error)
    assert lab.sim.request_count == 0, [r.path for r in lab.sim.requests]
    assert lab.pascom_requests() == 0
    assert lab.sim.client_secret not in result.stderr + result.stdout
    assert lab.instance.password not in result.stderr + result.stdout
