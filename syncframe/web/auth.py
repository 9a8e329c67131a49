"""Signing in and out."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .passwords import verify_password
from .security import LOGIN_COOKIE, csrf_ok, current_admin, login_token, page, set_cookie, sign_in, sign_out


def _render(request: Request, error: str | None = None, status: int = 200, name: str = "") -> Response:
    token = request.state.csrf = login_token(request)
    response = request.app.state.templates.TemplateResponse(request, "login.html", {"error": error, "name": name}, status_code=status)
    set_cookie(request, response, LOGIN_COOKIE, token)
    return response


async def login_page(request: Request) -> Response:
    _, admin = await run_in_threadpool(current_admin, request)
    if admin is not None:
        return RedirectResponse("/", status_code=303)
    return _render(request)


async def login(request: Request) -> Response:
    if not await csrf_ok(request, request.cookies.get(LOGIN_COOKIE)):
        return _render(request, "The form expired: please sign in again.", 403)
    form = await request.form()
    name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
    client = request.client.host if request.client else "unknown"
    limiter = request.app.state.limiter
    if await run_in_threadpool(limiter.blocked, name, client):
        return _render(request, "Too many failed sign-ins: wait a while and try again.", 429, name)
    admin = await run_in_threadpool(request.app.state.store.get_admin, name) if name else None
    ok = await run_in_threadpool(verify_password, admin.password_hash if admin else None, password)
    if not ok:
        await run_in_threadpool(limiter.failed, name, client)
        return _render(request, "Wrong name or password.", 401, name)
    await run_in_threadpool(limiter.succeeded, name)
    response = RedirectResponse("/", status_code=303)
    await run_in_threadpool(sign_in, request, response, admin.name)
    return response


@page
def logout(request: Request, form: Any) -> Response:
    response = RedirectResponse("/login", status_code=303)
    sign_out(request, response)
    return response
