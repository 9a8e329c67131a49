"""``plan``, ``run``, ``history`` and ``serve``.

Exit codes: :class:`syncframe.exit_codes.ExitCode` (0 done / in sync · 1 failed ·
2 usage or profile error · 3 changes pending or declined · 4 removals held · 5 locked
by another run · 7 the state store failed).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import sys
from typing import TYPE_CHECKING, Any, Iterator

import click

from .. import clock
from ..errors import ConfigError
from ..exit_codes import ExitCode
from . import App, cli, pass_app
from .decisions import decision_dict, operator_name

if TYPE_CHECKING:
    from ..contracts import Progress as ProgressCallback
    from ..engine import ConnectorRunner, Report
    from ..engine.planner import SyncPlan


_connector_args = [
    click.argument("name", required=False),
    click.option("--profile", "profile", type=click.Path(dir_okay=False), help="Use this profile file instead of a registered connector (state is kept under NAME, or the file's name)."),
]


def _with_connector_args(func: Any) -> Any:
    for decorator in reversed(_connector_args):
        func = decorator(func)
    return func


def progress_factory(app: App) -> Any:
    """Progress bars on stderr, only for people: hidden with --json or when stderr is no terminal."""
    if app.json or not app.err.is_terminal:
        return _quiet

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bar(description: str, total: int | None = None) -> Iterator[ProgressCallback]:
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=app.err, transient=True) as progress:
            task = progress.add_task(description, total=total)

            def advance(n: int, new_total: int | None = None) -> None:
                progress.update(task, advance=n, total=new_total if new_total is not None else progress.tasks[0].total)

            yield advance

    return bar


@contextlib.contextmanager
def _quiet(description: str, total: int | None = None) -> Iterator[ProgressCallback]:
    from ..contracts import no_progress

    yield no_progress


def _release_command(name: str, profile: str | None) -> str:
    if profile:
        return f"syncframe run {shlex.quote(name)} --profile {shlex.quote(profile)}"
    return f"syncframe run {shlex.quote(name)}"


def _runner(app: App, name: str | None, profile: str | None) -> ConnectorRunner:
    from ..engine import ConnectorRunner

    connector = app.connector(name, profile)
    return ConnectorRunner(
        connector,
        app.pm,
        app.store,
        progress=progress_factory(app),
        echo=lambda line: app.err.print(line),
        release=_release_command(connector.name, profile),
    )


def _emit(app: App, report: Report) -> None:
    if app.json:
        from ..engine.report_json import write_report_json

        # streamed: the report of a large import is never held whole
        write_report_json(report, sys.stdout.write)
    else:
        from .render import render_report

        render_report(report, app.console)


@cli.command()
@_with_connector_args
@click.option("--allow-removals", type=click.IntRange(min=0), default=0, metavar="N", help="Show the plan as if up to N held removals were released.")
@click.option("--out", "out", type=click.Path(dir_okay=False), metavar="FILE", help="Also save the plan to FILE, to review and apply exactly it with 'run --plan FILE'.")
@click.option("--as", "operator", metavar="NAME", help="Who made the plan, kept in the file (default: $USER).")
@pass_app
@click.pass_context
def plan(ctx: click.Context, app: App, name: str | None, profile: str | None, allow_removals: int, out: str | None, operator: str | None) -> None:
    """Show what a run would change (a dry run: writes nothing but --out's file).

    Exit 0 in sync, 3 changes pending, 4 removals held, 1 the read failed or was incomplete.
    """
    outcome = _runner(app, name, profile).plan(allow_removals=allow_removals)
    if out and outcome.plan is not None and outcome.plan.read.complete:
        from ..engine.planfile import plan_fingerprints, save_plan

        save_plan(
            out,
            connector=outcome.report.name,
            mode=outcome.plan.mode,
            items=outcome.plan.items,
            counts=outcome.report.counts,
            fingerprints=plan_fingerprints(outcome.plan.view, outcome.plan.accounts),
            operator=operator_name(operator),
            bookmark=outcome.plan.read.bookmark,
        )
        outcome.report.plan_file = out
    elif out:
        app.err.print(f"No plan file written: the plan failed or its read was incomplete ({outcome.report.error or outcome.report.read_reason}).")
    _emit(app, outcome.report)
    if out and outcome.report.plan_file and not app.json:
        app.console.print(f"Plan saved to {out}; review it ('syncframe show-plan {out}'), then apply exactly it: [bold]syncframe run {shlex.quote(outcome.report.name)} --plan {shlex.quote(out)}[/]")
    ctx.exit(outcome.exit_code)


@cli.command("show-plan")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_app
@click.pass_context
def show_plan(ctx: click.Context, app: App, file: str) -> None:
    """Show a saved plan file as 'plan' shows a plan (reads nothing else)."""
    from ..engine.planfile import load_plan

    saved = load_plan(file)
    if app.json:
        app.emit_json({"file": file, "connector": saved.connector, "mode": saved.mode, "created_at": saved.created_at, "created_by": saved.created_by, "fingerprints": saved.fingerprints, "counts": saved.counts, "items": saved.items})
        ctx.exit(ExitCode.OK)
    from ..engine.report import COUNT_KEYS, HeldRemovals, Report
    from ..model import ItemKind, PlanItem
    from .render import render_report

    items = [
        PlanItem(ItemKind(d["kind"]), d.get("reason") or "", source_id=d.get("source_id"), login=d.get("login"), target_id=d.get("target_id"),
                 changes=dict(d.get("changes") or {}), rename_from=d.get("rename_from"), candidates=list(d.get("candidates") or ()))
        for d in saved.items
    ]
    report = Report(
        name=saved.connector,
        title=f"{saved.connector} (saved {saved.created_at} by {saved.created_by})",
        mode=saved.mode,
        kind="plan",
        status="pending" if saved.writes else "in_sync",
        exit_code=ExitCode.PENDING if saved.writes else ExitCode.OK,
        complete=True,
        counts={**dict.fromkeys(COUNT_KEYS, 0), **saved.counts},
        items=items,
        held=HeldRemovals(count=saved.counts.get("held", 0)),
    )
    render_report(report, app.console)
    ctx.exit(ExitCode.OK)


def _queue(ctx: click.Context, app: App, name: str | None, profile: str | None, allow_removals: int, plan_file: str | None, operator: str | None) -> None:
    """``run NAME --queue``: hand the run to the workers and exit."""
    if profile or plan_file or operator or not name:
        raise ConfigError("run --queue takes the name of a registered connector, without --profile, --plan or --as (a worker runs what is registered)")
    from .worker import queue_run

    queue_run(app, name, allow_removals=allow_removals)
    ctx.exit(ExitCode.OK)


@cli.command()
@_with_connector_args
@click.option("--yes", "-y", is_flag=True, help="Apply without asking (runs without a terminal never ask).")
@click.option("--allow-removals", type=click.IntRange(min=0), default=0, metavar="N", help="Release up to N removals the removal guard holds.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False), metavar="FILE", help="Apply exactly this saved plan ('plan --out FILE'); refused as stale, writing nothing, when the directory or the target changed what it depends on.")
@click.option("--as", "operator", metavar="NAME", help="Who applies a saved plan, for the audit trail (default: $USER).")
@click.option("--queue", "queue", is_flag=True, help="Put the run in the job queue for 'syncframe worker' (PostgreSQL state) instead of running it here; prints its job id, as 'syncframe enqueue NAME'.")
@pass_app
@click.pass_context
def run(ctx: click.Context, app: App, name: str | None, profile: str | None, yes: bool, allow_removals: int, plan_file: str | None, operator: str | None, queue: bool) -> None:
    """Plan and apply: create, update, rename, adopt and (mode sync) remove users.

    Exit 0 done, 4 removals held, 1 failed or stopped (the bookmark did not advance),
    5 locked by another run, 3 declined at the prompt, 6 the saved plan (--plan) is
    stale, 7 the state store failed. SIGTERM (or Ctrl-C) stops the run between two
    writes; it is recorded as aborted. With --queue a worker runs it (exit 0 once
    queued; its outcome is in 'syncframe history NAME').
    """
    if queue:
        _queue(ctx, app, name, profile, allow_removals, plan_file, operator)
    from ..stopping import StopOnSignals

    saved = None
    if plan_file:
        from ..engine.planfile import load_plan

        saved = load_plan(plan_file)
    runner = _runner(app, name, profile)
    interactive = not yes and not app.json and sys.stdin.isatty()

    def confirm(plan: SyncPlan) -> bool:
        from ..engine.report import build_report
        from .render import render_report

        preview = build_report(plan, name=runner.name, title=runner.name, mode=plan.mode, kind="plan", status="pending", exit_code=ExitCode.PENDING, release=runner.release)
        render_report(preview, app.console)
        return click.confirm(f"Apply {len(plan.writes)} change(s) to the target?", default=False, err=True)

    def announce(signal_name: str) -> None:
        app.err.print(f"{signal_name}: stopping after the writes under way")

    # SIGTERM (systemd, docker stop, kill) stops between writes, as Ctrl-C does
    with StopOnSignals(runner.stop, signals=[signal.SIGTERM], announce=announce):
        outcome = runner.run(allow_removals=allow_removals, confirm=confirm if interactive else None, saved=saved, operator=operator_name(operator))
    _emit(app, outcome.report)
    ctx.exit(outcome.exit_code)


@cli.command()
@click.argument("name", required=False)
@click.option("--run", "run_id", type=int, metavar="ID", help="Show one run and its journal (every write it made).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many runs to list.")
@pass_app
@click.pass_context
def history(ctx: click.Context, app: App, name: str | None, run_id: int | None, limit: int) -> None:
    """List past runs of a connector (or of all) and the decisions people made
    (release, hold, link, unlink), or one run's items with --run ID."""
    if run_id is not None:
        _show_run(ctx, app, run_id, name)
        return
    runs = app.store.runs(name, limit=limit)
    decisions = app.store.decisions(name, limit=limit)
    waiting = _waiting_for_deletion(app, name)
    if app.json:
        # runs and people's decisions in one list, newest first; "entry" tells them apart;
        # the accounts waiting for deletion (as of now) come first
        entries = [({"entry": "run", **_run_dict(r)}, r.started_at) for r in runs]
        entries += [({"entry": "decision", **decision_dict(d)}, d.created_at) for d in decisions]
        leavers = [{"entry": "waiting_for_deletion", **w} for w in waiting]
        app.emit_json(leavers + [e for e, _ in sorted(entries, key=lambda pair: pair[1], reverse=True)])
        ctx.exit(ExitCode.OK)
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"runs of {name!r}" if name else "runs", header_style="bold")
    for column in ("id", "connector", "kind", "mode", "status", "started", "finished", "changes", "error"):
        table.add_column(column, overflow="fold")
    for r in runs:
        counts = ", ".join(f"{k} {v}" for k, v in sorted((r.counts or {}).items()) if v and k != "noop") or "—"
        table.add_row(str(r.id), r.connector, r.kind, r.mode, r.status, _when(r.started_at), _when(r.finished_at), counts, escape(r.error or ""))
    app.console.print(table)
    if not runs:
        app.console.print("No runs recorded yet.")
    if decisions:
        made = Table(title="decisions", header_style="bold")
        for column in ("at", "connector", "decision", "about", "by", "applied in run"):
            made.add_column(column, overflow="fold")
        for d in decisions:
            made.add_row(_when(d.created_at), d.connector, d.kind, escape(d.subject), escape(d.operator), str(d.consumed_run or "—"))
        app.console.print(made)
    from .waiting import render_waiting

    render_waiting(app.console, waiting)
    ctx.exit(ExitCode.OK)


