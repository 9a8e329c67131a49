"""The run report: one dict for ``--json`` and history, and rich tables for people.

The JSON document (``kind`` is ``plan`` or ``run``)::

    {
      "name": "contoso", "title": "...", "mode": "sync", "kind": "run",
      "run_id": 7,                      # null for a plan
      "status": "ok",                   # plan: in_sync | pending | held | failed
                                        # run:  ok | held | failed | aborted
      "exit_code": 0,
      "complete": true, "incremental": false, "read_reason": null, "read_stats": {...},
      "counts": {"create": 1, "update": 0, "rename": 0, "adopt": 0, "delete": 0,
                 "held": 0, "conflict": 0, "skip": 0, "noop": 3, "error": 0},
      "notices": {"<code>": ["login", ...]},   # the target's follow-ups for people,
                                        # e.g. pascom's "repair_mobile" after a rename
      "notice_messages": {"<code>": "what to do"},
      "bookmark": true,                 # did the bookmark (and saved view) advance
      "held": {"count": 0, "reason": null, "releasable": true, "release": null},
      "conflicts": [{"source_id", "username", "reason", "candidates"}],
      "changes": [{"kind", "login", "rename_from", "changes": {field: [old, new]}}],
      "items": [PlanItem.to_dict(), ...],   # every item except NOOP
      "errors": [{"kind", "login", "source_id", "error"}],
      "error": null,                    # what stopped the run, if anything did
      "applied": 0, "not_applied": 0, "links_dropped": 0,
      "removals_withheld": null, "recovered": [...]
    }
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.console import Console
from rich.table import Table

from ..model import ItemKind, PlanItem
from .apply import ApplyResult
from .planner import SyncPlan

COUNT_KEYS = ("create", "update", "rename", "adopt", "delete", "held", "conflict", "skip", "noop", "error")


def build_report(
    plan: SyncPlan | None,
    *,
    name: str,
    title: str,
    mode: str,
    kind: str,
    status: str,
    exit_code: int,
    run_id: int | None = None,
    bookmark: bool = False,
    applied: ApplyResult | None = None,
    error: str | None = None,
    release: str | None = None,
    recovered: Iterable[Any] = (),
) -> dict[str, Any]:
    """The report of a plan or a run as a JSON-ready dict (see the module docstring)."""
    items = plan.items if plan is not None else []
    counts = plan.counts() if plan is not None else {}
    report: dict[str, Any] = {
        "name": name,
        "title": title,
        "mode": mode,
        "kind": kind,
        "run_id": run_id,
        "status": status,
        "exit_code": exit_code,
        "complete": plan.read.complete if plan is not None else False,
        "incremental": plan.read.incremental if plan is not None else False,
        "read_reason": plan.read.reason if plan is not None else None,
        "read_stats": dict(plan.read.stats) if plan is not None else {},
        "counts": {key: int(counts.get(key, 0)) for key in COUNT_KEYS},
        "notices": plan.notices() if plan is not None else {},
        "notice_messages": plan.notice_messages() if plan is not None else {},
        "bookmark": bookmark,
        "held": _held(plan, release),
        "conflicts": [
            {"source_id": i.source_id, "username": _username(i), "login": i.login, "reason": i.reason, "candidates": list(i.candidates)}
            for i in items
            if i.kind is ItemKind.CONFLICT
        ],
        "changes": [
            {"kind": i.kind.value, "login": i.login, "rename_from": i.rename_from, "changes": i.changes, "applied": i.applied}
            for i in items
            if i.writes
        ],
        "items": [i.to_dict() for i in items if i.kind is not ItemKind.NOOP],
        "errors": [{"kind": i.kind.value, "login": i.login, "source_id": i.source_id, "error": i.error} for i in items if i.error],
        "error": error,
        "applied": applied.applied if applied else 0,
        "not_applied": applied.not_applied if applied else 0,
        "links_dropped": applied.links_dropped if applied else 0,
        "removals_withheld": applied.removals_withheld if applied else None,
        "recovered": [r.to_dict() if hasattr(r, "to_dict") else r for r in recovered],
    }
    return report


def _username(item: PlanItem) -> str | None:
    return item.identity.username if item.identity is not None else None


def _held(plan: SyncPlan | None, release: str | None) -> dict[str, Any]:
    if plan is None or not plan.guard.held:
        return {"count": 0, "reason": None, "releasable": True, "release": None}
    n = plan.guard.held
    return {
        "count": n,
        "reason": plan.guard.reason,
        "releasable": plan.guard.releasable,
        "release": f"{release} --allow-removals {n}" if (release and plan.guard.releasable) else None,
    }


# --- rendering for people ----------------------------------------------------------

_STYLE = {
    "create": "green",
    "update": "cyan",
    "rename": "magenta",
    "adopt": "blue",
    "delete": "red",
    "held": "yellow",
    "conflict": "yellow",
    "skip": "dim",
    "noop": "dim",
    "error": "red",
}


def _fmt(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def _detail(item: dict[str, Any]) -> str:
    parts: list[str] = []
    if item.get("rename_from"):
        parts.append(f"login: {item['rename_from']} → {item['login']}")
    for key, (old, new) in sorted((item.get("changes") or {}).items()):
        parts.append(f"{key}: {_fmt(old)} → {_fmt(new)}")
    if item.get("candidates"):
        parts.append("candidates: " + ", ".join(map(str, item["candidates"])))
    return "\n".join(parts)


#: rows per kind in the people's table; a large import lists its first few, --json has all
ROWS_PER_KIND = 15


def render_report(report: dict[str, Any], console: Console, *, show_skipped: bool = False, rows_per_kind: int | None = ROWS_PER_KIND) -> None:
    """Print a report as tables: counts, changes, conflicts, held removals, errors.

    :param rows_per_kind: At most this many rows of each kind (None: all); failed
        items, conflicts and held removals are always listed in full.
    """
    title = f"{report['kind']} of connector {report['name']!r} (mode {report['mode']})"
    if report.get("run_id"):
        title += f", run {report['run_id']}"
    parts = [f"[{_STYLE[k]}]{k} {report['counts'][k]}[/]" if report["counts"][k] else f"[dim]{k} 0[/]" for k in COUNT_KEYS]
    console.print(f"[bold]{title}[/]")
    console.print("  " + " · ".join(parts))
    if not report["complete"] and not report.get("error"):
        console.print(f"[yellow]The source read was incomplete:[/] {report.get('read_reason') or 'no reason given'}")

    candidates = [i for i in report["items"] if i["kind"] not in ("skip",) or show_skipped]
    shown, hidden, per_kind = [], {}, {}
    for item in candidates:
        kind = item["kind"]
        per_kind[kind] = per_kind.get(kind, 0) + 1
        always = item.get("error") or kind in ("conflict", "held")
        if always or rows_per_kind is None or per_kind[kind] <= rows_per_kind:
            shown.append(item)
        else:
            hidden[kind] = hidden.get(kind, 0) + 1
    if shown:
        table = Table(show_header=True, header_style="bold", show_lines=False)
        table.add_column("kind")
        table.add_column("login")
        table.add_column("details")
        table.add_column("reason", overflow="fold")
        for item in shown:
            kind = item["kind"]
            label = f"[{_STYLE.get(kind, '')}]{kind}[/]"
            if item.get("error"):
                label += " [red](failed)[/]"
            table.add_row(label, _fmt(item.get("login") or item.get("username")), _detail(item), item.get("error") or item["reason"])
        console.print(table)
    if hidden:
        more = ", ".join(f"{n} more {kind}" for kind, n in hidden.items())
        console.print(f"[dim]… and {more}; --json lists every item.[/]")
    skipped = report["counts"]["skip"]
    if skipped and not show_skipped:
        console.print(f"[dim]{skipped} skipped (out of scope or invalid); see --json for each reason.[/]")

    render_notices(console, report)
    held = report["held"]
    if held["count"]:
        console.print(f"[yellow]{held['count']} removal(s) held:[/] {held['reason']}")
        if held["release"]:
            console.print(f"  To release them after review: [bold]{held['release']}[/]")
        elif not held["releasable"]:
            console.print("  They stay held until a run reads the source completely.")
    if report.get("removals_withheld"):
        console.print(f"[yellow]No removals made:[/] {report['removals_withheld']}")
    for err in report["errors"]:
        console.print(f"[red]error[/] {err['kind']} {_fmt(err['login'])}: {err['error']}")
    if report.get("error"):
        console.print(f"[red]The run stopped:[/] {report['error']}")
    for note in report.get("recovered") or ():
        console.print(f"[dim]recovered journal entry {note['journal_id']}: {note['note']}[/]")
    console.print(_verdict(report))


def render_notices(console: Console, report: dict[str, Any]) -> None:
    """One line per notice code: what people must do, and who."""
    messages = report.get("notice_messages") or {}
    for code, logins in (report.get("notices") or {}).items():
        if logins:
            console.print(f"[magenta]{messages.get(code, code)}:[/] " + ", ".join(logins))


def _verdict(report: dict[str, Any]) -> str:
    status = report["status"]
    if report["kind"] == "plan":
        return {
            "in_sync": "[green]In sync: nothing to do.[/]",
            "pending": "[cyan]Changes pending: apply them with 'syncframe run'.[/]",
            "held": "[yellow]Removals held (see above).[/]",
            "failed": "[red]The plan is incomplete (see above).[/]",
        }.get(status, status)
    bookmark = "" if report["bookmark"] else " The bookmark did not advance; the next run reads the same changes again."
    return {
        "ok": "[green]Done.[/]",
        "held": "[yellow]Done, with removals held (see above).[/]" + bookmark,
        "failed": "[red]The run failed.[/]" + bookmark,
        "aborted": "[yellow]The run was stopped.[/]" + bookmark,
        "stale": "[red]The saved plan is stale: nothing was written. Plan again and review it.[/]",
    }.get(status, status)
