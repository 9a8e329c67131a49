"""``syncframe sandbox``: start the plugins' local simulators and print settings for them."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
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
    source_box.put_identities(scenario.identities)
    for account in scenario.accounts:
        target_box.put_account(account.login, account.email, account.display_name, password_login=account.password_login)


@cli.command("sandbox")
@click.option("--source", "source_name", help="Source sandbox to start (default: the first registered).")
@click.option("--target", "target_name", help="Target sandbox to start (default: the first registered).")
@click.option("--users", type=click.IntRange(min=0, max=200_000), default=0, show_default=True, help="Seed the demo's scenario with this many directory users (and its existing phone-system users).")
@click.option("--seconds", type=float, help="Stop after this many seconds (default: until Ctrl-C).")
@pass_app
def sandbox_command(app: App, source_name: str | None, target_name: str | None, users: int, seconds: float | None) -> None:
    """Start local simulators of a source and a target and print a profile that uses them.

    The simulators are real HTTPS servers on 127.0.0.1 with a throwaway CA; the
    printed profile names its CA bundle, and the secrets are exported as
    environment variables (run the printed 'export' lines in your shell).
    """
    from .. import demo as scenario_data

    with started_sandboxes(app, source_name, target_name) as ((src, source_box), (tgt, target_box)):
        if users:
            seed_scenario(source_box, target_box, scenario_data.build(users))
        profile = render_profile(src.name, tgt.name, source_box.profile_section(), target_box.profile_section(), title="Sandbox")
        env = {**source_box.environment(), **target_box.environment()}
        if app.json:
            app.emit_json({"profile": profile, "environment": env, "source": source_box.profile_section(), "target": target_box.profile_section()})
        else:
            app.console.rule("profile (save as sandbox.toml)")
            click.echo(profile)
            app.console.rule("environment")
            for key, value in env.items():
                click.echo(f"export {key}={value}")
            app.err.print("[dim]Simulators running; Ctrl-C stops them.[/]")
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
