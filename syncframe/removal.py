"""What a removal does to a leaver's account: the profile's ``removal`` setting.

- ``"delete"`` (the default): the account is deleted when its user leaves;
- ``"disable"``: the account is disabled (no sign-in, devices kept) and stays so;
- ``"disable, delete after 30d"``: disabled first, deleted by the first run on or
  after the due date, unless the user comes back before then (then re-enabled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_GRACE_RE = re.compile(r"^disable\s*,\s*delete\s+after\s+(\d+)\s*d$")
EXAMPLES = '"delete", "disable" or "disable, delete after 30d"'


@dataclass(frozen=True)
class RemovalPolicy:
    """A parsed ``removal`` setting."""

    #: disable the account first (True), or delete it at once (False)
    disable: bool = False
    #: days between disabling and deleting; None: a disabled account stays until released
    grace_days: int | None = None

    def due(self, disabled_at: datetime) -> datetime | None:
        """When an account disabled at ``disabled_at`` is due for deletion (None: never)."""
        return disabled_at + timedelta(days=self.grace_days) if self.grace_days is not None else None

    @property
    def dates_deletions(self) -> bool:
        """Whether a leaver's due date deletes it: not under ``"disable"``, which deletes
        only what a person releases (a date left from an earlier grace period included)."""
        return not self.disable or self.grace_days is not None

    def __str__(self) -> str:
        if not self.disable:
            return "delete"
        return "disable" if self.grace_days is None else f"disable, delete after {self.grace_days}d"


def parse_removal(value: object) -> RemovalPolicy:
    """``"delete"``, ``"disable"`` or ``"disable, delete after <N>d"`` -> a policy.

    :raises ValueError: with a one-line message for anything else.
    """
    text = " ".join(str(value).split()).lower() if isinstance(value, str) else None
    if text == "delete":
        return RemovalPolicy()
    if text == "disable":
        return RemovalPolicy(disable=True)
    match = _GRACE_RE.match(text or "")
    if match and int(match.group(1)) >= 1:
        return RemovalPolicy(disable=True, grace_days=int(match.group(1)))
    raise ValueError(f"{value!r} is not a removal; use {EXAMPLES} (a grace period of at least 1 day)")
