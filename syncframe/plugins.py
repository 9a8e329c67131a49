"""Building the plugin manager, and the registries plugins fill.

There is no import-time global: :func:`get_plugin_manager` builds a fresh manager
each time (tests build their own with ``load_entrypoints=False``). Plugins from the
``syncframe`` entry-point group load first, then the default plugins, whose
firstresult implementations are ``trylast`` so any plugin can override them.

Environment switches:

- ``SYNCFRAME_PLUGINS``: comma-separated plugin (entry-point) names to load; only those.
- ``SYNCFRAME_DISABLE_PLUGINS``: comma-separated names never loaded.
- ``SYNCFRAME_PLUGIN_MODULES``: comma-separated dotted module names to import and
  register as plugins too (a local plugin without packaging it; used by tests).
- ``SYNCFRAME_TRACE_PLUGINS``: log every hook call.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import pluggy

from . import hookspecs
from .errors import PluginError

log = logging.getLogger("syncframe.plugins")

ENTRY_POINT_GROUP = "syncframe"
DEFAULT_PLUGINS = ("syncframe.default_plugins.matching",)


@dataclass(frozen=True)
class Registration:
    """A source or target a plugin registered."""

    name: str
    factory: Callable[..., Any]
    schema: type
    description: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class Template:
    name: str
    text: str
    description: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class SandboxRegistration:
    role: str
    name: str
    factory: Callable[[], Any]
    plugin: str = ""


@dataclass
class PluginInfo:
    """What ``syncframe plugins`` shows for one plugin."""

    name: str
    version: str | None
    sources: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "sources": self.sources,
            "targets": self.targets,
            "templates": self.templates,
            "hooks": self.hooks,
        }


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def get_plugin_manager(
    *,
    load_entrypoints: bool = True,
    only: Iterable[str] | None = None,
    disabled: Iterable[str] | None = None,
    extra_plugins: Iterable[Any] = (),
) -> pluggy.PluginManager:
    """Build a plugin manager.

    :param load_entrypoints: Load plugins from the ``syncframe`` entry-point group.
    :param only: Load only these entry-point names (default: ``SYNCFRAME_PLUGINS`` or all).
    :param disabled: Never load these names (default: ``SYNCFRAME_DISABLE_PLUGINS``).
    :param extra_plugins: Objects or modules to register too (tests, embedding).
    """
    pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
    pm.add_hookspecs(hookspecs)
    only_set = set(only) if only is not None else _names(os.environ.get("SYNCFRAME_PLUGINS"))
    disabled_set = set(disabled) if disabled is not None else (_names(os.environ.get("SYNCFRAME_DISABLE_PLUGINS")) or set())
    for name in disabled_set:
        pm.set_blocked(name)

    if load_entrypoints:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in disabled_set or (only_set is not None and ep.name not in only_set):
                continue
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # an import error in someone else's code
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
            _register(pm, plugin, ep.name, dist=getattr(ep, "dist", None))

    for dotted in sorted(_names(os.environ.get("SYNCFRAME_PLUGIN_MODULES")) or ()):
        if dotted in disabled_set:
            continue
        try:
            module = importlib.import_module(dotted)
        except ImportError as exc:
            raise PluginError(f"plugin module {dotted!r} (SYNCFRAME_PLUGIN_MODULES) failed to import: {exc}") from exc
        _register(pm, module, dotted)

    for plugin in extra_plugins:
        _register(pm, plugin, getattr(plugin, "__name__", None) or type(plugin).__name__)

    for dotted in DEFAULT_PLUGINS:
        if dotted in disabled_set:
            continue
        _register(pm, importlib.import_module(dotted), dotted)

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {_plugin_label(pm, exc.plugin)} implements an unknown hook: {exc}") from exc
    if os.environ.get("SYNCFRAME_TRACE_PLUGINS"):
        pm.trace.root.setwriter(log.debug)
        pm.enable_tracing()
    return pm


def _register(pm: pluggy.PluginManager, plugin: Any, name: str | None, dist: Any = None) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        # registration is not atomic: leave nothing half-registered behind
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        raise PluginError(f"plugin {name!r} is invalid: {exc}") from exc
    except ValueError as exc:
        raise PluginError(f"plugin {name!r} could not be registered: {exc}") from exc
    if dist is not None:
        _versions(pm)[name or ""] = dist.version


def _versions(pm: pluggy.PluginManager) -> dict[str, str]:
    """Plugin name -> distribution version, kept beside the manager."""
    if not hasattr(pm, "syncframe_versions"):
        pm.syncframe_versions = {}  # type: ignore[attr-defined]
    return pm.syncframe_versions  # type: ignore[attr-defined]


def _plugin_label(pm: pluggy.PluginManager, plugin: Any) -> str:
    return repr(pm.get_name(plugin) or plugin)


def _collect(pm: pluggy.PluginManager, hook_name: str, make: Callable[..., Any]) -> list[Any]:
    """Call a registration hook per plugin so each registration knows its plugin's name."""
    found: list[Any] = []
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        plugin_name = impl.plugin_name

        def register(*args: Any, _plugin: str = plugin_name, **kwargs: Any) -> None:
            found.append(make(*args, plugin=_plugin, **kwargs))

        try:
            impl.function(register)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {plugin_name!r} failed in {hook_name}: {exc}") from exc
    return found


def _by_name(items: list[Any], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if item.name in out:
            raise PluginError(f"{what} {item.name!r} is registered twice (plugins {out[item.name].plugin!r} and {item.plugin!r})")
        out[item.name] = item
    return out


def sources(pm: pluggy.PluginManager) -> dict[str, Registration]:
    """Every registered source by name."""
    return _by_name(_collect(pm, "syncframe_register_sources", Registration), "source")


def targets(pm: pluggy.PluginManager) -> dict[str, Registration]:
    """Every registered target by name."""
    return _by_name(_collect(pm, "syncframe_register_targets", Registration), "target")


def templates(pm: pluggy.PluginManager) -> dict[str, Template]:
    """Every registered profile template by name."""
    return _by_name(_collect(pm, "syncframe_register_templates", Template), "template")


def sandboxes(pm: pluggy.PluginManager) -> list[SandboxRegistration]:
    """Every registered sandbox (local simulator)."""
    return _collect(pm, "syncframe_register_sandboxes", SandboxRegistration)


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """What each loaded plugin is and registers, for ``syncframe plugins``."""
    versions = _versions(pm)
    infos: dict[str, PluginInfo] = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        infos[name] = PluginInfo(name=name, version=versions.get(name))
        infos[name].hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
    for reg in sources(pm).values():
        infos[reg.plugin].sources.append(reg.name)
    for reg in targets(pm).values():
        infos[reg.plugin].targets.append(reg.name)
    for tpl in templates(pm).values():
        infos[tpl.plugin].templates.append(tpl.name)
    return sorted(infos.values(), key=lambda i: (i.name.startswith("syncframe."), i.name))
