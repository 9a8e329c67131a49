"""The ``syncframe`` command line (click + rich).

Each sub-module adds its commands to :data:`cli`; :func:`main` turns syncframe's
errors into one line on stderr and the documented exit codes:

0 done / in sync · 1 failed · 2 usage or profile error · 3 changes pending (``plan``)
· 4 removals held · 5 locked by another run · 6 a saved plan is stale (``run --plan``).
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler

from ..errors import ConfigError, SyncframeError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PENDING = 3
EXIT_HELD = 4
EXIT_LOCKED = 5
EXIT_STALE = 6


class App:
    """What every command shares: options, the plugin manager, the state store, output."""

    def __init__(self, state: str | None, as_json: bool, verbose: int, plugin_names: str | None):
        self.state_url = state
        self.json = as_json
        self.verbose = verbose
        self.plugin_names = plugin_names
        # tables and reports on stdout; progress and logs on stderr, so --json stays clean
        self.console = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

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


class SyncframeGroup(click.Group):
    """Renders syncframe's errors as one line and their exit code, for every command
    (so ``click.testing.CliRunner`` sees the same exit codes a shell does)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SyncframeError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=SyncframeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--state", envvar="SYNCFRAME_STATE", metavar="URL", help="State store: a SQLite file path or a SQLAlchemy URL (default: a SQLite file in your data directory).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--plugins", "plugin_names", envvar="SYNCFRAME_PLUGINS", metavar="A,B", help="Load only these plugins (entry-point names).")
@click.version_option(package_name="syncframe")
@click.pass_context
def cli(ctx: click.Context, state: str | None, as_json: bool, verbose: int, plugin_names: str | None) -> None:
    """Keep a phone system's users in step with a company directory."""
    _configure_logging(verbose)
    app = App(state, as_json, verbose, plugin_names)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        root.addHandler(RichHandler(console=Console(stderr=True), show_path=False, markup=False))
    root.setLevel(level)
    # third-party debug logs can print request bodies (tokens): keep them at INFO at most
    # (plugins cap their own libraries' loggers the same way)
    for noisy in ("urllib3", "vcr"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))


def _load_commands() -> None:
    # imported for their side effect of adding commands to ``cli``
    from . import connectors  # noqa: F401

    for optional in ("runs", "decisions", "auth", "sandbox", "demo", "worker", "web"):
        try:
            __import__(f"{__name__}.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{optional}":
                raise


_load_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``syncframe`` script. Commands exit with ``ctx.exit(code)``."""
    cli.main(args=argv, prog_name="syncframe")
