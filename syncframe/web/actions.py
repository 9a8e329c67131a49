"""The actions: what an account that is not read-only can change. Each is recorded
in the audit trail (``history``) with the account's name as the operator."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import ConfigError
from ..operations import held_logins, link_account, release_removals
from .forms import catalog, form_for, submit
from .render import not_found, render, stored_connector
from .security import action


def _message(request: Request, text: str, ok: bool, status: int = 200) -> Response:
    return render(request, "_message.html", status=status, text=text, ok=ok)


@action
def run_now(request: Request, form: Any) -> Response:
    """Run the connector in the background; the returned fragment polls its progress."""
    return _start_job(request, "run")


def _start_job(request: Request, kind: str) -> Response:
    name = request.path_params["name"]
    jobs = request.app.state.jobs
    start = jobs.start_run if kind == "run" else jobs.start_authenticate
    try:
        job = start(name, request.state.admin.name)
    except ConfigError as exc:
        return _message(request, str(exc), ok=False, status=400)
    return render(request, "_progress.html", name=name, job=job, kind=kind, oob=False)


@action
def release(request: Request, form: Any) -> Response:
    name = request.path_params["name"]
    login = str(form.get("login") or "").strip()
    row, loaded, error = stored_connector(request, name)
    if row is None:
        return not_found(request, f"No connector named {name!r}.")
    if loaded is None:
        return _message(request, error or "the profile does not load", ok=False, status=400)
    store = request.app.state.store
    try:
        held = held_logins(loaded, request.app.state.pm, store, echo=lambda line: None)
        rows = release_removals(store, name, held, [login], request.state.admin.name)
    except ConfigError as exc:
        return _message(request, str(exc), ok=False, status=400)
    return _message(request, f"Released the removal of {rows[0].subject} for the next run ({rows[0].operator}).", ok=True)


@action
def delete_leaver(request: Request, form: Any) -> Response:
    """Make a disabled leaver due now: the next run deletes it, through the removal guard."""
    name, login = request.path_params["name"], str(form.get("login") or "").strip()
    try:
        row = request.app.state.store.release_leaver(name, login, request.state.admin.name)
    except ConfigError as exc:
        return _message(request, str(exc), ok=False, status=400)
    return _message(request, f"{row.subject} is due for deletion now: the next run deletes it ({row.operator}).", ok=True)


@action
def keep_leaver(request: Request, form: Any) -> Response:
    """Keep a disabled leaver disabled indefinitely, or (``undo``) let its due date apply again."""
    name, login = request.path_params["name"], str(form.get("login") or "").strip()
    keep = not form.get("undo")
    try:
        row = request.app.state.store.keep_leaver(name, login, request.state.admin.name, keep=keep)
    except ConfigError as exc:
        return _message(request, str(exc), ok=False, status=400)
    what = "kept disabled indefinitely" if keep else "no longer kept: its due date applies again"
    return _message(request, f"{row.subject} is {what} ({row.operator}).", ok=True)


@action
def link(request: Request, form: Any) -> Response:
    name = request.path_params["name"]
    source_id, login = str(form.get("source_id") or "").strip(), str(form.get("login") or "").strip()
    row, loaded, error = stored_connector(request, name)
    if row is None:
        return not_found(request, f"No connector named {name!r}.")
    if loaded is None:
        return _message(request, error or "the profile does not load", ok=False, status=400)
    if not source_id or not login:
        return _message(request, "name the directory user (source id) and the account (login)", ok=False, status=400)
    try:
        decision = link_account(request.app.state.store, loaded, source_id, login, request.state.admin.name, echo=lambda line: None)
    except ConfigError as exc:
        return _message(request, str(exc), ok=False, status=400)
    return _message(request, f"Linked {source_id} to {decision.detail['login']!r} ({decision.operator}); the next plan follows the link.", ok=True)


@action
def start_authenticate(request: Request, form: Any) -> Response:
    """Start the source's interactive sign-in; its instructions appear as they come."""
    return _start_job(request, "authenticate")


@action
def add_connector(request: Request, form: Any) -> Response:
    templates = catalog(request.app.state.pm)
    chosen = str(form.get("template") or "")
    if chosen not in templates:
        return render(request, "choose_template.html", status=400, templates=templates)
    profile_form = form_for(templates[chosen].text, str(form.get("name") or "").strip(), request.app.state.pm)
    return _save(request, profile_form, form, new=True, template=chosen)


@action
def save_connector(request: Request, form: Any) -> Response:
    name = request.path_params["name"]
    row = request.app.state.store.get_connector(name)
    if row is None:
        return not_found(request, f"No connector named {name!r}.")
    return _save(request, form_for(row.profile_text, name, request.app.state.pm), form, new=False, template=None)


def _save(request: Request, profile_form: Any, values: Any, *, new: bool, template: str | None) -> Response:
    store = request.app.state.store
    connector = submit(profile_form, {k: v for k, v in values.items() if isinstance(v, str)}, request.app.state.pm, new=new, store=store)
    if connector is None:
        return render(request, "form.html", status=400, form=profile_form, new=new, template=template)
    store.add_connector(profile_form.name, profile_form.text, replace=not new)
    kind = "connector_add" if new else "connector_edit"
    store.record_decision(profile_form.name, kind, profile_form.name, request.state.admin.name, {"via": "web", "template": template})
    return RedirectResponse(f"/connectors/{profile_form.name}", status_code=303)
