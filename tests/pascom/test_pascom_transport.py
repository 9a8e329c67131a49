"""Transport safety: redirects are not followed with credentials; TLS is verified."""

from __future__ import annotations

import pytest
from werkzeug.wrappers import Request, Response

from syncframe import ConnectorContext, FatalSyncError
from syncframe.loopback import LoopbackServer
from syncframe_pascom.schema import PascomTargetSchema
from syncframe_pascom.target import PascomTarget


class Recorder:
    """A WSGI app that remembers the Authorization header of every request."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    def __call__(self, environ, start_response):
        self.seen.append(Request(environ).headers.get("Authorization"))
        return Response("[]", mimetype="application/json")(environ, start_response)


def open_target(url: str, ca_bundle: str, monkeypatch, sleeps: list | None = None) -> PascomTarget:
    monkeypatch.setenv("PBX_PW", "a-secret-password")
    config = PascomTargetSchema().load({"url": url, "password_env": "PBX_PW", "ca_bundle": ca_bundle})
    return PascomTarget(config, ConnectorContext(name="t", profile={}), sleep=(sleeps if sleeps is not None else []).append)


def test_a_redirect_to_another_host_is_not_followed(monkeypatch):
    elsewhere = Recorder()
    with LoopbackServer(elsewhere) as other:

        def redirect(environ, start_response):
            return Response(status=302, headers={"Location": f"{other.url}/steal"})(environ, start_response)

        with LoopbackServer(redirect) as pbx:
            target = open_target(f"{pbx.url}/acme", pbx.ca_bundle, monkeypatch)
            with pytest.raises(FatalSyncError) as caught:
                target.list_accounts()
            target.close()
    assert elsewhere.seen == []
    assert "redirect (302)" in str(caught.value) and "a-secret-password" not in str(caught.value)


def test_the_server_certificate_is_verified(monkeypatch, tmp_path):
    """A CA bundle that did not sign the server's certificate: refused, clearly."""
    import trustme

    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    recorder = Recorder()
    sleeps: list[float] = []
    with LoopbackServer(recorder) as pbx:
        target = open_target(f"{pbx.url}/acme", str(stranger), monkeypatch, sleeps)
        with pytest.raises(FatalSyncError, match="TLS verification .* failed"):
            target.list_accounts()
        target.close()
    assert recorder.seen == []
    assert sleeps == []  # a certificate failure is not retried
