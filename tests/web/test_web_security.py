"""Who may see and do what: every route needs a signed-in account, every change a
CSRF token and an account that is not read-only; sign-ins are rate-limited; the
session cookie is HttpOnly and SameSite=Strict (Secure behind HTTPS)."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from syncframe.web import create_app
from syncframe.web.ratelimit import LoginLimiter
from syncframe.web.security import GUARD_ATTRIBUTE
from web_support import ADMIN, NAME, PASSWORD, READER, csrf_of, signed_in

PUBLIC = {"/login"}  # and the static files (htmx, the style sheet)
EXAMPLE_PARAMS = {"name": NAME, "run_id": "1"}


def guarded_routes(app):  # type: ignore[no-untyped-def]
    """(method, path) for every route but the public ones, with example parameters."""
    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: EXAMPLE_PARAMS[m.group(1)], route.path)
        for method in sorted(route.methods - {"HEAD"}):
            if route.path in PUBLIC:
                continue
            found.append((method, path, route))
    return found


def test_every_route_but_sign_in_is_guarded(app):
    routes = guarded_routes(app)
    assert len(routes) >= 15
    for method, path, route in routes:
        assert getattr(route.endpoint, GUARD_ATTRIBUTE, None) in ("page", "action"), (method, path)
    # every POST except signing out is an action a read-only account may not take
    kinds = {(m, p): getattr(r.endpoint, GUARD_ATTRIBUTE) for m, p, r in routes}
    assert {k for k, v in kinds.items() if k[0] == "POST" and v == "page"} == {("POST", "/logout")}


def test_unauthenticated_requests_are_refused(app, world):
    client = TestClient(app)
    for method, path, _ in guarded_routes(app):
        response = client.request(method, path, follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303 and response.headers["location"] == "/login", (method, path)
        else:
            assert response.status_code == 401, (method, path)
        htmx = client.request(method, path, headers={"HX-Request": "true"}, follow_redirects=False)
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/login", (method, path)
    # nothing was done on the way
    assert [d.kind for d in world.store.decisions(NAME)] == []


def test_a_forged_session_cookie_is_refused(app):
    client = TestClient(app)
    client.cookies.set("syncframe_session", "eyJhZG1pbiI6ICJhbGljZSJ9.forged.signature")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_actions_without_or_with_a_wrong_csrf_token_are_refused(app, admin_client, world):
    posts = [(m, p) for m, p, _ in guarded_routes(app) if m == "POST"]
    assert ("POST", f"/connectors/{NAME}/run") in posts
    for _, path in posts:
        missing = admin_client.post(path, data={"login": "user3"}, follow_redirects=False)
        assert missing.status_code == 403 and "CSRF" in missing.text, path
        wrong = admin_client.post(path, data={"login": "user3", "csrf_token": "not-the-token"}, follow_redirects=False)
        assert wrong.status_code == 403, path
        header = admin_client.post(path, headers={"X-CSRF-Token": "not-the-token"}, follow_redirects=False)
        assert header.status_code == 403, path
    assert world.store.decisions(NAME) == []
    assert len(world.store.runs(NAME)) == 1  # the set-up run only
    # still signed in: the refusals did not end the session
    assert admin_client.get("/").status_code == 200


def test_sign_in_needs_the_csrf_token_of_the_sign_in_page(app):
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"name": ADMIN, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_read_only_role_can_look_but_every_action_is_refused(app, world):
    reader = signed_in(app, READER)
    page = reader.get(f"/connectors/{NAME}")
    assert page.status_code == 200 and "read-only" in page.text and "Run now" not in page.text
    token = csrf_of(page.text)
    for method, path, route in guarded_routes(app):
        if getattr(route.endpoint, GUARD_ATTRIBUTE) != "action":
            continue
        response = reader.post(path, data={"csrf_token": token, "login": "user3", "source_id": "id-7", "name": "x", "template": "x"}, follow_redirects=False)
        assert response.status_code == 403 and "read-only" in response.text, path
    assert world.store.decisions(NAME) == []
    assert len(world.store.runs(NAME)) == 1
    assert reader.get(f"/connectors/{NAME}/plan").status_code == 200  # looking is allowed


def test_the_session_cookie_is_http_only_and_same_site_strict(app):
    client = TestClient(app)
    cookie = client.get("/login").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()


def test_behind_https_the_session_cookie_is_secure(world):
    client = TestClient(create_app(world.store, world.pm, behind_https=True), base_url="https://console.example")
    assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_signing_in_starts_a_new_session_and_signing_out_ends_it(app):
    client = TestClient(app)
    before = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": before})
    page = client.get("/")
    assert page.status_code == 200 and ADMIN in page.text
    after = csrf_of(page.text)
    assert after != before  # the token of the anonymous session is not carried over
    assert client.post("/logout", data={"csrf_token": after}, follow_redirects=False).headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_removed_account_is_signed_out(app, world, admin_client):
    world.store.remove_admin(ADMIN)
    assert admin_client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("name, password", [(ADMIN, "wrong password!"), ("nobody", PASSWORD), (ADMIN, "")])
def test_a_wrong_sign_in_is_refused_with_one_message(app, name, password):
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
    assert response.status_code == 401 and "Wrong name or password." in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def _attempt(client: TestClient, name: str, password: str) -> int:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token}, follow_redirects=False).status_code


def test_failed_sign_ins_are_limited_per_account(world):
    app = create_app(world.store, world.pm, limiter=LoginLimiter(per_account=3, per_client=100))
    attacker = TestClient(app)
    assert [_attempt(attacker, ADMIN, f"guess {i}....") for i in range(3)] == [401, 401, 401]
    # now even the right password is refused, from anywhere, until the window passes
    assert _attempt(attacker, ADMIN, PASSWORD) == 429
    assert _attempt(TestClient(app), ADMIN, PASSWORD) == 429
    # another account is not affected
    assert _attempt(TestClient(app), READER, PASSWORD) == 303


def test_failed_sign_ins_are_limited_per_client_address(world):
    app = create_app(world.store, world.pm, limiter=LoginLimiter(per_account=100, per_client=4))
    client = TestClient(app)
    statuses = [_attempt(client, f"user{i}", "guess......") for i in range(4)]
    assert statuses == [401] * 4
    assert _attempt(client, READER, PASSWORD) == 429


def test_the_limit_forgets_failures_after_its_window(world):
    now = [1000.0]
    limiter = LoginLimiter(per_account=2, per_client=100, window=60, clock=lambda: now[0])
    client = TestClient(create_app(world.store, world.pm, limiter=limiter))
    assert [_attempt(client, ADMIN, "guess......") for _ in range(2)] == [401, 401]
    assert _attempt(client, ADMIN, PASSWORD) == 429
    now[0] += 61
    assert _attempt(client, ADMIN, PASSWORD) == 303
