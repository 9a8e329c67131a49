"""``syncframe plugins`` and ``syncframe connector add|list|show|remove|template``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConfigError
from . import App, cli, pass_app


@cli.command("plugins")
@pass_app
def plugins_command(app: App) -> None:
    """List the loaded plugins and what each registers."""
    from rich.table import Table

    from .. import plugins as registry

    infos = registry.plugin_infos(app.pm)
    if app.json:
        app.emit_json([i.to_dict() for i in infos])
        return
    table = Table("plugin", "version", "sources", "targets", "templates", title="syncframe plugins")
    for info in infos:
        table.add_row(info.name, info.version or "built-in", ", ".join(info.sources), ", ".join(info.targets), ", ".join(info.templates))
    app.console.print(table)


@cli.group("connector")
def connector_group() -> None:
    """Register, inspect and remove connectors (a named, validated profile)."""


@connector_group.command("add")
@click.argument("name")
@click.option("--profile", "profile_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The TOML profile.")
@click.option("--replace", is_flag=True, help="Replace a connector of the same name.")
@pass_app
def connector_add(app: App, name: str, profile_path: Path, replace: bool) -> None:
    """Validate a profile and register it as connector NAME."""
    from ..connector import check_name, load_profile

    text = profile_path.read_text(encoding="utf-8")
    connector = load_profile(text, app.pm, check_name(name))
    app.store.add_connector(name, text, replace=replace)
    if app.json:
        app.emit_json({"name": name, "title": connector.profile["title"], "source": connector.source_type, "target": connector.target_type})
    else:
        app.console.print(f"Connector [bold]{name}[/] added: {connector.source_type} → {connector.target_type}, mode {connector.mode}.")


@connector_group.command("list")
@pass_app
def connector_list(app: App) -> None:
    """List the registered connectors."""
    from rich.markup import escape
    from rich.table import Table

    from ..connector import load_profile

    rows = []
    for row in app.store.list_connectors():
        try:
            c = load_profile(row.profile_text, app.pm, row.name)
            rows.append({"name": row.name, "title": c.profile["title"], "source": c.source_type, "target": c.target_type, "mode": c.mode, "interval": c.interval, "valid": True})
        except ConfigError as exc:
            rows.append({"name": row.name, "valid": False, "error": str(exc).splitlines()[0]})
    if app.json:
        app.emit_json(rows)
        return
    table = Table("name", "title", "source → target", "mode", "interval", title="connectors")
    for r in rows:
        if r["valid"]:
            table.add_row(r["name"], escape(r["title"]), f"{r['source']} → {r['target']}", r["mode"], f"{r['interval']}s" if r["interval"] else "manual")
        else:
            table.add_row(r["name"], f"[red]invalid: {escape(r['error'])}[/]", "", "", "")
    app.console.print(table)


@connector_group.command("show")
@click.argument("name")
@pass_app
def connector_show(app: App, name: str) -> None:
    """Show a connector's profile and state (links, bookmark, last run)."""
    row = app.store.get_connector(name)
    if row is None:
        raise ConfigError(f"no connector named {name!r} (see 'syncframe connector list')")
    links = app.store.links(name)
    runs = app.store.runs(name, limit=1)
    info = {
        "name": name,
        "profile": row.profile_text,
        "removal": _removal(row.profile_text),
        "linked_users": len(links),
        "waiting_for_deletion": sum(1 for link in links.values() if link.disabled_at is not None),
        "has_bookmark": app.store.get_bookmark(name) is not None,
        "last_run": None if not runs else {"id": runs[0].id, "status": runs[0].status, "started_at": runs[0].started_at, "counts": runs[0].counts},
    }
    if app.json:
        app.emit_json(info)
        return
    # the state as TOML comments and the profile verbatim (no wrapping): the output,
    # piped to a file, is a profile that loads again
    click.echo(f"# connector {name}: {info['linked_users']} linked users, bookmark: {'yes' if info['has_bookmark'] else 'no'}")
    click.echo(f"# removal: {info['removal']}; {info['waiting_for_deletion']} disabled account(s) waiting for deletion ('syncframe history {name}' lists them)")
    if runs:
        click.echo(f"# last run #{runs[0].id}: {runs[0].status} at {runs[0].started_at}")
    click.echo(row.profile_text.rstrip("\n"))


def _removal(profile_text: str) -> str:
    """The profile's ``removal`` as written (the default when absent or unreadable)."""
    import tomllib

    try:
        return str(tomllib.loads(profile_text).get("removal", "delete"))
    except tomllib.TOMLDecodeError:
        return "delete"


@connector_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def connector_remove(app: App, name: str, yes: bool) -> None:
    """Forget connector NAME (its links and bookmark). Target users are left as they are."""
    if app.store.get_connector(name) is None:
        raise ConfigError(f"no connector named {name!r}")
    if not yes and not click.confirm(f"Forget connector {name!r}? Users it created stay in the target.", default=False):
        raise click.Abort()
    app.store.remove_connector(name)
    if app.json:
        app.emit_json({"removed": name})
    else:
        app.console.print(f"Connector {name} removed.")


@connector_group.command("template")
@click.argument("name", required=False)
@pass_app
def connector_template(app: App, name: str | None) -> None:
    """Print a commented starter profile (without NAME: list the templates)."""
    from rich.table import Table

    from .. import plugins as registry

    templates = registry.templates(app.pm)
    if name is None:
        if app.json:
            app.emit_json([{"name": t.name, "description": t.description, "plugin": t.plugin} for t in templates.values()])
            return
        table = Table("template", "description", "plugin")
        for t in templates.values():
            table.add_row(t.name, t.description, t.plugin)
        app.console.print(table)
        return
    if name not in templates:
        raise ConfigError(f"no template named {name!r} (known: {', '.join(sorted(templates)) or 'none'})")
    click.echo(templates[name].text.rstrip("\n"))
