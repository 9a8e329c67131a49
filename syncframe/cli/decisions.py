"""Decisions a person makes: ``release``, ``hold``, ``keep``, ``link``, ``unlink``.

Each is recorded with the operator's name (``--as NAME``, else ``$USER``) and the
time, and ``history`` lists them beside the runs.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

import click

from ..errors import ConfigError
from . import App, cli, pass_app

_operator_option = click.option(
    "--as", "operator", metavar="NAME", help="Who decides, for the audit trail (default: $USER)."
)


def operator_name(given: str | None) -> str:
    """The operator recorded with a decision: ``--as``, else the login name of the shell."""
    if given and given.strip():
        return given.strip()
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def decision_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "connector": row.connector,
        "kind": row.kind,
        "subject": row.subject,
        "detail": row.detail,
        "operator": row.operator,
        "at": row.created_at.isoformat(),
        "consumed_run": row.consumed_run,
    }


def _report(app: App, rows: list[Any], line: str) -> None:
    if app.json:
        app.emit_json({"decisions": [decision_dict(r) for r in rows]})
    else:
        app.console.print(line)


def _held_logins(app: App, name: str) -> list[str]:
    from ..operations import held_logins

    return held_logins(app.connector(name, None), app.pm, app.store, echo=lambda line: app.err.print(line))


@cli.command()
@click.argument("name")
@click.argument("logins", nargs=-1)
@click.option("--all", "release_all", is_flag=True, help="Release every removal held now.")
@_operator_option
@pass_app
def release(app: App, name: str, logins: tuple[str, ...], release_all: bool, operator: str | None) -> None:
    """Release held removals of connector NAME by login, for its next run.

    The command plans first (nothing is written) and refuses a login whose removal
    is not held now. A released user who is back in the directory by the next run
    is not removed. 'syncframe hold' takes a release back.

    A disabled leaver waiting for deletion (removal = "disable, delete after ...")
    is made due now instead: the next run deletes it, through the removal guard.
    """
    if not logins and not release_all:
        raise click.UsageError("name the logins to release, or give --all")
    from ..operations import release_removals

    who = operator_name(operator)
    disabled = {leaver.login.lower() for leaver in app.store.leavers(name)}
    due_now = [login for login in logins if login.lower() in disabled]
    held_ones = [login for login in logins if login.lower() not in disabled]
    rows = [app.store.release_leaver(name, login, who) for login in due_now]
    if held_ones or release_all:
        held = _held_logins(app, name)
        rows += release_removals(app.store, name, held, None if release_all else held_ones, who)
    _report(app, rows, f"Released {len(rows)} removal(s) of {name} for its next run ({who}): {', '.join(r.subject for r in rows) or 'none held'}.")


@cli.command()
@click.argument("name")
@click.argument("logins", nargs=-1, required=True)
@_operator_option
@pass_app
def hold(app: App, name: str, logins: tuple[str, ...], operator: str | None) -> None:
    """Take releases back: the removals of these logins stay held (a released disabled
    leaver gets its earlier due date back)."""
    pending = app.store.pending_releases(name)
    missing = [login for login in logins if login.lower() not in pending]
    if missing:
        raise ConfigError(f"no pending release of connector {name!r} for: {', '.join(missing)}")
    who = operator_name(operator)
    # a released leaver was made due now: taking that back restores its due date
    rows = [
        app.store.hold_leaver(name, login, who, pending[login.lower()])
        if pending[login.lower()].detail.get("leaver")
        else app.store.record_decision(name, "hold", login.lower(), who)
        for login in logins
    ]
    _report(app, rows, f"Held again ({who}): {', '.join(r.subject for r in rows)}.")


@cli.command()
@click.argument("name")
@click.argument("logins", nargs=-1, required=True)
@click.option("--undo", is_flag=True, help="Stop keeping them: their due date applies again (a past one: the next run deletes them).")
@_operator_option
@pass_app
def keep(app: App, name: str, logins: tuple[str, ...], undo: bool, operator: str | None) -> None:
    """Keep disabled leavers of connector NAME disabled indefinitely (never deleted).

    Only accounts a removal disabled (removal = "disable, delete after ...") can be
    kept; 'syncframe history NAME' lists them with their due dates. A kept user who
    comes back in the directory is enabled again as usual.
    """
    disabled = {leaver.login.lower() for leaver in app.store.leavers(name)}
    unknown = [login for login in logins if login.lower() not in disabled]
    if unknown:  # nothing is recorded unless every login is a disabled leaver
        raise ConfigError(f"no disabled leaver of connector {name!r}: {', '.join(unknown)} ('syncframe history {name}' lists them)")
    who = operator_name(operator)
    rows = [app.store.keep_leaver(name, login, who, keep=not undo) for login in logins]
    what = "No longer kept; their due dates apply again" if undo else "Kept disabled indefinitely"
    _report(app, rows, f"{what} ({who}): {', '.join(r.subject for r in rows)}.")


@cli.command()
@click.argument("name")
@click.option("--source-id", required=True, help="The directory user's id (shown in a conflict as source_id).")
@click.option("--login", required=True, help="The existing account in the target.")
@_operator_option
@pass_app
def link(app: App, name: str, source_id: str, login: str, operator: str | None) -> None:
    """Link a directory user to an existing target account by hand (the fix for a conflict).

    The next plan follows the link: the account is updated (and renamed) to match the
    user. Refused when the account is protected or either side is linked already.
    """
    who = operator_name(operator)
    from ..operations import link_account

    row = link_account(app.store, app.connector(name, None), source_id, login, who, echo=lambda line: app.err.print(line))
    account_login = row.detail["login"]
    _report(app, [row], f"Linked source id {source_id} to {account_login!r} ({who}); the next plan follows the link.")


@cli.command()
@click.argument("name")
@click.argument("login")
@_operator_option
@pass_app
def unlink(app: App, name: str, login: str, operator: str | None) -> None:
    """Drop the link to LOGIN; the account itself is not touched.

    The next plan matches the directory user again by the usual rules (or a 'link').
    """
    who = operator_name(operator)
    row = app.store.unlink_by_hand(name, login, who)
    _report(app, [row], f"Unlinked {row.subject!r} from source id {row.detail['source_id']} ({who}); the account is unchanged.")
