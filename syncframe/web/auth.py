"""Signing in and out."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .passwords import verify_password
from .security import csrf_ok, csrf_token, current_admin, page, sign_in


def _render(request: Request, error: str | None = None, status: int = 200, name: str = "") -> Response:
    csrf_token(request)
    return request.app.state.templates.TemplateResponse(request, "login.html", {"error": error, "name": name}, status_code=status)


async def login_page(request: Request) -> Response:
    if await run_in_threadpool(current_admin, request) is not None:
        return RedirectResponse("/", status_code=303)
    return _render(request)


async def login(request: Request) -> Response:
    if not await csrf_ok(request):
        return _render(request, "The form expired: please sign in again.", 403)
    form = await request.form()
    name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
    client = request.client.host if request.client else "unknown"
    limiter = request.app.state.limiter
    if limiter.blocked(name, client):
        return _render(request, "Too many failed sign-ins: wait a while and try again.", 429, name)
    admin = await run_in_threadpool(request.app.state.store.get_admin, name) if name else None
    ok = await run_in_threadpool(verify_password, admin.password_hash if admin else None, password)
    if not ok:
        limiter.failed(name, client)
        return _render(request, "Wrong name or password.", 401, name)
    limiter.succeeded(name)
    sign_in(request, admin.name)
    return RedirectResponse("/", status_code=303)


@page
def logout(request: Request, form: Any) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
