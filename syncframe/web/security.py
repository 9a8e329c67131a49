"""Who may see and do what: sessions, roles and CSRF tokens.

Every endpoint but the sign-in page and the static files is wrapped by
:func:`page` (look) or :func:`action` (change). Both need a signed-in account that
still exists in the state store; an action also needs a CSRF token that matches the
session's (a form field, or the ``X-CSRF-Token`` header htmx sends) and an account
that is not read-only.
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

#: set on wrapped endpoints, so tests can tell guarded routes from public ones
GUARD_ATTRIBUTE = "syncframe_guard"

Endpoint = Callable[..., Response]


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def csrf_ok(request: Request) -> bool:
    """True when the request carries the session's CSRF token (header or form field)."""
    expected = request.session.get("csrf")
    if not expected:
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def sign_in(request: Request, name: str) -> None:
    """A fresh session for ``name`` (a new CSRF token; nothing kept from before)."""
    request.session.clear()
    request.session["admin"] = name
    request.session["csrf"] = secrets.token_urlsafe(32)


def current_admin(request: Request) -> Any:
    """The signed-in account, looked up again (a removed account is signed out)."""
    name = request.session.get("admin")
    if not name:
        return None
    return request.app.state.store.get_admin(name)


def _refused(request: Request) -> Response:
    if request.method == "GET" and "hx-request" not in request.headers:
        return RedirectResponse("/login", status_code=303)
    return PlainTextResponse("Sign in first.", status_code=401, headers={"HX-Redirect": "/login"})


def _guard(kind: str) -> Callable[[Endpoint], Callable[[Request], Awaitable[Response]]]:
    def wrap(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            admin = await run_in_threadpool(current_admin, request)
            if admin is None:
                return _refused(request)
            form = None
            if request.method != "GET":
                if not await csrf_ok(request):
                    return PlainTextResponse("Missing or wrong CSRF token: reload the page and try again.", status_code=403)
                form = await request.form()
            if kind == "action" and admin.read_only:
                return PlainTextResponse(f"The account {admin.name!r} is read-only: it can look, not change.", status_code=403)
            request.state.admin = admin
            return await run_in_threadpool(endpoint, request, form)

        setattr(guarded, GUARD_ATTRIBUTE, kind)
        return guarded

    return wrap


#: an endpoint that shows something (any signed-in account)
page = _guard("page")
#: an endpoint that changes something (a signed-in account that is not read-only, with a CSRF token)
action = _guard("action")
