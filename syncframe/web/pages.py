"""The pages: what an account that is signed in can look at."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import clock
from ..engine import ConnectorRunner
from ..engine.leavers import recorded_leavers
from ..model import ItemKind
from .chart import runs_chart
from .forms import catalog, form_for
from .overview import follow_ups, summarize
from .render import not_found, render, stored_connector
from .security import page

#: the kinds the plan table can be filtered by (NOOP lines are never listed)
PLAN_KINDS = [k.value for k in ItemKind if k is not ItemKind.NOOP]
HISTORY_LIMIT = 30


def _running(request: Request, name: str) -> bool:
    job = request.app.state.jobs.get(name, "run")
    return job is not None and job.running


@page
def connectors(request: Request, form: Any) -> Response:
    store, pm = request.app.state.store, request.app.state.pm
    summaries = [summarize(row, store, pm, running=_running(request, row.name)) for row in store.list_connectors()]
    return render(request, "connectors.html", connectors=summaries, templates=catalog(pm))


def history_context(request: Request, name: str) -> dict[str, Any]:
    store = request.app.state.store
    runs = store.runs(name, limit=HISTORY_LIMIT)
    return {"runs": runs, "decisions": store.decisions(name, limit=HISTORY_LIMIT), "chart": runs_chart(runs)}


@page
def connector(request: Request, form: Any) -> Response:
    name = request.path_params["name"]
    row, loaded, error = stored_connector(request, name)
    if row is None:
        return not_found(request, f"No connector named {name!r}.")
    store = request.app.state.store
    summary = summarize(row, store, request.app.state.pm, running=_running(request, name))
    history = history_context(request, name)
    return render(
        request,
        "connector.html",
        name=name,
        summary=summary,
        connector=loaded,
        profile_error=error,
        notices=follow_ups(history["runs"]),
        pending=store.pending_releases(name),
        waiting=[leaver.to_dict() for leaver in recorded_leavers(store.leavers(name), clock.now())],
        job=request.app.state.jobs.get(name, "run"),
        kinds=PLAN_KINDS,
        **history,
    )


@page
def plan(request: Request, form: Any) -> Response:
    """The plan preview (a dry run: reads the source and the target, writes nothing)."""
    name = request.path_params["name"]
    row, loaded, error = stored_connector(request, name)
    if row is None:
        return not_found(request, f"No connector named {name!r}.")
    kind = request.query_params.get("kind") or ""
    if loaded is None:
        return render(request, "_plan.html", name=name, report=None, items=[], error=error, kind=kind, kinds=PLAN_KINDS)
    outcome = ConnectorRunner(loaded, request.app.state.pm, request.app.state.store, echo=lambda line: None).plan()
    report = outcome.report.to_dict()  # the template reads the JSON shape
    items = report["items"]
    if kind in PLAN_KINDS:
        items = [i for i in items if i["kind"] == kind]
    return render(
        request,
        "_plan.html",
        name=name,
        report=report,
        items=items,
        error=report.get("error"),
        kind=kind,
        kinds=PLAN_KINDS,
    )


@page
def progress(request: Request, form: Any) -> Response:
    name = request.path_params["name"]
    kind = "authenticate" if request.query_params.get("kind") == "authenticate" else "run"
    job = request.app.state.jobs.get(name, kind)
    context = history_context(request, name) if kind == "run" and job is not None and not job.running else {}
    return render(request, "_progress.html", name=name, job=job, kind=kind, oob=bool(context), **context)


@page
def run(request: Request, form: Any) -> Response:
    name, run_id = request.path_params["name"], request.path_params["run_id"]
    store = request.app.state.store
    row = store.get_run(run_id)
    if row is None or row.connector != name:
        return not_found(request, f"No run {run_id} of connector {name!r}.")
    return render(request, "run.html", name=name, run=row, summary=row.summary or {}, journal=store.journal(run_id))


@page
def new_connector(request: Request, form: Any) -> Response:
    templates = catalog(request.app.state.pm)
    chosen = request.query_params.get("template")
    if chosen not in templates:
        return render(request, "choose_template.html", templates=templates)
    return render(request, "form.html", form=form_for(templates[chosen].text, pm=request.app.state.pm), new=True, template=chosen)


@page
def edit_connector(request: Request, form: Any) -> Response:
    name = request.path_params["name"]
    row = request.app.state.store.get_connector(name)
    if row is None:
        return not_found(request, f"No connector named {name!r}.")
    return render(request, "form.html", form=form_for(row.profile_text, name, request.app.state.pm), new=False, template=None)


@page
def authenticate(request: Request, form: Any) -> Response:
    name = request.path_params["name"]
    row, loaded, error = stored_connector(request, name)
    if row is None:
        return not_found(request, f"No connector named {name!r}.")
    return render(request, "authenticate.html", name=name, connector=loaded, profile_error=error, job=request.app.state.jobs.get(name, "authenticate"), kind="authenticate")
