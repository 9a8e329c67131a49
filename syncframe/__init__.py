"""syncframe: keep a phone system's users in step with a directory, through plugins.

Plugins import only the names exported here and from :mod:`syncframe.sdk`
(HTTP with retries, loopback TLS servers for simulators) and
:mod:`syncframe.testing` (the conformance kit).

The names load on first use (PEP 562), so ``syncframe --help`` does not pay for
pluggy and the model: ``from syncframe import Identity`` works as always.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    **dict.fromkeys(
        ("CheckResult", "ConnectorContext", "MatchIndex", "SANDBOX_GUEST", "Progress", "Source", "SourceSandbox", "Target", "TargetSandbox", "TokenStore", "no_progress"),
        "contracts",
    ),
    **dict.fromkeys(
        ("AuthenticationError", "ConfigError", "FatalSyncError", "LockedError", "PermanentRecordError", "PluginError", "RetriableSyncError", "SkippableRecordError", "SyncError", "SyncframeError"),
        "errors",
    ),
    "hookimpl": "hookspecs",
    **dict.fromkeys(("WRITE_KINDS", "Account", "Identity", "ItemKind", "Match", "Notice", "Plan", "PlanItem", "ReadResult"), "model"),
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'syncframe' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # for type checkers and editors: the names as plain imports
    from .contracts import (
        SANDBOX_GUEST,
        CheckResult,
        ConnectorContext,
        MatchIndex,
        Progress,
        Source,
        SourceSandbox,
        Target,
        TargetSandbox,
        TokenStore,
        no_progress,
    )
    from .errors import (
        AuthenticationError,
        ConfigError,
        FatalSyncError,
        LockedError,
        PermanentRecordError,
        PluginError,
        RetriableSyncError,
        SkippableRecordError,
        SyncError,
        SyncframeError,
    )
    from .hookspecs import hookimpl
    from .model import WRITE_KINDS, Account, Identity, ItemKind, Match, Notice, Plan, PlanItem, ReadResult
