"""No secret, token or password hash ever reaches a page: crawl every page the
console links to, with a connector whose profile names a secret by its variable."""

from __future__ import annotations

import re

from syncframe.plugins import templates
from web_support import ADMIN, NAME, PASSWORD

SECRET = "pa55-w0rd-that-must-never-show"
ENV = "SYNCFRAME_PASCOM_PASSWORD"


def _profile_with_secret(world) -> str:  # type: ignore[no-untyped-def]
    text = templates(world.pm)["microsoft365"].text
    assert f'password_env = "{ENV}"' in text
    return text


def test_no_page_renders_a_secret_a_password_or_its_hash(monkeypatch, world, admin_client):
    monkeypatch.setenv(ENV, SECRET)
    world.store.add_connector("m365", _profile_with_secret(world))
    world.store.save_token_cache(f"{NAME}:source", '{"RefreshToken": {"x": {"secret": "refresh-token-value"}}}')
    # no request to a real directory: the MSUSER connector's plan and sign-in stay unvisited
    never = {"/connectors/m365/plan"}
    seen: dict[str, str] = {}
    queue = ["/", f"/connectors/{NAME}/plan", f"/connectors/{NAME}/progress", "/connectors/m365/progress?kind=authenticate", "/connectors/new?template=microsoft365"]
    while queue:
        path = queue.pop()
        if path in seen or path in never or path.startswith("/static"):
            continue
        response = admin_client.get(path)
        assert response.status_code == 200, path
        seen[path] = response.text
        queue += [link for link in re.findall(r'(?:href|hx-get)="(/[^"]*)"', response.text) if "?" not in link or link.startswith("/connectors/new")]
    assert {"/", f"/connectors/{NAME}", "/connectors/m365", "/connectors/m365/edit", "/connectors/m365/authenticate", f"/connectors/{NAME}/runs/1"} <= set(seen)
    session_token = admin_client.cookies["syncframe_session"]
    for path, body in seen.items():
        for leak in (SECRET, PASSWORD, "$argon2", "refresh-token-value", session_token):
            assert leak not in body, (path, leak)
    # what a profile holds is the variable's name, and that is what the form shows
    assert f'value="{ENV}"' in seen["/connectors/m365/edit"]
    assert ADMIN in seen["/"]
