"""``syncframe web``: the web console, and ``syncframe web add-admin`` for its accounts.

The console's libraries are an optional install (``pip install 'syncframe[web]'``);
without them the command says so and the rest of the CLI works as before.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ConfigError
from . import App, cli, pass_app

INSTALL_HINT = "the web console needs its extra: pip install 'syncframe[web]'"


def _web_module():  # type: ignore[no-untyped-def]
    try:
        from .. import web
        from ..web import passwords  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{INSTALL_HINT} ({exc.name} is missing)") from exc
    return web


@cli.group("web", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option("--behind-https", is_flag=True, help="Served through HTTPS (a reverse proxy): session cookies are marked Secure.")
@click.option("--forwarded-allow-ips", metavar="IPS", help="Trust X-Forwarded-Proto/-For from these proxy addresses (comma-separated); by default no forwarded header is trusted.")
@click.option(
    "--runs",
    type=click.Choice(["auto", "queue", "here"]),
    default="auto",
    show_default=True,
    help="Where 'Run now' runs: through the workers' queue when a 'syncframe worker' is alive (auto), always through the queue, or always in this process.",
)
@pass_app
@click.pass_context
def web_command(ctx: click.Context, app: App, host: str, port: int, behind_https: bool, forwarded_allow_ips: str | None, runs: str) -> None:
    """Serve the web console for administrators (add one first: 'syncframe web add-admin NAME')."""
    if ctx.invoked_subcommand is not None:
        return
    web = _web_module()
    import uvicorn

    if not app.store.admins():
        app.err.print("[yellow]No account can sign in yet:[/] add one with 'syncframe web add-admin NAME'.")
    application = web.create_app(app.store, app.pm, behind_https=behind_https, runs=runs)
    app.err.print(f"syncframe web console on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning" if app.verbose == 0 else "info",
        proxy_headers=bool(forwarded_allow_ips),
        forwarded_allow_ips=forwarded_allow_ips or "",
        server_header=False,
    )


@web_command.command("add-admin")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="The account can look at everything but run, release, link or edit nothing.")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Read the password from this file's first line instead of asking.")
@pass_app
def add_admin(app: App, name: str, read_only: bool, password_file: Path | None) -> None:
    """Add (or reset) the web console account NAME; the store keeps only its argon2 hash."""
    _web_module()
    from ..web.passwords import MIN_LENGTH, hash_password

    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
    else:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True, err=True)
    if len(password) < MIN_LENGTH:
        raise ConfigError(f"the password needs at least {MIN_LENGTH} characters")
    row = app.store.save_admin(name, hash_password(password), read_only=read_only)
    role = "read-only" if row.read_only else "administrator"
    if app.json:
        app.emit_json({"name": row.name, "read_only": row.read_only})
    else:
        app.console.print(f"Account [bold]{row.name}[/] saved ({role}); it signs in at 'syncframe web'.")
