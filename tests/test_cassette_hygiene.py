"""Every cassette is scrubbed: no token, no Basic string, no secret, no loopback port."""

from __future__ import annotations

import pytest

from cassette_support import CASSETTE_ROOT, HOSTS, REDACTED, find_leaks, scrub_request, scrub_response

CASSETTES = sorted(CASSETTE_ROOT.rglob("*.yaml"))


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: str(p.relative_to(CASSETTE_ROOT)))
def test_cassette_has_no_leak(path):
    assert find_leaks(path.read_text(encoding="utf-8")) == []


def test_cassettes_exist_for_both_plugins():
    folders = {p.parent.name for p in CASSETTES}
    assert any("msuser" in f for f in folders), folders
    assert any("pascom" in f for f in folders), folders


def test_scanner_finds_each_kind_of_leak():
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0dXNlciJ9.c2lnbmF0dXJl"
    assert "JWT" in find_leaks(f"token: {jwt}")
    assert "Basic credentials" in find_leaks("Authorization: Basic bW9ieTpzZWNyZXRwYXNzd29yZA==")
    assert "client secret" in find_leaks("client_secret=s3cr3t-value&grant_type=client_credentials")
    assert "token in body" in find_leaks('{"access_token": "abcdefghijklmnopqrstuvwxyz"}')
    assert "loopback port" in find_leaks("https://127.0.0.1:50123/v1.0/users")
    assert find_leaks("the secret is hunter22", secrets=("hunter22",))
    assert find_leaks(f'{{"access_token": "{REDACTED}"}} Authorization: {REDACTED}') == []


class _Request:
    def __init__(self, uri, headers, body):
        self.uri, self.headers, self.body = uri, headers, body


def test_scrubber_redacts_secrets_and_rewrites_hosts():
    HOSTS.add("https://127.0.0.1:50123", "https://login.sim.invalid")
    HOSTS.add("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "00000000-0000-0000-0000-000000000001")
    request = scrub_request(
        _Request(
            "https://127.0.0.1:50123/3f2504e0-4f89-11d3-9a0c-0305e82c3301/oauth2/v2.0/token",
            {"Authorization": "Basic bW9ieTpzZWNyZXRwYXNzd29yZA=="},
            b"client_id=abc&client_secret=s3cr3t-value&grant_type=client_credentials",
        )
    )
    assert request.uri == "https://login.sim.invalid/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token"
    assert request.headers["Authorization"] == REDACTED
    assert b"s3cr3t-value" not in request.body and b"client_id=abc" in request.body

    response = scrub_response(
        {
            "headers": {"Set-Cookie": ["x=1"], "Content-Length": ["999"]},
            "body": {"string": b'{"access_token": "eyJabc.def", "@odata.nextLink": "https://127.0.0.1:50123/v1.0/users?$skiptoken=x", "error": {"code": "Keep"}}'},
        }
    )
    body = response["body"]["string"].decode()
    assert "Set-Cookie" not in response["headers"]
    assert "eyJabc" not in body and "login.sim.invalid/v1.0/users" in body and '"Keep"' in body
    assert response["headers"]["Content-Length"] == [str(len(response["body"]["string"]))]
