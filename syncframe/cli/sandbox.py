"""``syncframe sandbox``: start the plugins' local simulators and print settings for them."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import click

from ..errors import ConfigError
from . import App, cli, pass_app


def toml_value(value: Any) -> str:
    """A TOML literal for the simple values profile sections hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def render_profile(source_name: str, target_name: str, source: dict[str, Any], target: dict[str, Any], title: str = "Sandbox", extra: dict[str, Any] | None = None) -> str:
    """A connector profile in the contract's format (plugin names as ``type`` in their sections)."""
    lines = [f"title = {toml_value(title)}"]
    for key, value in (extra or {}).items():
        lines.append(f"{key} = {toml_value(value)}")
    lines.append("")
    lines.append("[source]")
    lines.append(f"type = {toml_value(source_name)}")
    lines += [f"{k} = {toml_value(v)}" for k, v in source.items()]
    lines.append("")
    lines.append("[target]")
    lines.append(f"type = {toml_value(target_name)}")
    lines += [f"{k} = {toml_value(v)}" for k, v in target.items()]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def started_sandboxes(app: App, source: str | None = None, target: str | None = None) -> Iterator[tuple[Any, Any]]:
    """Start one source sandbox and one target sandbox (the first registered, or those named)."""
    from .. import plugins as registry

    found = registry.sandboxes(app.pm)
    src = next((s for s in found if s.role == "source" and (source is None or s.name == source)), None)
    tgt = next((s for s in found if s.role == "target" and (target is None or s.name == target)), None)
    if src is None or tgt is None:
        raise ConfigError("no sandbox is registered for " + ("a source" if src is None else "a target") + " (see 'syncframe plugins')")
    with src.factory() as source_box, tgt.factory() as target_box:
        yield (src, source_box), (tgt, target_box)


def seed_scenario(source_box: Any, target_box: Any, scenario: Any) -> None:
    """Put the scenario's directory users and pre-existing phone-system users into the sandboxes."""
    target_box.make_room(len(scenario.identities) + len(scenario.accounts))
    source_box.put_identities(scenario.identities)
    for account in scenario.accounts:
        target_box.put_account(account.login, account.email, account.display_name, password_login=account.password_login)


