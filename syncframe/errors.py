"""The error taxonomy plugins raise and the CLI renders as one line and an exit code."""

from __future__ import annotations

from typing import Any, Mapping

from .exit_codes import ExitCode


class SyncframeError(Exception):
    """Base class; ``exit_code`` is what the CLI exits with, ``error_code`` what ``--json``
    errors name (``{"error": {"code", "message", "exit"}}``)."""

    exit_code: int = ExitCode.FAILED
    error_code = "error"


class ConfigError(SyncframeError):
    """A profile or setting is wrong; raised before any request is made."""

    exit_code = ExitCode.USAGE
    error_code = "config"

    def __init__(self, message: str, messages: Mapping[str, Any] | None = None):
        super().__init__(message)
        #: marshmallow-style ``{field: [errors]}``, every error at once
        self.messages = dict(messages or {})

    def lines(self) -> list[str]:
        """One readable line per field error (nested sections flattened with dots)."""
        out: list[str] = []

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, Mapping):
                for key, sub in value.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), sub)
            elif isinstance(value, (list, tuple)):
                for sub in value:
                    walk(prefix, sub)
            else:
                out.append(f"{prefix}: {value}" if prefix else str(value))

        walk("", self.messages)
        return out

    def __str__(self) -> str:
        base = super().__str__()
        lines = self.lines()
        return base if not lines else base + "\n" + "\n".join(f"  {l}" for l in lines)


class PluginError(SyncframeError):
    """A plugin could not be loaded or is invalid; the message names it."""

    exit_code = ExitCode.USAGE
    error_code = "plugin"


class SyncError(SyncframeError):
    """Something went wrong while talking to a source or a target."""

    error_code = "sync"


class FatalSyncError(SyncError):
    """Abort the run (nothing more is written, nothing is removed)."""


class AuthenticationError(FatalSyncError):
    """Sign-in failed, or a permission or consent is missing."""

    error_code = "authentication"


class RetriableSyncError(SyncError):
    """A 429 or 5xx that outlived the retry budget."""


class SkippableRecordError(SyncError):
    """One record (user) failed; the run goes on with the others.

    Its outcome counts as unknown or transient: the run removes nobody and keeps its
    bookmark, because the target may be in a state the plan did not foresee. Raise
    :class:`PermanentRecordError` instead when the target's answer was definite.
    """


class PermanentRecordError(SkippableRecordError):
    """The target refused this record for good: a definite answer, nothing written.

    For example a validation error (HTTP 400/409/422) to a request that reached the
    target exactly once: asking again gets the same answer until the data changes.
    The run reports the record (``errors``, ``permanent: true``) and goes on as if it
    were a conflict: removals still apply, the bookmark still advances, the exit code
    stays 0. Do not raise it when an earlier attempt of the same write may have
    landed (a retried request): that outcome is unknown, a plain
    :class:`SkippableRecordError`.
    """


class LockLostError(FatalSyncError):
    """The run's connector lock was taken over (the run was frozen past its lease, say):
    the run stops before its next write, and another run carries on."""


class LockedError(SyncframeError):
    """Another run of the same connector holds the lock."""

    exit_code = ExitCode.LOCKED
    error_code = "locked"

    def __init__(self, connector: str, holder: str):
        super().__init__(f"connector {connector!r} is locked by another run: {holder}")
        self.connector = connector
        self.holder = holder


class StateStoreError(SyncframeError):
    """The state store failed while in use: read-only, disk full, damaged, or its
    database went away. The message names the store (password masked) and the cause."""

    exit_code = ExitCode.STATE
    error_code = "state"


class StateSettingsError(StateStoreError):
    """``--state`` / ``SYNCFRAME_STATE`` names no usable state store (an unknown scheme,
    a directory, a file that is not a database, a newer schema, a server that refuses)."""

    exit_code = ExitCode.USAGE
    error_code = "state_settings"
