"""Sessions and the sign-in limit live in the state store: they hold across several
web processes on one store and across restarts, and signing out ends a session
everywhere (a copied cookie is refused afterwards)."""

from __future__ import annotations

from starlette.testclient import TestClient

from syncframe.state import StateStore
from syncframe.web import create_app
from syncframe.web.ratelimit import LoginLimiter
from web_support import ADMIN, NAME, PASSWORD, csrf_of, signed_in


def _with_cookie_of(app, signed: TestClient) -> TestClient:  # type: ignore[no-untyped-def]
    """A client of ``app`` holding the session cookie of ``signed`` (another process's client)."""
    client = TestClient(app, base_url="http://127.0.0.1")
    client.cookies.set("syncframe_session", signed.cookies["syncframe_session"])
    return client


def test_a_session_holds_in_a_second_console_and_after_a_restart(world):
    first = signed_in(create_app(world.store, world.pm))
    second = _with_cookie_of(create_app(world.store, world.pm), first)
    page = second.get(f"/connectors/{NAME}")
    assert page.status_code == 200 and ADMIN in page.text
    # its CSRF token is the session's, so an action works there too
    token = csrf_of(page.text)
    released = second.post(f"/connectors/{NAME}/release", data={"login": "user3@contoso.com", "csrf_token": token})
    assert released.status_code == 200 and "Released" in released.text
    # a restart: a new store object on the same database, a new application
    world.store.close()
    with StateStore.open(str(world.state)) as reopened:
        restarted = _with_cookie_of(create_app(reopened, world.pm), first)
        assert restarted.get("/", follow_redirects=False).status_code == 200


def test_signing_out_ends_the_session_in_every_console(world):
    first = signed_in(create_app(world.store, world.pm))
    second = _with_cookie_of(create_app(world.store, world.pm), first)
    assert second.get("/", follow_redirects=False).status_code == 200
    copied = first.cookies["syncframe_session"]
    out = first.post("/logout", data={"csrf_token": csrf_of(first.get("/").text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert second.get("/", follow_redirects=False).status_code == 303
    replay = TestClient(create_app(world.store, world.pm))
    replay.cookies.set("syncframe_session", copied)
    assert replay.get("/", follow_redirects=False).status_code == 303


def test_the_store_keeps_only_a_hash_of_the_session_token(world):
    client = signed_in(create_app(world.store, world.pm))
    token = client.cookies["syncframe_session"]
    with world.store.engine.connect() as connection:
        dumped = repr(connection.exec_driver_sql("SELECT * FROM web_sessions").all())
    assert token not in dumped and ADMIN in dumped


def test_a_new_password_signs_the_account_out_everywhere(world):
    from web_support import password_hash

    client = signed_in(create_app(world.store, world.pm))
    world.store.save_admin(ADMIN, password_hash())
    assert client.get("/", follow_redirects=False).status_code == 303


def _attempt(app, name: str, password: str) -> int:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token}, follow_redirects=False).status_code


def test_failed_sign_ins_count_across_consoles_and_restarts(world):
    one = create_app(world.store, world.pm, limiter=LoginLimiter(per_account=3, per_client=100))
    two = create_app(world.store, world.pm, limiter=LoginLimiter(per_account=3, per_client=100))
    assert [_attempt(one, ADMIN, "guess 1...."), _attempt(two, ADMIN, "guess 2...."), _attempt(one, ADMIN, "guess 3....")] == [401] * 3
    assert _attempt(two, ADMIN, PASSWORD) == 429
    world.store.close()
    with StateStore.open(str(world.state)) as reopened:
        restarted = create_app(reopened, world.pm, limiter=LoginLimiter(per_account=3, per_client=100))
        assert _attempt(restarted, ADMIN, PASSWORD) == 429


def test_a_request_that_came_through_https_gets_secure_cookies(world):
    # behind a proxy, uvicorn (--forwarded-allow-ips) makes X-Forwarded-Proto the request's scheme
    client = TestClient(create_app(world.store, world.pm), base_url="https://console.example")
    assert "secure" in client.get("/login").headers["set-cookie"].lower()
    token = csrf_of(client.get("/login").text)
    signed = client.post("/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    session_cookie = [c for c in signed.headers.get_list("set-cookie") if c.startswith("syncframe_session=")]
    assert session_cookie and "secure" in session_cookie[0].lower() and "httponly" in session_cookie[0].lower()
