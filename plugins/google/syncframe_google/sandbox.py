"""``GoogleSandbox``: the Workspace simulator as a :class:`syncframe.SourceSandbox`.

The demo, the end-to-end tests and the benchmark seed users through
:meth:`GoogleSandbox.put_identity` and point a GOOGLE connector at
:meth:`GoogleSandbox.profile_section`; the service account's key is written to a
0600 file in a temporary directory the section names (``credentials_file``).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, Sequence

from syncframe import SANDBOX_GUEST, Identity, SourceSandbox

from .simulator import GoogleSimulator
from .users import to_user


class GoogleSandbox(SourceSandbox):
    """A simulated Google Workspace account for a GOOGLE connector.

    :param domain: The account's domain.
    :param groups: When given, ``profile_section()`` includes ``"groups": groups``.
    :param simulator: An existing (not yet started) simulator to wrap.
    :param users: Generate this many users up front (deterministic for ``seed``).
    """

    def __init__(self, domain: str = "example.com", groups: Sequence[str] | None = None,
                 simulator: GoogleSimulator | None = None, users: int = 0, seed: int = 0):
        self.simulator = simulator or GoogleSimulator(domain=domain, users=users, seed=seed)
        self.groups = list(groups) if groups is not None else None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.key_file: Path | None = None

    def start(self) -> None:
        self.simulator.start()
        self._dir = tempfile.TemporaryDirectory(prefix="syncframe-google-")
        assert self.simulator.key is not None, "the sandbox needs the simulator's default service account"
        self.key_file = self.simulator.key.write(Path(self._dir.name) / "service-account.json")

    def stop(self) -> None:
        self.simulator.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def profile_section(self) -> dict[str, Any]:
        sim = self.simulator
        section: dict[str, Any] = {
            "customer": "my_customer",
            "subject": sim.admin,
            "credentials_file": str(self.key_file),
            "api_url": sim.url,
            "token_url": sim.token_url,
            "ca_bundle": sim.ca_bundle,
        }
        if self.groups is not None:
            section["groups"] = list(self.groups)
        return section

    def group_email(self, label: str) -> str:
        """The group a label names: itself when it is an address, else ``<slug>@<domain>``."""
        if "@" in label:
            return label
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "group"
        return f"{slug}@{self.simulator.workspace.domain}"

    def put_identity(self, identity: Identity) -> None:
        """Create or replace the user ``identity.source_id`` and its group memberships.

        Google Workspace has no guest accounts: an identity marked as a guest
        (``extra[SANDBOX_GUEST]``) becomes an external member of its groups, not a user.
        """
        workspace = self.simulator.workspace
        wanted = {workspace.ensure_group(self.group_email(label)) for label in identity.groups}
        if dict(identity.extra).get(SANDBOX_GUEST):
            if workspace.find_user(identity.source_id) is not None:
                workspace.delete_user(identity.source_id)
            address = identity.email or identity.username
            for group_id in wanted:
                workspace.add_member(group_id, address)
            return
        workspace.put_user(to_user(identity))
        for group_id in workspace.user_groups(identity.source_id) - wanted:
            workspace.remove_member(group_id, identity.source_id)
        for group_id in wanted:
            workspace.add_member(group_id, identity.source_id)

    def remove_identity(self, source_id: str) -> None:
        """Delete the user (the next full read no longer has it)."""
        if self.simulator.workspace.find_user(source_id) is not None:
            self.simulator.workspace.delete_user(source_id)

    def stats(self) -> dict[str, Any]:
        return self.simulator.stats()
