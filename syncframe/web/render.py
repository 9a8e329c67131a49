"""Rendering helpers shared by the pages and the actions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..connector import load_profile
from ..errors import ConfigError


def render(request: Request, template_name: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("admin", getattr(request.state, "admin", None))
    return request.app.state.templates.TemplateResponse(request, template_name, context, status_code=status)


def not_found(request: Request, what: str) -> Response:
    return render(request, "error.html", status=404, message=what)


def stored_connector(request: Request, name: str) -> tuple[Any, Any, str | None]:
    """(row, connector, error): the stored row (None: no such connector) and its loaded
    profile, or the first line of why it does not load."""
    store = request.app.state.store
    row = store.get_connector(name)
    if row is None:
        return None, None, None
    try:
        return row, load_profile(row.profile_text, request.app.state.pm, name), None
    except ConfigError as exc:
        return row, None, str(exc)
