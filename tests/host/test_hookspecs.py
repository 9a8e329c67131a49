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
