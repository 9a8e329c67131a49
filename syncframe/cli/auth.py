"""``syncframe auth`` and ``syncframe check``: sign in once, then verify a connector.

Both are host-neutral: they call the source's :meth:`~syncframe.Source.authenticate`
and the source's and target's :meth:`check`. The source keeps what it signs in with
in the state store under ``<connector>:source`` (the msal token cache, for example).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import SyncframeError
from ..exit_codes import ExitCode
from . import App, cli, pass_app

if TYPE_CHECKING:
    from ..contracts import CheckResult


def _echo(app: App):  # type: ignore[no-untyped-def]
    # interactive lines (the device code) go to stderr under --json, so stdout stays JSON
    return lambda line: click.echo(line, err=app.json)


def _source_context(app: App, connector: Any):  # type: ignore[no-untyped-def]
    return connector.context(token_store=app.store.token_store(f"{connector.name}:source"), echo=_echo(app))


@cli.command("auth")
@click.argument("name", required=False)
@click.option("--profile", "profile_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A TOML profile instead of a registered connector.")
@pass_app
def auth_command(app: App, name: str | None, profile_path: Path | None) -> None:
    """Sign in to the source of connector NAME (an administrator, once) and keep the sign-in."""
    connector = app.connector(name, str(profile_path) if profile_path else None)
    source = connector.open_source(_source_context(app, connector))
    try:
        message = source.authenticate()
    finally:
        source.close()
    if app.json:
        app.emit_json({"connector": connector.name, "source": connector.source_type, "ok": True, "message": message})
    else:
        from rich.markup import escape

        app.console.print(f"[green]✓[/] {escape(message)}")


def _run_checks(role: str, opener: Any) -> list[tuple[str, CheckResult]]:
    """Open one side and run its checks; a side that cannot even open is one failed line."""
    from ..contracts import CheckResult

    try:
        side = opener()
    except SyncframeError as exc:
        return [(role, CheckResult("configuration", False, str(exc)))]
    try:
        results = [(role, result) for result in side.check()]
        # a plugin without checks of its own: that it opened (settings valid, secrets found) is the check
        return results or [(role, CheckResult("opened", True, "settings valid; the plugin offers no further checks"))]
    except SyncframeError as exc:
        return [(role, CheckResult("check", False, str(exc)))]
    finally:
        side.close()


@cli.command("check")
@click.argument("name", required=False)
@click.option("--profile", "profile_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A TOML profile instead of a registered connector.")
@pass_app
def check_command(app: App, name: str | None, profile_path: Path | None) -> None:
    """Verify connector NAME: sign-in, permissions and reachability of its source and target."""
    connector = app.connector(name, str(profile_path) if profile_path else None)
    lines = _run_checks("source", lambda: connector.open_source(_source_context(app, connector)))
    lines += _run_checks("target", lambda: connector.open_target(connector.context(echo=_echo(app))))
    ok = all(result.ok for _, result in lines) and bool(lines)
    if app.json:
        app.emit_json(
            {
                "connector": connector.name,
                "ok": ok,
                "checks": [{"side": side, "name": r.name, "ok": r.ok, "detail": r.detail} for side, r in lines],
            }
        )
    else:
        from rich.markup import escape
        from rich.table import Table

        table = Table("", "side", "check", "detail", title=f"syncframe check {connector.name}")
        for side, result in lines:
            table.add_row("[green]✓[/]" if result.ok else "[red]✗[/]", side, escape(result.name), escape(result.detail))
        app.console.print(table)
    if not ok:
        raise click.exceptions.Exit(ExitCode.FAILED)


