"""The ``syncframe`` command line (click + rich).

Each sub-module adds its commands to :data:`cli`. Errors become one line on stderr
(or, when JSON was asked for, ``{"error": {"code", "message", "exit"}}`` on stdout)
and the exit codes of :class:`syncframe.exit_codes.ExitCode`.

Start-up stays cheap (``syncframe --help`` in a fraction of a second): the command
modules import only click at the top; the state store (SQLAlchemy), the engine,
rich's tables and the plugins are imported by the commands that use them.
"""

from __future__ import annotations

import json
import os
import sys
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..errors import ConfigError, SyncframeError
from ..exit_codes import MEANINGS, ExitCode

if TYPE_CHECKING:
    from rich.console import Console

# the names older code and plugins' tests import; the numbers live in ExitCode
EXIT_OK = ExitCode.OK
EXIT_FAILED = ExitCode.FAILED
EXIT_USAGE = ExitCode.USAGE
EXIT_PENDING = ExitCode.PENDING
EXIT_HELD = ExitCode.HELD
EXIT_LOCKED = ExitCode.LOCKED
EXIT_STALE = ExitCode.STALE
EXIT_STATE = ExitCode.STATE

#: console width when stdout is no terminal (cron, systemd, ``> file``): lines are never
#: wrapped or cut there; rich's tables still size their columns to the content
PIPE_WIDTH = 100_000


def make_console(stderr: bool = False) -> Console:
    """A rich console for stdout (tables, reports) or stderr (progress, logs).

    On a terminal it fits the window; in a pipe it does not wrap (``COLUMNS`` still
    sets a width when given)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    piped = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, highlight=False, width=PIPE_WIDTH if piped else None, soft_wrap=piped)


class App:
    """What every command shares: options, the plugin manager, the state store, output."""

    def __init__(self, state: str | None, as_json: bool, verbose: int, plugin_names: str | None):
        self.state_url = state
        self.json = as_json
        self.verbose = verbose
        self.plugin_names = plugin_names

    @cached_property
    def console(self) -> Console:
        """Tables and reports on stdout; progress and logs go to :attr:`err`, so --json stays clean."""
        return make_console()

    @cached_property
    def err(self) -> Console:
        return make_console(stderr=True)

    @cached_property
    def pm(self):  # type: ignore[no-untyped-def]
        from ..plugins import get_plugin_manager

        only = None
        if self.plugin_names is not None:
            only = [p.strip() for p in self.plugin_names.split(",") if p.strip()]
        return get_plugin_manager(only=only)

    @cached_property
    def store(self):  # type: ignore[no-untyped-def]
        from ..state import StateStore

        return StateStore.open(self.state_url)

    def connector(self, name: str | None, profile: str | None):  # type: ignore[no-untyped-def]
        """The connector a command names: registered by ``name``, or a profile file."""
        from ..connector import load_profile, load_profile_file

        if profile:
            return load_profile_file(profile, self.pm, name)
        if not name:
            raise ConfigError("name a connector, or give --profile FILE")
        row = self.store.get_connector(name)
        if row is None:
            raise ConfigError(f"no connector named {name!r} (see 'syncframe connector list')")
        return load_profile(row.profile_text, self.pm, name)

    def emit_json(self, data: Any) -> None:
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()


pass_app = click.make_pass_decorator(App)


# --- errors ------------------------------------------------------------------------


def error_document(code: str, message: str, exit_code: int) -> dict[str, Any]:
    """The JSON an error prints on stdout when JSON was asked for."""
    return {"error": {"code": code, "message": message, "exit": int(exit_code)}}


class ReportedError(click.ClickException):
    """An error on its way out: one line on stderr, or JSON on stdout under --json."""

    def __init__(self, message: str, code: str, exit_code: int, as_json: bool, original: click.ClickException | None = None):
        super().__init__(message)
        self.code = code
        self.exit_code = int(exit_code)
        self.as_json = as_json
        self.original = original

    def show(self, file: Any = None) -> None:
        if self.as_json:
            click.echo(json.dumps(error_document(self.code, self.message, self.exit_code), ensure_ascii=False))
        elif self.original is not None:
            self.original.show(file)
        else:
            click.echo(f"Error: {self.message}", err=True)


def wants_json(args: list[str] | tuple[str, ...]) -> bool:
    """Whether ``--json`` is among the arguments (before a ``--``), wherever it stands."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _reported(exc: click.ClickException, as_json: bool) -> ReportedError:
    if isinstance(exc, ReportedError):
        return exc
    code = "usage" if isinstance(exc, click.UsageError) else "error"
    return ReportedError(exc.format_message(), code, exc.exit_code, as_json, original=exc)


class SyncframeGroup(click.Group):
    """Renders every error as one line (or JSON) with its exit code, for every command
    (so ``click.testing.CliRunner`` sees the same exit codes a shell does), and lets
    ``--json`` stand after the command as well as before it."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            raise _reported(exc, wants_json(args)) from None
        ctx.meta["syncframe.json"] = wants_json(args)
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SyncframeError as exc:
            raise ReportedError(str(exc), exc.error_code, exc.exit_code, _json_asked(ctx)) from None
        except click.ClickException as exc:
            raise _reported(exc, _json_asked(ctx)) from None


def _json_asked(ctx: click.Context) -> bool:
    app = ctx.find_object(App)
    return bool(ctx.meta.get("syncframe.json") or (app is not None and app.json))


def _json_flag(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        app = ctx.find_object(App)
        if app is not None:
            app.json = True


def _add_json_option(command: click.Command) -> None:
    """Every command takes ``--json`` too (``syncframe plan NAME --json``)."""
    if not any(p.name == "json_flag" for p in command.params):
        command.params.append(
            click.Option(["--json", "json_flag"], is_flag=True, expose_value=False, is_eager=True, callback=_json_flag, help="Print machine-readable JSON (also accepted before the command).")
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_json_option(sub)


_EXIT_CODES_HELP = "Exit codes: " + " · ".join(f"{int(code)} {meaning}" for code, meaning in MEANINGS.items()) + "."


@click.group(cls=SyncframeGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=_EXIT_CODES_HELP)
@click.option("--state", envvar="SYNCFRAME_STATE", metavar="URL", help="State store: a SQLite file path or a SQLAlchemy URL (default: a SQLite file in your data directory).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables (errors too).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--plugins", "plugin_names", envvar="SYNCFRAME_PLUGINS", metavar="A,B", help="Load only these plugins (entry-point names).")
@click.version_option(version=__version__, prog_name="syncframe")  # not package_name: importlib.metadata costs 50 ms
@click.pass_context
def cli(ctx: click.Context, state: str | None, as_json: bool, verbose: int, plugin_names: str | None) -> None:
    """Keep a phone system's users in step with a company directory."""
    from .logs import configure_logging

    configure_logging(verbose)
    app = App(state, as_json or bool(ctx.meta.get("syncframe.json")), verbose, plugin_names)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _load_commands() -> None:
    # imported for their side effect of adding commands to ``cli``
    from . import connectors  # noqa: F401

    for optional in ("runs", "decisions", "auth", "sandbox", "demo", "worker", "web"):
        try:
            __import__(f"{__name__}.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{optional}":
                raise

    _add_json_option(cli)
    cli.params[:] = [p for p in cli.params if p.name != "json_flag"]  # the group has its own --json


_load_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``syncframe`` script. Commands exit with ``ctx.exit(code)``."""
    cli.main(args=argv, prog_name="syncframe")