def _waiting_for_deletion(app: App, name: str | None) -> list[dict[str, Any]]:
    """Disabled leavers of one connector (or of all), with their due dates as of now."""
    from ..engine.leavers import recorded_leavers

    names = [name] if name else [c.name for c in app.store.list_connectors()]
    now = clock.now()
    return [{"connector": n, **leaver.to_dict()} for n in names for leaver in recorded_leavers(app.store.leavers(n), now)]


def _show_run(ctx: click.Context, app: App, run_id: int, name: str | None) -> None:
    run_row = app.store.get_run(run_id)
    if run_row is None or (name and run_row.connector != name):
        raise ConfigError(f"no run {run_id}" + (f" of connector {name!r}" if name else ""))
    journal = app.store.journal(run_id)
    if app.json:
        app.emit_json({**_run_dict(run_row), "journal": [_journal_dict(j) for j in journal]})
        ctx.exit(ExitCode.OK)
    from rich.markup import escape
    from rich.table import Table

    from .render import render_error_groups, render_notices

    app.console.print(f"run {run_row.id} of {run_row.connector!r}: {run_row.kind}, mode {run_row.mode}, [bold]{run_row.status}[/] (started {_when(run_row.started_at)}, finished {_when(run_row.finished_at)})")
    if run_row.error:
        app.console.print(f"[red]error:[/] {escape(run_row.error)}")
    summary = run_row.summary or {}
    render_notices(app.console, summary.get("notices") or {}, summary.get("notice_messages") or {})
    render_error_groups(app.console, summary.get("error_groups") or [])
    held = summary.get("held") or {}
    if held.get("count"):
        app.console.print(f"[yellow]{held['count']} removal(s) held:[/] {escape(str(held.get('reason')))}")
    table = Table(header_style="bold")
    for column in ("#", "kind", "login", "state", "details"):
        table.add_column(column, overflow="fold")
    for j in journal:
        changes = (j.item or {}).get("changes") or {}
        detail = "; ".join(f"{k}: {v[0]} → {v[1]}" for k, v in sorted(changes.items()) if isinstance(v, (list, tuple)) and len(v) == 2)
        if (j.item or {}).get("rename_from"):
            detail = f"login: {j.item['rename_from']} → {j.login}" + (f"; {detail}" if detail else "")
        note = j.error or ((j.result or {}).get("note") if j.state == "recovered" else "") or ""
        table.add_row(str(j.seq), j.kind, escape(j.login or j.source_id or ""), j.state, escape("\n".join(x for x in (detail, note) if x)))
    app.console.print(table)
    ctx.exit(ExitCode.OK)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _run_dict(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "connector": r.connector,
        "kind": r.kind,
        "mode": r.mode,
        "status": r.status,
        "started_at": r.started_at.isoformat() if r.started_at else None,
        "finished_at": r.finished_at.isoformat() if r.finished_at else None,
        "counts": r.counts,
        "error": r.error,
        "summary": r.summary,
    }


