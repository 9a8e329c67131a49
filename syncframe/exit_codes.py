"""The exit codes of ``syncframe``, defined once for the engine, the CLI, ``serve`` and the docs.

When several apply, FAILED wins over HELD and HELD over PENDING (the engine decides).
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What a ``syncframe`` process tells its caller (cron, systemd, a script)."""

    #: done; or (``plan``) in sync
    OK = 0
    #: a read failed or was incomplete, a user failed, a fatal error, or the run was stopped
    FAILED = 1
    #: a usage, profile or ``--state`` setting error, found before anything was contacted
    USAGE = 2
    #: ``plan``: changes pending; ``run``: declined at the prompt
    PENDING = 3
    #: removals held by the removal guard
    HELD = 4
    #: another run of this connector holds its lock
    LOCKED = 5
    #: a saved plan (``run --plan``) no longer matches the directory or the target
    STALE = 6
    #: the state store failed while in use (read-only, disk full, damaged, database down)
    STATE = 7

    @property
    def label(self) -> str:
        """The lower-case name machines see in ``{"error": {"code": ...}}`` and in the guide."""
        return self.name.lower()


#: one line per code, for ``--help`` and the guide's table (a test keeps the guide in step)
MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done / in sync",
    ExitCode.FAILED: "failed (the bookmark did not advance)",
    ExitCode.USAGE: "usage, profile or --state error",
    ExitCode.PENDING: "changes pending (plan) / declined (run)",
    ExitCode.HELD: "removals held",
    ExitCode.LOCKED: "locked by another run",
    ExitCode.STALE: "a saved plan is stale (run --plan)",
    ExitCode.STATE: "the state store failed",
}
