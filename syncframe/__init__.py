"""syncframe: keep a phone system's users in step with a directory, through plugins.

Plugins import only the names exported here.
"""

from .contracts import (
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
    PluginError,
    RetriableSyncError,
    SkippableRecordError,
    SyncError,
    SyncframeError,
)
from .hookspecs import hookimpl
from .model import WRITE_KINDS, Account, Identity, ItemKind, Match, Plan, PlanItem, ReadResult

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
    "Plan",
    "PlanItem",
    "PluginError",
    "Progress",
    "ReadResult",
    "RetriableSyncError",
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