@cli.group("sandbox", invoke_without_command=True)
@click.option("--source", "source_name", help="Source sandbox to start (default: the first registered).")
@click.option("--target", "target_name", help="Target sandbox to start (default: the first registered).")
@click.option("--users", type=click.IntRange(min=0, max=200_000), default=0, show_default=True, help="Seed the demo's scenario with this many directory users (and its existing phone-system users); the target's pools grow to fit.")
@click.option("--seconds", type=float, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--removal", metavar="TEXT", help='The printed profile\'s removal, to rehearse leavers: "delete" (default), "disable" or "disable, delete after 30d" (move the clock with SYNCFRAME_NOW).')
@click.option("--control", "control_file", type=click.Path(dir_okay=False, path_type=Path), envvar="SYNCFRAME_SANDBOX_CONTROL", help="Where the running sandbox says how to reach it (default: sandbox.json in your data directory).")
@pass_app
@click.pass_context
def sandbox_command(ctx: click.Context, app: App, source_name: str | None, target_name: str | None, users: int, seconds: float | None, removal: str | None, control_file: Path | None) -> None:
    """Start local simulators of a source and a target and print a profile that uses them.

    The simulators are real HTTPS servers on 127.0.0.1 with a throwaway CA; the
    printed profile names its CA bundle, and the secrets are exported as
    environment variables (run the printed 'export' lines in your shell). While it
    runs, 'syncframe sandbox user ...' adds, renames, disables and removes its
    directory users from another shell.
    """
    from .sandbox_control import ControlServer, SandboxUsers, default_control_file

    if removal:
        from ..removal import parse_removal

        try:
            removal = str(parse_removal(removal))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--removal") from None
    control_file = control_file or default_control_file()
    ctx.meta["syncframe.sandbox_control"] = control_file
    if ctx.invoked_subcommand is not None:
        return
    from .. import demo as scenario_data

    with started_sandboxes(app, source_name, target_name) as ((src, source_box), (tgt, target_box)):
        scenario = scenario_data.build(users) if users else None
        if scenario is not None:
            seed_scenario(source_box, target_box, scenario)
        control = ControlServer(SandboxUsers(source_box, scenario.identities if scenario else ()), control_file).start()
        try:
            extra = {"removal": removal} if removal else None
            profile = render_profile(src.name, tgt.name, source_box.profile_section(), target_box.profile_section(), title="Sandbox", extra=extra)
            env = {**source_box.environment(), **target_box.environment()}
            if app.json:
                app.emit_json({"profile": profile, "environment": env, "source": source_box.profile_section(), "target": target_box.profile_section(), "control": str(control_file)})
            else:
                click.echo("# --- profile (save as sandbox.toml) ---")
                click.echo(profile)
                click.echo("# --- environment ---")
                for key, value in env.items():
                    click.echo(f"export {key}={value}")
                app.err.print(f"[dim]Simulators running; Ctrl-C stops them. Change directory users with 'syncframe sandbox user --help' (control file {control_file}).[/]")
            # a script reading our output through a pipe needs the settings now, not at exit
            sys.stdout.flush()
            stop = threading.Event()
            previous = signal.signal(signal.SIGTERM, lambda *a: stop.set())
            try:
                stop.wait(seconds)
            except KeyboardInterrupt:
                pass
            finally:
                signal.signal(signal.SIGTERM, previous)
        finally:
            control.close()


@sandbox_command.group("user")
def sandbox_user() -> None:
    """Add, rename, disable and remove the running sandbox's directory users.

    Rehearse what syncframe does before it meets the real directory: remove a user
    here, then 'syncframe plan' shows the removal (and the guard holding it).
    """


def _ask(request: dict[str, Any]) -> dict[str, Any]:
    from .sandbox_control import ask, default_control_file

    ctx = click.get_current_context()
    return ask(ctx.meta.get("syncframe.sandbox_control") or default_control_file(), request)


def _show(app: App, answer: dict[str, Any], verb: str) -> None:
    if app.json:
        app.emit_json({k: v for k, v in answer.items() if k != "ok"})
        return
    user = answer.get("user") or answer.get("removed") or {}
    state = "" if user.get("enabled", True) else " (disabled)"
    click.echo(f"{verb} {user.get('username')}{state} [{user.get('id')}]")


@sandbox_user.command("list")
@pass_app
def sandbox_user_list(app: App) -> None:
    """List the sandbox's directory users."""
    users = _ask({"op": "list"})["users"]
    if app.json:
        app.emit_json(users)
        return
    for user in users:
        state = "enabled" if user["enabled"] else "disabled"
        click.echo(f"{user['username']}\t{user['display_name']}\t{state}\t{','.join(user['groups'])}\t{user['id']}")


@sandbox_user.command("add")
@click.argument("username")
@click.option("--name", "display_name", help="Display name (default: the part before the @).")
@click.option("--email", help="E-mail (default: the username when it is an address).")
@click.option("--group", "groups", multiple=True, help="A group the user is a member of (repeatable).")
@click.option("--id", "source_id", help="The directory's id (default: a new UUID).")
@click.option("--disabled", is_flag=True, help="Add the account disabled.")
@pass_app
def sandbox_user_add(app: App, username: str, display_name: str | None, email: str | None, groups: tuple[str, ...], source_id: str | None, disabled: bool) -> None:
    """Add a directory user USERNAME."""
    request = {"op": "add", "username": username, "display_name": display_name, "email": email, "groups": list(groups), "id": source_id, "disabled": disabled}
    _show(app, _ask(request), "added")


@sandbox_user.command("rename")
@click.argument("username")
@click.argument("new_username")
@pass_app
def sandbox_user_rename(app: App, username: str, new_username: str) -> None:
    """Rename USERNAME to NEW_USERNAME (its id stays: a rename, not a new user)."""
    _show(app, _ask({"op": "rename", "username": username, "new_username": new_username}), "renamed to")


@sandbox_user.command("disable")
@click.argument("username")
@pass_app
def sandbox_user_disable(app: App, username: str) -> None:
    """Disable USERNAME's account (out of scope unless the profile includes disabled users)."""
    _show(app, _ask({"op": "disable", "username": username}), "disabled")


@sandbox_user.command("enable")
@click.argument("username")
@pass_app
def sandbox_user_enable(app: App, username: str) -> None:
    """Enable USERNAME's account again."""
    _show(app, _ask({"op": "enable", "username": username}), "enabled")


@sandbox_user.command("remove")
@click.argument("username")
@pass_app
def sandbox_user_remove(app: App, username: str) -> None:
    """Delete USERNAME from the directory (the next run plans its removal)."""
    _show(app, _ask({"op": "remove", "username": username}), "removed")
