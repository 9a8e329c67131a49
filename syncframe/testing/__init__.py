"""Test doubles and the conformance kit, for syncframe's tests and plugin authors.

- :class:`SourceContract` / :class:`TargetContract` (:mod:`syncframe.testing.conformance`):
  the promises every source and target keeps, as pytest tests a plugin's test
  module subclasses (needs pytest; imported on first use).
- Test doubles that are real plugins (:mod:`syncframe.testing.doubles`): the
  source ``MEMORY`` and the target ``memory``, backed by local files, and
  :class:`MemoryTarget` for planning in one process. Register this package as a
  plugin to use them::

      SYNCFRAME_PLUGIN_MODULES=syncframe.testing syncframe plan --profile demo.toml

  or ``get_plugin_manager(extra_plugins=[syncframe.testing])``.
- Their sandboxes (:mod:`syncframe.testing.sandboxes`), so the kit runs against them.
"""

from __future__ import annotations

from typing import Any

from .doubles import (
    KILL_AFTER_WRITES_ENV,
    RENAMED,
    FileTarget,
    FileTargetSchema,
    MemorySource,
    MemorySourceSchema,
    MemoryTarget,
    desired_fields,
    generate_identities,
    scope_reason,
    scoped,
    seed_accounts,
    syncframe_register_sources,
    syncframe_register_targets,
    target_accounts,
    write_identities,
)
from .sandboxes import FileTargetSandbox, MemorySourceSandbox

#: the kit's names, imported on first use so the doubles work without pytest installed
_CONFORMANCE = ("SourceContract", "TargetContract")

__all__ = [
    "KILL_AFTER_WRITES_ENV",
    "RENAMED",
    "FileTarget",
    "FileTargetSandbox",
    "FileTargetSchema",
    "MemorySource",
    "MemorySourceSandbox",
    "MemorySourceSchema",
    "MemoryTarget",
    "SourceContract",
    "TargetContract",
    "desired_fields",
    "generate_identities",
    "scope_reason",
    "scoped",
    "seed_accounts",
    "syncframe_register_sources",
    "syncframe_register_targets",
    "target_accounts",
    "write_identities",
]


def __getattr__(name: str) -> Any:
    if name in _CONFORMANCE:
        import pytest

        # plain asserts in the kit explain themselves like a test module's do
        pytest.register_assert_rewrite(*(f"{__name__}.{m}" for m in ("kit_base", "source_contract", "target_contract")))
        from . import conformance

        return getattr(conformance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
