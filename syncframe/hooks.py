"""One typed way in to the plugins' hooks.

The engine and the CLI call plugins only through :class:`Hooks` (as tox's
``src/tox/plugin/manager.py`` does): each hook is a method with typed arguments, so
a hook's name and arguments live in one place beside :mod:`syncframe.hookspecs`,
and a misspelt or missing argument fails where it is written instead of
reaching plugins as a pluggy warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from .contracts import ConnectorContext, MatchIndex
    from .model import Identity, Match, Plan, PlanItem
    from .plugins import Registration, SandboxRegistration, Template


class Hooks:
    """The hooks of one plugin manager.

    :param pm: A manager built by :func:`syncframe.plugins.get_plugin_manager`.
    """

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm

    @classmethod
    def of(cls, pm: "pluggy.PluginManager | Hooks") -> "Hooks":
        """The facade of ``pm`` (one per manager), or ``pm`` itself when it is one."""
        if isinstance(pm, Hooks):
            return pm
        hooks = getattr(pm, "syncframe_hooks", None)
        if hooks is None:
            hooks = cls(pm)
            pm.syncframe_hooks = hooks  # type: ignore[attr-defined]
        return hooks

    # --- registries -------------------------------------------------------------------

    def sources(self) -> "dict[str, Registration]":
        from . import plugins

        return plugins.sources(self.pm)

    def targets(self) -> "dict[str, Registration]":
        from . import plugins

        return plugins.targets(self.pm)

    def templates(self) -> "dict[str, Template]":
        from . import plugins

        return plugins.templates(self.pm)

    def sandboxes(self) -> "list[SandboxRegistration]":
        from . import plugins

        return plugins.sandboxes(self.pm)

    # --- planning ---------------------------------------------------------------------

    def match(self, identity: "Identity", index: "MatchIndex", connector: "ConnectorContext") -> "Match | None":
        """``syncframe_match``: the first rule that answers decides."""
        return self.pm.hook.syncframe_match(identity=identity, index=index, connector=connector)

    def map_identity(self, identity: "Identity", desired: dict[str, Any], connector: "ConnectorContext") -> None:
        """``syncframe_map_identity``: plugins adjust ``desired`` in place."""
        self.pm.hook.syncframe_map_identity(identity=identity, desired=desired, connector=connector)

    def plan_ready(self, plan: "Plan", connector: "ConnectorContext") -> None:
        """``syncframe_plan_ready``: the finished plan, before anything is applied."""
        self.pm.hook.syncframe_plan_ready(plan=plan, connector=connector)

    # --- applying ---------------------------------------------------------------------

    def item_applied(self, item: "PlanItem", connector: "ConnectorContext") -> None:
        """``syncframe_item_applied``: one write, succeeded or failed."""
        self.pm.hook.syncframe_item_applied(item=item, connector=connector)

    def run_finished(self, plan: "Plan", summary: "dict[str, Any] | Callable[[], dict[str, Any]]", connector: "ConnectorContext") -> None:
        """``syncframe_run_finished``: the run's report after the journal and bookmark were written.

        ``summary`` may be a function that makes it: it is called only when a plugin
        listens (the report of a large import is big to build).
        """
        if not self.pm.hook.syncframe_run_finished.get_hookimpls():
            return
        summary = summary() if callable(summary) else summary
        self.pm.hook.syncframe_run_finished(plan=plan, summary=summary, connector=connector)
