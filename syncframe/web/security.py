"""Who may see and do what: sessions, roles and CSRF tokens.

Every endpoint but the sign-in page and the static files is wrapped by
:func:`page` (look) or :func:`action` (change). Both need a session that the state
store still holds (signing out, a new password or a removed account ends it in
every web process) of an account that still exists; an action also needs the
session's CSRF token (a form field, or the ``X-CSRF-Token`` header htmx sends) and
an account that is not read-only.

The sign-in form, before any session exists, carries a token that must match a
cookie of its own (a double-submit token): no key has to be shared between web
processes for it.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from typing import Any, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_COOKIE = "syncframe_session"
#: the sign-in form's CSRF token, before there is a session
LOGIN_COOKIE = "syncframe_login"
#: a signed-in session lasts this long without a new sign-in
SESSION_SECONDS = 8 * 3600

#: set on wrapped endpoints, so tests can tell guarded routes from public ones
GUARD_ATTRIBUTE = "syncframe_guard"

Endpoint = Callable[..., Response]


def csrf_token(request: Request) -> str:
    """The CSRF token the page's forms carry (the session's, or the sign-in form's)."""
    return str(request.state.csrf)


async def csrf_ok(request: Request, expected: str | None) -> bool:
    """True when the request carries ``expected`` as its CSRF token (header or form field)."""
    if not expected:
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _secure(request: Request) -> bool:
    # behind a proxy, uvicorn's --forwarded-allow-ips makes X-Forwarded-Proto the scheme
    return bool(request.app.state.behind_https) or request.url.scheme == "https"


def set_cookie(request: Request, response: Response, key: str, value: str, max_age: int | None = None) -> None:
    """A cookie scripts cannot read, sent only to this site (and only through HTTPS behind it)."""
    response.set_cookie(key, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=_secure(request))


def delete_cookie(request: Request, response: Response, key: str) -> None:
    response.delete_cookie(key, path="/", httponly=True, samesite="strict", secure=_secure(request))


def login_token(request: Request) -> str:
    """The sign-in form's token: the one in its cookie, or a new one (the caller sets the cookie)."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)


def sign_in(request: Request, response: Response, name: str) -> None:
    """A fresh session for ``name`` in the state store, its token in the cookie (a new
    CSRF token; nothing kept from before)."""
    token, _ = request.app.state.store.open_web_session(name, SESSION_SECONDS)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=SESSION_SECONDS)
    delete_cookie(request, response, LOGIN_COOKIE)


def sign_out(request: Request, response: Response) -> None:
    """End the session in the state store (for every process), and drop the cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        request.app.state.store.close_web_session(token)
    delete_cookie(request, response, SESSION_COOKIE)


def current_admin(request: Request) -> tuple[Any, Any]:
    """(session, account) of the request's cookie, both looked up again in the state
    store; (None, None) when signed out, expired, or the account is gone."""
    store = request.app.state.store
    session = store.web_session(request.cookies.get(SESSION_COOKIE) or "")
    admin = store.get_admin(session.admin) if session is not None else None
    return (session, admin) if admin is not None else (None, None)


def _refused(request: Request) -> Response:
    if request.method == "GET" and "hx-request" not in request.headers:
        return RedirectResponse("/login", status_code=303)
    return PlainTextResponse("Sign in first.", status_code=401, headers={"HX-Redirect": "/login"})


def _guard(kind: str) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    def wrap(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            session, admin = await run_in_threadpool(current_admin, request)
            if admin is None:
                return _refused(request)
            form = None
            if request.method != "GET":
                if not await csrf_ok(request, session.csrf):
                    return PlainTextResponse("Missing or wrong CSRF token: reload the page and try again.", status_code=403)
                form = await request.form()
            if kind == "action" and admin.read_only:
                return PlainTextResponse(f"The account {admin.name!r} is read-only: it can look, not change.", status_code=403)
            request.state.admin, request.state.csrf = admin, session.csrf
            return await run_in_threadpool(endpoint, request, form)

        setattr(guarded, GUARD_ATTRIBUTE, kind)
        return guarded

    return wrap


#: an endpoint that shows something (any signed-in account)
page = _guard("page")
#: an endpoint that changes something (a signed-in account that is not read-only, with a CSRF token)
action = _guard("action")
