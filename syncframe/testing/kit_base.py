"""What both contracts of the conformance kit share: the users the checks use, and
opening the plugin under test for its sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pluggy
import pytest

from ..errors import ConfigError
from ..model import Identity
from .harness import connector_context, open_plugin, plugin_manager


class ContractBase:
    """What both contracts share: the users the checks use, and opening a plugin."""

    #: a plugin module (or object) to register instead of loading the ``syncframe`` entry points
    plugin: Any = None

    def username(self, n: int) -> str:
        """The username of kit user ``n``; a directory that needs another form overrides this."""
        return f"kit.user{n}"

    def make_identity(self, n: int, **changes: Any) -> Identity:
        """Kit user ``n``: a plain, valid, in-scope member; ``changes`` replace fields."""
        values: dict[str, Any] = {
            "source_id": f"00000000-0000-4000-8000-{n:012d}",
            "username": self.username(n),
            "display_name": f"Kit User{n}",
            "given_name": "Kit",
            "surname": f"User{n}",
            "email": f"kit.user{n}@example.org",
            "phones": (f"+4989100{n:04d}",),
        }
        values.update(changes)
        return Identity(**values)

    @pytest.fixture
    def pm(self) -> pluggy.PluginManager:
        """The plugins of the run under test: :attr:`plugin`, or the installed ones."""
        return plugin_manager(self.plugin)

    def _open(self, pm: pluggy.PluginManager, role: str, name: str, sandbox: Any, settings: Mapping[str, Any], monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> Any:
        if not name:
            pytest.fail(f"{type(self).__name__} must name the plugin under test ({role}_type = \"...\")")
        for key, value in sandbox.environment().items():
            monkeypatch.setenv(key, value)
        section = {**sandbox.profile_section(), **settings}
        try:
            return open_plugin(pm, role, name, section, connector_context(state_dir))
        except ConfigError as exc:
            pytest.fail(f"cannot open the {role} {name!r} for the sandbox: {exc}")
