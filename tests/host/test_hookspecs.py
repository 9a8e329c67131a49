"""Every hook is documented the pytest way: a ``:param:`` line for each argument."""

from __future__ import annotations

import inspect

import pytest

from syncframe import hookspecs
from syncframe.plugins import get_plugin_manager

HOOK_NAMES = sorted(name for name in dir(hookspecs) if name.startswith("syncframe_"))


def test_there_are_hooks_for_every_lifecycle_stage():
    assert {
        "syncframe_register_sources",
        "syncframe_register_targets",
        "syncframe_match",
        "syncframe_map_identity",
        "syncframe_plan_ready",
        "syncframe_item_applied",
        "syncframe_run_finished",
    } <= set(HOOK_NAMES)


@pytest.mark.parametrize("name", HOOK_NAMES)
def test_hook_is_documented(name):
    pm = get_plugin_manager(load_entrypoints=False)
    caller = getattr(pm.hook, name)
    doc = inspect.getdoc(caller.spec.function)
    assert doc, f"{name} has no docstring"
    for arg in caller.spec.argnames:
        assert f":param {arg}:" in doc, f"{name}: no ':param {arg}:' line"


def test_match_is_firstresult_and_says_so():
    pm = get_plugin_manager(load_entrypoints=False)
    assert pm.hook.syncframe_match.spec.opts["firstresult"] is True
    assert "Stops at first non-None result" in inspect.getdoc(pm.hook.syncframe_match.spec.function)


CALL_HOOKS = [name for name in HOOK_NAMES if not name.startswith("syncframe_register_")]


@pytest.mark.parametrize("name", CALL_HOOKS)
def test_every_hook_the_engine_calls_has_a_typed_facade_method(name):
    """The engine calls plugins only through ``syncframe.hooks.Hooks``: one method per
    hook, with the hookspec's arguments in the same order."""
    from syncframe.hooks import Hooks

    method = getattr(Hooks, name.removeprefix("syncframe_"))
    spec = list(inspect.signature(getattr(hookspecs, name)).parameters)
    assert list(inspect.signature(method).parameters)[1:] == spec


def test_the_facade_calls_the_plugins():
    from syncframe.hooks import Hooks
    from syncframe import hookimpl

    seen = []

    class Recorder:
        @hookimpl
        def syncframe_plan_ready(self, plan, connector):
            seen.append((plan, connector))

    pm = get_plugin_manager(load_entrypoints=False, extra_plugins=[Recorder()])
    Hooks.of(pm).plan_ready("the plan", "the connector")
    assert seen == [("the plan", "the connector")] and Hooks.of(pm) is Hooks.of(pm)


def test_the_engine_calls_no_hook_around_the_facade():
    from pathlib import Path

    engine = Path(hookspecs.__file__).parent
    direct = [str(p.relative_to(engine)) for p in engine.rglob("*.py") if p.name != "hooks.py" and ".hook.syncframe_" in p.read_text()]
    assert direct == []