def _journal_dict(j: Any) -> dict[str, Any]:
    return {
        "id": j.id,
        "seq": j.seq,
        "kind": j.kind,
        "source_id": j.source_id,
        "login": j.login,
        "state": j.state,
        "item": j.item,
        "result": j.result,
        "error": j.error,
        "created_at": j.created_at.isoformat() if j.created_at else None,
        "finished_at": j.finished_at.isoformat() if j.finished_at else None,
    }


@cli.command()
@click.option("--once", is_flag=True, help="Run every connector that has an interval once, then exit.")
@click.option("--max-runs", type=click.IntRange(min=1), default=None, help="Exit after this many runs.")
@click.option("--duration", type=click.FloatRange(min=0), default=None, metavar="SECONDS", help="Exit after this many seconds.")
@click.option("--workers", type=click.IntRange(min=1, max=64), default=1, show_default=True, help="Connectors run at the same time.")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0.0001, max=1.0),
    default=1.0,
    show_default=True,
    help="Multiply every interval and back-off by this factor (for tests and demos; profiles still need interval >= 60 s). The waits serve prints are the scaled ones.",
)
@pass_app
@click.pass_context
def serve(ctx: click.Context, app: App, once: bool, max_runs: int | None, duration: float | None, workers: int, time_scale: float) -> None:
    """Run every registered connector at its interval, until SIGTERM or Ctrl-C.

    Never runs one connector twice at once (the state store's lock); a failing
    connector backs off (doubling its wait, at most a day) and the others go on.
    """
    from ..serve import Scheduler

    def log_line(event: dict[str, Any]) -> None:
        if app.json:
            click.echo(_json_line(event))
        else:
            app.console.print(_serve_line(event))
        sys.stdout.flush()  # a pipe (journald, a log file) gets each line as it happens

    scheduler = Scheduler(app.store, app.pm, workers=workers, time_scale=time_scale, on_event=log_line, pid=os.getpid())
    scheduler.install_signal_handlers()
    code = scheduler.serve(once=once, max_runs=max_runs, duration=duration)
    ctx.exit(code)


