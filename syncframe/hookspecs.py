"""The hooks a syncframe plugin can implement.

A plugin is a module (or object) with functions decorated by ``hookimpl``, found
through the ``syncframe`` entry-point group::

    # pyproject.toml of your plugin
    [project.entry-points.syncframe]
    csvsource = "syncframe_csv"

    # syncframe_csv.py
    from syncframe import hookimpl, Source, ReadResult

    class CsvSource(Source):
        def read(self, bookmark, previous, progress):
            ...
            return ReadResult(identities=tuple(users), complete=True)

    @hookimpl
    def syncframe_register_sources(register):
        register("CSV", CsvSource, CsvSchema, description="Users from a CSV file")

Implementation parameters must not have defaults (pluggy does not pass them), and a
plugin may accept any subset of a hook's arguments. Hooks only gain arguments over
time; none is renamed or removed without a deprecation cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from pluggy import HookimplMarker, HookspecMarker

if TYPE_CHECKING:
    from .contracts import ConnectorContext, MatchIndex
    from .model import Identity, Match, Plan, PlanItem

hookspec = HookspecMarker("syncframe")
hookimpl = HookimplMarker("syncframe")


# --- registration ---------------------------------------------------------------


@hookspec
def syncframe_register_sources(register: Callable[..., None]) -> None:
    """Register the sources (directories) this plugin provides.

    Called once when the plugin manager is built.

    :param register: Call ``register(name, factory, schema, description="")``
        for each source: ``name`` is what a profile's ``source =`` names, ``factory``
        a :class:`syncframe.Source` subclass (called with the validated ``[source]``
        section and a :class:`syncframe.ConnectorContext`), ``schema`` the
        marshmallow ``Schema`` class that validates the ``[source]`` section.
    """


@hookspec
def syncframe_register_targets(register: Callable[..., None]) -> None:
    """Register the targets (phone systems) this plugin provides.

    Called once when the plugin manager is built.

    :param register: Call ``register(name, factory, schema, description="")``
        for each target, as for sources, with a :class:`syncframe.Target` subclass
        and the schema of the ``[target]`` section.
    """


@hookspec
def syncframe_register_templates(register: Callable[..., None]) -> None:
    """Register starter connector profiles for ``syncframe connector template NAME``.

    Called when templates are listed or printed.

    :param register: Call ``register(name, text, description="")``; ``text`` is a
        commented TOML profile a user can copy and fill in.
    """


@hookspec
def syncframe_register_sandboxes(register: Callable[..., None]) -> None:
    """Register local simulators of the services a plugin talks to.

    Called by ``syncframe sandbox`` and ``syncframe demo``.

    :param register: Call ``register(role, name, factory)`` where ``role`` is
        ``"source"`` or ``"target"``, ``name`` the source or target name the sandbox
        stands in for, and ``factory()`` returns a :class:`syncframe.SourceSandbox`
        or :class:`syncframe.TargetSandbox`.
    """


# --- matching -------------------------------------------------------------------


@hookspec(firstresult=True)
def syncframe_match(identity: Identity, index: MatchIndex, connector: ConnectorContext) -> Match | None:
    """Find the target account that corresponds to a source identity.

    Called once per in-scope identity during planning, after the target's accounts
    were listed. The default rules (existing link, login, login's local part,
    e-mail) are a default plugin registered last, so a plugin answering first
    overrides them.
    Stops at first non-None result, see firstresult.

    :param identity: The validated identity read from the source.
    :param index: Lookups over the target's accounts and this connector's links.
    :param connector: The connector being planned (name, profile, state access).
    :return: A :class:`syncframe.Match` (an account with the reason, or a conflict
        naming the candidates), or ``None`` to let the next rule decide. When no
        rule answers, the identity is created.
    """


# --- mapping --------------------------------------------------------------------


@hookspec
def syncframe_map_identity(identity: Identity, desired: dict[str, Any], connector: ConnectorContext) -> None:
    """Adjust the target fields one identity maps to.

    Called once per identity after the target's own mapping produced ``desired``
    and before the planner diffs it against the account.

    :param identity: The identity being mapped.
    :param desired: The target's desired fields (including ``login``); change it in place.
    :param connector: The connector being planned.
    """


# --- run lifecycle --------------------------------------------------------------


@hookspec
def syncframe_plan_ready(plan: Plan, connector: ConnectorContext) -> None:
    """Inspect a finished plan before anything is applied.

    Called once per ``plan`` and ``run``, after the removal guard.

    :param plan: The plan; plugins should not change it.
    :param connector: The connector the plan is for.
    """


@hookspec
def syncframe_item_applied(item: PlanItem, connector: ConnectorContext) -> None:
    """Observe one applied plan item (for audit, notifications, metrics).

    Called after each item that wrote to the target, whether it succeeded or not,
    from the applying thread, as the target's answer arrives (its journal outcome
    is recorded with its batch, a moment later).

    :param item: The item; ``item.error`` is set when it failed.
    :param connector: The connector being run.
    """


@hookspec
def syncframe_run_finished(plan: Plan, summary: dict[str, Any], connector: ConnectorContext) -> None:
    """Observe the end of a run.

    Called once per ``run`` after the journal and the bookmark were written.

    :param plan: The plan as applied (items carry their errors).
    :param summary: The run report as ``--json`` prints it.
    :param connector: The connector that ran.
    """
