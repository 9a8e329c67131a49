"""Reports for people: the engine's :class:`~syncframe.engine.report.Report` as rich tables.

Machines get :meth:`Report.to_dict` with ``--json``; this module is what a person
reads: counts, the changes (a few rows per kind for a large import), conflicts and
held removals in full, failures one line per cause, and what to do next.

Data (names, reasons, the services' messages) is escaped wherever it meets rich markup:
"[source] ca_bundle" or a display name "Max [extern]" prints as it is, not as a style.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from rich.markup import escape
from rich.table import Table

from ..engine.report import COUNT_KEYS, ErrorGroup
from .waiting import render_waiting

if TYPE_CHECKING:
    from rich.console import Console

    from ..engine.report import Report
    from ..model import PlanItem

_STYLE = {
    "create": "green",
    "update": "cyan",
    "rename": "magenta",
    "adopt": "blue",
    "delete": "red",
    "disable": "red",
    "held": "yellow",
    "conflict": "yellow",
    "skip": "dim",
    "noop": "dim",
    "error": "red",
}

#: rows per kind in the people's table; a large import lists its first few, --json has all
ROWS_PER_KIND = 15


def _fmt(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def _detail(item: PlanItem) -> str:
    parts: list[str] = []
    if item.rename_from:
        parts.append(f"login: {item.rename_from} → {item.login}")
    for key, (old, new) in sorted((item.changes or {}).items()):
        parts.append(f"{key}: {_fmt(old)} → {_fmt(new)}")
    if item.candidates:
        parts.append("candidates: " + ", ".join(map(str, item.candidates)))
    return "\n".join(parts)


def _login(item: PlanItem) -> str:
    return _fmt(item.login or (item.identity.username if item.identity is not None else None))


def render_report(report: Report, console: Console, *, show_skipped: bool = False, rows_per_kind: int | None = ROWS_PER_KIND) -> None:
    """Print a report as tables: counts, changes, conflicts, held removals, errors by cause.

    :param rows_per_kind: At most this many rows of each kind (None: all); conflicts
        and held removals are always listed in full, failures once per cause below.
    """
    title = f"{report.kind} of connector {report.name!r} (mode {report.mode})"
    if report.run_id:
        title += f", run {report.run_id}"
    counts = report.counts
    parts = [f"[{_STYLE[k]}]{k} {counts[k]}[/]" if counts.get(k) else f"[dim]{k} 0[/]" for k in COUNT_KEYS]
    console.print(f"[bold]{title}[/]")
    console.print("  " + " · ".join(parts))
    if report.kind == "run":
        console.print("  " + _applied_line(report))
    if not report.complete and not report.error:
        console.print(f"[yellow]The source read was incomplete:[/] {escape(report.read_reason or 'no reason given')}")

    _render_items(report, console, show_skipped, rows_per_kind)
    render_notices(console, report.notices, report.notice_messages)
    render_waiting(console, report.waiting_for_deletion)
    held = report.held
    if report.listing_doubt:
        console.print(f"[yellow]{held.count} write(s) held, the target's user list is in doubt:[/] {escape(str(report.listing_doubt))}")
        if held.release:
            console.print(f"  If those accounts really were deleted: [bold]{escape(held.release)}[/]")
    elif held.count:
        console.print(f"[yellow]{held.count} removal(s) held:[/] {escape(str(held.reason))}")
        if held.release:
            console.print(f"  To release them after review: [bold]{escape(held.release)}[/]")
        elif not held.releasable:
            console.print("  They stay held until a run reads the source completely.")
    if report.removals_withheld:
        console.print(f"[yellow]No removals made:[/] {escape(report.removals_withheld)}")
    render_error_groups(console, report.error_groups)
    if report.error:
        console.print(f"[red]The {report.kind} stopped:[/] {escape(report.error)}")
    for note in report.recovered:
        console.print(f"[dim]recovered journal entry {note.get('journal_id')}: {escape(str(note.get('note')))}[/]")
    console.print(_verdict(report))


def _applied_line(report: Report) -> str:
    """What the run did, beside what it planned: applied, failed, not applied."""
    planned = len(report.changes)
    line = f"applied {report.applied} of {planned} write(s)"
    line += f" · [red]failed {report.failed}[/]" if report.failed else " · failed 0"
    if report.refused:
        line += f" · [yellow]refused {report.refused}[/]"
    if report.not_applied:
        line += f" · [yellow]not applied {report.not_applied}[/]"
    return line


def _render_items(report: Report, console: Console, show_skipped: bool, rows_per_kind: int | None) -> None:
    shown: list[PlanItem] = []
    hidden: dict[str, int] = {}
    per_kind: dict[str, int] = {}
    for item in report.items:
        kind = item.kind.value
        if kind == "skip" and not show_skipped:
            continue
        per_kind[kind] = per_kind.get(kind, 0) + 1
        always = kind in ("conflict", "held")
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
            kind = item.kind.value
            label = f"[{_STYLE.get(kind, '')}]{kind}[/]"
            if item.refused:
                label += " [yellow](refused)[/]"
            elif item.error:
                label += " [red](failed)[/]"
            table.add_row(label, escape(_login(item)), escape(_detail(item)), escape(item.error or item.reason or ""))
        console.print(table)
    if hidden:
        more = ", ".join(f"{n} more {kind}" for kind, n in hidden.items())
        console.print(f"[dim]… and {more}; --json lists every item.[/]")
    skipped = report.counts.get("skip", 0)
    if skipped and not show_skipped:
        console.print(f"[dim]{skipped} skipped (out of scope or invalid); see --json for each reason.[/]")


def render_error_groups(console: Console, groups: list[ErrorGroup] | list[Mapping[str, Any]]) -> None:
    """One line per cause of failure: how many users, and the first of them."""
    for group in groups:
        cause, count, logins = (group.cause, group.count, group.logins) if isinstance(group, ErrorGroup) else (group["cause"], group["count"], group["logins"])
        refused = group.permanent if isinstance(group, ErrorGroup) else bool(group.get("permanent"))
        names = ", ".join(logins)
        if count > len(logins):
            names += f" and {count - len(logins)} more"
        label = "[yellow]refused[/]" if refused else "[red]failed[/]"
        console.print(f"{label} {count} × {escape(cause)} — {escape(names)}")


def render_notices(console: Console, notices: Mapping[str, list[str]], messages: Mapping[str, str]) -> None:
    """One line per notice code: what people must do, and who."""
    for code, logins in (notices or {}).items():
        if logins:
            console.print(f"[magenta]{escape((messages or {}).get(code, code))}:[/] " + escape(", ".join(logins)))


def _verdict(report: Report) -> str:
    status = report.status
    if report.kind == "plan":
        return {
            "in_sync": "[green]In sync: nothing to do.[/]",
            "pending": "[cyan]Changes pending: apply them with 'syncframe run'.[/]",
            "held": "[yellow]Removals held (see above).[/]",
            "failed": "[red]The plan is incomplete (see above).[/]",
        }.get(status, status)
    bookmark = "" if report.bookmark else " The bookmark did not advance; the next run reads the same changes again."
    return {
        "ok": "[green]Done.[/]",
        "held": "[yellow]Done, with removals held (see above).[/]" + bookmark,
        "failed": "[red]The run failed.[/]" + bookmark,
        "aborted": "[yellow]The run was stopped.[/]" + bookmark,
        "stale": "[red]The saved plan is stale: nothing was written. Plan again and review it.[/]",
    }.get(status, status)
