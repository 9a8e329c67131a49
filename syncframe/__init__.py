"""syncframe: keep a phone system's users in step with a directory, through plugins.

Plugins import only the names exported here and from :mod:`syncframe.sdk`
(HTTP with retries, loopback TLS servers for simulators) and
:mod:`syncframe.testing` (the conformance kit).
"""

from .contracts import (
    CheckResult,
    ConnectorContext,
    MatchIndex,
    SANDBOX_GUEST,
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
    PluginError,
    RetriableSyncError,
    SkippableRecordError,
    SyncError,
    SyncframeError,
)
from .hookspecs import hookimpl
from .model import WRITE_KINDS, Account, Identity, ItemKind, Match, Notice, Plan, PlanItem, ReadResult

__version__ = "0.1.0"

__all__ = [
    "Account",
    "AuthenticationError",
    "CheckResult",
    "ConfigError",
    "ConnectorContext",
    "FatalSyncError",
    "Identity",
    "ItemKind",
    "LockedError",
    "Match",
    "MatchIndex",
    "Notice",
    "Plan",
    "PlanItem",
    "PluginError",
    "Progress",
    "ReadResult",
    "RetriableSyncError",
    "SANDBOX_GUEST",
    "SkippableRecordError",
    "Source",
    "SourceSandbox",
    "SyncError",
    "SyncframeError",
    "Target",
    "TargetSandbox",
    "TokenStore",
    "WRITE_KINDS",
    "__version__",
    "hookimpl",
    "no_progress",
]
