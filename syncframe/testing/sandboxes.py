"""Sandboxes for the test doubles, so the conformance kit runs against them too.

:class:`MemorySourceSandbox` keeps the ``MEMORY`` source's JSON file and
:class:`FileTargetSandbox` the ``memory`` target's SQLite file, each in a
temporary directory that lives as long as the sandbox runs. They are not
registered as plugin sandboxes: ``syncframe sandbox`` and ``demo`` keep using the
bundled plugins' simulators.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..contracts import SourceSandbox, TargetSandbox
from ..model import Identity
from .doubles import _connect, seed_accounts, target_accounts, write_identities


class _OneFile:
    """A sandbox whose service is one file in a temporary directory."""

    file_name = ""
    _dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def path(self) -> Path:
        if self._dir is None:
            raise RuntimeError("the sandbox is not started")
        return Path(self._dir.name) / self.file_name

    def start(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="syncframe-sandbox-")

    def stop(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def profile_section(self) -> dict[str, Any]:
        return {"path": str(self.path)}


class MemorySourceSandbox(_OneFile, SourceSandbox):
    """The directory of a ``MEMORY`` source: identities in a JSON file."""

    file_name = "users.json"

    def __init__(self) -> None:
        self.identities: dict[str, Identity] = {}
        self.stop_after: int | None = None

    def start(self) -> None:
        super().start()
        self._write()

    def put_identity(self, identity: Identity) -> None:
        self.identities[identity.source_id] = identity
        self._write()

    def remove_identity(self, source_id: str) -> None:
        self.identities.pop(source_id, None)
        self._write()

    def fail_reads_after(self, users: int) -> None:
        """Reads return the first ``users`` identities and say they stopped early."""
        self.stop_after = users
        self._write()

    def _write(self) -> None:
        meta = {"stop_after": self.stop_after} if self.stop_after is not None else {}
        write_identities(self.path, self.identities.values(), **meta)


class FileTargetSandbox(_OneFile, TargetSandbox):
    """The system behind a ``memory`` target: accounts in a SQLite file."""

    file_name = "accounts.db"

    def put_account(self, login: str, email: str | None = None, display_name: str = "", password_login: bool = True) -> None:
        """Seed an account; ``password_login`` has no meaning here (the file knows no sign-in)."""
        db = _connect(self.path)
        try:
            db.execute("DELETE FROM accounts WHERE login = ?", (login,))
        finally:
            db.close()
        seed_accounts(self.path, [{"login": login, "email": email, "display_name": display_name}])

    def accounts(self) -> list[dict[str, Any]]:
        return target_accounts(self.path)
