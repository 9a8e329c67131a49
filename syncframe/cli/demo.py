"""``syncframe demo``: the whole product on local simulators, in under a minute.

Starts the installed plugins' sandboxes (for the bundled plugins: a directory
with its login service, and a phone system), seeds the scenario of :mod:`syncframe.demo`,
and runs one connector three times in a throwaway state directory:

1. the initial import: plan, then apply (creates, adoptions with renames, a conflict);
2. after changes in the directory (a rename, a deletion, new users, a disabled user):
   the incremental sync;
3. once more: nothing to do, the unresolved conflict still reported.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import click

from ..errors import SyncframeError
from ..exit_codes import ExitCode
from . import App, cli, pass_app
from .runs import progress_factory
from .sandbox import render_profile, seed_scenario, started_sandboxes

if TYPE_CHECKING:
    from ..engine import Report

DEMO_NAME = "demo"


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Export the sandboxes' secrets for the profile's ``*_env`` references, then restore."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def summary(name: str, report: Report) -> dict[str, Any]:
    """One run in the demo's JSON document."""
    counts = report.counts
    keys = ("create", "update", "rename", "adopt", "delete", "held", "conflict", "skip", "error")
    return {
        "name": name,
        "mode": report.mode,
        "status": report.status,
        "counts": {key: int(counts.get(key, 0)) for key in keys},
        "notices": dict(report.notices),
        "notice_messages": dict(report.notice_messages),
        "bookmark": bool(report.bookmark),
    }


@cli.command("demo")
@click.option("--users", type=click.IntRange(min=10, max=100_000), default=250, show_default=True, help="How many directory users to simulate.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), help="Keep the demo's state store and profile in this directory.")
@pass_app
@click.pass_context
def demo_command(ctx: click.Context, app: App, users: int, keep: Path | None) -> None:
    """Run the whole product against local simulators: import, change, sync, in sync.

    Nothing outside a throwaway directory is touched, and nothing leaves this machine:
    the directory and the phone system are simulators on 127.0.0.1.
    """
    import tempfile

    from rich.panel import Panel

    from .. import demo as scenario_data
    from ..connector import load_profile
    from ..engine.runner import ConnectorRunner
    from ..state import StateStore
    from .render import render_report

    started = time.monotonic()
    scenario = scenario_data.build(users)
    runs: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        workdir = Path(keep) if keep else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="syncframe-demo-")))
        workdir.mkdir(parents=True, exist_ok=True)
        (src, source_box), (tgt, target_box) = stack.enter_context(started_sandboxes(app))
        stack.enter_context(environment({**source_box.environment(), **target_box.environment()}))

        seed_scenario(source_box, target_box, scenario)

        source_section = {**source_box.profile_section(), "groups": [scenario.group]}
        profile = render_profile(
            src.name,
            tgt.name,
            source_section,
            target_box.profile_section(),
            title=f"Demo: {src.name} to {tgt.name}",
            extra={"mode": "sync"},
        )
        (workdir / "demo.toml").write_text(profile, encoding="utf-8")
        store = StateStore.open(workdir / "state.db")
        stack.callback(store.close)
        connector = load_profile(profile, app.pm, DEMO_NAME)
        store.add_connector(DEMO_NAME, profile, replace=True)
        runner = ConnectorRunner(
            connector, app.pm, store, progress=progress_factory(app), release=f"syncframe --state {workdir / 'state.db'} run {DEMO_NAME}"
        )

        def step(title: str, description: str) -> Report:
            if not app.json:
                app.console.print(Panel(description, title=title, title_align="left", border_style="cyan", expand=False))
            outcome = runner.run(holder="syncframe demo")
            if not app.json:
                render_report(outcome.report, app.console)
            runs.append(summary(title, outcome.report))
            return outcome.report

        if not app.json:
            app.console.print(
                Panel(
                    f"{len(scenario.identities)} directory users in {scenario.domain} ({src.name} sandbox), "
                    f"{len(scenario.accounts)} existing users in the phone system ({tgt.name} sandbox).\n"
                    f"Scope: members of the group '{scenario.group}', no guests, no disabled accounts.\n"
                    f"State and profile: {workdir}",
                    title="syncframe demo",
                    border_style="green",
                    expand=False,
                )
            )
            preview = runner.plan()
            app.console.print(Panel("What the first run will do (syncframe plan: nothing is written)", title="plan", title_align="left", border_style="cyan", expand=False))
            render_report(preview.report, app.console)

        step("initial import", "Create the users in scope as the target sets them up; adopt and rename existing users.")

        change = scenario_data.changes(scenario)
        for old, new in change.renamed:
            source_box.put_identity(new)
        for gone in change.deleted:
            source_box.remove_identity(gone.source_id)
        source_box.put_identities(change.added)
        source_box.put_identities(change.disabled)
        step(
            "incremental sync",
            f"In the directory: {change.renamed[0][0].username} renamed to {change.renamed[0][1].username}, "
            f"{change.deleted[0].username} deleted, {len(change.added)} users added, "
            f"{change.disabled[0].username} disabled.",
        )
        step("in sync", "Nothing changed since: nothing to write.")

        failed = [r for r in runs if r["status"] == "failed"]
        if app.json:
            app.emit_json({"runs": runs})
        else:
            app.console.print("[bold]demo summary[/]")
            for r in runs:
                c = r["counts"]
                counts = " · ".join(f"{k} {c[k]}" for k in ("create", "update", "rename", "adopt", "delete", "held", "conflict", "skip", "error") if c[k])
                app.console.print(f"[bold]{r['name']}[/]: {counts or 'nothing to do'}")
                for code, logins in r["notices"].items():
                    app.console.print(f"  {r['notice_messages'].get(code, code)}: {', '.join(logins)}")
            stats = f"Requests: {source_box.stats().get('requests', '?')} to the {src.name} sandbox, {target_box.stats().get('requests', '?')} to the {tgt.name} sandbox"
            app.console.print(f"{stats}. Done in {time.monotonic() - started:.1f}s.")
    if failed:
        raise SyncframeError(f"the demo's {failed[0]['name']!r} run failed")
    ctx.exit(ExitCode.OK)