def _json_line(event: dict[str, Any]) -> str:
    import json

    return json.dumps(event, default=str, ensure_ascii=False)


def _serve_line(event: dict[str, Any]) -> str:
    """One line per event for people: its time, the connector, what happened."""
    from rich.markup import escape

    when = f"[dim]{event['time']}[/] " if event.get("time") else ""
    kind = event.get("event")
    name = escape(str(event.get("name", "")))
    if kind == "run":
        counts = event.get("counts") or {}
        changes = ", ".join(f"{k} {v}" for k, v in counts.items() if v and k not in ("noop", "skip")) or "no changes"
        style = {"ok": "green", "held": "yellow"}.get(event.get("status", ""), "red")
        extra = f" — {escape(str(event['error']))}" if event.get("error") else ""
        wait = f"; next in {format_seconds(event['next_in'])}" if event.get("next_in") is not None else ""
        return f"{when}[{style}]{name}: {event.get('status')}[/] ({changes}){extra}{wait}"
    if kind == "skipped":
        return f"{when}[dim]{name}: skipped: {escape(str(event.get('reason')))}[/]"
    if kind == "invalid":
        return f"{when}[red]{name}: profile error:[/] {escape(str(event.get('error')))}"
    return f"{when}[dim]{kind}: {escape(str(event.get('message', '')))}[/]"


def format_seconds(seconds: float) -> str:
    """A wait for people: ``0.6s``, ``45s``, ``1h 30m``, ``2d``."""
    if seconds < 10:
        return f"{seconds:.2g}s"
    if seconds < 120:
        return f"{seconds:.0f}s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{round(hours / 24)}d"
