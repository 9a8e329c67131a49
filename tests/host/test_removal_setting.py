"""The profile's ``removal`` (issue 21): what it accepts, the one-line error for anything
else, the old ``[target] removal`` refused with the new place, and a target that cannot
disable refusing a removal that disables."""

from __future__ import annotations

from typing import Any

import pytest

import syncframe.testing
from syncframe import ConfigError, hookimpl
from syncframe.connector import load_profile
from syncframe.plugins import get_plugin_manager
from syncframe.removal import RemovalPolicy, parse_removal
from syncframe.testing import FileTarget, FileTargetSchema


def profile(top: str = "", target: str = 'type = "memory"\npath = "accounts.db"') -> str:
    return f'title = "t"\n{top}\n[source]\ntype = "MEMORY"\npath = "users.json"\n[target]\n{target}\n'


def pm(*extra: Any) -> Any:
    return get_plugin_manager(extra_plugins=[syncframe.testing, *extra])


@pytest.mark.parametrize(
    "text, policy",
    [
        ("delete", RemovalPolicy()),
        ("disable", RemovalPolicy(disable=True)),
        ("disable, delete after 30d", RemovalPolicy(disable=True, grace_days=30)),
        ("Disable,delete after  7 d", RemovalPolicy(disable=True, grace_days=7)),
    ],
)
def test_the_removal_setting_accepts_delete_disable_and_a_grace_period_in_days(text: str, policy: RemovalPolicy) -> None:
    assert parse_removal(text) == policy
    connector = load_profile(profile(f"removal = {text!r}".replace("'", '"')), pm(), "c")
    assert connector.removal == policy


@pytest.mark.parametrize("value", ['"archive"', '"delete after 30d"', '"disable, delete after 0d"', '"disable, delete after 4w"', "30"])
def test_anything_else_is_one_clear_error(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_profile(profile(f"removal = {value}"), pm(), "c")
    (line,) = [l for l in caught.value.lines() if l.startswith("removal:")]
    assert '"delete", "disable" or "disable, delete after 30d"' in line


def test_the_default_is_delete() -> None:
    assert load_profile(profile(), pm(), "c").removal == RemovalPolicy()


def test_an_old_profile_with_removal_in_the_target_section_is_refused_with_the_new_place() -> None:
    with pytest.raises(ConfigError) as caught:
        load_profile(profile(target='type = "memory"\npath = "accounts.db"\nremoval = "disable"'), pm(), "c")
    message = str(caught.value)
    assert "moved from [target] to the top of the profile" in message and 'removal = "disable"' in message


class CannotDisable(FileTarget):
    can_disable = False


class CannotDisablePlugin:
    @hookimpl
    def syncframe_register_targets(self, register: Any) -> None:
        register("nodisable", CannotDisable, FileTargetSchema)


def test_a_target_that_cannot_disable_refuses_a_removal_that_disables() -> None:
    target = 'type = "nodisable"\npath = "accounts.db"'
    assert load_profile(profile('removal = "delete"', target), pm(CannotDisablePlugin()), "c").removal == RemovalPolicy()
    for removal in ("disable", "disable, delete after 30d"):
        with pytest.raises(ConfigError) as caught:
            load_profile(profile(f'removal = "{removal}"', target), pm(CannotDisablePlugin()), "c")
        assert any(l.startswith("removal:") and "cannot disable accounts" in l for l in caught.value.lines()), caught.value.lines()
